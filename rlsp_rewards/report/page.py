"""The report page: one self-contained HTML file, opened from disk, with nothing to fetch.

The figures are inline SVG, the style sheet is inline, there is no script, and the icon is an
empty ``data:`` URL, so a browser makes no request. Every text that comes from the run (responses,
prompts, answers, data source names, file names) is HTML-escaped.

Sections, in order: the warnings (each with its steps and its rule), the figures, example
responses per chosen step, the settings of the reward that scored the run, the per-step and
per data source tables, every rule with its status, and notes on the input.

Example:
    >>> from rlsp_rewards.report.metrics import MetricTable
    >>> page = Page(title="run <1>", run="/runs/1", table=MetricTable([], {}))
    >>> html = render(page)
    >>> html.startswith("<!DOCTYPE html>") and "run &lt;1&gt;" in html
    True
"""

from __future__ import annotations

import dataclasses
import html
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rlsp_rewards.report.figures import Drawn
from rlsp_rewards.report.metrics import (
    METRIC_BY_NAME,
    METRICS,
    SOURCE_METRICS,
    Example,
    MetricTable,
)
from rlsp_rewards.report.rules import Finding

__all__ = ["Page", "Settings", "render"]


@dataclasses.dataclass(frozen=True)
class Settings:
    """The settings of the reward that scored the run, and where they come from.

    Example:
        >>> Settings("not recorded").values
        {}
    """

    origin: str  #: how the settings are known (re-scored here, stated by the user, unknown)
    preset: str | None = None
    formula: str | None = None
    values: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    explicit: frozenset[str] = frozenset()  #: the settings given explicitly (not the preset's)


@dataclasses.dataclass
class Page:
    """Everything the page shows (see :func:`render`).

    Example:
        >>> Page(title="t", run="r", table=MetricTable([], {})).settings.origin
        'not recorded'
    """

    title: str
    run: str
    table: MetricTable
    source_tables: Mapping[str, MetricTable] = dataclasses.field(default_factory=dict)
    findings: Sequence[Finding] = ()
    figures: Sequence[Drawn] = ()
    examples: Mapping[int, Sequence[Example]] = dataclasses.field(default_factory=dict)
    settings: Settings = Settings("not recorded")
    notes: Sequence[str] = ()
    version: str = ""


_STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto;
       max-width: 1320px; padding: 0 24px 48px; color: #1d232b; background: #fff; }
h1 { margin: 24px 0 4px; font-size: 26px; } h2 { margin-top: 36px; border-bottom: 1px solid #dde;
     padding-bottom: 4px; } h3 { margin: 18px 0 6px; }
