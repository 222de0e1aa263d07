"""Emergent-behaviour counters: the marker table, matching rules, cost on large input."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlsp_rewards import behaviours
from rlsp_rewards.behaviours import BEHAVIOUR_KEYS, MARKERS, count_behaviours

#: Every test here runs with the compiled scans and with the numpy ones (conftest.py).
pytestmark = pytest.mark.usefixtures("either_scans")


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


# -- the pre-filter and the grouped expression give the counts of one plain scan ----------------


def _plain_scan(text: str) -> dict[str, int]:
    """The rule, plainly: one alternation (behaviour by behaviour, longest phrase first),
    ``finditer`` over the whole lower-cased text."""
    groups = []
    for key in BEHAVIOUR_KEYS:
        phrases = sorted(MARKERS[key], key=len, reverse=True)
        body = "|".join(behaviours._phrase_pattern(p) for p in phrases)
        if key == "backtracking":
            body += "|" + behaviours._WAIT
        groups.append(f"(?P<{key}>{body})")
    pattern = re.compile(r"\b(?:" + "|".join(groups) + r")\b")
    found = counts()
    if isinstance(text, str):
        for match in pattern.finditer(text.lower()):
            found[match.lastgroup] += 1  # type: ignore[index]
    return found


_PIECES = [
    *(p for ps in MARKERS.values() for p in ps),
    *("wait,", "Wait!", "wait\u2014", "wait -", "wait ,", "WAIT:", "await,", "waited."),
    *(" ", "  ", "\n", "\t", "\u3000", "\xa0", "\u2028", ",", ".", "'", "\u2019", "-", "_", "1"),
    *("x", "a", "i", "to", "on", "let", "a d", "i m", "th", "\u00e9", "\u0130", "\u03a3", "K"),
    "\ud800",
]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(_PIECES), max_size=40),
    st.sampled_from(["", " ", "  ", "\n"]),
    st.booleans(),
)
def test_counts_equal_a_scan_of_the_whole_text(parts: list[str], glue: str, upper: bool) -> None:
    text = glue.join(parts)
    text = text.upper() if upper else text
    assert count_behaviours(text) == _plain_scan(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_counts_equal_a_scan_on_any_text(text: str) -> None:
    assert count_behaviours(text) == _plain_scan(text)


def test_every_marker_start_is_a_candidate() -> None:
    # The pre-filter never hides a marker: each one, after any non-word character, in any case.
    for phrase in [p for ps in MARKERS.values() for p in ps]:
        for before in ("", " ", "(", "\u00e9", "\u3000", "\n\n"):
            for variant in (phrase, phrase.upper(), phrase.replace(" ", " \t ")):
                text = before + variant + " ."
                assert count_behaviours(text) == _plain_scan(text), text
