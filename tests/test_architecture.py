"""The architecture's rules hold (docs/architecture.md): layers, no import cycle, and
every import inside a function says why it is there.

The layers are import-linter contracts in pyproject.toml, run here as ``make lint`` runs
them, so an import that breaks a layer (one inside a function too) fails the suite. The
cycle checks walk the import graph grimp builds, which sees every import statement:
at module level, inside functions and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

import grimp
import pytest

import raw

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    if Path(raw.__file__).resolve().parents[1] != SRC:
        pytest.fail(f"The suite imports raw from {raw.__file__}, not from {SRC}: wrong tree.")
    return grimp.build_graph("raw", include_external_packages=False, cache_dir=None)


def _ignored_imports() -> set[tuple[str, str]]:
    """The layers contract's exceptions, each an ``importer -> imported`` pair."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["id"] == "layers")
    pairs = (line.split("->") for line in layers.get("ignore_imports", []))
    return {(importer.strip(), imported.strip()) for importer, imported in pairs}


def _cycles(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan's, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            successor = next(successors, None)
            if successor is not None:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(edges.get(successor, ())))))
                elif successor in on_stack:
                    low[node] = min(low[node], index[successor])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _loop(graph: grimp.ImportGraph, component: list[str]) -> str:
    """One loop through ``component``, for the message: a -> b -> ... -> a."""
    first = component[0]
    for second in sorted(graph.find_modules_directly_imported_by(first)):
        if second in component:
            back = graph.find_shortest_chain(importer=second, imported=first)
            if back is not None:
                return " -> ".join((first, *back))
    return ", ".join(component)


def test_the_layer_contracts_hold() -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, (
        f"An import breaks the architecture's layers:\n{proc.stdout}{proc.stderr}"
    )
    assert "0 broken" in proc.stdout


def test_no_module_imports_itself_back(graph: grimp.ImportGraph) -> None:
    edges = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    loops = [_loop(graph, component) for component in _cycles(edges)]
    assert not loops, (
        "Modules import each other in a loop; move what they share down:\n" + "\n".join(loops)
    )


def _part(module: str) -> str:
    """``raw.coordinator.db.models`` -> ``raw.coordinator``; ``raw.errors`` stays itself."""
    return ".".join(module.split(".")[:2])


def test_no_part_imports_itself_back(graph: grimp.ImportGraph) -> None:
    ignored = _ignored_imports()
    edges: dict[str, set[str]] = {}
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            if (importer, imported) in ignored or _part(importer) == _part(imported):
                continue
            edges.setdefault(_part(importer), set()).add(_part(imported))
    loops = _cycles(edges)
    assert not loops, "Parts of the kit import each other in a loop: " + "; ".join(
        " <-> ".join(c) for c in loops
    )


def test_the_cycle_finder_names_a_loop() -> None:
    """The checks above can fail: a loop of three and a dead end, found and named."""
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(edges) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


# An import inside a function is allowed for start-up time or an optional extra, and says
# which on its line or the line above (docs/architecture.md, "Imports inside functions").
LAZY_REASON = re.compile(r"#\s*lazy:\s*\S", re.IGNORECASE)


# TEMPORARY (issue 17): these files are being split into smaller ones on another branch,
# each with one import still to explain; remove this allow-list once that split has merged.
def _unexplained_lazy_imports(source: str) -> list[int]:
    """Lines of imports inside functions with no ``# Lazy: <why>`` comment.

    The comment goes on the import's line or the line above it. Imports that follow one
    another in the same block, with only blank lines between, share the first one's.
    """
    lines = source.splitlines()

    def explained(node: ast.stmt) -> bool:
        here = lines[node.lineno - 1]
        above = lines[node.lineno - 2] if node.lineno > 1 else ""
        comment_above = above.strip().startswith("#")
        return bool(LAZY_REASON.search(here) or (comment_above and LAZY_REASON.search(above)))

    found: set[int] = set()
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            for field in ("body", "orelse", "finalbody"):
                block = getattr(node, field, None)
                if not isinstance(block, list):
                    continue
                covered = False
                previous: ast.stmt | None = None
                for statement in block:
                    if not isinstance(statement, ast.Import | ast.ImportFrom):
                        covered, previous = False, statement
                        continue
                    between = lines[previous.end_lineno : statement.lineno - 1] if previous else []
                    follows = previous is not None and not any(line.strip() for line in between)
                    if explained(statement):
                        covered = True
                    elif not (covered and follows):
                        covered = False
                        found.add(statement.lineno)
                    previous = statement
    return sorted(found)


def test_every_import_inside_a_function_says_why() -> None:
    modules = (path.relative_to(SRC).as_posix() for path in sorted((SRC / "raw").rglob("*.py")))
    unexplained = [
        f"src/{module}:{line}"
        for module in modules
        if not module.startswith("raw/scaffold/templates/")
        for line in _unexplained_lazy_imports((SRC / module).read_text(encoding="utf-8"))
    ]
    assert not unexplained, (
        "Imports inside functions without a '# Lazy: <why>' comment; move each to the "
        "module's top, or say why it must wait (start-up time, an optional extra):\n"
        + "\n".join(unexplained)
    )


def test_the_lazy_import_check_names_an_import_without_a_reason() -> None:
    source = (
        "def f():\n"
        "    # Lazy: the orchestrator extra may be missing.\n"
        "    import temporalio\n"
        "\n"
        "    from temporalio import client\n"
        "    x = 1\n"
        "    import json\n"
        "    import yaml  # Lazy: PyYAML costs start-up time.\n"
        "    # not a reason\n"
        "    import os\n"
    )
    assert _unexplained_lazy_imports(source) == [7, 10]
