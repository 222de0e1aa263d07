"""The RLSP reward: exact formula values per preset, settings and presets, the judge seam."""

from __future__ import annotations

import asyncio
import dataclasses
import pickle
import subprocess
import sys
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rlsp_rewards.combine import PRESETS, RlspConfig, RlspReward, combined
from rlsp_rewards.core import RESULT_KEYS, LengthSource, OutcomeStatus, Sample
from rlsp_rewards.errors import ConfigError
from rlsp_rewards.judge.reward import JudgeExploration
from rlsp_rewards.outcome.verifier import Verdict
from rlsp_rewards.testing import assert_reward_contract

CORRECT = "Adding gives 4, so the answer is \\boxed{4}."
WRONG = "Adding gives 5, so the answer is \\boxed{5}."
NO_BOX = "I am not sure."
ANSWERS = {"correct": CORRECT, "wrong": WRONG, "no box": NO_BOX}


@dataclasses.dataclass(frozen=True)
class FakeGrade:
    """The judge's result shape (rlsp_rewards.judge.reward.JudgeGrade)."""

    grade: float
    failed: bool = False
    reason: str = ""


class FakeJudge:
    """Stands in for JudgeExploration: a fixed grade, sync and async; records what it saw."""

    def __init__(self, grade: float = 0.7, failed: bool = False) -> None:
        self.result = FakeGrade(grade=grade, failed=failed, reason="fake")
        self.seen: list[Sample] = []

    def grade(self, sample: Sample) -> FakeGrade:
        self.seen.append(sample)
        return self.result

    async def agrade(self, sample: Sample) -> FakeGrade:
        await asyncio.sleep(0)
        return self.grade(sample)


def with_judge(reward: RlspReward, judge: FakeJudge) -> RlspReward:
    reward._judge = judge  # the seam: a test places its own judge where the real one would be
    return reward


# -- the formula table: |o| = 1, 100, 1000, 4096; correct, wrong, no box ------------------------

PAPER_AND_GUARDED = [
    # (answer, |o|, paper: 0.8*v + 0.2*(-1000/|o|), guarded: 0.8*v + 0.2*clamp(-1000/|o|, -1, 0))
    ("correct", 1, -199.2, 0.6),
    ("correct", 100, -1.2, 0.6),
    ("correct", 1000, 0.6, 0.6),
    ("correct", 4096, 0.751171875, 0.751171875),  # 0.8 - 0.2*0.244140625
    ("wrong", 1, -200.0, -0.2),
    ("wrong", 100, -2.0, -0.2),
    ("wrong", 1000, -0.2, -0.2),
    ("wrong", 4096, -0.048828125, -0.048828125),
    ("no box", 1, -200.0, -0.2),  # the paper's v is 0 without an answer
    ("no box", 100, -2.0, -0.2),
    ("no box", 1000, -0.2, -0.2),
    ("no box", 4096, -0.048828125, -0.048828125),
]


@pytest.mark.parametrize("answer, tokens, paper, guarded", PAPER_AND_GUARDED)
def test_paper_and_guarded_formula_values(
    answer: str, tokens: int, paper: float, guarded: float
) -> None:
    kwargs = {"solution_str": ANSWERS[answer], "ground_truth": "4", "response_tokens": tokens}
    out = combined(**kwargs)
    assert out["score"] == pytest.approx(paper, abs=1e-9)
    assert out["acc"] == (answer == "correct")
    assert out["length_term"] == pytest.approx(-1000 / tokens, abs=1e-9)
    assert out["length_source"] == LengthSource.FRAMEWORK
    assert out["no_answer"] == (answer == "no box")
    assert combined(**kwargs, preset="guarded")["score"] == pytest.approx(guarded, abs=1e-9)


REFERENCE = [
    # (answer, L = characters before the first box / 4, v - 1000/L with v = 1, 0, -0.5)
    ("correct", 1, -999.0),
    ("correct", 100, -9.0),
    ("correct", 1000, 0.0),
    ("correct", 4096, 0.755859375),  # 1 - 0.244140625
    ("wrong", 1, -1000.0),
    ("wrong", 100, -10.0),
    ("wrong", 1000, -1.0),
    ("wrong", 4096, -0.244140625),
    ("no box", 1, -1000.5),  # -0.5 without a box; L is then the whole response / 4
    ("no box", 100, -10.5),
    ("no box", 1000, -1.5),
    ("no box", 4096, -0.744140625),
]


def reference_text(answer: str, chars_before_box: int) -> str:
    box = {"correct": "\\boxed{4} and \\boxed{5}", "wrong": "\\boxed{5} and \\boxed{4}"}
    return "y" * chars_before_box + box.get(answer, "")  # the FIRST box counts


