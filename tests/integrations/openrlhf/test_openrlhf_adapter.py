"""The file adapter under OpenRLHF 0.11.2's real loader and call (the .venv-openrlhf environment).

``SingleTurnAgentExecutor(<our reward_func.py>)`` loads the file exactly as a vLLM rollout actor
does; ``execute`` runs generation on a tiny engine and then the real reward call in a worker
thread. OpenRLHF's only signal of a broken reward is an INFO line containing "Failed", so every
test here fails on that line.
"""

from __future__ import annotations

import asyncio
import doctest
import importlib
import json
import logging
import pickle
import threading
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import openrlhf  # noqa: F401  (the framework must import: a broken install fails loudly)
import pytest
import torch
from openrlhf.utils.agent import SingleTurnAgentExecutor

from rlsp_rewards.core import NUMERIC_KEYS, Reward, RewardResult, Sample
from rlsp_rewards.errors import ConfigError
from rlsp_rewards.integrations import openrlhf as adapter_pkg
from rlsp_rewards.integrations.openrlhf import OpenRLHFReward, adapter_file, split_response

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


@pytest.fixture(scope="module")
def chatml_tokenizer():
    """An offline byte-level BPE with ChatML special tokens and chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=500,
        special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    corpus = [
        "What is 6 times 7? Wait, let me check: 6 * 7 = 42, so \\boxed{42}.",
        "user assistant",
    ]
    bpe.train_from_iterator(corpus * 50, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=["<|im_start|>"],
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


class TinyEngine:
    """Stands in for a vLLM engine: always 'generates' the given text, then <|im_end|>."""

    def __init__(self, tokenizer, text: str) -> None:
        self.token_ids = tokenizer(text + "<|im_end|>", add_special_tokens=False)["input_ids"]
        self.text = text

    async def generate(self, prompt_token_ids, sampling_params, multi_modal_data=None):
        output = SimpleNamespace(
            token_ids=list(self.token_ids), text=self.text, finish_reason="stop", logprobs=None
        )
        return SimpleNamespace(outputs=[output])


class FailedLine(logging.Handler):
    """Collects OpenRLHF's 'Failed' log lines (its only error signal for a broken reward)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "Failed" in record.getMessage():
            self.lines.append(record.getMessage())


@pytest.fixture
def failed_lines():
    handler = FailedLine()
    agent_logger = logging.getLogger("openrlhf.utils.agent")
    agent_logger.addHandler(handler)
    yield handler.lines
    agent_logger.removeHandler(handler)


@pytest.fixture
def fresh_reward_func(monkeypatch):
    """Forget the cached ``reward_func`` so the next load reads RLSP_REWARD_CONFIG again."""

    def reset(config: str | None) -> None:
        monkeypatch.delitem(vars(adapter_pkg), "reward_func", raising=False)
        if config is None:
            monkeypatch.delenv("RLSP_REWARD_CONFIG", raising=False)
        else:
            monkeypatch.setenv("RLSP_REWARD_CONFIG", config)

    reset(None)
    yield reset
    monkeypatch.delitem(vars(adapter_pkg), "reward_func", raising=False)


def run_executor(executor, tokenizer, response: str, label):
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "What is 6 times 7?"}],
        tokenize=False,
        add_generation_prompt=True,
    )
    params = SimpleNamespace(max_tokens=64, logprobs=None)
    return asyncio.run(
        executor.execute(prompt, label, params, 512, tokenizer, TinyEngine(tokenizer, response))
    )


