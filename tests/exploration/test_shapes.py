"""The length shapes: each formula against a hand-computed table (to 1e-9), against the peer's
formula where one exists, and through RlspReward (combination with alpha, fixed keys, groups)."""

from __future__ import annotations

import asyncio
import math
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rlsp_rewards.combine import RlspReward, combined
from rlsp_rewards.core import RESULT_KEYS, RewardResult, Sample
from rlsp_rewards.errors import ConfigError
from rlsp_rewards.exploration.group_shapes import Kimi, ShorterBetter, ShorterBetterConfig
from rlsp_rewards.exploration.outcome_shapes import (
    Cosine,
    CosineConfig,
    L1Config,
    L1Exact,
    L1Max,
    target_tokens,
)
from rlsp_rewards.exploration.overlong import DapoOverlong, DapoOverlongConfig
from rlsp_rewards.exploration.repetition_penalty import (
    RepetitionPenalty,
    RepetitionPenaltyConfig,
    ngram_penalty,
)
from rlsp_rewards.exploration.shapes import GROUP_SHAPES, SHAPE_NAMES, Shaper
from rlsp_rewards.exploration.shaping import ShapeInput

TOL = 1e-9
EMPTY = Sample(response="")


def x(length: float, correct: bool = True, sample: Sample = EMPTY) -> ShapeInput:
    return ShapeInput(length, correct, sample)


# -- dapo_overlong ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "factor", "expected"),
    [
        (0, 1.0, 0.0),  # far from the limit
        (80, 1.0, 0.0),  # exactly L - B: still free
        (81, 1.0, -0.05),  # one token into the buffer: -1/20
        (90, 1.0, -0.5),  # halfway through the buffer
        (100, 1.0, -1.0),  # at the limit
        (101, 1.0, -1.0),  # past the limit: the paper's -1
        (10_000, 1.0, -1.0),
        (95, 2.5, -1.875),  # verl's penalty_factor scales it: 2.5 * (80 - 95) / 20
        (120, 2.5, -2.5),
        (95, 0.0, 0.0),  # factor 0: no penalty at all
    ],
)
def test_dapo_overlong_table(length: float, factor: float, expected: float) -> None:
    config = DapoOverlongConfig(
        max_tokens=100, overlong_buffer_tokens=20, overlong_penalty_factor=factor
    )
    assert DapoOverlong(config).term(x(length)) == pytest.approx(expected, abs=TOL)


def test_dapo_overlong_matches_verl_within_the_limit() -> None:
    # verl 0.9.1's dapo manager: min(-(|o| - (L - B)) / B * f, 0); it differs only past L.
    limit, buffer, factor = 4096, 512, 1.5
    shape = DapoOverlong(
        DapoOverlongConfig(
            max_tokens=limit, overlong_buffer_tokens=buffer, overlong_penalty_factor=factor
        )
    )
    for length in range(0, limit + 1, 7):
        verl = min(-(length - (limit - buffer)) / buffer * factor, 0)
        assert shape.term(x(float(length))) == pytest.approx(verl, abs=TOL)


def test_dapo_overlong_default_buffer_is_a_quarter_of_the_limit() -> None:
    shape = DapoOverlong()  # L 4096, B 1024
    assert shape.term(x(3584.0)) == pytest.approx(-0.5, abs=TOL)  # (3072 - 3584) / 1024


# -- cosine ----------------------------------------------------------------------------------

_COS45 = math.sqrt(2) / 2


@pytest.mark.parametrize(
    ("length", "correct", "expected"),
    [
        (0, True, 1.0),  # short and right: the most
        (250, True, 0.5 + 0.5 * (1 + _COS45) / 2),
        (500, True, 0.75),
        (1000, True, 0.5),
        (3000, True, 0.5),  # clamped at L (unclamped, cos(3*pi) would give 0.5 too)
        (2000, True, 0.5),  # clamped (unclamped: cos(2*pi) = 1 would give 1.0 again)
        (0, False, -1.0),  # short and wrong: the least
        (250, False, -0.5 - 0.5 * (1 + _COS45) / 2),
        (500, False, -0.75),
        (1000, False, -0.5),
        (2000, False, -0.5),
    ],
)
def test_cosine_table(length: float, correct: bool, expected: float) -> None:
    shape = Cosine(CosineConfig(max_tokens=1000))
    assert shape.term(x(length, correct)) == pytest.approx(expected, abs=TOL)


