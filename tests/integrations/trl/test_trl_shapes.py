"""Group shapes through TRL 1.16's real ``GRPOTrainer`` on CPU (the TRL environment): two
prompts x four generations per step, ``kimi`` and ``shorter_better`` side by side. TRL passes
each generation batch whole, so every prompt's completions are scored together: what TRL trains
on is checked against the two formulas computed here by hand from the completions it passed.
(The random model's answers are wrong, so this exercises the lengths and the wrong-answer
branches; the right-answer branches are in test_adapter_shapes.py and test_shapes.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import datasets
import pytest
from transformers import PreTrainedTokenizerFast
from trl import GRPOConfig, GRPOTrainer

from rlsp_rewards.integrations.trl import RlspTrlReward

STEPS = 2
GENERATIONS = 4
BATCH = 2 * GENERATIONS  # two prompts per step


def problems() -> datasets.Dataset:
    rows = [
        {"prompt": f"What is {a} + 3? Put the answer in \\boxed{{}}.", "solution": str(a + 3)}
        for a in range(8)
    ]
    return datasets.Dataset.from_list(rows)


def kimi(lengths: list[int], right: list[bool]) -> list[float]:
    lo, hi = min(lengths), max(lengths)
    if lo == hi:
        return [0.0] * len(lengths)
    lams = [0.5 - (n - lo) / (hi - lo) for n in lengths]
    return [lam if ok else min(0.0, lam) for lam, ok in zip(lams, right, strict=True)]


def shorter_better(lengths: list[int], right: list[bool]) -> list[float]:
    rights = [n for n, ok in zip(lengths, right, strict=True) if ok]
    best = min(rights) if rights else sum(lengths) / len(lengths)
    return [2.0 * ok - 0.001 * abs(n - best) for n, ok in zip(lengths, right, strict=True)]


@pytest.fixture(scope="module")
def stopping_model_dir(model_dir: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The tiny model with a long end-of-text embedding: with tied weights the end token's logit
    swings widely with the hidden state, so sampled completions stop at different lengths (the
    random model otherwise always runs to max_completion_length, and every length is equal)."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_dir)
    tokenizer = PreTrainedTokenizerFast.from_pretrained(model_dir)
    with torch.no_grad():
        model.get_input_embeddings().weight[tokenizer.eos_token_id] *= 40
    path = tmp_path_factory.mktemp("tiny-qwen2-stopping")
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


def test_grpo_trains_with_group_shapes(
    stopping_model_dir: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model_dir = stopping_model_dir
    seen: list[dict[str, Any]] = []
    original = RlspTrlReward.__call__

    def recorded(self, prompts=None, completions=None, completion_ids=None, **kwargs):
        out = original(self, prompts, completions, completion_ids, **kwargs)
        seen.append(
            {
                "name": self.__name__,
                "prompts": prompts,
                "completions": completions,
                "ids": completion_ids,
                "solution": kwargs["solution"],
                "out": out,
            }
        )
        return out

    monkeypatch.setattr(RlspTrlReward, "__call__", recorded)
    funcs = [
        RlspTrlReward(exploration="kimi", name="rlsp_kimi"),
        RlspTrlReward(exploration="shorter_better", name="rlsp_sb"),
    ]
    args = GRPOConfig(
        output_dir=str(tmp_path),
        per_device_train_batch_size=BATCH,
        num_generations=GENERATIONS,
        max_completion_length=24,
        max_steps=STEPS,
        use_cpu=True,
        report_to=[],
        save_strategy="no",
        logging_steps=1,
        seed=0,
    )
    trainer = GRPOTrainer(
        model=model_dir,
        reward_funcs=funcs,
        args=args,
        train_dataset=problems(),
        processing_class=PreTrainedTokenizerFast.from_pretrained(model_dir),
    )
    trainer.train()
    assert trainer.state.global_step == STEPS
    judge = RlspTrlReward("outcome")  # correctness of each completion, for the hand formulas
    formulas = {"rlsp_kimi": kimi, "rlsp_sb": shorter_better}
    assert sorted(c["name"] for c in seen) == sorted(list(formulas) * STEPS)
    for call in seen:
        assert len(call["prompts"]) == BATCH and len(set(call["prompts"])) == 2
        right = [
            v == 1.0
            for v in original(
                judge, call["prompts"], call["completions"], call["ids"], solution=call["solution"]
            )
        ]
        expected: list[float] = [0.0] * BATCH
        for prompt in set(call["prompts"]):
            members = [i for i, p in enumerate(call["prompts"]) if p == prompt]
            assert len(members) == GENERATIONS  # TRL passed the whole group
            terms = formulas[call["name"]](
                [len(call["ids"][i]) for i in members], [right[i] for i in members]
            )
            for i, term in zip(members, terms, strict=True):
                # kimi is additive (0.8*v + 0.2*term), shorter_better is the whole reward
                expected[i] = 0.8 * right[i] + 0.2 * term if call["name"] == "rlsp_kimi" else term
        assert call["out"] == pytest.approx(expected, abs=1e-9)
    assert any(len({len(ids) for ids in call["ids"]}) > 2 for call in seen)  # lengths differ
    assert any(any(out != 0.0 for out in call["out"]) for call in seen)
    logged = [h for h in trainer.state.log_history if "loss" in h]
    assert len(logged) == STEPS
    for step in logged:
        for name in formulas:
            assert f"{name}/shape_term" in step and step[f"{name}/error"] == 0.0
