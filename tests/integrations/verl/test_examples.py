"""examples/verl on the real verl 0.9.1: every documented override, composed with verl's own
``ppo_trainer`` config, lands where verl reads it; the launch scripts pass verl's config
validation; prepare_data.py writes rows verl's dataset loads.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import verl
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, OmegaConf
from transformers import AutoTokenizer, LlamaConfig
from verl.trainer.ppo.reward import load_reward_manager
from verl.trainer.ppo.utils import need_critic, need_reference_policy
from verl.utils.config import omega_conf_to_dataclass, validate_config

from rlsp_rewards.combine import RlspReward

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "verl"
VERL_CONFIG_DIR = str(Path(verl.__file__).parent / "trainer" / "config")
SCRIPTS = ["run_rlsp_ppo.sh", "run_rlsp_grpo.sh", "run_rlsp_judge.sh", "run_rlsp_gdpo.sh"]
LEGACY = ("custom_reward_function.", "reward_model.")  # accepted by Hydra, ignored by main_ppo
#: Every document that shows verl overrides.
DOCS = [EXAMPLES / "README.md", EXAMPLES.parent.parent / "README.md"]
DOCS += [EXAMPLES / script for script in SCRIPTS]


def verl_config(overrides: list[str]) -> DictConfig:
    with initialize_config_dir(config_dir=VERL_CONFIG_DIR, version_base=None):
        return compose(config_name="ppo_trainer", overrides=overrides)


def script_overrides(name: str, env: dict[str, str]) -> list[str]:
    """The Hydra overrides a script passes to verl, with its variables expanded.

    Variables take ``env``'s value, else the script's own ``${VAR:-default}``; a script that
    runs another one (the judge variant) passes that one's overrides first.
    """
    text = (EXAMPLES / name).read_text()
    values = dict(re.findall(r"^(?:export )?(\w+)=\$\{\w+:-(.*)\}$", text, flags=re.M))
    values.update(env)

    def expand(token: str) -> str:
        return re.sub(r"\$\{?(\w+)\}?", lambda m: values[m.group(1)], token)

    for line in text.replace("\\\n", " ").splitlines():
        if line.lstrip().startswith("#") or not re.search(r"main_ppo|\.sh\b", line):
            continue
        tokens = shlex.split(line)
        for i, token in enumerate(tokens):
            if token == "verl.trainer.main_ppo" or token.endswith(".sh"):
                args = [expand(t) for t in tokens[i + 1 :] if t != "$@"]
                base = script_overrides(Path(token).name, env) if token.endswith(".sh") else []
                return base + args
    raise AssertionError(f"{name} runs neither verl.trainer.main_ppo nor another script")


def readme_overrides() -> list[list[str]]:
    """The overrides of every ``python3 -m verl.trainer.main_ppo`` command in our READMEs."""
    text = "\n".join(path.read_text() for path in DOCS if path.suffix == ".md")
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        joined = block.replace("\\\n", " ")
        for line in joined.splitlines():
            if "verl.trainer.main_ppo" in line:
                line = re.sub(r"<[^>]*>", "", line)  # "<your data, model and trainer overrides>"
                commands.append([t for t in shlex.split(line) if "=" in t])
    return commands


def key_of(override: str) -> str:
    return override.lstrip("+~").split("=", 1)[0]


@pytest.fixture(scope="module")
def tiny_model(tokenizer_dir: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A local stand-in for Llama-3.1-8B: verl's validation reads the model's config."""
    path = tmp_path_factory.mktemp("tiny-llama")
    shutil.copytree(tokenizer_dir, path, dirs_exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        architectures=["LlamaForCausalLM"],
    ).save_pretrained(path)
    return str(path)


@pytest.fixture(scope="module")
def tokenizer(tokenizer_dir: str) -> Any:
    return AutoTokenizer.from_pretrained(tokenizer_dir)


# -- the launch scripts ------------------------------------------------------------------------

