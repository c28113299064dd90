"""The review state machine: claim, reassign, recommend; who may do what."""

from __future__ import annotations

import pytest

from licensing.exceptions import InvalidInput, NotPermitted, TransitionConflict
from licensing.models import AuditEvent, Review
from licensing.services.applications import application_submit, application_withdraw
from licensing.services.reviews import (
    review_claim,
    review_reassign,
    review_recommend,
    review_request_information,
)
from tests.factories import ReviewerFactory, draft

pytestmark = pytest.mark.django_db


@pytest.fixture
def review(exporter) -> Review:
    application = application_submit(application=draft(created_by=exporter), user=exporter)
    return application.reviews.get(ministry="economy")


def test_a_reviewer_of_the_ministry_claims_a_pending_review(review, reviewers):
    claimed = review_claim(review=review, user=reviewers["economy"])
    assert (claimed.status, claimed.assigned_to) == ("in_progress", reviewers["economy"])
    event = AuditEvent.objects.get(action="review_claimed")
    assert (event.from_state, event.to_state, event.actor) == (
        "pending",
        "in_progress",
        reviewers["economy"],
    )


@pytest.mark.parametrize(
    "persona", ["defense_reviewer", "exporter", "committee", "supervisor_other"]
)
def test_others_cannot_claim(review, reviewers, supervisors, exporter, committee_member, persona):
    user = {
        "defense_reviewer": reviewers["defense"],
        "exporter": exporter,
        "committee": committee_member,
        "supervisor_other": supervisors["foreign"],
    }[persona]
    with pytest.raises(NotPermitted):
        review_claim(review=review, user=user)
    review.refresh_from_db()
    assert review.status == "pending"


def test_a_claimed_review_cannot_be_claimed_again(review, reviewers):
    review_claim(review=review, user=reviewers["economy"])
    colleague = ReviewerFactory(username="economy-2", ministry="economy")
    with pytest.raises(TransitionConflict) as error:
        review_claim(review=review, user=colleague)
    assert error.value.current_state == "in_progress"
    review.refresh_from_db()
    assert review.assigned_to == reviewers["economy"]


def test_only_the_assigned_reviewer_recommends(review, reviewers):
    review_claim(review=review, user=reviewers["economy"])
    colleague = ReviewerFactory(username="economy-2", ministry="economy")
    with pytest.raises(NotPermitted):
        review_recommend(review=review, user=colleague, recommendation="approve")


def test_an_unclaimed_review_cannot_be_recommended(review, reviewers):
    with pytest.raises(TransitionConflict) as error:
        review_recommend(review=review, user=reviewers["economy"], recommendation="approve")
    assert error.value.current_state == "pending"


def test_an_unknown_recommendation_is_a_field_error(review, reviewers):
    review_claim(review=review, user=reviewers["economy"])
    with pytest.raises(InvalidInput) as error:
        review_recommend(review=review, user=reviewers["economy"], recommendation="maybe")
    assert "recommendation" in error.value.errors


def test_a_supervisor_reassigns_within_the_ministry(review, reviewers, supervisors):
    review_claim(review=review, user=reviewers["economy"])
    colleague = ReviewerFactory(username="economy-2", ministry="economy")
    reassigned = review_reassign(review=review, user=supervisors["economy"], assignee=colleague)
    assert (reassigned.status, reassigned.assigned_to) == ("in_progress", colleague)
    event = AuditEvent.objects.get(action="review_reassigned")
    assert event.data["from_user"] == reviewers["economy"].pk
    assert event.data["to_user"] == colleague.pk


def test_a_supervisor_assigns_a_pending_review(review, reviewers, supervisors):
    reassigned = review_reassign(
        review=review, user=supervisors["economy"], assignee=reviewers["economy"]
    )
    assert reassigned.status == "in_progress"


def test_reassigning_keeps_a_stopped_clock_stopped(review, reviewers, supervisors):
    review_request_information(review=review, user=reviewers["economy"], question="?")
    reassigned = review_reassign(
        review=review, user=supervisors["economy"], assignee=reviewers["economy"]
    )
    assert reassigned.status == "awaiting_applicant"


