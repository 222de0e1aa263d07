"""A synthetic, labelled rollout workload for ``rlsp-rewards bench``, generated from a seed.

It imitates what a reward function sees in one RL step: ``problems`` prompts with ``samples``
responses each; the responses of one prompt repeat a few distinct final answers (some correct in
different spellings, some near misses; about a quarter are symbolic, such as radicals, multiples
of pi, polynomials in two variables, intervals with radical ends and logarithms, which reach
sympy); each response carries 1-2 KB of reasoning with inline
and display maths; a few have no final answer (truncated, or whose last number happens to be the
gold); and a small fraction is adversarial (power towers, huge factorials, deep nesting,
unterminated ``\\(``, huge integers, code injection, known false positives of plain
math-verify). Every response has a known label, so the benchmark also measures accuracy.

Example:
    >>> rows = generate(problems=4, samples=4, seed=1)
    >>> len(rows), sorted(rows[0])
    (16, ['gold', 'kind', 'label', 'problem', 'response'])
    >>> generate(problems=2, samples=3, seed=7) == generate(problems=2, samples=3, seed=7)
    True
"""

from __future__ import annotations

import random
from collections.abc import Callable
from fractions import Fraction
from typing import Any

__all__ = ["generate"]

#: An answer spelling and whether it equals the gold.
Answer = tuple[str, bool]
#: Builds (gold, correct spellings, wrong answers) for one problem.
Family = Callable[[random.Random], tuple[str, list[str], list[str]]]


def _integer(rng: random.Random) -> tuple[str, list[str], list[str]]:
    n = rng.choice([rng.randint(2, 99), rng.randint(100, 9999), rng.randint(10**5, 10**9)])
    spelled = f"{n:,}".replace(",", "{,}") if n >= 10_000 else str(n)
    return (
        str(n),
        [str(n), spelled, f"{n}.0" if n < 1000 else str(n)],
        [str(n + 1), str(n - 1), str(2 * n)],
    )


def _fraction(rng: random.Random) -> tuple[str, list[str], list[str]]:
    value = Fraction(rng.randint(1, 40), rng.choice([2, 3, 4, 5, 6, 7, 8, 9, 12, 16]))
    if value.denominator == 1:
        value += Fraction(1, 3)
    p, q = value.numerator, value.denominator
    right = [rf"\frac{{{p}}}{{{q}}}", f"{p}/{q}", rf"\dfrac{{{p}}}{{{q}}}"]
    if q in (2, 4, 5, 8, 16):
        right.append(str(float(value)))
    return rf"\frac{{{p}}}{{{q}}}", right, [rf"\frac{{{q}}}{{{p}}}", rf"\frac{{{p + 1}}}{{{q}}}"]


def _radical(rng: random.Random) -> tuple[str, list[str], list[str]]:
    a, b = rng.randint(2, 9), rng.choice([2, 3, 5, 6, 7, 10, 11])
    return (
        rf"{a}\sqrt{{{b}}}",
        [rf"{a}\sqrt{{{b}}}", rf"\sqrt{{{a * a * b}}}", rf"{a} \sqrt{{{b}}}"],
        [rf"{a}\sqrt{{{b + 1}}}", rf"{a + 1}\sqrt{{{b}}}"],
    )


def _pi_multiple(rng: random.Random) -> tuple[str, list[str], list[str]]:
    k, m = rng.choice([(1, 2), (1, 3), (2, 3), (3, 4), (5, 6), (1, 6), (7, 4)])
    top = "" if k == 1 else str(k)
    return (
        rf"\frac{{{top}\pi}}{{{m}}}",
        [rf"\frac{{{top}\pi}}{{{m}}}", rf"\frac{{{k}}}{{{m}}}\pi"],
        [rf"\frac{{{k + 1}\pi}}{{{m}}}", rf"\frac{{{k}}}{{{m}}}"],
    )


