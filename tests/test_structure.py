"""The import graph of callback/ (issue 15): no cycle outside the models; the import contracts are kept."""

import subprocess
import sys
from pathlib import Path

import grimp

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Return the strongly connected groups of callback's modules (Tarjan), lazy imports included."""
    modules = sorted(module for module in graph.modules if module.startswith("callback"))
    edges = {
        module: sorted(t for t in graph.find_modules_directly_imported_by(module) if t.startswith("callback"))
        for module in modules
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in edges[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for module in modules:
        if module not in index:
            visit(module)
    return groups


def test_no_import_cycle_outside_the_models():
    graph = grimp.build_graph("callback", cache_dir=None)
    cycles = import_cycles(graph)
    outside = [group for group in cycles if not all(m.startswith("callback.models") for m in group)]
    assert outside == []


def test_the_cycle_finder_sees_a_cycle():
    graph = grimp.ImportGraph()
    for module in ("callback.a", "callback.b", "callback.c"):
        graph.add_module(module)
    graph.add_import(importer="callback.a", imported="callback.b")
    graph.add_import(importer="callback.b", imported="callback.a")
    graph.add_import(importer="callback.b", imported="callback.c")
    assert import_cycles(graph) == [["callback.a", "callback.b"]]


def test_import_contracts_are_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout
