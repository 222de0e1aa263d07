"""Which input shards a job has, and the output file each one gets.

The input is a file, a folder (every ``.jsonl``, ``.jsonl.gz``, ``.parquet`` or ``.pq`` file under
it, hidden files and names starting with ``_`` left out) or a glob (``runs/step_*.jsonl``). Each
shard is scored by one actor at a time and written to one Parquet file under the output folder,
at the shard's path relative to the input's root with its suffix replaced by ``.parquet``
(``runs/a/step_1.jsonl.gz`` -> ``OUT/a/step_1.parquet``).

Example:
    >>> import pathlib, tempfile
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("s1.jsonl", "s2.jsonl.gz", "_SUCCESS", "notes.txt"):
    ...     _ = (root / name).write_text("")
    >>> [(s.source.name, s.target.name) for s in plan_shards(root, root / "scored")]
    [('s1.jsonl', 's1.parquet'), ('s2.jsonl.gz', 's2.parquet')]
"""

from __future__ import annotations

import dataclasses
import glob
import os
from pathlib import Path

from rlsp_rewards.errors import ConfigError

__all__ = ["SHARD_SUFFIXES", "Shard", "plan_shards"]

#: The file names a folder or glob is searched for, longest first.
SHARD_SUFFIXES: tuple[str, ...] = (".jsonl.gz", ".jsonl", ".parquet", ".pq")


@dataclasses.dataclass(frozen=True)
class Shard:
    """One input file and the Parquet file its scored rows go to.

    Attributes:
        index: its position in the job (shards are ordered by path).
        source: the rollouts file.
        target: the scored Parquet file.

    Example:
        >>> Shard(0, Path("in/a.jsonl"), Path("out/a.parquet")).name
        'a.jsonl'
    """

    index: int
    source: Path
    target: Path

    @property
    def name(self) -> str:
        """The source's file name, for messages."""
        return self.source.name


def _stem(name: str) -> str:
    lowered = name.lower()
    for suffix in SHARD_SUFFIXES:
        if lowered.endswith(suffix):
            return name[: -len(suffix)]
    return Path(name).stem


def _wanted(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(SHARD_SUFFIXES)


def _visible(path: Path, root: Path) -> bool:
    return not any(part.startswith((".", "_")) for part in path.relative_to(root).parts)


def _glob_root(pattern: str) -> Path:
    """The folder above a glob's first wildcard."""
    parts = Path(pattern).parts
    fixed = parts[: next(i for i, p in enumerate(parts) if glob.has_magic(p))]
    return Path(*fixed) if fixed else Path(".")


def plan_shards(source: str | os.PathLike[str], output: str | os.PathLike[str]) -> list[Shard]:
    """The shards of ``source`` and their output files under the folder ``output``.

    Files already under ``output`` are never taken as input (an output folder inside the input
    folder is fine).

    Raises:
        ConfigError: when nothing matches, when ``output`` is a file, or when two shards would
            write the same output file (``a.jsonl`` and ``a.parquet`` side by side).

    Example:
        >>> plan_shards("/no/such/runs", "/tmp/out")
        Traceback (most recent call last):
        ...
        rlsp_rewards.errors.ConfigError: no rollouts at '/no/such/runs': give a .jsonl, ...
    """
    text = os.fspath(source)
    out = Path(output)
    if out.suffix.lower() in (".jsonl", ".gz", ".json", ".parquet", ".pq") or out.is_file():
        raise ConfigError(
            f"with --ray, --out is a folder (one Parquet file per input shard), got {str(out)!r}; "
            "e.g. -o scored/"
        )
    path = Path(text)
    if glob.has_magic(text):
        root = _glob_root(text)
        files = [p for p in map(Path, glob.glob(text, recursive=True)) if p.is_file()]
    elif path.is_dir():
        root = path
        files = [p for p in path.rglob("*") if _wanted(p) and _visible(p, path)]
    elif path.is_file():
        root, files = path.parent, [path]
    else:
        files, root = [], path
    resolved_out = out.resolve()
    files = sorted(p for p in files if resolved_out not in p.resolve().parents)
    if not files:
        raise ConfigError(
            f"no rollouts at {text!r}: give a .jsonl, .jsonl.gz or .parquet file, a folder of "
            "them, or a glob such as 'runs/*.jsonl'"
        )
    shards: list[Shard] = []
    claimed: dict[Path, Path] = {}
    for index, file in enumerate(files):
        relative = file.relative_to(root) if file.is_relative_to(root) else Path(file.name)
        target = out / relative.parent / f"{_stem(relative.name)}.parquet"
        if target in claimed:
            raise ConfigError(
                f"{str(claimed[target])!r} and {str(file)!r} would both be written to "
                f"{str(target)!r}; rename one of them"
            )
        claimed[target] = file
        shards.append(Shard(index, file, target))
    return shards
