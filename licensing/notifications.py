"""The notification outbox: rows written with the change, delivered after commit."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.template import Context
from django.template.loader import get_template, render_to_string
from django.utils import timezone

from accounts.models import User
from licensing.models import Application, DeliveryStatus, Notification

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
    body = _render_text(f"emails/{event}.txt", {"subject": subject, **context})
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


def _render_text(name: str, context: dict) -> str:
    """Plain text is not HTML: an exporter's `<` stays `<` in the email and the in-app list."""
    template = get_template(name).template
    return template.render(Context(context, autoescape=False)).strip()


def enqueue_delivery(ids: list[int]) -> None:
    """Hand rows to the broker, once the change is committed.

    Never waits on a dead broker (no publish retries, short connect timeout):
    the request that caused the rows answers at once, and the periodic relay
    sends what the broker missed.
    """
    from licensing.tasks import deliver_notification

    for notification_id in ids:
        try:
            deliver_notification.apply_async((notification_id,), retry=False)
        except Exception:  # noqa: BLE001 - any broker failure: the relay retries
            log.warning(
                "broker unavailable; %d notification(s) left for the relay",
                len(ids) - ids.index(notification_id),
            )
            return


def notifications_relay(*, batch_size: int = 1000) -> int:
    """Re-enqueue rows the broker may have missed; return how many were handed over.

    Two kinds of row: pending for longer than NOTIFICATION_RELAY_AFTER past
    its next attempt time (the broker was down at commit, its message was lost,
    or a failed send's backoff has run out), and sending for longer than
    NOTIFICATION_CLAIM_TIMEOUT (the worker that claimed it died). A row that
    also still has a message in the queue is harmless: the claim lets only one
    delivery through.
    """
    now = timezone.now()
    waiting = Q(
        delivery_status=DeliveryStatus.PENDING,
        next_attempt_at__lte=now - timedelta(seconds=settings.NOTIFICATION_RELAY_AFTER),
    ) | Q(
        delivery_status=DeliveryStatus.SENDING,
        claimed_at__lt=now - timedelta(seconds=settings.NOTIFICATION_CLAIM_TIMEOUT),
    )
    ids = list(
        Notification.objects.filter(waiting)
        .order_by("id")
        .values_list("id", flat=True)[:batch_size]
    )
    if ids:
        log.info("relay: re-enqueueing %d notification(s)", len(ids))
        enqueue_delivery(ids)
    return len(ids)


def notification_deliver(*, notification_id: int) -> str:
    """Send one outbox row by email, once; return what happened.

    The claim is a conditional UPDATE (pending -> sending, or a sending row
    whose claim has timed out): of two workers handed the same row, exactly
    one gets it, so a redelivered or duplicated message never sends twice.
    A row whose worker died mid-send stays `sending` until its claim times
    out, then the relay hands it out again.
    """
    now = timezone.now()
    claimable = Q(delivery_status=DeliveryStatus.PENDING) | Q(
        delivery_status=DeliveryStatus.SENDING,
        claimed_at__lt=now - timedelta(seconds=settings.NOTIFICATION_CLAIM_TIMEOUT),
    )
    claimed = Notification.objects.filter(claimable, pk=notification_id).update(
        delivery_status=DeliveryStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return "not claimable"
    notification = Notification.objects.select_related("recipient").get(pk=notification_id)
    try:
        if notification.recipient.email:
            _email(notification).send()
    except Exception as exc:  # noqa: BLE001 - whatever the mail server did, retry later
        # The relay owns retries: the row waits out an exponential backoff, so a
        # mail server that is down for a while costs a few attempts, not the mail.
        give_up = now - notification.created_at >= timedelta(
            seconds=settings.NOTIFICATION_GIVE_UP_AFTER
        )
        backoff = min(
            settings.NOTIFICATION_RETRY_BASE * 2 ** (notification.attempts - 1),
            settings.NOTIFICATION_RETRY_MAX,
        )
        Notification.objects.filter(pk=notification_id, claimed_at=now).update(
            delivery_status=DeliveryStatus.FAILED if give_up else DeliveryStatus.PENDING,
            next_attempt_at=now + timedelta(seconds=backoff),
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        if give_up:
            log.error(
                "notification %s still failing after %d attempts; giving up",
                notification_id,
                notification.attempts,
            )
            return "failed"
        log.warning("notification %s failed (%s); retry in %ss", notification_id, exc, backoff)
        return "retry later"
    Notification.objects.filter(pk=notification_id).update(
        delivery_status=DeliveryStatus.SENT, sent_at=timezone.now(), last_error=""
    )
    return "sent"


def _email(notification: Notification) -> EmailMultiAlternatives:
    """The text body written with the row, and the event's HTML template."""
    context = {
        **notification.context,
        "subject": notification.subject,
        "body": notification.body,
        "notification": notification,
        "site_url": settings.SITE_URL.rstrip("/"),
    }
    message = EmailMultiAlternatives(
        subject=notification.subject,
        body=notification.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.recipient.email],
        # The unique key lets a receiving system drop a duplicate, too.
        headers={"X-Notification-Key": notification.key},
    )
    message.attach_alternative(
        render_to_string(f"emails/{notification.event}.html", context), "text/html"
    )
    return message
