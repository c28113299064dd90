"""Reference data that administrators maintain: countries, lists, control entries, calendar."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords


class Country(models.Model):
    code = models.CharField("ISO 3166-1 alpha-2 code", max_length=2, primary_key=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "countries"

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class CountryList(models.Model):
    """A named set of countries, such as `embargoed` or `sensitive`."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    countries = models.ManyToManyField(Country, related_name="lists", blank=True)
    history = HistoricalRecords(m2m_fields=[countries])

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


class Regime(models.TextChoices):
    MUNITIONS = "munitions", "Munitions (Wassenaar ML1-ML22)"
    DUAL_USE = "dual_use", "Dual-use (Wassenaar categories 0-9)"


class ControlListEntry(models.Model):
    code = models.CharField(max_length=20, unique=True)
    regime = models.CharField(max_length=20, choices=Regime.choices)
    description = models.TextField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["regime", "code"]
        verbose_name_plural = "control list entries"

    def __str__(self) -> str:
        return self.code


class LicenseType(models.TextChoices):
    MARKETING = "marketing", "Marketing license"
    EXPORT = "export", "Export license"
    DUAL_USE_EXPORT = "dual_use_export", "Dual-use export license"


class LicenseValidity(models.Model):
    license_type = models.CharField(max_length=20, choices=LicenseType.choices, unique=True)
    years = models.PositiveSmallIntegerField()
    value_tolerance = models.DecimalField(
        "shipment value tolerance (%)",
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text="How far past a licence line's value its shipments may go, as a percentage "
        "of that value (quantities never pass).",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "license validity"

    def __str__(self) -> str:
        return f"{self.get_license_type_display()}: {self.years} years"


class NonWorkingDay(models.Model):
    """A closure day added by an administrator, beyond the weekend and public holidays."""

    date = models.DateField(
        unique=True,
        help_text="Not a working day. Adding it in the admin moves the due date of every "
        "open review it falls within one working day later; removing it moves none back.",
    )
    reason = models.CharField(max_length=200)
    history = HistoricalRecords()

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date}: {self.reason}"


class RefusalCriterion(models.Model):
    """A ground for refusing an export, cited by every deny (seeded with the eight criteria of
    the EU Common Position 2008/944/CFSP). Cited by code; retired by `active`, never deleted."""

    code = models.CharField(max_length=10, unique=True)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True, help_text="Only active criteria can be cited.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "refusal criteria"

    def __str__(self) -> str:
        return f"Criterion {self.code}: {self.title}"
