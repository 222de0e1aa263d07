"""Emergent-behaviour counters: the marker table, matching rules, cost on large input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlsp_rewards.behaviours import BEHAVIOUR_KEYS, MARKERS, count_behaviours


def counts(backtracking: int = 0, verification: int = 0, alternatives: int = 0) -> dict[str, int]:
    return dict(backtracking=backtracking, verification=verification, alternatives=alternatives)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", counts()),  # nothing to count
        ("The sum is 12.", counts()),  # plain reasoning has no markers
        ("Wait, 3 is odd.", counts(backtracking=1)),  # the interjection
        ("We wait for the bus.", counts()),  # "wait" as a verb is not backtracking
        ("Wait... no. Hold on: that's wrong.", counts(backtracking=3)),
        ("WAIT! Let Me Reconsider.", counts(backtracking=2)),  # case-insensitive
        ("that\u2019s not right", counts(backtracking=1)),  # curly apostrophe
        ("that's\n  not   right", counts(backtracking=1)),  # any whitespace between words
        ("I made a mistake; scratch that.", counts(backtracking=2)),
        ("Let me verify: 2 * 6 = 12.", counts(verification=1)),  # counted once, not twice
        ("Let's double-check. Double check again. Sanity check.", counts(verification=3)),
        ("Verification: plugging back x = 2 works.", counts(verification=2)),
        ("unverifiable", counts()),  # word-bounded: no match inside a longer word
        ("Alternatively, another approach: a different method.", counts(alternatives=3)),
        ("Let's try a different approach.", counts(alternatives=1)),  # one phrase, counted once
        ("Instead, let me factor it.", counts(alternatives=1)),
        (
            "Wait, let me check. Alternatively, verify by another way.",
            counts(backtracking=1, verification=2, alternatives=2),
        ),
    ],
)
def test_marker_table(text: str, expected: dict[str, int]) -> None:
    assert count_behaviours(text) == expected


@pytest.mark.parametrize("behaviour", BEHAVIOUR_KEYS)
def test_every_documented_marker_counts_as_its_behaviour(behaviour: str) -> None:
    for phrase in MARKERS[behaviour]:
        got = count_behaviours(f"So. {phrase} now.")
        assert got[behaviour] == 1, phrase
        assert sum(got.values()) == 1, phrase


@pytest.mark.parametrize("value", [None, 42, b"wait,", ["Wait, no"]])
def test_non_text_counts_nothing(value: object) -> None:
    assert count_behaviours(value) == counts()  # type: ignore[arg-type]


def test_one_megabyte_is_counted_exactly() -> None:
    unit = "Wait, that's not right. Let me check again. Alternatively, expand it. "
    copies = 1_000_000 // len(unit)
    assert count_behaviours(unit * copies) == counts(2 * copies, copies, copies)


def test_pathological_input_completes() -> None:
    # Long runs of near-misses: every position starts a partial match that fails late.
    near_misses = "let me re " * 50_000 + "wait " * 50_000 + "that's not " * 50_000
    assert count_behaviours(near_misses) == counts()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_always_three_non_negative_counts(text: str) -> None:
    got = count_behaviours(text)
    assert tuple(got) == BEHAVIOUR_KEYS
    assert all(isinstance(n, int) and n >= 0 for n in got.values())


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from([p for ps in MARKERS.values() for p in ps] + ["x = 1", "so"])))
def test_counts_add_up_over_sentences(phrases: list[str]) -> None:
    text = " ".join(f"{p}." for p in phrases)
    total = sum(count_behaviours(f"{p}.").get(k, 0) for p in phrases for k in BEHAVIOUR_KEYS)
    assert sum(count_behaviours(text).values()) == total
