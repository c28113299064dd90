"""A real Celery worker on Redis delivers the outbox into an SMTP sink, end to end."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.conf import settings

from licensing.models import Notification, Review, ScreeningMatch
from licensing.services.applications import application_submit
from licensing.tasks import sweep_deadlines
from tests import factories
from tests.conftest import celery_broker
from tests.factories import draft
from tests.harness import Worker, wait_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def worker(smtp_sink, tmp_path):
    """A worker on REDIS_URL (the test run's own Redis database), its queue emptied first."""
    with celery_broker(settings.REDIS_URL) as app:
        app.control.purge()
        worker = Worker(
            broker_url=settings.REDIS_URL, smtp_port=smtp_sink.port, log=tmp_path / "worker.log"
        )
        worker.start()
        yield worker
        worker.stop()


def _all_sent() -> bool:
    return not Notification.objects.exclude(delivery_status="sent").exists()


def test_submissions_notify_exporters_and_ministries_by_email_once(
    worker, smtp_sink, exporter, teammate, reviewers, supervisors
):
    applications = [
        application_submit(application=draft(created_by=exporter, destination=d), user=exporter)
        for d in ("DE", "IN", "US")
    ]
    rows = Notification.objects.filter(application__in=applications)
    # Two exporters x 3 submissions; Economy's two staff x 3 reviews; Foreign's two x 1 (India).
    assert rows.count() == 14
    wait_for(_all_sent, timeout=60, what="every notification to be sent")

    assert sorted(smtp_sink.keys) == sorted(rows.values_list("key", flat=True))
    by_key = {key: (to, message) for key, to, message in smtp_sink.messages}
    submitted = rows.get(
        event="application_submitted", recipient=teammate, application=applications[1]
    )
    to, message = by_key[submitted.key]
    assert to == ["bob@example.com"]
    assert message["Subject"] == f"{applications[1].reference} submitted"
    parts = {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in message.walk()
        if not part.is_multipart()
    }
    assert "under review by: economy, foreign" in parts["text/plain"]
    assert "<!doctype html>" in parts["text/html"]


def test_the_worker_runs_the_deadline_sweep_and_delivers_what_it_decides(
    worker, smtp_sink, exporter, reviewers, supervisors
):
    with time_machine.travel("2026-11-01 10:00 +02:00", tick=False):
        application = application_submit(
            application=draft(created_by=exporter, destination="IN"), user=exporter
        )
    sweep_deadlines.delay("2026-11-09")

    foreign = Review.objects.get(application=application, ministry="foreign")
    wait_for(lambda: Review.objects.get(pk=foreign.pk).deemed, timeout=60, what="deemed consent")
    deemed = Notification.objects.get(event="review_deemed", recipient=supervisors["foreign"])
    wait_for(lambda: deemed.key in smtp_sink.keys, timeout=60, what="the deemed-consent email")
    wait_for(_all_sent, timeout=60, what="every notification to be sent")
    assert len(smtp_sink.keys) == len(set(smtp_sink.keys)) == Notification.objects.count()
    assert date(2026, 11, 8) == Review.objects.get(pk=foreign.pk).due_date


def test_a_list_change_rescreens_live_licenses_in_the_worker_and_mails_the_supervisors(
    worker, smtp_sink, exporter, reviewers, supervisors
):
    approved = factories.approved(exporter, reviewers, end_user_name="Kestrel Avionics AG")
    assert approved.license.status == "active"
    # Importing commits, then enqueues the re-screen on the real broker.
    factories.screening_list("Denied parties", entries=[{"name": "Kestrel Avionics GmbH"}])

    wait_for(
        lambda: ScreeningMatch.objects.filter(application=approved).exists(),
        timeout=60,
        what="the worker to find the match",
    )
    match = ScreeningMatch.objects.get(application=approved)
    assert (match.entry_name, match.match, match.status) == (
        "Kestrel Avionics GmbH",
        "exact",
        "open",
    )
    told = Notification.objects.get(event="screening_match")
    assert told.recipient == supervisors["economy"]
    wait_for(lambda: told.key in smtp_sink.keys, timeout=60, what="the supervisor's email")
    by_key = {key: (to, message) for key, to, message in smtp_sink.messages}
    to, message = by_key[told.key]
    assert to == [supervisors["economy"].email]
    assert " ".join(message["Subject"].split()) == (  # a long header is folded
        f"License {approved.license.number}: the end user resembles an entry of 'Denied parties'"
    )
    # The same list again: nothing new is found, nobody is told twice.
    from licensing.tasks import rescreen_list

    rescreen_list.delay(match.list_id)
    wait_for(_all_sent, timeout=60, what="every notification to be sent")
    assert ScreeningMatch.objects.count() == 1
    assert Notification.objects.filter(event="screening_match").count() == 1
