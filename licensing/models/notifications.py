"""The notification outbox, which is also each user's in-app list."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class NotificationEvent(models.TextChoices):
    APPLICATION_SUBMITTED = "application_submitted", "Application submitted"
    REVIEW_ASSIGNED = "review_assigned", "Review assigned"
    INFORMATION_REQUESTED = "information_requested", "Information requested"
    INFORMATION_PROVIDED = "information_provided", "Information provided"
    REVIEW_DUE_SOON = "review_due_soon", "Review due soon"
    REVIEW_OVERDUE = "review_overdue", "Review overdue"
    REVIEW_ESCALATED = "review_escalated", "Review escalated"
    REVIEW_DEEMED = "review_deemed", "Review deemed"
    APPLICATION_DECIDED = "application_decided", "Application decided"
    LICENSE_EXPIRING = "license_expiring", "License expiring"
    LICENSE_EXPIRED = "license_expired", "License expired"
    LICENSE_STATUS_CHANGED = "license_status_changed", "License status changed"
    APPLICATION_SUPERSEDED = "application_superseded", "Application superseded by its amendment"
    APPEAL_LODGED = "appeal_lodged", "Appeal lodged"
    APPEAL_OVERDUE = "appeal_overdue", "Appeal overdue"
    SCREENING_MATCH = "screening_match", "Screening match on a live license"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Notification(models.Model):
    # Unique by a constraint (Meta): one index, not a second one for LIKE that no query
    # uses and every notification written updates.
    key = models.CharField(
        max_length=200, help_text="Unique per event and recipient: never sent twice."
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,  # the (recipient, -created_at, -id) index leads with it
    )
    event = models.CharField(max_length=40, choices=NotificationEvent.choices)
    application = models.ForeignKey(
        "licensing.Application", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    subject = models.CharField(max_length=300)
    body = models.TextField()
    context = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivery_status = models.CharField(
        max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(
        default=timezone.now,
        help_text="Not handed out again by the relay before this (backoff after a failed send).",
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="notification_pending_idx",
                condition=models.Q(delivery_status__in=["pending", "sending"]),
            ),
            # A person's notifications, newest first, a page at a time (the list's whole
            # order, so no sort of the rows sharing a time).
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_list_idx"),
            # The header's unread count on every page: an index-only count of a person's
            # unread rows, however many they have read.
            models.Index(
                fields=["recipient"],
                name="notification_unread_idx",
                condition=models.Q(read_at__isnull=True),
            ),
        ]
        constraints = [models.UniqueConstraint(fields=["key"], name="notification_key_unique")]

    def __str__(self) -> str:
        return f"{self.event} to {self.recipient_id}"
