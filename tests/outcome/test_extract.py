"""rlsp_rewards.outcome.extract: answer extraction, gold reading, the reference length text."""

from __future__ import annotations

import time
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlsp_rewards.outcome.extract import (
    MAX_ANSWER_CHARS,
    extract_answer,
    gold_answer,
    text_before_first_box,
)

EXTRACTIONS = [
    # (response, mode, expected answer)
    # the last box, with nested braces
    (r"So $x = \boxed{\frac{1}{2}}$.", "last_box", r"\frac{1}{2}"),
    (r"Try \boxed{3}; it is \boxed{\frac{\sqrt{2}}{2}}.", "last_box", r"\frac{\sqrt{2}}{2}"),
    # first_box: the authors' reference code reads the first box
    (r"Try \boxed{3} first; the real answer is \boxed{4}.", "first_box", "3"),
    # boxed_only: strict, last box
    (r"Try \boxed{3} first; the real answer is \boxed{4}.", "boxed_only", "4"),
    # the space form and \fbox
    ("Thus \\boxed 5$.", "last_box", "5"),
    (r"Hence \fbox{11}.", "last_box", "11"),
    # a box inside display math and inline math delimiters
    ("\\[\n\\boxed{\\{1,2\\}}\n\\]", "last_box", r"\{1,2\}"),
    (r"\( \boxed{ 9 } \)", "last_box", "9"),
    # escaped braces do not confuse the brace counter
    (r"\boxed{\left\{ 1, 2 \right\}}", "last_box", r"\left\{ 1, 2 \right\}"),
    # boxes joined by "and", "or" or a comma are one answer (not in first_box mode)
    (r"The roots are $\boxed{2}$ and $\boxed{3}$.", "last_box", "2, 3"),
    (r"\boxed{-2} \text{ or } \boxed{3}", "boxed_only", "-2, 3"),
    (r"$\boxed{2}$ and $\boxed{3}$", "first_box", "2"),
    (r"\boxed{9}, \boxed{9}", "last_box", "9"),  # a repeated answer once
    (r"First \boxed{1}. Then the answer is \boxed{2}", "last_box", "2"),  # words part them
    ("\\boxed{8}\n\n\\boxed{9}", "last_box", "9"),  # no connector between them
    (r"x = \boxed{2}, y = \boxed{3}", "last_box", "3"),
    # a whole-answer \text{} wrapper and trailing period are removed
    (r"\boxed{\text{Tuesday}.}", "last_box", "Tuesday"),
    # \boxedfoo is another macro, not a box
    (r"\boxedfoo{1} and then \boxed{2}", "first_box", "2"),
    # text fallbacks, only in last_box mode
    ("Adding gives 12.\n\nThe answer is 12.", "last_box", "12"),
    ("Adding gives 12.\n\nThe answer is 12.", "boxed_only", None),
    ("Adding gives 12.\n\nThe answer is 12.", "first_box", None),
    ("The answer is: $\\frac{3}{4}$. I hope it is correct.", "last_box", r"\frac{3}{4}"),
    ("Work...\n\nAnswer: $x = 3$.", "last_box", "x = 3"),
    ("**Final Answer**\n\n$42$", "last_box", "42"),
    ("**Final Answer:** 42", "last_box", "42"),
    ("The final answer is 3.5. Done.", "last_box", "3.5"),
    ("Natalia sold 72 clips.\n#### 72", "last_box", "72"),
    # "... is X" after a marker keeps X
    ("Answer: the total is 12.", "last_box", "12"),
    ("The answer is: it is Tuesday.", "last_box", "Tuesday"),
    # markdown bold around the answer, with the sentence's period after it
    ("Therefore, the answer is **12**.", "last_box", "12"),
    ("**Answer:** **12**.", "last_box", "12"),
    # a clause after the answer is not part of it ("..., which is even" is not "even")
    ("So the answer is 12, which is even.", "last_box", "12"),
    ("The answer is $12$, as computed above.", "last_box", "12"),
    ("Answer: the total is 12, so Tom has 12 apples.", "last_box", "12"),
    ("The answer is 2, 3", "last_box", "2, 3"),  # a list stays whole
    # the rightmost marker wins
    ("Answer: 3 was my first guess. The answer is 4.", "last_box", "4"),
    # no final answer: None, even when the text ends in a number
    ("Let me compute 3 + 4 = 7, and then 7 + 5 = 12", "last_box", None),
    ("", "last_box", None),
    # an empty box or a box cut off by the generation limit gives no answer
    (r"\boxed{}", "last_box", None),
    (r"First \boxed{1}, then finally \boxed{2", "last_box", None),
    # "####" only reads its own line (a markdown heading with nothing after is no answer)
    ("#### \nsome text", "last_box", None),
    # unknown modes never raise
    (r"\boxed{1}", "middle_box", None),
]


@pytest.mark.parametrize(("response", "mode", "expected"), EXTRACTIONS)
def test_extract_answer(response: str, mode: str, expected: str | None) -> None:
    assert extract_answer(response, mode) == expected


