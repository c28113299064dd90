"""Whole cases driven through the API, as exporters, ministries and the committee would."""

from __future__ import annotations

import pytest
import time_machine

from licensing.models import Application, AuditEvent, License, Review
from tests import factories
from tests.api.conftest import draft_payload
from tests.factories import draft, submitted

pytestmark = pytest.mark.django_db

# Sunday 1 November 2026, a working day in Israel (Sunday to Thursday).
SUNDAY = "2026-11-01 10:00 +02:00"
TUESDAY = "2026-11-03 10:00 +02:00"
THURSDAY = "2026-11-05 10:00 +02:00"
NEXT_SUNDAY = "2026-11-08 10:00 +02:00"

COOLER = {
    "description": "Miniature cryogenic cooler",
    "control_list_entry": "6A003",
    "quantity": 4,
    "unit_value": "2500.50",
    "technology_generation": "current",
}


def _reviews(body: dict) -> dict[str, dict]:
    return {review["ministry"]: review for review in body["reviews"]}


def _claim_and_recommend(client, review_id: int, recommendation: str, **extra) -> dict:
    assert client.post(f"/api/v1/reviews/{review_id}/claim/").status_code == 200
    if recommendation == "deny":
        extra.setdefault("criteria", ["7"])
    response = client.post(
        f"/api/v1/reviews/{review_id}/recommend/",
        {"recommendation": recommendation, **extra},
        format="json",
    )
    assert response.status_code == 200, response.json()
    return response.json()


