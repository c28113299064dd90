"""API tokens moved from rest_framework.authtoken (kept in plaintext, never expiring) to
django-rest-knox (digests with an expiry). Drop the old table where an earlier version
created it, so no usable token stays in the database, and forget its migrations.
Every API client logs in again once."""

from django.db import migrations
from django.db.migrations.recorder import MigrationRecorder


def drop_plaintext_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if "authtoken_token" in connection.introspection.table_names():
        schema_editor.execute(f"DROP TABLE {schema_editor.quote_name('authtoken_token')}")
    MigrationRecorder(connection).migration_qs.filter(app="authtoken").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("knox", "0009_extend_authtoken_field"),
    ]

    operations = [
        migrations.RunPython(drop_plaintext_tokens, migrations.RunPython.noop, elidable=True),
    ]
