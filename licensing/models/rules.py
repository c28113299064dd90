"""Routing rules and deadline policies: the rules administrators edit."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from accounts.models import Ministry
from licensing.models.reference import CountryList, LicenseType, Regime


class TechnologyGeneration(models.TextChoices):
    CURRENT = "current", "Current"
    PREVIOUS = "previous", "Previous"
    LEGACY = "legacy", "Legacy"


class RuleAction(models.TextChoices):
    REQUIRE_REVIEW = "require_review", "Require a review"
    REFUSE = "refuse", "Refuse submission"


class RoutingRuleQuerySet(models.QuerySet):
    def update(self, **kwargs):
        """A bulk change is a change too: the cached rules go (see licensing.reference_cache)."""
        from licensing.reference_cache import invalidate

        invalidate()
        return super().update(**kwargs)

    def in_force(self, on: date) -> RoutingRuleQuerySet:
        return (
            self.filter(active=True)
            .filter(models.Q(valid_from__isnull=True) | models.Q(valid_from__lte=on))
            .filter(models.Q(valid_until__isnull=True) | models.Q(valid_until__gte=on))
        )


class RoutingRule(models.Model):
    """When every condition set holds, require a ministry's review or refuse submission.

    Conditions left empty do not constrain. Rules are evaluated in priority
    order (lowest first); a refusing rule stops submission with its message.
    """

    name = models.CharField(max_length=200)
    priority = models.PositiveIntegerField(default=100)
    active = models.BooleanField(default=True)
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    action = models.CharField(max_length=20, choices=RuleAction.choices)
    ministry = models.CharField(
        max_length=20, choices=Ministry.choices, blank=True, help_text="The review required."
    )
    message = models.TextField(blank=True, help_text="Shown to the exporter when refusing.")

    destination_list = models.ForeignKey(
        CountryList, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    regime = models.CharField(max_length=20, choices=Regime.choices, blank=True)
    control_code_prefix = models.CharField(max_length=20, blank=True)
    technology_generation = models.CharField(
        max_length=20, choices=TechnologyGeneration.choices, blank=True
    )
    us_origin_content = models.BooleanField(
        null=True, blank=True, help_text="Any good with US-origin content (leave empty to ignore)."
    )
    military_end_use = models.BooleanField(null=True, blank=True)
    license_type = models.CharField(max_length=20, choices=LicenseType.choices, blank=True)
    min_total_value = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)

    history = HistoricalRecords()
    objects = RoutingRuleQuerySet.as_manager()

    class Meta:
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        return self.name

    def in_force_on(self, on: date) -> bool:
        """The same test as `RoutingRule.objects.in_force(on)`, for a loaded rule."""
        return (
            self.active
            and (self.valid_from is None or self.valid_from <= on)
            and (self.valid_until is None or self.valid_until >= on)
        )

    def clean(self) -> None:
        if self.action == RuleAction.REQUIRE_REVIEW and not self.ministry:
            raise ValidationError({"ministry": "A rule that requires a review names the ministry."})
        if self.action == RuleAction.REFUSE and not self.message:
            raise ValidationError({"message": "A refusing rule tells the exporter why."})
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": "The rule must end after it starts."})


class EscalationAction(models.TextChoices):
    NOTIFY_SUPERVISOR = "notify_supervisor", "Notify the ministry supervisor"
    NOTIFY_COMMITTEE = "notify_committee", "Notify the committee"
    DEEM_NO_OBJECTION = "deem_no_objection", "Deem no objection (approve)"
    REFER_TO_COMMITTEE = "refer_to_committee", "Refer the application to the committee"


class DeadlinePolicy(models.Model):
    ministry = models.CharField(max_length=20, choices=Ministry.choices, unique=True)
    review_days = models.PositiveSmallIntegerField(help_text="Working days allowed for a review.")
    reminder_days_before = models.PositiveSmallIntegerField(
        help_text="Working days before the due date to remind the reviewer."
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "deadline policies"

    def __str__(self) -> str:
        return f"{self.get_ministry_display()}: {self.review_days} working days"


class EscalationStep(models.Model):
    """Step `(k, action)`: applied once, on the first sweep after due + k working days."""

    policy = models.ForeignKey(DeadlinePolicy, on_delete=models.CASCADE, related_name="steps")
    days_after_due = models.PositiveSmallIntegerField()
    action = models.CharField(max_length=30, choices=EscalationAction.choices)
    history = HistoricalRecords()

    class Meta:
        ordering = ["policy", "days_after_due", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "days_after_due", "action"], name="unique_escalation_step"
            )
        ]

    def __str__(self) -> str:
        return f"due+{self.days_after_due}: {self.get_action_display()}"