def test_cosine_matches_open_r1_up_to_the_limit() -> None:
    # open-r1's get_cosine_scaled_reward (its min/max names; wrong swaps them), |o| <= L.
    values = {"min_c": 0.2, "max_c": 1.5, "min_w": -2.0, "max_w": -0.25}
    shape = Cosine(
        CosineConfig(
            max_tokens=777,
            cosine_min_value_correct=values["min_c"],
            cosine_max_value_correct=values["max_c"],
            cosine_min_value_wrong=values["min_w"],
            cosine_max_value_wrong=values["max_w"],
        )
    )
    for length in range(0, 778, 11):
        cosine = math.cos(length / 777 * math.pi)
        for correct in (True, False):
            lo, hi = (
                (values["min_c"], values["max_c"])
                if correct
                else (values["max_w"], values["min_w"])
            )
            open_r1 = lo + 0.5 * (hi - lo) * (1.0 + cosine)
            assert shape.term(x(float(length), correct)) == pytest.approx(open_r1, abs=TOL)


def test_cosine_exceed_value_replaces_the_schedule_at_the_limit() -> None:
    shape = Cosine(CosineConfig(max_tokens=1000, cosine_exceed_value=-10))
    assert shape.term(x(1000.0, True)) == -10.0
    assert shape.term(x(5000.0, False)) == -10.0
    assert shape.term(x(999.0, True)) == pytest.approx(
        0.5 + 0.5 * (1 + math.cos(math.pi * 0.999)) / 2, abs=TOL
    )


# -- l1_exact / l1_max -------------------------------------------------------------------------


def with_target(target: object) -> Sample:
    return Sample(response="", extra_info={"target_tokens": target})


@pytest.mark.parametrize(
    ("length", "correct", "expected"),
    [
        (1000, True, 1.0),  # on target
        (1500, True, 0.85),  # 1 - 0.0003 * 500
        (500, True, 0.85),  # short of the target costs the same
        (1500, False, -0.15),  # wrong: 0 - 0.0003 * 500
        (5000, True, -0.2),  # 1 - 0.0003 * 4000
    ],
)
def test_l1_exact_table(length: float, correct: bool, expected: float) -> None:
    value = L1Exact().term(x(length, correct, with_target(1000)))
    assert value == pytest.approx(expected, abs=TOL)


@pytest.mark.parametrize(
    ("length", "correct", "target", "expected"),
    [
        (0, True, 1000, 0.8),  # clip(0.0003 * 1000 + 0.5)
        (500, True, 1000, 0.65),
        (1000, True, 1000, 0.5),  # at the budget: delta
        (2000, True, 1000, 0.2),  # 1000 over: 0.5 - 0.3
        (3000, True, 1000, 0.0),  # clipped at 0
        (0, True, 4000, 1.0),  # clipped at 1
        (500, False, 1000, 0.0),  # wrong: 0, whatever the length
    ],
)
def test_l1_max_table(length: float, correct: bool, target: float, expected: float) -> None:
    value = L1Max().term(x(length, correct, with_target(target)))
    assert value == pytest.approx(expected, abs=TOL)


