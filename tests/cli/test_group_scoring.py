"""``rlsp-rewards score`` with a group shape: chunks close only between whole groups, so a file
scored chunk by chunk gets exactly the scores of one batch over the whole file."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rlsp_rewards.cli.app import app
from rlsp_rewards.cli.chunks import fixed_chunks, group_ends, whole_group_chunks
from rlsp_rewards.cli.runs import FieldMap, Row, score_file
from rlsp_rewards.combine import RlspReward
from rlsp_rewards.errors import ConfigError

runner = CliRunner()


def rows(prompts: str) -> list[Row]:
    return [
        Row(i, {"response": "", "gold": "1", "prompt": p} if p != "?" else {"response": ""})
        for i, p in enumerate(prompts, start=1)
    ]


@pytest.mark.parametrize(
    ("prompts", "size", "chunks"),
    [
        ("aabbcc", 1, [[1, 2], [3, 4], [5, 6]]),  # sorted by prompt: a chunk per group
        ("aabbcc", 3, [[1, 2, 3, 4], [5, 6]]),  # at least 3 rows, then the open group ends
        ("abcabc", 1, [[1, 2, 3, 4, 5, 6]]),  # every group open until the end: one chunk
        ("aab?bc", 2, [[1, 2], [3, 4, 5], [6]]),  # a row without a group goes along
        ("abab", 100, [[1, 2, 3, 4]]),
    ],
)
def test_whole_group_chunks(prompts: str, size: int, chunks: list[list[int]]) -> None:
    table = rows(prompts)
    ends = group_ends(table, FieldMap())
    got = [[r.line for r in chunk] for chunk in whole_group_chunks(table, FieldMap(), ends, size)]
    assert got == chunks


def test_fixed_chunks() -> None:
    assert [[r.line for r in c] for c in fixed_chunks(rows("abcde"), 2)] == [[1, 2], [3, 4], [5]]


def write_rollouts(path: Path, interleaved: bool = True) -> list[dict]:
    """Eight prompts x four responses, interleaved (prompt 1 answer 1, prompt 2 answer 1, ...)
    or sorted by prompt."""
    rng = random.Random(0)
    records = []
    for attempt in range(4):
        for problem in range(8):
            right = rng.random() < 0.5
            records.append(
                {
                    "prompt": f"problem {problem}",
                    "response": "so \\boxed{7}" if right else "so \\boxed{8}",
                    "gold": "7",
                    "response_tokens": rng.randint(10, 4000),
                    "attempt": attempt,
                }
            )
    if not interleaved:
        records.sort(key=lambda r: r["prompt"])
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return records


@pytest.mark.parametrize("shape", ["kimi", "shorter_better"])
@pytest.mark.parametrize("chunk_size", [1, 5, 512])
@pytest.mark.parametrize("interleaved", [True, False])
def test_scored_in_chunks_equals_one_whole_batch(
    tmp_path: Path, shape: str, chunk_size: int, interleaved: bool
) -> None:
    source = tmp_path / "in.jsonl"
    write_rollouts(source, interleaved)
    reward = RlspReward(exploration=shape)
    out = tmp_path / "out.jsonl"
    summary = score_file(source, reward, out=out, chunk_size=chunk_size)
    assert summary.scored == 32 and summary.skipped == 0
    written = [json.loads(line)["reward"] for line in out.read_text().splitlines()]
    fields = FieldMap()
    whole = reward.score_batch([fields.sample(json.loads(line)) for line in source.open()])
    assert [w["score"] for w in written] == [r.score for r in whole]
    assert [w["shape_term"] for w in written] == [r.shape_term for r in whole]
    assert all(w["error"] == 0.0 for w in written)


def test_resume_is_refused_for_group_shapes(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    write_rollouts(source)
    with pytest.raises(ConfigError, match="--resume cannot be used with a group shape"):
        score_file(source, RlspReward(exploration="kimi"), out=tmp_path / "o.jsonl", resume=True)


def test_score_command_with_a_group_shape_on_the_demo_sample(tmp_path: Path) -> None:
    out = tmp_path / "kimi.jsonl"
    args = ["score", str(Path(__file__).parents[2] / "rlsp_rewards/cli/data/sample_rollouts.jsonl")]
    args += ["--prompt-field", "problem", "--set", "exploration=kimi", "--chunk-size", "8"]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "shape_term" in result.output  # the component is shown once it is used
    written = [json.loads(line)["reward"] for line in out.read_text().splitlines()]
    assert len(written) == 207 and not any(r["error"] for r in written)
    assert {r["shape_term"] for r in written} - {0.0}  # the groups' terms reached the file
