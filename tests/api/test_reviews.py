"""The ministry queue and the reviewer's actions."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from licensing.models import Review
from tests.factories import ReviewerFactory, submitted

pytestmark = pytest.mark.django_db

SUNDAY = "2026-11-01 10:00 +02:00"


def _ids(response) -> list[int]:
    return [review["id"] for review in response.json()["results"]]


def test_the_queue_holds_only_the_callers_ministry(api, exporter, reviewers, administrator):
    economy_only = submitted(exporter)
    both = submitted(exporter, military_end_use=True)
    defense_queue = api(reviewers["defense"]).get("/api/v1/reviews/")
    assert [r["application"]["id"] for r in defense_queue.json()["results"]] == [both.pk]
    economy_queue = api(reviewers["economy"]).get("/api/v1/reviews/")
    assert {r["application"]["id"] for r in economy_queue.json()["results"]} == {
        economy_only.pk,
        both.pk,
    }
    assert api(administrator).get("/api/v1/reviews/").json()["count"] == 3
    assert api(exporter).get("/api/v1/reviews/").json()["count"] == 0


def test_overdue_means_open_and_past_the_due_date(api, exporter, reviewers):
    with time_machine.travel(SUNDAY, tick=False) as clock:
        late = submitted(exporter)
        review = Review.objects.get(application=late)
        assert review.due_date.isoformat() == "2026-11-29"
        clock.move_to("2026-11-29 23:00 +02:00")  # the due date itself is not late
        economy = api(reviewers["economy"])
        assert _ids(economy.get("/api/v1/reviews/?overdue=true")) == []
        clock.move_to("2026-11-30 00:30 +02:00")  # local Monday, though still Sunday in UTC
        on_time = submitted(exporter)
        listed = economy.get("/api/v1/reviews/?overdue=true")
        assert _ids(listed) == [review.pk]
        assert listed.json()["results"][0]["overdue"] is True
        assert _ids(economy.get("/api/v1/reviews/?overdue=false")) == [
            Review.objects.get(application=on_time).pk
        ]
        overdue_apps = api(exporter).get("/api/v1/applications/?overdue=true").json()["results"]
        assert [a["id"] for a in overdue_apps] == [late.pk]


def test_a_review_left_open_on_a_referred_case_is_not_overdue_in_the_api_or_the_queue(
    api, client, exporter, reviewers
):
    """One definition of overdue: the API, the queue page and the sweep count only running
    reviews, so a review left open on a case the committee now has is not late."""
    from licensing.services.reviews import application_refer_to_committee

    with time_machine.travel(SUNDAY, tick=False) as clock:
        referred = submitted(exporter)
        review = Review.objects.get(application=referred)
        clock.move_to("2026-12-15 10:00 +02:00")  # weeks past its due date
        application_refer_to_committee(review=review, reason="Overdue.")
        review.refresh_from_db()
        assert review.status == "pending"  # still open, but its clock no longer runs
        economy = api(reviewers["economy"])
        assert _ids(economy.get("/api/v1/reviews/?overdue=true")) == []
        listed = economy.get("/api/v1/reviews/?overdue=false").json()["results"]
        assert [(r["id"], r["overdue"]) for r in listed] == [(review.pk, False)]
        assert api(exporter).get("/api/v1/applications/?overdue=true").json()["results"] == []
        client.force_login(reviewers["economy"])
        assert "(overdue)" not in client.get("/").content.decode()
        assert list(Review.objects.overdue(date(2026, 12, 15))) == []


def test_assigned_to_me_and_status_filters(api, exporter, reviewers):
    mine, other = submitted(exporter), submitted(exporter)
    economy = api(reviewers["economy"])
    mine_review = Review.objects.get(application=mine)
    economy.post(f"/api/v1/reviews/{mine_review.pk}/claim/")
    assert _ids(economy.get("/api/v1/reviews/?assigned_to=me")) == [mine_review.pk]
    assert _ids(economy.get("/api/v1/reviews/?status=pending")) == [
        Review.objects.get(application=other).pk
    ]
    assert economy.get("/api/v1/reviews/?assigned_to=someone").status_code == 400
    apps = economy.get("/api/v1/applications/?assigned_to=me").json()["results"]
    assert [a["id"] for a in apps] == [mine.pk]


def test_a_claimed_review_cannot_be_claimed_again(api, exporter, reviewers):
    review = Review.objects.get(application=submitted(exporter))
    colleague = ReviewerFactory(username="economy-2", ministry="economy")
    assert api(reviewers["economy"]).post(f"/api/v1/reviews/{review.pk}/claim/").status_code == 200
    second = api(colleague).post(f"/api/v1/reviews/{review.pk}/claim/")
    assert second.status_code == 409
    assert second.json()["current_state"] == "in_progress"
    assert Review.objects.get(pk=review.pk).assigned_to == reviewers["economy"]


def test_only_the_assignee_recommends(api, exporter, reviewers):
    review = Review.objects.get(application=submitted(exporter))
    colleague = ReviewerFactory(username="economy-2", ministry="economy")
    api(reviewers["economy"]).post(f"/api/v1/reviews/{review.pk}/claim/")
    other = api(colleague)
    claimed = other.get(f"/api/v1/reviews/{review.pk}/").json()
    assert "recommend" not in claimed["available_transitions"]
    refused = other.post(
        f"/api/v1/reviews/{review.pk}/recommend/", {"recommendation": "approve"}, format="json"
    )
    assert refused.status_code == 403
    assert Review.objects.get(pk=review.pk).status == "in_progress"


def test_recommendations_need_reasons_and_conditions(api, exporter, reviewers):
    review = Review.objects.get(application=submitted(exporter))
    economy = api(reviewers["economy"])
    economy.post(f"/api/v1/reviews/{review.pk}/claim/")
    deny = economy.post(
        f"/api/v1/reviews/{review.pk}/recommend/", {"recommendation": "deny"}, format="json"
    )
    conditional = economy.post(
        f"/api/v1/reviews/{review.pk}/recommend/",
        {"recommendation": "approve_with_conditions"},
        format="json",
    )
    unknown = economy.post(
        f"/api/v1/reviews/{review.pk}/recommend/", {"recommendation": "maybe"}, format="json"
    )
    assert (deny.status_code, list(deny.json())[:1]) == (400, ["reason"])
    assert (conditional.status_code, list(conditional.json())[:1]) == (400, ["conditions"])
    assert (unknown.status_code, list(unknown.json())) == (400, ["recommendation"])


def test_a_supervisor_reassigns_within_the_ministry_by_user_id(
    api, exporter, reviewers, supervisors
):
    review = Review.objects.get(application=submitted(exporter))
    colleague = ReviewerFactory(username="economy-2", ministry="economy")
    boss = api(supervisors["economy"])
    moved = boss.post(f"/api/v1/reviews/{review.pk}/reassign/", {"user": colleague.pk})
    assert moved.status_code == 200
    assert moved.json()["assigned_to"] == {"id": colleague.pk, "username": "economy-2"}
    assert moved.json()["status"] == "in_progress"

    wrong_ministry = boss.post(
        f"/api/v1/reviews/{review.pk}/reassign/", {"user": reviewers["defense"].pk}
    )
    assert wrong_ministry.status_code == 400
    assert "user" in wrong_ministry.json()
    nobody = boss.post(f"/api/v1/reviews/{review.pk}/reassign/", {"user": 999999})
    assert (nobody.status_code, list(nobody.json())) == (400, ["user"])
    by_reviewer = api(reviewers["economy"]).post(
        f"/api/v1/reviews/{review.pk}/reassign/", {"user": colleague.pk}
    )
    assert by_reviewer.status_code == 403
    assert Review.objects.get(pk=review.pk).assigned_to == colleague


def test_a_question_needs_words(api, exporter, reviewers):
    review = Review.objects.get(application=submitted(exporter))
    response = api(reviewers["economy"]).post(
        f"/api/v1/reviews/{review.pk}/request-information/", {"question": ""}, format="json"
    )
    assert response.status_code == 400
    assert "question" in response.json()


def test_an_out_of_range_application_filter_is_a_400_not_an_overflow(api, reviewers):
    response = api(reviewers["economy"]).get("/api/v1/reviews/?application=-4.4e264")
    assert response.status_code == 400
    assert "application" in response.json()