class TestACompleteCase:
    def test_draft_to_license_with_a_question_that_moves_every_due_date(
        self, api, exporter, reviewers, supervisors
    ):
        alice = api(exporter)
        economy, foreign, defense = (api(reviewers[m]) for m in ("economy", "foreign", "defense"))
        with time_machine.travel(SUNDAY, tick=False) as clock:
            created = alice.post(
                "/api/v1/applications/",
                draft_payload(destination="CN", goods=[COOLER]),
                format="json",
            )
            assert created.status_code == 201
            body = created.json()
            assert body["status"] == "draft"
            assert body["reference"].startswith("EXP-2026-")
            assert body["total_value"] == "10002.00"
            assert body["goods"][0]["control_list_entry"] == "6A003"
            assert body["available_transitions"] == ["submit", "withdraw"]
            app = body["id"]

            submitted = alice.post(f"/api/v1/applications/{app}/submit/")
            assert submitted.status_code == 200
            body = submitted.json()
            assert body["status"] == "under_review"
            assert body["available_transitions"] == ["withdraw", "amend"]
            # Received on Sunday 1 November: N working days later, Fridays and Saturdays off.
            assert {m: r["due_date"] for m, r in _reviews(body).items()} == {
                "foreign": "2026-11-08",
                "defense": "2026-11-22",
                "economy": "2026-11-29",
            }
            # The exporter learns which ministries review it, never the rules (DESIGN §10);
            # staff see each rule and version that applied.
            assert sorted(body["routing"], key=lambda r: r["ministry"]) == [
                {"ministry": "defense", "action": "require_review"},
                {"ministry": "economy", "action": "require_review"},
                {"ministry": "foreign", "action": "require_review"},
            ]
            staff_routing = defense.get(f"/api/v1/applications/{app}/").json()["routing"]
            assert {(r["rule_id"], r["ministry"]) for r in staff_routing} == {
                (3, "economy"),
                (5, "foreign"),
                (7, "defense"),
            }
            assert all(r["version"] is not None and r["explanation"] for r in staff_routing)
            review_ids = {m: r["id"] for m, r in _reviews(body).items()}

            # Tuesday: Economy claims its review and asks a question; every clock stops.
            clock.move_to(TUESDAY)
            assert (
                economy.post(f"/api/v1/reviews/{review_ids['economy']}/claim/").status_code == 200
            )
            asked = economy.post(
                f"/api/v1/reviews/{review_ids['economy']}/request-information/",
                {"question": "Who operates the cameras?"},
                format="json",
            )
            assert asked.status_code == 200
            assert asked.json()["status"] == "awaiting_applicant"
            body = alice.get(f"/api/v1/applications/{app}/").json()
            assert body["status"] == "information_requested"
            assert body["available_transitions"] == ["respond", "withdraw", "amend"]
            assert body["information_requests"][0]["question"] == "Who operates the cameras?"
            assert {r["status"] for r in body["reviews"]} == {"awaiting_applicant"}

            # Thursday: the answer restarts the clocks, two working days later.
            clock.move_to(THURSDAY)
            answered = alice.post(
                f"/api/v1/applications/{app}/respond/",
                {"answer": "The municipal fire brigade."},
                format="json",
            )
            assert answered.status_code == 200
            body = answered.json()
            assert body["status"] == "under_review"
            assert {m: (r["status"], r["due_date"]) for m, r in _reviews(body).items()} == {
                "foreign": ("pending", "2026-11-10"),
                "defense": ("pending", "2026-11-24"),
                "economy": ("in_progress", "2026-12-01"),
            }

            clock.move_to(NEXT_SUNDAY)
            _claim_and_recommend(foreign, review_ids["foreign"], "approve")
            _claim_and_recommend(
                defense,
                review_ids["defense"],
                "approve_with_conditions",
                conditions="No re-export without written consent.",
                reason="Internal: end user vetted by liaison.",
            )
            # Economy claimed its review before asking, so it only recommends.
            last = economy.post(
                f"/api/v1/reviews/{review_ids['economy']}/recommend/",
                {"recommendation": "approve"},
                format="json",
            )
            assert last.json()["application"]["status"] == "approved"

            body = alice.get(f"/api/v1/applications/{app}/").json()
            assert body["status"] == "approved"
            assert body["decision"] == "approve"
            assert body["available_transitions"] == []
            license = body["license"]
            assert license["status"] == "active"
            assert license["conditions"] == "Defense: No re-export without written consent."
            assert license["valid_from"] == "2026-11-08"
            # Dual-use export licenses run one year.
            assert license["valid_until"] == "2027-11-07"
            assert (
                alice.get("/api/v1/licenses/").json()["results"][0]["number"] == license["number"]
            )
            events = alice.get(f"/api/v1/applications/{app}/events/").json()["results"]
            assert [e["action"] for e in events][-2:] == ["application_approved", "license_issued"]
            subjects = [n["event"] for n in alice.get("/api/v1/notifications/").json()["results"]]
            assert subjects[0] == "application_decided"

    def test_the_exporter_sees_which_ministries_review_but_no_rule_or_list(
        self, api, exporter, reviewers
    ):
        application = submitted(exporter, code="ML10", destination="CN", license_type="marketing")
        as_exporter = api(exporter).get(f"/api/v1/applications/{application.pk}/").json()
        as_reviewer = api(reviewers["defense"]).get(f"/api/v1/applications/{application.pk}/")
        staff_routing = as_reviewer.json()["routing"]
        assert {r["ministry"] for r in staff_routing} == {"defense", "foreign"}
        assert all(r["rule_name"] and r["explanation"] for r in staff_routing)
        # DESIGN §10: never rule numbers or country-list names.
        assert as_exporter["routing"] == [
            {"ministry": r["ministry"], "action": r["action"]} for r in staff_routing
        ]

    def test_the_exporter_never_receives_reviewers_internal_fields(self, api, exporter, reviewers):
        application = draft(created_by=exporter, destination="DE", military_end_use=True)
        alice = api(exporter)
        alice.post(f"/api/v1/applications/{application.pk}/submit/")
        review = Review.objects.get(application=application, ministry="defense")
        _claim_and_recommend(
            api(reviewers["defense"]), review.pk, "deny", reason="Secret: intelligence report 7."
        )
        as_exporter = alice.get(f"/api/v1/applications/{application.pk}/")
        as_reviewer = api(reviewers["defense"]).get(f"/api/v1/applications/{application.pk}/")

        assert as_exporter.json()["audience"] == "exporter"
        assert "Secret" not in as_exporter.content.decode()
        assert set(_reviews(as_exporter.json())["defense"]) == {
            "id",
            "ministry",
            "status",
            "due_date",
            "recommendation",
            "deemed",
            "escalation_level",
        }
        assert _reviews(as_reviewer.json())["defense"]["reason"] == "Secret: intelligence report 7."
        assert _reviews(as_reviewer.json())["defense"]["assigned_to"]["username"] == (
            "defense-reviewer"
        )
        events = alice.get(f"/api/v1/applications/{application.pk}/events/")
        assert "Secret" not in events.content.decode()
        staff_events = api(reviewers["defense"]).get(
            f"/api/v1/applications/{application.pk}/events/"
        )
        assert "Secret" in staff_events.content.decode()


