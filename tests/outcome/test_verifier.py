"""The outcome verifier: statuses, fixed keys, bad input, budgets, threads, asyncio, pickling."""

from __future__ import annotations

import asyncio
import math
import pickle
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rlsp_rewards.core import RESULT_KEYS, OutcomeStatus, Sample
from rlsp_rewards.errors import ConfigError
from rlsp_rewards.outcome.verifier import OutcomeVerifier, Verdict, outcome

BUDGET_S = 1.0  # the budget of the timing tests
SLACK_S = 1.0  # the bound: no sample takes longer than its budget + 1 s


@pytest.fixture(scope="module")
def verifier() -> OutcomeVerifier:
    """A verifier with a generous budget, for correctness on a busy shared machine."""
    v = OutcomeVerifier(timeout_s=10)
    assert v.warm_up()
    return v


@pytest.fixture(scope="module")
def strict() -> OutcomeVerifier:
    """A verifier with a short budget, for the timing tests."""
    v = OutcomeVerifier(timeout_s=BUDGET_S)
    assert v.warm_up()
    return v


def assert_contract(result: dict) -> None:
    assert list(result) == list(RESULT_KEYS)
    assert isinstance(result["pred"], str)
    assert all(math.isfinite(result[k]) for k in RESULT_KEYS if k != "pred")


@pytest.mark.parametrize(
    ("gold", "response", "status"),
    [
        ("42", r"So the answer is $\boxed{42}$.", OutcomeStatus.CORRECT),  # plain integer
        (r"\frac{1}{2}", r"\boxed{0.5}", OutcomeStatus.CORRECT),  # fraction vs decimal
        ("x^2+1", r"\boxed{1+x^2}", OutcomeStatus.CORRECT),  # needs math-verify (worker)
        (r"\frac{\sqrt{2}}{2}", r"\boxed{\sin(\pi/4)}", OutcomeStatus.CORRECT),  # symbolic
        ("42", r"\boxed{41 = 42}", OutcomeStatus.INCORRECT),  # math-verify's false positive
        ("7", r"\boxed{8}", OutcomeStatus.INCORRECT),  # plain wrong
        ("7", "I think it is about seven or so", OutcomeStatus.NO_ANSWER),  # no final answer
        (None, r"\boxed{7}", OutcomeStatus.GOLD_UNPARSEABLE),  # missing gold
        ("", r"\boxed{7}", OutcomeStatus.GOLD_UNPARSEABLE),  # empty gold
        (r"\frac{", r"\boxed{7}", OutcomeStatus.GOLD_UNPARSEABLE),  # broken gold
        ("Solution: add them, $\\boxed{12}$.", "Answer: 12", OutcomeStatus.CORRECT),  # worked gold
        (12, r"\boxed{12}", OutcomeStatus.CORRECT),  # numeric gold
    ],
)
def test_statuses(verifier, gold, response, status):
    assert verifier.verify(gold, response).status is status


@pytest.mark.parametrize(
    ("status", "score", "acc", "flag"),
    [
        (OutcomeStatus.CORRECT, 1.0, 1.0, None),
        (OutcomeStatus.INCORRECT, 0.0, 0.0, None),
        (OutcomeStatus.NO_ANSWER, -0.5, 0.0, "no_answer"),  # no_answer_score applies
        (OutcomeStatus.GOLD_UNPARSEABLE, 0.0, 0.0, "gold_unparseable"),
        (OutcomeStatus.TIMEOUT, 0.0, 0.0, "timeout"),
        (OutcomeStatus.ERROR, 0.0, 0.0, "error"),
    ],
)
def test_result_of_each_status(status, score, acc, flag):
    result = OutcomeVerifier(no_answer_score=-0.5).to_result(Verdict(status, "x")).to_dict()
    assert_contract(result)
    assert (result["score"], result["acc"], result["outcome"]) == (score, acc, score)
    flags = {k: result[k] for k in ("no_answer", "gold_unparseable", "timeout", "error")}
    assert flags == {k: float(k == flag) for k in flags}


BAD_INPUTS = [
    (None, None),  # nothing at all
    ("1", ""),  # empty response
    ("1", "x" * 1_000_000 + r"\boxed{1}"),  # 1 MB
    ("1", bytes(range(256)) * 100),  # binary junk
    ("1", "{" * 10_000 + r"\boxed{1"),  # 10,000-deep unbalanced braces
    ("1", r"\boxed{" + "{" * 10_000 + "1" + "}" * 10_000 + "}"),  # 10,000-deep balanced
    ("42", r"\boxed{9^{9^{9^{9}}}}"),  # power tower
    ("42", r"\boxed{(10^{10^{10}})!}"),  # huge factorial
    ("9" * 6000, r"\boxed{" + "9" * 6000 + "}"),  # integers past Python's 4,300-digit limit
    ("9" * 6000, r"\boxed{" + "9" * 5999 + "8}"),  # ... and differing in the last digit
    (r"\frac{", r"\boxed{\frac{}"),  # unparseable gold and answer
    ("1", r"\( x" * 5000),  # unterminated \( (quadratic in math-verify)
    ({"weird": object()}, r"\boxed{1}"),  # a gold of the wrong shape
    (float("nan"), r"\boxed{nan}"),  # a non-finite gold
]


