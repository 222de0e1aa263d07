"""The shared result contract and the base reward: fixed keys, the guard, settings, pickling."""

from __future__ import annotations

import asyncio
import math
import pickle
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from rlsp_rewards.core import (
    NUMERIC_KEYS,
    RESULT_KEYS,
    Reward,
    RewardConfig,
    RewardResult,
    Sample,
)
from rlsp_rewards.errors import ConfigError


class EchoConfig(RewardConfig):
    bonus: float = 0.0
    mode: str = "plain"


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no str")


class EchoReward(Reward):
    """Scores len(response) + bonus; raises on the response 'boom'; NaN on 'nan'."""

    config_class = EchoConfig

    def score(self, sample: Sample) -> RewardResult:
        if sample.response == "boom":
            raise RuntimeError("exploded")
        if sample.response == "unprintable":
            raise Unprintable()
        if sample.response == "nan":
            return RewardResult(score=math.nan)
        return RewardResult(score=len(sample.response) + self.config.bonus, pred=sample.response)


class NotAResult(Reward):
    config_class = EchoConfig

    def score(self, sample: Sample) -> RewardResult:
        return {"score": 1.0}  # type: ignore[return-value]


def test_result_keys_are_fixed_and_ordered() -> None:
    assert RESULT_KEYS[:2] == ("score", "acc")
    assert RESULT_KEYS[-1] == "pred"
    assert set(NUMERIC_KEYS) == set(RESULT_KEYS) - {"pred"}
    d = RewardResult().to_dict()
    assert tuple(d) == RESULT_KEYS
    assert all(type(d[k]) is float for k in NUMERIC_KEYS)


@pytest.mark.parametrize(
    "response, expected_score, expected_error",
    [
        ("abc", 3.0, 0.0),  # normal path
        ("boom", 0.0, 1.0),  # an exception becomes the error score and flag
        ("nan", 0.0, 1.0),  # a non-finite score is a failure, never passed on
        ("unprintable", 0.0, 1.0),  # an exception whose str() raises is still only logged
    ],
)
def test_guard(response: str, expected_score: float, expected_error: float) -> None:
    out = EchoReward()(data_source="t", solution_str=response, ground_truth="x")
    assert tuple(out) == RESULT_KEYS
    assert out["score"] == expected_score
    assert out["error"] == expected_error


def test_wrong_result_type_is_a_failure() -> None:
    out = NotAResult()(solution_str="x")
    assert out["error"] == 1.0 and tuple(out) == RESULT_KEYS


@pytest.mark.parametrize(
    "solution_str, expected",
    [
        (None, ""),  # None is an empty response
        (b"caf\xc3\xa9 \xff", "café \ufffd"),  # bytes are decoded leniently
        (42, "42"),  # anything else through str()
    ],
)
def test_sample_coerces_response(solution_str: object, expected: str) -> None:
    assert Sample.from_call(solution_str=solution_str).response == expected


@pytest.mark.parametrize(
    "kwargs, extra_info, expected",
    [
        ({"response_tokens": 12}, None, 12),  # explicit keyword wins
        ({}, {"response_tokens": "7"}, 7),  # from extra_info, coerced
        ({"response_tokens": -3}, None, None),  # nonsense is ignored
        ({"response_tokens": "many"}, None, None),
    ],
)
def test_sample_token_count(kwargs: dict, extra_info: dict | None, expected: int | None) -> None:
    assert (
        Sample.from_call(solution_str="x", extra_info=extra_info, **kwargs).response_tokens
        == expected
    )


def test_sample_kwargs_are_not_settings() -> None:
    out = EchoReward()(
        solution_str="ab",
        prompt="p",
        response_tokens=3,
        reward_router_address="h:1",
        reward_model_tokenizer=None,
    )
    assert out["score"] == 2.0


def test_per_call_settings_are_cached_and_validated() -> None:
    reward = EchoReward()
    assert reward(solution_str="ab", bonus=1)["score"] == 3.0
    assert reward.with_settings(bonus=1) is reward.with_settings(bonus=1)
    assert reward.with_settings() is reward
    with pytest.raises(ConfigError, match=r"unknown setting 'colour'.*known: bonus, mode"):
        reward(solution_str="ab", colour="red")
    with pytest.raises(ConfigError, match="bonus='lots'"):
        EchoReward(bonus="lots")


def test_config_of_the_wrong_class_is_rejected() -> None:
    with pytest.raises(ConfigError, match="takes a EchoConfig"):
        EchoReward(RewardConfig())


def test_pickle_round_trip_keeps_settings() -> None:
    reward = EchoReward(bonus=2.5)
    reward.with_settings(bonus=1)  # populated variant cache must not break pickling
    clone = pickle.loads(pickle.dumps(reward))
    assert clone.config == reward.config
    assert clone(solution_str="a")["score"] == 3.5


