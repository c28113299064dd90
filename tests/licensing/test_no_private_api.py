"""No project code reads these private (or internal) names of Django, DRF, django-fsm,
kombu or redis-py: each one is an attribute a framework upgrade may rename or drop
without notice, and each has a public way to do the same (issue 21)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ["accounts", "config", "licensing", "tests", "manage.py"]

DENIED = frozenset(
    {
        "_update_initial_state",  # django-fsm
        "klass_info",  # Django's SQL compiler
        "run_on_commit",  # Django's connection
        "_create_client",  # kombu's Redis transport
        "_get_connection_pool",  # redis-py / kombu
        "_prefetched_objects_cache",  # Django's prefetch_related
        "sql_with_params",  # Django's Query
        "get_compiler",  # Django's Query
        "_result_cache",  # Django's QuerySet
        "fields_cache",  # Django's ModelState
        "_mutable",  # Django's QueryDict
        "_request",  # DRF's Request (the wrapped HttpRequest)
        "_registry",  # Django's AdminSite
    }
)


def denied_uses(source: str, filename: str = "<source>") -> list[tuple[int, str]]:
    """(line, name) of each attribute of `source` named in DENIED."""
    return [
        (node.lineno, node.attr)
        for node in ast.walk(ast.parse(source, filename))
        if isinstance(node, ast.Attribute) and node.attr in DENIED
    ]


def project_files() -> list[Path]:
    found = []
    for name in SCANNED:
        path = ROOT / name
        found += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return [path for path in found if "migrations" not in path.parts]


def test_the_scan_finds_a_denied_attribute_and_names_its_line():
    source = "rows = queryset.all()\nsql, params = rows.query.sql_with_params()\n"
    assert denied_uses(source) == [(2, "sql_with_params")]


def test_the_scan_reads_the_project():
    scanned = {path.relative_to(ROOT).as_posix() for path in project_files()}
    assert {"accounts/backends.py", "licensing/web/queues.py", "config/settings.py"} <= scanned


def test_no_project_code_reads_a_private_attribute_of_the_frameworks():
    found = [
        f"{path.relative_to(ROOT)}:{line}: .{name}"
        for path in project_files()
        for line, name in denied_uses(path.read_text(encoding="utf-8"), str(path))
    ]
    assert not found, "private framework attributes read:\n" + "\n".join(found)