def test_reassigning_needs_a_supervisor_of_the_ministry_and_a_colleague(
    review, reviewers, supervisors
):
    with pytest.raises(NotPermitted):
        review_reassign(review=review, user=reviewers["economy"], assignee=reviewers["economy"])
    with pytest.raises(NotPermitted):
        review_reassign(review=review, user=supervisors["defense"], assignee=reviewers["defense"])
    with pytest.raises(InvalidInput) as error:
        review_reassign(review=review, user=supervisors["economy"], assignee=reviewers["defense"])
    assert "user" in error.value.errors


def test_a_cancelled_review_cannot_be_claimed(review, reviewers, exporter):
    application_withdraw(application=review.application, user=exporter)
    with pytest.raises(TransitionConflict) as error:
        review_claim(review=review, user=reviewers["economy"])
    assert error.value.current_state == "cancelled"


def test_a_review_cannot_ask_while_the_clock_is_stopped(review, reviewers):
    review_request_information(review=review, user=reviewers["economy"], question="First?")
    with pytest.raises(TransitionConflict) as error:
        review_request_information(review=review, user=reviewers["economy"], question="Second?")
    assert error.value.current_state == "awaiting_applicant"


def test_silence_deemed_as_consent_completes_the_review_as_system(review, reviewers):
    from licensing.services.reviews import review_deem_no_objection

    deemed = review_deem_no_objection(review=review, reason="Silence is consent.")
    assert (deemed.status, deemed.recommendation, deemed.deemed) == ("completed", "approve", True)
    event = AuditEvent.objects.get(action="review_deemed")
    assert (event.actor, event.actor_name, event.reason) == (None, "system", "Silence is consent.")
    review.application.refresh_from_db()
    assert review.application.status == "approved"  # it was the only review
    assert review_deem_no_objection(review=review, reason="again") is None


def test_a_stopped_clock_is_never_deemed(review, reviewers):
    from licensing.services.reviews import review_deem_no_objection

    review_request_information(review=review, user=reviewers["economy"], question="?")
    assert review_deem_no_objection(review=review, reason="Silence") is None
    review.refresh_from_db()
    assert review.status == "awaiting_applicant"


def test_referral_sends_the_application_to_the_committee_once(review):
    from licensing.services.reviews import application_refer_to_committee

    application = application_refer_to_committee(review=review, reason="Economy overdue.")
    assert application.status == "disputed"
    assert application.disputed_at is not None
    event = AuditEvent.objects.get(action="referred_to_committee")
    assert (event.actor_name, event.from_state, event.to_state) == (
        "system",
        "under_review",
        "disputed",
    )
    assert application_refer_to_committee(review=review, reason="again") is None
    assert AuditEvent.objects.filter(action="referred_to_committee").count() == 1


def test_only_the_assigned_reviewer_asks_on_an_in_progress_review(review, reviewers):
    review_claim(review=review, user=reviewers["economy"])
    colleague = ReviewerFactory(username="economy-2", ministry="economy")
    with pytest.raises(NotPermitted):
        review_request_information(review=review, user=colleague, question="Who pays?")
    review.refresh_from_db()
    assert review.status == "in_progress"


def test_a_review_left_open_on_a_referred_application_cannot_be_claimed(review, reviewers):
    from licensing.services.reviews import application_refer_to_committee

    application_refer_to_committee(review=review, reason="Overdue.")
    with pytest.raises(TransitionConflict) as error:
        review_claim(review=review, user=reviewers["economy"])
    assert error.value.current_state == "disputed"


def test_a_review_on_a_referred_application_cannot_be_reassigned(review, reviewers, supervisors):
    from licensing.services.reviews import application_refer_to_committee

    application_refer_to_committee(review=review, reason="Overdue.")
    with pytest.raises(TransitionConflict) as error:
        review_reassign(review=review, user=supervisors["economy"], assignee=reviewers["economy"])
    assert error.value.current_state == "disputed"
