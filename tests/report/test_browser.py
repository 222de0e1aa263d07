"""The report in a real headless browser: Debian's Chromium, driven by Playwright.

Two pages: a 30-step synthetic run with repetition hacking (verl's dump layout), and the demo
sample re-scored (one step). Each must render with no console error or warning and no page
error, request nothing but itself (any other request is blocked and fails the test), show the
warnings first, and draw every figure (an inline SVG with a real size and plotted lines).
Screenshots are kept in ``build/test-artifacts/`` (or ``$RLSP_TEST_ARTIFACTS``).

Skipped, with the reason, when Chromium or Playwright is missing, unless
``RLSP_REQUIRE_BROWSER=1`` (``.ci/run`` sets it, after ``make browser`` installs Chromium):
then a missing browser fails the test instead.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rlsp_rewards.cli.demo import sample_rollouts_path
from rlsp_rewards.registry import build
from rlsp_rewards.report.build import BuiltReport, build_report

#: The flags the browser runs with: headless (Playwright adds --headless), nothing in the
#: background that could reach the network.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(
    os.environ.get(
        "RLSP_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "build" / "test-artifacts"
    )
)


def _chromium() -> str | None:
    found = os.environ.get("RLSP_CHROMIUM") or shutil.which("chromium")
    return found or shutil.which("chromium-browser")


def _missing() -> str:
    """Why the browser test cannot run here ("" when it can)."""
    if not _chromium():
        return "no Chromium installed: run `make browser` (apt-get install chromium)"
    if importlib.util.find_spec("playwright") is None:
        return 'Playwright is not installed: pip install "rlsp-rewards[browser]"'
    return ""


MISSING = _missing()
REQUIRED = os.environ.get("RLSP_REQUIRE_BROWSER") == "1"
pytestmark = pytest.mark.skipif(bool(MISSING) and not REQUIRED, reason=MISSING)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """A Playwright browser context on the system Chromium, with a fresh profile."""
    if MISSING:
        pytest.fail(f"RLSP_REQUIRE_BROWSER=1 but {MISSING}")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=_chromium(),
            headless=True,
            args=FLAGS,
            viewport={"width": 1280, "height": 1600},
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="module")
def pages(
    synthetic_runs: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, BuiltReport]:
    folder = tmp_path_factory.mktemp("browser")
    return {
        "hacking": build_report(synthetic_runs["hacking"].path, folder / "hacking.html"),
        "demo": build_report(
            sample_rollouts_path(), folder / "demo.html", reward=build("combined", preset="guarded")
        ),
    }


FIGURES_JS = """() => [...document.querySelectorAll('figure.plot')].map(figure => {
    const svg = figure.querySelector('svg');
    const box = svg.getBoundingClientRect();
    return {id: figure.id, width: box.width, height: box.height,
            lines: svg.querySelectorAll('g[id*="line2d"] path').length,
            caption: figure.querySelector('figcaption').textContent};
})"""


@pytest.mark.parametrize("name", ["hacking", "demo"])
def test_the_report_renders_in_chromium(
    chromium: Any, pages: dict[str, BuiltReport], name: str
) -> None:
    built = pages[name]
    page = chromium.new_page()
    messages: list[str] = []
    blocked: list[str] = []
    page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: messages.append(f"page error: {e}"))

    def only_the_page(route: Any) -> None:
        if route.request.url == built.path.resolve().as_uri():
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_page)
    page.goto(built.path.resolve().as_uri(), wait_until="load")
    figures = page.evaluate(FIGURES_JS)
    first = page.evaluate("() => document.querySelector('section').id")
    warnings = page.evaluate("() => document.querySelectorAll('.warning').length")
    warnings_top = page.evaluate(
        "() => document.getElementById('warnings').getBoundingClientRect().top"
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"report-{name}-top.png"))
    page.screenshot(path=str(ARTIFACTS / f"report-{name}-full.png"), full_page=True)
    page.close()

    assert [m for m in messages if m.split(":")[0] in ("error", "warning", "page error")] == []
    assert blocked == []
    assert [f["id"] for f in figures] == [f"figure-{d.name}" for d in built.figures]
    for figure in figures:
        assert figure["width"] > 300 and figure["height"] > 150, figure
        assert figure["lines"] >= 1 and figure["caption"], figure
    assert first == "warnings" and warnings_top < 300
    assert warnings == sum(f.fired for f in built.findings)
    assert (ARTIFACTS / f"report-{name}-top.png").stat().st_size > 20_000
