"""Two faces, one core: the console and the HTTP API share services and nothing else."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

API = Path(__file__).resolve().parent.parent / "api"


def _module(path: Path) -> str:
    parts = path.relative_to(API.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, *, runtime_only: bool = True) -> set[str]:
    """Modules ``path`` imports (``from api import x`` counts as ``api.x``), anywhere in it."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_only |= {id(inner) for inner in ast.walk(node)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if runtime_only and id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


@pytest.mark.parametrize("path", sorted((API / "console").glob("*.py")), ids=lambda p: p.name)
def test_the_console_uses_services_not_the_api_views_or_the_database(path: Path) -> None:
    imported = _imports(path)
    assert not {m for m in imported if m.startswith("api.views")}
    assert not {m for m in imported if m.split(".")[0] in {"sqlalchemy", "flask_sqlalchemy"}}
    assert "api.extensions.db" not in imported
    assert not {m for m in imported if m.startswith("api.models")}, "models only for types"


def test_services_import_no_cycle() -> None:
    services = {_module(p): p for p in (API / "services").rglob("*.py")}
    graph = {
        name: {m for m in _imports(path) if m in services and m != name}
        for name, path in services.items()
    }

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph[start] - seen:
            if nxt == goal or reaches(nxt, goal, seen | {nxt}):
                return True
        return False

    cycles = sorted(name for name in graph if reaches(name, name, set()))
    assert cycles == []
    assert "api.services.translation.workflow" not in graph["api.services.content"]


# What belongs to serving a request: services are called by views, the console, commands
# and the worker alike, and hear of none of them.
HTTP = {
    "flask.request",
    "flask.g",
    "flask.session",
    "flask.has_request_context",
    "flask.after_this_request",
    "flask.Response",
    "flask.make_response",
    "flask.wrappers",
    "werkzeug.wrappers",
}


@pytest.mark.parametrize(
    "path", sorted((API / "services").rglob("*.py")), ids=lambda p: str(p.relative_to(API))
)
def test_services_know_nothing_of_requests_and_responses(path: Path) -> None:
    imported = _imports(path)
    assert not {m for m in imported if m in HTTP or m.startswith(tuple(f"{w}." for w in HTTP))}


def test_the_database_layer_imports_no_service() -> None:
    imported = _imports(API / "database.py")
    assert not {m for m in imported if m.startswith("api.services")}
    assert not {m for m in imported if m.startswith(("api.views", "api.console"))}


def test_services_are_grouped_by_area() -> None:
    """A newcomer sees the map from the tree: a few shared modules, the rest in areas."""
    loose = sorted(p.name for p in (API / "services").glob("*.py") if p.name != "__init__.py")
    assert len(loose) <= 12, loose
    for area in (p for p in (API / "services").iterdir() if p.is_dir() and p.name != "__pycache__"):
        assert (area / "__init__.py").is_file(), area.name