.meta { color: #556; margin: 0 0 8px; }
.warning { border-left: 5px solid #c62828; background: #fdecea; padding: 8px 14px; margin: 10px 0; }
.warning h3 { margin: 2px 0; color: #a31515; } .ok { border-left: 5px solid #2e7d32;
     background: #edf7ee; padding: 10px 14px; }
.rule { color: #333; font-size: 14px; margin: 4px 0; } .rule b { color: #000; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 14px; }
figure.plot { margin: 0; border: 1px solid #e3e6ea; border-radius: 6px; padding: 6px; }
figure.plot svg { width: 100%; height: auto; display: block; }
figcaption { font-size: 12.5px; color: #556; padding: 2px 6px; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0; }
th, td { border: 1px solid #e1e4e8; padding: 3px 7px; text-align: right; vertical-align: top; }
th { background: #f4f6f8; } td.text, th.text { text-align: left; }
.scroll { overflow-x: auto; max-width: 100%; }
pre { white-space: pre-wrap; word-break: break-word; max-height: 24em; overflow: auto;
      background: #f7f8fa; border: 1px solid #e3e6ea; padding: 8px; margin: 4px 0;
      font-size: 12.5px; text-align: left; }
td.example { min-width: 520px; max-width: 760px; }
.flag { color: #a31515; font-weight: 600; } .clear { color: #2e7d32; } .skip { color: #777; }
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _value(name: str, value: float) -> str:
    """A metric value for a table cell: a percentage for shares, ``-`` when undefined."""
    if math.isnan(value):
        return "-"
    if name == "rows":
        return f"{value:.0f}"
    if METRIC_BY_NAME[name].share:
        return f"{value:.1%}"
    return f"{value:.4g}"


def _steps_text(episodes: Iterable[tuple[int, int]]) -> str:
    """``(3, 5), (9, 9)`` as ``3-5, 9``."""
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in episodes)


def _warnings(page: Page) -> str:
    fired = [f for f in page.findings if f.fired]
    parts = ['<section id="warnings"><h2>Warnings</h2>']
    if not fired:
        parts.append(
            '<p class="ok">No warning: no rule below holds at any step. Rules not evaluated '
            "on this run are listed under Rules.</p>"
        )
    for finding in fired:
        first = finding.episodes[0][0]
        parts.append(
            f'<div class="warning" id="warning-{_e(finding.key)}"><h3>{_e(finding.title)}</h3>'
            f"<p>From step <b>{first}</b>; flagged at steps {_e(_steps_text(finding.episodes))} "
            f"({len(finding.steps)} of {len(page.table.steps)} steps).</p>"
            f'<p class="rule"><b>Rule:</b> flagged at a step when {_e(finding.rule)}.</p></div>'
        )
    parts.append("</section>")
    return "".join(parts)


def _figures(page: Page) -> str:
    parts = ['<section id="figures"><h2>Over training</h2><div class="grid">']
    for drawn in page.figures:
        parts.append(
            f'<figure class="plot" id="figure-{_e(drawn.name)}">{drawn.svg}'
            f"<figcaption>{_e(drawn.caption)}</figcaption></figure>"
        )
    parts.append("</div></section>")
    return "".join(parts)


def _examples(page: Page) -> str:
    parts = ['<section id="examples"><h2>Example responses</h2>']
    if not page.examples:
        parts.append("<p>No step chosen.</p>")
    for step, examples in page.examples.items():
        parts.append(f'<h3 id="examples-{step}">Step {step}</h3>')
        if not examples:
            parts.append("<p>No example at this step.</p>")
            continue
        parts.append(
            '<div class="scroll"><table><tr><th class="text">kind</th><th>length</th>'
            "<th>repetition</th><th>score</th><th>acc</th><th class='text'>answer / gold</th>"
            "<th class='text'>response</th></tr>"
        )
        for ex in examples:
            source = f" ({_e(ex.data_source)})" if ex.data_source else ""
            prompt = (
                f"<details><summary>prompt</summary><pre>{_e(ex.prompt)}</pre></details>"
                if ex.prompt
                else ""
            )
            parts.append(
                f'<tr class="example-row"><td class="text">{_e(ex.kind)}{source}</td>'
                f"<td>{ex.length:.0f}</td><td>{ex.repetition:.1%}</td><td>{ex.score:.3f}</td>"
                f'<td>{ex.acc:.0f}</td><td class="text">{_e(ex.pred) or "(none)"}<br>'
                f'gold: {_e(ex.gold)}</td><td class="text example">{prompt}'
                f"<pre>{_e(ex.response)}</pre><small>{ex.chars:,} characters</small></td></tr>"
            )
        parts.append("</table></div>")
    parts.append("</section>")
    return "".join(parts)


def _settings(page: Page) -> str:
    s = page.settings
    parts = ['<section id="settings"><h2>Reward settings</h2>', f"<p>{_e(s.origin)}</p>"]
    if s.preset:
        parts.append(f"<p>Preset <b>{_e(s.preset)}</b>: {_e(s.formula or '')}</p>")
    if s.values:
        parts.append('<table><tr><th class="text">setting</th><th class="text">value</th></tr>')
        for name, value in s.values.items():
            mark = " (set)" if name in s.explicit else ""
            parts.append(
                f'<tr><td class="text">{_e(name)}{mark}</td><td class="text">{_e(value)}</td></tr>'
            )
        parts.append("</table>")
    parts.append("</section>")
    return "".join(parts)


def _table(table: MetricTable, names: Sequence[str]) -> str:
    head = "".join(f'<th title="{_e(METRIC_BY_NAME[n].definition)}">{_e(n)}</th>' for n in names)
    rows = [f'<div class="scroll"><table><tr><th>step</th>{head}</tr>']
    for i, step in enumerate(table.steps):
        cells = "".join(f"<td>{_value(n, table.values[n][i])}</td>" for n in names)
        rows.append(f"<tr><td>{step}</td>{cells}</tr>")
    rows.append("</table></div>")
    return "".join(rows)


def _tables(page: Page) -> str:
    names = [m.name for m in METRICS]
    parts = [
        '<section id="per-step"><h2>Per step</h2>',
        f"<details><summary>All {len(names)} metrics at each of the {len(page.table.steps)} "
        "steps (hover a column name for its definition)</summary>",
        _table(page.table, names),
        "</details></section>",
        '<section id="per-source"><h2>Per data source</h2>',
    ]
    for source, table in page.source_tables.items():
        label = source or "(no data_source in the rows)"
        parts.append(
            f"<details><summary>{_e(label)}: {sum(table.values['rows']):,.0f} responses"
            f"</summary>{_table(table, SOURCE_METRICS)}</details>"
        )
    parts.append("</section>")
    return "".join(parts)


def _rules(page: Page) -> str:
    parts = [
        '<section id="rules"><h2>Rules</h2><table><tr><th class="text">warning</th>'
        '<th class="text">status</th><th class="text">flagged at a step when</th></tr>'
    ]
    for f in page.findings:
        if not f.evaluated:
            status = f'<span class="skip">{_e(f.note)}</span>'
        elif f.fired:
            status = f'<span class="flag">steps {_e(_steps_text(f.episodes))}</span>'
        else:
            status = '<span class="clear">clear</span>'
        parts.append(
            f'<tr><td class="text">{_e(f.title)}</td><td class="text">{status}</td>'
            f'<td class="text">{_e(f.rule)}</td></tr>'
        )
    parts.append("</table></section>")
    return "".join(parts)


def render(page: Page) -> str:
    """The page as one HTML document.

    Example:
        >>> html = render(Page(title="t", run="r", table=MetricTable([], {})))
        >>> "No warning" in html and "<script" not in html
        True
    """
    steps = page.table.steps
    span = (
        f"steps {steps[0]}-{steps[-1]}" if len(steps) > 1 else f"step {steps[0]}" if steps else ""
    )
    rows = sum(page.table.values.get("rows", []))
    meta = (
        f"{_e(page.run)}: {len(steps)} step{'s' if len(steps) != 1 else ''} ({span}), "
        f"{rows:,.0f} responses, "
        f"{len(page.source_tables)} data source(s). Made by rlsp-rewards {_e(page.version)}."
    )
    notes = "".join(f"<li>{_e(note)}</li>" for note in page.notes)
    body = "".join(
        (
            f"<header><h1>{_e(page.title)}</h1><p class='meta'>{meta}</p></header>",
            _warnings(page),
            _figures(page),
            _examples(page),
            _settings(page),
            _tables(page),
            _rules(page),
            f'<section id="input"><h2>Input</h2><ul>{notes}</ul></section>',
        )
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{_e(page.title)}</title><link rel="icon" href="data:,">'
        f"<style>{_STYLE}</style></head><body>{body}</body></html>\n"
    )
