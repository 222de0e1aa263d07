"""Golden file: the per-sample measures and the combination, to the last bit, on a fixed corpus.

The corpus (a few hundred responses, 0 B to 64 KB: reasoning prose with LaTeX, boxed and not,
repetitive, unicode, pathological) is generated here from fixed seeds; each response's SHA-256
is in the golden file, so a drifting generator fails loudly instead of comparing other texts.
The golden file holds, for every response and every configuration in :data:`CONFIGS`, the
length fields, the behaviour counts, and the whole combination given a fixed verdict (so a
change of the verifier does not move these numbers; the verifier has its own tests).

The values were recorded with the implementation before the fast measures (numpy repetition,
pre-filtered behaviour scan) replaced it; they must not change. Re-record only for a deliberate
change of a rule, and say so in the commit:
``.venv/bin/python tests/exploration/test_golden.py``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rlsp_rewards.behaviours import count_behaviours
from rlsp_rewards.combine import RlspReward
from rlsp_rewards.core import BEHAVIOUR_KEYS, OutcomeStatus, Sample
from rlsp_rewards.exploration.repetition import repetition
from rlsp_rewards.outcome.verifier import Verdict

#: Every test here runs with the compiled scans and with the numpy ones (conftest.py).
pytestmark = pytest.mark.usefixtures("either_scans")

GOLDEN = Path(__file__).parent / "data" / "golden_measures.json.gz"

#: The configurations recorded, by name: the three presets and a non-default n-gram window.
CONFIGS: dict[str, dict[str, Any]] = {
    "paper": {"preset": "paper"},
    "guarded": {"preset": "guarded"},
    "reference": {"preset": "reference"},
    "guarded-ngram4": {"preset": "guarded", "repetition_ngram": 4},
}
#: The fields every full call must reproduce (the measures and the behaviour counts).
MEASURE_KEYS = ("length", "length_source", "effective_length", "repetition", *BEHAVIOUR_KEYS)
#: The numeric result keys when the file was recorded (keys added later are not in it).
RECORDED_KEYS = (
    "score", "acc", "outcome", "length_term", "judge_grade", "length", "length_source",
    "effective_length", "repetition", "no_answer", "gold_unparseable", "timeout", "error",
    "judge_failed", "backtracking", "verification", "alternatives",
)  # fmt: skip
#: Windows of the bare repetition function recorded beside the presets' default 10.
NGRAMS = (2, 3, 64)

# -- the corpus -------------------------------------------------------------------------------

_STEPS = (
    "Let me set up the problem. We are given $a + b = {n1}$ and $ab = {n2}$.",
    "First, compute the discriminant: $\\Delta = {n1}^2 - 4 \\cdot {n2} = {n3}$.",
    "Wait, that doesn't look right. Let me recompute: ${n1} \\times {n2} = {n4}$.",
    "Substituting back, we get\n\\[\n f({n1}) = {n2}x^2 + {n3}x - {n1}.\n\\]",
    "Let me check this with a small case: if $x = {n1}$, the sum is ${n2} + {n1} = {n5}$.",
    "Another approach: the generating function $\\sum_{{k\\ge 0}} x^k = \\frac{{1}}{{1-x}}$.",
    "Hmm, so the remainder when ${n4}$ is divided by ${n1}$ is ${n6}$.",
    "By the triangle inequality, $|a - b| \\le {n3}$, which bounds the answer.",
    "Dividing both sides by ${n1}$, we find $y = \\frac{{{n2}}}{{{n1}}}$.",
    "So far we have {n1} cases; the remaining {n2} cases are symmetric.",
    "Actually, let me reconsider the constraint: we need $n \\equiv {n6} \\pmod{{{n1}}}$.",
    "Verifying: $({n1})^2 = {n7}$, which matches. Hold on, is that consistent?",
    "Alternatively, we can count the complement: ${n5} - {n3} = {n2}$ ways.",
    "I made a mistake above; scratch that. The correct value is ${n2}$.",
    "Let's double-check the edge case $n = {n1}$: it gives ${n3}$, as expected.",
)
_UNICODE_STEPS = (
    "Soit $x \u2208 \u211d$ tel que $x\u00b2 = {n1}$ ; alors $x = \u00b1\u221a{n1}$.",
    "\u8bbe $a = {n1}$\uff0c\u5219 $a^2 = {n7}$\u3002"
    "\u7b49\u7b49\uff0c\u8ba9\u6211\u68c0\u67e5\u4e00\u4e0b\u3002",
    "That\u2019s not right \u2014 wait\u2014 the sum \u03a3 k = {n4}, \u0394 = {n3}.",
    "\u0130stanbul \u0131\u015f\u0131k: \u00dcbung {n1} \u2264 {n2} \u2264 {n3} \U0001f914",
    "Caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u2014 \u00bd + \u00bc = \u00be, "
    "a\u0301 e\u0301 (combining).",
    "\u039f\u0394\u03a5\u03a3\u03a3\u0395\u03a5\u03a3 \u03bb\u03cc\u03b3\u03bf\u03c2\u03a3 "
    "{n1}\u00a0\u00a0spaces\u2003and\u3000ideographic",
)
_ENDINGS = (
    "Therefore, the answer is $\\boxed{{{answer}}}$.",
    "**Final Answer**\n\\[\n\\boxed{{{answer}}}\n\\]",
    "So the final answer is $\\boxed{{{answer}}}$.",
    "The answer is {answer}.",
    "",  # cut off: no final answer
)


def _numbers(rng: random.Random) -> dict[str, int]:
    return {f"n{i}": 2 + int(rng.random() * 998) for i in range(1, 8)}


def _prose(rng: random.Random, chars: int, steps: tuple[str, ...] = _STEPS) -> str:
    parts: list[str] = []
    size = 0
    while size < chars:
        part = rng.choice(steps).format(**_numbers(rng))
        parts.append(part)
        size += len(part) + 2
    return "\n\n".join(parts)


def _ending(rng: random.Random, answer: str) -> str:
    return "\n\n" + rng.choice(_ENDINGS).format(answer=answer)


def _answer(rng: random.Random) -> str:
    return rng.choice(["42", "\\frac{1}{2}", "(1, 2)", "x^2 + 1", "\\text{Tuesday}", "7"])


def _realistic(rng: random.Random) -> Iterator[tuple[str, str]]:
    for size in (200, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000):
        for _ in range(24 if size <= 16_000 else 10):
            answer = _answer(rng)
            yield answer, _prose(rng, rng.randint(size // 2, size)) + _ending(rng, answer)


def _repetitive(rng: random.Random) -> Iterator[tuple[str, str]]:
    for size in (1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000):
        answer = _answer(rng)
        sentence = rng.choice(_STEPS).format(**_numbers(rng)) + " "
        loop = sentence * (size // len(sentence))
        yield answer, loop + _ending(rng, answer)  # one sentence, over and over
        head = _prose(rng, size // 2)
        yield answer, head + "\n\n" + (sentence * (size // 2 // len(sentence)))  # a loop at the end
        paragraph = _prose(rng, 600)
        yield answer, "\n\n".join([paragraph] * (size // 600)) + _ending(rng, answer)
        words = rng.choice(["the answer is 4.", "wait", "so so so", "Let me check."])
        yield answer, " ".join([words] * (size // (len(words) + 1)))
        # near-copies: every tenth word changed
        base = _prose(rng, 400).split()
        copies = []
        for _ in range(size // 400):
            altered = list(base)
            altered[rng.randrange(len(altered))] = str(rng.randint(0, 99))
            copies.append(" ".join(altered))
        yield answer, "\n".join(copies) + _ending(rng, answer)
    for ngram_like in (3, 9, 10, 11, 64):  # a loop just shorter/longer than the windows
        unit = " ".join(f"w{i}" for i in range(ngram_like))
        yield "1", " ".join([unit] * 40)


def _mixed(rng: random.Random) -> Iterator[tuple[str, str]]:
    # prose with a loop of some length spliced in somewhere: partly repetitive responses
    for _ in range(40):
        answer = _answer(rng)
        prose = _prose(rng, rng.randint(1_000, 24_000))
        unit = _prose(rng, rng.randint(20, 400))
        at = rng.randint(0, len(prose))
        loop = (" " if rng.random() < 0.5 else "\n").join([unit] * rng.randint(2, 30))
        yield answer, prose[:at] + loop + prose[at:] + _ending(rng, answer)


def _unicode(rng: random.Random) -> Iterator[tuple[str, str]]:
    for size in (500, 2_000, 8_000, 32_000):
        for _ in range(8):
            answer = rng.choice(["\u03c0", "42", "\\frac{\u221a3}{2}", "\u00bd"])
            mixed = _STEPS + _UNICODE_STEPS
            yield answer, _prose(rng, size, mixed) + _ending(rng, answer)
    yield "1", "\u03a3" * 50 + " \u03a3a\u03a3 a\u03a3 \u03a3\u03a3\u03a3."  # final sigma
    yield "1", "\u0130" * 300 + " WAIT, \u0130 THAT\u2019S WRONG"  # lower() changes the length
    yield "1", "wait\u2014 wait\u2014wait \u2014 hold\u00a0on let\u2028me\u2029check"
    yield "1", "\ud800 lone \udfff surrogates \ud83e wait, \udd14 let me verify"
    yield "1", "\x00 nul \x00\x00 wait, \x1c\x1d\x1e\x1f separators \x85 next line"
    yield "1", "\U0001f600" * 2_000 + " " + "\U0001f600 " * 500
    yield "1", "\u3000".join(["\u7b49\u7b49"] * 3_000)


def _pathological(rng: random.Random) -> Iterator[tuple[str, str]]:
    yield "1", ""
    yield "1", " "
    yield "1", "\n\t \r\x0b\x0c" * 500
    yield "1", "x"
    yield "1", "\\boxed{1}"
    yield "1", "\\boxed{1}" + _prose(rng, 4_000)  # the box first: reference length is 0
    yield "2", _prose(rng, 2_000) + "\\boxed{" * 200 + "2"  # never closed
    yield "3", "\\boxed{" + "{" * 3_000 + "3" + "}" * 3_001
    yield "4", " ".join(f"\\boxed{{{i}}}" for i in range(2_000))
    yield "5", "a" * 20_000  # one word: cut into 16-character pieces
    yield "5", "ab" * 10_000
    yield "5", "a" * 17 + " " + "a" * 33 + " " + "a" * 16 + " " + "a" * 15 + " a"
    yield "6", "".join(rng.choice("abcdefghij ") for _ in range(30_000))
    yield "6", "".join(rng.choice("ab") for _ in range(30_000))  # no spaces, two letters
    yield "6", " ".join(rng.choice(["a", "b"]) for _ in range(20_000))  # tiny alphabet
    yield "7", "let me re " * 3_000 + "wait " * 3_000 + "that's not " * 3_000
    yield "7", "Wait, " * 5_000
    yield "7", "waitwait, verifyverify, unverifiable, rewait, awaited, check-in, checking"
    yield "7", "LET ME CHECK. Let\tMe\n\nVerify. let\u2019s try another way. Instead, let's go."
    yield "8", "$" * 10_000 + "\\(" * 5_000
    yield "8", "\\" * 20_000
    yield "8", "}" * 10_000 + "{" * 10_000
    yield "9", "1234567890" * 6_000
    yield "9", "\n".join(str(i) for i in range(10_000))
    yield "9", "Answer: 9"
    yield "9", "#### 9"
    yield "9", "The answer is 9"
    b64 = "".join(
        rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        for _ in range(40_000)
    )
    yield "9", "data: " + b64
    for size in (1_000, 16_000, 64_000):  # random words: little repetition
        vocab = [
            "".join(rng.choice("abcdefghijklmnop") for _ in range(rng.randint(1, 24)))
            for _ in range(500)
        ]
        text = " ".join(rng.choice(vocab) for _ in range(size // 8))
        yield "10", text + "\n\\boxed{10}"


def corpus() -> list[dict[str, Any]]:
    """The fixed corpus: rows with ``gold``, ``response`` and, for a third, ``response_tokens``."""
    rng = random.Random(20250218)
    rows = []
    for source in (_realistic, _repetitive, _mixed, _unicode, _pathological):
        for gold, response in source(rng):
            tokens = rng.randint(0, 20_000) if rng.random() < 0.33 else None
            rows.append({"gold": gold, "response": response, "response_tokens": tokens})
    return rows


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# -- what is recorded -----------------------------------------------------------------------

#: Fixed verdicts the combination is recorded with (cycled over the rows).
_VERDICTS = (
    OutcomeStatus.CORRECT,
    OutcomeStatus.INCORRECT,
    OutcomeStatus.NO_ANSWER,
    OutcomeStatus.CORRECT,
    OutcomeStatus.TIMEOUT,
    OutcomeStatus.INCORRECT,
    OutcomeStatus.GOLD_UNPARSEABLE,
    OutcomeStatus.ERROR,
)


def _sample(row: dict[str, Any]) -> Sample:
    return Sample(row["response"], gold=row["gold"], response_tokens=row["response_tokens"])


def _verdict(index: int) -> Verdict:
    status = _VERDICTS[index % len(_VERDICTS)]
    return Verdict(status, "" if status is OutcomeStatus.NO_ANSWER else f"p{index}")


def measure(index: int, row: dict[str, Any], rewards: dict[str, RlspReward]) -> dict[str, Any]:
    """Everything recorded for one row (the same function records and checks)."""
    sample = _sample(row)
    text = row["response"]
    out: dict[str, Any] = {
        "sha256": _sha(text),
        "behaviours": count_behaviours(text),
        "repetition": {str(n): repetition(text, n) for n in NGRAMS},
    }
    for name, reward in rewards.items():
        called = reward(
            solution_str=text, ground_truth=row["gold"], response_tokens=row["response_tokens"]
        )
        assert called["capped"] == 0.0  # every response is shorter than the cap
        combined = reward._combine(sample, _verdict(index), None).to_dict()
        out[name] = {
            "measures": {key: called[key] for key in MEASURE_KEYS},
            "combined": {key: combined[key] for key in RECORDED_KEYS},
        }
    return out


def _rewards() -> dict[str, RlspReward]:
    return {name: RlspReward(**settings) for name, settings in CONFIGS.items()}


def record() -> None:
    """Write the golden file from the current implementation."""
    rewards = _rewards()
    rows = [measure(i, row, rewards) for i, row in enumerate(corpus())]
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps({"rows": rows}, indent=0, sort_keys=True).encode("utf-8")
    GOLDEN.write_bytes(gzip.compress(data, mtime=0))
    print(f"recorded {len(rows)} rows to {GOLDEN}")


# -- the tests ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def golden() -> list[dict[str, Any]]:
    return json.loads(gzip.decompress(GOLDEN.read_bytes()))["rows"]


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    return corpus()


def test_the_corpus_is_the_recorded_one(
    rows: list[dict[str, Any]], golden: list[dict[str, Any]]
) -> None:
    assert len(rows) == len(golden) >= 300
    assert [_sha(r["response"]) for r in rows] == [g["sha256"] for g in golden]
    sizes = [len(r["response"]) for r in rows]
    assert min(sizes) == 0 and max(sizes) >= 64_000  # empty to 64 KB


@pytest.mark.parametrize("part", range(4))
def test_every_field_to_the_last_bit(
    part: int, rows: list[dict[str, Any]], golden: list[dict[str, Any]]
) -> None:
    # Four parts, so that a failure names the region of the corpus; == on floats: bit equality
    # (json round-trips floats exactly).
    rewards = _rewards()
    for index in range(part, len(rows), 4):
        got = measure(index, rows[index], rewards)
        assert got == golden[index], f"row {index}: {_diff(got, golden[index])}"


def _diff(got: dict[str, Any], want: dict[str, Any], where: str = "") -> str:
    for key in sorted(set(got) | set(want)):
        a, b = got.get(key), want.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            found = _diff(a, b, f"{where}{key}.")
            if found:
                return found
        elif a != b:
            return f"{where}{key}: got {a!r}, recorded {b!r}"
    return ""


if __name__ == "__main__":
    record()