class TestADisputedCase:
    def test_the_committee_decides_when_the_ministries_disagree(
        self, api, exporter, reviewers, committee_member
    ):
        application = draft(created_by=exporter, destination="DE", military_end_use=True)
        alice, carol = api(exporter), api(committee_member)
        body = alice.post(f"/api/v1/applications/{application.pk}/submit/").json()
        assert set(_reviews(body)) == {"economy", "defense"}
        assert carol.get(f"/api/v1/applications/{application.pk}/").status_code == 404

        _claim_and_recommend(
            api(reviewers["defense"]), _reviews(body)["defense"]["id"], "deny", reason="Risk."
        )
        _claim_and_recommend(api(reviewers["economy"]), _reviews(body)["economy"]["id"], "approve")

        seen = carol.get(f"/api/v1/applications/{application.pk}/").json()
        assert seen["status"] == "disputed"
        assert seen["available_transitions"] == ["decide"]
        assert (
            alice.get(f"/api/v1/applications/{application.pk}/").json()["available_transitions"]
            == []
        )
        decided = carol.post(
            f"/api/v1/applications/{application.pk}/decide/",
            {"decision": "approve", "reason": "Civil use outweighs the risk."},
            format="json",
        )
        assert decided.status_code == 200
        assert decided.json()["status"] == "approved"
        assert decided.json()["decision_reason"] == "Civil use outweighs the risk."
        assert decided.json()["license"]["status"] == "active"

        again = carol.post(
            f"/api/v1/applications/{application.pk}/decide/",
            {"decision": "deny", "reason": "Second thoughts.", "criteria": ["1"]},
            format="json",
        )
        assert again.status_code == 409
        assert again.json()["current_state"] == "approved"

    def test_the_committee_approving_adds_conditions_the_license_carries(
        self, api, exporter, reviewers, committee_member
    ):
        application = factories.disputed(exporter, reviewers)
        carol = api(committee_member)
        url = f"/api/v1/applications/{application.pk}/decide/"
        refused = carol.post(
            url,
            {"decision": "deny", "reason": "Risk.", "conditions": "No resale."},
            format="json",
        )
        assert refused.status_code == 400
        assert refused.json()["conditions"] == ["Conditions go with an approval, not a denial."]
        decided = carol.post(
            url,
            {
                "decision": "approve",
                "reason": "Acceptable with end-use checks.",
                "conditions": "Post-shipment verification within 6 months.",
            },
            format="json",
        )
        assert decided.status_code == 200, decided.content
        license = License.objects.get(application=application)
        assert license.conditions.splitlines()[-1] == (
            "Committee: Post-shipment verification within 6 months."
        )
        event = AuditEvent.objects.get(application=application, action="committee_decided")
        assert event.data["conditions"] == "Post-shipment verification within 6 months."


