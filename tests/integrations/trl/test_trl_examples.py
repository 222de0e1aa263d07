"""examples/trl on the real TRL 1.16: the recipe parses into GRPOConfig with the paper's
settings, and the script trains one step on CPU from the shipped sample rows, with the
combined reward and with the decoupled (GDPO-style) pair.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from trl import GRPOConfig, TrlParser

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
RECIPE = EXAMPLES / "trl" / "rlsp_grpo.yaml"
SAMPLES = [EXAMPLES / "verl" / "data" / "sample_math500.jsonl"]
SAMPLES += [EXAMPLES / "verl" / "data" / "sample_aime.jsonl"]


@pytest.fixture(scope="module")
def script() -> Iterator[ModuleType]:
    """The example, imported as ``python train_rlsp_grpo.py`` would run it (its dataclass
    needs its module in sys.modules)."""
    spec = importlib.util.spec_from_file_location(
        "train_rlsp_grpo", EXAMPLES / "trl" / "train_rlsp_grpo.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def cpu_run(model_dir: str, out: Path, *extra: str) -> list[str]:
    """The recipe, shrunk to one step on CPU: the overrides a user would pass to try it."""
    return [
        "--config", str(RECIPE),
        "--model", model_dir,
        "--data", *map(str, SAMPLES),
        "--output_dir", str(out),
        "--use_vllm", "false", "--bf16", "false", "--use_cpu", "true",
        "--gradient_checkpointing", "false",
        "--per_device_train_batch_size", "4", "--num_generations", "4",
        "--steps_per_generation", "1", "--max_completion_length", "16",
        "--max_steps", "1", "--report_to", "none", "--save_strategy", "no",
        *extra,
    ]  # fmt: skip


def test_the_recipe_has_the_papers_settings(script: ModuleType, tmp_path: Path) -> None:
    args, config = TrlParser((script.RlspArguments, GRPOConfig)).parse_args_and_config(
        ["--config", str(RECIPE), "--model", "m", "--data", "d", "--output_dir", str(tmp_path),
         "--use_cpu", "true"]  # bf16 needs a GPU, or use_cpu
    )  # fmt: skip
    paper: dict[str, Any] = {
        "learning_rate": 2e-7,
        "beta": 0.05,
        "epsilon": 0.2,
        "temperature": 0.7,
        "max_completion_length": 4096,
        "num_generations": 8,
        "steps_per_generation": 4,
    }
    assert {k: getattr(config, k) for k in paper} == paper
    # on 8 GPUs: 128 completions per update, 512 per generation (64 prompts x 8)
    assert config.per_device_train_batch_size * 8 == 128
    assert config.per_device_train_batch_size * 8 * config.steps_per_generation == 512
    assert (args.preset, args.clip, args.max_prompt_tokens) == ("guarded", 10.0, 2048)


def test_the_script_trains_with_combined(
    script: ModuleType, model_dir: str, tmp_path: Path
) -> None:
    trainer = script.main(cpu_run(model_dir, tmp_path))
    assert trainer.state.global_step == 1
    assert len(trainer.train_dataset) == 11  # 8 MATH-500 rows and 3 AIME rows
    assert trainer.train_dataset[0]["solution"] == "11"  # `answer`, before `solution`
    [reward] = trainer.reward_funcs
    assert reward.clip_range == (-10.0, 10.0) and reward.reward.config.preset == "guarded"
    [step] = [h for h in trainer.state.log_history if "loss" in h]
    assert -0.2 - 1e-6 <= step["rewards/rlsp_combined/mean"] <= 0.8 + 1e-6
    assert {"rlsp_combined/acc", "rlsp_combined/length_term", "rlsp_combined/timeout"} <= set(step)


def test_the_script_trains_decoupled(script: ModuleType, model_dir: str, tmp_path: Path) -> None:
    trainer = script.main(cpu_run(model_dir, tmp_path, "--reward", "decoupled"))
    assert trainer.args.multi_objective_aggregation == "normalize_then_sum"
    assert trainer.reward_weights.tolist() == pytest.approx([0.8, 0.2])
    [step] = [h for h in trainer.state.log_history if "loss" in h]
    assert {"rewards/rlsp_outcome/mean", "rewards/rlsp_length/mean"} <= set(step)
    assert step["rlsp_length/length_source"] == 2.0
