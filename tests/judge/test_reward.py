"""The LLM judge reward against a real, scripted OpenAI-compatible server on 127.0.0.1.

The rubric and the reading of replies, the settings, what each scripted reply scores, the cache,
batches (concurrent, each sample within its own budget) and the reward contract. The server is
``StubJudge`` in ``conftest.py``; the transport's own behaviour (retries, Retry-After, time
bounds, keep-alive, TLS, proxies) is tested in ``test_client.py``.
"""

from __future__ import annotations

import pickle
import re
import subprocess
import sys
import time
from typing import Any

import pytest

from rlsp_rewards.bench.judge import run_judge_bench
from rlsp_rewards.core import RESULT_KEYS, Sample
from rlsp_rewards.errors import ConfigError
from rlsp_rewards.judge.prompt import (
    NO_PROBLEM,
    JudgeReplyError,
    load_template,
    parse_reply,
    render_prompt,
    truncate_middle,
)
from rlsp_rewards.judge.reward import JudgeConfig, JudgeExploration, judge
from tests.judge.conftest import CLEAN, REPLIES, StubJudge

SLACK_S = 2.0  # generous: the machine is shared; only "finishes within its budget" is checked

# -- parsing and the prompt (no server) ------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "grade"),
    [
        (CLEAN, 0.7),  # bare JSON
        (REPLIES["fenced"], 0.6),  # ```json fence with prose before it
        ('```\n{"grade": 0.5}\n```', 0.5),  # fence without a language
        (REPLIES["prose"], 0.4),  # prose on both sides
        (REPLIES["trailing"], 0.3),  # trailing comma
        (REPLIES["stringgrade"], 0.8),  # grade as a string
        ('{"grade": " 1 "}', 1.0),  # string with spaces, integer form
        ('{"grade": 0}', 0.0),  # the lowest band
        (REPLIES["think"], 0.2),  # a <think> block is skipped
        ('{"Grade": 0.9, "Rationale": "x"}', 0.9),  # keys in another case
        ('draft {"grade": 0.1} final {"rationale": "r", "grade": 0.6}', 0.6),  # the last one wins
        ('{"rationale": {"depth": "good"}, "grade": 0.5}', 0.5),  # a structured rationale
        ('{"rationale": null, "grade": 0.5}', 0.5),  # no rationale
    ],
)
def test_replies_read(reply: str, grade: float) -> None:
    assert parse_reply(reply).grade == grade


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (REPLIES["garbage"], "no JSON object"),  # prose only
        (REPLIES["nograde"], "no JSON object with a grade"),  # no grade key
        (REPLIES["toohigh"], "less than or equal to 1"),  # out of range
        ('{"grade": -0.1}', "greater than or equal to 0"),  # out of range
        ('{"grade": "high"}', "grade"),  # not a number
        (REPLIES["boolgrade"], "must be a number"),  # JSON true is not 1.0
        ('{"grade": NaN}', "grade"),  # not finite
        ("", "no JSON object"),  # empty
        ("{" * 10_000, "no JSON object"),  # hostile: many openings
    ],
)
def test_replies_rejected(reply: str, message: str) -> None:
    with pytest.raises(JudgeReplyError, match=message):
        parse_reply(reply)


def test_prompt_has_the_rubric_and_no_gold() -> None:
    prompt = render_prompt(load_template("rlsp-effort-v1"), "Find x if 2x = 6.", "x = 3")
    for phrase in (
        "Diversity of strategies",
        "Depth of exploration",
        "Creativity",
        "Persistence and rigor",
        '"rationale"',
        '"grade"',
        "Find x if 2x = 6.",
    ):
        assert phrase in prompt
    assert "correct" in prompt  # it tells the judge to ignore correctness
    assert prompt.count("x = 3") == 1


def test_prompt_truncates_long_texts_in_the_middle() -> None:
    response = "HEAD " + "filler " * 20_000 + " TAIL"
    prompt = render_prompt("{problem}|{response}", "P" * 10_000, response, max_chars=4_000)
    assert len(prompt) <= 4_001
    assert "HEAD" in prompt and "TAIL" in prompt and "characters omitted" in prompt
    assert len(truncate_middle("x" * 100, 60)) <= 60


def test_braces_in_texts_are_not_expanded() -> None:
    rendered = render_prompt("{problem}/{response}", "{response}", "{problem}")
    assert rendered == "{response}/{problem}"
    assert NO_PROBLEM in render_prompt("{problem}", "  ", "r")


