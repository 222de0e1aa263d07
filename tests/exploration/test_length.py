"""Length exploration: the formula, the length sources, the guard options, settings, contract."""

from __future__ import annotations

import importlib.util
import pickle
import shutil
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlsp_rewards.combine import RlspReward
from rlsp_rewards.core import RESULT_KEYS, LengthSource, Sample
from rlsp_rewards.errors import ConfigError, DependencyError
from rlsp_rewards.exploration.length import LengthConfig, LengthExploration, length
from rlsp_rewards.exploration.repetition import repetition
from rlsp_rewards.exploration.tokens import TokenCounter
from rlsp_rewards.testing import assert_reward_contract


@pytest.mark.parametrize(
    "tokens, expected",
    [
        (1, -1000.0),  # -C/|o| with C = 1000
        (100, -10.0),
        (1000, -1.0),
        (4096, -0.244140625),  # 1000/4096, exact in binary
        (0, -1000.0),  # an empty response counts as one token: never a division error
    ],
)
def test_paper_term_from_framework_count(tokens: int, expected: float) -> None:
    out = length(solution_str="irrelevant", response_tokens=tokens)
    assert out["score"] == pytest.approx(expected, abs=1e-9)
    assert out["length_term"] == out["score"]
    assert out["length"] == tokens
    assert out["length_source"] == LengthSource.FRAMEWORK


def test_extra_info_count_and_custom_c() -> None:
    out = length(solution_str="x", extra_info={"response_tokens": 250}, C=500)
    assert out["score"] == -2.0 and out["length_source"] == LengthSource.FRAMEWORK


@pytest.mark.parametrize(
    "text, expected_length",
    [
        ("abcdefghij", 2.5),  # characters / 4, not rounded
        ("", 0.0),  # empty: length 0, term -C (the divisor is at least 1)
        ("é" * 8, 2.0),  # characters, not bytes
    ],
)
def test_character_approximation(text: str, expected_length: float) -> None:
    out = length(solution_str=text)
    assert out["length"] == expected_length
    assert out["length_source"] == LengthSource.CHARS
    assert out["score"] == pytest.approx(-1000.0 / max(expected_length, 1.0), abs=1e-9)


def test_local_tokenizer_counts_tokens(tokenizer_dir: str) -> None:
    from transformers import AutoTokenizer

    text = "Let me check: 2 + 2 = 4, so the answer is \\boxed{4}. Wait, that's wrong."
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    expected = len(tokenizer.encode(text, add_special_tokens=False))
    out = LengthExploration(tokenizer=tokenizer_dir)(solution_str=text)
    assert out["length_source"] == LengthSource.TOKENIZER
    assert out["length"] == expected
    assert out["score"] == pytest.approx(-1000.0 / expected, abs=1e-9)
    # an exact framework count still wins over the tokenizer
    framework = LengthExploration(tokenizer=tokenizer_dir)(solution_str=text, response_tokens=9)
    assert framework["length"] == 9 and framework["length_source"] == LengthSource.FRAMEWORK


@pytest.mark.parametrize(
    "text, clean",
    [
        ("ok \\boxed{4}", "ok \\boxed{4}"),  # valid text: counted as it is
        ("\ud800 \\boxed{4}", "\ufffd \\boxed{4}"),  # a lone surrogate (JSON can carry one)
        ("a\udcff\ud83d b", "a\ufffd\ufffd b"),  # each lone surrogate counts as one U+FFFD
    ],
)
def test_tokenizer_counts_text_with_lone_surrogates(
    tokenizer_dir: str, text: str, clean: str
) -> None:
    # The Rust tokenizer takes valid Unicode only: a lone surrogate raised, and the whole sample
    # failed (score 0, error 1) although its length only needed counting.
    from transformers import AutoTokenizer

    expected = len(
        AutoTokenizer.from_pretrained(tokenizer_dir).encode(clean, add_special_tokens=False)
    )
    out = LengthExploration(tokenizer=tokenizer_dir)(solution_str=text)
    assert out["error"] == 0.0 and out["length_source"] == LengthSource.TOKENIZER
    assert out["length"] == expected
    combined_out = RlspReward(tokenizer=tokenizer_dir)(solution_str=text, ground_truth="4")
    assert combined_out["error"] == 0.0 and combined_out["acc"] == float("boxed" in text)


