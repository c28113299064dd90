"""Celery tasks: thin wrappers that own only their retry policy."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from licensing.models import DeliveryStatus, Notification

log = logging.getLogger(__name__)

# A row claimed longer ago than this by a worker that died is claimed again.
CLAIM_TIMEOUT = timedelta(minutes=10)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
    time_limit=60,
    soft_time_limit=50,
)
def deliver_notification(self, notification_id: int) -> str:
    return notification_deliver(notification_id=notification_id)


def notification_deliver(*, notification_id: int) -> str:
    """Send one outbox row by email, once.

    The claim is a conditional UPDATE: of two workers handed the same row,
    exactly one moves it from pending to sending.
    """
    now = timezone.now()
    claimed = (
        Notification.objects.filter(pk=notification_id)
        .filter(
            Q(delivery_status=DeliveryStatus.PENDING)
            | Q(delivery_status=DeliveryStatus.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT)
        )
        .update(delivery_status=DeliveryStatus.SENDING, claimed_at=now)
    )
    if not claimed:
        return "already claimed"
    notification = Notification.objects.select_related("recipient").get(pk=notification_id)
    recipient = notification.recipient
    try:
        if recipient.email:
            message = EmailMultiAlternatives(
                subject=notification.subject,
                body=notification.body,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[recipient.email],
                headers={"X-Notification-Key": notification.key},
            )
            message.attach_alternative(
                render_to_string("emails/notification.html", {"notification": notification}),
                "text/html",
            )
            message.send()
    except Exception as exc:
        Notification.objects.filter(pk=notification_id).update(
            delivery_status=DeliveryStatus.PENDING,
            attempts=notification.attempts + 1,
            last_error=str(exc)[:2000],
        )
        raise
    Notification.objects.filter(pk=notification_id).update(
        delivery_status=DeliveryStatus.SENT,
        sent_at=timezone.now(),
        attempts=notification.attempts + 1,
    )
    return "sent"
