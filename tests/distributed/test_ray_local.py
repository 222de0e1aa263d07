"""score_dataset on a real local Ray (``ray.init(num_cpus=2)``): formats, bad shards, resume,
the job-wide judge limit, and the examples of the package's docstrings."""

from __future__ import annotations

import doctest
import gzip
import importlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import ray  # noqa: F401  (a broken install fails here, loudly)

from rlsp_rewards.cli.runs import build_reward, score_file
from rlsp_rewards.distributed import score_dataset
from rlsp_rewards.errors import ConfigError

from .compare import local_rows, ray_rows
from .conftest import workload, write_rollouts

pytestmark = [pytest.mark.ray, pytest.mark.usefixtures("local_ray")]


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Good shards in each format, and the bad ones the issue lists."""
    root = tmp_path_factory.mktemp("shards")
    rows = workload(600, seed=3)
    write_rollouts(root / "good" / "a.jsonl", rows[:200])
    write_rollouts(root / "good" / "b.jsonl.gz", rows[200:400])
    write_rollouts(root / "good" / "c.parquet", rows[400:])
    broken = [json.dumps(r) for r in rows[:20]]
    broken[3] = broken[3][:40]  # cut mid-object
    broken[7] = "[1, 2]"  # JSON, but not an object
    broken[9] = json.dumps({"gold": "1"})  # no response
    broken[11] = json.dumps({"response": r"\boxed{3}", "gold": 3, "extra": {"a": [1]}})
    (root / "bad" / "broken.jsonl").parent.mkdir(parents=True)
    (root / "bad" / "broken.jsonl").write_text("\n".join(broken) + "\n\n")
    (root / "bad" / "empty.jsonl").write_text("")
    write_rollouts(root / "bad" / "other.parquet", [{"text": "hi", "label": i} for i in range(5)])
    whole = gzip.compress("".join(json.dumps(r) + "\n" for r in rows[:50]).encode())
    (root / "bad" / "truncated.jsonl.gz").write_bytes(whole[: len(whole) // 2])
    return root


def test_every_format_matches_the_local_path_row_for_row(shards: Path, tmp_path: Path) -> None:
    result = score_dataset(shards / "good", tmp_path / "out", actors=2)
    assert [s.status for s in result.shards] == ["scored"] * 3
    reward = build_reward("paper")
    for outcome in result.shards:
        local = tmp_path / f"{outcome.shard.name}.local.jsonl"
        score_file(outcome.shard.source, reward, out=local)
        assert ray_rows(outcome.shard.target) == local_rows(local), outcome.shard.name
    assert result.summary.rows == result.summary.scored == 600
    # the input columns travel with the result columns
    assert pq.read_schema(tmp_path / "out" / "c.parquet").names[-3:] == [
        "line",
        "reward",
        "skipped",
    ]


def test_bad_shards_are_kept_with_reasons_and_never_end_the_job(
    shards: Path, tmp_path: Path
) -> None:
    result = score_dataset(shards / "bad", tmp_path / "out", actors=2)
    by_name = {o.shard.name: o for o in result.shards}
    assert {n: o.status for n, o in by_name.items()} == dict.fromkeys(by_name, "scored")
    broken = ray_rows(tmp_path / "out" / "broken.parquet")
    assert [line for line, _, _ in broken] == list(range(1, 21))  # the blank line is not a row
    reasons = {line: reason for line, _, reason in broken if reason}
    assert reasons[4].startswith("invalid JSON") and reasons[8].startswith("not a JSON object")
    assert reasons[10] == "missing field 'response'" and len(reasons) == 3
    assert broken[11][1][1] == 1.0  # line 12 scored: acc 1
    raw = pq.read_table(tmp_path / "out" / "broken.parquet").column("raw").to_pylist()
    assert raw[3] is not None and raw[0] is None  # the start of the unreadable line is kept
    assert ray_rows(tmp_path / "out" / "empty.parquet") == []
    other = ray_rows(tmp_path / "out" / "other.parquet")
    assert [r for _, _, r in other] == ["missing field 'response'"] * 5
    truncated = ray_rows(tmp_path / "out" / "truncated.parquet")
    assert truncated and truncated[-1][2]  # rows before the break, then where reading stopped
    assert all(reward is not None for _, reward, _ in truncated[:-1])
    assert result.summary.rows == sum(len(ray_rows(o.shard.target)) for o in result.shards)


def test_resume_skips_complete_shards_and_rescores_changed_ones(
    shards: Path, tmp_path: Path
) -> None:
    source = tmp_path / "in"
    for name in ("a.jsonl", "b.jsonl.gz", "c.parquet"):
        (source / name).parent.mkdir(exist_ok=True)
        (source / name).write_bytes((shards / "good" / name).read_bytes())
    out = tmp_path / "out"
    first = score_dataset(source, out, actors=2)
    assert first.summary.rows == 600
    (out / "b.parquet").unlink()  # never finished
    (out / ".c.parquet.0123456789ab.tmp").write_bytes(b"half")  # an interrupted attempt
    with (source / "a.jsonl").open("a") as handle:  # the input changed since
        handle.write(json.dumps({"response": r"\boxed{1}", "gold": "1"}) + "\n")
    again = score_dataset(source, out, actors=2, resume=True)
    assert [s.status for s in again.shards] == ["scored", "scored", "resumed"]
    assert again.summary.rows == 601 and not list(out.glob(".*.tmp"))
    assert len(ray_rows(out / "a.parquet")) == 201
    with pytest.raises(ConfigError, match="scored with"):
        score_dataset(source, out, preset="guarded", resume=True)


class _CountingJudge(BaseHTTPRequestHandler):
    """An OpenAI-compatible judge that answers slowly and counts requests in flight."""

    lock = threading.Lock()
    in_flight = 0
    most = 0
    served = 0

    def do_POST(self) -> None:
        cls = type(self)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with cls.lock:
            cls.in_flight += 1
            cls.most = max(cls.most, cls.in_flight)
        time.sleep(0.05)
        with cls.lock:
            cls.in_flight -= 1
            cls.served += 1
        content = json.dumps({"rationale": "tried two ways", "grade": 0.7})
        body = json.dumps(
            {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_the_judge_limit_holds_across_the_whole_job(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CountingJudge)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        rows = workload(80, seed=5)
        for i, row in enumerate(rows):  # distinct responses: no judge cache hits
            row["response"] = f"attempt {i}: " + row["response"]
        write_rollouts(tmp_path / "in" / "a.jsonl", rows[:40])
        write_rollouts(tmp_path / "in" / "b.jsonl", rows[40:])
        result = score_dataset(
            tmp_path / "in",
            tmp_path / "out",
            actors=2,
            judge_url=f"http://127.0.0.1:{server.server_address[1]}/v1",
            judge_model="judge",
            settings={"judge_max_in_flight": 2},
        )
    finally:
        server.shutdown()
        server.server_close()
    assert result.plan is not None and result.plan.settings["judge_max_in_flight"] == 1
    assert _CountingJudge.served == 80 and result.summary.nonzero["judge_failed"] == 0
    assert 1 <= _CountingJudge.most <= 2  # the job's limit, not 2 actors x 16 threads


def test_the_docstring_examples_run_with_ray() -> None:
    # Examples that start Ray are marked +SKIP for the core environment; here they run.
    for name in ("job", "progress", "bench"):
        name = f"rlsp_rewards.distributed.{name}"
        module = importlib.import_module(name)
        finder = doctest.DocTestFinder()
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        for test in finder.find(module):
            for example in test.examples:
                example.options.pop(doctest.SKIP, None)
            runner.run(test)
        assert runner.tries > 0 and runner.failures == 0, name
