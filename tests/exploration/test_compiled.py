"""The compiled scans (numba): the numpy scans' numbers, loaded in the background, a fallback.

The golden file, the repetition rule and the behaviour rules run under both scans
(``either_scans`` in conftest.py); here: one call for both scans, threads, the switches that
turn the compiled scans off, and what happens when numba cannot run.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlsp_rewards.behaviours import BEHAVIOUR_KEYS, count_behaviours, marker_table
from rlsp_rewards.exploration import compiled, kernels
from rlsp_rewards.exploration.repetition import repetition
from rlsp_rewards.exploration.scan import scan_text

#: Pieces of reasoning text with markers, unicode, whitespace of every kind, loops.
PIECES = [
    *("a", "b", " ", "  ", "\n", "\t", "\x85", "\xa0", "\u3000", "x" * 16, "x" * 17, "\x00"),
    *("\u00e9", "\u03a3", "\U0001f600" * 9, "\ud800", "the", "answer", "is", "4."),
    *("Wait,", "wait -", "Let me  check", "let\u2019s verify", "Alternatively,", "x", "y"),
    *("double-check", "I made a mistake", "\u0130", "\u00e9wait,", "K", "Hold on", "\u2014"),
]


def _numpy_scan(text: str, ngram: int) -> tuple[float, list[int]]:
    saved = compiled._kernels
    compiled._kernels = None  # loaded already: nothing starts loading again
    try:
        counts = count_behaviours(text)
        return repetition(text, ngram), [counts[k] for k in BEHAVIOUR_KEYS]
    finally:
        compiled._kernels = saved


@pytest.fixture(autouse=True)
def _loaded() -> None:
    assert compiled.wait(), "numba is a dependency: the compiled scans must load"


def test_the_kernels_run_without_the_gil_but_the_one_for_short_texts() -> None:
    for kernel in (kernels.scan_kernel, kernels.repetition_kernel, kernels.markers_kernel):
        assert kernel.targetoptions["nogil"] is True
    assert not kernels.scan_kernel_holding_gil.targetoptions.get("nogil")


def test_no_sample_waits_for_the_compiler() -> None:
    # The loading compiled every type a sample brings: ASCII, wide, mixed widths (the Kelvin
    # sign lowers to ASCII), short and long; a real scan compiles nothing more.
    every = (kernels.scan_kernel, kernels.scan_kernel_holding_gil)
    every += (kernels.repetition_kernel, kernels.markers_kernel)
    before = [len(kernel.signatures) for kernel in every]
    for text in ("Wait, x y x y", "caf\u00e9 wait,", "\u212a wait, k", "\U0001f600 let me check"):
        for size in (1, 3_000):
            scan_text(text * size, 10)
            repetition(text * size, 3)
            count_behaviours(text * size)
    assert [len(kernel.signatures) for kernel in every] == before


@pytest.mark.parametrize("size", [compiled.RELEASE_GIL_CHARS - 1, compiled.RELEASE_GIL_CHARS])
def test_short_and_long_texts_get_the_same_numbers(size: int) -> None:
    text = ("Wait, let me check x y x y. " * 200)[:size]
    assert compiled.scan(text, 3, marker_table()) == _numpy_scan(text, 3)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=200), st.sampled_from([" ", "", "\n"]))
def test_one_call_gives_the_numpy_scans_numbers(parts: list[str], glue: str) -> None:
    text = glue.join(parts)
    for ngram in (2, 3, 10):
        assert compiled.scan(text, ngram, marker_table()) == _numpy_scan(text, ngram)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400), st.integers(2, 12))
def test_on_any_text(text: str, ngram: int) -> None:
    assert compiled.scan(text, ngram, marker_table()) == _numpy_scan(text, ngram)


def test_threads_scan_at_once_with_the_same_numbers() -> None:
    texts = [" ".join(PIECES[i % len(PIECES)] for i in range(k, k + 3_000)) for k in range(64)]
    alone = [scan_text(t, 10) for t in texts]
    with ThreadPoolExecutor(8) as threads:
        assert list(threads.map(lambda t: scan_text(t, 10), texts)) == alone


def test_a_marker_begins_with_a_letter() -> None:
    with pytest.raises(ValueError, match="begins with a letter"):
        compiled.MarkerTable([("-x", 0)])


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


_PROBE = (
    "from rlsp_rewards.exploration import compiled; "
    "from rlsp_rewards.exploration.repetition import repetition; "
    "print(compiled.wait(), repetition('a b a b', 2))"
)


def test_the_environment_can_switch_them_off() -> None:
    done = _python(
        _PROBE + "; import sys; print('numba' in sys.modules)", RLSP_REWARDS_COMPILED="0"
    )
    assert done.stdout.split() == ["False", "0.5", "False"], done.stderr  # numba not even imported


@pytest.mark.parametrize(
    "setup, env, said",
    [
        # numba not installed
        ("import sys; sys.modules['numba'] = None; ", {}, "pip install 'numba>=0.60'"),
        # numba's JIT turned off (its functions would run as slow Python)
        ("", {"NUMBA_DISABLE_JIT": "1"}, "NUMBA_DISABLE_JIT"),
    ],
)
def test_without_numba_the_numpy_scans_answer_and_the_log_says_why(
    setup: str, env: dict[str, str], said: str
) -> None:
    done = _python(setup + _PROBE, **env)
    assert done.stdout.split() == ["False", "0.5"], done.stderr
    assert "scanning with numpy instead" in done.stderr and said in done.stderr


def test_without_a_writable_cache_they_compile_in_the_process() -> None:
    # numba finds no place to keep machine code (a read-only install and home): it compiles.
    done = _python(_PROBE, NUMBA_CACHE_LOCATOR_CLASSES="ZipCacheLocator")
    assert done.stdout.split() == ["True", "0.5"], done.stderr


def _child_scan(queue: multiprocessing.Queue) -> None:
    queue.put((compiled.available(), scan_text("Wait, a b a b", 2)))


def test_a_forked_child_keeps_them() -> None:
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork here")
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child_scan, args=(queue,))
    child.start()
    ready, found = queue.get(timeout=60)
    child.join(60)
    assert ready and found == scan_text("Wait, a b a b", 2)
