"""``rlsp-rewards compare``: the length shapes side by side on one rollout file.

Every response of the file is scored once per shape (``exploration=<shape>``, with the same
other settings), in one batch per shape, so group shapes see whole groups and the verifier
checks each distinct answer once (its cache is shared by every shape). Then, per shape:

* ``mean right`` / ``mean wrong``: the mean score of the right (``acc = 1``) and wrong answers,
  and ``gap``, their difference: how much the shape still rewards being right;
* ``wrong > right``: over every (right, wrong) pair of responses to the same prompt, the
  share where the wrong one scores higher (ties are not counted as above), with the number of
  such pairs; ``-`` without prompts (grouped by ``extra_info.prompt_id``, else the prompt);
* ``errors``: responses the shape could not score (``error = 1``: an L1 shape without a target);

and Spearman's rank correlation of every two shapes' scores over all responses. The file is
held in memory (a comparison is for one rollout file, not a training set).

Example:
    >>> from rlsp_rewards.cli.demo import sample_rollouts_path
    >>> fields = FieldMap(prompt="problem")
    >>> result = compare_file(sample_rollouts_path(), ("length", "cosine"), fields)
    >>> [s.name for s in result.shapes], result.responses
    (['length', 'cosine'], 207)
    >>> result.shapes[1].gap > 0 and result.shapes[1].wrong_over_correct == 0.0
    True
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlsp_rewards.cli.runs import FieldMap, build_reward, read_rows
from rlsp_rewards.core import Sample
from rlsp_rewards.errors import ConfigError, require
from rlsp_rewards.exploration.group_shapes import group_indices
from rlsp_rewards.exploration.shapes import GROUP_SHAPES, SHAPE_NAMES, SHAPE_TYPES

if TYPE_CHECKING:
    from rich.table import Table

__all__ = [
    "DEFAULT_SHAPES",
    "Comparison",
    "ShapeStats",
    "compare_file",
    "compare_tables",
    "parse_shapes",
    "plot_comparison",
    "spearman",
]

#: The shapes compared by default: every one that needs nothing beyond the rollouts (the L1
#: shapes need a target length per response: ask for them by name).
DEFAULT_SHAPES: tuple[str, ...] = tuple(n for n in SHAPE_NAMES if not n.startswith("l1_"))


@dataclasses.dataclass(frozen=True)
class ShapeStats:
    """One shape's scores on the file and what they say.

    Attributes:
        name: the shape (the ``exploration`` value).
        formula: its term in one line.
        kind: ``"additive"`` or ``"whole reward"``, plus ``", group"`` for a group shape.
        scores: every response's score, in file order.
        mean_correct: the mean score of the right answers (nan when none).
        mean_wrong: the mean score of the wrong answers (nan when none).
        gap: ``mean_correct - mean_wrong``.
        wrong_over_correct: the share of same-prompt (right, wrong) pairs where the wrong
            answer scores higher; None without prompts or without such pairs.
        pairs: the number of those pairs.
        errors: responses the shape could not score (``error = 1``).

    Example:
        >>> s = ShapeStats("cosine", "...", "whole reward", [1.0, -1.0], 1.0, -1.0, 2.0, 0.0, 1, 0)
        >>> s.gap, s.wrong_over_correct
        (2.0, 0.0)
    """

    name: str
    formula: str
    kind: str
    scores: list[float]
    mean_correct: float
    mean_wrong: float
    gap: float
    wrong_over_correct: float | None
    pairs: int
    errors: int


@dataclasses.dataclass(frozen=True)
class Comparison:
    """The shapes on one file: their stats, the lengths and outcomes, the rank correlations.

    Attributes:
        shapes: one :class:`ShapeStats` per shape, in the order asked.
        lengths: every response's length in tokens (as the shapes saw it).
        correct: every response's correctness (``acc == 1``).
        correlation: Spearman's rho of every two shapes' scores, by ``(name, name)``.
        responses: the responses scored.
        skipped: the rows that could not be read as a response (bad JSON, a missing field).

    Example:
        >>> Comparison([], [], [], {}, responses=0, skipped=2).skipped
        2
    """

    shapes: list[ShapeStats]
    lengths: list[float]
    correct: list[bool]
    correlation: dict[tuple[str, str], float]
    responses: int
    skipped: int


def parse_shapes(text: str) -> tuple[str, ...]:
    """The ``--shapes`` value as names, checked.

    Raises:
        ConfigError: for an unknown shape, naming the known ones.

    Example:
        >>> parse_shapes("length, cosine,kimi")
        ('length', 'cosine', 'kimi')
    """
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in SHAPE_NAMES]
    if unknown or not names:
        raise ConfigError(
            f"unknown shape(s) {', '.join(map(repr, unknown)) or '(none given)'}; known: "
            f"{', '.join(SHAPE_NAMES)}"
        )
    return names


def compare_file(
    path: str | os.PathLike[str],
    shapes: Sequence[str] = DEFAULT_SHAPES,
    fields: FieldMap = FieldMap(),
    settings: Mapping[str, Any] | None = None,
) -> Comparison:
    """Score every response of ``path`` with each shape and compare them (see the module doc).

    Args:
        path: the rollouts: ``.jsonl``, ``.jsonl.gz`` or ``.parquet``.
        shapes: the shapes to compare, by name.
        fields: which row fields hold the response, gold, prompt, token count.
        settings: other reward settings, shared by every shape (``max_tokens``, ``alpha``...).

    Raises:
        ConfigError: for a missing file, an unknown shape or setting (``exploration`` is set
            per shape), a file with no readable response, or a group shape on responses
            without a prompt.

    Example:
        >>> compare_file("/no/such/file.jsonl", ("length",))
        Traceback (most recent call last):
        ...
        rlsp_rewards.errors.ConfigError: input file '/no/such/file.jsonl' does not exist ...
    """
    shapes = parse_shapes(",".join(shapes))
    settings = dict(settings or {})
    preset = settings.pop("preset", "paper")
    if "exploration" in settings:
        raise ConfigError("exploration is set per shape by --shapes; leave it out of --set")
    samples, skipped = _read_samples(path, fields)
    groups, loose = group_indices(samples)
    grouped = [n for n in shapes if n in GROUP_SHAPES]
    if grouped and loose:
        raise ConfigError(
            f"{len(loose)} of {len(samples)} responses have no prompt, and the group shape(s) "
            f"{', '.join(grouped)} compare each response with the others to its prompt: point "
            f"--prompt-field at the field with the prompt (now {fields.prompt!r}), or give "
            "each row extra_info.prompt_id"
        )
    stats: list[ShapeStats] = []
    lengths: list[float] = []
    correct: list[bool] = []
    for name in shapes:
        reward = build_reward(preset, {**settings, "exploration": name})
        results = reward.score_batch(samples)
        if not lengths:
            lengths = [r.length for r in results]
            correct = [r.acc == 1.0 for r in results]
        stats.append(_stats(name, [r.score for r in results], correct, groups, results))
    correlation = {(a.name, b.name): spearman(a.scores, b.scores) for a in stats for b in stats}
    return Comparison(stats, lengths, correct, correlation, len(samples), skipped)


def _read_samples(path: str | os.PathLike[str], fields: FieldMap) -> tuple[list[Sample], int]:
    samples: list[Sample] = []
    skipped = 0
    for row in read_rows(path):
        made = fields.sample(row.data) if row.data is not None else None
        if isinstance(made, Sample):
            samples.append(made)
        else:
            skipped += 1
    if not samples:
        raise ConfigError(
            f"{str(path)!r} has no row with the fields {fields.response!r} and {fields.gold!r} "
            "(set --response-field and --gold-field)"
        )
    return samples, skipped


def _stats(
    name: str,
    scores: list[float],
    correct: list[bool],
    groups: Mapping[str, list[int]],
    results: Sequence[Any],
) -> ShapeStats:
    right = [s for s, ok in zip(scores, correct, strict=True) if ok]
    wrong = [s for s, ok in zip(scores, correct, strict=True) if not ok]
    mean_right = math.fsum(right) / len(right) if right else math.nan
    mean_wrong = math.fsum(wrong) / len(wrong) if wrong else math.nan
    above = pairs = 0
    for members in groups.values():
        rights = [scores[i] for i in members if correct[i]]
        wrongs = [scores[i] for i in members if not correct[i]]
        pairs += len(rights) * len(wrongs)
        above += sum(w > r for w in wrongs for r in rights)
    shape = SHAPE_TYPES[name]
    if shape is None:  # RLSP's own length term
        formula, kind = "-C/|o|", "additive"
    else:
        formula = shape.formula
        kind = "whole reward" if shape.whole_reward else "additive"
        kind += ", group" if shape.grouped else ""
    return ShapeStats(
        name=name,
        formula=formula,
        kind=kind,
        scores=scores,
        mean_correct=mean_right,
        mean_wrong=mean_wrong,
        gap=mean_right - mean_wrong,
        wrong_over_correct=above / pairs if pairs else None,
        pairs=pairs,
        errors=sum(1 for r in results if r.error),
    )


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman's rank correlation (ties get their average rank); nan when either is constant.

    Example:
        >>> spearman([1, 2, 3, 4], [10, 20, 30, 40]), spearman([1, 2, 3], [3, 2, 1])
        (1.0, -1.0)
        >>> spearman([1, 1, 2], [5, 6, 7])  # ranks 1.5, 1.5, 3 against 1, 2, 3
        0.8660254037844387
    """
    ra, rb = _ranks(a), _ranks(b)
    n = len(ra)
    if n < 2:
        return math.nan
    ma, mb = math.fsum(ra) / n, math.fsum(rb) / n
    cov = math.fsum((x - ma) * (y - mb) for x, y in zip(ra, rb, strict=True))
    va = math.fsum((x - ma) ** 2 for x in ra)
    vb = math.fsum((y - mb) ** 2 for y in rb)
    return cov / math.sqrt(va * vb) if va > 0 and vb > 0 else math.nan


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for k in range(start, end + 1):
            ranks[order[k]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


# -- what it shows ------------------------------------------------------------------------------


def _number(value: float | None, fmt: str = ".3f") -> str:
    if value is None or math.isnan(value):
        return "-"
    text = format(value, fmt)
    return text.lstrip("-") if not text.strip("-0.%") else text  # no "-0.000"


def compare_tables(comparison: Comparison) -> list[Table]:
    """Rich tables: the shapes, their scores by outcome, and the rank correlation between them.

    Example:
        >>> from rlsp_rewards.cli.demo import sample_rollouts_path
        >>> result = compare_file(sample_rollouts_path(), ("length",), FieldMap(prompt="problem"))
        >>> [t.title for t in compare_tables(result)]  # doctest: +NORMALIZE_WHITESPACE
        ['Shapes', 'Scores of the 207 responses (137 right)',
         'Rank correlation of the scores (Spearman)']
    """
    from rich.table import Table

    def table(title: str, *columns: str) -> Table:
        t = Table(title=title, title_justify="left", show_edge=False)
        t.add_column(columns[0], no_wrap=True)
        for column in columns[1:]:
            t.add_column(column, justify="right", overflow="fold")
        return t

    shapes = Table(title="Shapes", title_justify="left", show_edge=False)
    shapes.add_column("shape", no_wrap=True)
    shapes.add_column("kind", no_wrap=True)
    shapes.add_column("term")
    for s in comparison.shapes:
        shapes.add_row(s.name, s.kind, s.formula)
    right = sum(comparison.correct)
    scores = table(
        f"Scores of the {comparison.responses} responses ({right} right)",
        "shape",
        "mean right",
        "mean wrong",
        "gap",
        "wrong > right",
        "pairs",
        "errors",
    )
    for s in comparison.shapes:
        scores.add_row(
            s.name,
            _number(s.mean_correct),
            _number(s.mean_wrong),
            _number(s.gap),
            _number(s.wrong_over_correct, ".1%"),
            f"{s.pairs}",
            f"{s.errors}",
        )
    names = [s.name for s in comparison.shapes]
    ranks = table("Rank correlation of the scores (Spearman)", "", *names)
    for a in names:
        ranks.add_row(a, *(_number(comparison.correlation[a, b], ".2f") for b in names))
    return [shapes, scores, ranks]


def plot_comparison(comparison: Comparison, path: str | os.PathLike[str], title: str = "") -> Path:
    """One figure, a panel per shape: score against length, right and wrong answers apart.

    Raises:
        DependencyError: when matplotlib is not installed.

    Example:
        >>> import tempfile
        >>> from rlsp_rewards.cli.demo import sample_rollouts_path
        >>> fields = FieldMap(prompt="problem")
        >>> result = compare_file(sample_rollouts_path(), ("length", "kimi"), fields)
        >>> path = plot_comparison(result, Path(tempfile.mkdtemp()) / "shapes.png")
        >>> path.stat().st_size > 10_000
        True
    """
    require("matplotlib", "plot")
    from matplotlib.figure import Figure

    count = len(comparison.shapes)
    columns = min(count, 4)
    rows = math.ceil(count / columns)
    figure = Figure(figsize=(4.2 * columns, 3.6 * rows + 0.6), layout="constrained")
    figure.suptitle(title or f"Length shapes on {comparison.responses} responses")
    lengths = [max(n, 1.0) for n in comparison.lengths]
    for i, shape in enumerate(comparison.shapes):
        axis = figure.add_subplot(rows, columns, i + 1)
        for ok, colour, label in ((True, "tab:green", "correct"), (False, "tab:red", "wrong")):
            xs = [n for n, c in zip(lengths, comparison.correct, strict=True) if c is ok]
            ys = [s for s, c in zip(shape.scores, comparison.correct, strict=True) if c is ok]
            axis.scatter(xs, ys, s=9, alpha=0.6, color=colour, label=label)
        axis.set_xscale("log")
        axis.set(
            title=f"{shape.name} (gap {_number(shape.gap, '.2f')})",
            xlabel="response length (tokens)",
            ylabel="score",
        )
        if i == 0:
            axis.legend(loc="best", fontsize="small")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    return path
