"""The code base's shape: no import cycle, no module too long, no function too complex.

A newcomer changes one module at a time; that is safe only while each module does one job
(short enough to read whole), each function can be followed branch by branch, and modules
depend on each other in one direction (a cycle means neither can be understood, nor imported,
alone; a lazy import inside a function hides one rather than removing it).
"""

from __future__ import annotations

import ast
from pathlib import Path

from radon.complexity import cc_visit
from radon.visitors import Class, Function

PACKAGE = Path(__file__).resolve().parent.parent / "archiver"

#: Longest module, in lines: what a reader can hold in their head at once.
MAX_MODULE_LINES = 500
#: Highest cyclomatic complexity of a function (radon's measure): beyond it a function has too
#: many paths to test or to change safely.
MAX_COMPLEXITY = 15


def _modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that ``name`` imports anywhere in it (in functions too).

    ``from package import name`` is an import of the submodule when ``name`` is one, else of the
    package; the parent packages Python initialises on the way are not counted (every module of
    a package would otherwise be in a cycle with its package's ``__init__``).
    """
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    # Imports only type checkers run (``if TYPE_CHECKING:``) never execute: not a dependency.
    typing_only = {
        id(inner)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and ast.unparse(block.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")
        for statement in block.body
        for inner in ast.walk(statement)
    }
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                out.add(sub if sub in known else base)
    return {module for module in out if module in known and module != name}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (its modules, the first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state and (found := visit(module)):
            return found
    return None


def test_no_import_cycle() -> None:
    modules = _modules()
    graph = {name: _imported(name, path, set(modules)) for name, path in modules.items()}
    assert _cycle(graph) is None


def test_an_import_inside_a_function_is_a_dependency(tmp_path: Path) -> None:
    """The check above must be able to fail: a lazy import (one inside a function) closes a
    cycle as surely as one at the top, while a type checker's import does not."""
    lazy = tmp_path / "a.py"
    lazy.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from archiver.c import C\n"
        "def f():\n    from archiver.b import g\n",
        encoding="utf-8",
    )
    known = {"archiver.a", "archiver.b", "archiver.c"}
    assert _imported("archiver.a", lazy, known) == {"archiver.b"}
    graph = {"archiver.a": {"archiver.b"}, "archiver.b": {"archiver.c"}, "archiver.c": set()}
    assert _cycle(graph) is None
    graph["archiver.c"] = {"archiver.a"}
    assert _cycle(graph) == ["archiver.a", "archiver.b", "archiver.c", "archiver.a"]


def _relative(path: Path) -> str:
    return path.relative_to(PACKAGE.parent).as_posix()


def test_no_module_is_too_long() -> None:
    long = {
        _relative(path): lines
        for path in PACKAGE.rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def _functions(blocks: list[Function | Class], prefix: str = "") -> list[tuple[str, int]]:
    """(qualified name, complexity) of every function, method and closure in radon's blocks
    (``cc_visit`` lists methods beside their class, as ``Class.method``)."""
    out = []
    for block in blocks:
        if isinstance(block, Function):
            name = f"{prefix}{block.fullname}"
            out.append((name, block.complexity))
            out += _functions(block.closures, f"{name}.")
    return out


def test_no_function_is_too_complex() -> None:
    complex_ = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        blocks = cc_visit(path.read_text(encoding="utf-8"))
        for name, complexity in _functions(blocks):
            if complexity > MAX_COMPLEXITY:
                complex_[f"{_relative(path)}:{name}"] = complexity
    assert complex_ == {}
