"""Reading an answer as an exact expression: the grammar of :mod:`rlsp_rewards.outcome.algebra`.

:func:`read_expression` reads sums, differences, products (also implicit: ``2x``, ``x(x+1)``),
quotients (``/``, ``\\div``, ``\\frac``), integer powers, ``\\sqrt`` of a rational number,
mixed numbers, factorials of small integers, decimals (also repeating: ``0.\\overline{3}``,
``0.(3)``), names with subscripts, Greek letters, ``\\pi``, ``e`` and ``i`` by recursive descent
over a list of tokens, and records how its numbers were written (:class:`Expression`). Anything
else (functions, non-integer powers, nested radicals, past a bound) gives ``None``.

Example:
    >>> golden = read_expression(r"\\frac{1+\\sqrt{5}}{2}")
    >>> golden.value.equals(read_expression(r"\\frac{1}{2} + \\frac{\\sqrt5}{2}").value)
    True
    >>> read_expression("0.5x").value.equals(read_expression(r"\\frac{x}{2}").value)
    True
    >>> read_expression(r"\\sin x") is None
    True
"""

from __future__ import annotations

import dataclasses
import math
import re
from fractions import Fraction

from rlsp_rewards.outcome.algebra import Poly, Ratio, square_root

__all__ = ["GREEK", "Expression", "read_expression"]

#: Most tokens an expression may have.
MAX_TOKENS = 4_000
#: Largest factorial computed exactly.
MAX_FACTORIAL = 300

#: Greek letters read as names (``\\theta``), as commands without the backslash.
GREEK = frozenset(
    [
        "alpha",
        "beta",
        "gamma",
        "delta",
        "epsilon",
        "varepsilon",
        "zeta",
        "eta",
        "theta",
        "vartheta",
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
        "varphi",
        "chi",
        "psi",
        "omega",
        "Gamma",
        "Delta",
        "Theta",
        "Lambda",
        "Xi",
        "Sigma",
        "Upsilon",
        "Phi",
        "Psi",
        "Omega",
    ]
)


@dataclasses.dataclass(frozen=True)
class Expression:
    """What :func:`read_expression` returns: the value and how its numbers were written.

    Attributes:
        value: the exact value.
        decimal_digits: the fewest significant digits of a decimal literal in it (``None``
            when none was written with a decimal point): a decimal may be a rounded value.
        decimal_places: the most digits after a decimal point in it (0 when none).
        integer: whether the whole answer is an integer literal such as ``-12``.

    Example:
        >>> read_expression("0.250").decimal_digits, read_expression("0.250").decimal_places
        (3, 3)
    """

    value: Ratio
    decimal_digits: int | None = None
    decimal_places: int = 0
    integer: bool = False

    @property
    def decimal(self) -> bool:
        return self.decimal_digits is not None


_TOKEN = re.compile(
    r"(?P<num>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)|(?P<cmd>\\[A-Za-z]+)|(?P<letter>[A-Za-z])"
    r"|(?P<sym>[-+*/^_(){}!'])|(?P<space>\s+)"
)
_MULTIPLY = frozenset({"*", "\\cdot", "\\times"})
_DIVIDE = frozenset({"/", "\\div"})


def read_expression(text: str) -> Expression | None:
    """Read ``text`` as an exact expression, or None when it is outside the grammar.

    The grammar: sums, differences, products (also implicit, ``2x``, ``x(x+1)``), quotients
    (``/``, ``\\div``, ``\\frac``), integer powers (``^2``, ``^{-1}``), ``\\sqrt`` of a rational
    number, mixed numbers (``3\\frac{1}{2}``), factorials of small integers, decimals (also
    repeating: ``0.\\overline{3}``, ``0.(3)``), names with subscripts, Greek letters, ``\\pi``,
    ``e`` and ``i``.

    Example:
        >>> read_expression(r"(\\sqrt{2}+\\sqrt{3})^2").value.equals(
        ...     read_expression(r"5+2\\sqrt{6}").value)
        True
        >>> read_expression(r"0.\\overline{3}").value.constant(), read_expression("x^{1/2}")
        (Fraction(1, 3), None)
    """
    tokens = _tokens(text)
    if tokens is None or not tokens or len(tokens) > MAX_TOKENS:
        return None
    reader = _Reader(tokens)
    try:
        value = reader.sum()
        if reader.at != len(tokens):
            return None
    except (IndexError, ZeroDivisionError, RecursionError, ValueError):
        return None
    integer = len(tokens) <= 2 and tokens[-1].isdigit() and tokens[0] in ("-", "+", tokens[-1])
    return Expression(value, reader.digits, reader.places, integer)


