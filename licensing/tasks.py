"""Celery tasks: each loads what it needs, calls one service, and owns only its retry policy.

The app-wide defaults (licensing/settings.py) acknowledge late and requeue on
worker loss; every service called here is idempotent, so a redelivery repeats
nothing.
"""

from __future__ import annotations

from datetime import date

from celery import shared_task

from licensing.deadlines import sweep_deadlines
from licensing.expiry import licenses_expire_and_warn
from licensing.notifications import notification_deliver, notifications_relay


@shared_task(time_limit=60, soft_time_limit=50)
def deliver_notification(notification_id: int) -> str:
    return notification_deliver(notification_id=notification_id)


@shared_task(time_limit=120, soft_time_limit=100)
def relay_notifications() -> int:
    return notifications_relay()


@shared_task(name="licensing.tasks.sweep_deadlines", time_limit=600, soft_time_limit=540)
def run_deadline_sweep(today: str | None = None) -> str:
    report = sweep_deadlines(today=date.fromisoformat(today) if today else None)
    return str(report)


@shared_task(time_limit=600, soft_time_limit=540)
def expire_licenses(today: str | None = None) -> str:
    report = licenses_expire_and_warn(today=date.fromisoformat(today) if today else None)
    return f"{report.expired} expired, {report.warned} warned"
