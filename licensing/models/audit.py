"""The append-only, hash-chained audit trail."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

SYSTEM = "system"


class AppendOnlyError(Exception):
    """Audit events are never changed or deleted."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Audit events are append-only.")

    def delete(self):
        raise AppendOnlyError("Audit events are append-only.")


class AuditChainHead(models.Model):
    """One row, locked while an event is appended, so the chain never forks."""

    last_hash = models.CharField(max_length=64, default="")

    def __str__(self) -> str:
        return self.last_hash


class AuditEvent(models.Model):
    application = models.ForeignKey(
        "licensing.Application",
        null=True,
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,  # the (application, id) index leads with it
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(max_length=150, help_text="The username, or 'system'.")
    action = models.CharField(max_length=50)
    from_state = models.CharField(max_length=30, blank=True)
    to_state = models.CharField(max_length=30, blank=True)
    created_at = models.DateTimeField()
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)  # unique: Meta (one index, no LIKE index)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["hash"], name="auditevent_hash_unique")]
        # An application's trail in order (the case page's timeline, the API's events).
        indexes = [models.Index(fields=["application", "id"], name="auditevent_application_idx")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name} {self.action}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise AppendOnlyError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events are append-only.")
