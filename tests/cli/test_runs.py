"""Offline scoring: every row kept in order, skip reasons, field mapping, resume, streaming."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from rlsp_rewards.cli import runs as scoring
from rlsp_rewards.cli.runs import FieldMap, Summary, parse_settings, score_file
from rlsp_rewards.cli.summary import summary_tables
from rlsp_rewards.core import RewardResult, Sample
from rlsp_rewards.errors import ConfigError
from rlsp_rewards.exploration.length import LengthExploration


class EchoReward:
    """Scores a response by its length; acc is 1 when the response equals the gold."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    def score_batch(self, samples: Sequence[Sample]) -> list[RewardResult]:
        self.batches.append(len(samples))
        return [
            RewardResult(
                score=float(len(s.response)),
                acc=float(s.response == str(s.gold)),
                length=float(len(s.response)),
                backtracking=float("wait" in s.response),
                pred=s.response[:8],
            )
            for s in samples
        ]


def write_jsonl(path: Path, lines: Sequence[Any]) -> Path:
    text = "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines)
    path.write_text(text, encoding="utf-8")
    return path


def read_out(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


MIXED = [
    {"id": 1, "response": "2", "gold": "2"},  # scored, correct
    "{not json",  # invalid JSON: kept with the reason and the raw text
    {"id": 3, "response": "wait, 3", "gold": "2"},  # scored, wrong
    "",  # a blank line is not a row
    [1, 2],  # valid JSON but not an object
    {"id": 6, "gold": "2"},  # no response field
    {"id": 7, "response": None, "gold": "2"},  # a null response is scored (as empty)
]


def test_every_row_is_kept_in_order_with_line_numbers_and_reasons(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", MIXED)
    summary = score_file(src, EchoReward(), out=tmp_path / "out.jsonl")
    out = read_out(tmp_path / "out.jsonl")
    assert [r["line"] for r in out] == [1, 2, 3, 5, 6, 7]
    assert [("reward" in r, "skipped" in r) for r in out] == [
        (True, False),
        (False, True),
        (True, False),
        (False, True),
        (False, True),
        (True, False),
    ]
    assert out[0]["id"] == 1 and out[0]["reward"]["acc"] == 1.0 and out[0]["reward"]["pred"] == "2"
    assert out[1]["skipped"].startswith("invalid JSON") and out[1]["raw"] == "{not json\n"
    assert out[3]["skipped"] == "not a JSON object (a list)"
    assert out[4]["skipped"] == "missing field 'response'"
    assert out[5]["reward"]["score"] == 0.0
    assert (summary.rows, summary.scored, summary.skipped) == (6, 3, 3)
    assert summary.mean("acc") == pytest.approx(1 / 3)
    assert summary.rate("backtracking") == pytest.approx(1 / 3)
    assert [line for line, _ in summary.first_skips] == [2, 5, 6]


def test_field_mapping_reaches_nested_fields_and_chat_prompts(tmp_path: Path) -> None:
    row = {
        "completion": "\\boxed{4}",
        "reward_model": {"ground_truth": "4"},
        "prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"}],
        "source": "gsm8k",
        "n_tokens": 17,
    }
    fields = FieldMap(
        response="completion",
        gold="reward_model.ground_truth",
        data_source="source",
        tokens="n_tokens",
    )
    sample = fields.sample(row)
    assert isinstance(sample, Sample)
    assert (sample.response, sample.gold, sample.data_source) == ("\\boxed{4}", "4", "gsm8k")
    assert sample.prompt == "Be brief.\n2+2?" and sample.response_tokens == 17
    assert FieldMap().sample({"response": "x"}) == "missing field 'gold'"


