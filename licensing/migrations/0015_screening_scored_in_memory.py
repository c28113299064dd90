"""Screening scores every listed name in memory (`licensing.screening`): the trigram index
of 0014 goes, and a list gets a `revision`, new on every change of its entries, which
tells each process to read the list's names again."""

import uuid

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("licensing", "0014_screening_trigrams_clearances"),
    ]

    operations = [
        migrations.DeleteModel(name="ScreeningToken"),
        migrations.DeleteModel(name="ScreeningTokenFrequency"),
        migrations.AddField(
            model_name="screeninglist",
            name="revision",
            field=models.UUIDField(
                default=uuid.uuid4,
                editable=False,
                help_text="New on every change of the list's entries: screening reads the "
                "names again.",
            ),
        ),
    ]
