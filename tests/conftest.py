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


# -- a real HTTP server on 127.0.0.1 (server and OpenRLHF tests) ---------------------------------


@pytest.fixture
def serve_app():
    """Start ASGI apps with uvicorn in background threads on free ports; returns their URLs."""
    import socket
    import threading
    import time

    import uvicorn

    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(app) -> str:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                access_log=False, backlog=2048)
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        servers.append((server, thread))
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=30)
