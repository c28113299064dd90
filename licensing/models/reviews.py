"""A ministry's review of an application, with its statutory due date."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from accounts.models import Ministry
from licensing.models.applications import Application


class ReviewStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    IN_PROGRESS = "in_progress", "In progress"
    AWAITING_APPLICANT = "awaiting_applicant", "Awaiting applicant"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class Recommendation(models.TextChoices):
    APPROVE = "approve", "Approve"
    APPROVE_WITH_CONDITIONS = "approve_with_conditions", "Approve with conditions"
    DENY = "deny", "Deny"


R = ReviewStatus
ACTIVE_STATES = [R.PENDING, R.IN_PROGRESS]
OPEN_STATES = [R.PENDING, R.IN_PROGRESS, R.AWAITING_APPLICANT]


class Review(ConcurrentTransitionMixin, models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="reviews")
    ministry = models.CharField(max_length=20, choices=Ministry.choices)
    status = FSMField(
        max_length=30, choices=ReviewStatus.choices, default=R.PENDING, protected=True
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    received_on = models.DateField()
    due_date = models.DateField()
    reminder_sent = models.BooleanField(default=False)
    escalation_level = models.PositiveSmallIntegerField(
        default=0, help_text="How many steps of the escalation ladder have been applied."
    )
    recommendation = models.CharField(max_length=30, choices=Recommendation.choices, blank=True)
    reason = models.TextField(blank=True)
    conditions = models.TextField(blank=True)
    deemed = models.BooleanField(default=False)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["application_id", "ministry"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "ministry"], name="one_review_per_ministry"
            )
        ]
        indexes = [
            # The deadline sweep reads only open reviews near or past their due date.
            models.Index(
                fields=["ministry", "escalation_level", "due_date"],
                name="review_open_due_idx",
                condition=models.Q(status__in=["pending", "in_progress"]),
            ),
            models.Index(fields=["ministry", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.application.reference} / {self.get_ministry_display()}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    def is_overdue(self, today: date) -> bool:
        return self.status in ACTIVE_STATES and today > self.due_date

    @transition(field=status, source=R.PENDING, target=R.IN_PROGRESS)
    def claim(self, *, user) -> None:
        self.assigned_to = user

    @transition(
        field=status,
        source=[R.PENDING, R.IN_PROGRESS, R.AWAITING_APPLICANT],
        target=RETURN_VALUE(R.IN_PROGRESS, R.AWAITING_APPLICANT),
    )
    def reassign(self, *, user) -> str:
        self.assigned_to = user
        return R.AWAITING_APPLICANT if self.status == R.AWAITING_APPLICANT else R.IN_PROGRESS

    @transition(field=status, source=R.IN_PROGRESS, target=R.COMPLETED)
    def recommend(self, *, recommendation: str, reason: str, conditions: str) -> None:
        self._complete(recommendation, reason, conditions, deemed=False)

    @transition(field=status, source=ACTIVE_STATES, target=R.COMPLETED)
    def deem_no_objection(self, *, reason: str) -> None:
        self._complete(Recommendation.APPROVE, reason, "", deemed=True)

    @transition(field=status, source=ACTIVE_STATES, target=R.AWAITING_APPLICANT)
    def stop_clock(self) -> None:
        pass

    @transition(
        field=status,
        source=R.AWAITING_APPLICANT,
        target=RETURN_VALUE(R.PENDING, R.IN_PROGRESS),
    )
    def restart_clock(self, *, due_date: date) -> str:
        if due_date != self.due_date:
            self.reminder_sent = False  # the new due date earns its own reminder
        self.due_date = due_date
        return R.IN_PROGRESS if self.assigned_to_id else R.PENDING

    @transition(field=status, source=OPEN_STATES, target=R.CANCELLED)
    def cancel(self) -> None:
        pass

    def _complete(self, recommendation: str, reason: str, conditions: str, *, deemed: bool) -> None:
        self.recommendation = recommendation
        self.reason = reason
        self.conditions = conditions
        self.deemed = deemed
        self.completed_at = timezone.now()
