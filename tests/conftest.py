"""Shared test setup.

Framework tests run in their own virtual environments (see the Makefile): the variable
RLSP_TEST_FRAMEWORK says which one this is, and the other frameworks' test files are not
collected. A framework test imports its framework at the top, so a broken install fails loudly
instead of skipping.
"""

from __future__ import annotations

import os

import pytest

FRAMEWORK = os.environ.get("RLSP_TEST_FRAMEWORK", "core")

collect_ignore_glob: list[str] = []
if FRAMEWORK != "verl":
    collect_ignore_glob.append("test_verl*.py")
if FRAMEWORK != "openrlhf":
    collect_ignore_glob.append("test_openrlhf*.py")


# -- an offline tokenizer (length helper; also usable by the framework tests) ----------------


@pytest.fixture(scope="session")
def tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A byte-level BPE tokenizer trained in-process and saved with ``save_pretrained``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    corpus = ["Let me check: 2 + 2 = 4, so the answer is \\boxed{4}.", "Wait, that's wrong."]
    bpe.train_from_iterator(corpus * 50, trainer)
    path = tmp_path_factory.mktemp("tokenizer")
    PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<s>", eos_token="</s>").save_pretrained(
        str(path)
    )
    return str(path)
