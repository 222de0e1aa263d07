"""examples/openrlhf against OpenRLHF 0.11.2: the launch flags and the prepared data.

The flags of ``train_rlsp_ppo.sh`` (both reward modes, printed by the script itself) go through
OpenRLHF's real argument parser and its post-parse checks in ``openrlhf.cli.train_ppo_ray``.
That module imports the GPU stack at the top, so only those packages (and the few the CPU
install leaves out) are stubbed; OpenRLHF's own code runs unchanged, up to ``train(args)``.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import runpy
import subprocess
import sys
import types
from pathlib import Path
from unittest import mock

import openrlhf
import pytest

from rlsp_rewards.integrations.openrlhf import OpenRLHFReward, adapter_file

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "openrlhf"
#: The GPU stack train_ppo_ray imports at the top; never importable in the CPU test environment.
GPU_STACK = ("ray", "vllm", "deepspeed", "flash_attn")
#: OpenRLHF requirements that its --no-deps CPU install leaves out; stubbed only when absent.
CPU_INSTALL_GAPS = ("peft", "torchdata", "PIL")


def openrlhf_preprocess_data():
    """OpenRLHF's own ``preprocess_data`` (loaded alone: its package needs ``datasets``)."""
    path = Path(openrlhf.__file__).parent / "datasets" / "prompts_dataset.py"
    spec = importlib.util.spec_from_file_location("openrlhf_prompts_dataset", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.preprocess_data


def _stub(owner: str, name: str):
    """A stand-in attribute: a class for capitalised names (usable as a base), else a mock."""
    if name.startswith("__"):
        raise AttributeError(name)
    if name[:1].isupper():
        return _StubClass(name, (), {"__module__": owner})
    return mock.MagicMock(name=f"{owner}.{name}")


class _StubClass(type):
    def __getattr__(cls, name: str):
        return _stub(cls.__module__, name)


class _StubModule(types.ModuleType):
    """A module whose every attribute is a stand-in."""

    def __getattr__(self, name: str):
        value = _stub(self.__name__, name)
        setattr(self, name, value)
        return value


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, roots: tuple[str, ...]) -> None:
        self.roots = roots

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in self.roots:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _StubModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module) -> None:
        pass


class _ReachedTrain(Exception):
    """Raised by the stubbed ``ray.is_initialized``: parsing and checks are over."""


@pytest.fixture
def isolated_modules():
    """Drop the stubs and the OpenRLHF modules imported against them; restore the real ones."""
    roots = {"openrlhf", *GPU_STACK, *CPU_INSTALL_GAPS}
    before = {k: v for k, v in sys.modules.items() if k.split(".")[0] in roots}
    yield
    for name in [k for k in sys.modules if k.split(".")[0] in roots]:
        del sys.modules[name]
    sys.modules.update(before)


def parse_with_openrlhf(argv: list[str], monkeypatch):
    """Run train_ppo_ray's __main__ block on ``argv``; return the hierarchical args.

    Use with the ``isolated_modules`` fixture.
    """
    roots = GPU_STACK + tuple(m for m in CPU_INSTALL_GAPS if importlib.util.find_spec(m) is None)
    for name in [m for m in sys.modules if m.split(".")[0] in roots or m.startswith("openrlhf.")]:
        del sys.modules[name]  # re-import OpenRLHF against the stubs
    monkeypatch.setattr(sys, "meta_path", [_StubFinder(roots), *sys.meta_path])
    import openrlhf.utils.config as config
    import ray

    parsed = {}
    real = config.hierarchize

    def capture(args):
        parsed["args"] = real(args)
        return parsed["args"]

    monkeypatch.setattr(config, "hierarchize", capture)
    monkeypatch.setattr(ray, "is_initialized", mock.MagicMock(side_effect=_ReachedTrain))
    monkeypatch.setattr(sys, "argv", ["train_ppo_ray", *argv])
    with pytest.raises(_ReachedTrain):
        runpy.run_module("openrlhf.cli.train_ppo_ray", run_name="__main__")
    return parsed["args"]


