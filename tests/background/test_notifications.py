"""The outbox: written with the change, delivered once, relayed when the broker missed it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from config.celery import app
from licensing.models import Application, DeliveryStatus, Notification, NotificationEvent
from licensing.notifications import notification_deliver, notifications_relay, notify
from licensing.services.applications import application_submit
from tests.factories import draft

pytestmark = pytest.mark.django_db


@pytest.fixture
def enqueued(monkeypatch) -> list[int]:
    """Ids handed to the broker, captured instead of published."""
    sent: list[int] = []
    from licensing import tasks

    monkeypatch.setattr(
        tasks.deliver_notifications,
        "apply_async",
        lambda args, **kwargs: sent.extend(args[0]),
    )
    return sent


def _age(notification: Notification, **kwargs) -> None:
    then = timezone.now() - timedelta(**kwargs)
    Notification.objects.filter(pk=notification.pk).update(created_at=then, next_attempt_at=then)


class TestWriting:
    def test_a_submission_writes_its_rows_and_enqueues_them_only_on_commit(
        self,
        exporter,
        teammate,
        reviewers,
        supervisors,
        django_capture_on_commit_callbacks,
        enqueued,
    ):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            application = application_submit(application=draft(created_by=exporter), user=exporter)
            assert enqueued == []  # nothing leaves the process inside the transaction
        rows = Notification.objects.filter(application=application)
        assert {(n.event, n.recipient.username) for n in rows} == {
            ("application_submitted", "alice"),
            ("application_submitted", "bob"),
            ("review_assigned", "economy-reviewer"),
            ("review_assigned", "economy-boss"),
        }
        assert all(n.delivery_status == DeliveryStatus.PENDING for n in rows)
        for callback in callbacks:
            callback()
        assert sorted(enqueued) == sorted(rows.values_list("id", flat=True))

    def test_a_key_written_twice_is_one_row(self, exporter, enqueued):
        application = draft(created_by=exporter)
        written = [
            notify(
                event=NotificationEvent.APPLICATION_SUBMITTED,
                recipients=[exporter, exporter],
                key=f"submitted:{application.pk}",
                subject="Submitted",
                application=application,
                context={"ministries": ["economy"]},
            )
            for _ in range(2)
        ]
        (row,) = Notification.objects.filter(recipient=exporter)
        # The ids answered (and handed to delivery) are the new rows' only.
        assert written == [[row.pk], []]

    def test_rows_past_the_databases_batch_size_are_written_in_batches(
        self, exporter, reviewers, supervisors, monkeypatch
    ):
        from django.db import connection

        monkeypatch.setattr(connection.ops, "bulk_batch_size", lambda fields, objs: 2)
        application = draft(created_by=exporter)
        people = [exporter, *reviewers.values(), *supervisors.values()]
        written = notify(
            event=NotificationEvent.APPLICATION_SUBMITTED,
            recipients=people,
            key=f"submitted:{application.pk}",
            subject="Submitted",
            application=application,
        )
        rows = Notification.objects.filter(application=application)
        assert sorted(written) == sorted(rows.values_list("pk", flat=True))
        assert len(written) == len(people)

    @pytest.mark.parametrize("event", NotificationEvent.values)
    def test_every_event_has_a_text_and_an_html_email(self, event):
        context = {
            "subject": "EXP-2026-000001: something happened",
            "reference": "EXP-2026-000001",
            "body": "Body text",
            "site_url": "http://licensing.test",
        }
        text = render_to_string(f"emails/{event}.txt", context)
        html = render_to_string(f"emails/{event}.html", context)
        assert "EXP-2026-000001" in text
        assert "EXP-2026-000001" in html
        assert html.lstrip().startswith("<!doctype html>")


class TestDelivery:
    @pytest.fixture
    def notification(self, exporter) -> Notification:
        application: Application = draft(created_by=exporter)
        notify(
            event=NotificationEvent.INFORMATION_REQUESTED,
            recipients=[exporter],
            key=f"asked:{application.pk}",
            subject=f"{application.reference}: the Economy ministry asks a question",
            application=application,
            context={"question": "Who pays <b>for</b> it?"},
        )
        return Notification.objects.get(recipient=exporter)

    def test_it_sends_a_text_and_html_email_with_the_unique_key(self, notification, exporter):
        assert notification_deliver(notification_id=notification.pk) == "sent"
        [email] = mail.outbox
        assert email.to == [exporter.email]
        assert email.subject == notification.subject
        assert "Who pays <b>for</b> it?" in email.body
        html, mimetype = email.alternatives[0]
        assert mimetype == "text/html"
        assert "Who pays &lt;b&gt;for&lt;/b&gt; it?" in html  # escaped in HTML
        assert email.extra_headers["X-Notification-Key"] == notification.key
        notification.refresh_from_db()
        assert (notification.delivery_status, notification.attempts) == ("sent", 1)
        assert notification.sent_at is not None

    def test_a_repeated_task_never_sends_twice(self, notification):
        results = [notification_deliver(notification_id=notification.pk) for _ in range(3)]
        assert results == ["sent", "not claimable", "not claimable"]
        assert len(mail.outbox) == 1

    def test_a_row_claimed_by_a_live_worker_is_left_alone(self, notification):
        Notification.objects.filter(pk=notification.pk).update(
            delivery_status="sending", claimed_at=timezone.now()
        )
        assert notification_deliver(notification_id=notification.pk) == "not claimable"
        assert mail.outbox == []

    def test_a_row_whose_worker_died_is_claimed_again_after_the_timeout(
        self, notification, settings
    ):
        Notification.objects.filter(pk=notification.pk).update(
            delivery_status="sending",
            claimed_at=timezone.now() - timedelta(seconds=settings.NOTIFICATION_CLAIM_TIMEOUT + 1),
        )
        assert notification_deliver(notification_id=notification.pk) == "sent"
        assert len(mail.outbox) == 1

    def test_a_failed_send_waits_out_a_growing_backoff_and_gives_up_only_after_days(
        self, notification, settings, monkeypatch
    ):
        def refuse(*args, **kwargs):
            raise ConnectionRefusedError("SMTP server down")

        monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
        before = timezone.now()
        assert notification_deliver(notification_id=notification.pk) == "retry later"
        notification.refresh_from_db()
        assert (notification.delivery_status, notification.attempts) == ("pending", 1)
        assert "SMTP server down" in notification.last_error
        first_wait = notification.next_attempt_at - before
        assert first_wait >= timedelta(seconds=settings.NOTIFICATION_RETRY_BASE)

        assert notification_deliver(notification_id=notification.pk) == "retry later"
        notification.refresh_from_db()
        assert notification.next_attempt_at - timezone.now() > first_wait  # it doubled

        _age(notification, seconds=settings.NOTIFICATION_GIVE_UP_AFTER + 1)
        assert notification_deliver(notification_id=notification.pk) == "failed"
        notification.refresh_from_db()
        assert (notification.delivery_status, notification.attempts) == ("failed", 3)

    def test_a_mail_server_down_for_an_hour_loses_nothing(
        self, notification, settings, monkeypatch, enqueued
    ):
        """Beat relays every minute; the backoff keeps the attempts few and the row alive."""
        down = {"value": True}
        real_send = EmailMultiAlternatives.send

        def send(message, *args, **kwargs):
            if down["value"]:
                raise ConnectionRefusedError("SMTP server down")
            return real_send(message, *args, **kwargs)

        monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", send)
        start = timezone.now()
        with time_machine.travel(start, tick=False) as clock:
            for _minute in range(60):
                enqueued.clear()
                notifications_relay()
                for notification_id in enqueued:
                    notification_deliver(notification_id=notification_id)
                clock.shift(timedelta(minutes=1))
            notification.refresh_from_db()
            assert notification.delivery_status == "pending"
            assert notification.attempts <= 7  # backoff, not one attempt a minute
            down["value"] = False
            clock.shift(timedelta(seconds=settings.NOTIFICATION_RETRY_MAX + 60))
            enqueued.clear()
            notifications_relay()
            for notification_id in enqueued:
                notification_deliver(notification_id=notification_id)
        notification.refresh_from_db()
        assert notification.delivery_status == "sent"
        assert len(mail.outbox) == 1

    def test_a_user_without_an_email_address_still_gets_the_in_app_row(self, notification):
        notification.recipient.email = ""
        notification.recipient.save()
        assert notification_deliver(notification_id=notification.pk) == "sent"
        assert mail.outbox == []


class TestBatches:
    def test_a_batch_is_claimed_once_and_sent_over_a_few_connections_at_once(
        self, exporter, reviewers, monkeypatch, enqueued, settings
    ):
        from django.core.mail.backends.locmem import EmailBackend

        from licensing.notifications import BATCH, notifications_deliver

        opened = []
        real_open = EmailBackend.open
        monkeypatch.setattr(EmailBackend, "open", lambda self: opened.append(1) or real_open(self))
        application = draft(created_by=exporter)
        for i in range(BATCH + 5):
            notify(
                event=NotificationEvent.INFORMATION_REQUESTED,
                recipients=[exporter],
                key=f"batch:{i}",
                subject=f"Question {i}",
                application=application,
                context={"question": "?"},
            )
        ids = list(Notification.objects.order_by("id").values_list("id", flat=True))
        # Each notify() enqueued its own row after commit; in batches of at most BATCH.
        notifications_relay()  # nothing is old enough yet
        assert enqueued == []
        first = notifications_deliver(notification_ids=ids[:BATCH])
        assert set(first.values()) == {"sent"}
        assert len(opened) == settings.NOTIFICATION_SMTP_CONNECTIONS  # one per lane
        again = notifications_deliver(notification_ids=ids)
        assert [again[i] for i in ids[:BATCH]] == ["not claimable"] * BATCH
        assert [again[i] for i in ids[BATCH:]] == ["sent"] * 5
        assert len(mail.outbox) == BATCH + 5

    def test_the_lanes_send_at_once_and_a_failed_send_waits_alone(
        self, exporter, monkeypatch, enqueued, settings
    ):
        """Sends overlap across lanes; one message the server refuses backs off, the rest go."""
        import threading

        from licensing.notifications import notifications_deliver

        settings.NOTIFICATION_SMTP_CONNECTIONS = 4
        lock, in_flight, most, all_waiting = threading.Lock(), [0], [0], threading.Barrier(4)
        lanes_seen: set[int] = set()
        real_send = EmailMultiAlternatives.send

        def send(message, *args, **kwargs):
            with lock:
                in_flight[0] += 1
                most[0] = max(most[0], in_flight[0])
                first_of_lane = threading.get_ident() not in lanes_seen
                lanes_seen.add(threading.get_ident())
            try:
                # The first send of each lane waits until all four lanes are sending:
                # only connections that really send at once get past it.
                if first_of_lane:
                    all_waiting.wait(timeout=10)
                if "refused" in message.subject:
                    raise ConnectionRefusedError("550 mailbox unavailable")
                return real_send(message, *args, **kwargs)
            finally:
                with lock:
                    in_flight[0] -= 1

        monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", send)
        application = draft(created_by=exporter)
        for i in range(12):
            notify(
                event=NotificationEvent.INFORMATION_REQUESTED,
                recipients=[exporter],
                key=f"lane:{i}",
                subject="refused" if i == 5 else f"Question {i}",
                application=application,
                context={"question": "?"},
            )
        ids = list(Notification.objects.order_by("id").values_list("id", flat=True))
        outcome = notifications_deliver(notification_ids=ids)
        assert most[0] == 4
        assert [outcome[i] for i in ids] == ["sent"] * 5 + ["retry later"] + ["sent"] * 6
        assert len(mail.outbox) == 11
        refused = Notification.objects.get(pk=ids[5])
        assert refused.delivery_status == "pending"
        assert "550 mailbox unavailable" in refused.last_error
        assert Notification.objects.filter(delivery_status="sent").count() == 11

    def test_a_message_that_cannot_be_built_waits_while_the_other_goes(
        self, exporter, monkeypatch, enqueued
    ):
        """One row's email fails to render: it backs off; the one buildable row is sent."""
        from licensing import notifications

        real_email = notifications._email

        def email(notification):
            if notification.subject == "broken":
                raise ValueError("template error")
            return real_email(notification)

        monkeypatch.setattr(notifications, "_email", email)
        application = draft(created_by=exporter)
        for i, subject in enumerate(["broken", "fine"]):
            notify(
                event=NotificationEvent.INFORMATION_REQUESTED,
                recipients=[exporter],
                key=f"build:{i}",
                subject=subject,
                application=application,
                context={"question": "?"},
            )
        ids = list(Notification.objects.order_by("id").values_list("id", flat=True))
        outcome = notifications.notifications_deliver(notification_ids=ids)
        assert [outcome[i] for i in ids] == ["retry later", "sent"]
        assert [m.subject for m in mail.outbox] == ["fine"]
        assert Notification.objects.get(pk=ids[0]).delivery_status == "pending"

    def test_the_outbox_hands_the_broker_batches(self, exporter, enqueued, monkeypatch):
        from licensing import notifications, tasks

        batches = []
        monkeypatch.setattr(
            tasks.deliver_notifications, "apply_async", lambda args, **kw: batches.append(args[0])
        )
        notifications.enqueue_delivery(list(range(1, 251)))
        assert [len(batch) for batch in batches] == [100, 100, 50]


