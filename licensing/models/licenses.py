"""Licenses issued on approval, the goods they cover, and the shipments drawn against them."""

from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from accounts.models import Organisation
from licensing import policies
from licensing.models.applications import Application, Good
from licensing.models.reference import ControlListEntry, Country, LicenseType


class LicenseStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    REVOKED = "revoked", "Revoked"
    EXPIRED = "expired", "Expired"
    EXHAUSTED = "exhausted", "Exhausted"
    SURRENDERED = "surrendered", "Surrendered"
    SUPERSEDED = "superseded", "Superseded"


L = LicenseStatus


# In force, or paused: the states the expiry task still ends (never exhausted or surrendered).
LIVE_STATES = (L.ACTIVE, L.SUSPENDED)


def new_verification_code() -> str:
    """192 random bits, URL-safe: the licence document's QR code points at /verify/<code>/."""
    return secrets.token_urlsafe(24)


class License(ConcurrentTransitionMixin, models.Model):
    number = models.CharField(max_length=20, unique=True, editable=False)
    application = models.OneToOneField(
        Application, on_delete=models.PROTECT, related_name="license"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="licenses"
    )
    license_type = models.CharField(max_length=20, choices=LicenseType.choices)
    destination = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    valid_from = models.DateField()
    valid_until = models.DateField()
    conditions = models.TextField(blank=True)
    status = FSMField(
        max_length=20, choices=LicenseStatus.choices, default=L.ACTIVE, protected=True
    )
    status_reason = models.TextField(blank=True)
    expiry_warning_sent = models.BooleanField(default=False)
    issued_at = models.DateTimeField(auto_now_add=True)
    verification_code = models.CharField(
        max_length=64, unique=True, default=new_verification_code, editable=False
    )
    replaces = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaced_by",
        help_text="The licence this one replaced (an amended licence).",
    )
    pending_amendment = models.OneToOneField(
        Application,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The amending application being drafted, until it is submitted or dropped.",
    )

    class Meta:
        ordering = ["-issued_at", "-id"]
        indexes = [
            models.Index(fields=["status", "valid_until"]),
            # The licence list, newest first, a page at a time: everyone's (Defense
            # supervisors, the committee) and an exporter's own.
            models.Index(F("issued_at").desc(), F("id").desc(), name="license_list_idx"),
            models.Index(
                F("organisation"),
                F("issued_at").desc(),
                F("id").desc(),
                name="license_organisation_list_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def in_force(self) -> bool:
        return self.status == L.ACTIVE

    def valid_on(self, day: date) -> bool:
        """In force and within its dates on `day`: what the verification page answers."""
        return self.status == L.ACTIVE and self.valid_from <= day <= self.valid_until

    @transition(
        field=status, source=L.ACTIVE, target=L.SUSPENDED, permission=policies.may_change_license
    )
    def suspend(self, *, reason: str) -> None:
        self.status_reason = reason

    @transition(
        field=status, source=L.SUSPENDED, target=L.ACTIVE, permission=policies.may_change_license
    )
    def reinstate(self, *, reason: str) -> None:
        self.status_reason = reason

    @transition(
        field=status,
        source=[L.ACTIVE, L.SUSPENDED],
        target=L.REVOKED,
        permission=policies.may_change_license,
    )
    def revoke(self, *, reason: str) -> None:
        self.status_reason = reason

    @transition(field=status, source=[L.ACTIVE, L.SUSPENDED], target=L.EXPIRED)
    def expire(self) -> None:
        self.status_reason = "The license reached the end of its validity."

    @transition(field=status, source=L.ACTIVE, target=L.EXHAUSTED)
    def exhaust(self) -> None:
        self.status_reason = "Every licensed quantity has been shipped."

    @transition(
        field=status,
        source=[L.ACTIVE, L.SUSPENDED],
        target=L.SURRENDERED,
        permission=policies.is_exporter_of,
    )
    def surrender(self, *, reason: str) -> None:
        self.status_reason = reason

    @transition(field=status, source=L.EXHAUSTED, target=L.ACTIVE)
    def reopen(self) -> None:
        """An appeal upheld added goods to an exhausted licence: there is more to ship."""
        self.status_reason = "Goods added on appeal."

    @transition(field=status, source=[L.ACTIVE, L.SUSPENDED], target=L.SUPERSEDED)
    def supersede(self, *, by: License) -> None:
        """Its amendment was approved: the new licence `by` replaces it."""
        self.status_reason = f"Replaced by license {by.number}."


MONEY = {"max_digits": 15, "decimal_places": 2}
# A line's value is quantity times unit value: room for the product of the two limits.
TOTAL = {"max_digits": 30, "decimal_places": 2}


class LicenseGood(models.Model):
    """One line of a licence: a good of the application, with the quantity and value licensed.

    A line is made from an application good (`good`); which goods become lines
    is decided where the licence is issued, so licensing only some of them
    changes that one place.
    """

    license = models.ForeignKey(License, on_delete=models.CASCADE, related_name="goods")
    good = models.ForeignKey(Good, on_delete=models.PROTECT, related_name="license_lines")
    description = models.CharField(max_length=500)
    control_list_entry = models.ForeignKey(
        ControlListEntry, on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.PositiveIntegerField()
    value = models.DecimalField(**TOTAL, help_text="Quantity times the good's unit value.")
    currency = models.CharField(max_length=3)
    used_quantity = models.PositiveIntegerField(default=0)
    used_value = models.DecimalField(**TOTAL, default=Decimal("0"))

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["license", "good"], name="license_good_once"),
            models.CheckConstraint(
                condition=models.Q(used_quantity__lte=models.F("quantity")),
                name="license_good_never_overdrawn",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.description} ({self.control_list_entry_id})"

    @property
    def remaining_quantity(self) -> int:
        return self.quantity - self.used_quantity

    @property
    def remaining_value(self) -> Decimal:
        """Never below zero, though a value tolerance may let the used value pass the licensed."""
        return max(self.value - self.used_value, Decimal("0.00"))


class Shipment(models.Model):
    """A consignment the exporter shipped under a licence; its reference is the exporter's own."""

    license = models.ForeignKey(License, on_delete=models.PROTECT, related_name="shipments")
    reference = models.CharField(
        max_length=100, help_text="The exporter's invoice or air waybill number."
    )
    shipped_on = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["license", "reference"], name="shipment_reference_once")
        ]

    def __str__(self) -> str:
        return self.reference


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    license_good = models.ForeignKey(
        LicenseGood, on_delete=models.PROTECT, related_name="shipment_lines"
    )
    quantity = models.PositiveIntegerField()
    value = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.license_good_id}"