def script_args(**env: str) -> list[str]:
    bin_dir = str(Path(sys.executable).parent)  # rlsp-rewards openrlhf-path lives there
    result = subprocess.run(
        ["bash", str(EXAMPLES / "train_rlsp_ppo.sh")],
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PRINT_ARGS": "1", **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.splitlines()


@pytest.mark.parametrize(
    "env, remote_url",
    [
        ({"REWARD_MODE": "file"}, [str(adapter_file())]),
        (
            {
                "REWARD_MODE": "server",
                "REWARD_URLS": "http://a:8000/get_reward,http://b:8000/get_reward",
            },
            ["http://a:8000/get_reward", "http://b:8000/get_reward"],
        ),
    ],
)
def test_train_script_flags_pass_openrlhf_parser(
    monkeypatch, isolated_modules, env, remote_url
) -> None:
    args = parse_with_openrlhf(script_args(**env), monkeypatch)
    assert args.reward.remote_url == remote_url
    # the paper's settings (SPEC.md section 1)
    assert (
        args.algo.advantage.estimator,
        args.algo.advantage.gamma,
        args.algo.advantage.lambd,
    ) == ("gae", 1.0, 0.95)
    assert (args.actor.eps_clip, args.critic.value_clip) == (0.2, 0.2)
    assert args.algo.kl.init_coef == 0.05 and args.algo.kl.target is None  # fixed KL
    assert (args.actor.adam.lr, args.critic.adam.lr) == (2e-7, 2e-6)
    assert (args.rollout.batch_size, args.train.batch_size) == (512, 128)
    assert (args.rollout.max_new_tokens, args.data.max_len - args.rollout.max_new_tokens) == (
        4096,
        2048,
    )
    assert args.rollout.temperature == 0.7 and list(args.reward.clip_range) == [-10.0, 10.0]
    assert (args.data.input_key, args.data.label_key) == ("input", "label")


def test_old_flat_flags_fail_in_openrlhf_0_11(monkeypatch, isolated_modules, capsys) -> None:
    with pytest.raises(SystemExit):
        parse_with_openrlhf(
            ["--remote_rm_url", "http://x/get_reward", "--label_key", "answer"], monkeypatch
        )
    assert "unrecognized arguments" in capsys.readouterr().err


def test_prepare_data_output_feeds_openrlhf_and_our_adapter(tmp_path) -> None:
    out = tmp_path / "train.jsonl"
    subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "prepare_data.py"),
            str(EXAMPLES / "data" / "math_sample.jsonl"),
            str(EXAMPLES / "data" / "aime_sample.jsonl"),
            "-o",
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 12 and all(set(r) == {"input", "label"} for r in rows)
    reward = OpenRLHFReward.from_settings({})
    preprocess_data = openrlhf_preprocess_data()
    for row in rows:  # OpenRLHF's own preprocessing, then the gold answer must score correct
        prompt, label = preprocess_data(row, input_key="input", label_key="label")
        assert "\\boxed{}" in prompt
        gold_text = label["answer"]
        answer = gold_text.rsplit("\\boxed{", 1)[1][:-2] if "\\boxed{" in gold_text else gold_text
        out_scores = reward(
            [prompt + f"The answer is \\boxed{{{answer}}}.<|im_end|>"], [prompt], [label]
        )
        assert out_scores["scores"].tolist() == [1.0], (prompt, label)


def test_prepare_data_eval_labels(tmp_path) -> None:
    out = tmp_path / "eval.jsonl"
    subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "prepare_data.py"),
            str(EXAMPLES / "data" / "aime_sample.jsonl"),
            "-o",
            str(out),
            "--eval",
            "--limit",
            "2",
            "--label-key",
            "gold_label",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 2 and rows[0]["gold_label"] == {"answer": "1", "eval_mode": True}
