"""One canonical spelling of an answer, before it is read as a value.

:func:`normalise` undoes the differences of notation that never change a value:

* mangled escapes: a form feed before ``rac`` was ``\\f`` (``\\frac`` written in a string without
  its backslash escaped), a tab before ``imes`` was ``\\t``; other control characters are spaces;
* Unicode maths: ``½``, ``π``, ``√2``, ``x²``, ``×``, ``−``, ``≤``, ``∞``, Greek letters...;
* delimiters and spacing: ``$``, ``\\(``, ``\\left``, ``\\,``, ``\\!``, ``~``, ``\\dfrac``;
* thousands separators (``1{,}000``, ``32,\\! 349``, ``1 000``), scale words (``4.5 million``),
  number words (``twelve``), bases in words (``52 in base 8`` is ``52_8``);
* degrees (written ``°`` afterwards), percent signs and words (``%``), currency, a trailing unit
  (``5 \\text{ cm}``, ``125 miles``), a box left around the whole answer;
* a multiple-choice letter in any wrapping (``\\text{(C)}``, ``(C) 12``, ``option C``): ``C``.

Only the linear, character-level steps run on long answers; the rest apply to answers of at
most :data:`SHORT_CHARS` characters, so normalising costs linear time at any length.

Example:
    >>> normalise(r"$\\dfrac{1}{2}\\,\\text{cm}$"), normalise("x² − ½"), normalise("(C) 12")
    ('\\\\frac{1}{2}', 'x^{2} - \\\\frac{1}{2}', 'C')
"""

from __future__ import annotations

import re

from rlsp_rewards.outcome.words import date, ordinal, word_value

__all__ = ["SHORT_CHARS", "normalise", "squeeze"]

#: Longest answer the word-level steps (units, words, choices) look at.
SHORT_CHARS = 300

# -- control characters -----------------------------------------------------------------------