# -- the real loader and call ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "response, label, reward_is_acc, score",
    [
        ("Wait, 6 * 7 = 42. \\boxed{42}", "42", False, 1.0),  # string label
        ("so \\boxed{41}", {"answer": "42"}, False, 0.0),  # dict label, wrong answer
        ("\\boxed{42}", {"answer": "42", "eval_mode": True}, True, 1.0),  # eval flag in the label
        ("I could not finish.", "42", False, 0.0),  # no answer: defined score, flag
    ],
)
def test_real_loader_and_call(
    chatml_tokenizer, failed_lines, fresh_reward_func, response, label, reward_is_acc, score
) -> None:
    fresh_reward_func('{"preset": "paper"}')
    executor = SingleTurnAgentExecutor(str(adapter_file()))
    out = run_executor(executor, chatml_tokenizer, response, label)
    assert not failed_lines, failed_lines
    assert out["scores"].dtype == torch.float32 and out["scores"].shape == (1,)
    assert out["scores"].item() == score
    assert set(out["extra_logs"]) == set(NUMERIC_KEYS)
    assert all(v.dtype == torch.float32 and v.shape == (1,) for v in out["extra_logs"].values())
    assert out["extra_logs"]["length"].item() > 0
    if reward_is_acc:
        assert out["reward"].item() == score
    else:
        assert out["reward"].item() == pytest.approx(out["extra_logs"]["score"].item())
    if "not finish" in response:
        assert out["extra_logs"]["no_answer"].item() == 1.0


def test_the_file_is_one_import_and_the_function_pickles(fresh_reward_func) -> None:
    code = [line for line in adapter_file().read_text().splitlines() if line.strip()]
    assert len(code) == 1 and code[0].startswith("from rlsp_rewards.integrations.openrlhf import")
    executor = SingleTurnAgentExecutor(str(adapter_file()))
    clone = pickle.loads(pickle.dumps(executor.reward_func))  # Ray pickles what actors hold
    out = clone(["<|im_start|>assistant\n\\boxed{7}<|im_end|>"], [None], ["7"])
    assert out["scores"].tolist() == [1.0]


def test_eval_mode_setting_makes_rewards_pure_correctness(
    chatml_tokenizer, failed_lines, fresh_reward_func
) -> None:
    fresh_reward_func('{"eval_mode": true, "preset": "guarded"}')
    executor = SingleTurnAgentExecutor(str(adapter_file()))
    right = run_executor(executor, chatml_tokenizer, "\\boxed{42}", "42")
    wrong = run_executor(executor, chatml_tokenizer, "\\boxed{40}", "42")
    assert (right["reward"].item(), wrong["reward"].item()) == (1.0, 0.0)
    assert not failed_lines


@pytest.mark.parametrize(
    "config, message",
    [
        ("{not json", "not valid JSON"),
        ('{"preset": "nonsense"}', "preset"),
        ('{"alpah": 0.8}', "alpah"),  # a typo names the bad setting
        ('{"eval_mode": "perhaps"}', "eval_mode"),
        ('["a list"]', "mapping"),
        ("/nowhere/rlsp.json", "cannot read"),
        ("settings.ini", ".json, .yaml"),
        # a group shape needs a prompt's responses together; OpenRLHF gives one at a time
        ('{"exploration": "kimi"}', "group shape.*OpenRLHF calls its reward once per sample"),
        ('{"exploration": "shorter_better"}', "group shape"),
    ],
)
def test_invalid_config_fails_when_openrlhf_loads_the_file(
    fresh_reward_func, config, message
) -> None:
    fresh_reward_func(config)
    with pytest.raises(ConfigError, match=message):
        SingleTurnAgentExecutor(str(adapter_file()))


@pytest.mark.parametrize(
    "name, text",
    [
        ("rlsp.json", '{"preset": "guarded", "label_key": "gold"}'),
        ("rlsp.yaml", "preset: guarded\nlabel_key: gold\n"),
        ("rlsp.toml", 'preset = "guarded"\nlabel_key = "gold"\n'),
    ],
)
def test_config_files(tmp_path, fresh_reward_func, name, text) -> None:
    path = tmp_path / name
    path.write_text(text)
    fresh_reward_func(str(path))
    executor = SingleTurnAgentExecutor(str(adapter_file()))
    assert executor.reward_func.settings.label_key == "gold"
    out = executor.reward_func(
        ["<|im_start|>assistant\n\\boxed{5}<|im_end|>"], [""], [{"gold": "5"}]
    )
    assert out["scores"].tolist() == [1.0]


@pytest.mark.parametrize(
    "name, text",
    [
        ("broken.json", '{"preset": '),
        ("broken.yaml", "preset: [guarded"),
        ("broken.toml", "preset = "),
        ("list.yaml", "- preset\n- guarded\n"),  # parses, but is not a mapping
    ],
)
def test_unreadable_config_files(tmp_path, fresh_reward_func, name, text) -> None:
    path = tmp_path / name
    path.write_text(text)
    fresh_reward_func(str(path))
    with pytest.raises(ConfigError, match=r"cannot parse|mapping"):
        SingleTurnAgentExecutor(str(adapter_file()))


