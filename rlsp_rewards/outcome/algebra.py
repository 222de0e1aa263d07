"""Exact arithmetic for answers: rational functions with coefficients in Q(sqrt n, i).

An answer such as ``\\frac{1+\\sqrt{5}}{2}``, ``3 - 4i``, ``x^2 + 2xy + y^2``, ``2\\pi r`` or
``\\frac{x+1}{x-1}`` is read (:func:`read_expression`) into a :class:`Ratio` of two
:class:`Poly` values, with nothing evaluated and no floating point:

* a coefficient is a rational number times a *radical*: ``sqrt(r)`` for a square-free integer
  ``r``, where a negative ``r`` stands for ``i * sqrt(-r)`` (so ``i`` is the radical of -1);
* names (``x``, ``y_1``, ``\\theta``, and the constants ``\\pi`` and ``e``) are independent
  indeterminates.

Both choices are exact: square roots of distinct square-free integers are linearly independent
over the rationals (and ``i`` is not real), and ``\\pi`` and ``e`` are transcendental, so two
answers are equal as numbers or functions exactly when their readings are equal here (``\\pi``
and ``e`` are taken to be algebraically independent of each other, which nobody has disproved).
Two ratios are equal when ``n1 * d2 == n2 * d1`` (:meth:`Ratio.equals`).

Anything outside this grammar (functions such as ``\\sin`` or ``\\log``, non-integer powers,
nested radicals, factorials of large numbers) gives ``None``: the caller then leaves the answer
to math-verify. Every step is bounded (terms, degrees, coefficient sizes, tokens), so reading
costs at most milliseconds whatever the input.

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

__all__ = ["Expression", "Poly", "Ratio", "read_expression"]

#: A monomial: (signed square-free radicand, ((name, power), ...) sorted by name).
Monomial = tuple[int, tuple[tuple[str, int], ...]]

#: Most terms a polynomial may have while it is built.
MAX_TERMS = 600
#: Highest power of one name.
MAX_POWER = 64
#: Largest integer exponent applied to a non-constant or to a radical.
MAX_EXPONENT = 64
#: Most bits of a coefficient's numerator or denominator.
MAX_BITS = 4_000
#: Largest radicand under a square root (factored by trial division).
MAX_RADICAND = 10**9
#: Most tokens an expression may have.
MAX_TOKENS = 4_000
#: Largest factorial computed exactly.
MAX_FACTORIAL = 300

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


class _Unreadable(Exception):
    """Outside the grammar (or past a bound): the expression is left to math-verify."""


@dataclasses.dataclass(frozen=True)
class Poly:
    """A polynomial: a mapping from monomials to non-zero rational coefficients.

    Example:
        >>> (Poly.name("x") * Poly.name("x") + Poly.number(1)).names()
        frozenset({'x'})
    """

    items: tuple[tuple[Monomial, Fraction], ...]

    @staticmethod
    def of(terms: dict[Monomial, Fraction]) -> Poly:
        if len(terms) > MAX_TERMS:
            raise _Unreadable("too many terms")
        return Poly(tuple(sorted((k, v) for k, v in terms.items() if v)))

    @staticmethod
    def number(value: Fraction | int) -> Poly:
        return Poly.of({(1, ()): Fraction(value)})

    @staticmethod
    def name(name: str) -> Poly:
        return Poly.of({(1, ((name, 1),)): Fraction(1)})

    @staticmethod
    def radical(radicand: int) -> Poly:
        """``sqrt(radicand)`` for a square-free radicand (negative: ``i * sqrt(-radicand)``)."""
        return Poly.of({(radicand, ()): Fraction(1)})

    @property
    def terms(self) -> tuple[tuple[Monomial, Fraction], ...]:
        return self.items

    def as_dict(self) -> dict[Monomial, Fraction]:
        return dict(self.items)

    def is_zero(self) -> bool:
        return not self.items

    def names(self) -> frozenset[str]:
        return frozenset(name for (_, powers), _ in self.items for name, _ in powers)

    def constant(self) -> Fraction | None:
        """The value when this is a rational number, else None."""
        if not self.items:
            return Fraction(0)
        if len(self.items) == 1 and self.items[0][0] == (1, ()):
            return self.items[0][1]
        return None

    def __add__(self, other: Poly) -> Poly:
        out = self.as_dict()
        for key, value in other.items:
            out[key] = out.get(key, Fraction(0)) + value
        return Poly.of(out)

    def __neg__(self) -> Poly:
        return Poly(tuple((k, -v) for k, v in self.items))

    def __sub__(self, other: Poly) -> Poly:
        return self + (-other)

    def __mul__(self, other: Poly) -> Poly:
        if len(self.items) * len(other.items) > MAX_TERMS * 8:
            raise _Unreadable("product too large")
        out: dict[Monomial, Fraction] = {}
        for (r1, p1), c1 in self.items:
            for (r2, p2), c2 in other.items:
                factor, radicand = _radical_product(r1, r2)
                key = (radicand, _powers_product(p1, p2))
                coefficient = c1 * c2 * factor
                _check_size(coefficient)
                out[key] = out.get(key, Fraction(0)) + coefficient
        return Poly.of(out)

    def power(self, exponent: int) -> Poly:
        if exponent < 0:
            raise _Unreadable("negative power of a polynomial")
        constant = self.constant()
        if constant is not None:
            if constant != 0 and exponent * _bits(constant) > MAX_BITS:
                raise _Unreadable("power too large")
            return Poly.number(constant**exponent)
        if exponent > MAX_EXPONENT:
            raise _Unreadable("exponent too large")
        result, base = Poly.number(1), self
        while exponent:
            if exponent & 1:
                result = result * base
            exponent >>= 1
            if exponent:
                base = base * base
        return result

    def evaluate(self, values: dict[str, complex]) -> complex:
        """The value with each name replaced (floating point; for ordering and tolerances)."""
        total = 0j
        for (radicand, powers), coefficient in self.items:
            term = complex(float(coefficient))
            term *= math.sqrt(abs(radicand)) * (1j if radicand < 0 else 1)
            for name, power in powers:
                term *= values[name] ** power
            total += term
        return total


def _bits(value: Fraction) -> int:
    return max(value.numerator.bit_length(), value.denominator.bit_length(), 1)


def _check_size(value: Fraction) -> None:
    if _bits(value) > MAX_BITS:
        raise _Unreadable("coefficient too large")


def _radical_product(a: int, b: int) -> tuple[int, int]:
    """``sqrt(a) * sqrt(b) = factor * sqrt(radicand)`` for signed square-free a and b."""
    if a == 1 or b == 1:
        return 1, a * b
    g = math.gcd(abs(a), abs(b))
    magnitude = (abs(a) // g) * (abs(b) // g)
    negatives = (a < 0) + (b < 0)
    factor = g * (-1 if negatives == 2 else 1)
    return factor, -magnitude if negatives == 1 else magnitude


def _powers_product(
    a: tuple[tuple[str, int], ...], b: tuple[tuple[str, int], ...]
) -> tuple[tuple[str, int], ...]:
    if not a:
        return b
    if not b:
        return a
    out = dict(a)
    for name, power in b:
        out[name] = out.get(name, 0) + power
        if out[name] > MAX_POWER:
            raise _Unreadable("power too large")
    return tuple(sorted(out.items()))


@dataclasses.dataclass(frozen=True)
class Ratio:
    """``num / den``: a rational function (den is never the zero polynomial).

    Example:
        >>> half = Ratio(Poly.number(1), Poly.number(2))
        >>> half.equals(Ratio(Poly.number(2), Poly.number(4))), half.constant()
        (True, Fraction(1, 2))
    """

    num: Poly
    den: Poly

    @staticmethod
    def of(poly: Poly) -> Ratio:
        return Ratio(poly, Poly.number(1))

    def __add__(self, other: Ratio) -> Ratio:
        if self.den == other.den:
            return Ratio(self.num + other.num, self.den)
        top = self.num * other.den + other.num * self.den
        return _simplified(Ratio(top, self.den * other.den))

    def __neg__(self) -> Ratio:
        return Ratio(-self.num, self.den)

    def __sub__(self, other: Ratio) -> Ratio:
        return self + (-other)

    def __mul__(self, other: Ratio) -> Ratio:
        return _simplified(Ratio(self.num * other.num, self.den * other.den))

    def __truediv__(self, other: Ratio) -> Ratio:
        if other.num.is_zero():
            raise _Unreadable("division by zero")
        return _simplified(Ratio(self.num * other.den, self.den * other.num))

    def power(self, exponent: int) -> Ratio:
        if exponent < 0:
            if self.num.is_zero():
                raise _Unreadable("division by zero")
            return Ratio(self.den.power(-exponent), self.num.power(-exponent))
        return Ratio(self.num.power(exponent), self.den.power(exponent))

    def equals(self, other: Ratio) -> bool:
        """Exact equality: ``n1 * d2 == n2 * d1``."""
        if self.den == other.den:  # polynomials are canonical: compare the numerators
            return self.num == other.num
        return self.num * other.den == other.num * self.den

    def names(self) -> frozenset[str]:
        return self.num.names() | self.den.names()

    def constant(self) -> Fraction | None:
        """The value when this is a rational number, else None."""
        top, bottom = self.num.constant(), self.den.constant()
        if top is None or bottom is None or bottom == 0:
            return None
        return top / bottom

    def is_zero(self) -> bool:
        return self.num.is_zero()

    def evaluate(self, values: dict[str, complex] | None = None) -> complex | None:
        """The value as a complex number (``pi`` and ``e`` known), None when names remain."""
        table = {"pi": complex(math.pi), "e": complex(math.e), **(values or {})}
        if not self.names() <= table.keys():
            return None
        try:
            bottom = self.den.evaluate(table)
            return self.num.evaluate(table) / bottom if bottom else None
        except (OverflowError, ValueError):
            return None

    def real_value(self) -> float | None:
        """The value when this is a real constant (``pi``, ``e``, radicals allowed), else None."""
        value = self.evaluate()
        if value is None or not math.isfinite(value.real):
            return None
        if abs(value.imag) > 1e-12 * max(1.0, abs(value.real)) or self.has_imaginary():
            return None
        return value.real

    def has_imaginary(self) -> bool:
        return any(r < 0 for (r, _), _ in self.num.items + self.den.items)


def _simplified(ratio: Ratio) -> Ratio:
    """Divide out a rational denominator so numbers stay small (``6/4`` -> ``3/2``)."""
    bottom = ratio.den.constant()
    if bottom is not None and bottom not in (0, 1):
        scale = Poly.number(1 / bottom)
        return Ratio(ratio.num * scale, Poly.number(1))
    return ratio


# -- reading ----------------------------------------------------------------------------------


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
    except (_Unreadable, IndexError, ZeroDivisionError, RecursionError, ValueError):
        return None
    integer = len(tokens) <= 2 and tokens[-1].isdigit() and tokens[0] in ("-", "+", tokens[-1])
    return Expression(value, reader.digits, reader.places, integer)


def _tokens(text: str) -> list[str] | None:
    tokens, at = [], 0
    for match in _TOKEN.finditer(text):
        if match.start() != at:
            return None
        at = match.end()
        if match.lastgroup != "space":
            tokens.append(match.group())
    return tokens if at == len(text) else None


class _Reader:
    """Recursive descent over the tokens; raises :class:`_Unreadable` outside the grammar."""

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
            raise _Unreadable(token)
        self.at += 1
        return token

    def sum(self) -> Ratio:
        self.depth += 1
        if self.depth > 40:
            raise _Unreadable("too deep")
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
                raise _Unreadable("factorial")
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
            raise _Unreadable("exponent")  # x^23 is x^2 3 in TeX: too odd to guess
        if value is None or value.denominator != 1 or abs(value) > 10_000:
            raise _Unreadable("exponent")
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
        raise _Unreadable(token)

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
                    raise _Unreadable("subscript")  # x_12 is x_1 2 in TeX
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
        raise _Unreadable("fraction argument")

    def root(self) -> Ratio:
        if self.peek() == "[":
            raise _Unreadable("n-th root")
        token = self.peek()
        if token == "{":
            inner = self.atom()
        elif token.isdigit():
            inner = self.frac_argument()
        else:
            raise _Unreadable("root argument")
        value = inner.constant()
        if value is None:
            raise _Unreadable("root of a non-rational")
        return Ratio.of(_square_root(value))


def _starts_factor(token: str) -> bool:
    """Whether ``token`` begins an implicit product (``2x``, ``x(x+1)``, ``2\\sqrt{3}``)."""
    if token == "(":
        return True
    if token[0] == "\\":
        return token in ("\\pi", "\\frac", "\\sqrt") or token[1:] in GREEK
    return token.isalpha()


def _square_root(value: Fraction) -> Poly:
    """``sqrt(value)`` exactly: ``sqrt(p/q) = sqrt(p*q)/q``, negative values give ``i``."""
    if value == 0:
        return Poly.number(0)
    sign = -1 if value < 0 else 1
    value = abs(value)
    radicand = value.numerator * value.denominator
    if radicand > MAX_RADICAND:
        raise _Unreadable("radicand too large")
    outside, inside = _split_square(radicand)
    coefficient = Fraction(outside, value.denominator)
    if inside == 1 and sign > 0:
        return Poly.number(coefficient)
    return Poly.of({(sign * inside, ()): coefficient})


def _split_square(n: int) -> tuple[int, int]:
    """``n = outside**2 * inside`` with ``inside`` square-free."""
    outside, inside, k = 1, n, 2
    while k * k <= inside:
        while inside % (k * k) == 0:
            inside //= k * k
            outside *= k
        k += 1 if k == 2 else 2
    return outside, inside
