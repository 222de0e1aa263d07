"""One spelling for an extracted answer, so that the comparison sees what was meant.

:func:`clean` is applied to every extracted answer (all extraction modes) and to every gold:

* delimiters (``$...$``, ``\\(...\\)``, ``\\[...\\]``, ``**...**``, double quotes), a
  ``\\text{}`` style wrapper around the whole answer, and trailing periods go;
* control characters: those a Python string literal makes of LaTeX commands (``"\\frac"``
  written without ``r`` holds a form feed) become the commands again: form feed ``\\f``,
  backspace ``\\b``, bell ``\\a``, vertical tab ``\\v``, and tab or carriage return before a
  letter ``\\t`` / ``\\r`` (``\\times``, ``\\right``). Other control characters are spaces. A
  newline stays a newline (``\\n`` of ``\\neq`` cannot be told from a line break);
* unicode mathematics becomes LaTeX (:func:`latex_symbols`): ``−`` ``×`` ``÷`` ``·`` ``≤``
  ``≥`` ``≠`` ``≈`` ``±`` ``π`` and other Greek letters, ``∞``, ``∪``, ``∅``, ``ℝ``, ``°``,
  ``√2`` as ``\\sqrt{2}``, superscripts ``x²`` as ``x^{2}``, subscripts, vulgar fractions
  ``½`` as ``\\frac{1}{2}``, unusual spaces;
* a multiple-choice answer that names one option letter (A to J) reads as the bare letter:
  ``(C)``, ``\\text{(C)}``, ``\\textbf{(C)}\\ 12``, ``(C) 12``, ``option C``, ``choice (C)``
  are all ``C``. The option's content after its letter is dropped: the letter is the choice.

An answer longer than :data:`MAX_ANSWER_CHARS` is refused (``None``), never cut: a cut answer
would be compared on its prefix.

Example:
    >>> clean(r"$\\text{Tuesday}$.")
    'Tuesday'
    >>> clean("x² − ½"), clean(r"\\textbf{(D)}\\ 48")
    ('x^{2} - \\\\frac{1}{2}', 'D')
"""

from __future__ import annotations

import re

from rlsp_rewards.outcome.boxes import MAX_ANSWER_CHARS, matching_brace

__all__ = ["clean", "latex_symbols", "restore_controls"]

_WRAPPERS = ("\\text{", "\\textbf{", "\\mathrm{", "\\mathbf{", "\\textrm{", "\\mbox{")
_DELIMITERS = (
    ("$$", "$$"),
    ("$", "$"),
    ("\\(", "\\)"),
    ("\\[", "\\]"),
    ("**", "**"),
    ('\\"', '\\"'),
    ('"', '"'),
    ("\u201c", "\u201d"),
)
_OPENERS = frozenset(left[0] for left, _ in _DELIMITERS)
_DELIMITERS_BY_START = {
    start: tuple(pair for pair in _DELIMITERS if pair[0][0] == start) for start in _OPENERS
}
#: First characters of an answer that may have a layer to take off (a delimiter, a wrapper).
_LAYERED = _OPENERS | {"\\"}
#: First characters of a choice letter in a plain spelling ("(C)", "C", "option C").
_CHOICE_STARTS = frozenset("(ABCDEFGHIJoOcCaA")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

# -- control characters -----------------------------------------------------------------------

#: Control characters that can only be a LaTeX command eaten by a Python string literal.
_EATEN = {"\x0c": "\\f", "\x08": "\\b", "\x07": "\\a", "\x0b": "\\v"}
#: Tab and carriage return are LaTeX commands only before a letter (``\t`` + ``imes``).
_EATEN_BEFORE_LETTER = re.compile(r"\t(?=[A-Za-z])|\r(?=[A-Za-z])")
_CONTROLS = str.maketrans(
    {chr(code): " " for code in (*range(0x0A), *range(0x0B, 0x20), *range(0x7F, 0xA0))}
)


def restore_controls(text: str) -> str:
    """Control characters put back as the LaTeX commands they were, or made spaces.

    Example:
        >>> restore_controls("\\x0crac{1}{2}"), restore_controls("3\\times 4")
        ('\\\\frac{1}{2}', '3\\\\times 4')
        >>> restore_controls("\\t12"), restore_controls("a\\x00b")
        (' 12', 'a b')
    """
    if text.isprintable():
        return text
    text = _EATEN_BEFORE_LETTER.sub(lambda match: "\\t" if match.group() == "\t" else "\\r", text)
    for char, command in _EATEN.items():
        text = text.replace(char, command)
    return text.translate(_CONTROLS)


# -- unicode mathematics ----------------------------------------------------------------------

