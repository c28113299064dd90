"""People, organisations and ministries."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.crypto import salted_hmac
from simple_history.models import HistoricalRecords

SESSION_HASH_SALT = "accounts.models.User.get_session_auth_hash"


class Ministry(models.TextChoices):
    DEFENSE = "defense", "Defense"
    ECONOMY = "economy", "Economy"
    FOREIGN = "foreign", "Foreign Affairs"


class RegisterStatus(models.TextChoices):
    REGISTERED = "registered", "Registered"
    PENDING = "pending", "Pending"
    NONE = "none", "Not registered"


class Organisation(models.Model):
    """An exporter company."""

    name = models.CharField(max_length=200, unique=True)
    register_number = models.CharField("defense export register number", max_length=50, blank=True)
    register_status = models.CharField(
        "defense export register status",
        max_length=20,
        choices=RegisterStatus.choices,
        default=RegisterStatus.NONE,
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def may_export_munitions(self) -> bool:
        return self.register_status == RegisterStatus.REGISTERED


class Role(models.TextChoices):
    EXPORTER = "exporter", "Exporter"
    REVIEWER = "reviewer", "Ministry reviewer"
    SUPERVISOR = "supervisor", "Ministry supervisor"
    COMMITTEE = "committee", "Committee member"
    ADMINISTRATOR = "administrator", "Administrator"


class User(AbstractUser):
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.EXPORTER)
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
        help_text="Exporters only: the company the user acts for.",
    )
    ministry = models.CharField(
        max_length=20,
        choices=Ministry.choices,
        blank=True,
        help_text="Reviewers and supervisors only.",
    )
    session_generation = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="Raised to end every session of the person (see get_session_auth_hash).",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="exporter_has_organisation",
                condition=~models.Q(role="exporter") | models.Q(organisation__isnull=False),
            ),
            models.CheckConstraint(
                name="ministry_staff_have_ministry",
                condition=~models.Q(role__in=["reviewer", "supervisor"]) | ~models.Q(ministry=""),
            ),
        ]

    def __str__(self) -> str:
        """People are shown by their full name (the username when none is recorded)."""
        return self.get_full_name() or self.get_username()

    # Every session keeps the hash it was logged in with, and Django ends one whose hash no
    # longer matches the user's (django.contrib.auth.get_user): a new password ends them
    # all. The hash here covers session_generation as well, so raising it ends every
    # session too (accounts.security.end_other_access), wherever the sessions are kept
    # (cached_db: the cached copies included). At generation 0 it is Django's own hash, so
    # sessions from before this field was added are kept.

    def get_session_auth_hash(self) -> str:
        if not self.session_generation:
            return super().get_session_auth_hash()
        return self._generation_hash(settings.SECRET_KEY)

    def get_session_auth_fallback_hash(self):
        """The hashes under SECRET_KEY_FALLBACKS: sessions survive a key rotation."""
        if not self.session_generation:
            yield from super().get_session_auth_fallback_hash()
            return
        for secret in settings.SECRET_KEY_FALLBACKS:
            yield self._generation_hash(secret)

    def _generation_hash(self, secret: str) -> str:
        value = f"{self.password}\x1f{self.session_generation}"
        return salted_hmac(SESSION_HASH_SALT, value, secret=secret, algorithm="sha256").hexdigest()

    def clean(self) -> None:
        super().clean()
        errors = {}
        if self.role == Role.EXPORTER and not self.organisation_id:
            errors["organisation"] = "An exporter must belong to an organisation."
        if self.role != Role.EXPORTER and self.organisation_id:
            errors["organisation"] = "Only exporters belong to an organisation."
        if self.role in (Role.REVIEWER, Role.SUPERVISOR) and not self.ministry:
            errors["ministry"] = "Reviewers and supervisors belong to a ministry."
        if self.role not in (Role.REVIEWER, Role.SUPERVISOR) and self.ministry:
            errors["ministry"] = "Only reviewers and supervisors belong to a ministry."
        if errors:
            raise ValidationError(errors)

    @property
    def is_exporter(self) -> bool:
        return self.role == Role.EXPORTER

    @property
    def is_ministry_staff(self) -> bool:
        return self.role in (Role.REVIEWER, Role.SUPERVISOR)

    @property
    def is_supervisor(self) -> bool:
        return self.role == Role.SUPERVISOR

    @property
    def is_committee(self) -> bool:
        return self.role == Role.COMMITTEE

    @property
    def is_administrator(self) -> bool:
        return self.role == Role.ADMINISTRATOR or self.is_superuser

    @property
    def may_administer(self) -> bool:
        """`licensing.policies.may_administer`, for templates (the header's admin link)."""
        from licensing import policies

        return policies.may_administer(self)