@pytest.mark.parametrize("answer, size, expected", REFERENCE)
def test_reference_formula_values(answer: str, size: int, expected: float) -> None:
    out = combined(
        solution_str=reference_text(answer, 4 * size),
        ground_truth="4",
        response_tokens=12345,  # the authors' length ignores token counts
        preset="reference",
    )
    assert out["score"] == pytest.approx(expected, abs=1e-9)
    assert out["length"] == size and out["length_source"] == LengthSource.CHARS
    assert out["outcome"] == {"correct": 1.0, "wrong": 0.0, "no box": -0.5}[answer]


@pytest.mark.parametrize(
    "preset, exploration, answer, grade, failed, expected",
    [
        ("paper", "judge", "correct", 0.7, False, 0.94),  # 0.8*1 + 0.2*0.7
        ("paper", "judge", "wrong", 0.7, False, 0.14),
        ("paper", "judge", "correct", 0.9, True, 0.9),  # failed call: the neutral g = 0.5
        ("guarded", "judge", "wrong", 0.9, True, 0.1),  # failed call: neutral g = 0.5
        ("guarded", "judge", "correct", 1.0, False, 1.0),
        ("reference", "judge", "no box", 0.7, False, -0.26),  # 0.8*(-0.5) + 0.2*0.7
        ("reference", "length+judge", "correct", 0.7, False, -7.06),  # 0.8*(1 - 10) + 0.14
        ("reference", "length+judge", "wrong", 0.2, True, -7.9),  # 0.8*(0 - 10) + 0.2*0.5
    ],
)
def test_judge_formula_values(
    preset: str, exploration: str, answer: str, grade: float, failed: bool, expected: float
) -> None:
    judge = FakeJudge(grade, failed)
    reward = with_judge(RlspReward(preset=preset, exploration=exploration), judge)
    text = reference_text(answer, 400) if preset == "reference" else ANSWERS[answer]
    out = reward(solution_str=text, ground_truth="4", response_tokens=100, prompt="What is 2+2?")
    assert out["score"] == pytest.approx(expected, abs=1e-9)
    assert out["judge_failed"] == float(failed)
    assert out["judge_grade"] == (0.5 if failed else grade)
    assert judge.seen[0].prompt == "What is 2+2?"  # the judge sees the problem and the response
    asynced = asyncio.run(reward.acall(solution_str=text, ground_truth="4", response_tokens=100))
    assert asynced == reward(solution_str=text, ground_truth="4", response_tokens=100)
    batch = reward.score_batch([Sample(response=text, gold="4", response_tokens=100)])
    assert batch[0].score == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_no_exploration_is_the_outcome(preset: str) -> None:
    reward = RlspReward(preset=preset, exploration="none")
    assert reward(solution_str=CORRECT, ground_truth="4")["score"] == 1.0
    assert reward(solution_str=WRONG, ground_truth="4")["score"] == 0.0


def test_reference_verifier_failure_scores_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    reward = RlspReward(preset="reference")
    stuck = Verdict(status=OutcomeStatus.TIMEOUT, pred="4")
    monkeypatch.setattr(reward._verifier, "verify", lambda gold, response: stuck)
    out = reward(solution_str=CORRECT, ground_truth="4")
    assert out["score"] == 0.0 and out["timeout"] == 1.0
    paper = RlspReward()
    monkeypatch.setattr(paper._verifier, "verify", lambda gold, response: stuck)
    timed_out = paper(solution_str=CORRECT, ground_truth="4", response_tokens=1000)
    assert timed_out["score"] == pytest.approx(-0.2) and timed_out["timeout"] == 1.0


def test_guarded_discounts_repetition() -> None:
    spam = "Let me compute 2 + 2 = 4 carefully once more. " * 100 + "\\boxed{4}"
    paper = combined(solution_str=spam, ground_truth="4", response_tokens=1000)
    guarded = combined(solution_str=spam, ground_truth="4", response_tokens=1000, preset="guarded")
    assert paper["repetition"] == guarded["repetition"] > 0.95  # measured in every preset
    assert paper["effective_length"] == 1000 and paper["score"] == pytest.approx(0.6)
    assert guarded["effective_length"] < 50 and guarded["score"] == pytest.approx(0.6)  # floored
    assert guarded["length_term"] == -1.0


