"""Red team: the attacks of the reliability issue against a real server and real ``score`` runs.

A real ``rlsp-rewards serve`` process (token, 2 workers, a 2 s budget, 64 requests in flight)
takes auth and settings abuse, deep JSON, an oversized batch, slow-body clients, head-of-line
and queue attacks with slow answers, load with a worker killed, kill -9 of its fork server, and
its own SIGKILL (no worker may outlive it). Real ``rlsp-rewards score`` processes read
hostile files: a line nested too deeply, forged output fields and a forged ``--resume``,
truncated and corrupt gzip. Each attack is one test; the table of all of them is printed at the
end of the module (``pytest -m redteam tests/test_redteam.py``).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = [
    pytest.mark.redteam,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]

TOKEN = "red-team-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BUDGET_S = 2.0  # the server's verification budget
GRACE_S = 3.0  # generous: what a 2-core machine shared with other jobs may add to it
PROMPT = "<|im_start|>assistant\n"
RESULTS: list[tuple[str, str, str, bool]] = []  # attack, expected, observed, held


def record(attack: str, expected: str, observed: str, held: bool) -> None:
    RESULTS.append((attack, expected, observed, held))
    assert held, f"{attack}: expected {expected}; observed {observed}"


@pytest.fixture(scope="module", autouse=True)
def table(request: pytest.FixtureRequest) -> Iterator[None]:
    """Print the table of every attack of the module once they have run (even under capture)."""
    yield
    if not RESULTS:
        return
    width = max(len(attack) for attack, *_ in RESULTS)
    lines = ["", f"red team: {sum(r[3] for r in RESULTS)}/{len(RESULTS)} attacks held"]
    for attack, expected, observed, held in RESULTS:
        mark = "held" if held else "BROKE"
        lines.append(f"  {mark:5}  {attack:<{width}}  {observed}  (expected {expected})")
    capture = request.config.pluginmanager.getplugin("capturemanager")
    reporter = request.config.pluginmanager.getplugin("terminalreporter")
    with capture.global_and_fixture_disabled():
        for line in lines:
            reporter.write_line(line)


# -- the server process ---------------------------------------------------------------------------


def _stat(pid: int) -> tuple[str, int] | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0], int(fields[1])


def _alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        stat = _stat(int(entry.name))
        if stat is not None and stat[1] == pid and stat[0] not in ("Z", "X"):
            found.append(int(entry.name))
    return found


def _fork_server(server: int) -> int:
    for pid in _children(server):
        try:
            if b"forkserver" in Path(f"/proc/{pid}/cmdline").read_bytes() and _children(pid):
                return pid
        except OSError:
            continue
    raise AssertionError("the server has no fork server with workers")


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[subprocess.Popen, str]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "rlsp_rewards", "serve", "--port", str(port)]
    command += ["--workers", "2", "--token", TOKEN, "--max-in-flight", "64"]
    command += ["--config", json.dumps({"timeout_s": BUDGET_S}), "--log-level", "warning"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    yield server, url
    if server.poll() is None:
        server.kill()
        server.wait()


def _get_reward(url: str, response: str, gold: str, timeout: float = 60) -> httpx.Response:
    body = {"query": [PROMPT + response + "<|im_end|>"], "labels": [gold]}
    return httpx.post(f"{url}/get_reward", json=body, headers=AUTH, timeout=timeout)


def test_auth(served) -> None:
    _, url = served
    body = {"query": [PROMPT + "\\boxed{4}"], "labels": ["4"]}
    codes = [
        httpx.post(f"{url}/get_reward", json=body).status_code,
        httpx.post(f"{url}/get_reward", json=body, headers={"Authorization": "Bearer no"}),
        httpx.post(f"{url}/get_reward?token={TOKEN}", json=body).status_code,
        httpx.post(f"{url}/get_reward", json=body, headers=AUTH).status_code,
        httpx.post(f"{url}/get_reward", json=body, auth=("openrlhf", TOKEN)).status_code,
    ]
    codes = [c if isinstance(c, int) else c.status_code for c in codes]
    record(
        "auth: none, wrong, query string, bearer, basic",
        "401 401 401 200 200",
        " ".join(map(str, codes)),
        codes == [401, 401, 401, 200, 200],
    )


def test_health_shows_status_only_without_the_token(served) -> None:
    _, url = served
    open_view = httpx.get(f"{url}/health").json()
    behind = httpx.get(f"{url}/health", headers=AUTH).json()
    record(
        "/health without the token",
        "status only; the reward behind the token",
        f"{sorted(open_view)} / {sorted(behind)}",
        open_view == {"status": "ok"} and "reward" in behind,
    )


@pytest.mark.parametrize(
    "settings",
    [
        {"judge_prompt": "/proc/self/environ"},
        {"judge_prompt": "/etc/hostname"},
        {"timeout_s": 600},
        {"judge_budget_s": 10_000},
        {"judge_url": "http://127.0.0.1:9/v1"},
    ],
)
def test_v1_score_settings_abuse(served, settings) -> None:
    _, url = served
    body = {"samples": [{"response": "\\boxed{4}", "gold": "4"}], "settings": settings}
    response = httpx.post(f"{url}/v1/score", json=body, headers=AUTH)
    record(
        f"/v1/score settings {settings}",
        "422",
        str(response.status_code),
        response.status_code == 422,
    )


@pytest.mark.parametrize(
    "content",
    [b"[" * 1_000_000, b'{"query": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"],
    ids=["deep body", "deep query"],
)
def test_deep_json(served, content) -> None:
    _, url = served
    response = httpx.post(
        f"{url}/get_reward",
        content=content,
        timeout=60,
        headers={**AUTH, "content-type": "application/json"},
    )
    record(
        f"{len(content) // 1000} kB of nested JSON",
        "4xx",
        str(response.status_code),
        400 <= response.status_code < 500,
    )


def test_an_oversized_batch_is_refused(served) -> None:
    _, url = served
    samples = [{"response": "\\boxed{1}", "gold": "1"}] * 10_001
    response = httpx.post(f"{url}/v1/score", json={"samples": samples}, headers=AUTH, timeout=60)
    record(
        "/v1/score with 10,001 samples",
        "413 (split the batch)",
        str(response.status_code),
        response.status_code == 413,
    )


def test_slow_bodies_hold_no_slot(served) -> None:
    _, url = served
    port = int(url.rsplit(":", 1)[1])
    slow = []
    try:
        for _ in range(70):  # more than --max-in-flight 64
            sock = socket.create_connection(("127.0.0.1", port), timeout=30)
            sock.sendall(
                f"POST /get_reward HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{".encode()
            )
            slow.append(sock)
        deadline = time.monotonic() + 30
        while "rlsp_requests_reading 70.0" not in httpx.get(f"{url}/metrics").text:
            assert time.monotonic() < deadline, "the slow bodies were never being read"
            time.sleep(0.05)
        codes = [_get_reward(url, "\\boxed{4}", "4").status_code for _ in range(5)]
    finally:
        for sock in slow:
            sock.close()
    record(
        "70 slow-body clients vs 64 in-flight slots",
        "real requests 200",
        " ".join(map(str, codes)),
        codes == [200] * 5,
    )


def test_head_of_line(served, slow_answer) -> None:
    _, url = served
    done: dict[str, list[float]] = {"easy": [], "slow": []}
    seed = time.monotonic_ns()

    def one(kind: str, i: int) -> None:
        gold = f"{seed}{i}" if kind == "slow" else "3"
        answer = slow_answer if kind == "slow" else f"\\boxed{{{i % 5}}}"
        assert _get_reward(url, answer, gold).status_code == 200
        done[kind].append(time.monotonic())

    threads = [threading.Thread(target=one, args=("slow", i)) for i in range(2)]
    threads += [threading.Thread(target=one, args=("easy", i)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    held = len(done["easy"]) == 20 and max(done["easy"]) < min(done["slow"])
    start = min(done["easy"] + done["slow"])
    record(
        "20 easy requests sent with 2 slow ones",
        "every easy one answered first",
        f"last easy at {max(done['easy']) - start:.2f} s, first slow at "
        f"{min(done['slow']) - start:.2f} s",
        held,
    )


def test_slow_distinct_answers_keep_their_budgets(served, slow_answer) -> None:
    _, url = served
    seed = time.monotonic_ns()
    took: list[tuple[float, float]] = []

    def one(i: int) -> None:
        started = time.monotonic()
        out = _get_reward(url, slow_answer, f"{seed}{i}").json()
        took.append((time.monotonic() - started, out["extra_logs"]["timeout"][0]))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    worst = max(seconds for seconds, _ in took)
    record(
        "8 distinct slow answers on 2 workers",
        f"each <= {BUDGET_S:g} s + {GRACE_S:g} s, flagged",
        f"worst {worst:.2f} s, {sum(t for _, t in took):.0f}/8 timeout flags",
        len(took) == 8 and worst < BUDGET_S + GRACE_S and all(t == 1.0 for _, t in took),
    )


def test_load_with_a_killed_worker(served) -> None:
    import aiohttp

    server, url = served
    n, stats = 1000, {"ok": 0, "lost": 0, "other": 0}

    async def one(session: aiohttp.ClientSession, i: int, gate: asyncio.Semaphore) -> None:
        async with gate:
            gold = f"\\log_2 8+{i}" if i % 50 == 0 else "3"
            body = {
                "query": [PROMPT + f"\\boxed{{{i % 7 if i % 50 else i + 3}}}"],
                "labels": [gold],
            }
            try:
                async with session.post(f"{url}/get_reward", json=body, headers=AUTH) as r:
                    stats["ok" if r.status == 200 else "other"] += 1
                    await r.read()
            except Exception:
                stats["lost"] += 1
        if i == n // 2:
            os.kill(_children(_fork_server(server.pid))[0], signal.SIGKILL)

    async def main() -> None:
        gate = asyncio.Semaphore(64)
        timeout = aiohttp.ClientTimeout(total=120)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            await asyncio.gather(*(one(session, i, gate) for i in range(n)))

    asyncio.run(main())
    record(
        f"{n} /get_reward at 64 in flight, a worker killed",
        "0 lost, all 200",
        str(stats),
        stats == {"ok": n, "lost": 0, "other": 0},
    )


def test_kill_the_fork_server(served, slow_answer) -> None:
    server, url = served
    fork_server = _fork_server(server.pid)
    old_workers = _children(fork_server)
    os.kill(fork_server, signal.SIGKILL)
    seed = time.monotonic_ns()
    took = []
    for i in range(3):  # checks that overrun, after the loss
        started = time.monotonic()
        out = _get_reward(url, slow_answer, f"{seed}{i}").json()
        took.append((time.monotonic() - started, out["extra_logs"]["timeout"][0]))
    deadline = time.monotonic() + 20
    while any(map(_alive, old_workers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    orphans = [pid for pid in old_workers if _alive(pid)]
    worst = max(seconds for seconds, _ in took)
    record(
        "kill -9 the fork server, then 3 overrunning checks",
        "killed at budget, no orphan",
        f"worst {worst:.2f} s, flags {[t for _, t in took]}, orphans {orphans}",
        worst < BUDGET_S + GRACE_S and all(t == 1.0 for _, t in took) and not orphans,
    )


def test_zz_no_worker_outlives_the_server(served, slow_answer) -> None:
    server, url = served  # last server test: it kills the server
    workers = _children(_fork_server(server.pid))

    def check() -> None:
        try:
            _get_reward(url, slow_answer, "-7")
        except httpx.TransportError:  # the server is killed under it: expected
            pass

    busy = threading.Thread(target=check, daemon=True)
    busy.start()  # a worker busy with a check while its owner dies
    time.sleep(0.5)
    server.kill()
    server.wait()
    deadline = time.monotonic() + 10
    while any(map(_alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in workers if _alive(pid)]
    record("SIGKILL the server during a check", "no worker left", f"left {left}", not left)


# -- rlsp-rewards score ---------------------------------------------------------------------------


def _score(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rlsp_rewards", "score", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


GOOD = '{"response": "\\\\boxed{1}", "gold": "1"}\n'


def test_score_a_line_nested_too_deeply(tmp_path: Path) -> None:
    src = tmp_path / "deep.jsonl"
    src.write_text(GOOD + "[" * 100_000 + "]" * 100_000 + "\n" + GOOD)
    run = _score(str(src), "-o", str(tmp_path / "out.jsonl"))
    rows = _rows(tmp_path / "out.jsonl") if run.returncode == 0 else []
    record(
        "score: 100,000 nested '[' between two rows",
        "rc 0, 3 rows, one kept as skipped",
        f"rc {run.returncode}, {len(rows)} rows",
        run.returncode == 0
        and len(rows) == 3
        and "nested too deeply" in rows[1].get("skipped", ""),
    )


def test_score_forged_fields_and_a_forged_resume(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(
        GOOD + '{"gold": "1", "reward": {"score": 1000000, "acc": 1}}\n'
        '{"response": "\\\\boxed{2}", "gold": "2", "skipped": "no"}\n'
    )
    out = tmp_path / "out.jsonl"
    first = _score(str(src), "-o", str(out))
    rows = _rows(out)
    out.write_text(json.dumps(rows[0]) + "\n" + '{"line": 2, "reward": {"score": 1e6}}\n')
    again = _score(str(src), "-o", str(out), "--resume")
    final = _rows(out)
    held = (
        first.returncode == 0
        and again.returncode == 0
        and "Traceback" not in again.stderr
        and "reward" not in rows[1]
        and "skipped" not in rows[2]
        and [("reward" in r, "skipped" in r) for r in final] == [(1, 0), (0, 1), (1, 0)]
        and all(abs(r["reward"]["score"]) < 100 for r in final if "reward" in r)
    )
    record(
        "score: input 'reward'/'skipped' fields, a forged row on --resume",
        "ours only; the forged row scored again",
        f"rc {first.returncode}/{again.returncode}, "
        f"rows {[sorted(set(r) & {'reward', 'skipped'}) for r in final]}",
        held,
    )


@pytest.mark.parametrize("damage", ["truncated", "corrupt"])
def test_score_damaged_gzip(tmp_path: Path, damage: str) -> None:
    rows = b"".join(b'{"response": "\\\\boxed{%d}", "gold": "%d"}\n' % (i, i) for i in range(3000))
    data = gzip.compress(rows)
    src = tmp_path / f"{damage}.jsonl.gz"
    src.write_bytes(
        data[: len(data) // 2] if damage == "truncated" else b"\x1f\x8b" + os.urandom(2000)
    )
    out = tmp_path / "out.jsonl"
    run = _score(str(src), "-o", str(out))
    written = len(_rows(out)) if out.exists() else 0
    said = " ".join(run.stderr.split())
    held = (
        run.returncode == 2
        and "Traceback" not in run.stderr
        and str(src) in said
        and "at line" in said
        and "--resume" in said
        and (written > 1000 if damage == "truncated" else True)
    )
    record(
        f"score: a {damage} .jsonl.gz",
        "readable rows written, exit 2 naming file+line",
        f"rc {run.returncode}, {written} rows, '...{said[said.find(' is damaged') :][:60]}...'",
        held,
    )