class TestRelay:
    def test_it_re_enqueues_old_pending_and_stuck_sending_rows_only(
        self, exporter, settings, enqueued
    ):
        application = draft(created_by=exporter)
        for name in ("fresh", "old", "stuck", "busy", "sent"):
            notify(
                event=NotificationEvent.APPLICATION_SUBMITTED,
                recipients=[exporter],
                key=name,
                subject=name,
                application=application,
                context={"ministries": []},
            )
        rows = {n.subject: n for n in Notification.objects.all()}
        for name in ("old", "stuck", "busy", "sent"):
            _age(rows[name], minutes=30)
        long_ago = timezone.now() - timedelta(seconds=settings.NOTIFICATION_CLAIM_TIMEOUT + 5)
        Notification.objects.filter(pk=rows["stuck"].pk).update(
            delivery_status="sending", claimed_at=long_ago
        )
        Notification.objects.filter(pk=rows["busy"].pk).update(
            delivery_status="sending", claimed_at=timezone.now()
        )
        Notification.objects.filter(pk=rows["sent"].pk).update(delivery_status="sent")

        assert notifications_relay() == 2
        assert sorted(enqueued) == sorted([rows["old"].pk, rows["stuck"].pk])


def test_the_beat_schedule_relays_every_minute_sweeps_often_and_expires_daily():
    schedule = app.conf.beat_schedule
    by_task = {entry["task"]: entry["schedule"] for entry in schedule.values()}
    assert by_task["licensing.tasks.relay_notifications"] == 60.0
    assert by_task["licensing.tasks.sweep_deadlines"] <= 600
    expiry = by_task["licensing.tasks.expire_licenses"]
    assert (expiry.hour, expiry.minute) == ({0}, {15})
    assert set(by_task) <= set(app.tasks)


def test_the_celery_app_is_json_only_and_acknowledges_late():
    conf = app.conf
    assert (conf.task_serializer, conf.accept_content) == ("json", ["json"])
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.task_time_limit and conf.task_soft_time_limit < conf.task_time_limit
