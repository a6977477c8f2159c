"""The layering promised in docs/architecture.md, pinned.

- ``core/services/`` is the business: it never imports Celery, django-celery-beat,
  django-celery-results, ``core.tasks`` or the job machinery (``core.jobs``).
- No import cycle among the project's modules, function-level imports included
  (a cycle hidden in a function is still a cycle).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "si_gouvernance")
FORBIDDEN_IN_SERVICES = (
    "celery",
    "kombu",
    "django_celery_beat",
    "django_celery_results",
    "core.tasks",
    "core.jobs",
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    }


def imports_of(path: Path, name: str) -> set[str]:
    """Every module ``path`` imports, at any level (TYPE_CHECKING blocks aside)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node.body = []
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def project_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {
        name: {target for target in imports_of(path, name) if target in modules} - {name}
        for name, path in modules.items()
    }


def test_services_know_nothing_of_the_job_runner() -> None:
    offenders = {
        name: sorted(
            target
            for target in imports_of(path, name)
            if any(target == f or target.startswith(f"{f}.") for f in FORBIDDEN_IN_SERVICES)
        )
        for name, path in project_modules().items()
        if name.startswith("core.services")
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_no_import_cycle_among_project_modules() -> None:
    graph = project_graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert cycles == []


def test_the_graph_sees_function_level_imports() -> None:
    """The detector itself: core.apps imports the job machinery inside ready()."""
    assert "core.jobs.dispatch" in project_graph()["core.apps"]