def _polynomial(rng: random.Random) -> tuple[str, list[str], list[str]]:
    a, b = rng.randint(1, 9), rng.randint(1, 9)
    gold = f"x^2 + {a + b}x + {a * b}"
    return (
        gold,
        [gold, f"(x+{a})(x+{b})", f"{a * b} + {a + b}x + x^2"],
        [f"x^2 - {a + b}x + {a * b}", f"(x+{a})(x-{b})"],
    )


def _rational_expression(rng: random.Random) -> tuple[str, list[str], list[str]]:
    a = rng.randint(1, 9)
    return (
        rf"\frac{{x+{a}}}{{x-{a}}}",
        [rf"\frac{{x+{a}}}{{x-{a}}}", rf"\frac{{{a}+x}}{{x-{a}}}"],
        [rf"\frac{{x-{a}}}{{x+{a}}}"],
    )


def _pair(rng: random.Random) -> tuple[str, list[str], list[str]]:
    a, b = rng.randint(-9, 9), rng.randint(-9, 9)
    if a == b:
        b += 1
    return f"({a}, {b})", [f"({a}, {b})", f"({a},{b})"], [f"({b}, {a})", f"({a}, {b + 1})"]


def _interval(rng: random.Random) -> tuple[str, list[str], list[str]]:
    a = rng.randint(-9, 5)
    b = a + rng.randint(1, 9)
    return (
        f"[{a}, {b})",
        [f"[{a}, {b})", f"[{a},{b})"],
        [f"({a}, {b})", f"[{a}, {b}]", rf"[{a}, \infty)"],
    )


def _set(rng: random.Random) -> tuple[str, list[str], list[str]]:
    items = sorted(rng.sample(range(-9, 20), 3))
    shuffled = items[:]
    rng.shuffle(shuffled)
    return (
        r"\{" + ", ".join(map(str, items)) + r"\}",
        [r"\{" + ", ".join(map(str, shuffled)) + r"\}", ", ".join(map(str, items))],
        [r"\{" + ", ".join(map(str, items[:2])) + r"\}"],
    )


def _text(rng: random.Random) -> tuple[str, list[str], list[str]]:
    days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    day = rng.choice(days)
    other = rng.choice([d for d in days if d != day])
    return rf"\text{{{day}}}", [rf"\text{{{day}}}", day], [rf"\text{{{other}}}"]


def _decimal(rng: random.Random) -> tuple[str, list[str], list[str]]:
    quarters = rng.randint(5, 80)
    value = Fraction(quarters, 4)
    if value.denominator == 1:
        value += Fraction(1, 4)
    text = str(float(value))
    return (
        text,
        [text, rf"\frac{{{value.numerator}}}{{{value.denominator}}}", text + "0"],
        [str(float(value) + 0.5), text[::-1] if text[::-1] != text else str(float(value) * 2)],
    )


def _radical_sum(rng: random.Random) -> tuple[str, list[str], list[str]]:
    a, b, c = rng.randint(1, 9), rng.choice([2, 3, 5, 6, 7, 13, 17]), rng.choice([2, 3, 4, 5])
    return (
        rf"\frac{{{a}+\sqrt{{{b}}}}}{{{c}}}",
        [
            rf"\frac{{{a}+\sqrt{{{b}}}}}{{{c}}}",
            rf"\frac{{\sqrt{{{b}}}+{a}}}{{{c}}}",
            rf"\frac{{{a}}}{{{c}}}+\frac{{\sqrt{{{b}}}}}{{{c}}}",
        ],
        [rf"\frac{{{a}-\sqrt{{{b}}}}}{{{c}}}", rf"\frac{{{a}+\sqrt{{{b + 1}}}}}{{{c}}}"],
    )


def _pi_expression(rng: random.Random) -> tuple[str, list[str], list[str]]:
    a, b = rng.randint(2, 12), rng.randint(1, 20)
    return (
        rf"{a}\pi - {b}",
        [rf"{a}\pi - {b}", rf"-{b} + {a}\pi", rf"{a}\pi-{b}"],
        [rf"{a}\pi + {b}", rf"{b} - {a}\pi"],
    )