# -- reward_func directly: shapes, labels, threads, failures ---------------------------------------


@pytest.fixture(scope="module")
def reward_func() -> OpenRLHFReward:
    return OpenRLHFReward.from_settings({"preset": "paper"})


@pytest.mark.parametrize("size", [0, 1, 3, 17])
def test_any_batch_length(reward_func, size) -> None:
    queries = [f"<|im_start|>assistant\n\\boxed{{{i}}}<|im_end|>" for i in range(size)]
    out = reward_func(queries, [None] * size, [str(i % 2) for i in range(size)])
    for tensor in (out["rewards"], out["scores"], *out["extra_logs"].values()):
        assert tensor.dtype == torch.float32 and tensor.shape == (size,)
    assert out["scores"].tolist() == [float(i < 2) for i in range(size)]


@pytest.mark.parametrize(
    "label, expected",
    [
        ("42", 1.0),  # bare string
        (42, 1.0),  # a number (JSON labels keep their type)
        ({"answer": "42"}, 1.0),  # dict with the default label_key
        ({"answer": "The product is $\\boxed{42}$."}, 1.0),  # a worked solution as gold
        ({"solution": "42"}, 0.0),  # dict without the key: gold unknown, flagged
        (None, 0.0),  # no label at all
    ],
)
def test_labels(reward_func, label, expected) -> None:
    out = reward_func(["<|im_start|>assistant\nThus \\boxed{42}<|im_end|>"], [None], [label])
    assert out["scores"].item() == expected
    if expected == 0.0:
        assert out["extra_logs"]["gold_unparseable"].item() == 1.0


@pytest.mark.parametrize(
    "flag, is_eval",
    [
        (True, True),
        ("true", True),
        (1, True),
        (False, False),
        ("false", False),
        (0, False),
        (None, False),
        ("maybe", False),
    ],
)
def test_eval_flag_in_label(reward_func, flag, is_eval) -> None:
    label = {"answer": "42", "eval_mode": flag}
    out = reward_func(["<|im_start|>assistant\n\\boxed{42}<|im_end|>"], [None], [label])
    assert (out["rewards"].item() == 1.0) == is_eval  # the paper total of a 1-token answer is not 1


def test_short_or_missing_prompts_and_labels_never_raise(reward_func) -> None:
    out = reward_func(["a", "b", "c"], None, ["1"])
    assert out["rewards"].shape == (3,)
    out = reward_func("<|im_start|>assistant\n\\boxed{1}", "x", "1")  # bare strings, not lists
    assert out["scores"].tolist() == [1.0]


def test_concurrent_calls_from_threads_as_openrlhf_makes_them(reward_func) -> None:
    async def many() -> list[dict]:
        return await asyncio.gather(
            *(
                asyncio.to_thread(
                    reward_func,
                    [f"<|im_start|>assistant\n\\boxed{{{i % 5}}}<|im_end|>"],
                    [None],
                    [str(i % 5 if i % 2 else 0)],
                )
                for i in range(64)
            )
        )

    outs = asyncio.run(many())
    assert [o["scores"].item() for o in outs] == [
        float(i % 2 == 1 or i % 5 == 0) for i in range(64)
    ]


class BrokenReward(Reward):
    """Test-only: a reward whose batch path raises, to exercise the adapter's fallback."""

    error_score = -1.0

    def score(self, sample: Sample) -> RewardResult:
        return RewardResult()

    def score_batch(self, samples):
        raise RuntimeError("boom")


def test_failure_returns_a_flagged_fallback_and_logs_a_warning(caplog) -> None:
    broken = OpenRLHFReward(BrokenReward())
    with caplog.at_level(logging.WARNING, logger="rlsp_rewards.openrlhf"):
        out = broken(["q1", "q2"], ["p1", "p2"], ["1", "2"])
    assert out["rewards"].tolist() == [-1.0, -1.0] and out["scores"].tolist() == [0.0, 0.0]
    assert out["extra_logs"]["error"].tolist() == [1.0, 1.0]
    assert any(
        "RuntimeError" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records
    )


