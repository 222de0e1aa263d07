"""The page: self-contained, warnings first, every figure inline, run text escaped, PNGs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from rlsp_rewards.core import RewardResult
from rlsp_rewards.errors import ConfigError
from rlsp_rewards.report.build import BuiltReport, ReportOptions, build_report
from rlsp_rewards.report.figures import PLOTS


@pytest.fixture(scope="module")
def hacking(
    synthetic_runs: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> BuiltReport:
    out = tmp_path_factory.mktemp("page") / "hacking.html"
    return build_report(synthetic_runs["hacking"].path, out)


def test_the_page_needs_nothing_from_outside(hacking: BuiltReport) -> None:
    html = hacking.path.read_text()
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert "<script" not in html and "<iframe" not in html and "@import" not in html
    # Every src/href points inside the page (an anchor) or at a data: URL; no url() in CSS.
    links = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)""", html)
    assert links and all(link.startswith(("data:", "#")) for link in links), links
    assert "url(" not in html.replace("url(#", "")


def test_warnings_come_first_with_their_steps_and_rules(hacking: BuiltReport) -> None:
    html = hacking.path.read_text()
    assert html.index('id="warnings"') < html.index('id="figures"') < html.index('id="examples"')
    warnings = html[html.index('id="warnings"') : html.index('id="figures"')]
    repetition = next(f for f in hacking.findings if f.key == "repetition")
    assert "Repetition rising (length hacking)" in warnings
    assert f"From step <b>{repetition.episodes[0][0]}</b>" in warnings
    assert "at least 0.05 above its mean over the 5 steps before" in warnings
    assert "Length up, accuracy flat or falling" in warnings
    assert "No-answer rate" not in warnings  # not fired: listed under Rules only
    rules = html[html.index('id="rules"') :]
    assert "No-answer rate rising (format collapse)" in rules and "clear" in rules


def test_every_figure_is_inline_with_unique_ids(hacking: BuiltReport) -> None:
    html = hacking.path.read_text()
    figures = re.findall(r'<figure class="plot" id="figure-([a-z_]+)"><svg', html)
    # Every plot but the judge's (not used) is drawn; truncated is, since the cap is inferred.
    assert figures == [p.name for p in PLOTS if p.name != "judge_grade"]
    assert figures == [d.name for d in hacking.figures]
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "element ids repeat across the inline SVGs"
    assert html.count("<svg") == len(figures) and "<?xml" not in html


def test_example_responses_at_the_first_last_and_warning_steps(hacking: BuiltReport) -> None:
    html = hacking.path.read_text()
    starts = {f.episodes[0][0] for f in hacking.findings if f.fired}
    shown = [int(s) for s in re.findall(r'<h3 id="examples-(\d+)">', html)]
    assert shown == sorted({1, 30} | starts)
    step30 = html[html.index('id="examples-30"') :]
    for kind in ("shortest correct", "longest wrong", "most repetitive"):
        assert kind in step30
    assert "I keep adding more words" in step30  # the repetitive one's text


def test_settings_say_they_are_not_recorded_without_a_rescore(hacking: BuiltReport) -> None:
    html = hacking.path.read_text()
    settings = html[html.index('id="settings"') : html.index('id="per-step"')]
    assert "Not recorded" in settings and "--rescore" in settings


def write_run(folder: Path, rows: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for row in rows:
        with (folder / f"{row['step']}.jsonl").open("a") as handle:
            handle.write(json.dumps(row) + "\n")
    return folder


def hostile_rows() -> list[dict[str, Any]]:
    rows = []
    for step in (1, 2):
        for acc, text in ((1.0, "<script>alert(1)</script> $\\frac{$"), (0.0, "</pre><b>x</b>")):
            result = RewardResult(acc=acc, outcome=acc, length=40.0 + step, repetition=0.5)
            rows.append(
                {
                    "input": "<img src=x onerror=alert(1)>",
                    "output": text,
                    "gts": "<1>",
                    "step": step,
                    "data_source": "<b>src$</b>" if acc else "plain",
                    **result.to_dict(),
                    "pred": "<i>",
                }
            )
    return rows


def test_text_from_the_run_is_escaped(tmp_path: Path) -> None:
    built = build_report(write_run(tmp_path / "run", hostile_rows()), tmp_path / "r.html")
    html = built.path.read_text()
    for raw in ("<script>", "<img src=x", "</pre><b>", "<b>src", "<i>", "<1>"):
        assert raw not in html, raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;img src=x" in html
    # Two data sources: accuracy and length once more, a line per source ($ kept as text).
    assert [d.name for d in built.figures][-2:] == ["accuracy_by_source", "length_mean_by_source"]
    assert "src$" in built.figures[-1].svg


def test_png_figures_and_a_title(tmp_path: Path) -> None:
    options = ReportOptions(png_dir=tmp_path / "png", title="My run", examples_at=(2,))
    built = build_report(
        write_run(tmp_path / "run", hostile_rows()), tmp_path / "r.html", options=options
    )
    assert [p.name for p in built.pngs] == [f"{d.name}.png" for d in built.figures]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in built.pngs)
    html = built.path.read_text()
    assert "<title>My run</title>" in html and re.findall(r'id="examples-(\d+)"', html) == ["2"]
    assert any("PNG" in line for line in built.summary_lines())


def test_asking_for_a_step_the_run_lacks(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", hostile_rows())
    with pytest.raises(ConfigError, match=r"no step 9 .*1 to 2"):
        build_report(run, tmp_path / "r.html", options=ReportOptions(examples_at=(9,)))


def test_a_run_whose_rows_are_all_skipped(tmp_path: Path) -> None:
    (tmp_path / "1.jsonl").write_text("not json\n")
    with pytest.raises(ConfigError, match="no scorable row"):
        build_report(tmp_path, tmp_path / "r.html")


def test_a_progress_bar_on_a_terminal_only(tmp_path: Path) -> None:
    import io

    from rich.console import Console

    run = write_run(tmp_path / "run", hostile_rows())
    terminal = Console(file=io.StringIO(), force_terminal=True, width=100)
    build_report(run, tmp_path / "a.html", console=terminal)
    assert "reading run" in terminal.file.getvalue() and "4/4" in terminal.file.getvalue()
    log = Console(file=io.StringIO(), force_terminal=False)
    build_report(run, tmp_path / "b.html", console=log)
    assert log.file.getvalue() == ""  # a log file gets no bar
