"""No import cycles in server/, and packages import only downward (features point down):
every import counts, lazy and TYPE_CHECKING ones too, since each is a dependency a reader
must follow."""

from __future__ import annotations

import ast
from pathlib import Path

SERVER = Path(__file__).resolve().parent.parent / "server"


def module_name(path: Path, root: Path = SERVER) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path = SERVER) -> dict[str, set[str]]:
    modules = {module_name(p, root): p for p in root.rglob("*.py") if "migrations" not in p.parts}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            for target in targets:
                if target in modules and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
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


def test_the_graph_sees_the_modules_and_their_imports() -> None:
    graph = import_graph()
    assert "server.app" in graph and "server.background" in graph["server.app"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]


def test_server_has_no_import_cycles() -> None:
    assert cycles(import_graph()) == []


def test_the_service_imports_no_test_or_benchmark_package() -> None:
    """httpx, aiohttp, pywebpush and http_ece are the tests' and benchmarks' (dev and
    bench extras), not runtime dependencies."""
    only_elsewhere = {"httpx", "aiohttp", "pywebpush", "http_ece", "respx", "pytest"}
    found = set()
    for path in SERVER.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            else:
                continue
            found |= {(path.name, n.split(".")[0]) for n in names} & {
                (path.name, p) for p in only_elsewhere
            }
    assert found == set()


# The floors, bottom first. A module may import its own package and any floor below it;
# packages sharing a floor may import each other (the cycle test keeps that one-way).
# `sqlite` sits under `core`: it imports nothing of the server, and core.db wires it in.
FLOORS: tuple[tuple[str, ...], ...] = (
    ("sqlite",),
    ("core",),
    ("cluster",),
    ("accounts",),
    ("push",),
    ("mail",),
    ("notifications",),
    ("orders", "realtime"),
    ("admin", "integrations", "analytics"),
    ("ops", "console"),
    ("app", "background", "openapi", "apidoc", "docs_page", "pwa", "models", "__main__"),
)
INFRASTRUCTURE = {"sqlite", "core", "cluster"}

# Imports that run back up, each with why; none is left, and the list may only shrink
# (a listed import that no longer exists fails the test too). A lower feature hears of a
# higher one through a hook (server.core.hooks) registered in server.background.
KNOWN_BACK_IMPORTS: dict[tuple[str, str], str] = {}


def package_of(module: str) -> str:
    """`server.push.worker` -> `push`; a top-level module is its own package."""
    return module.split(".")[1] if "." in module else "__init__"


def floor_of(package: str) -> int:
    for number, floor in enumerate(FLOORS):
        if package in floor:
            return number
    raise AssertionError(f"server/{package} is on no floor: place it in FLOORS")


def back_imports(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    """Each (importer, imported) whose target sits on a higher floor, or which makes
    infrastructure import a feature."""
    found = set()
    for importer, targets in graph.items():
        below = package_of(importer)
        if below == "__init__":
            continue
        for target in targets:
            above = package_of(target)
            if above == below:
                continue
            upward = floor_of(above) > floor_of(below)
            feature_from_floor = below in INFRASTRUCTURE and above not in INFRASTRUCTURE
            if upward or feature_from_floor:
                found.add((importer, target))
    return found


def test_back_imports_are_found_inside_functions_too(tmp_path: Path) -> None:
    for package in ("core", "push", "orders"):
        (tmp_path / "server" / package).mkdir(parents=True)
        (tmp_path / "server" / package / "__init__.py").write_text("")
    (tmp_path / "server" / "core" / "db.py").write_text("")
    (tmp_path / "server" / "orders" / "models.py").write_text("from server.core import db\n")
    (tmp_path / "server" / "push" / "sender.py").write_text(
        "from server.core.db import x\n\ndef send():\n    from server.orders.models import y\n"
    )
    graph = import_graph(tmp_path / "server")
    assert back_imports(graph) == {("server.push.sender", "server.orders.models")}
    assert back_imports({"server.core.db": {"server.realtime.hub"}}) != set()


def test_packages_import_only_downward() -> None:
    found = back_imports(import_graph())
    assert sorted(found - KNOWN_BACK_IMPORTS.keys()) == [], "a new import runs back up"
    assert sorted(KNOWN_BACK_IMPORTS.keys() - found) == [], "cut: cross it off the list"
