"""The length shapes through the real verl 0.9.1 reward code, on CPU.

verl's Reward Loop scores one rollout at a time, so a group shape (``kimi``, ``shorter_better``)
cannot run there: our ``rlsp`` manager refuses it when verl builds it, and a manager that calls
our function per sample (``naive``) gets the same ConfigError on its first call, never a silent
per-sample score. A per-sample shape is selected with ``reward_kwargs.exploration`` and gets the
exact token count.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import verl
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, OmegaConf
from transformers import AutoTokenizer
from verl import DataProto
from verl.trainer.ppo.reward import load_reward_manager

from rlsp_rewards.combine import RlspReward
from rlsp_rewards.core import RESULT_KEYS
from rlsp_rewards.errors import ConfigError
from rlsp_rewards.integrations.verl import RlspRewardManager

VERL_CONFIG_DIR = str(Path(verl.__file__).parent / "trainer" / "config")
TOL = 1e-9


def verl_config(manager: str, **settings: Any) -> DictConfig:
    """verl's ppo_trainer config with our function, a manager and reward_kwargs (as the docs)."""
    overrides = [
        "reward.custom_reward_function.path=pkg://rlsp_rewards",
        "reward.custom_reward_function.name=combined",
        f"reward.reward_manager.name={manager}",
        *(f"+reward.custom_reward_function.reward_kwargs.{k}={v}" for k, v in settings.items()),
    ]
    with initialize_config_dir(config_dir=VERL_CONFIG_DIR, version_base=None):
        return compose(config_name="ppo_trainer", overrides=overrides)


def one_rollout(tokenizer: Any, response: str) -> DataProto:
    """A batch of one: left-padded prompt, right-padded response + EOS, as verl builds it."""
    prompt = tokenizer.encode("What is 2 + 2?", add_special_tokens=False)
    reply = [*tokenizer.encode(response, add_special_tokens=False), tokenizer.eos_token_id]
    prompts = torch.tensor([prompt])
    responses = torch.tensor([[*reply, tokenizer.eos_token_id, tokenizer.eos_token_id]])
    mask = torch.tensor([[1] * len(prompt) + [1] * len(reply) + [0, 0]])
    column = np.empty(1, dtype=object)
    column[0] = {"ground_truth": "4"}
    sources = np.array(["math"], dtype=object)
    extra = np.empty(1, dtype=object)
    extra[0] = {"index": 0}
    return DataProto.from_single_dict(
        {
            "prompts": prompts,
            "responses": responses,
            "input_ids": torch.cat([prompts, responses], dim=1),
            "attention_mask": mask,
            "position_ids": (mask.cumsum(dim=1) - 1).clamp(min=0),
            "data_source": sources,
            "reward_model": column,
            "extra_info": extra,
        }
    )


@pytest.fixture(scope="module")
def tokenizer(tokenizer_dir: str) -> Any:
    return AutoTokenizer.from_pretrained(tokenizer_dir)


@pytest.mark.parametrize("shape", ["kimi", "shorter_better"])
def test_rlsp_manager_refuses_group_shapes_when_verl_builds_it(tokenizer: Any, shape: str) -> None:
    with pytest.raises(ConfigError, match=r"group shape.*verl's Reward Loop scores each rollout"):
        load_reward_manager(verl_config("rlsp", exploration=shape), tokenizer)
    with pytest.raises(ConfigError, match="Reward Loop"):  # our reward passed directly, too
        RlspRewardManager(
            OmegaConf.create({"reward": {}}), tokenizer, RlspReward(exploration=shape)
        )


def test_naive_manager_gets_the_error_on_its_first_call(tokenizer: Any) -> None:
    manager = load_reward_manager(verl_config("naive", exploration="kimi"), tokenizer)
    with pytest.raises(ConfigError, match="group shape"):
        manager.loop.run_until_complete(manager.run_single(one_rollout(tokenizer, "\\boxed{4}")))


def test_a_per_sample_shape_is_selected_by_reward_kwargs(tokenizer: Any) -> None:
    config = verl_config("rlsp", exploration="dapo_overlong", max_tokens=8)
    manager = load_reward_manager(config, tokenizer)
    data = one_rollout(tokenizer, "So \\boxed{4}.")
    tokens = int(data.batch["attention_mask"][0, -data.batch["responses"].shape[1] :].sum())
    out = manager.loop.run_until_complete(manager.run_single(data))
    info = out["reward_extra_info"]
    assert list(info) == list(RESULT_KEYS) and info["length"] == tokens  # the exact count
    buffer = 2  # a quarter of max_tokens 8
    term = 0.0 if tokens <= 8 - buffer else max(-1.0, ((8 - buffer) - tokens) / buffer)
    assert info["shape_term"] == pytest.approx(term, abs=TOL)
    assert out["reward_score"] == pytest.approx(0.8 * info["acc"] + 0.2 * term, abs=TOL)
    assert asyncio.iscoroutinefunction(manager.run_single)
