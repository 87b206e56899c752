"""The Lambda code (certlib/, which the layer ships, and functions/) imports no deploy-time package, not even lazily
inside a function (issue 15): the layer holds certlib only (stacks/layer_build.py), so such an import fails on AWS.
tests/unit/test_handler_imports.py checks what each handler loads at cold start; this reads every import statement.
And certlib has no import cycle, lazy imports included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from deploy.paths import REPO_ROOT

# Packages the layer does not ship (stacks/layer_build.py copies certlib only): an import of one fails on AWS.
DEPLOY_TIME_PACKAGES = frozenset({"deploy", "stacks", "sandbox", "bench", "certctl", "tests"})
LAMBDA_SOURCES = sorted([*(REPO_ROOT / "certlib").rglob("*.py"), *(REPO_ROOT / "functions").rglob("*.py")])


def imported_packages(source: Path) -> set[str]:
    """The top-level package of every `import x` and `from x import y` in `source` (relative imports excluded)."""
    packages: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(), filename=str(source))):
        if isinstance(node, ast.Import):
            packages.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            packages.add(node.module.split(".")[0])
    return packages


@pytest.mark.parametrize("source", LAMBDA_SOURCES, ids=lambda path: str(path.relative_to(REPO_ROOT)))
def test_lambda_code_imports_no_deploy_time_package(source: Path) -> None:
    # Given a module of the layer or a handler / When its imports are read / Then none is deploy-time code
    found = imported_packages(source) & DEPLOY_TIME_PACKAGES
    assert not found, f"{source.relative_to(REPO_ROOT)} imports {sorted(found)}, which the layer does not ship"


def test_the_check_sees_a_lazy_deploy_time_import(tmp_path: Path) -> None:
    # Given a module that imports deploy-time code inside a function, and a relative import
    source = tmp_path / "module.py"
    source.write_text(
        "from . import sibling\n\ndef f():\n    from deploy.paths import REPO_ROOT\n    return REPO_ROOT\n"
    )
    # When its imports are read / Then the lazy one is found (the check can fail), the relative one is not counted
    assert imported_packages(source) == {"deploy"}


def certlib_import_graph() -> dict[str, set[str]]:
    """Each certlib module and the certlib modules it imports anywhere in it (lazy imports included)."""
    modules = {
        ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts).removesuffix(".__init__"): path
        for path in (REPO_ROOT / "certlib").rglob("*.py")
    }
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module)
                imported.update(f"{node.module}.{alias.name}" for alias in node.names)
        graph[name] = (imported & modules.keys()) - {name}
    return graph


def import_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of the graph (its modules in import order, the first repeated at the end), or [] when it has none."""
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str]:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return []
        for imported in sorted(graph[module]):
            cycle = visit(imported, [*path, module])
            if cycle:
                return cycle
        done.add(module)
        return []

    return next((cycle for module in sorted(graph) if (cycle := visit(module, []))), [])


def test_certlib_has_no_import_cycle() -> None:
    # Given every import in certlib, lazy ones too (a lazy import is how a cycle hides)
    graph = certlib_import_graph()
    # Then no module imports itself through others (certlib.lifecycle.certificate imported failure lazily to dodge one)
    assert graph["certlib.lifecycle.certificate"], "the graph sees certlib's imports"
    assert import_cycle(graph) == []


def test_the_check_sees_an_import_cycle() -> None:
    # Given a graph with a cycle / Then the check finds it (it can fail)
    assert import_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
