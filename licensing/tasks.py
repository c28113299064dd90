"""Celery tasks: each takes ids or a date, calls one service, and owns only its retry policy.

Each task is registered under its own name (`licensing.tasks.<function>`).
Services are imported inside the task bodies: services enqueue tasks (through
the notification outbox), so importing them here at module level would close
an import cycle.

The app-wide defaults (config/settings.py) acknowledge late and requeue on
worker loss; every service called here is idempotent, so a redelivery repeats
nothing.
"""

from __future__ import annotations

from datetime import date

from celery import shared_task


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


@shared_task(time_limit=60, soft_time_limit=50)
def deliver_notification(notification_id: int) -> str:
    """One row (messages published before delivery went by batches)."""
    from licensing.notifications import notification_deliver

    return notification_deliver(notification_id=notification_id)


@shared_task(time_limit=300, soft_time_limit=270)
def deliver_notifications(notification_ids: list[int]) -> str:
    from collections import Counter

    from licensing.notifications import notifications_deliver

    outcome = notifications_deliver(notification_ids=notification_ids)
    return ", ".join(f"{n} {what}" for what, n in sorted(Counter(outcome.values()).items()))


@shared_task(time_limit=120, soft_time_limit=100)
def relay_notifications() -> int:
    from licensing.notifications import notifications_relay

    return notifications_relay()


@shared_task(time_limit=600, soft_time_limit=540)
def sweep_deadlines(today: str | None = None) -> str:
    from licensing.services.deadlines import deadlines_sweep

    return str(deadlines_sweep(today=_day(today)))


@shared_task(time_limit=600, soft_time_limit=540)
def expire_licenses(today: str | None = None) -> str:
    from licensing.services.expiry import licenses_expire_and_warn

    report = licenses_expire_and_warn(today=_day(today))
    return f"{report.expired} expired, {report.warned} warned"


@shared_task(time_limit=300, soft_time_limit=270)
def anchor_audit_chain() -> str:
    from licensing.audit import audit_anchor

    anchor = audit_anchor()
    return f"{anchor.count} events, last {anchor.last_id}"


@shared_task(time_limit=3600, soft_time_limit=3500)
def rescreen_list(list_id: int) -> str:
    """Open cases and live licences against a list that changed, in batches."""
    from licensing.services.screening import screening_rescreen_list

    return f"{screening_rescreen_list(list_id=list_id)} new match(es)"