#: A control character and the letters after it, read back as the TeX command it mangled.
_ESCAPES = {
    "\x07": "a",
    "\x08": "b",
    "\x0c": "f",
    "\x0b": "v",
    "\t": "t",
    "\n": "n",
    "\r": "r",
}
#: Commands a tab, newline or carriage return may have eaten (they are also whitespace).
_WHITESPACE_COMMANDS = re.compile(
    r"[\t\n\r](?=(?:imes|heta|ext|frac|an|au|riangle|o|extbf|ilde|"
    r"eq|e|u|abla|ot|ewline|eg|"
    r"ight|ho|angle|ceil|floor)(?![a-z]))"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


#: What is left of an answer whose first character, a mangled escape, was stripped as space.
_STRIPPED_ESCAPE = re.compile(r"(?:rac|ext|extbf)\{|(?:heta|imes|pprox)(?![A-Za-z])")


def _repair_controls(text: str) -> str:
    if _STRIPPED_ESCAPE.match(text):
        text = ("\\f" if text.startswith("rac") else "\\a" if text[0] == "p" else "\\t") + text
    if not _CONTROL.search(text):
        return text
    text = _WHITESPACE_COMMANDS.sub(lambda m: "\\" + _ESCAPES[m.group()], text)
    text = re.sub(r"[\x07\x08\x0b\x0c](?=[A-Za-z])", lambda m: "\\" + _ESCAPES[m.group()], text)
    return _CONTROL.sub(" ", text)


# -- unicode ----------------------------------------------------------------------------------

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁽⁾ⁿⁱ", "0123456789+-()ni")
_SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉₊₋₍₎", "0123456789+-()")
_SUPERSCRIPT_RUN = re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁽⁾ⁿⁱ]+")
_SUBSCRIPT_RUN = re.compile("[₀₁₂₃₄₅₆₇₈₉₊₋₍₎]+")
_VULGAR = {
    "½": (1, 2),
    "⅓": (1, 3),
    "⅔": (2, 3),
    "¼": (1, 4),
    "¾": (3, 4),
    "⅕": (1, 5),
    "⅖": (2, 5),
    "⅗": (3, 5),
    "⅘": (4, 5),
    "⅙": (1, 6),
    "⅚": (5, 6),
    "⅛": (1, 8),
    "⅜": (3, 8),
    "⅝": (5, 8),
    "⅞": (7, 8),
    "⅐": (1, 7),
    "⅑": (1, 9),
    "⅒": (1, 10),
}
_SYMBOLS = {
    "\u2212": "-",
    "\u2013": "-",
    "\u2012": "-",
    "\u00d7": "\\times ",
    "\u22c5": "\\cdot ",
    "\u00b7": "\\cdot ",
    "\u2219": "\\cdot ",
    "\u00f7": "\\div ",
    "\u2264": "\\le ",
    "\u2a7d": "\\le ",
    "\u2265": "\\ge ",
    "\u2a7e": "\\ge ",
    "\u2260": "\\ne ",
    "\u221e": "\\infty ",
    "\u2208": "\\in ",
    "\u222a": "\\cup ",
    "\u2229": "\\cap ",
    "\u2205": "\\emptyset ",
    "\u00b1": "\\pm ",
    "\u2213": "\\mp ",
    "\u211d": "\\mathbb{R}",
    "\u27e8": "\\langle ",
    "\u27e9": "\\rangle ",
    "\u2032": "'",
    "\u00b0": "°",
    "\u2218": "°",
    "\u03c0": "\\pi ",
    "\u2248": "\\approx ",
}
_GREEK = dict(
    zip(
        "αβγδεζηθικλμνξρστυφχψωΓΔΘΛΞΣΦΨΩ",
        [
            "alpha",
            "beta",
            "gamma",
            "delta",
            "epsilon",
            "zeta",
            "eta",
            "theta",
            "iota",
            "kappa",
            "lambda",
            "mu",
            "nu",
            "xi",
            "rho",
            "sigma",
            "tau",
            "upsilon",
            "phi",
            "chi",
            "psi",
            "omega",
            "Gamma",
            "Delta",
            "Theta",
            "Lambda",
            "Xi",
            "Sigma",
            "Phi",
            "Psi",
            "Omega",
        ],
        strict=True,
    )
)
_ROOT = re.compile(r"√\s*(\d+(?:\.\d+)?|[A-Za-z]|\\pi\b|\([^()]*\)|\{[^{}]*\})")
_SPACES = re.compile("[\u00a0\u2000-\u200b\u202f\u205f\u3000]")


def _unicode(text: str) -> str:
    if text.isascii():
        return text
    text = _SPACES.sub(" ", text)
    text = _SUPERSCRIPT_RUN.sub(lambda m: "^{" + m.group().translate(_SUPERSCRIPTS) + "}", text)
    text = _SUBSCRIPT_RUN.sub(lambda m: "_{" + m.group().translate(_SUBSCRIPTS) + "}", text)
    for char, (top, bottom) in _VULGAR.items():
        if char in text:
            text = text.replace(char, f"\\frac{{{top}}}{{{bottom}}}")
    for char, replacement in _SYMBOLS.items():
        if char in text:
            text = text.replace(char, replacement)
    text = _ROOT.sub(lambda m: "\\sqrt{" + _unwrap(m.group(1)) + "}", text)
    for char, name in _GREEK.items():
        if char in text:
            text = text.replace(char, f"\\{name} ")
    return text


def _unwrap(group: str) -> str:
    return group[1:-1] if group[:1] in "({" else group


# -- commands, delimiters, spacing ------------------------------------------------------------