class TestRefusalsAndWithdrawal:
    def test_an_embargoed_destination_is_refused_with_the_rules_message(self, api, exporter):
        alice = api(exporter)
        app = alice.post(
            "/api/v1/applications/", draft_payload(destination="IR"), format="json"
        ).json()["id"]
        refused = alice.post(f"/api/v1/applications/{app}/submit/")
        assert refused.status_code == 400
        assert refused.json()["non_field_errors"] == [
            "Exports to this destination are embargoed: the application cannot be submitted."
        ]
        assert refused.json()["code"] == "refused_by_rule"
        assert Application.objects.get(pk=app).status == "draft"

    def test_an_incomplete_draft_names_what_is_missing(self, api, exporter):
        alice = api(exporter)
        app = alice.post(
            "/api/v1/applications/",
            {"license_type": "export", "destination": "US"},
            format="json",
        ).json()["id"]
        refused = alice.post(f"/api/v1/applications/{app}/submit/")
        assert refused.status_code == 400
        assert {"goods", "end_user", "end_use"} <= set(refused.json())

    def test_the_exporter_withdraws_and_the_reviews_are_cancelled(self, api, exporter):
        application = draft(created_by=exporter)
        alice = api(exporter)
        alice.post(f"/api/v1/applications/{application.pk}/submit/")
        withdrawn = alice.post(
            f"/api/v1/applications/{application.pk}/withdraw/",
            {"reason": "Customer cancelled."},
            format="json",
        )
        assert withdrawn.status_code == 200
        assert withdrawn.json()["status"] == "withdrawn"
        assert {r["status"] for r in withdrawn.json()["reviews"]} == {"cancelled"}
        assert withdrawn.json()["available_transitions"] == []

        again = alice.post(f"/api/v1/applications/{application.pk}/withdraw/")
        assert again.status_code == 409
        assert again.json()["current_state"] == "withdrawn"

    def test_submitting_twice_is_a_conflict_naming_the_state(self, api, exporter):
        application = draft(created_by=exporter)
        alice = api(exporter)
        assert alice.post(f"/api/v1/applications/{application.pk}/submit/").status_code == 200
        second = alice.post(f"/api/v1/applications/{application.pk}/submit/")
        assert second.status_code == 409
        assert second.json()["current_state"] == "under_review"
        assert Review.objects.filter(application=application).count() == 1


class TestDrafts:
    def test_editing_a_draft_replaces_its_goods_and_parties(self, api, exporter):
        alice = api(exporter)
        app = alice.post("/api/v1/applications/", draft_payload(), format="json").json()["id"]
        edited = alice.patch(
            f"/api/v1/applications/{app}/",
            {
                "end_use": "Firefighting cameras.",
                "consignee": {
                    "name": "Hafen Logistik GmbH",
                    "address": "Kai 1, Hamburg",
                    "country": "DE",
                    "type": "commercial",
                },
                "goods": [{**COOLER, "quantity": 1}, {**COOLER, "control_list_entry": "ML10"}],
            },
            format="json",
        )
        assert edited.status_code == 200
        body = edited.json()
        assert body["end_use"] == "Firefighting cameras."
        assert body["consignee"]["name"] == "Hafen Logistik GmbH"
        assert [g["control_list_entry"] for g in body["goods"]] == ["6A003", "ML10"]
        assert body["total_value"] == "12502.50"
        assert body["end_user"]["name"] == "Fraunhofer Demo Institute"

        cleared = alice.patch(f"/api/v1/applications/{app}/", {"consignee": None}, format="json")
        assert cleared.json()["consignee"] is None

    def test_a_submitted_application_cannot_be_edited_or_deleted(self, api, exporter):
        application = draft(created_by=exporter)
        alice = api(exporter)
        alice.post(f"/api/v1/applications/{application.pk}/submit/")
        edit = alice.patch(
            f"/api/v1/applications/{application.pk}/", {"end_use": "x"}, format="json"
        )
        delete = alice.delete(f"/api/v1/applications/{application.pk}/")
        assert (edit.status_code, edit.json()["current_state"]) == (409, "under_review")
        assert (delete.status_code, delete.json()["current_state"]) == (409, "under_review")

    def test_a_draft_can_be_deleted(self, api, exporter):
        application = draft(created_by=exporter)
        assert api(exporter).delete(f"/api/v1/applications/{application.pk}/").status_code == 204
        assert not Application.objects.filter(pk=application.pk).exists()

    def test_the_marketing_license_is_given_by_its_number(self, api, exporter, outsider):
        from tests.api.test_licenses import issued_license

        mine = issued_license(exporter=exporter, license_type="marketing", destination="US")
        theirs = issued_license(exporter=outsider, license_type="marketing", destination="US")
        alice = api(exporter)
        ok = alice.post(
            "/api/v1/applications/",
            draft_payload(license_type="export", marketing_license=mine.number),
            format="json",
        )
        assert ok.status_code == 201
        assert ok.json()["marketing_license"] == mine.number
        # Another company's number does not exist, as far as this exporter can tell.
        other = alice.post(
            "/api/v1/applications/",
            draft_payload(license_type="export", marketing_license=theirs.number),
            format="json",
        )
        assert other.status_code == 400
        assert "marketing_license" in other.json()