def test_resume_skips_written_rows_cuts_a_torn_line_and_matches_a_full_run(tmp_path: Path) -> None:
    rows = [{"response": "r" * i, "gold": "g"} for i in range(1, 11)]
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    full = tmp_path / "full.jsonl"
    score_file(src, EchoReward(), out=full)

    partial = tmp_path / "partial.jsonl"
    text = full.read_text(encoding="utf-8").splitlines(keepends=True)
    partial.write_text("".join(text[:4]) + text[4][:15], encoding="utf-8")  # crashed mid-line
    reward = EchoReward()
    summary = score_file(src, reward, out=partial, resume=True)
    assert sum(reward.batches) == 6  # only rows 5..10 were scored again
    assert partial.read_text(encoding="utf-8") == full.read_text(encoding="utf-8")
    assert (summary.rows, summary.scored, summary.scored_now) == (10, 10, 6)
    assert summary.mean("length") == pytest.approx(5.5)  # resumed rows count in the summary


def test_resume_with_no_output_yet_scores_everything(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", [{"response": "a", "gold": "a"}])
    summary = score_file(src, EchoReward(), out=tmp_path / "new" / "out.jsonl", resume=True)
    assert summary.scored == 1 and (tmp_path / "new" / "out.jsonl").is_file()


def test_large_files_stream_in_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    n, chunk = 3000, 256
    src = write_jsonl(tmp_path / "big.jsonl", [{"response": f"{i}", "gold": "1"} for i in range(n)])
    pulled = 0
    real_read_rows = scoring.read_rows

    def counting_read_rows(path: Any):
        nonlocal pulled
        for row in real_read_rows(path):
            pulled += 1
            yield row

    monkeypatch.setattr(scoring, "read_rows", counting_read_rows)

    class Watching(EchoReward):
        def score_batch(self, samples: Sequence[Sample]) -> list[RewardResult]:
            # rows read so far never run ahead of the rows handled by more than one chunk
            assert pulled <= sum(self.batches) + chunk
            return super().score_batch(samples)

    reward = Watching()
    progress: list[int] = []
    summary = score_file(
        src, reward, out=tmp_path / "out.jsonl", chunk_size=chunk, on_progress=progress.append
    )
    assert max(reward.batches) == chunk and sum(reward.batches) == n
    assert sum(progress) == n
    assert summary.scored == n and len(summary.sample) <= summary.sample_size
    assert sum(1 for _ in (tmp_path / "out.jsonl").open()) == n


def test_gzip_jsonl_input(tmp_path: Path) -> None:
    import gzip

    src = tmp_path / "in.jsonl.gz"
    with gzip.open(src, "wt", encoding="utf-8") as f:
        f.write(json.dumps({"response": "2", "gold": "2"}) + "\nnot json\n")
    assert scoring.count_rows(src) == 2
    summary = score_file(src, EchoReward())
    assert (summary.scored, summary.skipped) == (1, 1)


def test_gzip_jsonl_output_is_compressed_and_reads_back(tmp_path: Path) -> None:
    import gzip

    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"response": "2", "gold": "2"}) + "\nnot json\n")
    out = tmp_path / "out.jsonl.gz"
    score_file(src, EchoReward(), out=out)
    with gzip.open(out, "rt", encoding="utf-8") as f:  # a real gzip file, every row in order
        assert [json.loads(line)["line"] for line in f] == [1, 2]
    assert scoring.count_rows(out) == 2  # our own output is a valid input again


def test_resume_refuses_gzip_output(tmp_path: Path) -> None:
    # A crash leaves a half-written gzip member that cannot be cut back: say so up front.
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"response": "2", "gold": "2"}) + "\n")
    with pytest.raises(ConfigError, match=r"--resume needs a plain \.jsonl"):
        score_file(src, EchoReward(), out=tmp_path / "out.jsonl.gz", resume=True)