_SYMBOLS = {
    "\u2212": "-", "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\ufe63": "-",
    "\uff0d": "-", "\u00d7": "\\times", "\u22c5": "\\cdot", "\u00b7": "\\cdot",
    "\u2219": "\\cdot", "\u00f7": "\\div", "\u2217": "*", "\u2215": "/", "\u2044": "/",
    "\u2264": "\\le", "\u2a7d": "\\le", "\u2265": "\\ge", "\u2a7e": "\\ge",
    "\u2260": "\\ne", "\u2248": "\\approx", "\u00b1": "\\pm", "\u2213": "\\mp",
    "\u221e": "\\infty", "\u222a": "\\cup", "\u2229": "\\cap", "\u2205": "\\emptyset",
    "\u2208": "\\in", "\u2209": "\\notin", "\u2282": "\\subset", "\u2286": "\\subseteq",
    "\u2192": "\\to", "\u2220": "\\angle", "\u25b3": "\\triangle", "\u22a5": "\\perp",
    "\u2225": "\\parallel", "\u00b0": "^\\circ", "\u2032": "'", "\u2033": "''",
    "\u2211": "\\sum", "\u220f": "\\prod", "\u222b": "\\int", "\u2223": "|",
    "\u211d": "\\mathbb{R}", "\u2124": "\\mathbb{Z}", "\u2115": "\\mathbb{N}",
    "\u211a": "\\mathbb{Q}", "\u2102": "\\mathbb{C}",
    "\u03c0": "\\pi", "\u03b8": "\\theta", "\u03b1": "\\alpha", "\u03b2": "\\beta",
    "\u03b3": "\\gamma", "\u03b4": "\\delta", "\u03b5": "\\epsilon", "\u03bb": "\\lambda",
    "\u03bc": "\\mu", "\u03c3": "\\sigma", "\u03c6": "\\phi", "\u03c9": "\\omega",
    "\u03c4": "\\tau", "\u03c1": "\\rho", "\u0394": "\\Delta", "\u03a9": "\\Omega",
    "\u03a3": "\\Sigma", "\u03a0": "\\Pi",
    "\u00a0": " ", "\u2002": " ", "\u2003": " ", "\u2007": " ", "\u2009": " ", "\u200a": " ",
    "\u202f": " ", "\u205f": " ", "\u3000": " ",
    "\u200b": "", "\u200c": "", "\u200d": "", "\u2060": "", "\ufeff": "",
}  # fmt: skip
_FRACTIONS = {
    "\u00bd": (1, 2), "\u2153": (1, 3), "\u2154": (2, 3), "\u00bc": (1, 4), "\u00be": (3, 4),
    "\u2155": (1, 5), "\u2156": (2, 5), "\u2157": (3, 5), "\u2158": (4, 5), "\u2159": (1, 6),
    "\u215a": (5, 6), "\u2150": (1, 7), "\u215b": (1, 8), "\u215c": (3, 8), "\u215d": (5, 8),
    "\u215e": (7, 8), "\u2151": (1, 9), "\u2152": (1, 10),
}  # fmt: skip
_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱ", "0123456789+-=()ni", strict=True))
_SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎", "0123456789+-=()", strict=True))
_ROOTS = {"\u221a": "\\sqrt", "\u221b": "\\sqrt[3]", "\u221c": "\\sqrt[4]"}
_REPLACEMENTS = {
    **_SYMBOLS,
    **{char: f"\\frac{{{a}}}{{{b}}}" for char, (a, b) in _FRACTIONS.items()},
}
#: Longest parenthesised operand of a root sign read as its argument: ``√(1 + 2)``.
_MAX_ROOT_GROUP = 200


def latex_symbols(text: str) -> str:
    """Unicode mathematics written as LaTeX; ASCII text is returned unchanged.

    A command is followed by a space only where a letter follows it (``πr`` is ``\\pi r``).

    Example:
        >>> latex_symbols("3 × 10⁴"), latex_symbols("2√(x+1)"), latex_symbols("x ≤ 2π")
        ('3 \\\\times 10^{4}', '2\\\\sqrt{x+1}', 'x \\\\le 2\\\\pi')
    """
    if text.isascii():
        return text
    out: list[str] = []
    at, end = 0, len(text)
    while at < end:
        char = text[at]
        if char in _SUPERSCRIPTS or char in _SUBSCRIPTS:
            table, opener = (_SUPERSCRIPTS, "^{") if char in _SUPERSCRIPTS else (_SUBSCRIPTS, "_{")
            stop = at
            while stop < end and text[stop] in table:
                stop += 1
            out.append(opener + "".join(table[c] for c in text[at:stop]) + "}")
            at = stop
            continue
        if char in _ROOTS:
            argument, at = _root_argument(text, at + 1)
            if argument:  # its own unicode too: "√(x²)"
                out.append(_ROOTS[char] + "{" + latex_symbols(argument) + "}")
            else:
                out.append(_ROOTS[char])
            continue
        replacement = _REPLACEMENTS.get(char, char)
        at += 1
        command = replacement != char and replacement[-1:].isalpha()
        if command and at < end and text[at].isascii() and text[at].isalpha():
            replacement += " "
        out.append(replacement)
    return "".join(out)


