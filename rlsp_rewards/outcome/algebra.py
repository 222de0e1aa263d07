"""Exact arithmetic for answers: rational functions with coefficients in Q(sqrt n, i).

An answer such as ``\\frac{1+\\sqrt{5}}{2}``, ``3 - 4i``, ``x^2 + 2xy + y^2``, ``2\\pi r`` or
``\\frac{x+1}{x-1}`` is read (:func:`~rlsp_rewards.outcome.expressions.read_expression`) into
a :class:`Ratio` of two :class:`Poly` values, with nothing evaluated and no floating point:

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
    >>> root = Ratio.of(Poly.radical(2))
    >>> (root * root).constant(), (root + root).equals(Ratio.of(Poly.radical(2) * Poly.number(2)))
    (Fraction(2, 1), True)
"""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

__all__ = ["Monomial", "Poly", "Ratio", "square_root"]

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


class _Unreadable(ValueError):
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


def square_root(value: Fraction) -> Poly:
    """``sqrt(value)`` exactly: ``sqrt(p/q) = sqrt(p*q)/q``, negative values give ``i``.

    Example:
        >>> square_root(Fraction(8)).items, square_root(Fraction(-4)).items
        ((((2, ()), Fraction(2, 1)),), (((-1, ()), Fraction(2, 1)),))
    """
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