@pytest.mark.parametrize(("gold", "response"), BAD_INPUTS)
def test_bad_input_gets_a_defined_result_within_budget(strict, gold, response):
    started = time.monotonic()
    result = strict(data_source="t", solution_str=response, ground_truth=gold)
    assert time.monotonic() - started < BUDGET_S + SLACK_S
    assert_contract(result)
    assert result["error"] == 0.0


def test_huge_integers_compare_by_digits(verifier):
    assert verifier.verify("9" * 6000, r"\boxed{" + "9" * 6000 + "}").correct
    assert not verifier.verify("9" * 6000, r"\boxed{" + "9" * 5999 + "8}").correct


def test_timeout_is_flagged_and_cached(strict, slow_answer):
    first = strict(solution_str=slow_answer, ground_truth="2")
    assert first["timeout"] == 1.0 and first["score"] == 0.0
    hits = strict.cache_stats()["hits"]
    again = strict(solution_str=slow_answer, ground_truth="2")
    assert again["timeout"] == 1.0
    assert strict.cache_stats()["hits"] == hits + 1  # served from the cache, not re-run


@pytest.mark.parametrize(
    "template",
    [
        r"\boxed{{__import__('os').system('touch {path}')}}",
        r"\boxed{{eval(\"__import__('os').system('touch {path}')\")}}",
        r"\boxed{{exec('import os; os.system(\"touch {path}\")')}}",
        r"The answer is __import__('os').system('touch {path}')",
        r"\boxed{{\text{{__import__('subprocess').call(['touch', '{path}'])}}}}",
        r"$\boxed{{(lambda: __import__('os').system('touch {path}'))()}}$",
    ],
)
def test_model_output_is_never_executed(verifier, tmp_path, template):
    target = tmp_path / "pwned"
    response = template.format(path=target)
    verifier(solution_str=response, ground_truth="0")
    verifier.verify_batch([("0", response)])
    assert not target.exists()


def test_batch_matches_single_calls_and_deduplicates(verifier):
    pairs = [
        ("3", r"\boxed{3}"),
        ("3", r"\boxed{3}"),
        ("3", r"\boxed{4}"),
        ("x^2", r"\boxed{x \cdot x}"),
        ("x^2", r"\boxed{x \cdot x}"),
        ("5", "no answer here"),
        (None, r"\boxed{1}"),
    ]
    batch = verifier.verify_batch(pairs)
    single = [verifier.verify(g, r) for g, r in pairs]
    assert [v.status for v in batch] == [v.status for v in single]
    assert [v.pred for v in batch][:3] == ["3", "3", "4"]


def test_batch_bounds_each_check(slow_answer):
    fresh = OutcomeVerifier(timeout_s=BUDGET_S, cache_size=0)
    started = time.monotonic()
    verdicts = fresh.verify_batch([(str(i), slow_answer) for i in (2, 3)])
    assert [v.status for v in verdicts] == [OutcomeStatus.TIMEOUT] * 2
    assert time.monotonic() - started < 2 * (BUDGET_S + SLACK_S)


def test_score_batch_has_the_fixed_keys(verifier):
    results = verifier.score_batch([Sample(r"\boxed{2}", gold="2"), Sample("", gold=None)])
    for result in results:
        assert_contract(result.to_dict())
    assert [r.acc for r in results] == [1.0, 0.0]


