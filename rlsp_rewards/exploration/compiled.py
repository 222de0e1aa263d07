"""The two scans that read every character, as compiled loops that run without the GIL.

The repetition guard (:mod:`~rlsp_rewards.exploration.repetition`) and the behaviour counts
(:mod:`rlsp_rewards.behaviours`) read every character of every response; on long responses
they are most of the whole reward's work. Here they are loops compiled by numba
(:mod:`~rlsp_rewards.exploration.kernels`, ``nogil=True``): one call per response for both
(:func:`scan`), no Python object per word, and the GIL released for the whole call, so that
threads scoring samples at once (verl's reward manager, TRL, a ``ThreadPoolExecutor``) scan on
every core.

Why numba, and not numpy alone (``rlsp-rewards bench --reward`` and ``/tmp`` scripts on this
repository's 2-core machine, realistic responses, 2026-12-03): the vectorised numpy scans took
0.30 ms for a 1 KB response and 0.43 ms (repetition) + 0.12 ms (markers) for 16 KB, in about 60
numpy calls per response; each call releases and retakes the GIL, so with other threads waiting
each one is a hand-off, and 8 threads scored at 0.34-1.1x the rate of one. The compiled loops
take 0.01 + 0.01 ms (1 KB) and 0.10 + 0.17 ms (16 KB), and the whole reward went from 1.05-1.16
to 0.31-0.44 ms per 16 KB sample, and from 8 threads from 0.97-1.10x to 1.18-1.56x the rate of
one (at 1-4 KB threads still lose: :data:`RELEASE_GIL_CHARS`). numba is the compiler vLLM
already installs in most RL stacks; its machine code is cached on disk (``cache=True``), so a new
process loads it in about 0.5 s instead of compiling it (about 7 s on this machine, once per
installation).

They load in a background thread (:func:`available` starts it; :func:`wait` waits for it),
and until they are ready the numpy scans run: the same results to the last bit
(``tests/exploration/test_golden.py`` runs under both), only slower. When numba cannot run (not
installed, ``NUMBA_DISABLE_JIT=1``, a compiler error, or ``RLSP_REWARDS_COMPILED=0`` in the
environment) the log says so once and the numpy scans stay.

Example:
    >>> if wait():
    ...     print(scan("Wait, wait. a b a b", 2, MarkerTable([("wait\\x00", 0)])))
    (0.14285714285714285, [2])
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

__all__ = [
    "APOSTROPHE",
    "ENV_SWITCH",
    "GAP",
    "RELEASE_GIL_CHARS",
    "WAIT_AHEAD",
    "MarkerTable",
    "available",
    "count_markers",
    "repetition",
    "scan",
    "wait",
]

logger = logging.getLogger(__name__)

#: Set this environment variable to ``0`` to scan with numpy instead (same results, slower).
ENV_SWITCH = "RLSP_REWARDS_COMPILED"

#: Marker tokens that are not a code point (see :class:`MarkerTable`).
GAP, APOSTROPHE, WAIT_AHEAD = -1, -2, -3

#: Texts at least this long are scanned with the GIL released. A shorter scan (under about
#: 0.03 ms) holds it: handing the GIL to another thread and taking it back costs more than the
#: scan, and 8 threads scoring 1 KB responses ran at 0.33x the rate of one when every scan
#: released it, 0.57-0.66x when short ones hold it (4 KB: 0.70x releasing, 0.52-0.56x holding).
RELEASE_GIL_CHARS = 2_048

_lock = threading.Lock()
_kernels: Any = None  # the kernels module, once loaded
_loading: threading.Thread | None = None  # the thread that loads them (started once)


def available() -> bool:
    """Whether the compiled scans are ready. The first call starts loading them in the
    background (numba loads its cached machine code in about 0.5 s; without a cache it compiles
    for several seconds, once per installation); until they are ready the numpy scans are used,
    with the same results, so that no sample waits for a compiler.

    Example:
        >>> isinstance(available(), bool)
        True
    """
    if _kernels is not None:
        return True
    if _loading is None:
        _start()
    return _kernels is not None


def wait(timeout_s: float | None = None) -> bool:
    """Wait until the compiled scans are loaded (or known to be unavailable); whether they
    run here. Warm-ups call it, so that a benchmark or the first batch uses them.

    Example:
        >>> isinstance(wait(), bool)
        True
    """
    available()
    loading = _loading
    if loading is not None:
        loading.join(timeout_s)
    return _kernels is not None


def _start() -> None:
    global _loading
    with _lock:
        if _loading is None:
            _loading = threading.Thread(target=_load, name="rlsp-compile-scans", daemon=True)
            _loading.start()


def _forget_in_child() -> None:
    """A forked child has no loading thread: it starts its own if the parent had not finished."""
    global _lock, _loading
    _lock = threading.Lock()
    if _kernels is None:
        _loading = None


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_forget_in_child)


def _load() -> None:
    """Import the kernels and run each once per character width (numba loads or compiles them
    then); on any failure, log why and leave :data:`_kernels` unset."""
    global _kernels
    if os.environ.get(ENV_SWITCH, "1").strip().lower() in {"0", "false", "no", "off"}:
        return
    try:
        import numba

        if numba.config.DISABLE_JIT:  # type: ignore[attr-defined]
            logger.warning("numba's JIT is off (NUMBA_DISABLE_JIT): scanning with numpy instead")
            return
        from rlsp_rewards.exploration import kernels
        from rlsp_rewards.exploration.chars import code_points, space_table, word_table

        # Every type a sample can bring, so that no sample waits for the compiler: texts as
        # code_points() makes them (read-only; one byte or four per character), and a text and
        # its lower case of different widths ("\u212a", the Kelvin sign, lowers to "k").
        space, word, table = space_table(), word_table(), MarkerTable([("ab", 0)]).arrays()
        widths = (code_points("ab ab"), code_points("ab \u212a"))
        for chars in widths:
            kernels.repetition_kernel(chars, space, 2)
            kernels.markers_kernel(chars, space, word, *table)
            for lowered in widths:
                kernels.scan_kernel(chars, lowered, 2, space, word, *table)
                kernels.scan_kernel_holding_gil(chars, lowered, 2, space, word, *table)
    except ImportError as error:
        logger.warning(
            "numba is not importable (%s): scanning with numpy instead, about 2x slower "
            "(pip install 'numba>=0.60')",
            error,
        )
        return
    except Exception as error:  # any other failure means the same: scan with numpy
        logger.warning(
            "the compiled scans are unavailable (%s: %s): scanning with numpy instead",
            type(error).__name__,
            error,
        )
        return
    _kernels = kernels


class MarkerTable:
    """Marker phrases, in the order they are tried, as the arrays the compiled scan reads.

    Each marker is a lower-case phrase (words joined by single spaces; ``'`` stands for either
    apostrophe, a final ``\\x00`` for the look-ahead after "wait") and the index of the behaviour
    it counts for. Marker ``m`` is ``tokens[offsets[m]:offsets[m+1]]``: code points to match
    literally, :data:`GAP` (one or more whitespace characters), :data:`APOSTROPHE` (``'`` or
    U+2019), :data:`WAIT_AHEAD` (an optional whitespace character, then one of ``, . ! ? : -``
    or an em dash, not consumed). The markers are kept grouped by first letter, in their order
    within a letter (markers that begin with different letters never match at the same place,
    so the first one that matches is the same): those beginning with ``c`` are
    ``first[c]`` to ``last[c]``.

    Example:
        >>> table = MarkerTable([("x y", 0), ("it's", 1)])
        >>> table.tokens.tolist(), table.offsets.tolist(), table.behaviours.tolist()
        ([105, 116, -2, 115, 120, -1, 121], [0, 4, 7], [1, 0])
    """

    def __init__(self, markers: list[tuple[str, int]]) -> None:
        import numpy as np

        ordered = sorted(markers, key=lambda marker: marker[0][0])  # stable: order kept
        tokens: list[int] = []
        offsets = [0]
        self.first = np.zeros(128, dtype=np.int64)
        self.last = np.zeros(128, dtype=np.int64)
        for index, (phrase, _) in enumerate(ordered):
            letter = ord(phrase[0])
            if not 97 <= letter <= 122:
                raise ValueError(f"a marker begins with a letter a-z, got {phrase!r}")
            if self.first[letter] == self.last[letter]:
                self.first[letter] = index
            self.last[letter] = index + 1
            tokens.extend(_tokens(phrase))
            offsets.append(len(tokens))
        self.tokens = np.array(tokens, dtype=np.int32)
        self.offsets = np.array(offsets, dtype=np.int64)
        self.behaviours = np.array([b for _, b in ordered], dtype=np.int64)
        self.count = 1 + max((b for _, b in markers), default=0)

    def arrays(self) -> tuple[Any, Any, Any, Any, Any]:
        """The arrays, in the order the kernels take them."""
        return self.tokens, self.offsets, self.behaviours, self.first, self.last


def _tokens(phrase: str) -> list[int]:
    """One marker phrase as tokens (see :class:`MarkerTable`)."""
    special = {" ": GAP, "'": APOSTROPHE, "\x00": WAIT_AHEAD}
    return [special.get(char, ord(char)) for char in phrase]


def repetition(chars: Any, ngram: int) -> float:
    """The repetition of a text given as its code points (``uint8`` or ``uint32``): the rule of
    :func:`~rlsp_rewards.exploration.repetition.repetition`, in one compiled call. Only once
    :func:`available` said yes.

    Example:
        >>> import numpy as np
        >>> if wait():
        ...     print(repetition(np.frombuffer(b"x y x y", dtype=np.uint8), 2))
        0.5
    """
    from rlsp_rewards.exploration.chars import space_table

    return float(_kernels.repetition_kernel(chars, space_table(), ngram))


def count_markers(lowered: Any, table: MarkerTable) -> list[int]:
    """How many markers of each behaviour (by index) a lower-cased text, given as its code
    points, holds: the scan of :func:`~rlsp_rewards.behaviours.count_behaviours`, in one
    compiled call. Only once :func:`available` said yes.

    Example:
        >>> import numpy as np
        >>> if wait():
        ...     text = np.frombuffer(b"wait, x", dtype=np.uint8)
        ...     print(count_markers(text, MarkerTable([("wait\\x00", 0)])))
        [1]
    """
    from rlsp_rewards.exploration.chars import space_table, word_table

    counts = _kernels.markers_kernel(lowered, space_table(), word_table(), *table.arrays())
    return counts.tolist()


def scan(text: str, ngram: int, table: MarkerTable) -> tuple[float, list[int]]:
    """Both scans of one text in one compiled call: its repetition and its marker counts per
    behaviour (of the lower-cased text). Only once :func:`available` said yes.

    Example:
        >>> if wait():
        ...     print(scan("Let me check. x y x y", 2, MarkerTable([("let me check", 0)])))
        (0.13333333333333333, [1])
    """
    from rlsp_rewards.exploration.chars import code_points, space_table, word_table

    chars, lowered = code_points(text), code_points(text.lower())
    kernel = (
        _kernels.scan_kernel if len(text) >= RELEASE_GIL_CHARS else _kernels.scan_kernel_holding_gil
    )
    found, counts = kernel(chars, lowered, ngram, space_table(), word_table(), *table.arrays())
    return float(found), counts.tolist()