def test_parquet_input(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    table = pa.table({"response": ["\\boxed{1}", "none"], "gold": ["1", "2"]})
    pq.write_table(table, tmp_path / "in.parquet")
    assert scoring.count_rows(tmp_path / "in.parquet") == 2
    summary = score_file(tmp_path / "in.parquet", LengthExploration(), out=tmp_path / "o.jsonl")
    out = read_out(tmp_path / "o.jsonl")
    assert summary.scored == 2 and [r["line"] for r in out] == [1, 2]
    assert out[0]["reward"]["length"] > 0


def test_summary_percentiles_and_sample_bound() -> None:
    summary = Summary(sample_size=100)
    for i in range(1, 1001):
        summary.add(RewardResult(score=1.0, length=float(i)).to_dict())
    assert summary.mean("length") == pytest.approx(500.5)  # means are exact
    assert len(summary.sample) == 100  # the sample stays bounded
    assert 300 < summary.percentile("length", 50) < 700  # and is spread over the whole run


def test_summary_tables_render(tmp_path: Path) -> None:
    from rich.console import Console

    src = write_jsonl(tmp_path / "in.jsonl", MIXED)
    summary = score_file(src, EchoReward())
    console = Console(record=True, width=120)
    for table in summary_tables(summary):
        console.print(table)
    text = console.export_text()
    assert "accuracy (acc)" in text and "skipped: invalid JSON" in text and "p90" in text


@pytest.mark.parametrize(
    ("call", "words"),
    [
        # resume needs an output to resume from
        (lambda p: score_file(p, EchoReward(), resume=True), "--resume needs --out"),
        (lambda p: score_file(p.with_name("nope.jsonl"), EchoReward()), "does not exist"),
        (lambda p: score_file(p, EchoReward(), chunk_size=0), "chunk_size must be >= 1"),
        # writing over the input would destroy it while it is read
        (lambda p: score_file(p, EchoReward(), out=p), "is the input file"),
        (lambda p: parse_settings(["C"]), "KEY=VALUE"),
    ],
)
def test_bad_input_names_the_problem(tmp_path: Path, call: Any, words: str) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", [{"response": "a", "gold": "a"}])
    with pytest.raises(ConfigError, match=words):
        call(src)


def test_any_file_gives_one_output_row_per_input_row_in_order(tmp_path_factory) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    row = st.one_of(
        st.fixed_dictionaries({"response": st.text(max_size=40), "gold": st.text(max_size=5)}),
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),  # usually fields missing
        st.text(
            alphabet=st.characters(blacklist_characters="\n\r", blacklist_categories=("Cs",)),
            max_size=30,
        ),  # any line
    )

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(rows=st.lists(row, max_size=12), chunk=st.integers(1, 5))
    def check(rows: list[Any], chunk: int) -> None:
        folder = tmp_path_factory.mktemp("prop")
        lines = [x if isinstance(x, str) else json.dumps(x) for x in rows]
        src = folder / "in.jsonl"
        src.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        summary = score_file(src, EchoReward(), out=folder / "out.jsonl", chunk_size=chunk)
        out = read_out(folder / "out.jsonl")
        numbered = enumerate(src.read_text(encoding="utf-8").split("\n"), 1)  # \n only, like files
        expected = [n for n, line in numbered if line.strip()]
        assert [r["line"] for r in out] == expected
        assert all(("reward" in r) != ("skipped" in r) for r in out)
        assert summary.rows == len(out) == summary.scored + summary.skipped

    check()


def test_rows_split_on_newline_only_and_a_bom_is_not_a_bad_row(tmp_path: Path) -> None:
    # Bug: the file was read with universal newlines, so a bare "\r" (JSON whitespace, legal
    # inside a row) split one row into two unreadable ones and shifted every later line
    # number; and a UTF-8 BOM (Windows editors, PowerShell) made row 1 "invalid JSON".
    src = tmp_path / "in.jsonl"
    src.write_bytes(
        b'\xef\xbb\xbf{"response": "a", "gold": "1"}\n'
        b'{"response": "b",\r"gold": "1"}\r\n'
        b'{"response": "c", "gold": "1"}\n'
    )
    assert scoring.count_rows(src) == 3
    summary = score_file(src, EchoReward(), out=tmp_path / "out.jsonl")
    out = read_out(tmp_path / "out.jsonl")
    assert [(r["line"], r["response"]) for r in out] == [(1, "a"), (2, "b"), (3, "c")]
    assert (summary.rows, summary.scored, summary.skipped) == (3, 3, 0)