def test_behaviours_and_lengths_are_reported() -> None:
    text = "Wait, that's wrong. Let me verify. Alternatively, 2 + 2 = \\boxed{4}."
    out = combined(solution_str=text, ground_truth="4")
    assert (out["backtracking"], out["verification"], out["alternatives"]) == (2.0, 1.0, 1.0)
    assert out["length"] == len(text) / 4 and out["length_source"] == LengthSource.CHARS
    assert out["pred"] == "4"


def test_local_tokenizer_reaches_the_length(tokenizer_dir: str) -> None:
    out = combined(solution_str=CORRECT, ground_truth="4", tokenizer=tokenizer_dir)
    assert out["length_source"] == LengthSource.TOKENIZER and out["acc"] == 1.0


# -- settings and presets -------------------------------------------------------------------


def test_presets_pick_defaults_and_explicit_settings_win() -> None:
    reference = RlspReward(preset="reference", alpha=0.5)
    assert reference.config.extraction == "first_box" and reference.config.no_answer_score == -0.5
    # an explicit setting survives a later preset change; preset defaults do not
    back = reference.with_settings(preset="paper")
    assert back.config.alpha == 0.5 and back.config.extraction == "last_box"
    assert back.config.no_answer_score == 0.0
    assert RlspReward(preset="reference", extraction="last_box").config.extraction == "last_box"
    explicit = RlspConfig(preset="guarded", C=500).explicit_settings()
    assert explicit == {"C": 500.0, "preset": "guarded"}


def test_per_call_preset_matches_the_built_reward_and_is_cached() -> None:
    assert combined.with_settings(preset="guarded") is combined.with_settings(preset="guarded")
    for preset in PRESETS:
        kwargs = {"solution_str": CORRECT * 3, "ground_truth": "4", "response_tokens": 50}
        assert combined(**kwargs, preset=preset) == RlspReward(preset=preset)(**kwargs)
    assert combined.config.preset == "paper"  # the instance itself is unchanged


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"alpha": 1.5}, "alpha=1.5"),  # alpha lies in [0, 1]
        ({"preset": "papr"}, "'paper', 'reference' or 'guarded'"),
        ({"preset": ["paper"]}, "preset"),  # not a name at all
        ({"exploration": "lenght"}, "'length', 'judge', 'length\\+judge', 'none', .*'kimi'"),
        ({"exploration": "length+judge"}, "only by the reference formula"),
        ({"preset": "guarded", "alpha": 0.4}, "use alpha > 0.5"),  # the guard's promise
        ({"preset": "guarded", "length_floor": None}, "needs length_floor and length_cap"),
        ({"C": 0}, "the paper uses 1000"),
        ({"alpah": 0.8}, "unknown setting 'alpah'.*alpha"),  # the known names are listed
        ({"judge_fallback": 2}, "judge_fallback=2"),
    ],
)
def test_invalid_settings_are_rejected_clearly(bad: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        RlspReward(**bad)
    with pytest.raises(ConfigError, match=message):
        combined(solution_str=CORRECT, ground_truth="4", **bad)  # per call: at the first call


def test_pickling_keeps_settings_and_drops_live_handles() -> None:
    rewards = (combined, RlspReward(preset="reference", alpha=0.6), combined.with_settings(C=5))
    for reward in rewards:
        clone = pickle.loads(pickle.dumps(reward))
        assert clone.config == reward.config
        assert clone.config.explicit_settings() == reward.config.explicit_settings()
        kwargs = {"solution_str": CORRECT, "ground_truth": "4", "response_tokens": 300}
        assert clone(**kwargs) == reward(**kwargs)
    judged = with_judge(RlspReward(exploration="judge"), FakeJudge())
    assert isinstance(pickle.loads(pickle.dumps(judged))._judge, JudgeExploration)  # rebuilt


def test_import_stays_light() -> None:
    code = (
        "import sys, rlsp_rewards.combine; "
        "print(sorted(m for m in ('httpx', 'sympy', 'torch', 'transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "[]", out.stderr


# -- the contract and properties --------------------------------------------------------------


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_reward_contract(preset: str) -> None:
    assert_reward_contract(combined.with_settings(preset=preset), framework="verl")


def test_batch_and_threads_agree_with_single_calls() -> None:
    samples = [
        Sample(response=text, gold=gold, response_tokens=tokens)
        for text in (CORRECT, WRONG, NO_BOX, "")
        for gold in ("4", "5", None)
        for tokens in (None, 1, 4096)
    ]
    single = [combined.safe_score(s).to_dict() for s in samples]
    assert [r.to_dict() for r in combined.score_batch(samples)] == single
    results: dict[int, dict] = {}

    def work(i: int) -> None:
        results[i] = combined.safe_score(samples[i]).to_dict()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(samples))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [results[i] for i in range(len(samples))] == single


TEXTS = st.one_of(
    st.text(max_size=200),
    st.builds(lambda a, b: f"{a} \\boxed{{{b}}}", st.text(max_size=80), st.text(max_size=8)),
    st.builds(lambda a, n: a * n, st.text(min_size=1, max_size=20), st.integers(1, 200)),
)
GOLDS = st.one_of(st.none(), st.sampled_from(["4", "\\frac12", "x+1"]), st.integers(-9, 9))
TOKENS = st.one_of(st.none(), st.integers(0, 10**6))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS, GOLDS, TOKENS, st.sampled_from([0.51, 0.8, 1.0]))
def test_guarded_total_stays_within_its_bounds(
    text: str, gold: object, tokens: int | None, alpha: float
) -> None:
    out = combined(
        solution_str=text, ground_truth=gold, response_tokens=tokens, preset="guarded", alpha=alpha
    )
    assert tuple(out) == RESULT_KEYS
    low, high = (1 - alpha) * -1.0, alpha
    assert low - 1e-12 <= out["score"] <= high + 1e-12
    if out["acc"] == 1.0:
        assert out["score"] >= alpha - (1 - alpha) > 0  # above every wrong answer's score (<= 0)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS, GOLDS, TOKENS, st.sampled_from(sorted(PRESETS)))