def test_tokenizer_is_shared_thread_safe_and_never_pickled(tokenizer_dir: str) -> None:
    reward = LengthExploration(tokenizer=tokenizer_dir)
    texts = [f"Wait, {i} + {i} = {2 * i}. " * (i + 1) for i in range(16)]
    expected = [reward(solution_str=t)["length"] for t in texts]
    results: dict[int, float] = {}

    def work(i: int) -> None:
        for _ in range(20):
            results[i] = reward(solution_str=texts[i])["length"]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [results[i] for i in range(16)] == expected
    blob = pickle.dumps(reward)
    assert b"TokenizersBackend" not in blob and b"PreTrainedTokenizer" not in blob
    assert pickle.loads(blob)(solution_str=texts[3])["length"] == expected[3]


def test_first_use_from_many_threads_loads_once(tokenizer_dir: str, tmp_path: Path) -> None:
    from rlsp_rewards.exploration import tokens

    fresh = tmp_path / "copy"  # a path no test has loaded yet in this process
    shutil.copytree(tokenizer_dir, fresh)
    counter = TokenCounter(str(fresh))
    counts: list[int] = []
    start = threading.Barrier(8)

    def work() -> None:
        start.wait()
        counts.append(counter.count("Let me check: 2 + 2 = 4."))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(counts) == 8 and len(set(counts)) == 1
    assert tokens._loaded.get(str(fresh)) is tokens._load(str(fresh))  # one instance per path


def test_unloadable_tokenizer_falls_back_and_is_counted(tmp_path: Path) -> None:
    out = LengthExploration(tokenizer=str(tmp_path))(solution_str="abcdefgh")  # empty directory
    assert out["length_source"] == LengthSource.CHARS and out["length"] == 2.0
    assert out["error"] == 1.0  # counted, never silent
    assert out["score"] == -500.0


class PanicException(BaseException):
    """What pyo3 raises when Rust code (the tokenizers library) panics: not an Exception."""


@pytest.mark.parametrize(
    "failure",
    [
        RuntimeError("tokenizer exploded"),  # an ordinary exception
        PanicException("called `Option::unwrap()` on a `None` value"),  # a Rust panic
    ],
)
def test_tokenizer_failing_on_one_text_falls_back_and_is_counted(
    tokenizer_dir: str, monkeypatch: pytest.MonkeyPatch, failure: BaseException
) -> None:
    # A tokenizer that raises on one text (not at load) failed the whole sample: score 0 and a
    # correct answer lost. The length falls back to characters / 4, flagged in ``error``.
    def broken(self: TokenCounter, text: str) -> int:
        raise failure

    monkeypatch.setattr(TokenCounter, "count", broken)
    text = "2 + 2 = 4, so \\boxed{4}"
    out = LengthExploration(tokenizer=tokenizer_dir)(solution_str=text)
    assert out["length"] == len(text) / 4 and out["length_source"] == LengthSource.CHARS
    assert out["error"] == 1.0 and out["score"] == pytest.approx(-1000 / (len(text) / 4))
    both = RlspReward(tokenizer=tokenizer_dir)(
        solution_str=text, ground_truth="4", response_tokens=None
    )
    assert both["acc"] == 1.0 and both["error"] == 1.0
    assert both["score"] == pytest.approx(0.8 - 0.2 * 1000 / (len(text) / 4))


def test_missing_transformers_fails_when_built(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: object) -> object:
        return None if name == "transformers" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(DependencyError, match=r'pip install "rlsp-rewards\[tokenizer\]"'):
        LengthExploration(tokenizer="/models/any")
    with pytest.raises(DependencyError):
        TokenCounter("/models/any")
    assert length(solution_str="abcd")["error"] == 0.0  # no tokenizer set: nothing needed


def test_before_first_box_span() -> None:
    text = "abcd" * 100 + "\\boxed{4} and then more text " * 50
    reward = LengthExploration(length_span="before_first_box")
    out = reward(solution_str=text, response_tokens=999)  # the authors' rule ignores token counts
    assert out["length"] == 100.0 and out["length_source"] == LengthSource.CHARS
    assert out["score"] == -10.0
    assert reward(solution_str="\\boxed{4}")["score"] == -1000.0  # nothing before the box


