"""Planning a Ray job without Ray: shards, the actor pool, the judge's share, resume facts, and
``score --ray`` without the extra."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rlsp_rewards.cli.app import app
from rlsp_rewards.cli.runs import FieldMap
from rlsp_rewards.distributed.limits import parse_actors, plan_actors
from rlsp_rewards.distributed.parquet import ShardWriter
from rlsp_rewards.distributed.resume import is_done, job_facts, shard_facts
from rlsp_rewards.distributed.shards import plan_shards
from rlsp_rewards.errors import ConfigError


def _touch(*paths: Path) -> None:
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")


def test_a_folder_is_searched_recursively_and_mirrored(tmp_path) -> None:
    _touch(tmp_path / "in/b/s2.jsonl.gz", tmp_path / "in/s1.jsonl", tmp_path / "in/.hidden.jsonl")
    _touch(tmp_path / "in/scored/old.parquet")  # an earlier output inside the input: not input
    shards = plan_shards(tmp_path / "in", tmp_path / "in/scored")
    assert [(s.source.name, s.target.relative_to(tmp_path)) for s in shards] == [
        ("s2.jsonl.gz", Path("in/scored/b/s2.parquet")),
        ("s1.jsonl", Path("in/scored/s1.parquet")),
    ]


def test_a_glob_takes_what_it_names(tmp_path) -> None:
    _touch(tmp_path / "step_1.jsonl", tmp_path / "step_2.json", tmp_path / "other.jsonl")
    shards = plan_shards(str(tmp_path / "step_*"), tmp_path / "out")
    assert [s.target.name for s in shards] == ["step_1.parquet", "step_2.parquet"]


@pytest.mark.parametrize(
    ("files", "out", "match"),
    [
        (["a.jsonl", "a.parquet"], "out", "would both be written"),  # two shards, one target
        (["a.jsonl"], "out.jsonl", "is a folder"),  # the local path's --out
        ([], "out", "no rollouts"),  # nothing to score
    ],
)
def test_plans_that_cannot_work_fail_at_once(tmp_path, files, out, match) -> None:
    _touch(*(tmp_path / "in" / f for f in files))
    (tmp_path / "in").mkdir(exist_ok=True)
    with pytest.raises(ConfigError, match=match):
        plan_shards(tmp_path / "in", tmp_path / out)


@pytest.mark.parametrize(
    ("requested", "shards", "cpus", "limit", "expected"),
    [
        (None, 10, 4, None, (4, 4)),  # one per CPU
        (None, 2, 64, None, (2, 2)),  # at most one per shard
        ((1, 16), 8, 4, None, (1, 8)),  # autoscaling, capped by the shards
        (None, 100, 64, 16, (16, 16)),  # the judge limit caps the pool: one request each
        (None, 100, 8, 64, (8, 8)),  # 8 requests per actor
    ],
)
def test_the_pool_and_the_judge_share(requested, shards, cpus, limit, expected) -> None:
    plan = plan_actors(requested, shards=shards, cluster_cpus=cpus, judge_limit=limit)
    assert (plan.min_actors, plan.max_actors) == expected
    if limit is not None:
        share = plan.settings["judge_max_in_flight"]
        assert share >= 1 and share * plan.max_actors <= limit  # never more than the job's limit


def test_worker_processes_follow_the_actor_unless_set() -> None:
    assert plan_actors(2, shards=4, cluster_cpus=8, cpus_per_actor=2).settings == {"workers": 2}
    assert plan_actors(2, shards=4, cluster_cpus=8, settings={"workers": 5}).settings == {}


@pytest.mark.parametrize("text", ["x", "1:2:3", "0", "3:1"])
def test_bad_actor_counts_are_refused(text) -> None:
    with pytest.raises(ConfigError):
        plan_actors(parse_actors(text), shards=4, cluster_cpus=4)


def test_resume_trusts_only_outputs_of_this_input_and_job(tmp_path) -> None:
    _touch(tmp_path / "in/a.jsonl")
    (shard,) = plan_shards(tmp_path / "in", tmp_path / "out")
    job = job_facts({"preset": "paper", "workers": 3}, FieldMap())
    assert not is_done(shard, job)
    with ShardWriter(shard.target, shard_facts(shard, job)) as writer:
        writer.commit()
    assert is_done(shard, job)
    assert is_done(shard, job_facts({"preset": "paper", "workers": 9}, FieldMap()))  # operational
    (tmp_path / "in/a.jsonl").write_text("{}\n")  # the input changed
    assert not is_done(shard, job)
    with pytest.raises(ConfigError, match="scored with"):
        is_done(shard, job_facts({"preset": "guarded"}, FieldMap()))


@pytest.mark.skipif(importlib.util.find_spec("ray") is not None, reason="Ray is installed")
def test_score_with_ray_without_the_extra_fails_at_once_with_the_pip_line(tmp_path) -> None:
    _touch(tmp_path / "a.jsonl")
    result = CliRunner().invoke(
        app, ["score", str(tmp_path / "a.jsonl"), "-o", str(tmp_path / "out"), "--ray", "local"]
    )
    assert result.exit_code == 2
    assert 'pip install "rlsp-rewards[ray]"' in result.output


def test_score_with_ray_needs_an_output_folder(tmp_path) -> None:
    _touch(tmp_path / "a.jsonl")
    result = CliRunner().invoke(app, ["score", str(tmp_path / "a.jsonl"), "--ray", "local"])
    assert result.exit_code == 2 and "--ray needs --out FOLDER" in result.output