def test_any_input_gives_the_fixed_keys_without_raising(
    text: str, gold: object, tokens: int | None, preset: str
) -> None:
    out = combined(solution_str=text, ground_truth=gold, response_tokens=tokens, preset=preset)
    assert tuple(out) == RESULT_KEYS
    assert all(isinstance(out[k], float) for k in RESULT_KEYS if k != "pred")


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**6), st.integers(0, 10**6), st.sampled_from(list(ANSWERS.values())))
def test_paper_score_is_monotone_in_length(a: int, b: int, text: str) -> None:
    short, long_ = sorted((a, b))
    kwargs = {"solution_str": text, "ground_truth": "4"}
    assert (
        combined(**kwargs, response_tokens=short)["score"]
        <= combined(**kwargs, response_tokens=long_)["score"]
    )


# -- the real judge over HTTP on 127.0.0.1 ------------------------------------------------------


def effort_judge_app(grade_by_word: dict[str, float]) -> object:
    """An OpenAI-compatible chat server grading by a marker word ("zqx-broken": HTTP 500)."""
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(payload: dict) -> object:  # a dict parameter is the JSON body
        prompt = payload["messages"][-1]["content"]
        if "zqx-broken" in prompt:
            return JSONResponse({"error": "overloaded"}, status_code=500)
        grade = next((g for word, g in grade_by_word.items() if word in prompt), 0.0)
        reply = f'{{"rationale": "graded", "grade": {grade}}}'
        return {"choices": [{"message": {"role": "assistant", "content": reply}}]}

    return app


def test_real_judge_over_http(serve_app: object) -> None:
    url = serve_app(effort_judge_app({"zqx-good": 1.0, "zqx-meh": 0.25}))  # type: ignore[operator]
    reward = combined.with_settings(
        exploration="judge",
        judge_url=f"{url}/v1",
        judge_model="judge",
        judge_retries=0,
        judge_budget_s=10.0,
    )
    good = "A zqx-good attempt: \\boxed{4}"
    assert reward(solution_str=good, ground_truth="4")["score"] == pytest.approx(1.0)
    meh = asyncio.run(reward.acall(solution_str="zqx-meh \\boxed{5}", ground_truth="4"))
    assert meh["score"] == pytest.approx(0.05) and meh["judge_grade"] == 0.25
    broken = reward(solution_str="zqx-broken \\boxed{4}", ground_truth="4")
    assert broken["judge_failed"] == 1.0 and broken["score"] == pytest.approx(0.9)  # g = 0.5
    batch = reward.score_batch(
        [Sample(response=t, gold="4") for t in (good, "zqx-meh \\boxed{4}", "zqx-broken")]
    )
    assert [round(r.score, 9) for r in batch] == [1.0, 0.85, 0.1]
    assert [r.judge_failed for r in batch] == [0.0, 0.0, 1.0]
    reference = combined.with_settings(
        preset="reference", exploration="length+judge", judge_url=f"{url}/v1", judge_model="judge"
    )
    out = reference(solution_str="zqx-good" + "y" * 392 + "\\boxed{4}", ground_truth="4")
    assert out["score"] == pytest.approx(0.8 * (1 - 10) + 0.2 * 1.0)  # L = 400 chars / 4