def _bivariate(rng: random.Random) -> tuple[str, list[str], list[str]]:
    a, b = rng.randint(1, 6), rng.randint(1, 6)
    gold = f"x^2 + {a + b}xy + {a * b}y^2"
    return (
        gold,
        [gold, f"(x+{a}y)(x+{b}y)", f"{a * b}y^2 + {a + b}xy + x^2"],
        [f"x^2 - {a + b}xy + {a * b}y^2", f"(x+{a}y)(x-{b}y)"],
    )


def _radical_interval(rng: random.Random) -> tuple[str, list[str], list[str]]:
    a, b = rng.randint(-5, 5), rng.choice([2, 3, 5, 7])
    low, high = rf"{a}-\sqrt{{{b}}}", rf"{a}+\sqrt{{{b}}}"
    return (
        f"[{low}, {high}]",
        [f"[{low}, {high}]", rf"\left[{low},{high}\right]"],
        [f"({low}, {high})", rf"[{low}, {a}+\sqrt{{{b + 1}}}]"],
    )


def _log_exp(rng: random.Random) -> tuple[str, list[str], list[str]]:
    base, k = rng.choice([2, 3, 5]), rng.randint(2, 4)
    return (
        rf"{k}\ln {base}",
        [rf"{k}\ln {base}", rf"\ln {base**k}", rf"\ln({base**k})"],
        [rf"\ln {base}", rf"{k + 1}\ln {base}"],
    )


FAMILIES: tuple[Family, ...] = (
    _integer,
    _integer,
    _integer,
    _fraction,
    _fraction,
    _radical,
    _pi_multiple,
    _polynomial,
    _rational_expression,
    _pair,
    _interval,
    _set,
    _text,
    _decimal,
    _radical_sum,
    _pi_expression,
    _bivariate,
    _radical_interval,
    _log_exp,
)

#: (gold, response answer) pairs that are wrong and hard: slow or fooling plain math-verify.
ADVERSARIAL: tuple[tuple[str, str, bool], ...] = (
    ("42", r"$\boxed{9^{9^{9^{9}}}}$", False),  # power tower
    ("42", r"$\boxed{(10^{10})!}$", False),  # huge factorial
    ("1", r"\boxed{" + "{" * 3000 + "1" + "}" * 3000 + "}", False),  # deep nesting
    ("1", r"\( x" * 5000, False),  # unterminated \( (no final answer)
    ("42", r"$\boxed{41 = 42}$", False),  # math-verify counts it correct
    (r"\frac{1}{2006!}", r"$\boxed{\frac{1}{2004!}}$", False),  # math-verify's absolute tolerance
    ("5", r"$\boxed{__import__('os').system('touch /tmp/rlsp-bench-pwned')}$", False),  # injection
    ("9" * 5000, r"$\boxed{" + "9" * 5000 + "}$", True),  # past Python's int digit limit
    ("2", r"$\boxed{\sum_{k=1}^{10^{6}} \frac{1}{k^2}}$", False),  # a costly operator
)

