"""The package's import graph has no cycle.

Built with the standard library: every module under ``src/tierwise`` parsed with :mod:`ast`;
an edge for each module-level import of another ``tierwise`` module (imports inside functions and
under ``if TYPE_CHECKING:`` are left out: they run late or never). Importing ``a.b.c`` also runs
the packages ``a.b`` and ``a``, so an import of a module is an edge to each package above it too.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "tierwise"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _top_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If) and not _type_checking(node):
            stack += node.body + node.orelse
        elif isinstance(node, ast.Try):
            stack += node.body + node.orelse + node.finalbody
            for handler in node.handlers:
                stack += handler.body
    return found


def _targets(module: str, is_package: bool, node: ast.Import | ast.ImportFrom,
             modules: set[str]) -> set[str]:
    names: set[str] = set()
    if isinstance(node, ast.Import):
        names = {alias.name for alias in node.names}
    else:
        if node.level:
            base = module.split(".") if is_package else module.split(".")[:-1]
            base = base[:len(base) - (node.level - 1)]
            prefix = ".".join(base + ([node.module] if node.module else []))
        else:
            prefix = node.module or ""
        names = {prefix}
        names |= {f"{prefix}.{alias.name}" for alias in node.names
                  if f"{prefix}.{alias.name}" in modules}
    out: set[str] = set()
    for name in names:
        if not name.startswith(PACKAGE):
            continue
        parts = name.split(".")
        for i in range(1, len(parts) + 1):        # the packages above run first
            candidate = ".".join(parts[:i])
            if candidate in modules and candidate != module:
                out.add(candidate)
    return out


def import_graph() -> dict[str, set[str]]:
    """``module -> modules it imports at import time`` for every module of the package."""
    files = {_module_name(p): p for p in (SRC / PACKAGE).rglob("*.py")}
    modules = set(files)
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_package = path.name == "__init__.py"
        graph[module] = set()
        for node in _top_level_imports(tree):
            graph[module] |= _targets(module, is_package, node, modules)
        # a package does not depend on its own parents running first; a module on its package
        # does (Python runs it), but that edge is the package's own business: leave it out
        graph[module] = {t for t in graph[module] if not module.startswith(t + ".")}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_the_package() -> None:
    graph = import_graph()
    assert "tierwise.config" in graph["tierwise.pipeline"]
    assert "tierwise.store" in graph["tierwise.pipeline"]


def test_cycles_are_found() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_no_merge_markers_left_in_the_code() -> None:
    marker = re.compile(r"^(<<<<<<< |>>>>>>> |=======$|\s*# <[a-z-]+>\s*$)")
    found = [f"{path.relative_to(SRC)}:{n}" for path in (SRC / PACKAGE).rglob("*.py")
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if marker.match(line)]
    assert not found, "merge markers: " + ", ".join(found)
