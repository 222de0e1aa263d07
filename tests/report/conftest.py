"""A tokenizer-free generator of synthetic training runs, written in verl 0.9.1's dump format.

Each run has 30 steps of 48 responses (12 prompts x 4 samples). Responses are built from words
(a response's token count is its word count, passed to the reward as the framework's exact
count), scored by the real RLSP reward through its batch path, and written as verl's
``_write_generations`` writes them: ``input``, ``output``, ``gts``, ``score``, ``step``, then
one column per key of our result (``score`` overwritten by our own, as verl does).

Scenarios:

* ``healthy``: length and the three behaviour rates rise, and accuracy with them;
* ``hacking``: as healthy up to step 19; from step 20 accuracy stays at step 19's and a
  repeated filler block after the answer grows by 4 copies a step (repetition hacking),
  responses cut at the length cap (700 tokens);
* ``collapse``: as healthy up to step 14; from step 15 length stays put and a growing share of
  responses ends without a final answer (format collapse), 60% at step 30.

The generator returns its own truth per step (accuracy, mean length, marker shares and counts,
no-answer share, cut responses), computed from what it wrote, independent of the report.
"""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path
from typing import Any

import pytest

from rlsp_rewards.core import Sample
from rlsp_rewards.registry import build

STEPS = 30
PROMPTS = 12
SAMPLES = 4
ROWS = PROMPTS * SAMPLES
CAP = 700  #: the length cap (verl's data.max_response_length), in tokens (= words here)
BLOCK = "I keep adding more words to make this response longer and longer now."  # 13 words
MARKERS = {  # one marker each: counted once by rlsp_rewards.behaviours
    "backtracking": "Wait, I redo the sum.",
    "verification": "Let me check the sum.",
    "alternatives": "Alternatively, I use a table.",
}


@dataclasses.dataclass(frozen=True)
class Scenario:
    """A run's shape over steps."""

    name: str
    hack_from: int | None = None  #: repetition hacking from this step
    collapse_from: int | None = None  #: format collapse from this step


SCENARIOS = {
    "healthy": Scenario("healthy"),
    "hacking": Scenario("hacking", hack_from=20),
    "collapse": Scenario("collapse", collapse_from=15),
}


def _frac(step: int) -> float:
    """0 at step 1, 1 at step 30."""
    return (step - 1) / (STEPS - 1)


def _filler(words: int, tag: str) -> str:
    """``words`` words of sentences that never repeat a 10-word window (each has unique tokens)."""
    out: list[str] = []
    k = 0
    while len(out) < words:
        out += f"Step {k} relates value a{tag}x{k} with value b{tag}x{k} here.".split()
        k += 1
    return " ".join(out[:words])


@dataclasses.dataclass
class Item:
    """One generated response and what the generator knows about it."""

    prompt: str
    gold: str
    text: str
    tokens: int
    correct: bool
    answered: bool
    markers: dict[str, int]
    cut: bool


