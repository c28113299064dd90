"""The database refuses UPDATE, DELETE and TRUNCATE on audit events (licensing/audit_guard.py)."""

from django.db import migrations


def install(apps, schema_editor):
    from licensing import audit_guard

    audit_guard.install(schema_editor.connection)


def remove(apps, schema_editor):
    from licensing import audit_guard

    audit_guard.remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("licensing", "0006_archive_indexes")]

    operations = [migrations.RunPython(install, remove)]