#: What each script must set, by verl key (SPEC.md section 1, mapped to verl 0.9.1).
PAPER = {
    "algorithm.gamma": 1.0,
    "algorithm.use_kl_in_reward": True,
    "algorithm.kl_ctrl.type": "fixed",
    "algorithm.kl_ctrl.kl_coef": 0.05,
    "actor_rollout_ref.actor.use_kl_loss": False,
    "actor_rollout_ref.actor.clip_ratio": 0.2,
    "actor_rollout_ref.actor.optim.lr": 2e-7,
    "data.max_prompt_length": 2048,
    "data.max_response_length": 4096,
    "actor_rollout_ref.rollout.temperature": 0.7,
    "reward.custom_reward_function.path": "pkg://rlsp_rewards",
    "reward.custom_reward_function.name": "combined",
    "reward.reward_manager.name": "rlsp",
    "reward.reward_kwargs.clip_range": [-10, 10],
}
EXPECTED = {
    "run_rlsp_ppo.sh": {
        **PAPER,
        "algorithm.adv_estimator": "gae",
        "algorithm.lam": 0.95,
        "critic.cliprange_value": 0.2,
        "critic.optim.lr": 2e-6,
        "data.train_batch_size": 512,  # rollout batch: 512 responses per step (n = 1)
        "actor_rollout_ref.actor.ppo_mini_batch_size": 128,  # train batch 128
        "actor_rollout_ref.rollout.n": 1,
        "reward.custom_reward_function.reward_kwargs.preset": "paper",
    },
    "run_rlsp_grpo.sh": {
        **PAPER,
        "algorithm.adv_estimator": "grpo",
        "data.train_batch_size": 64,  # x 8 responses = 512
        "actor_rollout_ref.actor.ppo_mini_batch_size": 16,  # x 8 = 128
        "actor_rollout_ref.rollout.n": 8,
        "actor_rollout_ref.rollout.val_kwargs.n": 4,
        "reward.custom_reward_function.reward_kwargs.preset": "guarded",
    },
    "run_rlsp_judge.sh": {
        **PAPER,
        "algorithm.lam": 0.95,
        "reward.custom_reward_function.reward_kwargs.preset": "paper",
        "reward.custom_reward_function.reward_kwargs.exploration": "judge",
        "reward.custom_reward_function.reward_kwargs.judge_url": "http://127.0.0.1:8000/v1",
    },
    # GDPO: the components normalised apart (the legacy trainer: v1 cannot run gdpo), the KL
    # as a loss (gdpo ignores token_level_rewards), no reward clip (gdpo ignores the sum)
    "run_rlsp_gdpo.sh": {
        **{k: v for k, v in PAPER.items() if not k.startswith(("algorithm.", "reward.reward_kw"))},
        "trainer.use_v1": False,
        "algorithm.adv_estimator": "gdpo",
        "algorithm.gdpo_reward_keys": ["outcome", "length_term"],
        "algorithm.gdpo_reward_weights": [0.8, 0.2],
        "algorithm.gamma": 1.0,
        "algorithm.use_kl_in_reward": False,
        "actor_rollout_ref.actor.use_kl_loss": True,
        "actor_rollout_ref.actor.kl_loss_coef": 0.05,
        "actor_rollout_ref.rollout.n": 8,
        "reward.custom_reward_function.reward_kwargs.preset": "paper",
        "reward.custom_reward_function.reward_kwargs.repetition_aware": True,
    },
}


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_is_valid_bash(script: str) -> None:
    path = EXAMPLES / script
    assert path.stat().st_mode & 0o111, f"{script} is not executable"
    subprocess.run(["bash", "-n", str(path)], check=True)


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_overrides_compose_and_validate(
    script: str, tiny_model: str, tokenizer: Any
) -> None:
    overrides = script_overrides(script, {"MODEL": tiny_model, "DATA_DIR": "/data", "HOME": "/h"})
    assert not [o for o in overrides if key_of(o).startswith(LEGACY)]
    cfg = verl_config(overrides)
    for key, value in EXPECTED[script].items():
        assert OmegaConf.select(cfg, key) == value, key
    # verl's own checks, as main_ppo runs them before training
    validate_config(
        cfg, use_reference_policy=need_reference_policy(cfg), use_critic=need_critic(cfg)
    )
    assert need_reference_policy(cfg)  # the KL (in the reward, or as a loss) needs it
    algorithm = omega_conf_to_dataclass(cfg.algorithm)
    if algorithm.use_kl_in_reward:
        assert (algorithm.kl_ctrl.type, algorithm.kl_ctrl.kl_coef) == ("fixed", 0.05)
    # the reward section, read by verl's reward loader: our reward with the script's settings
    manager = load_reward_manager(cfg, tokenizer)
    assert isinstance(manager.reward, RlspReward)
    settings = cfg.reward.custom_reward_function.reward_kwargs
    assert {k: getattr(manager.reward.config, k) for k in settings} == dict(settings)
    clip = EXPECTED[script].get("reward.reward_kwargs.clip_range")
    assert manager.clip_range == (None if clip is None else tuple(map(float, clip)))


