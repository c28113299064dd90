"""Other parties and screening matches in the API (DESIGN section 8)."""

from __future__ import annotations

import pytest

from licensing.models import AuditEvent, ScreeningMatch
from licensing.services.reviews import review_claim
from tests import factories
from tests.api.conftest import draft_payload

pytestmark = pytest.mark.django_db

PARTIES = [
    {
        "kind": "intermediate_consignee",
        "name": "Rotterdam Freight BV",
        "address": "Maasvlakte 1, Rotterdam",
        "country": "NL",
        "type": "commercial",
    },
    {
        "kind": "ultimate_end_user",
        "name": "Zagros Precision Industries",
        "address": "Tehran Road 4",
        "country": "DE",
        "type": "military",
    },
]


def _create(client, **overrides) -> dict:
    response = client.post("/api/v1/applications/", draft_payload(**overrides), format="json")
    assert response.status_code == 201, response.content
    return response.json()


class TestOtherParties:
    def test_create_and_read_back_every_party(self, api, exporter):
        client = api(exporter)
        created = _create(client, other_parties=PARTIES)
        assert created["other_parties"] == PARTIES
        again = client.get(f"/api/v1/applications/{created['id']}/").json()
        assert again["other_parties"] == PARTIES

    def test_patch_replaces_the_parties_wholesale_and_leaves_them_when_absent(self, api, exporter):
        client = api(exporter)
        created = _create(client, other_parties=PARTIES)
        url = f"/api/v1/applications/{created['id']}/"
        kept = client.patch(url, {"end_use": "Research."}, format="json").json()
        assert kept["other_parties"] == PARTIES
        replaced = client.patch(url, {"other_parties": PARTIES[:1]}, format="json").json()
        assert replaced["other_parties"] == PARTIES[:1]
        emptied = client.patch(url, {"other_parties": []}, format="json").json()
        assert emptied["other_parties"] == []

    @pytest.mark.parametrize(
        ("party", "field"),
        [
            ({**PARTIES[0], "kind": "broker"}, "kind"),
            ({**PARTIES[0], "country": "XX"}, "country"),
            ({k: v for k, v in PARTIES[0].items() if k != "name"}, "name"),
            ({**PARTIES[0], "type": "pirate"}, "type"),
        ],
    )
    def test_a_bad_party_is_a_field_error(self, api, exporter, party, field):
        response = api(exporter).post(
            "/api/v1/applications/", draft_payload(other_parties=[party]), format="json"
        )
        assert response.status_code == 400
        errors = response.json()["other_parties"]
        # DRF lists each party's errors, or (3.15+) maps the party's index to them.
        assert field in (errors[0] if isinstance(errors, list) else errors["0"])

    def test_a_third_party_in_iran_refuses_submission_naming_it(self, api, exporter):
        client = api(exporter)
        party = {**PARTIES[0], "kind": "third_party", "name": "Kish Brokers", "country": "IR"}
        created = _create(client, destination="FR", other_parties=[party])
        response = client.post(f"/api/v1/applications/{created['id']}/submit/")
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == "refused_by_rule"
        assert "third party 'Kish Brokers' is in Iran" in body["non_field_errors"][0]