def _items(scenario: Scenario, step: int) -> list[Item]:
    shape_step = step
    if scenario.collapse_from is not None and step >= scenario.collapse_from:
        shape_step = scenario.collapse_from - 1  # length and accuracy stay put
    accuracy_step = shape_step
    if scenario.hack_from is not None and step >= scenario.hack_from:
        accuracy_step = scenario.hack_from - 1
    correct_count = round(ROWS * (0.3 + 0.4 * _frac(accuracy_step)))
    order = random.Random(step).sample(range(ROWS), ROWS)
    correct = set(order[:correct_count])
    unanswered: set[int] = set()
    if scenario.collapse_from is not None and step >= scenario.collapse_from:
        share = 0.6 * (step - scenario.collapse_from + 1) / (STEPS - scenario.collapse_from + 1)
        unanswered = set(random.Random(1000 + step).sample(range(ROWS), round(ROWS * share)))
    base = 80 + 320 * _frac(shape_step)
    copies = 0
    if scenario.hack_from is not None and step >= scenario.hack_from:
        copies = 4 * (step - scenario.hack_from + 1)
    items = []
    for i in range(ROWS):
        p, j = divmod(i, SAMPLES)
        gold = str(10 + p)
        markers = {}
        for n, key in enumerate(MARKERS):
            share = 0.1 + 0.8 * _frac(shape_step) - 0.05 * n
            chosen = random.Random(f"{key}{step}").sample(range(ROWS), round(ROWS * share))
            markers[key] = (1 + i % 2) if i in chosen else 0
        answered = i not in unanswered
        right = i in correct and answered
        answer = f"So the result is \\boxed{{{gold if right else int(gold) + 1 + j}}}."
        ending = answer if answered else "So I stop here without a result."
        parts = [MARKERS[key] for key in MARKERS for _ in range(markers[key])]
        marker_words = sum(len(part.split()) for part in parts)
        target = round(base * (0.5 + i / (ROWS - 1)))
        filler = _filler(max(target - marker_words - len(ending.split()), 5), f"{p}{j}")
        text = " ".join([filler, *parts, ending, *([BLOCK] * copies)])
        words = text.split()
        cut = len(words) > CAP
        if cut:
            text = " ".join(words[:CAP])
        tokens = min(len(words), CAP)
        prompt = f"Problem {p}: what is {p} plus 10? Put the result in a box."
        items.append(Item(prompt, gold, text, tokens, right, answered, markers, cut))
    return items


def _truth(items: list[Item]) -> dict[str, float]:
    n = len(items)
    truth = {
        "rows": float(n),
        "accuracy": sum(it.correct for it in items) / n,
        "length_mean": sum(it.tokens for it in items) / n,
        "no_answer": sum(not it.answered for it in items) / n,
        "truncated": sum(it.cut for it in items) / n,
    }
    for key in MARKERS:
        truth[f"{key}_share"] = sum(it.markers[key] > 0 for it in items) / n
        truth[f"{key}_count"] = sum(it.markers[key] for it in items) / n
    return truth


@dataclasses.dataclass
class SyntheticRun:
    """A generated run folder and the generator's truth per step."""

    path: Path
    preset: str
    truth: dict[int, dict[str, float]]
    steps: int = STEPS
    rows: int = ROWS  #: responses per step
    cap: int = CAP  #: the length cap, in tokens


def write_run(folder: Path, scenario: Scenario, preset: str = "guarded") -> SyntheticRun:
    """Write ``{step}.jsonl`` files as verl 0.9.1's trainer does, scored by our real reward."""
    reward = build("combined", preset=preset)
    folder.mkdir(parents=True, exist_ok=True)
    truth = {}
    for step in range(1, STEPS + 1):
        items = _items(scenario, step)
        samples = [
            Sample(response=it.text, gold=it.gold, response_tokens=it.tokens) for it in items
        ]
        results = reward.score_batch(samples)
        with (folder / f"{step}.jsonl").open("w") as handle:
            for item, result in zip(items, results, strict=True):
                out = result.to_dict()
                entry: dict[str, Any] = {
                    "input": item.prompt,
                    "output": item.text,
                    "gts": item.gold,
                    "score": out["score"],
                    "step": step,
                }
                entry.update(out)  # verl: base_data[k] = v for every reward_extra_info key
                handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
        truth[step] = _truth(items)
    return SyntheticRun(folder, preset, truth)


@pytest.fixture(scope="session")
def synthetic_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SyntheticRun]:
    """The three scenarios scored with ``guarded``, and ``healthy`` again with ``paper``."""
    root = tmp_path_factory.mktemp("runs")
    runs = {name: write_run(root / name, scenario) for name, scenario in SCENARIOS.items()}
    runs["healthy_paper"] = write_run(root / "healthy_paper", SCENARIOS["healthy"], "paper")
    return runs
