"""Tests of rlsp_rewards.outcome.screen: answers too costly for a symbolic engine."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlsp_rewards.core import OutcomeStatus
from rlsp_rewards.outcome.grade import compare
from rlsp_rewards.outcome.screen import is_pathological, screened


@pytest.mark.parametrize(
    "answer",
    [
        "9^{9^{9^{9}}}",
        "2^{3^{4^{5}}}",
        "10^{10^{100}}",
        "e^{e^{e^{e^{e}}}}",
        "99999999!",
        "(3!)!!",
        "(2^{100})!",
        "{" * 31 + "}" * 31,
        "\ufffd",
        "a\x01b",
        r"\prod_{k=1}^{1000000} k",  # costly operators applied to big numbers
        r"\binom{10^{9}}{10^{5}}",
        r"\Gamma(10^{7})",
        r"\int_0^{10^{9}} x^{1000} dx",
        r"\sum_{k=1}^{10^{8}} k^{k}",
        "10!!!!!!!!!!",
    ],
)
def test_pathological(answer: str) -> None:
    assert is_pathological(answer)


@pytest.mark.parametrize(
    "answer",
    [
        "42",
        "2^{10}",
        "2^{100000}",
        "2006!",
        r"\frac{1}{2004!}",
        "e^{x^2}",
        "5!!",
        "9" * 5000,
        "(1, 2)",
        r"\sum_{k=1}^{100} k",
        r"\binom{2006}{3}",
        r"\int_0^1 x^2 dx",
    ],
)
def test_not_pathological(answer: str) -> None:
    assert not is_pathological(answer)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("2\u00b2^{10}", False),  # a superscript two before ^ (float("\u00b2") used to raise)
        ("x\u00b2!", False),  # ... and before !
        ("\u00b2!", False),
        ("10\u00b2!!!", True),  # !!! is costly whatever comes before it
        ("\u0663^{10}", False),  # an Arabic-Indic digit is not an ASCII base
        ("x" * 5_000, False),  # length alone is not pathological
    ],
)
def test_unicode_digits_and_length(answer: str, expected: bool) -> None:
    assert is_pathological(answer) is expected


@pytest.mark.parametrize(
    ("gold", "pred", "expected"),
    [
        ("42", "2\u00b2^{10}", OutcomeStatus.INCORRECT),  # was error = 1: the screen raised
        ("42", "3\u00b2!", OutcomeStatus.INCORRECT),
        ("4", "2\u00b2", OutcomeStatus.CORRECT),  # the superscript is read as a power
    ],
)
def test_superscripts_reach_a_verdict(gold: str, pred: str, expected: OutcomeStatus) -> None:
    assert compare(gold, pred) is expected


def test_screened_agrees_with_the_rule() -> None:
    for answer in ("9^{9^{9^{9}}}", "2^{10}", "y" * 2_000 + "^{10^{7}}"):
        assert screened(answer) is is_pathological(answer)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_screen_never_raises_and_is_fast(text: str) -> None:
    started = time.perf_counter()
    assert is_pathological(text) in (True, False)
    assert time.perf_counter() - started < 1.0  # generous: it is linear