# -- settings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"judge_url": "localhost:8000"}, "localhost:8000"),  # no scheme
        ({"judge_prompt": "effort-v9"}, "rlsp-effort-v1"),  # unknown version: the known ones
        ({"judge_fallback": 1.5}, "judge_fallback"),  # outside [0, 1]
        ({"judge_timeout_s": 0}, "judge_timeout_s"),
        ({"judge_max_in_flight": 0}, "judge_max_in_flight"),
        ({"judge_api_key": "sk-x"}, "unknown setting"),  # keys never go in the settings
    ],
)
def test_bad_settings_are_named(settings: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(named)):
        JudgeExploration(**settings)


def test_user_template_file(
    stub: StubJudge, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("Grade {problem} please", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"no \{response\} placeholder"):
        JudgeExploration(judge_prompt=str(bad))
    good = tmp_path / "mine.txt"
    good.write_text('Effort of [{response}] on [{problem}]? JSON {"grade": x}', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    reward = stub.reward(judge_prompt="mine.txt")  # relative: kept as an absolute path
    assert reward.config.judge_prompt == str(good.resolve())
    response = stub.text()
    judged, _ = stub.timed(reward, response, prompt="P1")
    assert not judged.failed
    (sent,) = stub.requests_for(response)
    assert sent["content"] == f'Effort of [{response}] on [P1]? JSON {{"grade": x}}'


def test_ready_instance_builds_without_environment() -> None:
    assert judge.config.judge_url is None and judge.config.judge_model is None
    out = judge(solution_str="Let me try.", ground_truth="1")
    assert out["judge_failed"] == 1.0 and out["score"] == 0.5 and list(out) == list(RESULT_KEYS)


def test_import_stays_light() -> None:
    code = (
        "import sys, rlsp_rewards.judge; "
        "print([m for m in ('asyncio', 'aiohttp') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr


# -- scripted replies over HTTP -------------------------------------------------------------


@pytest.mark.parametrize(
    ("scenario", "grade", "failed", "attempts"),
    [
        ("clean", 0.7, False, 1),
        ("fenced", 0.6, False, 1),
        ("prose", 0.4, False, 1),
        ("trailing", 0.3, False, 1),
        ("stringgrade", 0.8, False, 1),
        ("think", 0.2, False, 1),
        ("garbage", 0.5, True, 1),  # unreadable: fallback, not retried
        ("toohigh", 0.5, True, 1),  # grade 1.7: a failure, not a number
        ("nograde", 0.5, True, 1),
        ("notchat", 0.5, True, 1),  # 200 but not a chat completion
        ("error500once", 0.7, False, 2),  # 5xx retried
        ("badrequest", 0.5, True, 1),  # other 4xx not retried
        ("redirected", 0.5, True, 1),  # 3xx: not followed, not retried
        ("huge", 0.5, True, 1),  # a body over the 4 MiB cap is refused, not retried
        ("dropped", 0.7, False, 2),  # connection lost mid-body, then fine
        ("alwaysdropped", 0.5, True, 3),  # 1 attempt + 2 retries, then the fallback
    ],
)
def test_scripted_reply(
    stub: StubJudge, scenario: str, grade: float, failed: bool, attempts: int
) -> None:
    reward = stub.reward()
    response = stub.text(scenario)
    out = reward(solution_str=response, ground_truth="4", extra_info={"question": "2+2?"})
    assert list(out) == list(RESULT_KEYS)
    assert (out["score"], out["judge_grade"], out["judge_failed"]) == (grade, grade, float(failed))
    assert out["error"] == 0.0 and out["backtracking"] == 1.0
    assert len(stub.requests_for(response)) == attempts


def test_request_carries_model_rubric_problem_and_key(
    stub: StubJudge, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_JUDGE_KEY", "sk-test-123")
    reward = stub.reward(
        judge_api_key_env="MY_JUDGE_KEY", judge_temperature=0.3, judge_max_tokens=300
    )
    response = stub.text()
    stub.timed(reward, response, extra_info={"question": "How many primes are below 20?"})
    (sent,) = stub.requests_for(response)
    body = sent["body"]
    assert sent["path"] == "/v1/chat/completions"
    assert body["model"] == "judge-x" and body["temperature"] == 0.3 and body["max_tokens"] == 300
    assert [m["role"] for m in body["messages"]] == ["user"]
    assert "Diversity of strategies" in sent["content"]
    assert "How many primes are below 20?" in sent["content"]
    assert sent["headers"]["Authorization"] == "Bearer sk-test-123"
    assert b"sk-test-123" not in pickle.dumps(reward)


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        ({"prompt": "From prompt.", "extra_info": {"question": "From extra."}}, "From prompt."),
        ({"extra_info": {"question": "From extra."}}, "From extra."),
        ({"extra_info": {"problem": "Custom key."}}, "Custom key."),  # question_key="problem"
        ({"extra_info": {"other": 1}}, NO_PROBLEM),  # no problem: judged on its own
    ],
)
def test_problem_text_sources(stub: StubJudge, call: dict[str, Any], expected: str) -> None:
    settings = {"question_key": "problem"} if "problem" in call.get("extra_info", {}) else {}
    response = stub.text()
    out = stub.reward(**settings)(solution_str=response, **call)
    assert out["judge_failed"] == 0.0
    (sent,) = stub.requests_for(response)
    assert expected in sent["content"]


def test_verl_router_address_is_the_endpoint(stub: StubJudge) -> None:
    response = stub.text()
    out = JudgeExploration(judge_model="m")(
        solution_str=response, reward_router_address=f"127.0.0.1:{stub.port}"
    )
    assert (out["score"], out["judge_failed"]) == (0.7, 0.0)
    assert stub.requests_for(response)[0]["path"] == "/v1/chat/completions"


def test_environment_url_and_model_discovery(
    stub: StubJudge, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RLSP_JUDGE_URL", stub.url)
    response = stub.text()
    judged = JudgeExploration().grade(Sample(response=response))
    assert (judged.grade, judged.failed) == (0.7, False)
    assert stub.requests_for(response)[0]["body"]["model"] == "stub-model"  # from /v1/models
    monkeypatch.setenv("RLSP_JUDGE_MODEL", "env-model")
    response = stub.text()
    JudgeExploration().grade(Sample(response=response))
    assert stub.requests_for(response)[0]["body"]["model"] == "env-model"


def test_no_endpoint_is_a_counted_failure() -> None:
    judged = JudgeExploration(judge_fallback=0.3).grade(Sample(response="x"))
    assert (judged.grade, judged.failed) == (0.3, True) and "judge_url" in judged.reason


def test_odd_inputs_never_raise(stub: StubJudge) -> None:
    reward = stub.reward()
    for kwargs in (
        {"solution_str": None},
        {"solution_str": b"\xff\xfe junk"},
        {"solution_str": "x" * 300_000, "extra_info": "not a dict"},
        {"solution_str": "ok", "extra_info": {"question": 123}},
    ):
        out = reward(**kwargs)
        assert list(out) == list(RESULT_KEYS) and out["error"] == 0.0


# -- cache ------------------------------------------------------------------------------------


def test_identical_judgements_are_cached_and_bounded(stub: StubJudge) -> None:
    reward = stub.reward(judge_cache_size=2)
    first, second, third = stub.text(), stub.text(), stub.text()
    for response in (first, first, second, third, first):
        assert reward.grade(Sample(response=response, prompt="p")).grade == 0.7
    assert len(stub.requests_for(first)) == 2  # cached once, then evicted by two others
    reward.grade(Sample(response=first, prompt="another problem"))
    assert len(stub.requests_for(first)) == 3  # a different problem is a different judgement

    uncached = stub.reward(judge_cache_size=0)
    response = stub.text()
    uncached.grade(Sample(response=response))
    uncached.grade(Sample(response=response))
    assert len(stub.requests_for(response)) == 2


def test_failures_are_not_cached(stub: StubJudge) -> None:
    reward = stub.reward()
    response = stub.text("garbage")
    assert reward.grade(Sample(response=response)).failed
    assert reward.grade(Sample(response=response)).failed
    assert len(stub.requests_for(response)) == 2


def test_unexpected_failure_scores_the_fallback() -> None:
    reward = JudgeExploration(judge_fallback=0.4)
    result = reward.failure(Sample(response="x"), RuntimeError("boom"))
    flags = (result.score, result.judge_grade, result.judge_failed, result.error)
    assert flags == (0.4, 0.4, 1.0, 1.0)


def test_judge_config_names() -> None:
    # RlspReward exposes these names flat; keep them stable.
    assert set(JudgeConfig.model_fields) == {
        "judge_url",
        "judge_model",
        "judge_api_key_env",
        "judge_temperature",
        "judge_max_tokens",
        "judge_timeout_s",
        "judge_budget_s",
        "judge_retries",
        "judge_max_in_flight",
        "judge_fallback",
        "judge_cache_size",
        "judge_max_chars",
        "judge_prompt",
        "question_key",
    }


# -- batches: concurrent, each sample within its own budget ------------------------------------


def test_a_batch_is_graded_concurrently_in_order_within_the_bound(stub: StubJudge) -> None:
    reward = stub.reward(judge_max_in_flight=4, judge_budget_s=20.0)
    scenarios = ["fenced", "garbage", "error500once", "prose"] + ["slowish"] * 12
    responses = [stub.text(name, "GROUP:batch16") for name in scenarios]
    grades = reward.grade_batch([Sample(response=r) for r in responses])
    assert [g.grade for g in grades] == [0.6, 0.5, 0.7, 0.4] + [0.7] * 12
    assert [g.failed for g in grades] == [False, True] + [False] * 14
    assert stub.peak["batch16"] == 4  # all at once, up to the in-flight bound
    assert [len(stub.requests_for(r)) for r in responses[:3]] == [1, 1, 2]  # retried as alone


def test_every_judgement_of_a_big_batch_ends_by_the_budget_from_its_start(
    stub: StubJudge,
) -> None:
    # 2,048 samples against a judge that never answers: preparing their prompts on the loop
    # takes a while, and still the last one ends by the batch's budget, not later.
    budget = 2.0
    reward = stub.reward(judge_budget_s=budget, judge_timeout_s=30.0)
    samples = [Sample(response=stub.text("slow", f"big batch {i}")) for i in range(2048)]
    start = time.monotonic()
    grades = reward.grade_batch(samples)
    assert time.monotonic() - start < budget + 1.0 + SLACK_S
    assert all(g.failed and "budget" in g.reason for g in grades)


def test_a_batch_uses_the_cache(stub: StubJudge) -> None:
    reward = stub.reward()
    seen, fresh = stub.text(), stub.text()
    assert not reward.grade(Sample(response=seen)).failed
    grades = reward.grade_batch([Sample(response=seen), Sample(response=fresh)])
    assert [g.grade for g in grades] == [0.7, 0.7]
    assert (len(stub.requests_for(seen)), len(stub.requests_for(fresh))) == (1, 1)
    assert reward.grade_batch([]) == []


def test_a_batch_against_a_hanging_judge_takes_one_budget(stub: StubJudge) -> None:
    # 128 samples, a judge that never answers, 64 in flight: every judgement ends by its own
    # deadline (the queued half spends its budget waiting for a slot), so the batch takes one
    # budget, not 128 / 64 (or, with threads, 128 / 16) of them.
    from rlsp_rewards.combine import RlspReward

    budget = 2.0
    reward = RlspReward(
        exploration="judge", judge_url=stub.url, judge_model="m", judge_budget_s=budget
    )
    samples = [
        Sample(response=stub.text("slow", f"attempt {i}: so \\boxed{{4}}"), gold="4")
        for i in range(128)
    ]
    start = time.monotonic()
    results = reward.score_batch(samples)
    elapsed = time.monotonic() - start
    assert elapsed < budget + 1.0 + SLACK_S, elapsed
    assert [(r.judge_failed, r.judge_grade, r.acc) for r in results] == [(1.0, 0.5, 1.0)] * 128
    assert {round(r.score, 9) for r in results} == {0.9}  # 0.8 * 1 + 0.2 * the fallback 0.5


# -- the benchmark (structure only; the numbers come from `rlsp-rewards bench --judge`) --------


def test_judge_bench_runs() -> None:
    result = run_judge_bench(count=30, in_flight=4, latency_s=0.005)
    assert (result.count, result.failures, result.in_flight) == (30, 0, 4)
    assert result.requests_per_s > 0 and result.cpu_ms_per_request > 0
    assert result.ideal_per_s == 800.0 and "of ideal" in result.summary()


def test_missing_http_client_is_a_counted_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    from rlsp_rewards.errors import DependencyError, require

    judge_module = sys.modules["rlsp_rewards.judge.reward"]  # the package's `judge` is the instance

    def missing(module: str, extra: str) -> None:
        require(f"{module}_not_installed_here", extra)

    monkeypatch.setattr(judge_module, "require", missing)
    monkeypatch.delitem(sys.modules, "aiohttp")  # as if never imported (restored afterwards)
    reward = JudgeExploration(judge_url="http://127.0.0.1:9/v1")  # building never needs it
    judged = reward.grade(Sample(response="x"))
    batch = reward.grade_batch([Sample(response="y"), Sample(response="z")])
    for one in (judged, *batch):
        assert one.failed and 'pip install "rlsp-rewards[judge]"' in one.reason
        assert DependencyError.__name__ in one.reason


def test_judge_meets_the_reward_contract(stub: StubJudge) -> None:
    from rlsp_rewards.testing import check_reward

    reward = stub.reward(judge_budget_s=3.0)
    for fn in (reward, reward.acall):  # verl's sync call, and its async one
        report = check_reward(fn, framework="verl", budget_s=5.0)
        assert report.ok, str(report)