def test_l1_max_with_half_slope_matches_the_released_code() -> None:
    # math_reward.py: (clip(a * (n - |o|), -1, 1) + 1) / 2 under multiplier_reward, a = 0.0003
    a = 0.0003
    shape = L1Max(L1Config(l1_beta=a / 2))
    for length in range(0, 12_000, 37):
        code = (max(-1.0, min(1.0, a * (4000 - length))) + 1) / 2
        value = shape.term(x(float(length), True, with_target(4000)))
        assert value == pytest.approx(code, abs=TOL)


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        (Sample(response="", prompt="Solve it. Think for 512 tokens."), 512.0),
        (Sample(response="", prompt="Solve it. Think for maximum 2048 tokens."), 2048.0),
        (Sample(response="", prompt="Think for 10 tokens. No: Think for 20 tokens."), 20.0),
        (Sample(response="", prompt="Think for 9 tokens.", extra_info={"target_tokens": 7}), 7.0),
        (with_target("300"), 300.0),  # a numeric string from a JSON file
        (with_target(-5), None),  # not a length
        (with_target("many"), None),
        (with_target(float("nan")), None),
        (Sample(response="", prompt="Think hard."), None),
        (EMPTY, None),
    ],
)
def test_target_tokens(sample: Sample, expected: float | None) -> None:
    assert target_tokens(sample) == expected


def test_l1_without_a_target_has_no_term() -> None:
    assert L1Exact().term(x(100.0)) is None and L1Max().term(x(100.0)) is None


# -- kimi / shorter_better ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        # min 100, max 400: lam = 0.5, 1/6, -1/6, -0.5; wrong answers get min(0, lam)
        ([(100, True), (200, False), (300, True), (400, False)], [0.5, 0.0, -1 / 6, -0.5]),
        ([(100, False), (400, True)], [0.0, -0.5]),  # a short wrong answer earns nothing
        ([(250, True), (250, False), (250, True)], [0.0, 0.0, 0.0]),  # equal lengths
        ([(42, True)], [0.0]),  # a group of one
        ([], []),
    ],
)
def test_kimi_table(group: list[tuple[float, bool]], expected: list[float]) -> None:
    terms = Kimi().terms([x(n, ok) for n, ok in group])
    assert terms == pytest.approx(expected, abs=TOL)


def test_kimi_matches_open_r1_on_one_prompt() -> None:
    # open-r1's len_reward over one group (it takes min/max over whatever batch it is given)
    group = [(17, True), (230, False), (95, True), (1200, False), (640, True)]
    lengths = [n for n, _ in group]
    lo, hi = min(lengths), max(lengths)
    expected = []
    for n, ok in group:
        lam = 0.5 - (n - lo) / (hi - lo)
        expected.append(lam if ok else min(0, lam))
    assert Kimi().terms([x(n, ok) for n, ok in group]) == pytest.approx(expected, abs=TOL)


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        ([(100, False), (300, True), (500, True)], [-0.2, 2.0, 1.8]),  # l_sol = 300
        ([(100, False), (200, False), (600, False)], [-0.2, -0.1, -0.3]),  # none right: mean 300
        ([(700, True)], [2.0]),
        ([], []),
    ],
)
def test_shorter_better_table(group: list[tuple[float, bool]], expected: list[float]) -> None:
    terms = ShorterBetter().terms([x(n, ok) for n, ok in group])
    assert terms == pytest.approx(expected, abs=TOL)


def test_shorter_better_constants_are_settings() -> None:
    shape = ShorterBetter(ShorterBetterConfig(sb_alpha=1.0, sb_beta=0.01))
    assert shape.terms([x(10, True), x(30, True)]) == pytest.approx([1.0, 0.8], abs=TOL)


# -- repetition_penalty ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pieces", "ngram", "expected"),
    [
        ([1, 2, 3, 4], 2, 0.0),  # TRL's own example
        ([5, 5, 5, 5, 5], 2, -0.75),  # TRL's own example: 1 unique of 4
        (["a", "b", "a", "b", "a", "b"], 2, -0.6),  # 2 unique of 5
        (["a", "a", "a", "a"], 3, -0.5),  # 1 unique of 2
        (["a", "b"], 3, 0.0),  # fewer pieces than n: no n-gram
        ([], 3, 0.0),
        (["one", "two", "three"], 3, 0.0),  # exactly one n-gram
    ],
)
def test_ngram_penalty_table(pieces: list, ngram: int, expected: float) -> None:
    assert ngram_penalty(pieces, ngram, -1.0) == pytest.approx(expected, abs=TOL)


