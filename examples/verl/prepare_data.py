"""Turn local MATH / MATH-500 / AIME files into verl's parquet format (no downloads).

Reads whatever you have on disk: JSONL, JSON (a list of rows or one row per file, as in the
original MATH release's folders of ``.json`` files), parquet, or a folder of those. Column
names are matched case-insensitively:

* the question: ``problem``, ``question`` or ``prompt``;
* the gold: ``answer`` when present, else the final ``\\boxed{}`` of ``solution``.

Each output row has what verl and our rewards read: ``data_source``, a chat ``prompt`` (one user
message: the question plus an instruction to box the final answer), ``ability``,
``reward_model = {"style": "rule", "ground_truth": ...}`` and ``extra_info`` with the split, the
row index, the question and the original answer text.

Usage::

    python examples/verl/prepare_data.py ~/datasets/MATH/train --split train \\
        --output ~/data/rlsp/train.parquet --data-source math
    python examples/verl/prepare_data.py ~/datasets/math500/test.jsonl --split test \\
        --output ~/data/rlsp/test.parquet --data-source math500
    # the shipped sample, to try it:
    python examples/verl/prepare_data.py examples/verl/data/sample_math500.jsonl \\
        --split test --output /tmp/rlsp/test.parquet
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

#: Appended to every question; our rewards and verl's math scorers read the last \boxed{}.
DEFAULT_INSTRUCTION = "Let's think step by step and output the final answer within \\boxed{}."

QUESTION_KEYS = ("problem", "question", "prompt")
ANSWER_KEYS = ("answer", "expected_answer", "final_answer")
SOLUTION_KEYS = ("solution",)
FILE_SUFFIXES = (".jsonl", ".json", ".parquet")


def read_rows(path: Path) -> Iterator[dict[str, Any]]:
    """Yield the rows of one file, or of every supported file under a folder (sorted)."""
    if path.is_dir():
        for child in sorted(p for p in path.rglob("*") if p.suffix in FILE_SUFFIXES):
            yield from read_rows(child)
    elif path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield json.loads(line)
    elif path.suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        yield from data if isinstance(data, list) else [data]
    elif path.suffix == ".parquet":
        import pyarrow.parquet as pq

        yield from pq.read_table(path).to_pylist()
    else:
        raise SystemExit(f"{path}: unsupported file type; use one of {', '.join(FILE_SUFFIXES)}")


def _field(row: dict[str, Any], keys: Sequence[str]) -> Any:
    lowered = {str(k).lower(): v for k, v in row.items()}
    for key in keys:
        value = lowered.get(key)
        if isinstance(value, (str, int, float)) and str(value).strip():  # not a chat list
            return value
    return None


def gold_of(row: dict[str, Any]) -> str | None:
    """The bare gold answer of a row: its answer column, else its solution's final box."""
    answer = _field(row, ANSWER_KEYS)
    if answer is not None:
        return str(answer).strip()
    solution = _field(row, SOLUTION_KEYS)
    if solution is None:
        return None
    from rlsp_rewards.outcome.extract import gold_answer

    return gold_answer(str(solution))


def to_verl_row(
    row: dict[str, Any], index: int, *, split: str, data_source: str, instruction: str
) -> dict[str, Any] | None:
    """One verl row, or ``None`` when the row has no question or no readable gold."""
    question = _field(row, QUESTION_KEYS)
    gold = gold_of(row)
    if question is None or not gold:
        return None
    question = str(question).strip()
    content = f"{question} {instruction}".strip()
    original = _field(row, ANSWER_KEYS)
    if original is None:
        original = _field(row, SOLUTION_KEYS)
    return {
        "data_source": data_source,
        "prompt": [{"role": "user", "content": content}],
        "ability": "math",
        "reward_model": {"style": "rule", "ground_truth": gold},
        "extra_info": {
            "split": split,
            "index": index,
            "question": question,
            "answer": str(original),
        },
    }


def convert(
    rows: Iterable[dict[str, Any]],
    *,
    split: str,
    data_source: str,
    instruction: str = DEFAULT_INSTRUCTION,
    limit: int | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Convert rows; returns the verl rows and how many input rows were skipped."""
    out: list[dict[str, Any]] = []
    skipped = 0
    for row in rows:
        if limit is not None and len(out) >= limit:
            break
        converted = to_verl_row(
            row, len(out), split=split, data_source=data_source, instruction=instruction
        )
        if converted is None:
            skipped += 1
        else:
            out.append(converted)
    return out, skipped


def write_parquet(rows: list[dict[str, Any]], output: Path) -> None:
    """Write verl rows to one parquet file (nested columns as parquet structs and lists)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    output.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), output)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("inputs", nargs="+", type=Path, help="JSONL/JSON/parquet files or folders")
    parser.add_argument("--output", type=Path, required=True, help="the parquet file to write")
    parser.add_argument("--split", default="train", help="stored in extra_info (default: train)")
    parser.add_argument(
        "--data-source",
        help="the data_source column, which names the val-core metrics (default: the first "
        "input's file name, without a 'sample_' prefix: sample_math500.jsonl gives math500)",
    )
    parser.add_argument(
        "--instruction", default=DEFAULT_INSTRUCTION, help="appended to each question"
    )
    parser.add_argument("--limit", type=int, help="keep at most this many rows")
    args = parser.parse_args(argv)

    missing = [str(p) for p in args.inputs if not p.exists()]
    if missing:
        parser.error(f"no such file or folder: {', '.join(missing)}")
    data_source = args.data_source or args.inputs[0].stem.replace("sample_", "").lower()
    rows = (row for path in args.inputs for row in read_rows(path))
    converted, skipped = convert(
        rows,
        split=args.split,
        data_source=data_source,
        instruction=args.instruction,
        limit=args.limit,
    )
    if not converted:
        parser.error(
            f"no row had both a question ({'/'.join(QUESTION_KEYS)}) and a gold answer "
            f"({'/'.join(ANSWER_KEYS + SOLUTION_KEYS)})"
        )
    write_parquet(converted, args.output)
    print(
        f"wrote {len(converted)} rows (data_source={data_source!r}, split={args.split!r}) to "
        f"{args.output}; skipped {skipped} without a question or a gold answer"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
