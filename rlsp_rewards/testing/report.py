"""What the contract checker found: the checks, each :class:`Problem`, the :class:`ContractReport`.

:data:`CHECKS` names the promises in report order; a report gives a plain-words text
(``str(report)``), rows for any table, and a rich table for the command line.

Example:
    >>> report = ContractReport("f", "trl", 10.0, (Problem("pickle", "a lambda"),), 20, 0.2)
    >>> print(report.headline())
    Reward contract of f for trl: FAILED (1 of 9 checks), 20 calls
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from rich.table import Table

__all__ = ["CHECKS", "ContractReport", "Problem"]

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
