"""``rlsp-rewards compare``: the shapes side by side, its numbers checked by hand on a small
file, and the command on the shipped demo sample (tables and the plot)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rlsp_rewards.cli.app import app
from rlsp_rewards.cli.compare import (
    DEFAULT_SHAPES,
    compare_file,
    compare_tables,
    parse_shapes,
    spearman,
)
from rlsp_rewards.cli.runs import FieldMap
from rlsp_rewards.errors import ConfigError
from rlsp_rewards.exploration.shapes import SHAPE_NAMES

TOL = 1e-9
runner = CliRunner()

#: (prompt, right?, tokens): two prompts, three and two responses
ROWS = [("p", True, 100), ("p", True, 300), ("p", False, 200), ("q", True, 50), ("q", False, 400)]


def plain(text: str) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return " ".join(re.sub(r"[│┃╭╮╰╯─━┏┓┗┛┡┩┣┫╇╈┳┻┼├┤]", " ", text).split())


def write(path: Path, rows=ROWS, **extra: object) -> Path:
    lines = [
        json.dumps(
            {
                "prompt": prompt,
                "response": "\\boxed{4}" if right else "\\boxed{5}",
                "gold": "4",
                "response_tokens": tokens,
                **extra,
            }
        )
        for prompt, right, tokens in rows
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_numbers_by_hand(tmp_path: Path) -> None:
    result = compare_file(write(tmp_path / "r.jsonl"), ("length", "cosine"))
    length, cosine = result.shapes
    # length: 0.8*v + 0.2*(-1000/|o|)
    scores = [0.8 - 2.0, 0.8 - 0.2 * 1000 / 300, -1.0, 0.8 - 4.0, -0.5]
    assert length.scores == pytest.approx(scores, abs=TOL)
    assert length.mean_correct == pytest.approx((scores[0] + scores[1] + scores[3]) / 3, abs=TOL)
    assert length.mean_wrong == pytest.approx(-0.75, abs=TOL)
    assert length.gap == pytest.approx(length.mean_correct + 0.75, abs=TOL)
    # pairs of the same prompt: p has 2 right x 1 wrong, q 1 x 1; the wrong one is above in
    # (p: -1.0 > -1.2) and (q: -0.5 > -3.2), not in (p: -1.0 < 0.133)
    assert length.pairs == 3 and length.wrong_over_correct == pytest.approx(2 / 3, abs=TOL)
    assert cosine.wrong_over_correct == 0.0 and cosine.gap > 1.9
    assert result.lengths == [100.0, 300.0, 200.0, 50.0, 400.0]
    assert result.correct == [True, True, False, True, False]
    # ranks: length [2, 5, 3, 1, 4], cosine [4, 3, 1, 5, 2]: sum d^2 = 32, 1 - 6*32/(5*24)
    assert result.correlation["length", "cosine"] == pytest.approx(-0.6, abs=TOL)
    assert result.correlation["cosine", "cosine"] == pytest.approx(1.0, abs=TOL)
    assert (length.kind, cosine.kind) == ("additive", "whole reward")


def test_settings_apply_to_every_shape(tmp_path: Path) -> None:
    path = write(tmp_path / "r.jsonl")
    result = compare_file(path, ("dapo_overlong",), settings={"max_tokens": 400, "alpha": 0.5})
    # L 400, B 100: 300 -> 0, 400 -> -1; score 0.5*v + 0.5*term
    assert result.shapes[0].scores == pytest.approx([0.5, 0.5, 0.0, 0.5, -0.5], abs=TOL)


def test_group_shapes_need_prompts(tmp_path: Path) -> None:
    path = write(tmp_path / "r.jsonl")
    result = compare_file(path, ("kimi", "shorter_better"))
    assert [s.kind for s in result.shapes] == ["additive, group", "whole reward, group"]
    # shorter_better on p: l_sol 100 -> [2, 1.8, -0.1]; on q: l_sol 50 -> [2, -0.35]
    assert result.shapes[1].scores == pytest.approx([2.0, 1.8, -0.1, 2.0, -0.35], abs=TOL)
    with pytest.raises(ConfigError, match="--prompt-field"):
        compare_file(path, ("length", "kimi"), FieldMap(prompt="question"))
    loose = compare_file(path, ("length",), FieldMap(prompt="question"))  # fine without groups
    assert loose.shapes[0].wrong_over_correct is None and loose.shapes[0].pairs == 0


def test_l1_shapes_count_responses_without_a_target(tmp_path: Path) -> None:
    without = compare_file(write(tmp_path / "a.jsonl"), ("l1_exact",))
    assert without.shapes[0].errors == 5
    with_target = compare_file(
        write(tmp_path / "b.jsonl", extra_info={"target_tokens": 200}), ("l1_exact", "l1_max")
    )
    exact, most = with_target.shapes
    assert exact.errors == 0 and most.errors == 0
    assert exact.scores == pytest.approx([0.97, 0.97, 0.0, 1 - 0.045, -0.06], abs=TOL)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("cosine", ("cosine",)), (" kimi , length,kimi", ("kimi", "length"))],
)
def test_parse_shapes(text: str, expected: tuple[str, ...]) -> None:
    assert parse_shapes(text) == expected


@pytest.mark.parametrize("text", ["cosin", "", " , "])
def test_parse_shapes_names_the_known_ones(text: str) -> None:
    with pytest.raises(ConfigError, match="known: length, dapo_overlong"):
        parse_shapes(text)


def test_exploration_is_not_a_setting_here(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="per shape"):
        compare_file(write(tmp_path / "r.jsonl"), ("length",), settings={"exploration": "kimi"})


def test_a_file_without_responses_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text('{"text": "no response field"}\n')
    with pytest.raises(ConfigError, match="no row with the fields 'response' and 'gold'"):
        compare_file(path, ("length",))


@pytest.mark.parametrize(
    ("a", "b", "rho"),
    [
        ([1, 2, 3], [1, 2, 3], 1.0),
        ([1, 2, 3], [3, 2, 1], -1.0),
        ([1, 1, 2], [5, 6, 7], math.sqrt(3) / 2),  # ranks 1.5 1.5 3 vs 1 2 3
        ([1, 2, 3, 4], [1, 3, 2, 4], 0.8),  # sum d^2 = 2: 1 - 12/60
    ],
)
def test_spearman(a: list[float], b: list[float], rho: float) -> None:
    assert spearman(a, b) == pytest.approx(rho, abs=TOL)


@pytest.mark.parametrize(("a", "b"), [([1, 1], [1, 2]), ([3], [4]), ([], [])])
def test_spearman_is_undefined_for_constant_or_tiny_samples(a: list, b: list) -> None:
    assert math.isnan(spearman(a, b))


def test_compare_runs_on_the_demo_sample_with_a_plot(tmp_path: Path) -> None:
    plot = tmp_path / "shapes.png"
    result = runner.invoke(app, ["compare", "--set", "max_tokens=1024", "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    text = plain(result.output)
    assert "Scores of the 207 responses" in text and "Rank correlation" in text
    for name in DEFAULT_SHAPES:
        assert name in text
    assert plot.stat().st_size > 20_000


def test_compare_command_errors_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path / "r.jsonl")
    unknown = runner.invoke(app, ["compare", str(path), "--shapes", "cosin"])
    assert unknown.exit_code == 2 and "unknown shape" in unknown.output
    no_prompt = runner.invoke(app, ["compare", str(path), "--prompt-field", "question"])
    assert no_prompt.exit_code == 2 and "--prompt-field" in plain(no_prompt.output)


def test_tables_show_every_shape_once(tmp_path: Path) -> None:
    path = write(tmp_path / "r.jsonl", extra_info={"target_tokens": 100})
    tables = compare_tables(compare_file(path, SHAPE_NAMES))
    assert [t.row_count for t in tables] == [len(SHAPE_NAMES)] * 3
