"""Turn local MATH / AIME files (JSONL or parquet) into OpenRLHF prompt JSONL for RLSP.

Each output row holds the problem under ``--input-key`` (default ``input``) and the label under
``--label-key`` (default ``label``): a dict ``{"answer": <gold>}`` that the rlsp-rewards adapter
reads with its ``label_key`` setting (``answer``). With ``--eval`` the label also carries
``"eval_mode": true``, so the reward is pure 0/1 correctness for OpenRLHF's eval pass@k.

Recognised source fields (the first present wins):
    problem: ``problem``, ``Problem``, ``question``, ``prompt``
    gold:    ``answer``, ``Answer``, ``solution``, ``Solution`` (a worked solution is fine: the
             reward takes its final ``\\boxed{}``)

Usage:
    python prepare_data.py data/math_sample.jsonl -o math_train.jsonl
    python prepare_data.py data/aime_sample.jsonl -o aime_eval.jsonl --eval
    python prepare_data.py MATH/test.parquet -o math500.jsonl --limit 500

Example (doctest):
    >>> row = convert_row({"problem": "1+1?", "answer": "2"}, instruction="", eval_mode=False)
    >>> row
    {'input': '1+1?', 'label': {'answer': '2'}}
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PROBLEM_FIELDS = ("problem", "Problem", "question", "prompt")
GOLD_FIELDS = ("answer", "Answer", "solution", "Solution")
DEFAULT_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."


def read_rows(path: Path) -> Iterator[dict[str, Any]]:
    """Rows of a ``.jsonl``/``.json`` (one object per line) or ``.parquet`` file."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq  # pip install pyarrow

        yield from pq.read_table(path).to_pylist()
        return
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise SystemExit(f"{path}:{number}: not a JSON object ({exc})") from None


def _first(row: dict[str, Any], fields: tuple[str, ...]) -> Any:
    for field in fields:
        if row.get(field) not in (None, ""):
            return row[field]
    return None


def convert_row(
    row: dict[str, Any],
    *,
    instruction: str = DEFAULT_INSTRUCTION,
    eval_mode: bool = False,
    input_key: str = "input",
    label_key: str = "label",
    answer_key: str = "answer",
) -> dict[str, Any] | None:
    """One OpenRLHF row, or ``None`` when the source row has no problem or no gold."""
    problem, gold = _first(row, PROBLEM_FIELDS), _first(row, GOLD_FIELDS)
    if problem is None or gold is None:
        return None
    label: dict[str, Any] = {answer_key: gold if isinstance(gold, str) else str(gold)}
    if eval_mode:
        label["eval_mode"] = True
    text = f"{problem}\n\n{instruction}" if instruction else str(problem)
    return {input_key: text, label_key: label}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sources", nargs="+", type=Path, help="JSONL or parquet files")
    parser.add_argument("-o", "--output", type=Path, required=True, help="output JSONL")
    parser.add_argument("--input-key", default="input", help="OpenRLHF's --data.input_key")
    parser.add_argument("--label-key", default="label", help="OpenRLHF's --data.label_key")
    parser.add_argument(
        "--answer-key",
        default="answer",
        help="key of the gold inside the label (the adapter's label_key setting)",
    )
    parser.add_argument(
        "--instruction", default=DEFAULT_INSTRUCTION, help="appended to every problem ('' for none)"
    )
    parser.add_argument("--eval", action="store_true", help='add "eval_mode": true to every label')
    parser.add_argument("--limit", type=int, default=None, help="keep at most this many rows")
    args = parser.parse_args(argv)

    written = skipped = 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("w", encoding="utf-8") as out:
        for source in args.sources:
            for row in read_rows(source):
                if args.limit is not None and written >= args.limit:
                    break
                converted = convert_row(
                    row,
                    instruction=args.instruction,
                    eval_mode=args.eval,
                    input_key=args.input_key,
                    label_key=args.label_key,
                    answer_key=args.answer_key,
                )
                if converted is None:
                    skipped += 1
                    continue
                out.write(json.dumps(converted, ensure_ascii=False) + "\n")
                written += 1
    print(
        f"wrote {written} rows to {args.output} ({skipped} skipped: no problem or no gold)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
