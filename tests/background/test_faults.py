"""Faults: the broker down, a worker killed mid-batch, four sweeps at once.

The broker here is a throwaway redis-server on a spare port (never the
machine's shared Redis), stopped and restarted by the test.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import date

import pytest
import time_machine
from django.db import close_old_connections, connection, transaction

from licensing.audit import audit_verify_chain
from licensing.models import AuditEvent, Notification, NotificationEvent, Review
from licensing.notifications import notifications_relay, notify
from licensing.services.applications import application_submit
from licensing.services.deadlines import deadlines_sweep
from tests.conftest import celery_broker
from tests.factories import draft
from tests.harness import RedisServer, Worker, wait_for

TRANSACTIONAL = pytest.mark.django_db(transaction=True)


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def broker(redis_server):
    with celery_broker(redis_server.url):
        yield redis_server


def _relay_until_all_sent(settings, timeout: float = 60) -> None:
    """What beat does every minute, faster: re-enqueue anything still waiting."""
    settings.NOTIFICATION_RELAY_AFTER = 0
    settings.NOTIFICATION_CLAIM_TIMEOUT = 3  # as the worker's

    def all_sent() -> bool:
        if not Notification.objects.exclude(delivery_status="sent").exists():
            return True
        notifications_relay()
        time.sleep(0.5)
        return False

    wait_for(all_sent, timeout=timeout, what="every notification to be sent")


@pytest.mark.postgres
@pytest.mark.redis
@TRANSACTIONAL
def test_submissions_succeed_while_the_broker_is_down_and_are_delivered_after(
    broker, smtp_sink, tmp_path, settings, exporter, teammate, reviewers, supervisors
):
    worker = Worker(broker_url=broker.url, smtp_port=smtp_sink.port, log=tmp_path / "w.log")
    worker.start()
    try:
        broker.stop()
        started = time.monotonic()
        applications = [
            application_submit(application=draft(created_by=exporter), user=exporter)
            for _ in range(5)
        ]
        assert time.monotonic() - started < 10  # no submission waited on the dead broker
        assert {a.status for a in applications} == {"under_review"}
        rows = Notification.objects.all()
        assert rows.count() == 20
        assert set(rows.values_list("delivery_status", flat=True)) == {"pending"}

        broker.start()
        _relay_until_all_sent(settings)
    finally:
        worker.stop()
    assert sorted(smtp_sink.keys) == sorted(rows.values_list("key", flat=True))


@pytest.mark.postgres
@pytest.mark.redis
@TRANSACTIONAL
def test_a_worker_killed_mid_batch_loses_and_repeats_nothing(
    broker, smtp_sink, tmp_path, settings, exporter
):
    smtp_sink.hold_next = True  # the first email hangs before the server accepts it
    worker = Worker(
        broker_url=broker.url, smtp_port=smtp_sink.port, log=tmp_path / "w1.log", concurrency=1
    )
    worker.start()
    application = draft(created_by=exporter)
    with transaction.atomic():
        for n in range(20):
            notify(
                event=NotificationEvent.APPLICATION_SUBMITTED,
                recipients=[exporter],
                key=f"batch:{n}",
                subject=f"Message {n}",
                application=application,
                context={"ministries": ["economy"]},
            )
    assert smtp_sink.holding.wait(30), "the worker never started sending"
    worker.kill()  # SIGKILL, mid-send, with the rest of the batch queued or prefetched

    held = Notification.objects.get(key=f"{smtp_sink.hold_key}")
    assert held.delivery_status == "sending"  # the dead worker's claim
    assert smtp_sink.hold_key not in smtp_sink.keys  # never accepted by the server

    replacement = Worker(broker_url=broker.url, smtp_port=smtp_sink.port, log=tmp_path / "w2.log")
    replacement.start()
    try:
        _relay_until_all_sent(settings)
    finally:
        replacement.stop()
    counts = Counter(smtp_sink.keys)
    assert set(counts) == set(Notification.objects.values_list("key", flat=True))
    assert set(counts.values()) == {1}


@pytest.mark.postgres
@TRANSACTIONAL
def test_four_sweeps_at_once_apply_every_step_once(
    exporter, reviewers, supervisors, committee_member
):
    with time_machine.travel("2026-11-01 10:00 +02:00", tick=False):
        for destination, code, license_type in [
            ("IN", "6A003", "dual_use_export"),  # Economy + Foreign
            ("DE", "6A003", "dual_use_export"),  # Economy
            ("DE", "ML10", "marketing"),  # Defense + Foreign
            ("CN", "9A012", "dual_use_export"),  # Economy + Foreign
        ]:
            for _ in range(3):
                application_submit(
                    application=draft(
                        created_by=exporter,
                        destination=destination,
                        code=code,
                        license_type=license_type,
                    ),
                    user=exporter,
                )
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def sweep() -> None:
        try:
            barrier.wait()
            deadlines_sweep(today=date(2026, 12, 10))
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []

    steps = Counter(
        (e.data["review"], e.data["level"])
        for e in AuditEvent.objects.filter(action="escalation_step")
    )
    assert set(steps.values()) == {1}  # no step twice
    levels = {(r.ministry, r.escalation_level) for r in Review.objects.all()}
    assert levels == {("foreign", 1), ("economy", 2), ("defense", 2)}
    assert len(steps) == 9 * 1 + 9 * 2 + 3 * 2  # every step of every review, once
    assert AuditEvent.objects.filter(action="review_deemed").count() == 9
    assert Review.objects.filter(ministry="foreign", deemed=True).count() == 9
    assert AuditEvent.objects.filter(action="referred_to_committee").count() == 9
    assert (
        AuditEvent.objects.filter(action="escalation_step", data__step="notify_committee").count()
        == 3
    )
    assert audit_verify_chain().ok
    keys = list(Notification.objects.values_list("key", flat=True))
    assert len(keys) == len(set(keys))
