"""Arrows point down: web and api -> actions -> services -> rulebook -> policies, models.

Read from the source (every import statement, those inside functions included), not
from `sys.modules`, so an import that a function makes late counts like any other.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("licensing", "accounts", "config")

# The cycles left, each within these modules; a cycle outside them, or one that grows
# past them, fails. Fixing one: take it off this list.
KNOWN_CYCLES = (
    # A model method reads the clock's calendar, which reads the closures (a model).
    {
        "licensing.clock",
        "licensing.reference_cache",
        "licensing.models",
        "licensing.models.appeals",
        "licensing.models.applications",
        "licensing.models.licenses",
        "licensing.models.reviews",
        "licensing.models.rules",
        "licensing.models.screening",
    },
    # The user model's role properties ask the policies, which name the roles.
    {"accounts.models", "licensing.policies"},
    # After commit, the outbox and the screening service enqueue the tasks that call them.
    {
        "licensing.notifications",
        "licensing.tasks",
        "licensing.services.appeals",
        "licensing.services.applications",
        "licensing.services.deadlines",
        "licensing.services.expiry",
        "licensing.services.licenses",
        "licensing.services.reviews",
        "licensing.services.screening",
    },
    # A failed action's form is shown again on the page it came from.
    {
        "licensing.web.actions",
        "licensing.web.applications",
        "licensing.web.drafts",
        "licensing.web.licenses",
        "licensing.web.queues",
    },
)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The project's modules that `name` imports anywhere in its source."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    targets = []
    tree = ast.parse(path.read_text())
    # Imports for type checkers only (`if TYPE_CHECKING:`) never run: no arrow.
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
        for inner in ast.walk(node)
    }
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            targets += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package[: len(package) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            # `from licensing import rulebook` imports a module; `from x import name`, x.
            targets += [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
    found = set()
    for target in targets:
        module = target
        while module and module not in known:
            module = module.rpartition(".")[0]
        if module and module != name:
            found.add(module)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, set(modules)) for name, path in modules.items()}


GRAPH = _graph()


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []
    for root, imported in graph.items():
        if root in index:
            continue
        work = [(root, iter(sorted(imported)))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
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
                    cycles.append(component)
    return cycles


def _under(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(f"{p}.") for p in prefixes)


def test_the_rulebook_imports_no_service_page_api_or_registry():
    assert GRAPH["licensing.rulebook"]
    wrong = {
        m
        for m in GRAPH["licensing.rulebook"]
        if _under(
            m,
            "licensing.web",
            "licensing.api",
            "licensing.services",
            "licensing.actions",
            "licensing.tasks",
            "licensing.notifications",
        )
    }
    assert wrong == set()


def test_nothing_below_the_registry_imports_it_or_the_pages_or_the_api():
    below = [
        m
        for m in GRAPH
        if _under(m, "licensing.services", "licensing.rulebook", "licensing.policies")
        or _under(m, "licensing.models", "licensing.notifications", "licensing.tasks")
    ]
    assert below
    wrong = {
        (m, target)
        for m in below
        for target in GRAPH[m]
        if _under(target, "licensing.actions", "licensing.web", "licensing.api")
    }
    assert wrong == set()


def test_the_registry_and_the_forms_it_names_are_in_no_import_cycle():
    cycles = _cycles(GRAPH)
    for module in (
        "licensing.rulebook",
        "licensing.actions",
        "licensing.web.forms",
        "licensing.api.inputs",
    ):
        assert module in GRAPH
        assert not [c for c in cycles if module in c], module


def test_no_import_cycle_but_the_known_ones():
    unknown = [c for c in _cycles(GRAPH) if not any(c <= known for known in KNOWN_CYCLES)]
    assert unknown == []


def test_the_cycle_finder_sees_an_import_made_inside_a_function(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("def late():\n    from licensing import rulebook\n")
    assert _imports("probe", probe, {"licensing", "licensing.rulebook"}) == {"licensing.rulebook"}
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