def test_sixteen_threads_at_once(verifier):
    results: dict[int, dict] = {}

    def call(i: int) -> None:
        response = r"\boxed{" + f"x^2 + {i % 4}" + "}"
        results[i] = verifier(solution_str=response, ground_truth=f"{i % 4} + x^2")

    threads = [threading.Thread(target=call, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [results[i]["acc"] for i in range(16)] == [1.0] * 16


def test_inside_a_running_event_loop(verifier, strict, slow_answer):
    async def main() -> list[dict]:
        direct = await verifier.acall(solution_str=r"\boxed{x+x}", ground_truth="2x")
        threaded = await asyncio.to_thread(verifier, solution_str=r"\boxed{6}", ground_truth="6")
        timed_out = await strict.acall(solution_str=slow_answer, ground_truth="7")
        return [direct, threaded, timed_out]

    direct, threaded, timed_out = asyncio.run(main())
    assert direct["acc"] == 1.0 and threaded["acc"] == 1.0 and timed_out["timeout"] == 1.0


def test_averify_does_not_block_the_loop(slow_answer, run_counting_ticks):
    fresh = OutcomeVerifier(timeout_s=BUDGET_S, cache_size=0)
    verdict, ticks = asyncio.run(run_counting_ticks(fresh.averify("5", slow_answer)))
    assert verdict.status is OutcomeStatus.TIMEOUT and ticks >= 20


def test_pickle_round_trip_then_use(verifier):
    copy = pickle.loads(pickle.dumps(verifier))
    assert copy.config == verifier.config
    assert copy(solution_str=r"\boxed{9}", ground_truth="9")["acc"] == 1.0


def test_ready_instance_and_per_call_settings():
    assert outcome(solution_str=r"\boxed{1} then \boxed{2}", ground_truth="2")["acc"] == 1.0
    first = outcome(
        solution_str=r"\boxed{1} then \boxed{2}", ground_truth="2", extraction="first_box"
    )
    assert first["acc"] == 0.0 and first["pred"] == "1"


@pytest.mark.parametrize(
    "settings",
    [
        {"timeout_s": 0},  # no budget
        {"extraction": "middle_box"},  # unknown mode
        {"workers": 0},  # no workers
        {"no_answer_score": float("nan")},  # not a number
        {"timeoutt_s": 5},  # misspelt
    ],
)
def test_bad_settings_name_the_value(settings):
    with pytest.raises(ConfigError, match=next(iter(settings)).rstrip("t")[:6]):
        OutcomeVerifier(**settings)


def test_import_stays_light():
    import subprocess
    import sys

    code = (
        "import sys, rlsp_rewards.outcome; "
        "print([m for m in ('sympy', 'math_verify', 'torch', 'httpx') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_first_check_in_a_fresh_process_is_not_charged_the_pool_start():
    # A fresh Ray worker or trainer process: the first full check starts the worker pool (seconds
    # on a busy host). That one-time start must not turn a correct answer into a timeout, even
    # with a budget far below the start-up time.
    import subprocess
    import sys

    code = (
        "from rlsp_rewards.outcome.verifier import OutcomeVerifier\n"
        "v = OutcomeVerifier(timeout_s=0.5, workers=1)\n"
        "print(v.verify(r'\\log_2 8', r'\\boxed{3}').status.value)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert out.stdout.strip() == "correct", out.stderr[-2000:]


LATEX_ISH = st.lists(
    st.sampled_from(
        [
            *list("\\{}$()[],.^_=+-*/ 0123456789xye"),
            r"\boxed{",
            r"\frac{",
            r"\sqrt{",
            r"\(",
            r"\[",
            r"\infty",
            r"\pi",
            "Answer: ",
            "####",
        ]
    ),
    max_size=60,
).map("".join)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    gold=st.one_of(st.none(), st.integers(), LATEX_ISH, st.lists(LATEX_ISH, max_size=2)),
    response=st.one_of(LATEX_ISH, st.binary(max_size=64), st.none()),
)
def test_fuzz_any_input_gets_the_fixed_keys_within_budget(strict, gold, response):
    started = time.monotonic()
    result = strict(data_source="fuzz", solution_str=response, ground_truth=gold)
    assert time.monotonic() - started < BUDGET_S + SLACK_S
    assert_contract(result)
    assert result["error"] == 0.0


def test_busy_workers_do_not_stretch_a_callers_budget(strict, slow_answer):
    """Six slow checks at once on fewer workers: each call still returns within its budget."""
    durations: dict[int, tuple[float, float]] = {}

    def call(i: int) -> None:
        started = time.monotonic()
        result = strict(solution_str=slow_answer, ground_truth=str(100 + i))  # distinct checks
        durations[i] = (time.monotonic() - started, result["timeout"])

    threads = [threading.Thread(target=call, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(seconds < BUDGET_S + SLACK_S for seconds, _ in durations.values()), durations
    assert all(timeout == 1.0 for _, timeout in durations.values())


_COLD_START = r"""
import time
from rlsp_rewards.outcome.verifier import OutcomeVerifier
from rlsp_rewards.workers import shared_pools

verifier = OutcomeVerifier()
assert not shared_pools()
print(verifier.verify("4", r"\boxed{4}").status.value)  # decided in the caller
pools = shared_pools()
print(len(pools), pools[0].started if pools else None)  # starting, and nobody waited for it
waited = time.monotonic()
while pools and not pools[0].started and time.monotonic() - waited < 120:
    time.sleep(0.05)
print(bool(pools) and pools[0].started)
"""


def test_the_pool_starts_in_the_background_at_the_first_call():
    # Cold start: the pool used to start only when the first check needed a worker, and every
    # thread that needed one then waited for the whole start. Now the first call of any kind
    # starts it in the background, and a call decided in the caller does not wait for it.
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-c", _COLD_START], capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split("\n")[:3] == ["correct", "1 False", "True"]