GOLDS = [
    # (gold as a dataset stores it, expected string)
    (r"\frac{1}{2}", r"\frac{1}{2}"),  # bare LaTeX
    ("(1,2)", "(1,2)"),  # a tuple
    ("Tuesday", "Tuesday"),  # text
    ("  $7$ ", "7"),  # delimiters and spaces
    (42, "42"),  # an int
    (0.5, "0.5"),  # a float
    (-3, "-3"),
    (Fraction(3, 4), "3/4"),  # other number types through str()
    (r"Adding, we get $\boxed{7}$ apples.", "7"),  # a worked solution: its last box
    ("48/2 = 24 clips in May.\n#### 72", "72"),  # a GSM8K solution
    ("Adding both parts we get 12 apples in total. The answer is 12.", "12"),  # words only
    ("The answer is 5", "The answer is 5"),  # short golds are taken as they are
    ({"ground_truth": "5"}, "5"),  # dict keys, in order
    ({"answer": 6, "solution": r"so \boxed{6}"}, "6"),
    ({"solution": r"so \boxed{9}"}, "9"),
    ({"target": "x+1"}, "x+1"),
    (["", None, "x+1"], "x+1"),  # a list: the first usable entry
    (("3", "three"), "3"),
    (b"12", "12"),  # bytes are decoded
    (None, None),  # unusable golds
    ("", None),
    ("   ", None),
    (True, None),
    (float("nan"), None),
    (float("inf"), None),
    ({"other": 1}, None),
    ([], None),
    (r"\boxed{", None),  # a solution whose box never closes
]


@pytest.mark.parametrize(("gold", "expected"), GOLDS)
def test_gold_answer(gold: object, expected: str | None) -> None:
    assert gold_answer(gold) == expected


def test_gold_answer_huge_int_beyond_str_limit() -> None:
    value = 10**5000 + 7  # str() of this raises ValueError on Python >= 3.11
    text = gold_answer(value)
    assert text is not None and len(text) == 5001
    assert text.startswith("1000") and text.endswith("0007")
    assert gold_answer(-value) == "-" + text


def test_gold_answer_numpy_like() -> None:
    class FakeArray:
        def tolist(self) -> list[int]:
            return [5]

    assert gold_answer(FakeArray()) == "5"


def test_text_before_first_box() -> None:
    assert text_before_first_box(r"2 + 2 = 4, so \boxed{4} and \boxed{5}") == "2 + 2 = 4, so "
    assert text_before_first_box("no box here") == "no box here"
    assert text_before_first_box(None) == ""  # type: ignore[arg-type]


BAD_RESPONSES = [
    # (name, response) - each must return quickly, never raise
    ("none", None),
    ("int", 12),
    ("1 MB of text", "word " * 200_000),
    ("1 MB of open braces", "{" * 1_000_000),
    ("10,000-deep braces in a box", "\\boxed{" + "{" * 10_000 + "x" + "}" * 10_000 + "}"),
    ("unbalanced box at the end", "\\boxed{" + "{" * 100_000),
    ("many unterminated boxes", "\\boxed{" * 100_000),
    ("many boxed-like macros", "\\boxedx" * 100_000),
    ("binary junk", bytes(range(256)).decode("latin-1") * 4_000),
    ("backslashes", "\\" * 1_000_000),
    ("many answer markers", "The answer is " * 50_000),
]


@pytest.mark.parametrize(("name", "response"), BAD_RESPONSES, ids=[n for n, _ in BAD_RESPONSES])
def test_bad_input_is_bounded(name: str, response: object) -> None:
    for mode in ("last_box", "first_box", "boxed_only"):
        started = time.perf_counter()
        answer = extract_answer(response, mode)  # type: ignore[arg-type]
        # generous bound: linear scans take milliseconds; a backtracking regex would take minutes
        assert time.perf_counter() - started < 5.0
        assert answer is None or (isinstance(answer, str) and len(answer) <= MAX_ANSWER_CHARS)


def test_deep_box_is_read_whole() -> None:
    depth = 10_000
    answer = extract_answer("\\boxed{" + "{" * depth + "x" + "}" * depth + "}")
    assert answer is not None and answer.count("{") == depth


def test_long_answer_is_whole_or_refused() -> None:
    # never cut: a cut answer would be compared on its prefix (20,001 digits == 20,000 digits)
    digits = "7" * 20_001
    assert extract_answer("\\boxed{" + digits + "}") == digits
    assert gold_answer(digits) == digits
    assert extract_answer("\\boxed{" + "7" * (MAX_ANSWER_CHARS + 1) + "}") is None
    assert gold_answer("7" * (MAX_ANSWER_CHARS + 1)) is None


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("\\boxed{}fbx $()[]Answer:Theis#*.0123456789\n "))))
def test_extract_answer_fuzz_latexish(text: str) -> None:
    for mode in ("last_box", "first_box", "boxed_only"):
        answer = extract_answer(text, mode)
        assert answer is None or (isinstance(answer, str) and answer == answer.strip() and answer)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=2_000))
def test_extract_answer_fuzz_any_text(text: str) -> None:
    answer = extract_answer(text)
    assert answer is None or isinstance(answer, str)
    assert isinstance(text_before_first_box(text), str)


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.sampled_from(["ground_truth", "answer", "x"]), inner, max_size=3)
        ),
        max_leaves=8,
    )
)
def test_gold_answer_fuzz(gold: object) -> None:
    text = gold_answer(gold)
    assert text is None or (isinstance(text, str) and text)
