"""Licenses issued on approval."""

from __future__ import annotations

from django.db import models
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from accounts.models import Organisation
from licensing import policies
from licensing.models.applications import Application
from licensing.models.reference import Country, LicenseType


class LicenseStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    REVOKED = "revoked", "Revoked"
    EXPIRED = "expired", "Expired"


L = LicenseStatus


# In force, or paused: the states the expiry task still ends.
LIVE_STATES = (L.ACTIVE, L.SUSPENDED)


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

    class Meta:
        ordering = ["-issued_at", "-id"]
        indexes = [models.Index(fields=["status", "valid_until"])]

    def __str__(self) -> str:
        return self.number

    @property
    def in_force(self) -> bool:
        return self.status == L.ACTIVE

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
