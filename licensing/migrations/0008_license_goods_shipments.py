"""Licence goods, shipments, exhaustion and surrender, the verification code, the value tolerance.

Licences issued before this get their goods (every good of the application) and a code.
"""

import django.core.validators
import django.db.models.deletion
import django_fsm
import licensing.models.licenses
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models


def give_codes(apps, schema_editor):
    License = apps.get_model("licensing", "License")
    for license in License.objects.filter(verification_code__isnull=True).only("pk").iterator():
        License.objects.filter(pk=license.pk).update(
            verification_code=licensing.models.licenses.new_verification_code()
        )


def license_goods(apps, schema_editor):
    License = apps.get_model("licensing", "License")
    Good = apps.get_model("licensing", "Good")
    LicenseGood = apps.get_model("licensing", "LicenseGood")
    batch = []
    for license in License.objects.only("pk", "application_id").iterator():
        for good in Good.objects.filter(application_id=license.application_id).order_by("id"):
            batch.append(
                LicenseGood(
                    license_id=license.pk,
                    good_id=good.pk,
                    description=good.description,
                    control_list_entry_id=good.control_list_entry_id,
                    quantity=good.quantity,
                    value=good.unit_value * good.quantity,
                    currency=good.currency,
                )
            )
        if len(batch) >= 1000:
            LicenseGood.objects.bulk_create(batch)
            batch = []
    LicenseGood.objects.bulk_create(batch)


class Migration(migrations.Migration):

    dependencies = [
        ('licensing', '0007_audit_append_only'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='historicallicensevalidity',
            name='value_tolerance',
            field=models.DecimalField(decimal_places=2, default=Decimal('0'), help_text="How far past a licence line's value its shipments may go, as a percentage of that value (quantities never pass).", max_digits=5, validators=[django.core.validators.MinValueValidator(Decimal('0')), django.core.validators.MaxValueValidator(Decimal('100'))], verbose_name='shipment value tolerance (%)'),
        ),
        # A code per existing licence first (a callable default gives every row the same one).
        migrations.AddField(
            model_name='license',
            name='verification_code',
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.RunPython(give_codes, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='license',
            name='verification_code',
            field=models.CharField(default=licensing.models.licenses.new_verification_code, editable=False, max_length=64, unique=True),
        ),
        migrations.AddField(
            model_name='licensevalidity',
            name='value_tolerance',
            field=models.DecimalField(decimal_places=2, default=Decimal('0'), help_text="How far past a licence line's value its shipments may go, as a percentage of that value (quantities never pass).", max_digits=5, validators=[django.core.validators.MinValueValidator(Decimal('0')), django.core.validators.MaxValueValidator(Decimal('100'))], verbose_name='shipment value tolerance (%)'),
        ),
        migrations.AlterField(
            model_name='license',
            name='status',
            field=django_fsm.FSMField(choices=[('active', 'Active'), ('suspended', 'Suspended'), ('revoked', 'Revoked'), ('expired', 'Expired'), ('exhausted', 'Exhausted'), ('surrendered', 'Surrendered')], default='active', max_length=20, protected=True),
        ),
        migrations.CreateModel(
            name='LicenseGood',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('description', models.CharField(max_length=500)),
                ('quantity', models.PositiveIntegerField()),
                ('value', models.DecimalField(decimal_places=2, help_text="Quantity times the good's unit value.", max_digits=30)),
                ('currency', models.CharField(max_length=3)),
                ('used_quantity', models.PositiveIntegerField(default=0)),
                ('used_value', models.DecimalField(decimal_places=2, default=Decimal('0'), max_digits=30)),
                ('control_list_entry', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='licensing.controllistentry')),
                ('good', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='license_lines', to='licensing.good')),
                ('license', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='goods', to='licensing.license')),
            ],
            options={
                'ordering': ['id'],
            },
        ),
        migrations.CreateModel(
            name='Shipment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reference', models.CharField(help_text="The exporter's invoice or air waybill number.", max_length=100)),
                ('shipped_on', models.DateField()),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('license', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='shipments', to='licensing.license')),
            ],
            options={
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='ShipmentLine',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('quantity', models.PositiveIntegerField()),
                ('value', models.DecimalField(decimal_places=2, max_digits=15)),
                ('license_good', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='shipment_lines', to='licensing.licensegood')),
                ('shipment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='lines', to='licensing.shipment')),
            ],
            options={
                'ordering': ['id'],
            },
        ),
        migrations.AddConstraint(
            model_name='licensegood',
            constraint=models.UniqueConstraint(fields=('license', 'good'), name='license_good_once'),
        ),
        migrations.AddConstraint(
            model_name='licensegood',
            constraint=models.CheckConstraint(condition=models.Q(('used_quantity__lte', models.F('quantity'))), name='license_good_never_overdrawn'),
        ),
        migrations.AddConstraint(
            model_name='shipment',
            constraint=models.UniqueConstraint(fields=('license', 'reference'), name='shipment_reference_once'),
        ),
        migrations.RunPython(license_goods, migrations.RunPython.noop),
    ]