# -- splitting the response off the query ----------------------------------------------------------

QWEN_PROMPT = (
    "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n1+1?<|im_end|>\n"
    "<|im_start|>assistant\n"
)
LONG_PROMPT = QWEN_PROMPT.replace("1+1?", "What is 1+1? " * 50)
LLAMA_PROMPT = (
    "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n1+1?<|eot_id|>"
    "<|start_header_id|>assistant<|end_header_id|>\n\n"
)


@pytest.mark.parametrize(
    "query, prompt, response",
    [
        (QWEN_PROMPT + "It is 2.<|im_end|>", QWEN_PROMPT, "It is 2."),  # prompt prefix
        (QWEN_PROMPT + "It is 2.<|im_end|><|endoftext|>", QWEN_PROMPT, "It is 2."),  # padding too
        (LONG_PROMPT[300:] + "It is 2.<|im_end|>", LONG_PROMPT, "It is 2."),  # left-truncated
        ("<|im_start|>assistant\n\\boxed{1}", "x", "\\boxed{1}"),  # short prompt not searched
        (QWEN_PROMPT + "It is 2.<|im_end|>", None, "It is 2."),  # ChatML marker, no prompt
        (QWEN_PROMPT + "It is 2.<|im_end|>", "unrelated", "It is 2."),  # prompt does not match
        (LLAMA_PROMPT + "Two.<|eot_id|>", None, "Two."),  # Llama 3 marker
        (LLAMA_PROMPT + "Two.<|eot_id|>", LLAMA_PROMPT, "Two."),
        ("<s>[INST] 1+1? [/INST] Two.</s>", None, "Two."),  # Llama 2 / Mistral
        (
            "<\uff5cUser\uff5c>1+1?<\uff5cAssistant\uff5c>Two.<\uff5cend\u2581of\u2581sentence\uff5c>",
            None,
            "Two.",
        ),  # DeepSeek R1
        (
            "<start_of_turn>user\n1+1?<end_of_turn>\n<start_of_turn>model\nTwo.<end_of_turn>",
            None,
            "Two.",
        ),
        ("plain text, no template", None, "plain text, no template"),
        ("", None, ""),
        (QWEN_PROMPT, QWEN_PROMPT, ""),  # empty response
    ],
)
def test_split_response(query, prompt, response) -> None:
    assert split_response(query, prompt) == response


def test_split_response_is_linear_on_huge_queries() -> None:
    query = QWEN_PROMPT + "wait " * 200_000 + "<|im_end|>" * 1000
    assert split_response(query, LONG_PROMPT[5:]).endswith("wait")


# -- the doc examples of the adapter package (outside rlsp_rewards/, so run here) ------------------


@pytest.mark.parametrize("module", ["split", "settings", "adapter", "__init__"])
def test_doc_examples(module) -> None:
    name = "rlsp_rewards.integrations.openrlhf" + ("" if module == "__init__" else f".{module}")
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


def test_reward_setting_picks_a_reward_by_name() -> None:
    from rlsp_rewards.exploration import LengthExploration

    assert isinstance(OpenRLHFReward.from_settings({"reward": "length"}).reward, LengthExploration)
    with pytest.raises(ConfigError, match=r"unknown reward 'lenght'"):
        OpenRLHFReward.from_settings({"reward": "lenght"})


def test_settings_helpers_without_torch_or_env(monkeypatch) -> None:
    from rlsp_rewards.integrations.openrlhf.settings import settings_from_env

    monkeypatch.delenv("RLSP_REWARD_CONFIG", raising=False)
    assert settings_from_env() == {}
    assert json.loads(json.dumps(OpenRLHFReward.from_settings({}).settings.model_dump())) == {
        "label_key": "answer",
        "eval_mode": False,
        "reward": "combined",
    }
    assert threading.active_count() >= 1
    with ThreadPoolExecutor(4) as pool:  # building the lazy attribute from threads: one object
        built = list(pool.map(lambda _: adapter_pkg.reward_func, range(8)))
    assert all(b is built[0] for b in built)
    monkeypatch.delitem(vars(adapter_pkg), "reward_func", raising=False)