def test_ngram_penalty_is_never_negative_zero() -> None:
    assert math.copysign(1.0, ngram_penalty([1, 2, 3], 2, -1.0)) == 1.0


def test_repetition_penalty_words_are_lower_cased() -> None:
    penalty = RepetitionPenalty(RepetitionPenaltyConfig(repetition_max_penalty=-2.0))
    # "The cat sat. the cat sat." -> the cat sat. the cat sat.: 4 windows, 3 unique
    assert penalty.measure("The cat sat. the cat sat.") == pytest.approx((-0.5, False), abs=TOL)


def test_repetition_penalty_on_token_ids(tokenizer_dir: str) -> None:
    from transformers import AutoTokenizer

    text = "Wait, that's wrong. " * 6
    ids = AutoTokenizer.from_pretrained(tokenizer_dir)(text, add_special_tokens=False).input_ids
    config = RepetitionPenaltyConfig(repetition_penalty_unit="tokens")
    value, failed = RepetitionPenalty(config, tokenizer_dir).measure(text)
    assert not failed and value == pytest.approx(ngram_penalty(ids, 3, -1.0), abs=TOL)
    assert value < 0


def test_repetition_penalty_tokens_need_a_tokenizer() -> None:
    with pytest.raises(ValueError, match="tokenizer"):
        RepetitionPenalty(RepetitionPenaltyConfig(repetition_penalty_unit="tokens"))


def test_repetition_penalty_with_a_broken_tokenizer_is_counted() -> None:
    config = RepetitionPenaltyConfig(repetition_penalty_unit="tokens")
    assert RepetitionPenalty(config, "/no/such/tokenizer").measure("a a a a") == (0.0, True)


# -- through RlspReward: the combination with alpha --------------------------------------------

RIGHT, WRONG = "So the answer is \\boxed{4}.", "So the answer is \\boxed{5}."


def call(reward: RlspReward, response: str, tokens: int, **extra: object) -> dict:
    return reward(solution_str=response, ground_truth="4", response_tokens=tokens, **extra)


@pytest.mark.parametrize(
    ("settings", "response", "tokens", "extra_info", "score", "shape_term"),
    [
        # additive: 0.8*v + 0.2*term
        ({"exploration": "dapo_overlong"}, RIGHT, 3584, None, 0.8 - 0.1, -0.5),
        ({"exploration": "dapo_overlong"}, WRONG, 100, None, 0.0, 0.0),
        ({"exploration": "dapo_overlong", "alpha": 0.5}, RIGHT, 5000, None, 0.5 - 0.5, -1.0),
        # whole reward: the term is the score, alpha is not used
        ({"exploration": "cosine", "max_tokens": 1000}, RIGHT, 500, None, 0.75, 0.75),
        ({"exploration": "cosine", "max_tokens": 1000, "alpha": 0.3}, WRONG, 0, None, -1.0, -1.0),
        ({"exploration": "l1_exact"}, RIGHT, 1500, {"target_tokens": 1000}, 0.85, 0.85),
        ({"exploration": "l1_max"}, RIGHT, 2000, {"target_tokens": 1000}, 0.2, 0.2),
        ({"exploration": "l1_max"}, WRONG, 10, {"target_tokens": 1000}, 0.0, 0.0),
        # the length shape itself: shape_term unused
        ({"exploration": "length"}, RIGHT, 1000, None, 0.8 - 0.2, 0.0),
    ],
)
def test_per_sample_shapes_combine_with_alpha(
    settings: dict,
    response: str,
    tokens: int,
    extra_info: dict | None,
    score: float,
    shape_term: float,
) -> None:
    out = call(RlspReward(**settings), response, tokens, extra_info=extra_info)
    assert out["score"] == pytest.approx(score, abs=TOL)
    assert out["shape_term"] == pytest.approx(shape_term, abs=TOL)
    assert tuple(out) == RESULT_KEYS and out["error"] == 0.0
    assert out["acc"] == float(response == RIGHT)
    assert out["length_term"] == pytest.approx(-1000 / max(tokens, 1), abs=TOL)  # still reported


