"""Every public reward of ours passes the contract checker we ship to users.

The checker calls each reward the framework's way on the battery of awkward inputs (empty,
None, huge, unicode, adversarial LaTeX, unparseable gold, binary junk), from one thread and from
8 at once, checks the fixed key set and finite values, and pickles it. The judge rewards talk to
a real HTTP server on 127.0.0.1 that answers like an OpenAI-compatible endpoint. The OpenRLHF
adapter is checked in ``test_openrlhf_contract.py`` (its environment has torch).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from rlsp_rewards.core import RESULT_KEYS
from rlsp_rewards.testing import CASES, assert_reward_contract


class JudgeHandler(BaseHTTPRequestHandler):
    """Answers every chat completion with a fixed, valid grade."""

    def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
        length = int(self.headers.get("Content-Length", 0))
        self.rfile.read(length)
        reply = {"rationale": "several strategies, checked", "grade": 0.7}
        body = json.dumps({
            "id": "cmpl-1", "object": "chat.completion", "model": "judge",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": json.dumps(reply)}}],
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802  (/v1/models, for a judge that asks which model)
        body = json.dumps({"object": "list", "data": [{"id": "judge", "object": "model"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def judge_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), JudgeHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def verl_rewards(judge_url: str) -> dict[str, Any]:
    from rlsp_rewards.combine import RlspReward, combined
    from rlsp_rewards.judge import JudgeExploration
    from rlsp_rewards.length import LengthExploration, length
    from rlsp_rewards.outcome import OutcomeVerifier, outcome

    return {
        "combined (paper)": combined,
        "RlspReward reference": RlspReward(preset="reference"),
        "RlspReward guarded": RlspReward(preset="guarded"),
        "RlspReward judge": RlspReward(exploration="judge", judge_url=judge_url),
        "outcome": outcome,
        "OutcomeVerifier first_box": OutcomeVerifier(extraction="first_box"),
        "length": length,
        "LengthExploration C=500": LengthExploration(C=500),
        "JudgeExploration": JudgeExploration(judge_url=judge_url),
    }


REWARD_NAMES = [
    "combined (paper)", "RlspReward reference", "RlspReward guarded", "RlspReward judge",
    "outcome", "OutcomeVerifier first_box", "length", "LengthExploration C=500",
    "JudgeExploration",
]


@pytest.mark.parametrize("name", REWARD_NAMES)
def test_our_rewards_pass_the_verl_contract(name: str, judge_url: str) -> None:
    reward = verl_rewards(judge_url)[name]
    report = assert_reward_contract(reward, framework="verl")
    assert report.problems == ()  # not even a warning


def test_our_results_have_exactly_the_fixed_keys_on_every_input(judge_url: str) -> None:
    from rlsp_rewards.combine import combined

    for case in CASES:
        out = combined(data_source="math", solution_str=case.response, ground_truth=case.gold)
        assert list(out) == list(RESULT_KEYS), case.name
        assert isinstance(out["pred"], str)
