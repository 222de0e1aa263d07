"""GDPO on the real verl 0.9.1: our reward keys as the components verl normalises one by one.

Our rewards run through verl's ``RewardLoopManager`` (one Ray reward worker, the ``rlsp``
manager) into a ``DataProto``; then the legacy trainer's own steps (``extract_reward``, the
``non_tensor_batch`` update, ``compute_advantage``) compute GDPO advantages over three groups of
four responses, compared with a hand computation of verl's documented formula and with GRPO
on the summed score. The legacy trainer's ``_log_rollout_data`` writes the
``trainer.rollout_data_dir`` dump, whose format the training report reads. Last, the default v1
trainer's own ``_compute_advantage`` and ``_log_rollout_data`` on a real TransferQueue: why
run_rlsp_gdpo.sh sets ``trainer.use_v1=False``, and what v1's dump holds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import verl
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig
from transformers import AutoTokenizer
from verl import DataProto
from verl.trainer.ppo.ray_trainer import RayPPOTrainer, compute_advantage, compute_response_mask
from verl.trainer.ppo.reward import extract_reward

from rlsp_rewards.core import RESULT_KEYS

VERL_CONFIG_DIR = str(Path(verl.__file__).parent / "trainer" / "config")
KEYS = ["outcome", "length_term"]
WEIGHTS = [0.8, 0.2]  # alpha and 1 - alpha
EPS = 1e-6  # verl's epsilon in the per-group normalisation

#: Per group (one prompt, its gold), four responses: (correct?, filler words before the answer).
GROUPS: list[tuple[int, list[tuple[bool, int]]]] = [
    (4, [(True, 2), (False, 60), (True, 60), (False, 2)]),  # mixed
    (9, [(True, 1), (True, 20), (True, 80), (True, 40)]),  # all right: only length differs
    # right and short against wrong and long: the summed score prefers the wrong ones
    (6, [(True, 1), (True, 3), (False, 150), (False, 120)]),
]


def response(correct: bool, filler: int, gold: int) -> str:
    """Working of ``filler`` distinct sums (nothing repetitive: the length counts in full)."""
    work = " ".join(f"{i} plus {i * 7 % 13} makes {i + i * 7 % 13};" for i in range(filler))
    answer = gold if correct else gold + 1
    return f"{work} So the answer is \\boxed{{{answer}}}."


def object_column(values: list[Any]) -> np.ndarray:
    column = np.empty(len(values), dtype=object)
    column[:] = values
    return column


@pytest.fixture(scope="module")
def tokenizer(tokenizer_dir: str) -> Any:
    return AutoTokenizer.from_pretrained(tokenizer_dir)


@pytest.fixture(scope="module")
def batch(tokenizer: Any) -> DataProto:
    """A rollout batch as verl builds it: left-padded prompts, right-padded responses + EOS."""
    pad = eos = tokenizer.eos_token_id
    rows = [
        (gold, response(ok, filler, gold), f"g{i}")
        for i, (gold, group) in enumerate(GROUPS)
        for ok, filler in group
    ]
    prompts = [tokenizer.encode(f"What is {g} + 0?", add_special_tokens=False) for g, _, _ in rows]
    answers = [[*tokenizer.encode(r, add_special_tokens=False), eos] for _, r, _ in rows]
    p, w, n = max(map(len, prompts)), max(map(len, answers)) + 2, len(rows)
    prompt_ids, prompt_mask = torch.full((n, p), pad), torch.zeros((n, p), dtype=torch.long)
    response_ids, response_mask = torch.full((n, w), pad), torch.zeros((n, w), dtype=torch.long)
    for i, (q, a) in enumerate(zip(prompts, answers, strict=True)):
        prompt_ids[i, p - len(q) :], prompt_mask[i, p - len(q) :] = torch.tensor(q), 1
        response_ids[i, : len(a)], response_mask[i, : len(a)] = torch.tensor(a), 1
    attention_mask = torch.cat([prompt_mask, response_mask], dim=1)
    return DataProto.from_single_dict(
        {
            "prompts": prompt_ids,
            "responses": response_ids,
            "input_ids": torch.cat([prompt_ids, response_ids], dim=1),
            "attention_mask": attention_mask,
            "position_ids": (attention_mask.cumsum(dim=1) - 1).clamp(min=0),
            "data_source": object_column(["math"] * n),
            "reward_model": object_column([{"ground_truth": str(g)} for g, _, _ in rows]),
            "extra_info": object_column([{"index": i} for i in range(n)]),
            "uid": object_column([uid for _, _, uid in rows]),
        }
    )


def verl_config(tokenizer_dir: str) -> DictConfig:
    """verl's ppo_trainer config with run_rlsp_gdpo.sh's algorithm and reward overrides."""
    overrides = [
        "trainer.use_v1=False",
        "algorithm.adv_estimator=gdpo",
        f"+algorithm.gdpo_reward_keys=[{','.join(KEYS)}]",
        f"+algorithm.gdpo_reward_weights=[{','.join(map(str, WEIGHTS))}]",
        "reward.custom_reward_function.path=pkg://rlsp_rewards",
        "reward.custom_reward_function.name=combined",
        "+reward.custom_reward_function.reward_kwargs.preset=paper",
        "+reward.custom_reward_function.reward_kwargs.repetition_aware=True",
        "reward.reward_manager.name=rlsp",
        "reward.num_workers=1",
        f"actor_rollout_ref.model.path={tokenizer_dir}",
    ]
    with initialize_config_dir(config_dir=VERL_CONFIG_DIR, version_base=None):
        return compose(config_name="ppo_trainer", overrides=overrides)


@pytest.fixture(scope="module")
def cfg(tokenizer_dir: str) -> DictConfig:
    return verl_config(tokenizer_dir)


@pytest.fixture(scope="module")
def scored(batch: DataProto, cfg: DictConfig) -> Iterator[tuple[DataProto, dict[str, Any]]]:
    """The batch after the reward step, as the legacy trainer leaves it for compute_advantage."""
    import ray
    from verl.experimental.reward_loop import RewardLoopManager

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        manager = RewardLoopManager(cfg)
        try:
            rewards = manager.compute_rm_score(batch)
        finally:
            for worker in manager.reward_loop_workers:
                ray.kill(worker)
    finally:
        ray.shutdown()
    data = batch.union(rewards)
    reward_tensor, extra = extract_reward(data)
    data.batch["token_level_scores"] = reward_tensor
    data.non_tensor_batch.update({k: np.array(v) for k, v in extra.items()})
    data.batch["token_level_rewards"] = data.batch["token_level_scores"]  # no KL in the reward
    data.batch["response_mask"] = compute_response_mask(data)
    yield data, extra


def token_counts(data: DataProto) -> np.ndarray:
    return data.batch["response_mask"].sum(dim=1).numpy()


def advantages(data: DataProto, estimator: str, cfg: DictConfig) -> np.ndarray:
    """verl's compute_advantage, one value per response (the same on each of its tokens)."""
    out = compute_advantage(
        data.select(deepcopy=True),
        adv_estimator=estimator,
        num_repeat=4,
        norm_adv_by_std_in_grpo=True,
        config=cfg.algorithm,
    )
    adv, mask = out.batch["advantages"], out.batch["response_mask"].bool()
    for row, valid in zip(adv, mask, strict=True):
        assert torch.allclose(row[valid], row[valid][0]) and not row[~valid].any()
    return adv[:, 0].double().numpy()