def test_repetition_penalty_alone_and_added() -> None:
    looping = "go go go go go go \\boxed{4}"  # 7 words: 5 windows of 3, 2 of them unique
    p = -(1 - 2 / 5)  # p = -1
    alone = call(RlspReward(exploration="repetition_penalty"), looping, 1000)
    assert alone["shape_term"] == pytest.approx(p, abs=TOL)
    assert alone["score"] == pytest.approx(0.8 + 0.2 * p, abs=TOL)
    # added to the length term: 0.8*v + 0.2*(-C/|o| + P), shape_term = P
    added = call(RlspReward(repetition_max_penalty=-2.0), looping, 1000)
    assert added["shape_term"] == pytest.approx(2 * p, abs=TOL)
    assert added["score"] == pytest.approx(0.8 + 0.2 * (-1.0 + 2 * p), abs=TOL)
    # added to a whole-reward shape: at full weight
    cosine = call(
        RlspReward(exploration="cosine", max_tokens=2000, repetition_max_penalty=-1.0),
        looping,
        1000,
    )
    assert cosine["shape_term"] == pytest.approx(0.75 + p, abs=TOL)
    assert cosine["score"] == pytest.approx(0.75 + p, abs=TOL)


def test_l1_without_a_target_scores_the_error_score_with_a_flag() -> None:
    out = call(RlspReward(exploration="l1_exact"), RIGHT, 1000)
    assert (out["score"], out["shape_term"], out["error"], out["acc"]) == (0.0, 0.0, 1.0, 1.0)
    prompted = call(RlspReward(exploration="l1_exact"), RIGHT, 512, prompt="Think for 512 tokens.")
    assert prompted["score"] == pytest.approx(1.0, abs=TOL) and prompted["error"] == 0.0


def group(*rows: tuple[str, int], prompt: str = "p", **info: object) -> list[Sample]:
    return [
        Sample(response=text, gold="4", prompt=prompt, response_tokens=n, extra_info=info or None)
        for text, n in rows
    ]


def test_kimi_through_score_batch_groups_by_prompt() -> None:
    first = group((RIGHT, 100), (WRONG, 200), (RIGHT, 300), (WRONG, 400), prompt="a")
    second = group((RIGHT, 50), (RIGHT, 50), prompt="b")  # equal lengths: 0
    batch = [first[0], second[0], first[1], first[2], second[1], first[3]]  # interleaved
    results = RlspReward(exploration="kimi").score_batch(batch)
    terms = [0.5, 0.0, 0.0, -1 / 6, 0.0, -0.5]
    outcomes = [1, 1, 0, 1, 1, 0]
    assert [r.shape_term for r in results] == pytest.approx(terms, abs=TOL)
    expected = [0.8 * v + 0.2 * t for v, t in zip(outcomes, terms, strict=True)]
    assert [r.score for r in results] == pytest.approx(expected, abs=TOL)
    assert all(r.error == 0.0 for r in results)


def test_shorter_better_through_score_batch() -> None:
    batch = group((WRONG, 100), (RIGHT, 300), (RIGHT, 500))
    results = RlspReward(exploration="shorter_better").score_batch(batch)
    assert [r.score for r in results] == pytest.approx([-0.2, 2.0, 1.8], abs=TOL)
    assert [r.shape_term for r in results] == pytest.approx([-0.2, 2.0, 1.8], abs=TOL)


def test_a_prompt_id_groups_before_the_prompt_text() -> None:
    # the same id under two spellings of the prompt: one group; shortest correct 100
    batch = group((RIGHT, 100), prompt="2+2?", prompt_id=7) + group(
        (RIGHT, 300), prompt="2 + 2 ?", prompt_id=7
    )
    results = RlspReward(exploration="shorter_better").score_batch(batch)
    assert [r.score for r in results] == pytest.approx([2.0, 1.8], abs=TOL)