class TestValidation:
    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"destination": "XX"}, "destination"),
            ({"end_user": {**draft_payload()["end_user"], "country": "ZZ"}}, "end_user"),
            ({"goods": [{**COOLER, "control_list_entry": "NOPE1"}]}, "goods"),
            ({"goods": [{**COOLER, "quantity": 0}]}, "goods"),
            ({"goods": [{**COOLER, "unit_value": "-1.00"}]}, "goods"),
            ({"goods": [{**COOLER, "currency": "XYZ"}]}, "goods"),
            ({"currency": "DOLLARS"}, "currency"),
            ({"goods": [{**COOLER, "description": "x" * 501}]}, "goods"),
            ({"end_use": "x" * 5001}, "end_use"),
            ({"license_type": "forever"}, "license_type"),
        ],
    )
    def test_bad_input_is_a_400_naming_the_field(self, api, exporter, change, field):
        response = api(exporter).post(
            "/api/v1/applications/", draft_payload(**change), format="json"
        )
        assert response.status_code == 400
        assert field in response.json()
        assert not Application.objects.exists()

    def test_a_good_priced_in_another_currency_is_refused(self, api, exporter):
        response = api(exporter).post(
            "/api/v1/applications/",
            draft_payload(currency="EUR", goods=[{**COOLER, "currency": "USD"}]),
            format="json",
        )
        assert response.status_code == 400
        assert "goods" in response.json()

    def test_the_goods_error_names_the_good_and_its_field(self, api, exporter):
        response = api(exporter).post(
            "/api/v1/applications/",
            draft_payload(goods=[COOLER, {**COOLER, "quantity": -3}]),
            format="json",
        )
        assert response.status_code == 400
        # DRF keys a list's errors by the position of the item in error.
        assert response.json()["goods"] == {
            "1": {"quantity": ["Ensure this value is greater than or equal to 1."]}
        }


class TestAuthentication:
    def test_a_token_is_issued_for_a_username_and_password(self, api, exporter):
        response = api(None).post(
            "/api/v1/auth/token/",
            {"username": "alice", "password": "demo-password"},
            format="json",
        )
        assert response.status_code == 200
        token = response.json()["token"]
        listed = api(None).get("/api/v1/applications/", HTTP_AUTHORIZATION=f"Token {token}")
        assert listed.status_code == 200

    def test_anonymous_callers_get_401_with_a_challenge(self, api):
        response = api(None).get("/api/v1/applications/")
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"

    def test_a_session_needs_the_csrf_token_to_change_anything(self, exporter):
        from rest_framework.test import APIClient

        browser = APIClient(enforce_csrf_checks=True)
        browser.force_login(exporter)
        assert browser.get("/api/v1/applications/").status_code == 200
        refused = browser.post("/api/v1/applications/", draft_payload(), format="json")
        assert refused.status_code == 403
        assert "CSRF" in refused.json()["detail"]

        browser.get("/accounts/login/")  # sets the csrftoken cookie
        token = browser.cookies["csrftoken"].value
        accepted = browser.post(
            "/api/v1/applications/", draft_payload(), format="json", HTTP_X_CSRFTOKEN=token
        )
        assert accepted.status_code == 201
