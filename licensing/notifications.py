"""The notification outbox: rows written with the change, delivered after commit."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Q
from django.db.models.constants import OnConflict
from django.template import Context
from django.template.loader import get_template, render_to_string
from django.utils import timezone

from accounts.models import User
from licensing.models import Application, DeliveryStatus, Notification

log = logging.getLogger(__name__)


@dataclass
class Message:
    """One event told to some people: a row each, keyed `key:user`."""

    event: str
    recipients: Iterable[User]
    key: str
    subject: str
    application: Application | None = None
    context: dict | None = None

    def rows(self) -> list[Notification]:
        context = dict(self.context or {})
        if self.application is not None:
            context.setdefault("reference", self.application.reference)
            context.setdefault("application_id", self.application.pk)
        body = _render_text(f"emails/{self.event}.txt", {"subject": self.subject, **context})
        return [
            Notification(
                key=f"{self.key}:{user.pk}",
                recipient=user,
                event=self.event,
                application=self.application,
                subject=self.subject,
                body=body,
                context=context,
            )
            for user in {u.pk: u for u in self.recipients}.values()
        ]


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
    return notify_all([Message(event, recipients, key, subject, application, context)])


def notify_all(messages: Iterable[Message]) -> list[int]:
    """`notify` for several messages at once, in one statement whatever their number:
    `INSERT ... ON CONFLICT DO NOTHING RETURNING id` (PostgreSQL and SQLite alike) writes
    the rows whose key is new and answers their ids; a key already written is skipped."""
    rows = [row for message in messages for row in message.rows()]
    if not rows:
        return []
    fields = [f for f in Notification._meta.concrete_fields if not f.primary_key]
    # QuerySet._insert is what bulk_create runs, batch by batch as here; bulk_create
    # itself answers no ids when it ignores conflicts.
    size = db_connection.ops.bulk_batch_size(fields, rows) or len(rows)
    ids = []
    for start in range(0, len(rows), size):
        returned = Notification.objects._insert(
            rows[start : start + size],
            fields=fields,
            returning_fields=[Notification._meta.pk],
            on_conflict=OnConflict.IGNORE,
        )
        ids += [row[0] for row in returned or () if row is not None]
    if ids:
        transaction.on_commit(lambda: enqueue_delivery(ids))
    return ids


def _render_text(name: str, context: dict) -> str:
    """Plain text is not HTML: an exporter's `<` stays `<` in the email and the in-app list."""
    template = get_template(name).template
    return template.render(Context(context, autoescape=False)).strip()


BATCH = 100  # rows per delivery task: one claim, NOTIFICATION_SMTP_CONNECTIONS connections


