"""Screening candidates by character trigrams (`licensing.screening`): the word tokens
give way to each listed name's trigrams, counted, and every stored name is indexed again.
A match keeps the entry it was found or resolved against (`entry_digest`), so that a
clearance outlasts a list change unless the entry changed."""

import django.db.models.deletion
from django.db import migrations, models


def index_names(apps, schema_editor):
    """Every listed name's trigrams were written here; 0015 drops the trigram tables (every
    listed name is scored since), so they are no longer written: the tables stay empty
    until 0015 removes them."""


def digest_matches(apps, schema_editor):
    """The matches linked to an entry take its digest; the others get one when found again."""
    from licensing.models.screening import entry_digest

    match_model = apps.get_model("licensing", "ScreeningMatch")
    for match in match_model.objects.exclude(entry=None).select_related("entry").iterator():
        entry = match.entry
        match.entry_digest = entry_digest(entry.name, entry.aliases, entry.country_id)
        match.save(update_fields=["entry_digest"])


class Migration(migrations.Migration):
    dependencies = [
        ("licensing", "0013_lean_write_indexes"),
    ]

    operations = [
        migrations.DeleteModel(name="ScreeningToken"),
        migrations.CreateModel(
            name="ScreeningToken",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("token", models.CharField(max_length=8)),
                ("length", models.PositiveSmallIntegerField()),
                (
                    "name",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tokens",
                        to="licensing.screeningname",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["token", "length", "name"], name="screening_trigram_idx")
                ],
            },
        ),
        migrations.CreateModel(
            name="ScreeningTokenFrequency",
            fields=[
                ("token", models.CharField(max_length=8, primary_key=True, serialize=False)),
                ("names", models.PositiveIntegerField()),
            ],
        ),
        migrations.RunPython(index_names, migrations.RunPython.noop),
        migrations.AddField(
            model_name="screeningmatch",
            name="entry_digest",
            field=models.CharField(
                blank=True,
                help_text="The entry as it was when found or resolved (`entry_digest`): a "
                "cleared match opens again when re-screening finds the entry changed.",
                max_length=64,
            ),
        ),
        migrations.RunPython(digest_matches, migrations.RunPython.noop),
    ]
