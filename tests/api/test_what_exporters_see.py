"""What an exporter reads of its own case through the API: what the case page shows it
(DESIGN §10), no more. Before the decision no ministry's view; in the timeline, no
reviewer's internal step."""

from __future__ import annotations

from datetime import timedelta

import pytest

from licensing.models import AuditEvent, Review
from licensing.services.deadlines import deadlines_sweep
from licensing.services.reviews import review_claim, review_recommend
from tests import factories

pytestmark = pytest.mark.django_db

INTERNAL_STEPS = {"review_claimed", "escalation_step", "review_completed", "review_deemed"}


@pytest.fixture
def disputed_after_escalation(exporter, reviewers):
    """A munitions marketing case to China: Foreign is deemed to consent and Defense is
    escalated to its supervisor (the sweep, a day after Defense's due date), then Defense
    claims and denies it: disputed, undecided."""
    application = factories.submitted(
        exporter, code="ML10", destination="CN", license_type="marketing"
    )
    defense = Review.objects.get(application=application, ministry="defense")
    deadlines_sweep(today=defense.due_date + timedelta(days=1))
    defense.refresh_from_db()
    review_claim(review=defense, user=reviewers["defense"])
    review_recommend(
        review=defense,
        user=reviewers["defense"],
        recommendation="deny",
        reason="Internal: liaison report.",
        criteria=["7"],
    )
    application.refresh_from_db()
    assert application.status == "disputed"
    assert application.decided_at is None
    recorded = set(
        AuditEvent.objects.filter(application=application).values_list("action", flat=True)
    )
    assert recorded >= INTERNAL_STEPS  # the case really has every internal step
    return application


def _reviews(body: dict) -> dict[str, dict]:
    return {review["ministry"]: review for review in body["reviews"]}


def test_the_exporter_reads_no_ministrys_recommendation_on_a_disputed_case(
    api, exporter, reviewers, disputed_after_escalation
):
    body = api(exporter).get(f"/api/v1/applications/{disputed_after_escalation.pk}/").json()

    assert body["audience"] == "exporter"
    assert body["status"] == "disputed"
    for review in body["reviews"]:
        assert review["recommendation"] is None
        assert review["deemed"] is None
    assert {good["outcome"] for good in body["goods"]} == {""}
    assert all(good["refusal_criteria"] == [] for good in body["goods"])


def test_the_exporters_list_withholds_them_too(api, exporter, reviewers, disputed_after_escalation):
    rows = api(exporter).get("/api/v1/applications/").json()["results"]

    (row,) = [r for r in rows if r["id"] == disputed_after_escalation.pk]
    assert {r["recommendation"] for r in row["reviews"]} == {None}


def test_staff_read_each_ministrys_recommendation_on_the_disputed_case(
    api, reviewers, committee_member, disputed_after_escalation
):
    for person in (reviewers["defense"], committee_member):
        body = api(person).get(f"/api/v1/applications/{disputed_after_escalation.pk}/").json()

        assert body["audience"] == "staff"
        reviews = _reviews(body)
        assert reviews["defense"]["recommendation"] == "deny"
        assert reviews["foreign"]["recommendation"] == "approve"
        assert reviews["foreign"]["deemed"] is True


def test_the_exporter_reads_the_recommendations_once_the_committee_decides(
    api, exporter, reviewers, committee_member, disputed_after_escalation
):
    carol = api(committee_member)
    decided = carol.post(
        f"/api/v1/applications/{disputed_after_escalation.pk}/decide/",
        {"decision": "approve", "reason": "Acceptable with conditions."},
        format="json",
    )
    assert decided.status_code == 200

    reviews = _reviews(
        api(exporter).get(f"/api/v1/applications/{disputed_after_escalation.pk}/").json()
    )
    assert reviews["defense"]["recommendation"] == "deny"
    assert reviews["foreign"]["deemed"] is True


def test_the_exporters_events_leave_out_the_reviewers_internal_steps(
    api, exporter, disputed_after_escalation
):
    url = f"/api/v1/applications/{disputed_after_escalation.pk}/events/"
    events = api(exporter).get(url).json()["results"]

    actions = [event["action"] for event in events]
    assert not INTERNAL_STEPS & set(actions)
    assert actions == ["application_submitted", "application_disputed"]
    assert {event["audience"] for event in events} == {"exporter"}


def test_staff_read_every_event_of_the_case(api, reviewers, disputed_after_escalation):
    url = f"/api/v1/applications/{disputed_after_escalation.pk}/events/"
    events = api(reviewers["defense"]).get(url).json()["results"]

    assert {event["action"] for event in events} >= INTERNAL_STEPS


def test_the_case_page_and_the_api_show_the_exporter_the_same_timeline(
    client, api, exporter, disputed_after_escalation
):
    client.force_login(exporter)
    page = client.get(f"/applications/{disputed_after_escalation.pk}/").content.decode()
    url = f"/api/v1/applications/{disputed_after_escalation.pk}/events/"
    api_actions = {event["action"] for event in api(exporter).get(url).json()["results"]}

    on_page = {
        action
        for action in AuditEvent.objects.filter(application=disputed_after_escalation)
        .values_list("action", flat=True)
        .distinct()
        if f'data-action="{action}"' in page
    }
    assert on_page == api_actions
