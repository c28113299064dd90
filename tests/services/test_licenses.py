"""Licenses: issued on approval; suspend, reinstate, revoke, expire."""

from __future__ import annotations

from datetime import timedelta

import pytest

from licensing.exceptions import InvalidInput, NotPermitted, TransitionConflict
from licensing.models import AuditEvent, License
from licensing.services.applications import application_submit
from licensing.services.licenses import (
    license_expire,
    license_reinstate,
    license_revoke,
    license_suspend,
)
from licensing.services.reviews import review_claim, review_recommend
from tests.factories import draft

pytestmark = pytest.mark.django_db


@pytest.fixture
def license(exporter, reviewers) -> License:
    application = application_submit(application=draft(created_by=exporter), user=exporter)
    review = application.reviews.get()
    review_claim(review=review, user=reviewers["economy"])
    review_recommend(review=review, user=reviewers["economy"], recommendation="approve")
    return License.objects.get(application=application)


def test_a_defense_supervisor_suspends_and_reinstates(license, supervisors):
    suspended = license_suspend(license=license, user=supervisors["defense"], reason="Inquiry")
    assert (suspended.status, suspended.status_reason) == ("suspended", "Inquiry")
    reinstated = license_reinstate(license=license, user=supervisors["defense"], reason="Cleared")
    assert reinstated.status == "active"
    actions = list(
        AuditEvent.objects.filter(application=license.application).values_list("action", flat=True)
    )
    assert actions[-2:] == ["license_suspended", "license_reinstated"]


def test_the_committee_revokes_and_revoked_is_final(license, committee_member):
    license_revoke(license=license, user=committee_member, reason="End-user diversion")
    with pytest.raises(TransitionConflict) as error:
        license_reinstate(license=license, user=committee_member, reason="Oops")
    assert error.value.current_state == "revoked"


@pytest.mark.parametrize("persona", ["exporter", "economy_supervisor", "defense_reviewer"])
def test_others_cannot_change_a_license(license, exporter, supervisors, reviewers, persona):
    user = {
        "exporter": exporter,
        "economy_supervisor": supervisors["economy"],
        "defense_reviewer": reviewers["defense"],
    }[persona]
    with pytest.raises(NotPermitted):
        license_suspend(license=license, user=user, reason="x")
    license.refresh_from_db()
    assert license.status == "active"


def test_a_reason_is_required(license, committee_member):
    with pytest.raises(InvalidInput) as error:
        license_revoke(license=license, user=committee_member, reason=" ")
    assert "reason" in error.value.errors


def test_a_license_expires_only_after_its_last_valid_day(license):
    assert license_expire(license=license, today=license.valid_until) is None
    expired = license_expire(license=license, today=license.valid_until + timedelta(days=1))
    assert expired.status == "expired"
    event = AuditEvent.objects.get(action="license_expired")
    assert event.actor is None and event.actor_name == "system"
    assert license_expire(license=license, today=license.valid_until + timedelta(days=2)) is None


def test_a_goods_condition_that_repeats_the_overall_one_is_stated_once(exporter, reviewers):
    """An API client deciding goods apart may give a good the overall conditions again."""
    application = application_submit(application=draft(created_by=exporter, goods=2), user=exporter)
    review = application.reviews.get()
    review_claim(review=review, user=reviewers["economy"])
    first, second = application.goods.order_by("id")
    review_recommend(
        review=review,
        user=reviewers["economy"],
        recommendation="approve_with_conditions",
        conditions="No re-export without consent.",
        goods=[
            {
                "good": first.pk,
                "recommendation": "approve_with_conditions",
                "conditions": " No re-export without consent. ",
            },
            {
                "good": second.pk,
                "recommendation": "approve_with_conditions",
                "conditions": "Civil end use only.",
            },
        ],
    )
    license = License.objects.get(application=application)
    assert license.conditions.splitlines() == [
        "Economy: No re-export without consent.",
        "Economy (Miniature cryogenic cooler): Civil end use only.",
    ]