def hand_gdpo(outcome: np.ndarray, length_term: np.ndarray, tokens: np.ndarray) -> np.ndarray:
    """verl's GDPO, by hand: normalise each component within its group (unbiased std), weight
    and add, then whiten over every response token of the batch (unbiased variance)."""
    summed = np.zeros(len(outcome))
    for weight, values in zip(WEIGHTS, (outcome, length_term), strict=True):
        groups = values.reshape(len(GROUPS), 4)
        mean, std = groups.mean(axis=1, keepdims=True), groups.std(axis=1, ddof=1, keepdims=True)
        summed += weight * ((groups - mean) / (std + EPS)).ravel()
    per_token = np.repeat(summed, tokens)
    mean = per_token.mean()
    var = per_token.var(ddof=1)
    return (summed - mean) / np.sqrt(var + 1e-8)


def test_our_keys_are_where_gdpo_reads_them(scored: tuple[DataProto, dict]) -> None:
    data, extra = scored
    assert list(extra) == list(RESULT_KEYS)  # reward_extra_keys: the fixed set, in order
    tokens = token_counts(data)
    correct = [ok for _, group in GROUPS for ok, _ in group]
    outcome = np.asarray(data.non_tensor_batch["outcome"], dtype=np.float64)
    length_term = np.asarray(data.non_tensor_batch["length_term"], dtype=np.float64)
    assert outcome.tolist() == [float(ok) for ok in correct]
    assert length_term == pytest.approx(-1000.0 / tokens)  # nothing repetitive: |o| in full
    assert (data.non_tensor_batch["repetition"] == 0.0).all()
    assert (data.non_tensor_batch["length_source"] == 2.0).all()  # exact counts from the manager
    # the summed score is still what rm_scores carries (verl logs it as critic/score)
    summed = data.batch["token_level_scores"].sum(dim=1).double().numpy()
    assert summed == pytest.approx(0.8 * outcome + 0.2 * length_term, rel=1e-5)


