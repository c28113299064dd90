"""The notification outbox: rows written with the change, delivered after commit."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction
from django.template.loader import render_to_string

from accounts.models import User
from licensing.models import Application, Notification

log = logging.getLogger(__name__)


def notify(
    *,
    event: str,
    recipients: Iterable[User],
    key: str,
    subject: str,
    application: Application | None = None,
    context: dict | None = None,
) -> list[int]:
    """Write one outbox row per recipient, keyed `key:user`, and deliver after commit.

    A key already written is skipped, so a retried sweep or task never
    notifies twice.
    """
    context = dict(context or {})
    if application is not None:
        context.setdefault("reference", application.reference)
        context.setdefault("application_id", application.pk)
    body = render_to_string(f"emails/{event}.txt", {"subject": subject, **context}).strip()
    rows = [
        Notification(
            key=f"{key}:{user.pk}",
            recipient=user,
            event=event,
            application=application,
            subject=subject,
            body=body,
            context=context,
        )
        for user in {u.pk: u for u in recipients}.values()
    ]
    if not rows:
        return []
    keys = [row.key for row in rows]
    existing = set(Notification.objects.filter(key__in=keys).values_list("key", flat=True))
    Notification.objects.bulk_create(
        [row for row in rows if row.key not in existing], ignore_conflicts=True
    )
    ids = list(
        Notification.objects.filter(key__in=set(keys) - existing).values_list("id", flat=True)
    )
    if ids:
        transaction.on_commit(lambda: enqueue_delivery(ids))
    return ids


def enqueue_delivery(ids: list[int]) -> None:
    """Hand rows to the broker; if it is down, the periodic relay picks them up later."""
    from licensing.tasks import deliver_notification

    for notification_id in ids:
        try:
            deliver_notification.delay(notification_id)
        except Exception:  # noqa: BLE001 - any broker failure: the relay retries
            log.warning("broker unavailable; notification %s left for the relay", notification_id)
            return