def test_lone_surrogates_in_a_row_are_written_not_a_crash(tmp_path: Path) -> None:
    # Bug: a JSON escape like "\ud800" (a lone surrogate, which JavaScript writers emit) made
    # the UTF-8 writer raise UnicodeEncodeError: the run crashed and the chunk was lost. It is
    # now written back as the same JSON escape, so the row round-trips unchanged.
    src = write_jsonl(
        tmp_path / "in.jsonl",
        [
            '{"response": "x \\ud800", "gold": "1", "note": "\\udfff \\ud83d\\ude00"}',
            {"response": "y", "gold": "1"},
        ],
    )
    summary = score_file(src, EchoReward(), out=tmp_path / "out.jsonl")
    out = read_out(tmp_path / "out.jsonl")
    assert summary.scored == 2 and [r["line"] for r in out] == [1, 2]
    assert out[0]["response"] == "x \ud800" and out[0]["note"] == "\udfff \U0001f600"
    assert out[0]["reward"]["pred"] == "x \ud800"[:8]
    again = score_file(src, EchoReward(), out=tmp_path / "out.jsonl", resume=True)
    assert (again.rows, again.scored_now) == (2, 0)


def test_a_line_nested_too_deeply_to_read_is_a_kept_row(tmp_path: Path) -> None:
    # Bug: json.loads("[" * 100000) raises RecursionError, which was not caught: a traceback,
    # an empty output, and --resume hit the same line again forever.
    src = write_jsonl(
        tmp_path / "in.jsonl",
        [
            {"response": "1", "gold": "1"},
            "[" * 100_000 + "]" * 100_000,
            {"response": "x", "gold": "2"},
            '{"response": "y", "gold": ' + "[" * 900 + "]" * 900 + "}",  # readable, deep
        ],
    )
    summary = score_file(src, EchoReward(), out=tmp_path / "out.jsonl")
    out = read_out(tmp_path / "out.jsonl")
    assert [r["line"] for r in out] == [1, 2, 3, 4]
    assert out[1]["skipped"] == "invalid JSON: nested too deeply to read"
    assert out[1]["raw"].startswith("[[[[")
    assert "reward" in out[3]  # a deep but readable row is scored and written back
    assert (summary.scored, summary.skipped) == (3, 1)


def test_the_inputs_own_output_fields_are_moved_aside(tmp_path: Path) -> None:
    # Bug: the output was the input row plus our fields, so a row's own "skipped" survived into
    # a scored row, and a skipped row kept its own "reward", which --resume then counted.
    src = write_jsonl(
        tmp_path / "in.jsonl",
        [
            {"response": "1", "gold": "1", "skipped": "no", "line": 99, "input_fields": 1},
            {"gold": "1", "reward": {"score": 1e6, "acc": 1}},  # no response: skipped
        ],
    )
    score_file(src, EchoReward(), out=tmp_path / "out.jsonl")
    scored, skipped = read_out(tmp_path / "out.jsonl")
    assert scored["line"] == 1 and "skipped" not in scored and scored["reward"]["score"] == 1.0
    assert scored["input_fields"] == {"line": 99, "skipped": "no", "input_fields": 1}
    assert "reward" not in skipped and skipped["skipped"] == "missing field 'response'"
    assert skipped["input_fields"] == {"reward": {"score": 1e6, "acc": 1}}