def test_gdpo_normalises_each_component_apart(
    scored: tuple[DataProto, dict], cfg: DictConfig
) -> None:
    data, _ = scored
    outcome = np.asarray(data.non_tensor_batch["outcome"], dtype=np.float64)
    length_term = np.asarray(data.non_tensor_batch["length_term"], dtype=np.float64)
    got = advantages(data, "gdpo", cfg)
    want = hand_gdpo(outcome, length_term, token_counts(data))
    assert got == pytest.approx(want, rel=1e-4, abs=1e-5)
    # the all-correct group: outcome has no spread there, so only length orders it
    order = np.argsort(got[4:8])
    assert order.tolist() == np.argsort(token_counts(data)[4:8]).tolist()


def test_gdpo_keeps_right_above_wrong_where_the_summed_score_does_not(
    scored: tuple[DataProto, dict], cfg: DictConfig
) -> None:
    data, _ = scored
    gdpo, grpo = advantages(data, "gdpo", cfg), advantages(data, "grpo", cfg)
    right, wrong = slice(8, 10), slice(10, 12)  # the third group
    assert grpo[wrong].min() > grpo[right].max()  # -1000/|o| outweighs correctness in the sum
    assert gdpo[right].min() > gdpo[wrong].max()  # normalised apart, 0.8 beats 0.2
    for group in range(len(GROUPS)):  # in every group, every right answer above every wrong one
        rows = range(4 * group, 4 * group + 4)
        right_rows = [i for i in rows if data.non_tensor_batch["acc"][i] == 1.0]
        wrong_rows = [i for i in rows if data.non_tensor_batch["acc"][i] == 0.0]
        if right_rows and wrong_rows:
            assert gdpo[right_rows].min() > gdpo[wrong_rows].max()


def test_the_rollout_dump_has_our_keys(
    scored: tuple[DataProto, dict], tokenizer: Any, tmp_path: Path
) -> None:
    data, extra = scored
    trainer = RayPPOTrainer.__new__(RayPPOTrainer)  # only what _log_rollout_data reads
    trainer.tokenizer, trainer.global_steps = tokenizer, 7
    trainer._init_dump_executor()
    trainer._log_rollout_data(data, extra, {}, str(tmp_path))
    trainer._shutdown_dump_executor()
    assert [p.name for p in tmp_path.iterdir()] == ["7.jsonl"]  # one file per training step
    rows = [json.loads(line) for line in (tmp_path / "7.jsonl").read_text().splitlines()]
    assert len(rows) == len(data)
    expected_keys = ["input", "output", "gts", "score", "step"]
    expected_keys += [k for k in RESULT_KEYS if k != "score"]
    for i, row in enumerate(rows):
        assert list(row) == expected_keys
        assert isinstance(row["input"], str) and isinstance(row["output"], str)
        assert row["output"].endswith("\\boxed{" + row["pred"] + "}.")
        assert row["gts"] == data.non_tensor_batch["reward_model"][i]["ground_truth"]
        assert row["step"] == 7
        assert isinstance(row["pred"], str)
        for key in RESULT_KEYS:
            if key != "pred":
                assert type(row[key]) is float, key
                assert row[key] == pytest.approx(float(extra[key][i]))
        # "score" is our reward's own score: reward_extra_info's key replaces verl's sum
        assert row["score"] == pytest.approx(float(data.batch["token_level_scores"][i].sum()))