#: Letters in a row that make a word ("cups"), not a product of names ("xyz").
_WORD_LETTERS = 4


def _tokens(text: str) -> list[str] | None:
    tokens, at, run = [], 0, 0
    for match in _TOKEN.finditer(text):
        if match.start() != at:
            return None
        at = match.end()
        run = run + 1 if match.lastgroup == "letter" else 0
        if run >= _WORD_LETTERS:
            return None  # a word: text, or a unit the spelling did not know
        if match.lastgroup != "space":
            tokens.append(match.group())
    return tokens if at == len(text) else None


class _Reader:
    """Recursive descent over the tokens; raises ``ValueError`` outside the grammar."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.at = 0
        self.digits: int | None = None
        self.places = 0
        self.depth = 0

    def peek(self, ahead: int = 0) -> str:
        at = self.at + ahead
        return self.tokens[at] if at < len(self.tokens) else ""

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if not token or (expected is not None and token != expected):
            raise ValueError(token)
        self.at += 1
        return token

    def sum(self) -> Ratio:
        self.depth += 1
        if self.depth > 40:
            raise ValueError("too deep")
        total = self.signed_term()
        while self.peek() in ("+", "-"):
            total = total + self.signed_term()
        self.depth -= 1
        return total

    def signed_term(self) -> Ratio:
        sign = 1
        while self.peek() in ("+", "-"):
            sign = -sign if self.take() == "-" else sign
        term = self.term()
        return -term if sign < 0 else term

    def term(self) -> Ratio:
        total = self.mixed_or_power()
        while True:
            token = self.peek()
            if token in _MULTIPLY:
                self.take()
                total = total * self.signed_power()
            elif token in _DIVIDE:
                self.take()
                total = total / self.signed_power()
            elif token and _starts_factor(token):
                total = total * self.power()
            else:
                return total

    def signed_power(self) -> Ratio:
        if self.peek() == "-":
            self.take()
            return -self.power()
        return self.power()

    def mixed_or_power(self) -> Ratio:
        """A mixed number ``3\\frac{1}{2}`` (an integer, then a proper fraction of integers)."""
        token = self.peek()
        if token.isdigit() and self.peek(1) == "\\frac":
            start = self.at
            whole = int(self.take())
            self.take()
            top, bottom = self.frac_argument(), self.frac_argument()
            a, b = top.constant(), bottom.constant()
            proper = a is not None and b is not None and 0 <= a < b and a.denominator == 1
            if proper and b is not None and b.denominator == 1 and self.peek() in ("", "+", "-"):
                return Ratio.of(Poly.number(whole + a / b))  # type: ignore[operator]
            self.at = start
        return self.power()

    def power(self) -> Ratio:
        base = self.atom()
        while self.peek() == "!":
            self.take()
            value = base.constant()
            if value is None or value.denominator != 1 or not 0 <= value <= MAX_FACTORIAL:
                raise ValueError("factorial")
            base = Ratio.of(Poly.number(math.factorial(int(value))))
        if self.peek() != "^":
            return base
        self.take()
        exponent = self.exponent()
        return base.power(exponent)

    def exponent(self) -> int:
        token = self.peek()
        if token == "{":
            self.take()
            value = self.sum().constant()
            self.take("}")
        elif token.isdigit() and len(token) == 1:
            value = Fraction(int(self.take()))
        else:
            raise ValueError("exponent")  # x^23 is x^2 3 in TeX: too odd to guess
        if value is None or value.denominator != 1 or abs(value) > 10_000:
            raise ValueError("exponent")
        return int(value)

    def atom(self) -> Ratio:
        token = self.take()
        if token[0].isdigit() or token[0] == ".":
            return self.number(token)
        if token in ("(", "{"):
            inner = self.sum()
            self.take(")" if token == "(" else "}")
            return inner
        if len(token) == 1 and token.isalpha():
            if token == "i":
                return Ratio.of(Poly.radical(-1))
            return Ratio.of(Poly.name(self.subscripted(token)))
        if token == "\\pi":
            return Ratio.of(Poly.name("pi"))
        if token == "\\frac":
            top = self.frac_argument()
            return top / self.frac_argument()
        if token == "\\sqrt":
            return self.root()
        if token[1:] in GREEK:
            return Ratio.of(Poly.name(self.subscripted(token)))
        raise ValueError(token)

    def subscripted(self, name: str) -> str:
        """A name with its subscript (``x_1``, ``a_{n+1}``) and primes."""
        if self.peek() == "_":
            self.take()
            if self.peek() == "{":
                start = self.at
                depth = 0
                while True:
                    token = self.take()
                    depth += {"{": 1, "}": -1}.get(token, 0)
                    if depth == 0:
                        break
                name += "_" + "".join(self.tokens[start + 1 : self.at - 1])
            else:
                token = self.take()
                name += "_" + (token[0] if token[0].isdigit() else token)
                if token[0].isdigit() and len(token) > 1:
                    raise ValueError("subscript")  # x_12 is x_1 2 in TeX
        while self.peek() == "'":
            self.take()
            name += "'"
        return name

    def number(self, token: str) -> Ratio:
        whole, point, fraction = token.partition(".")
        if not point:
            return Ratio.of(Poly.number(int(whole)))
        repeat = self.repeating()
        base = Fraction(int(whole or "0") * 10 ** len(fraction) + int(fraction or "0"))
        base /= 10 ** len(fraction)
        if repeat is not None:
            cycle = Fraction(int(repeat), 10 ** len(repeat) - 1) / 10 ** len(fraction)
            return Ratio.of(Poly.number(base + cycle))
        significant = (whole.lstrip("0") + fraction).lstrip("0") or "0"
        digits = len(significant) if whole.strip("0") else len(fraction.lstrip("0") or "0")
        self.digits = digits if self.digits is None else min(self.digits, digits)
        self.places = max(self.places, len(fraction))
        return Ratio.of(Poly.number(base))

    def repeating(self) -> str | None:
        """The repeating digits after a decimal: ``\\overline{3}``, ``\\dot{3}``, ``(3)``."""
        token = self.peek()
        if token in ("\\overline", "\\dot", "\\bar") and self.peek(1) == "{":
            digits, close = self.peek(2), self.peek(3)
            if digits.isdigit() and close == "}":
                self.at += 4
                return digits
        if token == "(" and self.peek(1).isdigit() and self.peek(2) == ")" and not self.peek(3):
            digits = self.peek(1)
            self.at += 3
            return digits
        return None

    def frac_argument(self) -> Ratio:
        token = self.peek()
        if token == "{":
            return self.atom()
        if token.isdigit():  # \frac12 reads one digit at a time
            if len(token) > 1:
                self.tokens[self.at] = token[1:]
            else:
                self.at += 1
            return Ratio.of(Poly.number(int(token[0])))
        if (len(token) == 1 and token.isalpha()) or token == "\\pi" or token[1:] in GREEK:
            return self.atom()
        raise ValueError("fraction argument")

    def root(self) -> Ratio:
        if self.peek() == "[":
            raise ValueError("n-th root")
        token = self.peek()
        if token == "{":
            inner = self.atom()
        elif token.isdigit():
            inner = self.frac_argument()
        else:
            raise ValueError("root argument")
        value = inner.constant()
        if value is None:
            raise ValueError("root of a non-rational")
        return Ratio.of(square_root(value))


def _starts_factor(token: str) -> bool:
    """Whether ``token`` begins an implicit product (``2x``, ``x(x+1)``, ``2\\sqrt{3}``)."""
    if token == "(":
        return True
    if token[0] == "\\":
        return token in ("\\pi", "\\frac", "\\sqrt") or token[1:] in GREEK
    return token.isalpha()
