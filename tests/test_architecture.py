"""The architecture's rules hold (docs/architecture.md): layers, and no import cycle.

The layers are import-linter contracts in pyproject.toml, run here as ``make lint`` runs
them, so an import that breaks a layer (one inside a function too) fails the suite. The
cycle checks walk the import graph grimp builds, which sees every import statement:
at module level, inside functions and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import os
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