def test_repetition_aware_length_and_bounds() -> None:
    text = "a b c d e f g h i j " * 4  # three quarters repeat the first quarter
    plain = length(solution_str=text, response_tokens=400)
    aware = length(solution_str=text, response_tokens=400, repetition_aware=True)
    assert plain["repetition"] == aware["repetition"] == 0.75  # measured either way
    assert plain["effective_length"] == 400 and plain["score"] == -2.5
    assert aware["effective_length"] == 100 and aware["score"] == -10.0
    bounded = length(
        solution_str=text,
        response_tokens=400,
        repetition_aware=True,
        length_floor=-1.0,
        length_cap=0.0,
    )
    assert bounded["score"] == -1.0
    capped = length(solution_str="x", response_tokens=10**6, length_cap=-0.5)
    assert capped["score"] == -0.5


def test_behaviour_counts_are_filled() -> None:
    out = length(solution_str="Wait, let me check. Alternatively, factor.")
    assert (out["backtracking"], out["verification"], out["alternatives"]) == (1.0, 1.0, 1.0)


@pytest.mark.parametrize(
    "settings_, message",
    [
        ({"C": 0}, "the paper uses 1000"),  # C must be positive
        ({"C": -5}, "got -5"),  # the message names the bad value
        ({"C": float("inf")}, "finite"),
        ({"C": "lots"}, "C='lots'"),
        ({"length_floor": 0.0, "length_cap": -1.0}, "must not exceed length_cap"),
        ({"length_span": "all"}, "'response' or 'before_first_box'"),
        ({"repetition_ngram": 1}, "repetition_ngram"),
        ({"tokenizer": " "}, "tokenizer must be a path"),
        ({"c": 1000}, "unknown setting 'c'"),  # names are case-sensitive, known ones are listed
    ],
)
def test_invalid_settings_are_rejected_clearly(settings_: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        LengthExploration(**settings_)
    with pytest.raises(ConfigError):
        length(solution_str="x", **settings_)  # per call: rejected at the first call


def test_per_call_settings_are_cached() -> None:
    assert length.with_settings(C=10) is length.with_settings(C=10)
    assert length(solution_str="x", response_tokens=10, C=10)["score"] == -1.0
    assert LengthConfig().C == 1000.0


def test_contract_and_pickling() -> None:
    assert_reward_contract(length, framework="verl")
    clone = pickle.loads(pickle.dumps(LengthExploration(C=7, repetition_aware=True)))
    assert clone.config == LengthConfig(C=7, repetition_aware=True)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 10**7), st.integers(0, 10**7), st.floats(1e-3, 1e6))
def test_paper_term_is_monotone_in_length(a: int, b: int, c: float) -> None:
    short, long_ = sorted((a, b))
    reward = length.with_settings(C=c)
    assert reward(response_tokens=short)["score"] <= reward(response_tokens=long_)["score"] < 0


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(st.none(), st.text(max_size=400), st.binary(max_size=200)),
    st.one_of(st.none(), st.integers(-5, 10**6), st.text(max_size=5)),
    st.booleans(),
)
def test_any_input_gives_the_fixed_keys(text: object, tokens: object, guarded: bool) -> None:
    reward = length.with_settings(repetition_aware=True, length_floor=-1.0) if guarded else length
    out = reward(solution_str=text, response_tokens=tokens)
    assert tuple(out) == RESULT_KEYS
    assert 0.0 <= out["repetition"] <= 1.0
    assert -1000.0 <= out["score"] < 0
    if guarded:
        assert out["score"] >= -1.0


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300), st.integers(2, 12))
def test_repetition_is_a_fraction(text: str, ngram: int) -> None:
    assert 0.0 <= repetition(text, ngram) <= 1.0


@pytest.mark.parametrize(
    "text, ngram, expected",
    [
        ("", 10, 0.0),  # nothing to repeat
        ("one two three", 10, 0.0),  # fewer pieces than the window
        ("a b c d e f g h i j " * 2, 10, 0.5),  # the second copy is repeated
        ("abcd " * 3, 2, 2 / 3),  # "abcd abcd" windows: every piece after the first copy
        ("x" * 160, 10, 0.0),  # 10 pieces of 16 characters: one window only
        ("x" * 176, 10, 10 / 11),  # 11 pieces of 16: the second window repeats the first
        ("1 + 1 = 2. " * 20, 10, 19 / 20),  # formula spam: all but the first copy
    ],
)
def test_repetition_rule(text: str, ngram: int, expected: float) -> None:
    assert repetition(text, ngram) == pytest.approx(expected, abs=1e-12)


def test_repetition_on_a_megabyte() -> None:
    assert repetition("Let me think again. " * 50_000) == pytest.approx(1.0, abs=1e-4)
    assert length(solution_str="z" * 1_000_000)["repetition"] > 0.99
    assert repetition(Sample(response="").response) == 0.0
