"""Exact reading of simple answer values, and their comparison: no sympy, no parser.

The small grammar read here covers what most final answers are: integers of any size,
decimals, fractions (``\\frac``, ``a/b``, mixed numbers), percentages, scientific notation,
rational multiples of ``\\pi`` and of square roots, infinity, tuples, intervals and sets of
those, polynomials and ratios of polynomials in one variable, numbers in a base (``52_8``), and
text answers. An answer is first normalised (:func:`normalise`: spacing commands, ``\\dfrac``,
degrees, a trailing unit, a wrapped choice letter), then split into an equation's label and
value sides (:func:`value_sides`), then each side is read as a value. Comparing two values
(:func:`compare_values`) is exact arithmetic; it returns ``None`` whenever it is not sure, and
the full check (:mod:`rlsp_rewards.outcome.grade`) decides.

Example:
    >>> reading = read("x = \\\\frac{1}{2}")
    >>> reading.label, compare_values(reading.values[0], read("0.5").values[0])
    ('x', <OutcomeStatus.CORRECT: 'correct'>)
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from fractions import Fraction

from rlsp_rewards.core import OutcomeStatus

__all__ = [
    "BIG_INT_DIGITS",
    "EULER",
    "MAX_PARSE_CHARS",
    "Reading",
    "braced",
    "compare_values",
    "exponent_at",
    "literal_value",
    "normalise",
    "plain_int",
    "read",
    "squeeze",
    "value_sides",
]

CORRECT = OutcomeStatus.CORRECT
INCORRECT = OutcomeStatus.INCORRECT

#: Longest answer read as a value or handed to math-verify's parser.
MAX_PARSE_CHARS = 1_000
#: Integers with more digits than this are compared as digit strings, never converted to int.
BIG_INT_DIGITS = 4_000
#: Longest answer read as a simple value.
_MAX_VALUE_CHARS = 200
#: Absolute difference below which decimals are left to math-verify's 6-decimal rounding rule.
_DECIMAL_SLACK = Fraction(2, 10**6)

# -- normalisation ----------------------------------------------------------------------------

_SPACING = re.compile(
    r"(?<!\\)\\(?:left|right|displaystyle|textstyle|limits)(?![A-Za-z])|(?<!\\)\\[,;:! ]|~"
)
_DEGREES = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|°|\\degree(?![A-Za-z])")
EULER = re.compile(r"\\(?:mathrm|text|textrm|operatorname)\{\s*e\s*\}")
_TRAILING_UNIT = re.compile(
    r"^(.*?[\d}.])\s*\\(?:text|textrm|mbox|mathrm)\{\s*[A-Za-z][^{}]{0,40}\}$"
)
#: Words after a number that are mathematics, not a unit ("2 pi", "5 sqrt 2", "3 x", "3 squared").
_NOT_UNIT = r"(?:or|and|to|pi|root|over|squared|cubed|times|plus|minus|divided|[xyzienk])\b|sqrt"
_WORD_UNIT = re.compile(rf"^([+-]?[\d.,]*\d)\s+(?!{_NOT_UNIT})[A-Za-z][A-Za-z ./^2-3]{{0,30}}$")
_CHOICE = re.compile(r"^\(?\\?(?:text|textbf|mathrm)?\{?\(?([A-Ea-e])\)?\}?\)?$")
_WRAPPER = re.compile(r"^\\(?:text|textbf|textrm|mathrm|mbox|mathbf)\{([^{}]*)\}$")


def normalise(answer: str) -> str:
    """A canonical spelling: no spacing commands, ``\\frac`` for its variants, no degrees."""
    text = answer.strip().replace("\u2212", "-").replace("\\$", "").replace("$", "")
    text = text.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac").replace("\\%", "%")
    text = text.replace("{,}", ",").replace("\\!", "")
    text = _SPACING.sub(" ", text)
    text = _DEGREES.sub("", text)
    text = EULER.sub("e", text)
    text = text.strip().rstrip(".").strip()
    while text.startswith(("\\boxed{", "\\fbox{")):  # a box inside the extracted answer
        opening = text.find("{")
        content, end = braced(text, opening)
        if content is None or end != len(text):
            break
        text = content.strip()
    unit = _TRAILING_UNIT.match(text)
    if unit:
        text = unit.group(1).strip()
    unit = _WORD_UNIT.match(text)
    if unit:
        text = unit.group(1)
    choice = _CHOICE.match(text)
    if choice and ("(" in text or "{" in text):
        text = choice.group(1)
    return text


def squeeze(text: str) -> str:
    return "".join(text.split())


def exponent_at(text: str, at: int) -> tuple[str | None, int]:
    """The braced group or single character starting at ``at`` (TeX reads ``2^10`` as 2^1 0)."""
    while at < len(text) and text[at] == " ":
        at += 1
    if at >= len(text):
        return None, at
    if text[at] == "{":
        return braced(text, at)
    return text[at], at + 1


def literal_value(text: str) -> int | None:
    """The value of ``text`` when it is an integer or a power of integers (up to 300 digits)."""
    text = text.strip()
    if text.startswith("{") and braced(text, 0)[1] == len(text):
        text = text[1:-1].strip()
    if _SMALL_INT.fullmatch(text):
        return int(text)
    caret = text.find("^")
    if caret <= 0 or not _SMALL_INT.fullmatch(text[:caret].strip()):
        return None
    exponent_text, end = exponent_at(text, caret + 1)
    if exponent_text is None or end != len(text):
        return None
    power = literal_value(exponent_text)
    base = int(text[:caret])
    if power is None or power < 0 or power * math.log10(max(abs(base), 2)) > 300:
        return None
    return base**power


_SMALL_INT = re.compile(r"-?\d{1,300}")


def braced(text: str, at: int) -> tuple[str | None, int]:
    """Content and end index of the ``{...}`` group opening at ``at`` (None when unclosed)."""
    depth = 0
    for end in range(at, min(len(text), at + MAX_PARSE_CHARS)):
        if text[end] == "{":
            depth += 1
        elif text[end] == "}":
            depth -= 1
            if depth == 0:
                return text[at + 1 : end], end + 1
    return None, at


# -- simple values ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Num:
    """``coef * atom``; atom ``""`` (rational), ``"pi"``, ``"sqrtN"`` (N square-free), ``"inf"``."""

    coef: Fraction
    atom: str = ""
    decimal: bool = False  #: written with a decimal point (math-verify rounds floats to 6 places)
    percent: bool = False
    literal: bool = False  #: written as a plain integer such as ``-12``


@dataclasses.dataclass(frozen=True)
class _Group:
    """A tuple, interval or set: ``kind`` is ``"set"``, ``"bare"`` or the two brackets."""

    kind: str
    items: tuple[_Num, ...]


@dataclasses.dataclass(frozen=True)
class _Text:
    words: str


@dataclasses.dataclass(frozen=True)
class _Letter:
    """A single capital letter: a multiple-choice option (or a named point)."""

    letter: str


@dataclasses.dataclass(frozen=True)
class _Based:
    """A numeral with an optional base subscript, ``1011_2``; math-verify ignores the base."""

    digits: str
    base: str


@dataclasses.dataclass(frozen=True)
class _Ratio:
    """A ratio of polynomials in one variable with rational coefficients, ``num / den``."""

    variable: str
    num: tuple[tuple[int, Fraction], ...]  #: (exponent, coefficient) pairs, sorted
    den: tuple[tuple[int, Fraction], ...]


_Value = _Num | _Group | _Text | _Letter | _Based | _Ratio
_BASED = re.compile(r"([0-9A-Za-z]{1,64})(?:_\{?(\d{1,2})\}?)")

_NUMBER = re.compile(r"\d+(?:\.\d*)?|\.\d+")
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_SCIENTIFIC = re.compile(
    r"(\d+(?:\.\d+)?)(?:(?:\\times|\\cdot|\*|\u00d7)10\^(?:\{([+-]?\d{1,3})\}|(\d))|[eE]([+-]?\d{1,3}))"
)
_MIXED = re.compile(r"\d{1,12}(?=\\frac)")
_SQRT = re.compile(r"\\sqrt(?:\{(\d{1,6})\}|(\d))")
_TEXT = re.compile(r"[A-Za-z][A-Za-z' \-]*[A-Za-z]")
_COMMANDS = re.compile(r"\\[A-Za-z]+")


def _value(text: str) -> _Value | None:
    """Read a normalised answer as a simple value, or None when it is anything else."""
    if not text or len(text) > _MAX_VALUE_CHARS:
        return None
    group = _group(text)
    if group is not None:
        return group
    squeezed = squeeze(text)
    number = _number(squeezed)
    if number is not None:
        return number
    if len(squeezed) == 1 and "A" <= squeezed <= "Z":
        return _Letter(squeezed)
    if not squeezed.isalpha() or len(squeezed) == 1:  # words are text, not products of letters
        ratio = _PolynomialReader(squeezed).read()
        if ratio is not None:
            return ratio
    based = _BASED.fullmatch(squeezed)
    if based and _is_numeral(based.group(1), int(based.group(2))):
        return _Based(based.group(1).upper().lstrip("0") or "0", based.group(2))
    return _text(text)


_Poly = dict[int, Fraction]
#: Highest degree the polynomial reader builds; more is left to math-verify.
_MAX_DEGREE = 64
_POLY_TOKEN = re.compile(r"\d+|[a-z]|\\(?:frac|cdot|times)(?![A-Za-z])|[-+*^{}()]")


class _PolynomialReader:
    """Reads ``x^2 + 2x + 1``, ``(x+1)(x-3)``, ``\\frac{x+1}{x-1}`` as a :class:`_Ratio`.

    A recursive-descent reader over a tiny grammar (sums, products, implicit products, integer
    powers up to 12, ``\\frac``) in one variable: exact arithmetic on coefficients, nothing
    evaluated, anything else (a second variable, ``e``, ``i``, functions, decimals) gives None.
    """

    def __init__(self, text: str) -> None:
        tokens = [m.group() for m in _POLY_TOKEN.finditer(text)]
        self.tokens = tokens if sum(map(len, tokens)) == len(text) else []
        self.at = 0
        self.variable = ""

    def read(self) -> _Ratio | None:
        if not self.tokens or len(self.tokens) > 120:
            return None
        try:
            num, den = self._sum()
        except (ValueError, IndexError, ZeroDivisionError, RecursionError):
            return None
        if self.at != len(self.tokens) or not self.variable or not any(den.values()):
            return None
        return _Ratio(self.variable, tuple(sorted(num.items())), tuple(sorted(den.items())))

    def _peek(self) -> str:
        return self.tokens[self.at] if self.at < len(self.tokens) else ""

    def _take(self, expected: str | None = None) -> str:
        token = self.tokens[self.at]
        if expected is not None and token != expected:
            raise ValueError(token)
        self.at += 1
        return token

    def _sum(self) -> tuple[_Poly, _Poly]:
        sign = -1 if self._peek() == "-" else 1
        if self._peek() in ("-", "+"):
            self._take()
        total = _ratio_scale(self._product(), sign)
        while self._peek() in ("-", "+"):
            sign = -1 if self._take() == "-" else 1
            total = _ratio_add(total, _ratio_scale(self._product(), sign))
        return total

    def _product(self) -> tuple[_Poly, _Poly]:
        total = self._power()
        while True:
            token = self._peek()
            if token in ("*", "\\cdot", "\\times"):
                self._take()
            elif not token or not (token[0].isalnum() or token in ("(", "{", "\\frac")):
                return total
            right = self._power()
            total = (_poly_mul(total[0], right[0]), _poly_mul(total[1], right[1]))

    def _power(self) -> tuple[_Poly, _Poly]:
        base = self._atom()
        if self._peek() != "^":
            return base
        self._take()
        if self._peek() == "{":
            self._take()
            exponent = self._take()
            self._take("}")
        else:
            exponent = self._take()
            if len(exponent) != 1:
                raise ValueError(exponent)  # TeX reads x^12 as x^1 2: too odd to guess
        if not exponent.isdigit() or int(exponent) > 12:
            raise ValueError(exponent)
        num, den = {0: Fraction(1)}, {0: Fraction(1)}
        for _ in range(int(exponent)):
            num, den = _poly_mul(num, base[0]), _poly_mul(den, base[1])
        return num, den

    def _atom(self) -> tuple[_Poly, _Poly]:
        token = self._take()
        if token.isdigit():
            return {0: Fraction(int(token))}, {0: Fraction(1)}
        if len(token) == 1 and token.isalpha():
            if token in "ei" or self.variable not in ("", token):
                raise ValueError(token)  # constants, or a second variable
            self.variable = token
            return {1: Fraction(1)}, {0: Fraction(1)}
        if token in ("(", "{"):
            inner = self._sum()
            self._take(")" if token == "(" else "}")
            return inner
        if token == "\\frac":
            top, bottom = self._frac_argument(), self._frac_argument()
            return _poly_mul(top[0], bottom[1]), _poly_mul(top[1], bottom[0])
        raise ValueError(token)

    def _frac_argument(self) -> tuple[_Poly, _Poly]:
        if self._peek() == "{":
            return self._atom()
        token = self._peek()
        if len(token) != 1:
            raise ValueError(token)  # \frac12 reads single characters
        return self._atom()


def _poly_mul(a: _Poly, b: _Poly) -> _Poly:
    out: _Poly = {}
    for i, x in a.items():
        for j, y in b.items():
            out[i + j] = out.get(i + j, 0) + x * y
    if out and max(out) > _MAX_DEGREE:
        raise ValueError("degree")
    return {k: v for k, v in out.items() if v}


def _ratio_add(a: tuple[_Poly, _Poly], b: tuple[_Poly, _Poly]) -> tuple[_Poly, _Poly]:
    left, right = _poly_mul(a[0], b[1]), _poly_mul(b[0], a[1])
    zero = Fraction(0)
    total = {k: left.get(k, zero) + right.get(k, zero) for k in left.keys() | right.keys()}
    return {k: v for k, v in total.items() if v}, _poly_mul(a[1], b[1])


def _ratio_scale(a: tuple[_Poly, _Poly], factor: int) -> tuple[_Poly, _Poly]:
    return {k: v * factor for k, v in a[0].items()}, a[1]


def _is_numeral(digits: str, base: int) -> bool:
    """Whether ``digits`` are valid in ``base`` (so ``x_1`` is a variable, not a numeral)."""
    return 2 <= base <= 36 and all(int(c, 36) < base for c in digits)


def _text(text: str) -> _Text | None:
    wrapped = _WRAPPER.match(text)
    if wrapped:
        text = wrapped.group(1).strip()
    elif "\\" in text:
        return None
    if not _TEXT.fullmatch(text) or sum(c.isalpha() for c in text) < 3:
        return None
    return _Text(" ".join(text.lower().replace("-", " ").split()))


def _number(text: str) -> _Num | None:
    """A signed number, fraction, mixed number, percentage, or rational multiple of an atom."""
    while len(text) > 2 and text[0] + text[-1] in ("()", "{}") and _encloses(text):
        text = text[1:-1]
    percent = text.endswith("%")
    if percent:
        text = text[:-1]
    sign = 1
    while text[:1] in ("-", "+"):
        sign = -sign if text[0] == "-" else sign
        text = text[1:]
    value = _fraction(text)
    if value is None:
        return None
    if value.atom == "inf" and percent:
        return None
    atom = "" if value.coef == 0 else value.atom  # zero times pi or a root is plain zero
    return dataclasses.replace(value, coef=sign * value.coef, atom=atom, percent=percent)


def _fraction(text: str) -> _Num | None:
    if text.startswith("\\frac"):
        parts = _frac_parts(text, 5)
        if parts is not None and parts[2] == len(text):
            return _divide(_product(parts[0]), _product(parts[1]))
        if parts is not None:  # \frac34\pi: a fraction times an atom
            ratio = _divide(_product(parts[0]), _product(parts[1]))
            atom = _product(text[parts[2] :])
            if ratio is not None and atom is not None and ratio.atom == "" and atom.coef == 1:
                return dataclasses.replace(atom, coef=ratio.coef, decimal=ratio.decimal)
            return None
    mixed = _MIXED.match(text)
    if mixed:
        whole = int(mixed.group())
        parts = _frac_parts(text, mixed.end() + 5)
        if parts and parts[2] == len(text) and parts[0].isdigit() and parts[1].isdigit():
            small = _divide(_product(parts[0]), _product(parts[1]))
            if small is not None and small.coef < 1:
                return _Num(whole + small.coef)
        return None
    if text.count("/") == 1:
        top, bottom = text.split("/")
        if top.startswith("(") and top.endswith(")"):
            top = top[1:-1]
        if bottom.startswith("(") and bottom.endswith(")"):
            bottom = bottom[1:-1]
        return _divide(_product(top), _product(bottom))
    return _product(text)


def _frac_parts(text: str, at: int) -> tuple[str, str, int] | None:
    """Numerator, denominator and end index of the ``\\frac`` arguments starting at ``at``."""
    args = []
    for _ in range(2):
        if at >= len(text):
            return None
        if text[at] == "{":
            content, at = braced(text, at)
            if content is None:
                return None
            args.append(content)
        elif text[at].isalnum():
            args.append(text[at])
            at += 1
        else:
            return None
    return args[0], args[1], at


def _divide(top: _Num | None, bottom: _Num | None) -> _Num | None:
    if top is None or bottom is None or bottom.coef == 0 or "inf" in (top.atom, bottom.atom):
        return None
    decimal = top.decimal or bottom.decimal
    if bottom.atom == "":
        return _Num(top.coef / bottom.coef, top.atom, decimal)
    if top.atom == bottom.atom:
        return _Num(top.coef / bottom.coef, "", decimal)
    if top.atom == "" and bottom.atom.startswith("sqrt"):
        radicand = int(bottom.atom[4:])
        return _Num(top.coef / (bottom.coef * radicand), bottom.atom, decimal)
    return None


def _product(text: str) -> _Num | None:
    """``[number][\\cdot]atom`` or a plain number; also a braced or parenthesised one."""
    while len(text) > 2 and text[0] + text[-1] in ("{}", "()"):
        text = text[1:-1]
    if text[:1] == "-":
        inner = _product(text[1:])
        return None if inner is None else dataclasses.replace(inner, coef=-inner.coef)
    if "^" in text and not _SCIENTIFIC.fullmatch(text):
        power = literal_value(text)
        return None if power is None else _Num(Fraction(power))
    if text in ("\\infty", "\\inf", "∞"):
        return _Num(Fraction(1), "inf")
    if _THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
    scientific = _SCIENTIFIC.fullmatch(text)
    if scientific:
        mantissa, exponent = scientific.group(1), next(g for g in scientific.groups()[1:] if g)
        return _Num(Fraction(mantissa) * Fraction(10) ** int(exponent), "", "." in mantissa)
    lead = _NUMBER.match(text)
    coef, decimal = Fraction(1), False
    if lead:
        if len(lead.group()) > BIG_INT_DIGITS:
            return None
        coef, decimal = _decimal(lead.group())
        text = text[lead.end() :]
        if not text:
            return _Num(coef, "", decimal, literal=not decimal)
        for times in ("\\cdot", "\\times", "*"):
            if text.startswith(times):
                text = text[len(times) :]
                break
    if text == "\\pi" or text == "π":
        return _Num(coef, "pi", decimal)
    root = _SQRT.fullmatch(text)
    if root:
        outside, inside = _split_square(int(root.group(1) or root.group(2)))
        atom = "" if inside == 1 else f"sqrt{inside}"
        return _Num(coef * outside, atom, decimal)
    return None


def _decimal(digits: str) -> tuple[Fraction, bool]:
    """The exact value of an unsigned decimal literal, and whether it has a decimal point."""
    whole, point, fraction = digits.partition(".")
    if not point:
        return Fraction(int(whole)), False
    fraction = fraction or "0"
    scale = 10 ** len(fraction)
    return Fraction(int(whole or "0") * scale + int(fraction), scale), True


def _split_square(n: int) -> tuple[int, int]:
    """``n = outside**2 * inside`` with ``inside`` square-free (n up to 10**6)."""
    outside, inside, k = 1, n, 2
    while k * k <= inside:
        while inside % (k * k) == 0:
            inside //= k * k
            outside *= k
        k += 1
    return outside, inside


def _group(text: str) -> _Group | None:
    """A bracketed or bare comma-separated list of simple numbers."""
    squeezed = squeeze(text)
    if squeezed.startswith("\\{") and squeezed.endswith("\\}"):
        kind, inner = "set", squeezed[2:-2]
    elif squeezed[:1] in "([" and squeezed[-1:] in ")]":
        kind, inner = squeezed[0] + squeezed[-1], squeezed[1:-1]
        if not _encloses(squeezed):
            return None
    elif "," in squeezed and not _THOUSANDS.fullmatch(text.strip().lstrip("-")):
        kind, inner = "bare", squeezed
    else:
        return None
    parts = _split_top(inner, ",")
    if parts is None or not all(parts):
        return None
    items = []
    for part in parts:
        number = _number(part)
        if number is None or number.percent:
            return None
        items.append(number)
    if kind != "bare" and kind != "set" and len(items) < 2:
        return None  # "(5)" is a parenthesised number, not a tuple
    return _Group(kind, tuple(items))


def _encloses(text: str) -> bool:
    """Whether the first bracket of ``text`` closes only at its last character."""
    depth = 0
    for at, char in enumerate(text):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0 and at != len(text) - 1:
                return False
    return depth == 0


def _split_top(text: str, separator: str) -> list[str] | None:
    """Split at ``separator`` outside brackets; None when brackets do not balance."""
    parts, depth, start = [], 0, 0
    for at, char in enumerate(text):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth < 0:
                return None
        elif char == separator and depth == 0:
            parts.append(text[start:at])
            start = at + 1
    if depth != 0:
        return None
    parts.append(text[start:])
    return parts


# -- comparing simple values ------------------------------------------------------------------


def compare_values(gold: _Value, pred: _Value) -> OutcomeStatus | None:
    if isinstance(gold, _Num) and isinstance(pred, _Num):
        return _compare_numbers(gold, pred)
    if isinstance(gold, _Group) and isinstance(pred, _Group):
        return _compare_groups(gold, pred)
    if isinstance(gold, _Text) and isinstance(pred, _Text):
        return CORRECT if gold.words == pred.words else INCORRECT
    if isinstance(gold, _Letter) and isinstance(pred, _Letter):
        return CORRECT if gold == pred else INCORRECT
    if isinstance(gold, _Based):
        return _compare_based(gold, pred)
    if isinstance(gold, _Ratio) or isinstance(pred, _Ratio):
        return _compare_ratios(gold, pred)
    if isinstance(gold, _Num) and isinstance(pred, _Group) and _distinct(pred) > 1:
        return INCORRECT
    if isinstance(gold, _Group) and isinstance(pred, _Num) and _distinct(gold) > 1:
        return INCORRECT
    return None


def _distinct(group: _Group) -> int:
    return len({(n.coef, n.atom) for n in group.items})


def _compare_ratios(gold: _Value, pred: _Value) -> OutcomeStatus | None:
    """Two rational functions are equal when ``n1 * d2 == n2 * d1`` as polynomials."""
    if isinstance(gold, _Num):
        gold, pred = pred, gold
    if isinstance(pred, _Num):
        if not isinstance(gold, _Ratio) or pred.atom or pred.decimal or pred.percent:
            return None  # math-verify's float and constant rules decide
        pred = _Ratio(gold.variable, ((0, pred.coef),), ((0, Fraction(1)),))
    if not isinstance(gold, _Ratio) or not isinstance(pred, _Ratio):
        return None
    if gold.variable != pred.variable:
        return None
    left = _poly_mul(dict(gold.num), dict(pred.den))
    right = _poly_mul(dict(pred.num), dict(gold.den))
    return CORRECT if left == right else INCORRECT


def _compare_based(gold: _Based, pred: _Value) -> OutcomeStatus | None:
    """Same digits (and the same base, when the prediction names one) or wrong."""
    if isinstance(pred, _Based):
        return CORRECT if pred == gold else INCORRECT
    if isinstance(pred, _Num) and pred.literal and not pred.percent and pred.coef >= 0:
        return CORRECT if str(pred.coef.numerator) == gold.digits else INCORRECT
    return None


def _compare_numbers(gold: _Num, pred: _Num) -> OutcomeStatus | None:
    if gold.percent == pred.percent:
        return _compare_plain(gold, pred)
    # math-verify's rule: between integers a percent sign is ignored (25% = 25); otherwise a
    # percentage means its hundredth (25% = 0.25 = 1/4, and 25.0 is not 25%). A grader also
    # accepts the same decimal with or without its sign (12.5% = 12.5), which math-verify does not
    marked, other = (gold, pred) if gold.percent else (pred, gold)
    plain = dataclasses.replace(marked, percent=False)
    if plain.literal and other.literal and plain.coef >= 0:
        return _compare_plain(plain, other)
    if plain.decimal and other.decimal and (plain.coef, plain.atom) == (other.coef, other.atom):
        return CORRECT
    if _is_integer(plain) or _is_integer(other):
        return None  # an integer written another way: math-verify's types decide
    return _compare_plain(dataclasses.replace(plain, coef=plain.coef / 100, decimal=True), other)


def _is_integer(number: _Num) -> bool:
    whole = number.atom == "" and not number.decimal and number.coef.denominator == 1
    return whole and not number.literal


def _compare_plain(gold: _Num, pred: _Num) -> OutcomeStatus | None:
    if gold.atom == pred.atom:
        if gold.coef == pred.coef:
            return CORRECT
        if gold.atom == "inf" or not (gold.decimal or pred.decimal):
            return INCORRECT
        apart = abs(gold.coef - pred.coef) * _atom_size(gold.atom) > _DECIMAL_SLACK
        return INCORRECT if apart else None
    if "inf" in (gold.atom, pred.atom):
        return INCORRECT
    if not (gold.decimal or pred.decimal):
        return INCORRECT  # distinct exact atoms: pi and square-free roots are irrational
    difference = abs(_approx(gold) - _approx(pred))
    magnitude = max(abs(_approx(gold)), abs(_approx(pred)))
    if magnitude < 1e6 and difference > 3e-6:  # beyond math-verify's 6-decimal rounding
        return INCORRECT
    return None


def _atom_size(atom: str) -> float:
    return 1.0 if atom in ("", "inf") else math.pi if atom == "pi" else math.sqrt(int(atom[4:]))


def _approx(number: _Num) -> float:
    if number.atom == "inf":
        return math.copysign(math.inf, number.coef)
    try:
        return float(number.coef) * _atom_size(number.atom)
    except OverflowError:
        return math.inf


def _compare_groups(gold: _Group, pred: _Group) -> OutcomeStatus | None:
    unordered = {"set", "bare"}
    if gold.kind in unordered and pred.kind in unordered:
        return _compare_unordered(gold.items, pred.items)
    if gold.kind in unordered or pred.kind in unordered:
        return None  # math-verify's own mixing rules decide these
    gold_shape, pred_shape = _shape(gold), _shape(pred)
    if gold_shape is None or pred_shape is None:
        return _compare_unread(gold, pred)
    if gold_shape == pred_shape == "interval" and gold.kind != pred.kind:
        return INCORRECT  # open and closed ends differ
    if gold_shape != pred_shape and "interval" not in (gold_shape, pred_shape):
        return None  # a tuple against a list: math-verify's rules decide
    if len(gold.items) != len(pred.items):
        return INCORRECT
    verdicts = [_compare_plain(g, p) for g, p in zip(gold.items, pred.items, strict=True)]
    if INCORRECT in verdicts:
        return INCORRECT
    return CORRECT if all(v is CORRECT for v in verdicts) else None


def _compare_unread(gold: _Group, pred: _Group) -> OutcomeStatus | None:
    """Groups whose reading is unclear (equal ends): a differing element still decides."""
    tuple_like = ("()", "[]")
    if gold.kind in tuple_like and pred.kind in tuple_like and len(gold.items) == len(pred.items):
        verdicts = [_compare_plain(g, p) for g, p in zip(gold.items, pred.items, strict=True)]
        if INCORRECT in verdicts:
            return INCORRECT
    return None


def _shape(group: _Group) -> str | None:
    """How math-verify reads a bracketed group: ``"interval"``, ``"tuple"``, ``"list"``, or None.

    Two increasing ends make an interval (brackets matter); two non-increasing ones a point,
    whatever the brackets; longer groups are tuples ``(...)`` or lists ``[...]``. Mixed
    brackets around anything but two increasing ends, and equal ends, are left undecided.
    """
    if len(group.items) == 2:
        low, high = (_approx(n) for n in group.items)
        if low < high:
            return "interval"
        return "tuple" if low > high and group.kind in ("()", "[]") else None
    return {"()": "tuple", "[]": "list"}.get(group.kind)


def _compare_unordered(gold: tuple[_Num, ...], pred: tuple[_Num, ...]) -> OutcomeStatus | None:
    gold_keys = {(n.coef, n.atom) for n in gold}
    pred_keys = {(n.coef, n.atom) for n in pred}
    if gold_keys == pred_keys:
        return CORRECT
    if any(n.decimal for n in gold + pred):
        return None
    return INCORRECT


# -- equations --------------------------------------------------------------------------------

#: Signs of several answers ("x = 2 or x = 3", "a = 1, b = 2"): not one equation chain.
_SEVERAL = re.compile(r"[,;]|\\(?:text|mbox|textrm|quad|qquad)(?![A-Za-z])|\b(?:or|and)\b")
_APPROX = re.compile(r"\\approx(?![A-Za-z])|\u2248")
_RELATION = re.compile(
    r"[<>]|!=|\\(?:le|ge|ne|neq|leq|geq|lt|gt|approx|in|subset|pm|mp)(?![A-Za-z])"
)
_CONSTANT_COMMANDS = frozenset(
    {
        "\\pi",
        "\\sqrt",
        "\\frac",
        "\\cdot",
        "\\times",
        "\\infty",
        "\\circ",
        "\\cdots",
        "\\ldots",
        "\\dots",
        "\\div",
        "\\log",
        "\\ln",
        "\\sin",
        "\\cos",
        "\\tan",
        "\\exp",
    }
)


def _sides(text: str) -> list[str]:
    """The sides of an equation chain ``a = b = c`` (one side when there is no ``=``)."""
    if "=" not in text or _RELATION.search(text) or _SEVERAL.search(text):
        return [text]
    parts = _split_top(text, "=")
    if parts is None or len(parts) < 2 or not all(p.strip() for p in parts):
        return [text]
    return [p.strip() for p in parts]


def _is_label(side: str) -> bool:
    """Whether an equation's side names the unknown (``x``, ``m+n``, ``f(2)``, ``\\theta``)."""
    names = _COMMANDS.findall(side)
    if any(name not in _CONSTANT_COMMANDS for name in names):
        return True  # a Greek letter or similar name
    rest = _COMMANDS.sub("", side)
    return any(c.isascii() and c.isalpha() for c in rest) and rest.strip() not in ("e", "i")


