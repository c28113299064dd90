"""The move from rest_framework.authtoken: its table of plaintext tokens is dropped."""

from __future__ import annotations

from importlib import import_module
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

pytestmark = pytest.mark.django_db

migration = import_module("accounts.migrations.0002_drop_plaintext_api_tokens")


def test_the_old_plaintext_token_table_is_dropped_and_forgotten():
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY)")
        cursor.execute("INSERT INTO authtoken_token (key) VALUES ('0123456789abcdef')")
        MigrationRecorder(connection).record_applied("authtoken", "0001_initial")
        editor = SimpleNamespace(
            connection=connection, execute=cursor.execute, quote_name=connection.ops.quote_name
        )
        migration.drop_plaintext_tokens(apps, editor)
        migration.drop_plaintext_tokens(apps, editor)  # and nothing to do the second time
    assert "authtoken_token" not in connection.introspection.table_names()
    assert not MigrationRecorder(connection).migration_qs.filter(app="authtoken").exists()
