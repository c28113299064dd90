"""The audit trail: append-only, hash-chained, verifiable by operators."""

from __future__ import annotations

import itertools

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from licensing.audit import audit_verify_chain
from licensing.exceptions import SubmissionRefused
from licensing.models import AppendOnlyError, AuditEvent
from licensing.services.applications import application_submit, application_withdraw
from licensing.services.reviews import review_claim
from tests.factories import draft

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail(exporter, reviewers) -> list[AuditEvent]:
    first = application_submit(application=draft(created_by=exporter), user=exporter)
    review_claim(review=first.reviews.get(), user=reviewers["economy"])
    second = application_submit(application=draft(created_by=exporter), user=exporter)
    application_withdraw(application=second, user=exporter, reason="Customer cancelled")
    return list(AuditEvent.objects.order_by("id"))


def test_every_event_links_to_the_one_before(trail):
    assert [e.action for e in trail] == [
        "application_submitted",
        "review_claimed",
        "application_submitted",
        "application_withdrawn",
    ]
    assert trail[0].prev_hash == ""
    for previous, event in itertools.pairwise(trail):
        assert event.prev_hash == previous.hash
    report = audit_verify_chain()
    assert report.ok and report.checked == 4


def test_a_tampered_reason_is_detected_at_that_event(trail, capsys):
    target = trail[3]
    with connection.cursor() as cursor:  # what a hostile DBA could do, bypassing the ORM
        cursor.execute(
            f"UPDATE {AuditEvent._meta.db_table} SET reason = %s WHERE id = %s",
            ["Exporter changed its mind", target.pk],
        )
    report = audit_verify_chain()
    assert report.broken.pk == target.pk
    assert report.checked == 3
    with pytest.raises(CommandError, match=f"broken at event {target.pk}"):
        call_command("verify_audit_chain")


def test_a_deleted_event_is_detected_at_the_next_one(trail):
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE id = %s", [trail[1].pk])
    report = audit_verify_chain()
    assert report.broken.pk == trail[2].pk
    assert "link" in report.problem


def test_a_truncated_tail_is_detected(trail):
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE id = %s", [trail[-1].pk])
    report = audit_verify_chain()
    assert not report.ok
    assert "missing" in report.problem


def test_the_command_reports_an_intact_chain(trail, capsys):
    call_command("verify_audit_chain")
    assert "4 events verified" in capsys.readouterr().out


def test_events_cannot_be_changed_or_deleted_through_the_orm(trail):
    event = trail[0]
    event.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(reason="rewritten")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert audit_verify_chain().ok


def test_a_refused_submission_leaves_no_event(exporter):
    with pytest.raises(SubmissionRefused):
        application_submit(application=draft(created_by=exporter, destination="SY"), user=exporter)
    assert not AuditEvent.objects.exists()