_REPLACEMENTS = (
    ("\\$", ""),
    ("$", ""),
    ("\\dfrac", "\\frac"),
    ("\\tfrac", "\\frac"),
    ("\\cfrac", "\\frac"),
    ("\\%", "%"),
    ("{,}", ","),
    ("\\lbrace", "\\{"),
    ("\\rbrace", "\\}"),
    ("\\lvert", "|"),
    ("\\rvert", "|"),
    ("\\vert", "|"),
    ("\\mid", "|"),
    ("\\leqslant", "\\le"),
    ("\\geqslant", "\\ge"),
    ("\\neq", "\\ne"),
    ("\\leq", "\\le"),
    ("\\geq", "\\ge"),
    ("\\textnormal{", "\\text{"),
    ("\\textrm{", "\\text{"),
    ("\\textup{", "\\text{"),
    ("\\textit{", "\\text{"),
    ("\\mbox{", "\\text{"),
    ("\\hbox{", "\\text{"),
    ("\\ast", "*"),
)
_SPACING = re.compile(
    r"(?<!\\)\\(?:left|right|displaystyle|textstyle|limits|bigl|bigr|Bigl|Bigr|big|Big)"
    r"(?![A-Za-z])|(?<!\\)\\[,;: ]|~|\\(?:hspace|vspace)\{[^{}]*\}"
)
_MATH_THOUSANDS = re.compile(r"(\d),\\!\s*(?=\d{3}(?!\d))")
_DELIMITERS = re.compile(r"\\[\[\]()]")
_ENVIRONMENT = re.compile(
    r"\\(begin|end)\{(?:bmatrix|Bmatrix|matrix|smallmatrix|array)\}(\{[lcr|]*\})?"
)
#: ``\\O``, the empty set in some fonts (not ``\\Omega``).
_EMPTY_O = re.compile(r"\\O(?![A-Za-z])")
_EULER = re.compile(r"\\(?:mathrm|text|operatorname|mathit)\{\s*([ei])\s*\}")
_DEGREES = re.compile(
    r"\s*(?:\^\s*\{?\s*\\circ\s*\}?|\\degree(?![A-Za-z])|°|\\text\{\s*°\s*\}"
    r"|\s*\\text\{\s*degrees?\s*\}|\s+degrees?\b)"
)
_PERCENT = re.compile(
    r"\s*(?:%|\\text\{\s*(?:%|percent|pct)\s*\}|\s+(?:percent(?:age)?|pct)\b|(?<=\d)(?:percent|pct))"
)
_CONNECTIVE = re.compile(r"\s*\\text\{\s*,?\s*((?:and|or)(?:\s+[A-Za-z]+)?)\s*\}\s*")
_WORD_COMMANDS = re.compile(r"(?<![\\A-Za-z])(pi|sqrt|infty)(?![A-Za-z])")
_INFINITY = re.compile(r"(?<![\\A-Za-z])infinity(?![A-Za-z])", re.IGNORECASE)
_MANY_SPACES = re.compile(r"\s+")


def _commands(text: str) -> str:
    text = _MANY_SPACES.sub(" ", text)  # first: the patterns below may start with a space
    for old, new in _REPLACEMENTS:
        if old in text:
            text = text.replace(old, new)
    text = _MATH_THOUSANDS.sub(r"\1,", text)
    text = text.replace("\\!", "")
    text = _SPACING.sub(" ", text)
    text = _DELIMITERS.sub(" ", text)
    text = _ENVIRONMENT.sub(lambda m: f"\\{m.group(1)}{{pmatrix}}", text)
    text = _EULER.sub(r"\1", text)
    if "\\O" in text:
        text = _EMPTY_O.sub(r"\\emptyset", text)
    text = _DEGREES.sub("°", text)
    text = _PERCENT.sub("%", text)
    text = _CONNECTIVE.sub(r" \1 ", text)
    text = _WORD_COMMANDS.sub(r"\\\1 ", _INFINITY.sub("\\\\infty", text))
    return _MANY_SPACES.sub(" ", text).strip()


# -- words ------------------------------------------------------------------------------------