def test_a_sample_without_a_group_is_flagged_not_guessed(caplog: pytest.LogCaptureFixture) -> None:
    loose = Sample(response=RIGHT, gold="4", response_tokens=10)  # no prompt, no prompt_id
    results = RlspReward(exploration="kimi").score_batch([*group((RIGHT, 10), (RIGHT, 30)), loose])
    assert [r.score for r in results[:2]] == pytest.approx([0.9, 0.7], abs=TOL)
    assert (results[2].score, results[2].shape_term, results[2].error) == (0.0, 0.0, 1.0)
    assert "belong to no group" in caplog.text


def test_a_failed_sample_takes_no_part_in_its_group(monkeypatch: pytest.MonkeyPatch) -> None:
    reward = RlspReward(exploration="kimi")
    original = reward._combine

    def broken_for_long(sample, verdict, grade, measure=None):
        if sample.response_tokens == 1000:
            raise RuntimeError("boom")
        return original(sample, verdict, grade, measure)

    monkeypatch.setattr(reward, "_combine", broken_for_long)
    results = reward.score_batch(group((RIGHT, 100), (RIGHT, 1000), (RIGHT, 300)))
    assert results[1].error == 1.0 and results[1].score == 0.0
    # the group is the other two: lengths 100 and 300
    assert [results[0].shape_term, results[2].shape_term] == pytest.approx([0.5, -0.5], abs=TOL)


def test_group_shapes_add_the_repetition_penalty_once() -> None:
    looping = "go go go go go go \\boxed{4}"
    batch = group((looping, 100), (RIGHT, 300))
    results = RlspReward(exploration="kimi", repetition_max_penalty=-1.0).score_batch(batch)
    p = -(1 - 2 / 5)
    assert [r.shape_term for r in results] == pytest.approx([0.5 + p, -0.5], abs=TOL)


# -- group shapes refuse to score one sample ---------------------------------------------------


@pytest.mark.parametrize("name", sorted(GROUP_SHAPES))
def test_group_shapes_refuse_single_sample_calls(name: str) -> None:
    reward = RlspReward(exploration=name)
    with pytest.raises(ConfigError, match=r"group shape.*score_batch"):
        reward(solution_str=RIGHT, ground_truth="4")
    with pytest.raises(ConfigError, match="group shape"):
        asyncio.run(reward.acall(solution_str=RIGHT, ground_truth="4"))
    with pytest.raises(ConfigError, match="group shape"):
        reward.score(Sample(response=RIGHT, gold="4"))
    with pytest.raises(ConfigError, match="group shape"):  # as verl's reward_kwargs arrive
        combined(solution_str=RIGHT, ground_truth="4", exploration=name)
    failed = reward.safe_score(Sample(response=RIGHT, gold="4"))  # counted, never silent
    assert failed.error == 1.0


@pytest.mark.parametrize("name", [n for n in SHAPE_NAMES if n not in GROUP_SHAPES])
def test_per_sample_shapes_score_one_sample(name: str) -> None:
    reward = RlspReward(exploration=name)
    assert reward.per_sample_problem() is None
    out = reward(
        solution_str=RIGHT, ground_truth="4", response_tokens=10, prompt="Think for 9 tokens."
    )
    assert tuple(out) == RESULT_KEYS and out["error"] == 0.0


# -- the contract: fixed keys, pickling, settings ----------------------------------------------


@pytest.mark.parametrize("name", SHAPE_NAMES)
def test_every_shape_fills_the_same_keys(name: str) -> None:
    reward = RlspReward(exploration=name)
    batch = group((RIGHT, 10), ("", 0), ("\x00\xff" * 50, 7), (WRONG, 10**9))
    for result in reward.score_batch(batch):
        out = result.to_dict()
        assert tuple(out) == RESULT_KEYS
        assert all(math.isfinite(v) for k, v in out.items() if k != "pred")