def value_sides(text: str) -> tuple[str, list[str]]:
    """Split off leading label sides: ``"x = y = 3"`` gives ``("x=y", ["3"])``.

    An approximation keeps its exact part: ``\\frac{1}{3} \\approx 0.333`` is ``\\frac{1}{3}``
    (as math-verify reads it), and ``x \\approx 3.14`` is ``3.14``.
    """
    parts = _APPROX.split(text)
    if len(parts) > 1 and all(part.strip() for part in parts):
        text = parts[-1] if _is_label(parts[0]) and "=" not in parts[0] else parts[0]
    sides = _sides(text)
    labels = []
    while len(sides) > 1 and _is_label(sides[0]):
        labels.append(squeeze(sides.pop(0)))
    return "=".join(labels), sides


def plain_int(text: str) -> str | None:
    """Canonical digits (with sign) of an integer literal of any length, else None."""
    body = text.strip()
    sign = ""
    if body[:1] in ("-", "+"):
        sign, body = ("-" if body[0] == "-" else ""), body[1:].lstrip()
    if not body.isdigit() or not body.isascii():
        return None
    body = body.lstrip("0") or "0"
    return ("" if body == "0" else sign) + body


@dataclasses.dataclass(frozen=True)
class Reading:
    """What the fast path reads from one answer (cached: rollouts repeat their answers)."""

    squeezed: str  #: the normalised answer without spaces
    label: str  #: leading label sides such as ``x`` in ``x = 3`` ("" when none)
    sides: tuple[str, ...]  #: the value sides
    values: tuple[_Value | None, ...]  #: each side as a simple value, or None
    digits: tuple[str | None, ...]  #: each side as an integer's digits, or None


def _read_answer(answer: str) -> Reading:
    text = normalise(answer)
    label, sides = value_sides(text)
    return Reading(
        squeezed=squeeze(text),
        label=label,
        sides=tuple(sides),
        values=tuple(_value(side) for side in sides),
        digits=tuple(plain_int(side) for side in sides),
    )


_read_cached = functools.lru_cache(maxsize=4096)(_read_answer)


def read(answer: str) -> Reading:
    return _read_cached(answer) if len(answer) <= MAX_PARSE_CHARS else _read_answer(answer)
