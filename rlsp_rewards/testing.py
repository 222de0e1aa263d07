"""The reward contract checker: what verl, OpenRLHF and TRL silently require of a reward.

Frameworks punish small contract breaches without saying so: verl drops or ``KeyError``s on
keys that vary between samples, OpenRLHF turns an exception or a coroutine into a ``None``
reward and crashes later, TRL stops the step on a list of the wrong length, Ray and TRL's
spawned rollout worker fail on a closure. :func:`check_reward` calls any reward on a
battery of awkward inputs (normal, empty, ``None``, huge, unicode, adversarial LaTeX,
unparseable gold, binary junk), the way the framework would, and reports every breach in plain
words; :func:`assert_reward_contract` is the pytest helper.

Every call runs in a worker thread, as in verl and OpenRLHF (so a reward that relies on
a SIGALRM timer fails here too), and a call that never returns is abandoned after
``3 * budget_s + 2`` seconds: the checker itself never hangs.

Example:
    >>> report = check_reward(lambda **kw: {"score": 1.0}, framework="verl")
    >>> report.ok, report.failed_checks
    (False, ['pickle'])
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import math
import numbers
import pickle
import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from rlsp_rewards.errors import ConfigError

if TYPE_CHECKING:
    from rich.table import Table

__all__ = [
    "CASES",
    "Case",
    "ContractReport",
    "Problem",
    "assert_reward_contract",
    "check_reward",
    "load_target",
]

Framework = Literal["verl", "openrlhf", "trl"]
FRAMEWORKS: tuple[str, ...] = ("verl", "openrlhf", "trl")

#: The checks, in report order, with the promise each one verifies.
CHECKS: dict[str, str] = {
    "signature": "accepts the call",
    "exceptions": "never raises",
    "async": "sync/async as called",
    "shape": "return shape",
    "keys": "same keys every time",
    "values": "finite numbers only",
    "budget": "time budget",
    "threads": "8 threads at once",
    "pickle": "picklable (Ray, pools)",
}

_PROMPT = "What is 1 + 1? Put the final answer in \\boxed{}."
_HUGE = "Let me think about this step by step. " * 10_000 + "So the answer is \\boxed{2}."
_JUNK = "".join(map(chr, range(256))) * 8 + "\x00\\boxed{\x00\x07}\ufffd"


@dataclasses.dataclass(frozen=True)
class Case:
    """One input of the battery: a response, a gold answer and the prompt they belong to.

    Example:
        >>> Case("empty response", "", "2").response
        ''
    """

    name: str
    response: str | None
    gold: Any
    prompt: str = _PROMPT


#: The battery of inputs every reward is called on, in order.
CASES: tuple[Case, ...] = (
    Case("correct answer", "1 + 1 = 2, so the answer is \\boxed{2}.", "2"),
    Case("wrong answer", "1 + 1 = 3, so the answer is \\boxed{3}.", "2"),
    Case("equivalent form", "Half of one is \\boxed{0.5}.", "\\frac{1}{2}"),
    Case("worked-solution gold", "The sum is \\boxed{2}.", "Adding gives $1+1=\\boxed{2}$."),
    Case("numeric gold", "The answer is \\boxed{2}.", 2),
    Case("list gold", "The answer is \\boxed{2}.", ["2", "two"]),
    Case("no final answer", "I am not sure how to do this.", "2"),
    Case("truncated response", "Let me compute. So x = \\boxed{\\frac{1", "2"),
    Case("empty response", "", "2"),
    Case("None response", None, "2"),
    Case("None gold", "The answer is \\boxed{2}.", None),
    Case("unparseable gold", "The answer is \\boxed{2}.", "\\frac{{}}{\\left( ]]"),
    Case("huge response", _HUGE, "2"),
    Case("unicode", "Rechnung: 1 + 1 = ２ ✓ 😀 数学 \u200b\u202eעברית\u202c \\boxed{２}", "2"),
    Case("nested LaTeX", "\\boxed{" + "\\frac{1}{" * 300 + "2" + "}" * 301, "2"),
    Case("unbalanced LaTeX", "\\boxed{\\sqrt{\\frac{1}{2" + "{" * 5000, "2"),
    Case("power tower", "\\boxed{9^{9^{9^{9^{9}}}}}", "9^{9^{9^{9^{9}}}}"),
    Case("binary junk", _JUNK, "2"),
)

#: The cases called concurrently for the thread check (answers that differ, so mix-ups show).
_THREAD_CASES = ("correct answer", "wrong answer", "equivalent form", "no final answer")
_THREADS = 8
#: How Python words a call that does not fit the signature.
_SIGNATURE_ERROR = re.compile(r"unexpected keyword|positional argument|required .*argument")
_BATCH = 4  # OpenRLHF and TRL: one extra call with this many samples checks the return lengths
#: The keywords TRL's GRPOTrainer adds to every call besides the dataset's columns.
_TRL_KWARGS = ("trainer_state", "log_extra", "log_metric")


@dataclasses.dataclass(frozen=True)
class Problem:
    """One breach of the contract (``severity="fail"``) or a risk worth knowing (``"warn"``).

    Example:
        >>> Problem("pickle", "cannot be pickled").severity
        'fail'
    """

    check: str
    message: str
    severity: Literal["fail", "warn"] = "fail"
    inputs: tuple[str, ...] = ()  #: the inputs it happened on (empty: not tied to an input)

    def __str__(self) -> str:
        if not self.inputs:
            return self.message
        shown = ", ".join(repr(name) for name in self.inputs[:3])
        more = f" and {len(self.inputs) - 3} more" if len(self.inputs) > 3 else ""
        return f"on {shown}{more}: {self.message}"


@dataclasses.dataclass(frozen=True)
class ContractReport:
    """What :func:`check_reward` found; ``str(report)`` is the plain-words report.

    Attributes:
        target: the name of the reward that was checked.
        framework: ``"verl"``, ``"openrlhf"`` or ``"trl"``.
        budget_s: the per-call time budget used.
        problems: every breach and warning, in check order.
        calls: how many calls were made.
        slowest_s: the slowest single call, in seconds.
        slowest_input: the input of that call.

    Example:
        >>> report = ContractReport("f", "verl", 10.0, (Problem("keys", "varies"),), 3, 0.1)
        >>> report.ok, report.failed_checks
        (False, ['keys'])
    """

    target: str
    framework: str
    budget_s: float
    problems: tuple[Problem, ...]
    calls: int
    slowest_s: float
    slowest_input: str = ""

    @property
    def ok(self) -> bool:
        """True when no check failed (warnings allowed)."""
        return not self.failed_checks

    @property
    def failed_checks(self) -> list[str]:
        """The names of the checks that failed, in report order."""
        failed = {p.check for p in self.problems if p.severity == "fail"}
        return [c for c in CHECKS if c in failed]

    def rows(self) -> list[tuple[str, str, list[str]]]:
        """One ``(promise, "ok"|"FAIL"|"warn", messages)`` row per check, for tables."""
        rows = []
        for check, promise in CHECKS.items():
            found = [p for p in self.problems if p.check == check]
            status = "ok"
            if found:
                status = "FAIL" if any(p.severity == "fail" for p in found) else "warn"
            if check == "budget":
                promise = f"within {self.budget_s:g} s (slowest: {self.slowest_s:.2f} s"
                promise += f" on {self.slowest_input!r})" if self.slowest_input else ")"
            rows.append((promise, status, [str(p) for p in found]))
        return rows

    def headline(self) -> str:
        """The one-line verdict."""
        failed = len(self.failed_checks)
        verdict = "passed" if self.ok else f"FAILED ({failed} of {len(CHECKS)} checks)"
        return (
            f"Reward contract of {self.target} for {self.framework}: {verdict}, {self.calls} calls"
        )

    def table(self) -> Table:
        """The report as a rich table (rich is imported here, not at module level)."""
        from rich.table import Table

        headline = self.headline()
        table = Table(
            title=headline, title_justify="left", show_lines=True, min_width=len(headline)
        )
        table.add_column("check", max_width=34)
        table.add_column("result", justify="center")
        table.add_column("details", ratio=1)
        style = {"ok": "green", "warn": "yellow", "FAIL": "bold red"}
        for promise, status, messages in self.rows():
            details = "\n".join(f"- {m}" for m in messages)
            table.add_row(promise, f"[{style[status]}]{status}[/]", details)
        return table

    def __str__(self) -> str:
        lines = [self.headline()]
        for promise, status, messages in self.rows():
            lines.append(f"  {status:<4}  {promise}")
            lines.extend(f"          - {m}" for m in messages)
        return "\n".join(lines)


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
    return _Checker(fn, framework, budget_s, tuple(cases), data_source).run(target)


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


def load_target(spec: str) -> Callable[..., Any]:
    """The reward named by ``"package.module:name"`` or ``"path/to/file.py:name"``.

    A file is loaded the way verl and OpenRLHF load one: executed as a module that is *not*
    registered in ``sys.modules``, so its own functions cannot be pickled, as in the frameworks.
    ``name`` may be dotted (``module:obj.attr``).

    Raises:
        ConfigError: when the spec is malformed, or the module or name cannot be loaded.

    Example:
        >>> load_target("rlsp_rewards.testing:check_reward") is check_reward
        True
    """
    module_part, sep, name = spec.rpartition(":")
    if not sep or not module_part or not name:
        raise ConfigError(
            f"give the reward as module:name or path/to/file.py:name "
            f"(e.g. mypkg.rewards:my_reward), got {spec!r}"
        )
    try:
        obj: Any = _load_module(module_part)
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(
            f"cannot load {module_part!r}: {type(exc).__name__}: {str(exc)[:200]}"
        ) from None
    for part in name.split("."):
        if not hasattr(obj, part):
            raise ConfigError(f"{module_part!r} has no attribute {name!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ConfigError(f"{spec!r} is a {type(obj).__name__}, not a callable reward")
    return obj


def _load_module(module_part: str) -> Any:
    import importlib
    import importlib.util
    import os

    if module_part.endswith(".py") or os.sep in module_part or "/" in module_part:
        if not os.path.isfile(module_part):
            raise ConfigError(f"reward file {module_part!r} does not exist")
        unique = f"reward_file_{abs(hash(os.path.abspath(module_part)))}"
        spec = importlib.util.spec_from_file_location(unique, module_part)
        if spec is None or spec.loader is None:
            raise ConfigError(f"{module_part!r} is not a Python file")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    return importlib.import_module(module_part)


# -- calling ---------------------------------------------------------------------------------


@dataclasses.dataclass
class _Call:
    value: Any = None
    exc: BaseException | None = None
    seconds: float = 0.0
    hung: bool = False
    awaited: bool = False  # the call returned an awaitable, which was awaited to read it


def _run_in_thread(call: Callable[[], Any], limit_s: float) -> _Call:
    """Run ``call`` in a daemon thread; abandon it after ``limit_s`` (it may still run)."""
    out = _Call()

    def target() -> None:
        start = time.perf_counter()
        try:
            out.value, out.awaited = _resolve(call())
        except BaseException as exc:  # the report names it; nothing escapes the checker
            out.exc = exc
        out.seconds = time.perf_counter() - start

    thread = threading.Thread(target=target, name="reward-contract-call", daemon=True)
    thread.start()
    thread.join(limit_s)
    if thread.is_alive():
        return _Call(seconds=limit_s, hung=True)
    return out


def _resolve(value: Any) -> tuple[Any, bool]:
    if not inspect.isawaitable(value):
        return value, False

    async def wait() -> Any:
        return await value

    return asyncio.run(wait()), True


def _ignore(*args: Any) -> None:
    """Stands in for TRL's ``log_extra`` and ``log_metric`` callbacks."""


