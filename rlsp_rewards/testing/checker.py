"""The contract check itself: :func:`check_reward`, :func:`assert_reward_contract`, the run.

A :class:`Checker` makes every call of a run (each input alone, then one batch for OpenRLHF and
TRL), checks what each call did (the signature, exceptions, sync or async, the time budget) and
records every problem once, naming the inputs it happened on; :mod:`.returns` checks the return
values and :mod:`.threads` the concurrent calls. It stops calling a reward that hung twice.

Example:
    >>> check_reward(lambda **kw: {"score": 1.0, "acc": 1.0}, framework="verl").failed_checks
    ['pickle']
"""

from __future__ import annotations

import dataclasses
import inspect
import pickle
import re
from collections.abc import Callable, Sequence
from typing import Any, Literal

from rlsp_rewards.errors import ConfigError
from rlsp_rewards.testing.calls import Call, run_in_thread
from rlsp_rewards.testing.cases import CASES, Case
from rlsp_rewards.testing.frameworks import FRAMEWORKS, Framework, call_shape, invoke, is_async
from rlsp_rewards.testing.report import CHECKS, ContractReport, Problem
from rlsp_rewards.testing.returns import check_keys, check_value
from rlsp_rewards.testing.threads import check_threads
from rlsp_rewards.testing.values import exc_text, plain, same

__all__ = ["Checker", "assert_reward_contract", "check_reward"]

#: How Python words a call that does not fit the signature.
_SIGNATURE_ERROR = re.compile(r"unexpected keyword|positional argument|required .*argument")
_BATCH = 4  # OpenRLHF and TRL: one extra call with this many samples checks the return lengths


def check_reward(
    fn: Callable[..., Any],
    framework: Framework = "verl",
    budget_s: float = 10.0,
    cases: Sequence[Case] = CASES,
    name: str | None = None,
    data_source: str = "math",
) -> ContractReport:
    """Call ``fn`` the way ``framework`` does on a battery of inputs and report every breach.

    verl calls ``fn(data_source=, solution_str=, ground_truth=, extra_info=)`` by keyword and
    takes a number or a dict with ``score`` (sync, or ``async def``). OpenRLHF calls
    ``fn(queries, prompts, labels)`` positionally from a worker thread, never awaits, and reads
    ``{"rewards", "scores", "extra_logs"}`` of lists or tensors (torch is not needed here). TRL's
    ``GRPOTrainer`` calls ``fn(prompts=, completions=, completion_ids=, solution=, ...)`` by
    keyword on a batch, with the dataset's columns (the gold as ``solution`` here) and
    ``trainer_state``, ``log_extra``, ``log_metric``; it awaits an ``async`` function (or an
    object with an ``async def __call__``) and reads a list of one number or ``None`` per
    completion.

    Args:
        fn: the reward function or callable object.
        framework: ``"verl"``, ``"openrlhf"`` or ``"trl"``.
        budget_s: the most one call may take, in seconds.
        cases: the inputs (default :data:`CASES`).
        name: how the report names the reward (default: its qualified name).
        data_source: the ``data_source`` verl passes (rewards often dispatch on it).

    Returns:
        The report; ``report.ok`` is True when nothing failed.

    Raises:
        ConfigError: for an unknown framework or a budget that is not positive.

    Example:
        >>> check_reward(lambda **kw: 0.0, framework="verl").failed_checks
        ['pickle']
    """
    if framework not in FRAMEWORKS:
        raise ConfigError(f"framework must be one of {', '.join(FRAMEWORKS)}, got {framework!r}")
    if not budget_s > 0:
        raise ConfigError(f"budget_s must be > 0 seconds (e.g. 10), got {budget_s!r}")
    if not cases:
        raise ConfigError("cases must not be empty: pass at least one Case (default: CASES)")
    target = name or getattr(fn, "__qualname__", None) or type(fn).__name__
    return Checker(fn, framework, budget_s, tuple(cases), data_source).run(target)


