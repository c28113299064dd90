"""Appeals against a refusal (whole or in part), decided by the committee under a deadline."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from licensing.models.applications import Application


class AppealOutcome(models.TextChoices):
    UPHELD = "upheld", "Upheld"
    DISMISSED = "dismissed", "Dismissed"


class AppealPolicy(models.Model):
    """The committee's deadline for appeals (one row): working days to decide, and when the
    committee is told that an appeal is overdue."""

    decision_days = models.PositiveSmallIntegerField(
        default=20, help_text="Working days the committee has to decide an appeal."
    )
    notify_committee_after_days = models.PositiveSmallIntegerField(
        default=0,
        help_text="Working days after the due date at which the committee is told (0: at once).",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "appeal deadline policy"
        verbose_name_plural = "appeal deadline policy"

    def __str__(self) -> str:
        return f"Appeals: {self.decision_days} working days"


class Appeal(models.Model):
    """An exporter's appeal: one per application, lodged within APPEAL_WINDOW_DAYS."""

    application = models.OneToOneField(Application, on_delete=models.CASCADE, related_name="appeal")
    grounds = models.TextField(max_length=5000)
    lodged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    lodged_at = models.DateTimeField(auto_now_add=True)
    prior_status = models.CharField(
        max_length=30, help_text="The refusal appealed against (denied or partially approved)."
    )
    received_on = models.DateField()
    due_date = models.DateField()
    overdue_notified = models.BooleanField(default=False)
    outcome = models.CharField(max_length=10, choices=AppealOutcome.choices, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [
            # The sweep and the committee's queue: open appeals by due date.
            models.Index(
                fields=["due_date", "id"],
                name="appeal_open_due_idx",
                condition=models.Q(outcome=""),
            )
        ]

    def __str__(self) -> str:
        return f"Appeal of {self.application}"

    @property
    def is_open(self) -> bool:
        return not self.outcome

    @property
    def prior_status_display(self) -> str:
        from licensing.models.applications import ApplicationStatus

        return ApplicationStatus(self.prior_status).label
