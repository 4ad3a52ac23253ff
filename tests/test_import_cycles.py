"""No import cycle among `openidv` modules, function-level imports included.

Every module under `src/openidv` is parsed with `ast` (nothing is imported), every
`import` / `from ... import` anywhere in it (top level, inside functions, under
`TYPE_CHECKING`) becomes an edge to the `openidv` module it names, and the strongly
connected components of that graph with more than one module are the cycles.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parents[1] / "src" / "openidv"

# Known cycles, owned by the engines' branches (issue 21): this list may only shrink; a
# test fails when an entry is fixed and still listed. Each entry is one strongly connected
# component (a set of module names). Service modules must never appear here.
KNOWN_CYCLES: list[frozenset[str]] = []


def module_name(path: Path) -> str:
    """`src/openidv/a/b.py` -> `openidv.a.b`; a package's `__init__.py` -> the package."""
    parts = list(path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    """Every module of the package, by dotted name."""
    return {module_name(p): p for p in sorted(PACKAGE_ROOT.rglob("*.py"))}


def _resolve_relative(current: str, is_package: bool, level: int, target: str | None) -> str:
    base = current.split(".") if is_package else current.split(".")[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, target] if target else base)


def _closest_module(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of `name` that is a module of the package (an imported
    attribute `openidv.a.b.func` resolves to `openidv.a.b`)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def imported_names(tree: ast.AST, current: str, is_package: bool) -> Iterable[str]:
    """Dotted names imported anywhere in the tree (module names and module.attribute)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = _resolve_relative(current, is_package, node.level, node.module)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports (package `__init__` edges excluded
    when the import only names a submodule through its package)."""
    modules = all_modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for imported in imported_names(tree, name, path.name == "__init__.py"):
            target = _closest_module(imported, modules)
            if target is not None and target != name and target != "openidv":
                graph[name].add(target)
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Tarjan's algorithm, iterative; components of more than one module only."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[frozenset[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(frozenset(component))
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def test_graph_sees_function_level_imports() -> None:
    """The parser must count an import inside a function body."""
    tree = ast.parse("def f():\n    from openidv.checks import Status\n")
    assert "openidv.checks" in set(imported_names(tree, "openidv.x", False))


def test_tarjan_finds_a_planted_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert strongly_connected(graph) == [frozenset({"a", "b", "c"})]


def test_no_import_cycles_beyond_the_known_list() -> None:
    cycles = strongly_connected(import_graph())
    new = [sorted(c) for c in cycles if c not in KNOWN_CYCLES]
    assert not new, f"import cycles among openidv modules: {new}"


def test_known_cycles_list_only_shrinks() -> None:
    """A known cycle that is gone must be removed from KNOWN_CYCLES."""
    cycles = strongly_connected(import_graph())
    gone = [sorted(c) for c in KNOWN_CYCLES if c not in cycles]
    assert not gone, f"remove these from KNOWN_CYCLES, they are fixed: {gone}"