def assert_reward_contract(
    fn: Callable[..., Any], framework: Framework = "verl", budget_s: float = 10.0, **options: Any
) -> ContractReport:
    """The pytest helper: :func:`check_reward`, raising ``AssertionError`` with the report.

    ``options`` go to :func:`check_reward` (``cases``, ``name``, ``data_source``).

    Returns:
        The report, when every check passed (warnings allowed).

    Raises:
        AssertionError: with the plain-words report, when a check failed.

    Example:
        >>> assert_reward_contract(lambda **kw: 1.0)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        AssertionError: Reward contract of <lambda> for verl: FAILED ...
    """
    report = check_reward(fn, framework=framework, budget_s=budget_s, **options)
    if not report.ok:
        raise AssertionError(str(report))
    return report


class Checker:
    """One run of the checks on one reward (see :func:`check_reward` for the arguments).

    Example:
        >>> checker = Checker(lambda **kw: 1.0, "verl", 10.0, CASES[:1], "math")
        >>> report = checker.run("one")
        >>> report.calls, report.failed_checks
        (9, ['pickle'])
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        framework: str,
        budget_s: float,
        cases: tuple[Case, ...],
        data_source: str,
    ) -> None:
        self.fn = fn
        self.framework = framework
        self.budget_s = budget_s
        self.limit_s = 3 * budget_s + 2
        self.cases = cases
        self.data_source = data_source
        self.problems: list[Problem] = []
        self.calls = 0
        self.slowest_s = 0.0
        self.slowest_input = ""
        self.hangs = 0
        self.key_sets: list[tuple[str | None, frozenset[str] | None]] = []
        self.where: str | None = None  # the input being called, named by the problems it causes

    def timed(self, where: str | None, seconds: float) -> None:
        if seconds > self.slowest_s:
            self.slowest_s, self.slowest_input = seconds, where or ""

    def problem(self, check: str, message: str, severity: Literal["fail", "warn"] = "fail") -> None:
        """Record a problem; the same problem on several inputs is one entry naming them all."""
        inputs = (self.where,) if self.where else ()
        for i, known in enumerate(self.problems):
            if (known.check, known.message, known.severity) == (check, message, severity):
                if inputs and inputs[0] not in known.inputs:
                    self.problems[i] = dataclasses.replace(known, inputs=known.inputs + inputs)
                return
        self.problems.append(Problem(check, message, severity, inputs))

    def run(self, target: str) -> ContractReport:
        self.check_signature()
        results: dict[str, Any] = {}
        for case in self.cases:
            call = self.call(self.fn, [case])
            if call is not None:
                results[case.name] = call.value
        if self.framework in ("openrlhf", "trl") and self.hangs < 2:
            self.call(self.fn, [self.cases[i % len(self.cases)] for i in range(_BATCH)])
        check_keys(self)
        if self.hangs < 2:
            check_threads(self, results)
            self.check_pickle(results)
        else:
            self.problem("threads", "skipped: the reward hung twice", "warn")
        order = list(CHECKS)
        problems = sorted(self.problems, key=lambda p: order.index(p.check))
        return ContractReport(
            target,
            self.framework,
            self.budget_s,
            tuple(problems),
            self.calls,
            self.slowest_s,
            self.slowest_input,
        )

    # -- one call, checked -----------------------------------------------------------------

    def call(self, fn: Callable[..., Any], batch: list[Case], record: bool = True) -> Call | None:
        """Make one call; record its problems; None when it gave no usable value."""
        if self.hangs >= 2:
            return None
        self.where = batch[0].name if len(batch) == 1 else f"a batch of {len(batch)}"
        try:
            return self.checked_call(fn, batch, record)
        finally:
            self.where = None

    def checked_call(self, fn: Callable[..., Any], batch: list[Case], record: bool) -> Call | None:
        result = run_in_thread(invoke(self.framework, fn, batch, self.data_source), self.limit_s)
        self.calls += 1
        self.timed(self.where, result.seconds)
        if result.hung:
            self.hangs += 1
            self.problem(
                "budget",
                f"never returned (abandoned after {self.limit_s:g} s); a hung reward "
                "stalls the trainer: bound the work with a killable process, not a signal",
            )
            return None
        if result.seconds > self.budget_s:
            self.problem("budget", f"took longer than the {self.budget_s:g} s budget")
        if result.awaited:
            self.check_awaitable()
        if result.exc is not None:
            self.report_exception(result.exc)
            return None
        if record:
            check_value(self, plain(result.value), len(batch))
        result.value = plain(result.value)
        return result

    def check_awaitable(self) -> None:
        if self.framework == "openrlhf":
            self.problem(
                "async",
                "returns a coroutine: OpenRLHF calls reward_func in a worker thread and never "
                "awaits it; the coroutine is logged at INFO and the reward becomes None. "
                "Make reward_func a plain (sync) function",
            )
        elif self.framework == "trl":
            if not is_async(self.fn):
                self.problem(
                    "async",
                    "returned an awaitable from a sync function: TRL awaits only `async def` "
                    "functions and objects with an `async def __call__`, and fails on the "
                    "coroutine object. Make it `async def`",
                )
        elif not inspect.iscoroutinefunction(self.fn):
            self.problem(
                "async",
                "returned an awaitable, but verl awaits only `async def` functions "
                "(inspect.iscoroutinefunction) and would take the coroutine object as the score. "
                "Use an `async def` function, or a sync __call__",
            )

    def report_exception(self, exc: BaseException) -> None:
        text = exc_text(exc)
        detail = f"{type(exc).__name__}: {text[:160]}"
        if isinstance(exc, ValueError) and "main thread" in text:
            detail += " (signal-based timeouts fail in the frameworks' worker threads)"
        elif isinstance(exc, TypeError) and _SIGNATURE_ERROR.search(text):
            detail += f" (the call was {call_shape(self.framework)})"
        consequence = {
            "verl": "verl's reward worker crashes the step",
            "openrlhf": "OpenRLHF logs it at INFO and the reward becomes None, crashing the "
            "trainer later",
            "trl": "TRL's trainer stops at that step",
        }[self.framework]
        self.problem("exceptions", f"raised {detail}; {consequence}")

    # -- signature ---------------------------------------------------------------------------

    def check_signature(self) -> None:
        try:
            signature = inspect.signature(self.fn)
        except (TypeError, ValueError):
            return  # builtins and C callables: the calls themselves will tell
        params = signature.parameters.values()
        if self.framework == "openrlhf":
            if is_async(self.fn):
                self.problem(
                    "async",
                    "is `async def`: OpenRLHF calls reward_func synchronously from a worker thread "
                    "and gets a coroutine, which it logs at INFO and turns into a None reward",
                )
            return
        if self.framework == "trl":
            if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
                self.problem(
                    "signature",
                    "takes no **kwargs: TRL passes every dataset column, trainer_state, "
                    "log_extra and log_metric as keywords",
                )
            return
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
            self.problem(
                "signature",
                "takes no **kwargs: verl adds reward_router_address= and reward_model_tokenizer= "
                "when a reward model is on, and every reward_kwargs entry, as keywords",
                "warn",
            )

    # -- a pickled copy ----------------------------------------------------------------------

    def check_pickle(self, results: dict[str, Any]) -> None:
        try:
            clone = pickle.loads(pickle.dumps(self.fn))
        except Exception as exc:
            self.problem(
                "pickle",
                f"cannot be pickled ({type(exc).__name__}: {exc_text(exc)[:120]}); Ray and "
                "process pools pickle rewards: define it at module level of an installed module "
                "(no lambda, closure or local class; a file loaded by path is not importable by "
                "the workers), and keep locks, clients and pools out of its pickled state",
            )
            return
        case = next((c for c in self.cases if c.name in results), None)
        if case is None:
            return
        again = self.call(clone, [case], record=False)
        if again is not None and not same(again.value, results[case.name]):
            self.problem("pickle", f"the unpickled copy gives a different result on {case.name!r}")
