"""The import structure the architecture promises, read from the source with `ast`.

- The control plane and the data plane never import each other; both may import `contract/`,
  which imports neither.
- No import cycle spans two data-plane packages (cycles inside one package are its business).
- The lower data-plane layers (storage, transactions, runtime, sync, auth, values) never import
  the layers built on them (deploy, dashboard, http, app, asgi).
Every import counts, including those inside functions and under TYPE_CHECKING.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOP_LEVEL = ("dataplane", "controlplane", "contract")
LOWER = {
    "dataplane.storage",
    "dataplane.transactions",
    "dataplane.runtime",
    "dataplane.sync",
    "dataplane.auth",
    "dataplane.values",
    "dataplane.ids",
    "dataplane.validators",
}
UPPER = {
    "dataplane.deploy",
    "dataplane.dashboard",
    "dataplane.http",
    "dataplane.app",
    "dataplane.asgi",
    "dataplane.__main__",
}


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for top in TOP_LEVEL:
        for path in (ROOT / top).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> Iterator[str]:
    """Every module of this repository that `name` imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = [f"{module}.{alias.name}" for alias in node.names] + [module]
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target


GRAPH = {name: set(_imports(name, path)) for name, path in MODULES.items()}


def _package(module: str) -> str:
    """The data-plane package (`dataplane.runtime`) or top-level module a module belongs to."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "dataplane" else parts[0]


def _cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in GRAPH:
        if root in index:
            continue
        work = [(root, iter(sorted(GRAPH[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(GRAPH[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return out


def test_the_source_tree_was_found() -> None:
    assert "dataplane.app" in MODULES and "contract.keys" in MODULES
    assert "dataplane.runtime.runner" in GRAPH["dataplane.app"] or any(
        m.startswith("dataplane.runtime") for m in GRAPH["dataplane.app"]
    )


@pytest.mark.parametrize(
    ("importer", "forbidden"),
    [
        ("controlplane", "dataplane"),
        ("dataplane", "controlplane"),
        ("contract", "dataplane"),
        ("contract", "controlplane"),
    ],
)
def test_planes_meet_only_in_the_contract(importer: str, forbidden: str) -> None:
    wrong = sorted(
        f"{name} -> {target}"
        for name, targets in GRAPH.items()
        if name.split(".")[0] == importer
        for target in targets
        if target.split(".")[0] == forbidden
    )
    assert wrong == []


def test_no_import_cycle_spans_two_dataplane_packages() -> None:
    spanning = [c for c in _cycles() if len({_package(m) for m in c}) > 1]
    assert spanning == []


def test_lower_layers_never_import_the_layers_built_on_them() -> None:
    upward = sorted(
        f"{name} -> {target}"
        for name, targets in GRAPH.items()
        if _package(name) in LOWER
        for target in targets
        if _package(target) in UPPER
    )
    assert upward == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The check above would be worthless if it could not see one."""
    GRAPH["dataplane.values"].add("dataplane.runtime.runner")
    try:
        assert any("dataplane.values" in c for c in _cycles())
    finally:
        GRAPH["dataplane.values"].discard("dataplane.runtime.runner")
