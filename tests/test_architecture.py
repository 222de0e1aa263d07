"""The layout's promises: arrows point down, and ``import rlsp_rewards`` stays light.

Front ends (``cli``, ``bench``, ``integrations``, ``distributed``, ``report``) import the core;
no core module imports a front end, not even lazily inside a function. Walked over the source,
so a lazy import that a test never reaches is caught too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "rlsp_rewards"
#: The edges: they may import the core; the core never imports them.
FRONT_ENDS = ("cli", "bench", "integrations", "distributed", "report")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[str]:
    """Every module an ``import`` or ``from ... import`` in the file names, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _module_name(path).split(".")
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                is_package = path.name == "__init__.py"
                base = here[: len(here) - node.level + (1 if is_package else 0)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append(module)
            found += [f"{module}.{alias.name}" for alias in node.names]
    return found


def _core_files() -> list[Path]:
    return sorted(
        path
        for path in PACKAGE.rglob("*.py")
        if path.relative_to(PACKAGE).parts[0] not in FRONT_ENDS and path.name != "__main__.py"
    )


@pytest.mark.parametrize("path", _core_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_core_module_imports_no_front_end(path: Path) -> None:
    edges = tuple(f"rlsp_rewards.{name}" for name in FRONT_ENDS)
    bad = [name for name in _imports(path) if name.startswith(edges)]
    assert not bad, f"{path.name} imports front ends {bad}: the arrows must point down"


def test_the_walk_sees_lazy_imports() -> None:
    # The checker itself: an import inside a function body is found (registry imports lazily).
    assert "rlsp_rewards.combine.combined" in _imports(PACKAGE / "registry.py")
    assert any(name.startswith("rlsp_rewards.cli") for name in _imports(PACKAGE / "__main__.py"))


def test_every_folder_is_a_package_with_a_docstring() -> None:
    # One folder, one job: each says what its job is.
    for folder in sorted(p for p in PACKAGE.iterdir() if p.is_dir() and p.name.isidentifier()):
        if folder.name in ("data", "__pycache__"):
            continue
        init = folder / "__init__.py"
        assert init.is_file(), f"{folder.name}/ has no __init__.py"
        assert ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))), folder.name
