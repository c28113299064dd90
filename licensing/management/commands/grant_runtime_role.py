"""The database role web, worker and beat run as: data, never the tables themselves.

Whoever owns a table can `ALTER TABLE ... DISABLE TRIGGER` and then rewrite or delete
audit events. So migrations run as the owner, and everything else as a role that owns
nothing and holds only SELECT, INSERT, UPDATE and DELETE on the tables and USAGE on
their sequences (never TRUNCATE, TRIGGER or REFERENCES), no UPDATE or DELETE on the
audit events and no DELETE on the chain's head. Run by the owner after every migrate
(deploy/): it makes the role if missing, from RUNTIME_DATABASE_URL's user and
password, and sets its privileges afresh; default privileges give it the same on
tables later migrations add. Details: docs/audit.md, "Database roles".
"""

from __future__ import annotations

import os

import dj_database_url
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from licensing import audit_guard
from licensing.models import AuditChainHead

TABLES = "SELECT, INSERT, UPDATE, DELETE"
SEQUENCES = "USAGE, SELECT"
# The chain's tables: events are only ever appended; the head row is created and moved.
NARROWER = {
    audit_guard.TABLE: "SELECT, INSERT",
    AuditChainHead._meta.db_table: "SELECT, INSERT, UPDATE",
}


class Command(BaseCommand):
    help = (
        "As the tables' owner (after migrate): make the runtime role named by "
        "RUNTIME_DATABASE_URL if missing and grant it only what web, worker and beat need."
    )

    def handle(self, *args, **options) -> None:
        if connection.vendor != "postgresql":
            self.stdout.write("Nothing to do: only PostgreSQL has roles.")
            return
        url = os.environ.get("RUNTIME_DATABASE_URL", "")
        if not url:
            raise CommandError("Set RUNTIME_DATABASE_URL to the URL web, worker and beat use.")
        runtime = dj_database_url.parse(url)
        role, password = runtime["USER"], runtime["PASSWORD"]
        if not role:
            raise CommandError("RUNTIME_DATABASE_URL names no user.")
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT current_user, current_database(), current_schema()")
            owner, database, schema = cursor.fetchone()
            if role == owner:
                raise CommandError(
                    f"The runtime role {role} is the owner this command runs as: it could "
                    "lift the audit trail's guard. Give web, worker and beat a role of their own."
                )
            cursor.execute(
                "SELECT rolsuper, pg_has_role(oid, %s, 'MEMBER') FROM pg_roles WHERE rolname = %s",
                [owner, role],
            )
            found = cursor.fetchone()
            if found is None:
                cursor.execute(f"CREATE ROLE {q(role)} LOGIN PASSWORD %s", [password or None])
                made = "made"
            elif any(found):
                raise CommandError(
                    f"The runtime role {role} is a superuser or acts as the owner {owner}: "
                    "it could lift the audit trail's guard."
                )
            else:
                made = "kept"
            for statement in self._grants(q(role), q(database), q(schema)):
                cursor.execute(statement)
        self.stdout.write(
            f"Runtime role {role} {made}: {TABLES} on the tables in {schema} (only SELECT, "
            f"INSERT on the audit events), {SEQUENCES} on the sequences, as {owner}'s "
            "default for tables to come."
        )

    @staticmethod
    def _grants(role: str, database: str, schema: str) -> list[str]:
        """Its privileges set afresh: whatever it held before (TRUNCATE, TRIGGER) goes."""
        narrower = [
            statement
            for table, privileges in NARROWER.items()
            for statement in (
                f"REVOKE ALL ON {q(table)} FROM {role}",
                f"GRANT {privileges} ON {q(table)} TO {role}",
            )
        ]
        return [
            f"GRANT CONNECT ON DATABASE {database} TO {role}",
            f"GRANT USAGE ON SCHEMA {schema} TO {role}",
            f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}",
            f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {role}",
            f"GRANT {TABLES} ON ALL TABLES IN SCHEMA {schema} TO {role}",
            f"GRANT {SEQUENCES} ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
            *narrower,
            # Tables and sequences the owner (this role) makes later: the same, no more.
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} REVOKE ALL ON TABLES FROM {role}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT {TABLES} ON TABLES TO {role}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} REVOKE ALL ON SEQUENCES FROM {role}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT {SEQUENCES} ON SEQUENCES TO {role}",
        ]


def q(name: str) -> str:
    return connection.ops.quote_name(name)
