"""Shared test setup.

Framework tests run in their own virtual environments (see the Makefile): the variable
RLSP_TEST_FRAMEWORK says which one this is, and the other frameworks' test files are not
collected. A framework test imports its framework at the top, so a broken install fails loudly
instead of skipping.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest

FRAMEWORK = os.environ.get("RLSP_TEST_FRAMEWORK", "core")

#: Test files that need a framework's own environment, by the RLSP_TEST_FRAMEWORK that runs them.
_FRAMEWORK_TESTS = {
    "verl": ["integrations/verl/*"],
    "trl": ["integrations/trl/test_trl_*.py"],
    "openrlhf": ["integrations/openrlhf/test_openrlhf_*.py"],
    "ray": ["distributed/test_ray_*.py"],
}
collect_ignore_glob: list[str] = [
    pattern
    for name, patterns in _FRAMEWORK_TESTS.items()
    if name != FRAMEWORK
    for pattern in patterns
]


# -- the scans: compiled (numba) or numpy --------------------------------------------------------


@pytest.fixture(scope="module", params=["compiled", "numpy"])
def either_scans(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run a test module twice: with the compiled scans, then with the numpy ones (the
    fallback where numba cannot run); both must give the same numbers."""
    with _scans(request.param):
        yield request.param


@pytest.fixture
def numpy_scans() -> Iterator[None]:
    """The numpy scans (what runs where numba cannot)."""
    with _scans("numpy"):
        yield


@contextlib.contextmanager
def _scans(kind: str) -> Iterator[None]:
    from rlsp_rewards.exploration import compiled

    if kind == "compiled":
        assert compiled.wait(), "numba is a dependency: the compiled scans must load"
        yield
        return
    compiled.wait()  # loaded (or not) for good: nothing loads them again meanwhile
    saved = compiled._kernels
    compiled._kernels = None
    try:
        yield
    finally:
        compiled._kernels = saved


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
    PreTrainedTokenizerFast(
        tokenizer_object=bpe, bos_token="<s>", eos_token="</s>"
    ).save_pretrained(str(path))
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
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", access_log=False, backlog=2048
        )
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


# -- a minimal OpenAI-compatible judge on 127.0.0.1 (contract and CLI tests) -------------------


@pytest.fixture(scope="session")
def fixed_grade_judge_url():
    """A real HTTP server answering every chat completion with grade 0.7; yields its /v1 URL."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def reply(self, payload: dict) -> None:
            body = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self.reply({"object": "list", "data": [{"id": "judge", "object": "model"}]})

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            grade = json.dumps({"rationale": "several strategies, checked", "grade": 0.7})
            self.reply(
                {
                    "id": "cmpl-1",
                    "object": "chat.completion",
                    "model": "judge",
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": grade},
                        }
                    ],
                }
            )

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, name="fixed-grade-judge", daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


# -- an answer that runs out of a short verification budget (outcome and Ray tests) -------------

#: Answers math-verify needs many seconds for; the fast path's screening may learn some.
_SLOW_ANSWERS = (
    r"\det\begin{pmatrix}1&2&3&4&5&6\\7&8&9&10&11&12\\x&y&z&a&b&c\\"
    r"d&e&f&g&h&i\\j&k&l&m&n&o\\p&q&r&s&t&u\end{pmatrix}",
    r"(x+1)^{300}-(x^{2}+2x+1)^{150}",
)


@pytest.fixture(scope="session")
def slow_answer() -> str:
    """A boxed answer that reaches the worker processes and runs out of a 1 s budget there."""
    from rlsp_rewards.outcome.grade import fast_compare

    for answer in _SLOW_ANSWERS:
        if fast_compare("2", answer) is None:
            return r"\boxed{" + answer + "}"
    pytest.skip("the fast path now decides every slow answer in tests/conftest.py; add one")


async def _run_counting_ticks(awaitable):
    """Await ``awaitable`` while a ticker runs every 10 ms; (result, ticks seen meanwhile).

    Few ticks mean the awaited call blocked the event loop.
    """
    import asyncio

    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        return await awaitable, ticks
    finally:
        task.cancel()


@pytest.fixture
def run_counting_ticks():
    """``asyncio.run(run_counting_ticks(coro))`` gives ``(result, ticks)``: is a loop kept free?"""
    return _run_counting_ticks