def _root_argument(text: str, at: int) -> tuple[str, int]:
    """The operand of a root sign at ``at``: ``(...)``, a number, or one letter."""
    end = len(text)
    if at < end and text[at] == "(":
        depth = 0
        for stop in range(at, min(end, at + _MAX_ROOT_GROUP)):
            depth += {"(": 1, ")": -1}.get(text[stop], 0)
            if depth == 0:
                return text[at + 1 : stop], stop + 1
        return "", at
    stop = at
    while stop < end and (text[stop] in "0123456789."):
        stop += 1
    if stop > at:
        return text[at:stop].rstrip("."), stop - (text[stop - 1] == ".")
    if at < end and text[at].isascii() and text[at].isalpha():
        return text[at], at + 1
    return "", at


# -- multiple choice --------------------------------------------------------------------------

_CHOICE_WORDS = ("option", "choice", "answer")
#: A letter alone, or in parentheses, at the start of an answer.
_LETTER = re.compile(r"\(\s*([A-J])\s*\)|([A-J])(\)|(?![A-Za-z0-9]))")
#: What may stand between an option's letter and its content (``\textbf{(C)}\ 12``).
_AFTER_LETTER = re.compile(r"^(?:\s|\\ |~|\\quad|\\qquad|:|\.|\\,)*")
_ANOTHER_LETTER = re.compile(r"\(\s*[A-J]\s*\)")


def _choice_letter(answer: str) -> str | None:
    """The option letter an answer names as its choice, or ``None``."""
    text = answer
    named = False
    lowered = text[:8].translate(_ASCII_LOWER)
    for word in _CHOICE_WORDS:
        if lowered.startswith(word) and not text[len(word) : len(word) + 1].isalpha():
            text, named = text[len(word) :].lstrip(" :~"), True
            break
    head, rest = text, ""
    for wrapper in _WRAPPERS:
        if text.startswith(wrapper):
            close = matching_brace(text, len(wrapper) - 1)
            if close is None:
                return None
            head, rest = text[len(wrapper) : close].strip(), text[close + 1 :]
            break
    match = _LETTER.match(head)
    if match is None:
        return None
    letter = match.group(1) or match.group(2)
    content = (head[match.end() :] + rest).strip()
    content = content[_AFTER_LETTER.match(content).end() :]  # type: ignore[union-attr]
    if not content:
        return letter
    marked = match.group(1) is not None or match.group(3) == ")" or named
    return letter if marked and not _ANOTHER_LETTER.search(content) else None


# -- the whole clean-up -----------------------------------------------------------------------


def clean(answer: str | None) -> str | None:
    """The answer in the spelling the comparison reads (see the module docstring).

    Args:
        answer: a raw extracted answer, or ``None``.

    Returns:
        The cleaned answer; ``None`` when nothing is left or the answer is longer than
        :data:`MAX_ANSWER_CHARS`.

    Example:
        >>> clean(r" \\( \\text{(B)} \\) "), clean("  $.$ "), clean("option (C)")
        ('B', None, 'C')
    """
    if answer is None or len(answer) > MAX_ANSWER_CHARS:
        return None
    answer = latex_symbols(restore_controls(answer)).strip()
    for _ in range(4):  # a few layers, e.g. "$\text{Tuesday}$."
        if not answer or (answer[0] not in _LAYERED and answer[-1] != "."):
            break  # the common case: nothing to take off, decided by two characters
        before = answer
        answer = _strip_delimiters(answer.rstrip(" .\t\n\r\f\v"))
        answer = _strip_wrapper(answer)
        if answer == before:
            break
    if answer[:1] in _CHOICE_STARTS or answer.startswith(_WRAPPERS):
        return _choice_letter(answer) or answer or None
    return answer or None


def _strip_delimiters(answer: str) -> str:
    for left, right in _DELIMITERS_BY_START.get(answer[:1], ()):
        long_enough = len(answer) >= len(left) + len(right)
        if long_enough and answer.startswith(left) and answer.endswith(right):
            inside = answer[len(left) : len(answer) - len(right)]
            if "$" in left and "$" in inside:  # "$x = 2$ and $x = 3$": several spans
                if "\\$" in answer or answer.count("$") % 2:
                    return answer
                return " ".join(answer.replace("$", " ").split())
            return inside.strip()
    return answer


def _strip_wrapper(answer: str) -> str:
    """``\\text{Tuesday}`` -> ``Tuesday`` when the wrapper encloses the whole answer."""
    if not (answer.endswith("}") and answer.startswith(_WRAPPERS)):
        return answer
    for wrapper in _WRAPPERS:
        if answer.startswith(wrapper):
            close = matching_brace(answer, len(wrapper) - 1)
            if close == len(answer) - 1:
                return answer[len(wrapper) : -1].strip()
    return answer
