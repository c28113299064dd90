"""A ministry's review of an application, with its statutory due date."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from accounts.models import Ministry
from licensing import policies
from licensing.models.applications import Application, ApplicationStatus


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


def application_under_review(review: Review) -> bool:
    """A review's clock runs, and its reviewers act, only while the case is under review."""
    return review.application.status == ApplicationStatus.UNDER_REVIEW


def application_in_ministries_hands(review: Review) -> bool:
    """Under review, or waiting for the exporter: a supervisor may still move the work."""
    return review.application.status in (
        ApplicationStatus.UNDER_REVIEW,
        ApplicationStatus.INFORMATION_REQUESTED,
    )


class ReviewQuerySet(models.QuerySet):
    """The one definition of open, running, overdue and due soon.

    API filters, queues, the deadline sweep and notifications all use these,
    and `Review.is_running` / `is_overdue` / `is_due_soon` answer the same for
    one loaded row.
    """

    def open(self) -> ReviewQuerySet:
        """Not yet completed or cancelled, whatever the application is doing."""
        return self.filter(status__in=OPEN_STATES)

    def running(self) -> ReviewQuerySet:
        """Pending or in progress on an application under review: its clock is running."""
        return self.filter(
            status__in=ACTIVE_STATES, application__status=ApplicationStatus.UNDER_REVIEW
        )

    def overdue(self, today: date) -> ReviewQuerySet:
        return self.running().filter(due_date__lt=today)

    def not_overdue(self, today: date) -> ReviewQuerySet:
        return self.exclude(pk__in=self.model.objects.overdue(today).values("pk"))

    def due_soon(self, today: date, horizons: dict[str, date]) -> ReviewQuerySet:
        """Running and due between today and its ministry's reminder horizon."""
        window = models.Q()
        for ministry, horizon in horizons.items():
            window |= models.Q(ministry=ministry, due_date__lte=horizon)
        if not window:
            return self.none()
        return self.running().filter(window, due_date__gte=today)


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
    criteria = models.JSONField(
        default=list, blank=True, help_text="Refusal criteria (codes) an overall deny cites."
    )
    goods_recommendations = models.JSONField(
        default=list,
        blank=True,
        help_text="Per good, when the review decided goods apart: "
        '[{"good", "recommendation", "conditions", "criteria"}].',
    )

    objects = ReviewQuerySet.as_manager()

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
            # A ministry's queue: its open reviews by due date, whatever its history.
            models.Index(
                fields=["ministry", "due_date", "id"],
                name="review_queue_idx",
                condition=models.Q(status__in=["pending", "in_progress", "awaiting_applicant"]),
            ),
            # The API's queue (`/api/v1/reviews/`, by due date whatever the status): a
            # ministry's, and every ministry's for administrators, a page at a time.
            models.Index(fields=["ministry", "due_date", "id"], name="review_ministry_list_idx"),
            models.Index(fields=["due_date", "id"], name="review_list_idx"),
            # The Completed tab: a ministry's finished reviews, newest first, read a page at
            # a time from a decade's history without sorting it.
            models.Index(
                models.F("ministry"),
                models.F("completed_at").desc(),
                models.F("id").desc(),
                name="review_completed_idx",
                condition=models.Q(status__in=["completed", "cancelled"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application.reference} / {self.get_ministry_display()}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    def is_running(self, application_status: str | None = None) -> bool:
        status = application_status or self.application.status
        return self.status in ACTIVE_STATES and status == ApplicationStatus.UNDER_REVIEW

    def is_overdue(self, today: date, application_status: str | None = None) -> bool:
        return self.is_running(application_status) and today > self.due_date

    def is_due_soon(
        self, today: date, horizon: date, application_status: str | None = None
    ) -> bool:
        return self.is_running(application_status) and today <= self.due_date <= horizon

    @transition(
        field=status,
        source=R.PENDING,
        target=R.IN_PROGRESS,
        conditions=[application_under_review],
        permission=policies.is_staff_of_ministry,
    )
    def claim(self, *, user) -> None:
        self.assigned_to = user

    @transition(
        field=status,
        source=[R.PENDING, R.IN_PROGRESS, R.AWAITING_APPLICANT],
        target=RETURN_VALUE(R.IN_PROGRESS, R.AWAITING_APPLICANT),
        conditions=[application_in_ministries_hands],
        permission=policies.is_supervisor_of_ministry,
    )
    def reassign(self, *, user) -> str:
        self.assigned_to = user
        return R.AWAITING_APPLICANT if self.status == R.AWAITING_APPLICANT else R.IN_PROGRESS

    @transition(
        field=status,
        source=R.IN_PROGRESS,
        target=R.COMPLETED,
        conditions=[application_under_review],
        permission=policies.holds_or_may_take,
    )
    def recommend(
        self,
        *,
        recommendation: str,
        reason: str,
        conditions: str,
        criteria: list[str] | None = None,
        goods: list[dict] | None = None,
    ) -> None:
        self._complete(recommendation, reason, conditions, deemed=False)
        self.criteria = criteria or []
        self.goods_recommendations = goods or []

    def recommendation_for(self, good_id: int) -> tuple[str, list[str], str]:
        """This review's (recommendation, criteria, conditions) for one good."""
        for entry in self.goods_recommendations:
            if entry["good"] == good_id:
                return (
                    entry["recommendation"],
                    entry.get("criteria", []),
                    entry.get("conditions", ""),
                )
        return self.recommendation, self.criteria, self.conditions

    @transition(field=status, source=ACTIVE_STATES, target=R.COMPLETED)
    def deem_no_objection(self, *, reason: str) -> None:
        self._complete(Recommendation.APPROVE, reason, "", deemed=True)

    @transition(
        field=status,
        source=ACTIVE_STATES,
        target=R.AWAITING_APPLICANT,
        conditions=[application_under_review],
        permission=policies.holds_or_may_take,
    )
    def stop_clock(self) -> None:
        """The exporter is asked: this clock stops (the asker's, and every other running one)."""

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