@pytest.mark.parametrize(
    "command", readme_overrides(), ids=[f"command{i}" for i in range(len(readme_overrides()))]
)
def test_readme_commands_land_where_verl_reads_them(command: list[str], tokenizer: Any) -> None:
    assert not [o for o in command if key_of(o).startswith(LEGACY)]
    cfg = verl_config(command)
    for override in command:
        key, value = override.lstrip("+~").split("=", 1)
        landed = OmegaConf.select(cfg, key)
        assert str(landed).replace(" ", "").replace("'", "") == value.replace("'", ""), key
    if not cfg.reward.reward_model.enable:  # a verl-managed judge needs GPUs to start
        manager = load_reward_manager(cfg, tokenizer)
        assert type(manager).__name__ in {"NaiveRewardManager", "RlspRewardManager"}


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_no_document_uses_the_ignored_legacy_keys(doc: Path) -> None:
    # an override of a top-level custom_reward_function.x / reward_model.x, not of
    # reward.reward_model.x (the dataset column reward_model.ground_truth is no override)
    legacy = re.compile(r"(?<![\w.])\+{0,2}(?:custom_reward_function|reward_model)\.[\w.]+=")
    assert not legacy.findall(doc.read_text())


def test_readme_has_the_documented_commands() -> None:
    commands = readme_overrides()
    assert len(commands) >= 5
    assert any("reward.reward_manager.name=rlsp" in c for c in commands)
    assert any("reward.reward_model.enable=True" in c for c in commands)


# -- prepare_data.py ---------------------------------------------------------------------------


def prepare(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / "prepare_data.py"), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_prepare_data_on_the_shipped_samples(tmp_path: Path, tokenizer_dir: str) -> None:
    out = tmp_path / "test.parquet"
    done = prepare(EXAMPLES / "data" / "sample_math500.jsonl", "--split", "test", "--output", out)
    assert done.returncode == 0, done.stderr
    rows = pq.read_table(out).to_pylist()
    assert len(rows) == 8
    first = rows[0]
    assert first["data_source"] == "math500"
    assert first["prompt"][0]["role"] == "user" and "\\boxed{}" in first["prompt"][0]["content"]
    assert first["reward_model"]["ground_truth"] == "11"
    assert first["extra_info"]["split"] == "test" and first["extra_info"]["index"] == 0
    assert first["extra_info"]["question"].startswith("What is the value of")
    # verl's own dataset class loads the file and yields what the reward loop reads
    from verl.utils.dataset.rl_dataset import RLHFDataset

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    data_config = OmegaConf.create({"max_prompt_length": 512, "filter_overlong_prompts": False})
    item = RLHFDataset(str(out), tokenizer, data_config)[1]
    assert item["data_source"] == "math500"
    assert item["reward_model"]["ground_truth"] == "\\frac{3}{4}"
    assert item["raw_prompt"][0]["content"].startswith("Simplify")


def test_prepare_data_reads_aime_columns_json_folders_and_parquet(tmp_path: Path) -> None:
    aime = tmp_path / "aime.parquet"
    assert prepare(EXAMPLES / "data" / "sample_aime.jsonl", "--output", aime).returncode == 0
    rows = pq.read_table(aime).to_pylist()
    assert [r["reward_model"]["ground_truth"] for r in rows] == ["499", "24", "77"]
    assert {r["data_source"] for r in rows} == {"aime"}
    # the original MATH layout: a folder of one-problem JSON files, gold inside the solution
    folder = tmp_path / "MATH" / "train" / "algebra"
    folder.mkdir(parents=True)
    (folder / "1.json").write_text(
        json.dumps(
            {
                "problem": "Solve $x+1=3$.",
                "level": "Level 1",
                "type": "Algebra",
                "solution": "Subtract one: $x = \\boxed{2}$.",
            }
        )
    )
    (folder / "2.json").write_text(json.dumps({"problem": "No gold here."}))  # skipped
    out = tmp_path / "math.parquet"
    done = prepare(tmp_path / "MATH", "--data-source", "math", "--output", out)
    assert done.returncode == 0 and "skipped 1" in done.stdout
    [row] = pq.read_table(out).to_pylist()
    assert row["reward_model"]["ground_truth"] == "2" and row["data_source"] == "math"
    # a parquet input (as MATH-500 is published), with a row limit
    source = tmp_path / "math500.parquet"
    pq.write_table(
        pa.Table.from_pylist(
            [
                {"problem": f"What is {i} + 1?", "answer": str(i + 1), "subject": "Prealgebra"}
                for i in range(5)
            ]
        ),
        source,
    )
    limited = tmp_path / "limited.parquet"
    assert prepare(source, "--limit", "2", "--output", limited).returncode == 0
    rows = pq.read_table(limited).to_pylist()
    assert [r["reward_model"]["ground_truth"] for r in rows] == ["1", "2"]
    assert {r["data_source"] for r in rows} == {"math500"}


def test_prepare_data_says_what_is_wrong(tmp_path: Path) -> None:
    done = prepare(tmp_path / "missing.jsonl", "--output", tmp_path / "x.parquet")
    assert done.returncode != 0 and "no such file" in done.stderr