def _is_async(fn: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(type(fn).__call__)


def _templated_prompt(case: Case) -> str:
    """The prompt as OpenRLHF passes it: chat-templated, so the query starts with it."""
    return f"<|im_start|>user\n{case.prompt}<|im_end|>\n<|im_start|>assistant\n"


def _query(case: Case) -> str:
    response = case.response if case.response is not None else ""
    return f"{_templated_prompt(case)}{response}<|im_end|>"


def _plain(value: Any) -> Any:
    """Tensors and arrays as Python lists and numbers, dicts and sequences recursively."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (str, bytes)):
        return value
    if hasattr(value, "tolist"):  # torch tensors, numpy arrays and scalars
        try:
            return value.tolist()
        except Exception:
            return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if _is_number(a) and _is_number(b):
        x, y = float(a), float(b)
        return (math.isnan(x) and math.isnan(y)) or math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)
    return type(a) is type(b) and a == b


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real)


def _describe(keys: frozenset[str] | None) -> str:
    return "a bare number" if keys is None else "keys {" + ", ".join(sorted(keys)) + "}"


def _exc_text(exc: BaseException) -> str:
    """``str(exc)``, never raising: a reward's exception class may have a broken ``__str__``."""
    try:
        return str(exc)
    except Exception:
        return f"<unprintable {type(exc).__name__}>"


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Checker:
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
        self.check_keys()
        if self.hangs < 2:
            self.check_threads(results)
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

    def invoke(self, fn: Callable[..., Any], batch: list[Case]) -> Callable[[], Any]:
        if self.framework == "verl":
            case = batch[0]
            return lambda: fn(
                data_source=self.data_source,
                solution_str=case.response,
                ground_truth=case.gold,
                extra_info={"split": "test", "index": 0},
            )
        if self.framework == "trl":
            completions = [c.response or "" for c in batch]  # TRL decodes: never None
            return lambda: fn(
                prompts=[c.prompt for c in batch],
                completions=completions,
                completion_ids=[[0] * max(1, len(text) // 4) for text in completions],
                solution=[c.gold for c in batch],
                **dict.fromkeys(_TRL_KWARGS, _ignore),
            )
        queries = [_query(c) for c in batch]
        prompts = [_templated_prompt(c) for c in batch]
        labels = [c.gold for c in batch]
        return lambda: fn(queries, prompts, labels)

    def call(self, fn: Callable[..., Any], batch: list[Case], record: bool = True) -> _Call | None:
        """Make one call; record its problems; None when it gave no usable value."""
        if self.hangs >= 2:
            return None
        self.where = batch[0].name if len(batch) == 1 else f"a batch of {len(batch)}"
        try:
            return self.checked_call(fn, batch, record)
        finally:
            self.where = None

    def checked_call(self, fn: Callable[..., Any], batch: list[Case], record: bool) -> _Call | None:
        result = _run_in_thread(self.invoke(fn, batch), self.limit_s)
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
            self.check_value(_plain(result.value), len(batch))
        result.value = _plain(result.value)
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
            if not _is_async(self.fn):
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
        text = _exc_text(exc)
        detail = f"{type(exc).__name__}: {text[:160]}"
        if isinstance(exc, ValueError) and "main thread" in text:
            detail += " (signal-based timeouts fail in the frameworks' worker threads)"
        elif isinstance(exc, TypeError) and _SIGNATURE_ERROR.search(text):
            detail += f" (the call was {self.call_shape()})"
        consequence = {
            "verl": "verl's reward worker crashes the step",
            "openrlhf": "OpenRLHF logs it at INFO and the reward becomes None, crashing the "
            "trainer later",
            "trl": "TRL's trainer stops at that step",
        }[self.framework]
        self.problem("exceptions", f"raised {detail}; {consequence}")

    def call_shape(self) -> str:
        if self.framework == "verl":
            return "fn(data_source=..., solution_str=..., ground_truth=..., extra_info=...)"
        if self.framework == "trl":
            return "fn(prompts=..., completions=..., completion_ids=..., solution=..., " + (
                ", ".join(f"{k}=..." for k in _TRL_KWARGS) + ") with lists"
            )
        return "fn(queries, prompts, labels) with three lists"

    # -- signature ---------------------------------------------------------------------------

    def check_signature(self) -> None:
        try:
            signature = inspect.signature(self.fn)
        except (TypeError, ValueError):
            return  # builtins and C callables: the calls themselves will tell
        params = signature.parameters.values()
        if self.framework == "openrlhf":
            if _is_async(self.fn):
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

    # -- values ------------------------------------------------------------------------------

    def check_value(self, value: Any, n: int) -> None:
        if self.framework == "verl":
            self.check_verl_value(value)
        elif self.framework == "trl":
            self.check_trl_value(value, n)
        else:
            self.check_openrlhf_value(value, n)

    def check_trl_value(self, value: Any, n: int) -> None:
        if not isinstance(value, list):
            self.problem(
                "shape",
                f"returned {type(value).__name__}, not a list: TRL needs one reward per "
                "completion, a number or None",
            )
            return
        if len(value) != n:
            self.problem(
                "shape",
                f"returned {len(value)} rewards for {n} completions: TRL raises ValueError",
            )
        for item in value:
            if item is not None:  # None: "not applicable", which TRL leaves out
                self.check_number("reward", item, "TRL builds a float tensor from the list")

    def check_verl_value(self, value: Any) -> None:
        self.key_sets.append((self.where, frozenset(value) if isinstance(value, dict) else None))
        if isinstance(value, dict):
            if "score" not in value:
                self.problem("shape", "the dict has no 'score' key; verl reads result['score']")
            for key, item in value.items():
                if key == "pred" and isinstance(item, str):
                    continue
                self.check_number(key, item, "verl builds metric arrays from every key")
        elif _is_number(value):
            self.check_number("score", value, "")
        else:
            self.problem(
                "shape",
                f"returned {type(value).__name__}; verl needs a number or a dict with 'score'",
            )

    def check_openrlhf_value(self, value: Any, n: int) -> None:
        if not isinstance(value, dict):
            self.problem(
                "shape",
                f"returned {type(value).__name__}, not a dict: OpenRLHF logs it at INFO and the "
                "reward becomes None. Return {'rewards': [...], 'scores': [...], "
                "'extra_logs': {...}}",
            )
            return
        if "rewards" not in value:
            self.problem("shape", "the dict has no 'rewards' key, the reward OpenRLHF trains on")
        for key in ("scores", "extra_logs"):
            if key not in value:
                self.problem(
                    "shape",
                    f"the dict has no {key!r} key (scores drive dynamic filtering, extra_logs the "
                    "logged metrics); return both with the same length as queries",
                    "warn",
                )
        for key in ("rewards", "scores"):
            if key in value:
                self.check_column(key, value[key], n)
        logs = value.get("extra_logs", {})
        if isinstance(logs, dict):
            self.key_sets.append((self.where, frozenset(logs)))
        else:
            self.problem("shape", f"extra_logs is {type(logs).__name__}, not a dict of lists")
            return
        for key, column in logs.items():
            self.check_column(f"extra_logs[{key!r}]", column, n)

    def check_column(self, key: str, column: Any, n: int) -> None:
        items = column if isinstance(column, list) else [column]
        if not isinstance(column, list) and n != 1:
            self.problem("shape", f"{key} is a single value for {n} queries")
            return
        if len(items) != n:
            self.problem("shape", f"{key} has {len(items)} values for {n} queries (need one each)")
        for item in items:
            self.check_number(key, item, "OpenRLHF builds float tensors from it")

    def check_number(self, key: str, item: Any, why: str) -> None:
        reason = f"; {why}" if why else ""
        if not _is_number(item):
            self.problem("values", f"{key} = {_short(item)} is not a number{reason}")
        elif not math.isfinite(float(item)):
            self.problem("values", f"{key} = {item} is not finite; it poisons the batch mean")

    # -- across calls -------------------------------------------------------------------------

    def check_keys(self) -> None:
        if not self.key_sets:
            return
        first_where, first = self.key_sets[0]
        for where, keys in self.key_sets[1:]:
            if keys == first:
                continue
            self.where = where
            if self.framework == "verl":
                why = (
                    "verl builds each per-sample column from the first sample's keys: a key "
                    "missing there is silently dropped, a key missing later raises KeyError in "
                    "the trainer"
                )
            else:
                why = "OpenRLHF stacks extra_logs per key across samples: each needs every key"
            self.problem(
                "keys",
                f"returns {_describe(keys)}, but the first input ({first_where!r}) returns "
                f"{_describe(first)}; {why}",
            )
        self.where = None

    def check_threads(self, results: dict[str, Any]) -> None:
        cases = [c for c in self.cases if c.name in _THREAD_CASES and c.name in results]
        if not cases:
            return
        barrier = threading.Barrier(_THREADS)
        outcomes: list[tuple[Case, _Call]] = []
        lock = threading.Lock()

        def worker(offset: int) -> None:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=self.limit_s)
            for j in range(len(cases)):
                case = cases[(offset + j) % len(cases)]
                out = _Call()
                start = time.perf_counter()
                try:
                    out.value, out.awaited = _resolve(self.invoke(self.fn, [case])())
                except BaseException as exc:
                    out.exc = exc
                out.seconds = time.perf_counter() - start
                with lock:
                    outcomes.append((case, out))

        threads = [
            threading.Thread(target=worker, args=(i,), daemon=True, name=f"reward-contract-{i}")
            for i in range(_THREADS)
        ]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + self.limit_s * len(cases)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        expected = _THREADS * len(cases)
        with lock:
            done = list(outcomes)
        self.calls += len(done)
        if len(done) < expected:
            self.problem(
                "threads",
                f"{expected - len(done)} of {expected} concurrent calls never returned "
                "(a lock held too long, or a deadlock)",
            )
        mismatched: set[str] = set()
        for case, out in done:
            self.timed(f"{case.name} (threads)", out.seconds)
            if out.exc is not None:
                self.where = case.name
                self.problem(
                    "threads",
                    f"raised {type(out.exc).__name__}: {_exc_text(out.exc)[:120]} "
                    "when called from 8 threads at once",
                )
                self.where = None
            elif not _same(_plain(out.value), results[case.name]):
                mismatched.add(case.name)
        if mismatched:
            self.problem(
                "threads",
                f"results for {sorted(mismatched)} differ from the one-at-a-time results when "
                "called from 8 threads at once: shared mutable state? (verl and OpenRLHF call "
                "rewards from many threads)",
            )

    def check_pickle(self, results: dict[str, Any]) -> None:
        try:
            clone = pickle.loads(pickle.dumps(self.fn))
        except Exception as exc:
            self.problem(
                "pickle",
                f"cannot be pickled ({type(exc).__name__}: {_exc_text(exc)[:120]}); Ray and "
                "process pools pickle rewards: define it at module level of an installed module "
                "(no lambda, closure or local class; a file loaded by path is not importable by "
                "the workers), and keep locks, clients and pools out of its pickled state",
            )
            return
        case = next((c for c in self.cases if c.name in results), None)
        if case is None:
            return
        again = self.call(clone, [case], record=False)
        if again is not None and not _same(again.value, results[case.name]):
            self.problem("pickle", f"the unpickled copy gives a different result on {case.name!r}")
