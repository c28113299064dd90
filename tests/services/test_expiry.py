"""Daily license housekeeping: the 30-day warning and expiry, each once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine

from licensing.models import AuditEvent, License, Notification
from licensing.services.applications import application_submit
from licensing.services.expiry import licenses_expire_and_warn
from licensing.services.licenses import license_suspend
from licensing.services.reviews import review_claim, review_recommend
from tests.factories import draft

pytestmark = pytest.mark.django_db


@pytest.fixture
def license(exporter, teammate, reviewers) -> License:
    """A dual-use export license issued on Sunday 1 November 2026, valid one year."""
    with time_machine.travel("2026-11-01 10:00 +02:00", tick=False):
        application = application_submit(application=draft(created_by=exporter), user=exporter)
        review = application.reviews.get()
        review_claim(review=review, user=reviewers["economy"])
        review_recommend(review=review, user=reviewers["economy"], recommendation="approve")
    license = License.objects.get(application=application)
    assert license.valid_until == date(2027, 10, 31)
    return license


def _run(day: date):
    return licenses_expire_and_warn(today=day)


def test_exporters_are_warned_thirty_days_before_and_only_once(license, exporter, teammate):
    assert _run(date(2027, 9, 30)).warned == 0
    assert _run(date(2027, 10, 1)).warned == 1
    assert _run(date(2027, 10, 2)).warned == 0
    warnings = Notification.objects.filter(event="license_expiring")
    assert {n.recipient for n in warnings} == {exporter, teammate}
    assert "expires on 31 Oct 2027" in warnings.first().subject


def test_a_license_expires_the_day_after_its_last_valid_day(license, exporter):
    assert _run(date(2027, 10, 31)).expired == 0
    license.refresh_from_db()
    assert license.status == "active"
    report = _run(date(2027, 11, 1))
    assert report.expired == 1
    license.refresh_from_db()
    assert license.status == "expired"
    event = AuditEvent.objects.get(action="license_expired")
    assert (event.actor_name, event.from_state, event.to_state) == ("system", "active", "expired")
    assert Notification.objects.filter(event="license_expired", recipient=exporter).count() == 1
    assert _run(date(2027, 11, 2)).expired == 0
    assert AuditEvent.objects.filter(action="license_expired").count() == 1


def test_a_suspended_license_expires_too_but_is_not_warned(license, supervisors):
    license_suspend(license=license, user=supervisors["defense"], reason="Inquiry")
    assert _run(date(2027, 10, 15)).warned == 0
    assert _run(date(2027, 10, 31) + timedelta(days=1)).expired == 1
    license.refresh_from_db()
    assert license.status == "expired"