_SCALES = {"thousand": 3, "million": 6, "billion": 9, "trillion": 12}
_SCALE_WORD = re.compile(
    r"^([+-]?\d+(?:\.\d+)?)\s*(?:\\text\{\s*(thousand|million|billion|trillion)\s*\}"
    r"|(thousand|million|billion|trillion)\b)(.*)$",
    re.IGNORECASE,
)
_BASE_WORDS = re.compile(
    r"^\(?([0-9A-Za-z]{1,64})\)?\s*(?:\\text\{\s*(?:in\s+)?base\s*(\d{1,2})?\s*\}\s*(\d{1,2})?"
    r"|(?:in\s+)?base[\s-]*(\d{1,2}))$",
    re.IGNORECASE,
)
_BASE_PARENS = re.compile(r"^\(([0-9A-Za-z]{1,64})\)_\{?(\d{1,2})\}?$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})\s*(?:\\text\{\s*)?([AaPp])\.?\s*[Mm]\.?\s*\}?$")
_OCLOCK = re.compile(r"^(\d{1,2})\s*(?:\\text\{\s*)?o'?\s?clock\s*\}?$", re.IGNORECASE)
#: A year named as such: "the year 2024", "\text{year } 1999".
_YEAR = re.compile(r"^(?:\\text\{\s*)?(?:the\s+)?year\s*\}?\s*(\d{1,4})$", re.IGNORECASE)
_CHOICE = (
    re.compile(r"^(?:\\text(?:bf)?\{)?\s*\(\s*([A-E])\s*\)\s*\}?(?:\s+\S.*)?$"),
    re.compile(r"^\(\s*([a-e])\s*\)$"),
    re.compile(r"^([A-E])\)(?:\s+\S.*)?$"),
    re.compile(r"^([A-E])[:.]\s+\S.*$"),  # "B: 12", "B. 12": the letter, then its content
    re.compile(r"^(?:choice|option|answer)\s*:?\s*\(?([A-Ea-e])\)?\.?$", re.IGNORECASE),
    re.compile(r"^\\text(?:bf)?\{\s*([A-E])\s*\}$"),
)
#: After a choice letter, a sign of a second one: "(C) or (D)" is a hedge, not a choice.
_SECOND_CHOICE = re.compile(r"\(\s*[A-Ea-e]\s*\)|\b(?:or|and)\b")
_TRAILING_UNIT = re.compile(
    r"^(.*?[\d}.%°])\s*\\text\{\s*[A-Za-z$€£][^{}]{0,40}\}(?:\^\{?[23]\}?)?$"
)
#: Words after a number that are mathematics, not a unit ("2 pi", "5 sqrt 2", "3 x", "3 squared").
_NOT_UNIT = (
    r"(?:or|and|to|pi|root|over|squared|cubed|times|plus|minus|divided|thousand|million"
    r"|billion|trillion|hundred|in|base|[xyzienk])\b|sqrt"
)
_WORD_UNIT = re.compile(
    rf"^([+-]?[\d.,]*\d[%°]?|\\frac\{{\d+\}}\{{\d+\}}|\d+/\d+)\s+(?!{_NOT_UNIT})"
    r"[A-Za-z][A-Za-z ./^2-3]{0,30}$"
)
_CURRENCY = re.compile(
    r"^(?:USD|US\$?(?=\d)|€|£|¥|Rs\.?|\\euro|\\pounds)\s*|\s*(?:USD|dollars?|€|£|cents?)$"
)


