"""Repetition detection: the vectorised implementation against the rule written plainly.

``reference_repetition`` below is the rule of :mod:`rlsp_rewards.exploration.repetition` as
straightforward Python (the implementation before numpy took over); every result of the fast
one must be the same float, bit for bit.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlsp_rewards.exploration import repetition as module
from rlsp_rewards.exploration.chars import code_points, is_space
from rlsp_rewards.exploration.repetition import MAX_PIECE_CHARS, repetition

#: Every test here runs with the compiled scans and with the numpy ones (conftest.py).
pytestmark = pytest.mark.usefixtures("either_scans")


def reference_repetition(text: str, ngram: int) -> float:
    """The rule, plainly: pieces, then windows compared with all earlier windows."""
    words = text.split()
    pieces = [w[i : i + MAX_PIECE_CHARS] for w in words for i in range(0, len(w), MAX_PIECE_CHARS)]
    windows = len(pieces) - ngram + 1
    if windows < 1:
        return 0.0
    seen: set[tuple[str, ...]] = set()
    repeated = [False] * len(pieces)
    for i in range(windows):
        window = tuple(pieces[i : i + ngram])
        if window in seen:
            repeated[i : i + ngram] = [True] * ngram
        seen.add(window)
    sizes = [len(p) for p in pieces]
    return sum(s for s, r in zip(sizes, repeated, strict=True) if r) / sum(sizes)


#: Fragments that stress the edges: whitespace of every kind, long words, non-ASCII, NUL,
#: lone surrogates, astral characters, pieces of exactly 8 and 16 characters.
FRAGMENTS = [
    "a", "b", "ab", " ", "  ", "\n", "\t", "\x0b", "\x1c", "\x85", "\xa0", "\u2003", "\u3000",
    "x" * 16, "x" * 17, "y" * 40, "abcdefgh", "abcdefghi", "é", "Σ", "\U0001f600" * 9, "\x00",
    "\x00\x00", "\ud800", "the", "answer", "is", "4.",
]  # fmt: skip


def _random_text(rng: random.Random) -> str:
    parts = [rng.choice(FRAGMENTS) for _ in range(rng.randint(0, 120))]
    if rng.random() < 0.5:  # some loops
        parts = parts[: rng.randint(0, 20)] * rng.randint(1, 8) + parts
    return "".join(parts)


@pytest.mark.parametrize("seed", range(4))
def test_same_floats_as_the_plain_rule(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(500):
        text = _random_text(rng)
        for ngram in (2, 3, 4, 10, 17, 64):
            assert repetition(text, ngram) == reference_repetition(text, ngram), (text, ngram)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400), st.integers(2, 12))
def test_same_floats_on_any_text(text: str, ngram: int) -> None:
    assert repetition(text, ngram) == reference_repetition(text, ngram)


def test_colliding_hashes_are_decided_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every hash 0: every window looks like every other one, and only the exact comparison
    # and the exact fallback can tell them apart.
    monkeypatch.setattr(module, "_mix", lambda np, h: h & np.uint64(0))
    rng = random.Random(7)
    for _ in range(300):
        text = _random_text(rng)
        for ngram in (2, 10, 64):
            assert repetition(text, ngram) == reference_repetition(text, ngram), (text, ngram)


def test_the_exact_check_runs_in_bounded_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "_CHECK_CELLS", 30)  # many small steps
    text = "one two three four five six seven eight nine ten " * 40 + "eleven twelve"
    assert repetition(text) == reference_repetition(text, 10)


def test_whitespace_is_what_str_split_splits_on() -> None:
    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    assert is_space(code_points(every)).tolist() == [c.isspace() for c in every]
    ascii_text = "".join(map(chr, range(128)))
    assert is_space(code_points(ascii_text)).tolist() == [c.isspace() for c in ascii_text]
