"""The database's own guard on the audit trail: UPDATE, DELETE and TRUNCATE are refused.

The ORM already refuses (`AuditEventQuerySet`); these triggers refuse plain
SQL too, from any client, on PostgreSQL (row triggers for UPDATE and DELETE, a
statement trigger for TRUNCATE) and on SQLite (UPDATE and DELETE). Installed
by migration 0007. Only the tests' flush between transactional tests lifts
them (`remove`), and puts them back (`install`) before the next test.
"""

from __future__ import annotations

TABLE = "licensing_auditevent"
MESSAGE = "audit events are append-only"

_POSTGRESQL_INSTALL = (
    f"""
    CREATE OR REPLACE FUNCTION licensing_audit_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE}: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
    END
    $$
    """,
    f"DROP TRIGGER IF EXISTS licensing_audit_no_change ON {TABLE}",
    f"CREATE TRIGGER licensing_audit_no_change BEFORE UPDATE OR DELETE ON {TABLE} "
    "FOR EACH ROW EXECUTE FUNCTION licensing_audit_append_only()",
    f"DROP TRIGGER IF EXISTS licensing_audit_no_truncate ON {TABLE}",
    f"CREATE TRIGGER licensing_audit_no_truncate BEFORE TRUNCATE ON {TABLE} "
    "FOR EACH STATEMENT EXECUTE FUNCTION licensing_audit_append_only()",
)
_POSTGRESQL_REMOVE = (
    f"DROP TRIGGER IF EXISTS licensing_audit_no_change ON {TABLE}",
    f"DROP TRIGGER IF EXISTS licensing_audit_no_truncate ON {TABLE}",
    "DROP FUNCTION IF EXISTS licensing_audit_append_only()",
)
_SQLITE_INSTALL = tuple(
    statement
    for operation in ("UPDATE", "DELETE")
    for statement in (
        f"DROP TRIGGER IF EXISTS licensing_audit_no_{operation.lower()}",
        f"CREATE TRIGGER licensing_audit_no_{operation.lower()} BEFORE {operation} ON {TABLE} "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}: {operation} refused'); END",
    )
)
_SQLITE_REMOVE = (
    "DROP TRIGGER IF EXISTS licensing_audit_no_update",
    "DROP TRIGGER IF EXISTS licensing_audit_no_delete",
)
STATEMENTS = {
    "postgresql": (_POSTGRESQL_INSTALL, _POSTGRESQL_REMOVE),
    "sqlite": (_SQLITE_INSTALL, _SQLITE_REMOVE),
}


def _run(connection, statements) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def install(connection) -> None:
    if connection.vendor in STATEMENTS:
        _run(connection, STATEMENTS[connection.vendor][0])


def remove(connection) -> None:
    if connection.vendor in STATEMENTS:
        _run(connection, STATEMENTS[connection.vendor][1])