@pytest.mark.parametrize(
    "forged",
    [
        '{"line": 2, "reward": {"score": 1000000.0, "acc": 1}}',  # not a whole result
        '{"line": 2, "reward": {"score": "abc"}}',  # made every resume raise
        '{"line": 2, "gold": "1", "reward": {"score": 1e6}, "skipped": "missing field"}',  # both
        '{"line": 1, "skipped": "x"}',  # not after the previous line
        '{"line": "2", "skipped": "x"}',  # not an integer
        '{"line": 2, "skipped": "damaged input: the file is truncated"}',  # to be redone
    ],
)
def test_resume_keeps_only_rows_that_read_back_as_ours(tmp_path: Path, forged: str) -> None:
    rows = [{"response": "a", "gold": "a"}, {"response": "bb", "gold": "a"}, {"response": "c"}]
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    full = tmp_path / "full.jsonl"
    score_file(src, EchoReward(), out=full)
    out = tmp_path / "out.jsonl"
    out.write_text(full.read_text().splitlines(keepends=True)[0] + forged + "\n")
    reward = EchoReward()
    summary = score_file(src, reward, out=out, resume=True)
    assert sum(reward.batches) == 1  # row 2 scored again (row 3 has no gold: skipped)
    assert out.read_text() == full.read_text()
    assert (summary.scored, summary.skipped) == (2, 1) and summary.mean("score") == 1.5


def gzip_rows(n: int) -> bytes:
    return b"".join(b'{"response": "%d", "gold": "%d"}\n' % (i, i % 3) for i in range(n))


def test_a_truncated_gzip_input_is_read_up_to_the_cut_and_resumed_once_fixed(
    tmp_path: Path,
) -> None:
    # Bug: a truncated .jsonl.gz ended with "Aborted." and 0 rows written.
    import gzip

    whole = gzip.compress(gzip_rows(3000))
    src = tmp_path / "in.jsonl.gz"
    src.write_bytes(whole[: len(whole) // 2])
    out = tmp_path / "out.jsonl"
    summary = score_file(src, EchoReward(), out=out)
    assert scoring.count_rows(src) == summary.rows > 1000
    (line, reason), *more = summary.damage
    assert not more and line == summary.rows and "truncated" in reason
    assert read_out(out)[-1]["skipped"].startswith(scoring.DAMAGED)
    message = str(scoring.damage_error(src, summary))
    assert str(src) in message and f"line {line}" in message and "--resume" in message
    src.write_bytes(whole)  # the file copied again: --resume scores the damaged row and the rest
    again = score_file(src, EchoReward(), out=out, resume=True)
    assert again.rows == 3000 and not again.damage and again.scored_now == 3000 - line + 1
    assert [r["line"] for r in read_out(out)] == list(range(1, 3001))


def test_a_damaged_gzip_member_costs_only_itself(tmp_path: Path) -> None:
    import gzip

    members = [bytearray(gzip.compress(gzip_rows(2000))) for _ in range(3)]
    middle = len(members[1]) // 2
    members[1][middle : middle + 64] = b"\xff" * 64
    src = tmp_path / "in.jsonl.gz"
    src.write_bytes(b"".join(members))
    summary = score_file(src, EchoReward(), out=tmp_path / "out.jsonl")
    assert len(summary.damage) == 1 and "damaged compressed data" in summary.damage[0][1]
    assert 4000 <= summary.scored < 6000  # the first and the last member are read whole
    assert read_out(tmp_path / "out.jsonl")[-1]["response"] == "1999"


def test_the_command_ends_a_damaged_run_with_a_message_and_exit_code_2(tmp_path: Path) -> None:
    import gzip

    from typer.testing import CliRunner

    from rlsp_rewards.cli.app import app

    src = tmp_path / "in.jsonl.gz"
    src.write_bytes(gzip.compress(gzip_rows(500))[:-100])
    result = CliRunner().invoke(app, ["score", str(src), "-o", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "is damaged at line" in result.output and "--resume" in result.output