class TestScreeningMatches:
    @pytest.fixture
    def case(self, api, exporter):
        factories.screening_list()
        client = api(exporter)
        created = _create(client, other_parties=PARTIES)
        response = client.post(f"/api/v1/applications/{created['id']}/submit/")
        assert response.status_code == 200, response.content
        return created["id"]

    def test_staff_see_the_matches_and_the_exporter_never_does(
        self, api, exporter, reviewers, case
    ):
        staff = api(reviewers["economy"]).get(f"/api/v1/applications/{case}/").json()
        [match] = staff["screening_matches"]
        assert {k: match[k] for k in ("party_name", "party_kind", "list", "entry_name")} == {
            "party_name": "Zagros Precision Industries",
            "party_kind": "ultimate_end_user",
            "list": "Sample consolidated list",
            "entry_name": "Zagros Precision Industries",
        }
        assert (match["match"], match["score"], match["status"], match["reason"]) == (
            "exact",
            100,
            "open",
            "",
        )
        mine = api(exporter).get(f"/api/v1/applications/{case}/").json()
        assert "screening_matches" not in mine
        listed = api(exporter).get("/api/v1/applications/").json()["results"]
        assert all("screening_matches" not in a for a in listed)
        hidden = api(exporter).get(f"/api/v1/screening-matches/{match['id']}/")
        assert hidden.status_code == 404

    def test_approval_is_held_with_a_conflict_naming_the_match_until_it_is_cleared(
        self, api, reviewers, case
    ):
        reviewer = api(reviewers["economy"])
        review = review_claim(
            review=ScreeningMatch.objects.get().application.reviews.get(),
            user=reviewers["economy"],
        )
        approve = {"recommendation": "approve"}
        held = reviewer.post(f"/api/v1/reviews/{review.pk}/recommend/", approve, format="json")
        assert held.status_code == 409
        assert held.json()["code"] == "screening_match_open"
        assert "'Zagros Precision Industries'" in held.json()["detail"]
        assert held.json()["current_state"] == "under_review"

        match = ScreeningMatch.objects.get()
        resolved = reviewer.post(
            f"/api/v1/screening-matches/{match.pk}/resolve/",
            {"disposition": "cleared", "reason": "Another company of the same name."},
            format="json",
        )
        assert resolved.status_code == 200, resolved.content
        assert (resolved.json()["status"], resolved.json()["available_transitions"]) == (
            "cleared",
            [],
        )
        assert resolved.json()["resolved_by"]["username"] == "economy-reviewer"
        assert AuditEvent.objects.filter(action="screening_match_resolved").count() == 1

        again = reviewer.post(
            f"/api/v1/screening-matches/{match.pk}/resolve/",
            {"disposition": "confirmed", "reason": "Changed my mind."},
            format="json",
        )
        assert again.status_code == 409
        assert again.json()["current_state"] == "cleared"

        approved = reviewer.post(f"/api/v1/reviews/{review.pk}/recommend/", approve, format="json")
        assert approved.status_code == 200, approved.content

    def test_a_confirmed_match_accepts_only_deny(self, api, reviewers, case):
        reviewer = api(reviewers["economy"])
        match = ScreeningMatch.objects.get()
        review = review_claim(review=match.application.reviews.get(), user=reviewers["economy"])
        reviewer.post(
            f"/api/v1/screening-matches/{match.pk}/resolve/",
            {"disposition": "confirmed", "reason": "Same registry number."},
            format="json",
        )
        url = f"/api/v1/reviews/{review.pk}/recommend/"
        refused = reviewer.post(
            url,
            {"recommendation": "approve_with_conditions", "conditions": "Checks."},
            format="json",
        )
        assert (refused.status_code, refused.json()["code"]) == (409, "screening_match_confirmed")
        denied = reviewer.post(
            url,
            {"recommendation": "deny", "reason": "A listed party.", "criteria": ["1"]},
            format="json",
        )
        assert denied.status_code == 200
        assert match.application.__class__.objects.get(pk=case).status == "denied"

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"disposition": "maybe", "reason": "?"}, "disposition"),
            ({"disposition": "open", "reason": "?"}, "disposition"),
            ({"disposition": "cleared"}, "reason"),
            ({"disposition": "cleared", "reason": ""}, "reason"),
        ],
    )
    def test_a_bad_resolution_is_a_field_error(self, api, reviewers, case, body, field):
        match = ScreeningMatch.objects.get()
        response = api(reviewers["economy"]).post(
            f"/api/v1/screening-matches/{match.pk}/resolve/", body, format="json"
        )
        assert response.status_code == 400
        assert field in response.json()
        match.refresh_from_db()
        assert match.status == "open"

    def test_who_may_resolve(self, api, reviewers, supervisors, administrator, case):
        match = ScreeningMatch.objects.get()
        url = f"/api/v1/screening-matches/{match.pk}/resolve/"
        body = {"disposition": "cleared", "reason": "Namesake."}
        # Defense reviews no part of a dual-use case to Germany: it does not even see it.
        assert api(reviewers["defense"]).post(url, body, format="json").status_code == 404
        assert api(administrator).post(url, body, format="json").status_code == 403
        listed = api(supervisors["economy"]).get("/api/v1/screening-matches/").json()
        assert [m["id"] for m in listed["results"]] == [match.pk]
        assert listed["results"][0]["available_transitions"] == ["resolve"]
        assert api(supervisors["economy"]).post(url, body, format="json").status_code == 200

    def test_the_list_filters_by_status(self, api, reviewers, case):
        client = api(reviewers["economy"])
        assert client.get("/api/v1/screening-matches/", {"status": "open"}).json()["count"] == 1
        assert client.get("/api/v1/screening-matches/", {"status": "cleared"}).json()["count"] == 0
        assert client.get("/api/v1/screening-matches/", {"status": "bogus"}).status_code == 400

    def test_a_blocking_list_refuses_submission(self, api, exporter):
        factories.screening_list("Denied persons", blocking=True)
        client = api(exporter)
        created = _create(client, other_parties=PARTIES)
        response = client.post(f"/api/v1/applications/{created['id']}/submit/")
        assert response.status_code == 400
        assert response.json()["code"] == "refused_by_screening"
        assert (
            "ultimate end user 'Zagros Precision Industries'"
            in (response.json()["non_field_errors"][0])
        )

    def test_the_exporters_timeline_never_mentions_screening(self, api, exporter, reviewers, case):
        match = ScreeningMatch.objects.get()
        api(reviewers["economy"]).post(
            f"/api/v1/screening-matches/{match.pk}/resolve/",
            {"disposition": "cleared", "reason": "Namesake."},
            format="json",
        )
        url = f"/api/v1/applications/{case}/events/"
        staff = [e["action"] for e in api(reviewers["economy"]).get(url).json()["results"]]
        mine = [e["action"] for e in api(exporter).get(url).json()["results"]]
        assert "screening_match_resolved" in staff
        assert mine == [a for a in staff if not a.startswith("screening_")]