# -- the default v1 trainer, on a real TransferQueue ---------------------------------------------


@pytest.fixture(scope="module")
def v1_batch(scored: tuple[DataProto, dict]) -> Iterator[Any]:
    """The scored samples stored in TransferQueue as v1 stores them: one key per response
    (``{uid}_{session}_{index}``), unpadded tensors, our keys as fields (the reward step's
    ``write_back``) and in ``extra_fields``."""
    import ray
    import transfer_queue as tq
    from verl.utils.tensordict_utils import list_of_dict_to_tensordict

    data, extra = scored
    ray.init(num_cpus=8, include_dashboard=False, log_to_driver=False)  # TQ's actors want CPUs
    try:
        tq.init()
        keys, fields = [], []
        prompt_mask = data.batch["attention_mask"][:, : data.batch["prompts"].shape[1]].bool()
        for i in range(len(data)):
            n = int(data.batch["response_mask"][i].sum())
            info = {
                k: extra[k][i].item() if hasattr(extra[k][i], "item") else extra[k][i]
                for k in extra
            }
            keys.append(f"{data.non_tensor_batch['uid'][i]}_{i % 4}_0")
            fields.append(
                {
                    "prompts": data.batch["prompts"][i][prompt_mask[i]],
                    "responses": data.batch["responses"][i, :n],
                    "response_mask": data.batch["response_mask"][i, :n],
                    "rm_scores": data.batch["token_level_scores"][i, :n],
                    "reward_model": data.non_tensor_batch["reward_model"][i],
                    "uid": data.non_tensor_batch["uid"][i],
                    "extra_fields": {"reward_extra_info": info},
                    **info,
                }
            )
        tags = [{"status": "success"}] * len(keys)
        fields_td = list_of_dict_to_tensordict(fields)
        tq.kv_batch_put(keys=keys, partition_id="train", fields=fields_td, tags=tags)
        yield tq.KVBatchMeta(partition_id="train", keys=keys, tags=[{}] * len(keys))
        tq.close()
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def v1_trainer(cfg: DictConfig, tokenizer_dir: str) -> Any:
    """verl's v1 PPOTrainer with only what the two methods under test read."""
    from verl.trainer.ppo.v1.trainer_base import PPOTrainer
    from verl.utils import hf_tokenizer

    class Probe(PPOTrainer):  # the abstract hooks, unused here
        def on_sample_end(self) -> None: ...

        def on_step_end(self) -> None: ...

    trainer = Probe.__new__(Probe)
    trainer.config, trainer.global_steps = cfg, 7
    trainer.tokenizer = hf_tokenizer(tokenizer_dir)  # as verl loads it: pad = eos when unset
    return trainer


def test_the_default_v1_trainer_cannot_run_gdpo(v1_batch: Any, v1_trainer: Any) -> None:
    # v1 fetches uid, response_mask, rm_scores (and log-probs) for the advantage: gdpo needs the
    # prompts and our keys. If this starts passing, drop trainer.use_v1=False from the docs.
    with pytest.raises(KeyError, match="prompts"):
        v1_trainer._compute_advantage(v1_batch, {})


def test_the_v1_rollout_dump_has_no_components(
    v1_batch: Any, v1_trainer: Any, scored: tuple[DataProto, dict], tmp_path: Path
) -> None:
    data, _ = scored
    v1_trainer._init_dump_executor()
    v1_trainer._log_rollout_data(v1_batch, {}, str(tmp_path))
    v1_trainer._shutdown_dump_executor()
    rows = [json.loads(line) for line in (tmp_path / "7.jsonl").read_text().splitlines()]
    assert len(rows) == len(data)
    for row in rows:
        assert list(row) == ["input", "output", "gts", "score", "step", "uid"]
        assert type(row["score"]) is float and type(row["step"]) is int
        assert row["uid"].rsplit("_", 2)[0] in set(data.non_tensor_batch["uid"])
    # the score is rm_scores' sum: the reward after clip_range (none here, so ours)
    scores = data.batch["token_level_scores"].sum(dim=1).tolist()
    assert sorted(r["score"] for r in rows) == pytest.approx(sorted(scores), rel=1e-5)