def enqueue_delivery(ids: list[int]) -> None:
    """Hand rows to the broker, once the change is committed, a batch per message.

    Never waits on a dead broker (no publish retries, short connect timeout):
    the request that caused the rows answers at once, and the periodic relay
    sends what the broker missed.
    """
    from licensing.tasks import deliver_notifications

    for start in range(0, len(ids), BATCH):
        try:
            deliver_notifications.apply_async((ids[start : start + BATCH],), retry=False)
        except Exception:  # noqa: BLE001 - any broker failure: the relay retries
            log.warning(
                "broker unavailable; %d notification(s) left for the relay", len(ids) - start
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
    """Send one outbox row; see `notifications_deliver`."""
    return notifications_deliver(notification_ids=[notification_id])[notification_id]


def notifications_deliver(*, notification_ids: list[int]) -> dict[int, str]:
    """Send outbox rows by email, each once; return what happened to each.

    The claim is one conditional UPDATE (pending -> sending, or a sending row
    whose claim has timed out) returning the rows it took: of two workers
    handed the same row, exactly one gets it, so a redelivered or duplicated
    message never sends twice. The messages are built here, then sent over
    NOTIFICATION_SMTP_CONNECTIONS connections at once (threads that only talk
    SMTP: a mail server's round trips overlap instead of adding up), and what
    happened is written back here. A row whose worker died mid-send stays
    `sending` until its claim times out, then the relay hands it out again.
    """
    now = timezone.now()
    outcome = dict.fromkeys(notification_ids, "not claimable")
    claimed = _claim(notification_ids, now)
    if not claimed:
        return outcome
    rows = list(Notification.objects.filter(pk__in=claimed).select_related("recipient"))
    errors: dict[int, Exception] = {}
    emails: dict[int, EmailMultiAlternatives] = {}
    for notification in rows:
        if not notification.recipient.email:
            continue  # the in-app row is all such a user gets
        try:
            emails[notification.pk] = _email(notification)
        except Exception as exc:  # noqa: BLE001 - a broken template: retry later, like a send
            errors[notification.pk] = exc
    lanes = max(1, min(settings.NOTIFICATION_SMTP_CONNECTIONS, len(emails)))
    if emails:
        items = list(emails.items())
        with ThreadPoolExecutor(max_workers=lanes) as pool:
            for lane_errors in pool.map(_transmit, [items[i::lanes] for i in range(lanes)]):
                errors.update(lane_errors)
    sent: list[int] = []
    for notification in rows:
        if notification.pk in errors:
            outcome[notification.pk] = _failed(notification, errors[notification.pk], now)
        else:
            outcome[notification.pk] = "sent"
            sent.append(notification.pk)
    Notification.objects.filter(pk__in=sent).update(
        delivery_status=DeliveryStatus.SENT, sent_at=timezone.now(), last_error=""
    )
    return outcome


def _transmit(items: list[tuple[int, EmailMultiAlternatives]]) -> dict[int, Exception]:
    """Send messages over one SMTP connection; the exception of each that failed.

    Touches no database: it may run in a thread of its own.
    """
    errors: dict[int, Exception] = {}
    connection = get_connection()
    try:
        connection.open()  # once for the lane (each send would open and close its own)
    except Exception:  # noqa: BLE001 - each send tries again and falls into its backoff
        log.warning("mail server unavailable; %d notification(s) will retry", len(items))
    try:
        for pk, message in items:
            try:
                message.connection = connection
                message.send()
            except Exception as exc:  # noqa: BLE001 - whatever the mail server did, retry later
                errors[pk] = exc
    finally:
        connection.close()
    return errors


def _claim(ids: list[int], now) -> list[int]:
    """Take the claimable rows among `ids` in one statement; return the ids taken."""
    if not ids:
        return []
    table = db_connection.ops.quote_name(Notification._meta.db_table)
    placeholders = ", ".join(["%s"] * len(ids))
    timed_out = now - timedelta(seconds=settings.NOTIFICATION_CLAIM_TIMEOUT)
    as_stored = db_connection.ops.adapt_datetimefield_value  # as the ORM writes and compares
    with db_connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET delivery_status = %s, claimed_at = %s, "  # noqa: S608
            f"attempts = attempts + 1 WHERE id IN ({placeholders}) AND "
            "(delivery_status = %s OR (delivery_status = %s AND claimed_at < %s)) RETURNING id",
            [
                DeliveryStatus.SENDING,
                as_stored(now),
                *ids,
                DeliveryStatus.PENDING,
                DeliveryStatus.SENDING,
                as_stored(timed_out),
            ],
        )
        return [row[0] for row in cursor.fetchall()]


def _failed(notification: Notification, exc: Exception, now) -> str:
    """A claimed row whose send failed: "retry later" after a backoff, or "failed"."""
    # The relay owns retries: the row waits out an exponential backoff, so a
    # mail server that is down for a while costs a few attempts, not the mail.
    give_up = now - notification.created_at >= timedelta(
        seconds=settings.NOTIFICATION_GIVE_UP_AFTER
    )
    backoff = min(
        settings.NOTIFICATION_RETRY_BASE * 2 ** (notification.attempts - 1),
        settings.NOTIFICATION_RETRY_MAX,
    )
    Notification.objects.filter(pk=notification.pk, claimed_at=now).update(
        delivery_status=DeliveryStatus.FAILED if give_up else DeliveryStatus.PENDING,
        next_attempt_at=now + timedelta(seconds=backoff),
        last_error=f"{type(exc).__name__}: {exc}"[:2000],
    )
    if give_up:
        log.error(
            "notification %s still failing after %d attempts; giving up",
            notification.pk,
            notification.attempts,
        )
        return "failed"
    log.warning("notification %s failed (%s); retry in %ss", notification.pk, exc, backoff)
    return "retry later"


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