def _words(text: str) -> str:
    """The word-level steps, on a short answer."""
    words = _plain_words(text)
    value = None if words is None else word_value(words)
    if value is not None:  # "twenty-one", "the fifth", "two thirds", "no solution"
        return value
    place = ordinal(text)
    if place is not None:
        return word_value(f"{place}th") or text
    found = date(text)
    if found is not None:
        return found
    text = _currency(text)
    year = _YEAR.match(text)
    if year:
        return year.group(1)
    scaled = _SCALE_WORD.match(text)
    if scaled:
        word = (scaled.group(2) or scaled.group(3)).lower()
        rest = scaled.group(4).strip()
        text = f"{scaled.group(1)}\\times10^{{{_SCALES[word]}}}" + (" " + rest if rest else "")
    base = _BASE_WORDS.match(text) or _BASE_PARENS.match(text)
    if base and any(base.groups()[1:]):
        digits = base.group(1)
        return f"{digits}_{{{next(g for g in base.groups()[1:] if g)}}}"
    clock = _CLOCK.match(text)
    if clock:
        return f"{clock.group(1)}:{clock.group(2)}{clock.group(3).lower()}m"
    clock = _OCLOCK.match(text)
    if clock:
        return f"{clock.group(1)}:00"
    unit = _TRAILING_UNIT.match(text)
    if unit:
        text = unit.group(1).strip()
    unit = _WORD_UNIT.match(text)
    if unit:
        text = unit.group(1)
    for pattern in _CHOICE:
        choice = pattern.match(text)
        if choice and not _SECOND_CHOICE.search(text, choice.end(1) + 1):
            return choice.group(1).upper()
    return text


def _currency(text: str) -> str:
    for _ in range(2):
        text = _CURRENCY.sub("", text).strip()
    return text


def _plain_words(text: str) -> str | None:
    if text.startswith("\\text{") and text.endswith("}") and text.count("{") == 1:
        text = text[6:-1]
    return text if text.replace("-", "").replace(" ", "").replace("'", "").isalpha() else None


# -- all together ------------------------------------------------------------------------------

_E_NOTATION = re.compile(r"([+-]?[0-9]+(?:\.[0-9]+)?)[eE]([+-]?[0-9]{1,3})")
_SPACE_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?: \d{3})+(?:\.\d+)?")


def normalise(answer: str) -> str:
    """A canonical spelling of ``answer`` (see the module docstring).

    Example:
        >>> normalise("4.5 million"), normalise(r"52 \\text{ in base } 8")
        ('4.5\\\\times10^{6}', '52_{8}')
        >>> normalise("32,\\\\! 349")
        '32,349'
    """
    text = _unicode(_repair_controls(answer))
    text = _commands(text)
    text = text.rstrip(".").strip()
    text = _strip_boxes(text)
    if len(text) > SHORT_CHARS:
        return text
    if _SPACE_THOUSANDS.fullmatch(text):
        text = text.replace(" ", "")
    exponent = _E_NOTATION.fullmatch(text)
    if exponent:  # 1.2e3, as programs print numbers
        text = f"{exponent.group(1)}\\times10^{{{exponent.group(2)}}}"
    text = _words(text)
    return text.rstrip(".").strip()


def _strip_boxes(text: str) -> str:
    """A box left around the whole extracted answer: ``\\boxed{7}`` is ``7``."""
    for _ in range(4):
        opening = -1
        for command in ("\\boxed{", "\\fbox{", "\\text{", "\\textbf{", "\\mathbf{"):
            if text.startswith(command):
                opening = len(command) - 1
                break
        if opening < 0 or not text.endswith("}"):
            return text
        if not _closes_at_end(text, opening):
            return text
        inner = text[opening + 1 : -1].strip()
        if command in ("\\text{", "\\textbf{", "\\mathbf{") and not _worth_unwrapping(inner):
            return text
        text = inner
    return text


def _worth_unwrapping(inner: str) -> bool:
    """``\\text{12}`` is 12, ``\\text{(C)}`` a choice; ``\\text{Monday}`` stays text."""
    return not inner.replace(" ", "").isalpha() or len(inner) == 1


def _closes_at_end(text: str, opening: int) -> bool:
    depth = 0
    for at in range(opening, len(text)):
        char = text[at]
        if char == "{" and text[at - 1] != "\\":
            depth += 1
        elif char == "}" and text[at - 1] != "\\":
            depth -= 1
            if depth == 0:
                return at == len(text) - 1
    return False


def squeeze(text: str) -> str:
    """``text`` without any whitespace (the form compared for exact equality).

    Example:
        >>> squeeze(" 1 + x ")
        '1+x'
    """
    return "".join(text.split())
