"""GRPO with the RLSP reward in TRL 1.16: local MATH/AIME files, a model, one command.

Usage (8 GPUs; the paper's settings are in rlsp_grpo.yaml, any GRPOConfig field can be
overridden on the command line)::

    accelerate launch --num_processes 8 examples/trl/train_rlsp_grpo.py \\
        --config examples/trl/rlsp_grpo.yaml \\
        --model meta-llama/Llama-3.1-8B-Instruct \\
        --data ~/datasets/MATH/train --output_dir runs/rlsp-grpo

The data: JSONL, JSON or parquet files (or folders of them); the question comes from
``problem``, ``question`` or ``prompt``, the gold from ``answer``, else ``solution`` (our
verifier reads the final ``\\boxed{}`` of a worked solution). Prompts longer than
``--max_prompt_tokens`` (the paper's 2048) are left out: TRL has no prompt-length limit.

The reward: ``--reward combined`` (the RLSP reward, ``--preset`` paper, reference or guarded,
``--exploration judge`` with ``--judge_url``) or ``--reward decoupled``: the outcome and the
length term as two reward functions, normalised apart and weighted 0.8 / 0.2 (TRL's
``multi_objective_aggregation="normalize_then_sum"``, the GDPO rule).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from datasets import Dataset
from transformers import AutoTokenizer
from trl import GRPOConfig, GRPOTrainer, TrlParser

from rlsp_rewards.integrations.trl import RlspTrlReward

#: Appended to every question; our verifier reads the last \boxed{}.
INSTRUCTION = "Let's think step by step and output the final answer within \\boxed{}."
QUESTION_KEYS = ("problem", "question", "prompt")
GOLD_KEYS = ("answer", "expected_answer", "final_answer", "solution")


@dataclasses.dataclass
class RlspArguments:
    """What this script adds to TRL's GRPOConfig (every field is a --flag)."""

    model: str = dataclasses.field(metadata={"help": "A model path or hub name."})
    data: list[str] = dataclasses.field(metadata={"help": "Local files or folders of rows."})
    reward: str = dataclasses.field(default="combined", metadata={"help": "combined|decoupled"})
    preset: str = dataclasses.field(default="guarded", metadata={"help": "paper|reference|guarded"})
    exploration: str = dataclasses.field(default="length", metadata={"help": "length|judge"})
    judge_url: str | None = dataclasses.field(default=None, metadata={"help": "judge /v1 URL"})
    judge_model: str | None = dataclasses.field(default=None, metadata={"help": "judge model"})
    clip: float = dataclasses.field(default=10.0, metadata={"help": "reward clip (the paper: 10)"})
    max_prompt_tokens: int = dataclasses.field(default=2048, metadata={"help": "longer: left out"})
    timeout_s: float = dataclasses.field(default=10.0, metadata={"help": "verifier budget"})


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a JSONL, JSON or parquet file, or of every such file under a folder."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix in (".jsonl", ".json", ".parquet"))
        return [row for file in files for row in read_rows(file)]
    if path.suffix == ".parquet":
        return Dataset.from_parquet(str(path)).to_list()
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    data = json.loads(text)
    return data if isinstance(data, list) else [data]


def to_trl_row(row: dict[str, Any]) -> dict[str, Any] | None:
    """A conversational TRL row: a chat ``prompt`` and the gold in ``solution``; None if
    the row has no question or no gold."""
    lower = {str(k).lower(): v for k, v in row.items()}
    question = next((lower[k] for k in QUESTION_KEYS if lower.get(k) not in (None, "")), None)
    gold = next((lower[k] for k in GOLD_KEYS if lower.get(k) not in (None, "")), None)
    if question is None or gold is None:
        return None
    content = f"{question}\n\n{INSTRUCTION}"
    return {"prompt": [{"role": "user", "content": content}], "solution": str(gold)}


def build_dataset(args: RlspArguments, tokenizer: Any) -> Dataset:
    rows = [to_trl_row(r) for path in args.data for r in read_rows(Path(path).expanduser())]
    kept = [
        r
        for r in rows
        if r is not None
        and len(tokenizer.apply_chat_template(r["prompt"], add_generation_prompt=True))
        <= args.max_prompt_tokens
    ]
    print(f"{len(kept)} prompts ({len(rows) - len(kept)} without a question or gold, or too long)")
    return Dataset.from_list(kept)


def reward_functions(args: RlspArguments, config: GRPOConfig) -> list[RlspTrlReward]:
    """The reward functions, and for ``decoupled`` the GDPO aggregation in ``config``."""
    clip = (-args.clip, args.clip)
    common: dict[str, Any] = {"clip_range": clip, "timeout_s": args.timeout_s}
    if args.reward == "decoupled":
        config.multi_objective_aggregation = "normalize_then_sum"
        config.reward_weights = [0.8, 0.2]  # alpha and 1 - alpha
        guard = {"repetition_aware": True} if args.preset == "guarded" else {}
        return [
            RlspTrlReward("outcome", **common),
            RlspTrlReward("length", clip_range=clip, **guard),
        ]
    if args.reward != "combined":
        raise SystemExit(f"--reward must be combined or decoupled, got {args.reward!r}")
    judge = {"judge_url": args.judge_url, "judge_model": args.judge_model}
    if args.exploration == "judge":
        common.update({k: v for k, v in judge.items() if v is not None})
    return [RlspTrlReward(preset=args.preset, exploration=args.exploration, **common)]


def main(argv: list[str] | None = None) -> GRPOTrainer:
    args, config = TrlParser((RlspArguments, GRPOConfig)).parse_args_and_config(argv)
    tokenizer = AutoTokenizer.from_pretrained(args.model, padding_side="left")
    rewards = reward_functions(args, config)
    trainer = GRPOTrainer(
        model=args.model,
        reward_funcs=rewards,
        args=config,
        train_dataset=build_dataset(args, tokenizer),
        processing_class=tokenizer,
    )
    trainer.train()
    return trainer


if __name__ == "__main__":
    main()