@pytest.mark.parametrize("name", SHAPE_NAMES)
def test_shapes_pickle_with_their_settings(name: str) -> None:
    reward = RlspReward(exploration=name, max_tokens=2048, sb_beta=0.002)
    clone = pickle.loads(pickle.dumps(reward))
    assert clone.config == reward.config
    batch = group((RIGHT, 100), (WRONG, 1500))
    assert [r.score for r in clone.score_batch(batch)] == [
        r.score for r in reward.score_batch(batch)
    ]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"exploration": "cosine", "preset": "guarded"}, "guarded preset.*exploration='cosine'"),
        ({"exploration": "kimi", "preset": "reference"}, "reference formula.*'kimi'"),
        ({"repetition_max_penalty": -1.0, "preset": "guarded"}, "guarded.*repetition_max_penalty"),
        ({"repetition_max_penalty": -1.0, "exploration": "none"}, "has none"),
        ({"repetition_max_penalty": 0.5}, "less than or equal to 0"),
        ({"exploration": "repetition_penalty", "repetition_penalty_unit": "tokens"}, "tokenizer"),
        ({"overlong_buffer_tokens": 5000}, r"overlong_buffer_tokens must be in \(0, max_tokens"),
        ({"max_tokens": 0}, "max_tokens must be >= 1"),
        ({"l1_alpha": -1}, "greater than or equal to 0"),
        ({"cosine_exceed_value": float("inf")}, "finite"),
        ({"l1_delta": float("nan")}, "l1_delta must be a finite"),  # every family's validator
        ({"sb_alpha": float("inf")}, "sb_alpha must be a finite"),  # runs in the flat config
        ({"overlong_penalty_factor": float("inf")}, "overlong_penalty_factor must be a finite"),
        ({"exploration": "kimmi"}, "'kimi'"),
    ],
)
def test_shape_settings_are_validated(settings: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        RlspReward(**settings)


def test_shapes_are_selectable_by_keyword_like_verl_reward_kwargs() -> None:
    out = combined(
        solution_str=RIGHT,
        ground_truth="4",
        response_tokens=500,
        exploration="cosine",
        max_tokens=1000,
    )
    assert out["score"] == pytest.approx(0.75, abs=TOL)


def test_shaper_leaves_rlsp_terms_alone() -> None:
    result = RewardResult(score=0.6, acc=1.0, outcome=1.0, length=1000.0)
    for name in ("length", "judge", "none"):
        assert Shaper(name, alpha=0.8).apply(result, EMPTY) is result


@pytest.mark.parametrize("name", SHAPE_NAMES)
def test_every_shape_passes_the_contract_checker(name: str) -> None:
    from rlsp_rewards.integrations.trl import RlspTrlReward
    from rlsp_rewards.testing import check_reward

    trl = check_reward(RlspTrlReward(exploration=name, name=name), "trl", 10.0, name=name)
    assert trl.ok, trl.table()  # TRL passes batches: group shapes too
    if name not in GROUP_SHAPES:  # verl calls one sample at a time
        verl = check_reward(RlspReward(exploration=name), "verl", 10.0, name=name)
        assert verl.ok, verl.table()


# -- properties ---------------------------------------------------------------------------------


@given(st.lists(st.tuples(st.floats(0, 1e6), st.booleans()), min_size=1, max_size=32))
def test_kimi_terms_are_bounded_and_never_reward_wrong_answers(rows: list) -> None:
    terms = Kimi().terms([x(n, ok) for n, ok in rows])
    assert all(-0.5 - TOL <= t <= 0.5 + TOL for t in terms)
    assert all(t <= 0 for t, (_, ok) in zip(terms, rows, strict=True) if not ok)


@given(st.floats(0, 1e7), st.booleans())
def test_cosine_stays_between_its_values(length: float, correct: bool) -> None:
    value = Cosine().term(x(length, correct))
    low, high = (0.5, 1.0) if correct else (-1.0, -0.5)
    assert low - TOL <= value <= high + TOL
