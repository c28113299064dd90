"""Changing course over the API (DESIGN section 9): amend, changes, decisions per good, appeals."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from licensing.models import Application, License
from tests import factories

pytestmark = pytest.mark.django_db

MUNITIONS = {"code": "ML10", "destination": "CN", "license_type": "marketing"}


def _claimed(api, reviewers, application: Application):
    review = application.reviews.get()
    client = api(reviewers[review.ministry])
    assert client.post(f"/api/v1/reviews/{review.pk}/claim/").status_code == 200
    return client, review


class TestAmend:
    def test_amending_answers_201_with_the_draft_and_a_second_call_409_with_its_id(
        self, api, exporter
    ):
        original = factories.submitted(exporter, destination="CN", goods=2)
        alice = api(exporter)
        created = alice.post(f"/api/v1/applications/{original.pk}/amend/")
        assert created.status_code == 201, created.content
        body = created.json()
        assert (body["status"], body["amendment_of"]) == ("draft", original.pk)
        assert [g["quantity"] for g in body["goods"]] == [10, 10]
        again = alice.post(f"/api/v1/applications/{original.pk}/amend/")
        assert again.status_code == 409
        assert again.json()["current_state"] == "under_review"
        assert (again.json()["code"], again.json()["amendment"]) == ("amendment_exists", body["id"])
        shown = alice.get(f"/api/v1/applications/{original.pk}/").json()
        assert shown["pending_amendment"] == body["id"]
        assert "amend" not in shown["available_transitions"]

    def test_the_changes_endpoint_lists_what_the_amendment_changed(self, api, exporter, reviewers):
        original = factories.submitted(exporter, destination="CN", goods=2)
        alice = api(exporter)
        amendment = alice.post(f"/api/v1/applications/{original.pk}/amend/").json()
        goods = [
            {
                "description": good["description"],
                "control_list_entry": good["control_list_entry"],
                "quantity": good["quantity"],
                "unit_value": good["unit_value"],
                "technology_generation": good["technology_generation"],
            }
            for good in amendment["goods"]
        ]
        goods[0]["quantity"] = 4
        patched = alice.patch(
            f"/api/v1/applications/{amendment['id']}/",
            {"destination": "IN", "goods": goods[:1]},
            format="json",
        )
        assert patched.status_code == 200, patched.content
        changes = alice.get(f"/api/v1/applications/{amendment['id']}/changes/")
        assert changes.status_code == 200
        assert changes.json() == [
            {"field": "destination", "from": "CN", "to": "IN"},
            {"good": 1, "field": "quantity", "from": 10, "to": 4},
            {"good": 2, "change": "removed"},
        ]
        assert alice.post(f"/api/v1/applications/{amendment['id']}/submit/").status_code == 200
        # Staff of the ministries reviewing the amendment see the same list.
        foreign = api(reviewers["foreign"]).get(f"/api/v1/applications/{amendment['id']}/changes/")
        assert foreign.json() == changes.json()
        original_now = alice.get(f"/api/v1/applications/{original.pk}/").json()
        assert (original_now["status"], original_now["superseded_by"]) == (
            "superseded",
            amendment["id"],
        )
        assert {r["status"] for r in original_now["reviews"]} == {"cancelled"}

    def test_amending_a_licence_answers_the_prefilled_draft(self, api, exporter, reviewers):
        license = factories.approved(exporter, reviewers, goods=2).license
        created = api(exporter).post(f"/api/v1/licenses/{license.pk}/amend/")
        assert created.status_code == 201, created.content
        assert created.json()["amends_license"] == license.number
        assert (
            api(exporter).get(f"/api/v1/licenses/{license.pk}/").json()["pending_amendment"]
            == (created.json()["id"])
        )

    def test_amending_a_draft_is_a_conflict_and_another_company_gets_404(
        self, api, exporter, outsider
    ):
        draft = factories.draft(created_by=exporter)
        refused = api(exporter).post(f"/api/v1/applications/{draft.pk}/amend/")
        assert (refused.status_code, refused.json()["current_state"]) == (409, "draft")
        submitted = factories.submitted(exporter)
        assert api(outsider).post(f"/api/v1/applications/{submitted.pk}/amend/").status_code == 404


class TestDecisionsPerGood:
    @pytest.mark.parametrize(
        ("body", "field"),
        [
            (lambda g: {"recommendation": "deny", "reason": "Risk."}, "criteria"),
            (
                lambda g: {"recommendation": "deny", "reason": "Risk.", "criteria": ["42"]},
                "criteria",
            ),
            (
                lambda g: {
                    "recommendation": "approve",
                    "goods": [{"good": g[0], "recommendation": "approve"}],
                },
                "goods",
            ),
            (
                lambda g: {
                    "recommendation": "approve",
                    "goods": [{"good": g[0], "recommendation": "approve"}] * 2
                    + [{"good": g[1], "recommendation": "approve"}],
                },
                "goods",
            ),
            (
                lambda g: {
                    "recommendation": "approve",
                    "reason": "One is fine.",
                    "goods": [
                        {"good": g[0], "recommendation": "approve"},
                        {"good": g[1], "recommendation": "deny"},
                    ],
                },
                "goods",
            ),
            (
                lambda g: {
                    "recommendation": "approve",
                    "goods": [{"good": "first", "recommendation": "approve"}],
                },
                "goods",
            ),
        ],
    )
    def test_bad_per_good_lists_answer_400_naming_the_field(
        self, api, exporter, reviewers, body, field
    ):
        application = factories.submitted(exporter, goods=2)
        client, review = _claimed(api, reviewers, application)
        goods = list(application.goods.order_by("id").values_list("pk", flat=True))
        response = client.post(
            f"/api/v1/reviews/{review.pk}/recommend/", body(goods), format="json"
        )
        assert response.status_code == 400, response.content
        assert field in response.json()
        review.refresh_from_db()
        assert review.status == "in_progress"

    def test_the_exporter_sees_refused_goods_with_criteria_and_no_reviewer(
        self, api, exporter, reviewers
    ):
        application = factories.partially_approved(exporter, reviewers, goods=2, **MUNITIONS)
        body = api(exporter).get(f"/api/v1/applications/{application.pk}/").json()
        assert body["status"] == "partially_approved"
        refused, approved = body["goods"]
        assert refused["outcome"] == "refused"
        assert [c["code"] for c in refused["refusal_criteria"]] == ["2", "7"]
        assert refused["refusal_criteria"][0]["title"].startswith("Respect for human rights")
        assert (approved["outcome"], approved["refusal_criteria"]) == ("approved", [])
        assert "appeal" in body["available_transitions"]
        assert body["appeal_closes_on"] is not None
        text = str(body)
        for reviewer in reviewers.values():
            assert reviewer.username not in text
        assert all("assigned_to" not in review for review in body["reviews"])
        licence = api(exporter).get(f"/api/v1/licenses/{application.license.pk}/").json()
        assert [line["good"] for line in licence["goods"]] == [approved["id"]]
        staff = api(reviewers["defense"]).get(f"/api/v1/applications/{application.pk}/").json()
        defense = next(r for r in staff["reviews"] if r["ministry"] == "defense")
        assert [g["recommendation"] for g in defense["goods"]] == ["deny", "approve"]

    def test_the_committee_decides_per_good_over_the_api(
        self, api, exporter, reviewers, committee_member
    ):
        application = factories.disputed(exporter, reviewers, goods=2)
        goods = list(application.goods.order_by("id").values_list("pk", flat=True))
        carol = api(committee_member)
        missing = carol.post(
            f"/api/v1/applications/{application.pk}/decide/",
            {
                "decision": "approve",
                "reason": "x",
                "goods": [{"good": goods[0], "decision": "approve"}],
            },
            format="json",
        )
        assert (missing.status_code, list(missing.json())[:1]) == (400, ["goods"])
        decided = carol.post(
            f"/api/v1/applications/{application.pk}/decide/",
            {
                "decision": "approve",
                "reason": "The first only.",
                "goods": [
                    {"good": goods[0], "decision": "approve"},
                    {"good": goods[1], "decision": "deny", "criteria": ["4"]},
                ],
            },
            format="json",
        )
        assert decided.status_code == 200, decided.content
        assert (decided.json()["status"], decided.json()["decision"]) == (
            "partially_approved",
            "partial",
        )


class TestAppeals:
    def test_an_appeal_upheld_issues_a_licence(self, api, exporter, reviewers, committee_member):
        application = factories.denied(exporter, reviewers)
        alice = api(exporter)
        appealed = alice.post(
            f"/api/v1/applications/{application.pk}/appeal/", {"grounds": "New end user."}
        )
        assert appealed.status_code == 200, appealed.content
        body = appealed.json()
        assert body["status"] == "under_appeal"
        assert body["appeal"]["grounds"] == "New end user."
        assert body["appeal"]["due_date"] > body["decided_at"][:10]
        twice = alice.post(f"/api/v1/applications/{application.pk}/appeal/", {"grounds": "x"})
        assert (twice.status_code, twice.json()["current_state"]) == (409, "under_appeal")
        queue = api(committee_member).get("/api/v1/applications/", {"status": "under_appeal"})
        assert [a["id"] for a in queue.json()["results"]] == [application.pk]
        upheld = api(committee_member).post(
            f"/api/v1/applications/{application.pk}/decide/",
            {"decision": "approve", "reason": "Upheld."},
        )
        assert upheld.status_code == 200, upheld.content
        assert upheld.json()["status"] == "approved"
        assert upheld.json()["license"]["status"] == "active"
        assert upheld.json()["appeal"]["outcome"] == "upheld"

    def test_an_appeal_dismissed_goes_back_to_denied(
        self, api, exporter, reviewers, committee_member
    ):
        application = factories.denied(exporter, reviewers)
        api(exporter).post(f"/api/v1/applications/{application.pk}/appeal/", {"grounds": "x"})
        dismissed = api(committee_member).post(
            f"/api/v1/applications/{application.pk}/decide/",
            {"decision": "deny", "reason": "Nothing new."},
        )
        assert dismissed.json()["status"] == "denied"
        assert dismissed.json()["appeal"]["outcome"] == "dismissed"
        events = api(exporter).get(f"/api/v1/applications/{application.pk}/events/").json()
        assert "appeal_dismissed" in [e["action"] for e in events["results"]]
        again = api(exporter).post(
            f"/api/v1/applications/{application.pk}/appeal/", {"grounds": "y"}
        )
        assert (again.status_code, again.json()["current_state"], again.json()["code"]) == (
            409,
            "denied",
            "already_appealed",
        )
        not_open = api(committee_member).post(
            f"/api/v1/applications/{application.pk}/decide/",
            {"decision": "approve", "reason": "x"},
        )
        assert (not_open.status_code, not_open.json()["current_state"]) == (409, "denied")

    def test_a_late_appeal_answers_409_appeal_window_closed(
        self, api, exporter, reviewers, settings
    ):
        application = factories.denied(exporter, reviewers)
        later = application.decided_at + timedelta(days=settings.APPEAL_WINDOW_DAYS + 1)
        with time_machine.travel(later):
            late = api(exporter).post(
                f"/api/v1/applications/{application.pk}/appeal/", {"grounds": "Late."}
            )
        assert late.status_code == 409
        assert (late.json()["code"], late.json()["current_state"]) == (
            "appeal_window_closed",
            "denied",
        )
        assert Application.objects.get(pk=application.pk).status == "denied"

    def test_an_appeal_without_grounds_is_400(self, api, exporter, reviewers):
        application = factories.denied(exporter, reviewers)
        response = api(exporter).post(f"/api/v1/applications/{application.pk}/appeal/", {})
        assert (response.status_code, list(response.json())[:1]) == (400, ["grounds"])
        assert not License.objects.filter(application=application).exists()