_STEPS = (
    "Let me set up the problem carefully. We are given that $a + b = {n1}$ and $ab = {n2}$.",
    "First, I'll compute the discriminant: $\\Delta = {n1}^2 - 4 \\cdot {n2} = {n3}$.",
    "Wait, that doesn't look right. Let me recompute: ${n1} \\times {n2} = {n4}$.",
    "Substituting back, we get\n\\[\n f({n1}) = {n2}x^2 + {n3}x - {n1}.\n\\]",
    "Let me check this with a small case: if $x = {n1}$, then the sum is ${n2} + {n1} = {n5}$.",
    "Another approach: consider the generating function "
    "$\\sum_{{k\\ge 0}} x^k = \\frac{{1}}{{1-x}}$.",
    "Hmm, so the remainder when ${n4}$ is divided by ${n1}$ is ${n6}$.",
    "By the triangle inequality, $|a - b| \\le {n3}$, which gives a bound on the answer.",
    "Dividing both sides by ${n1}$, we find $y = \\frac{{{n2}}}{{{n1}}}$.",
    "So far we have {n1} cases; the remaining {n2} cases are symmetric.",
    "Actually, let me reconsider the constraint on $n$: we need $n \\equiv {n6} \\pmod{{{n1}}}$.",
    "Verifying: $({n1})^2 = {n7}$, which matches what we expected.",
)
_ENDINGS = (
    "Therefore, the answer is $\\boxed{{{answer}}}$.",
    "**Final Answer**\n\\[\n\\boxed{{{answer}}}\n\\]",
    "So the final answer is $\\boxed{{{answer}}}$.",
    "Putting it together, we obtain \\boxed{{{answer}}}.",
    "The answer is {answer}.",
)


def _reasoning(rng: random.Random) -> str:
    target = rng.randint(1000, 2000)
    parts: list[str] = []
    while sum(len(p) for p in parts) < target:
        numbers = {f"n{i}": 2 + int(rng.random() * 998) for i in range(1, 8)}
        parts.append(rng.choice(_STEPS).format(**numbers))
    return "\n\n".join(parts)


def _problem(rng: random.Random, index: int, samples: int) -> list[dict[str, Any]]:
    gold, right, wrong = rng.choice(FAMILIES)(rng)
    # a few distinct final answers per prompt, as real rollouts have
    pool: list[Answer] = [(a, True) for a in rng.sample(right, min(len(right), rng.randint(1, 2)))]
    pool += [(a, False) for a in rng.sample(wrong, min(len(wrong), rng.randint(0, 2)))]
    weights = [4 if ok else 2 for _, ok in pool]
    rows = []
    for _ in range(samples):
        body = _reasoning(rng)
        roll = rng.random()
        if roll < 0.03:  # truncated mid-thought: no final answer
            response, label, kind = body + " Now I need to", False, "truncated"
        elif roll < 0.05:  # no final answer, but the last number is the gold's
            response, label, kind = (
                body + f" I computed {gold} earlier, and then",
                False,
                "unanswered",
            )
        else:
            answer, label = rng.choices(pool, weights)[0]
            ending = rng.choice(_ENDINGS if " " not in answer else _ENDINGS[:4])
            response, kind = body + "\n\n" + ending.format(answer=answer), "normal"
        rows.append(
            {"problem": index, "gold": gold, "response": response, "label": label, "kind": kind}
        )
    return rows


def generate(
    problems: int = 512, samples: int = 16, *, seed: int = 0, adversarial: float = 0.012
) -> list[dict[str, Any]]:
    """The workload: ``problems * samples`` labelled rows, the same for the same arguments.

    Args:
        problems: number of prompts.
        samples: responses per prompt.
        seed: the random seed.
        adversarial: fraction of responses replaced by an adversarial one (see
            :data:`ADVERSARIAL`), each with its own gold.

    Returns:
        Rows with ``problem`` (index), ``gold``, ``response``, ``label`` (True when the
        response's final answer equals the gold) and ``kind`` (``normal``, ``truncated``,
        ``unanswered`` or ``adversarial``).

    Example:
        >>> sum(r["kind"] == "adversarial" for r in generate(64, 16, adversarial=0.02))
        20
    """
    rng = random.Random(seed)
    rows = [row for index in range(problems) for row in _problem(rng, index, samples)]
    for position in rng.sample(range(len(rows)), round(adversarial * len(rows))):
        gold, answer, label = rng.choice(ADVERSARIAL)
        rows[position] = {
            "problem": rows[position]["problem"],
            "gold": gold,
            "label": label,
            "response": _reasoning(rng) + "\n\nSo the answer is " + answer,
            "kind": "adversarial",
        }
    return rows