def test_async_call_and_threads() -> None:
    reward = EchoReward()
    assert asyncio.run(reward.acall(solution_str="abcd"))["score"] == 4.0
    assert asyncio.run(reward.acall(solution_str="boom"))["error"] == 1.0
    results: list[float] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(reward(solution_str="xyz", bonus=1)["score"])
        )
        for _ in range(16)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [4.0] * 16


def test_score_batch_never_raises() -> None:
    results = EchoReward().score_batch([Sample("a"), Sample("boom"), Sample("nan")])
    assert [r.error for r in results] == [0.0, 1.0, 1.0]


def test_package_import_stays_light() -> None:
    # `import rlsp_rewards` runs in every trainer process and Ray worker: nothing heavy at import.
    import subprocess
    import sys

    heavy = (
        "sympy",
        "math_verify",
        "torch",
        "numpy",
        "transformers",
        "verl",
        "openrlhf",
        "httpx",
        "aiohttp",
        "httptools",
        "fastapi",
        "asyncio",
        "multiprocessing",
        "rlsp_rewards.outcome.grade",
        "rlsp_rewards.outcome.values",
        "rlsp_rewards.outcome.screen",
    )
    code = (
        "import sys, rlsp_rewards; rlsp_rewards.combined; "
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_package_names_are_the_ready_instances() -> None:
    # Importing the submodules must not replace the instances of the same names.
    import rlsp_rewards
    import rlsp_rewards.exploration.length
    import rlsp_rewards.judge
    import rlsp_rewards.judge.reward
    import rlsp_rewards.outcome
    import rlsp_rewards.outcome.grade
    import rlsp_rewards.outcome.verifier

    assert isinstance(rlsp_rewards.outcome, rlsp_rewards.OutcomeVerifier)
    assert isinstance(rlsp_rewards.judge, rlsp_rewards.JudgeExploration)
    assert isinstance(rlsp_rewards.length, rlsp_rewards.LengthExploration)
    assert isinstance(rlsp_rewards.combined, rlsp_rewards.RlspReward)
    assert rlsp_rewards.combined.config.preset == "paper"


@pytest.mark.parametrize(
    "field_value, expected, finite",
    [
        (math.inf, 0.0, False),  # non-finite numbers never reach the trainer
        (math.nan, 0.0, False),
        ("2.5", 2.5, True),  # a numeric string is still a number
        ("oops", 0.0, False),  # anything else becomes 0.0 rather than an exception
    ],
)
def test_to_dict_is_always_finite_floats(
    field_value: object, expected: float, finite: bool
) -> None:
    result = RewardResult(score=1.0, judge_grade=field_value)  # type: ignore[arg-type]
    d = result.to_dict()
    assert d["judge_grade"] == expected and d["score"] == 1.0
    assert all(type(d[k]) is float for k in NUMERIC_KEYS)
    assert result.is_finite() is finite


class FakeListConfig(Sequence):
    """Stands in for OmegaConf's ListConfig: a Sequence, but not a list (no omegaconf here)."""

    def __init__(self, items: list) -> None:
        self._items = items

    def __getitem__(self, i):  # type: ignore[no-untyped-def]
        return self._items[i]

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"FakeListConfig at {id(self):#x}"  # like a live object: differs per instance


class FakeDictConfig(Mapping):
    """Stands in for OmegaConf's DictConfig: a Mapping, but not a dict."""

    def __init__(self, items: dict) -> None:
        self._items = items

    def __getitem__(self, key):  # type: ignore[no-untyped-def]
        return self._items[key]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"FakeDictConfig at {id(self):#x}"


class ContainerConfig(EchoConfig):
    tags: list[str] = []  # noqa: RUF012  (pydantic copies field defaults)
    weights: dict[str, float] = {}  # noqa: RUF012
    anything: Any = None


class ContainerReward(EchoReward):
    config_class = ContainerConfig  # type: ignore[assignment]


@pytest.mark.parametrize(
    "name, value, expected",
    [
        # verl's naive manager passes reward_kwargs lists/dicts as OmegaConf containers; settings
        # must hold plain containers (picklable without omegaconf, equal to the plain spelling)
        ("tags", FakeListConfig(["a", "b"]), ["a", "b"]),
        ("weights", FakeDictConfig({"x": 1.5}), {"x": 1.5}),
        (
            "anything",
            FakeDictConfig({"k": FakeListConfig([1, FakeDictConfig({"n": 2})])}),
            {"k": [1, {"n": 2}]},
        ),  # recursively, even where the field's type would keep them
        ("anything", FakeListConfig(["s", b"b", ("t", 1)]), ["s", b"b", ("t", 1)]),  # text stays
    ],
)
def test_container_settings_become_plain_python(name: str, value: object, expected: object) -> None:
    def plain_types(v: object) -> bool:
        if isinstance(v, dict):
            return all(plain_types(x) for x in v.values())
        if isinstance(v, (list, tuple)):
            return all(plain_types(x) for x in v)
        return not isinstance(v, (FakeListConfig, FakeDictConfig))

    reward = ContainerReward()
    for built in (reward.with_settings(**{name: value}), ContainerReward(**{name: value})):
        got = getattr(built.config, name)
        assert got == expected and plain_types(got)
    # the same settings given as an OmegaConf-like container or plainly share one cached variant
    again = type(value)(value._items)  # type: ignore[attr-defined]
    assert reward.with_settings(**{name: value}) is reward.with_settings(**{name: again})
    assert reward.with_settings(**{name: value}) is reward.with_settings(**{name: expected})
    out = reward(solution_str="ab", **{name: value})  # per call, as verl passes reward_kwargs
    assert out["score"] == 2.0


def test_unreadable_container_setting_is_a_config_error() -> None:
    class Broken(FakeDictConfig):
        def __getitem__(self, key):  # type: ignore[no-untyped-def]
            raise KeyError("missing mandatory value")  # like OmegaConf's '???'

    with pytest.raises(ConfigError, match="anything"):
        ContainerReward()(solution_str="ab", anything=Broken({"k": 1}))


@pytest.mark.parametrize(
    "pred, expected",
    [
        ("42", "42"),  # the normal case
        (None, ""),  # a reward that leaves pred unset must still return a string
        (42, "42"),  # a number as the answer
        (b"4\xff", "4\ufffd"),  # bytes, decoded leniently
    ],
)
def test_pred_is_always_a_plain_string(pred: object, expected: str) -> None:
    d = RewardResult(score=1.0, pred=pred).to_dict()  # type: ignore[arg-type]
    assert type(d["pred"]) is str and d["pred"] == expected


class HostileMapping(Mapping):
    """A Mapping whose reads raise (an OmegaConf DictConfig with a '???' value does)."""

    def __getitem__(self, key):  # type: ignore[no-untyped-def]
        raise RuntimeError("missing mandatory value")

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(["response_tokens"])

    def __len__(self) -> int:
        return 1


class Hostile:
    """Every conversion raises."""

    def __int__(self) -> int:
        raise RuntimeError("no int")

    def __index__(self) -> int:
        raise RuntimeError("no index")

    def __bool__(self) -> bool:
        raise RuntimeError("no bool")

    def __str__(self) -> str:
        raise RuntimeError("no str")


@pytest.mark.parametrize(
    "kwargs, tokens, judge_url",
    [
        # the sample is read before the guard: nothing in it may raise into the trainer
        ({"extra_info": HostileMapping()}, None, None),  # extra_info whose reads raise
        ({"response_tokens": Hostile()}, None, None),  # a count whose __int__ raises
        ({"reward_router_address": Hostile()}, None, None),  # an address whose __bool__ raises
        ({"reward_router_address": "h:1"}, None, "h:1"),  # the normal address
        ({"reward_router_address": 7}, None, "7"),  # the address is text, whatever came
        ({"response_tokens": 3.0, "reward_router_address": ""}, 3, None),
    ],
)
def test_sample_from_hostile_call_never_raises(
    kwargs: dict, tokens: object, judge_url: object
) -> None:
    sample = Sample.from_call(solution_str="ab", **kwargs)
    assert sample.response_tokens == tokens and sample.judge_url == judge_url
    out = EchoReward()(solution_str="ab", **kwargs)
    assert tuple(out) == RESULT_KEYS and out["score"] == 2.0


class PanicException(BaseException):
    """What pyo3 raises when Rust code panics (not an Exception)."""


@pytest.mark.parametrize(
    ("failure", "contained"),
    [
        (ValueError("bad"), True),  # an ordinary failure: the error result
        (PanicException("rust panicked"), True),  # a Rust panic: the error result too
        (KeyboardInterrupt(), False),  # the user's interrupt is never swallowed
    ],
)
def test_the_guard_contains_panics_but_not_interrupts(
    failure: BaseException, contained: bool
) -> None:
    from rlsp_rewards.exploration.length import LengthExploration

    class Failing(LengthExploration):
        def score(self, sample: Sample) -> RewardResult:
            raise failure

        async def ascore(self, sample: Sample) -> RewardResult:
            raise failure

    reward = Failing()
    if not contained:
        with pytest.raises(type(failure)):
            reward(solution_str="x")
        return
    assert reward(solution_str="x")["error"] == 1.0
    assert asyncio.run(reward.acall(solution_str="x"))["error"] == 1.0
