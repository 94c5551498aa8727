"""The code's layout holds: no import cycles among the product packages, and no module outside
the source registry (extract/sources.py) dispatches on a source's name."""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("extract", "flows", "warehouse", "dashboard")
SOURCE_NAME_TEST = re.compile(r"""[!=]=\s*["'](pubmed|ctgov)["']|["'](pubmed|ctgov)["']\s*[!=]=""")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module → product modules it imports (at module level or inside functions)."""
    modules = {module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    child = f"{node.module}.{alias.name}"
                    imported.add(child if child in modules else node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
        graph[name] = {m for m in imported if m in modules and m != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles_among_the_product_packages():
    graph = import_graph()
    assert len(graph) > 50 and graph["flows.cli"]   # the graph was really built
    assert cycles(graph) == []


def test_only_the_source_registry_tests_a_source_name():
    offenders = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if relative == "extract/sources.py" or "/standins" in relative or "/demo" in relative:
                continue   # the registry itself; the stand-ins and the demo play the services
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                if SOURCE_NAME_TEST.search(line):
                    offenders.append(f"{relative}:{number}: {line.strip()}")
    assert offenders == []
    assert SOURCE_NAME_TEST.search('if source == "pubmed":') and SOURCE_NAME_TEST.search("'ctgov' != kind")
