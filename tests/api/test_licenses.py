"""Licenses: who sees them, who suspends, reinstates and revokes them."""

from __future__ import annotations

import pytest
from django.db import transaction

from licensing.models import License
from licensing.services.licenses import license_issue
from tests.factories import draft

pytestmark = pytest.mark.django_db


def issued_license(*, exporter, license_type: str = "dual_use_export", destination: str = "DE"):
    """An approved application's license, issued by the service that issues them."""
    application = draft(
        created_by=exporter, license_type=license_type, destination=destination, status="approved"
    )
    with transaction.atomic():
        return license_issue(application=application)


def test_a_defense_supervisor_suspends_reinstates_and_the_committee_revokes(
    api, exporter, supervisors, committee_member
):
    license = issued_license(exporter=exporter)
    boss = api(supervisors["defense"])
    boss_sees = api(committee_member).get(f"/api/v1/licenses/{license.pk}/").json()
    assert boss_sees["available_transitions"] == ["suspend", "revoke"]

    # A Defense supervisor may suspend any licence, so sees every one: this one Defense did
    # not review (issue 13; before, it answered 404).
    assert boss.get("/api/v1/licenses/").json()["count"] == 1
    assert boss.get(f"/api/v1/licenses/{license.pk}/").json()["available_transitions"] == [
        "suspend",
        "revoke",
    ]
    # An Economy supervisor may not, and still sees only cases Economy reviewed.
    assert api(supervisors["economy"]).get(f"/api/v1/licenses/{license.pk}/").status_code == 404

    carol = api(committee_member)
    suspended = carol.post(
        f"/api/v1/licenses/{license.pk}/suspend/", {"reason": "Under investigation."}
    )
    assert suspended.status_code == 200
    assert suspended.json()["status"] == "suspended"
    assert suspended.json()["status_reason"] == "Under investigation."
    assert suspended.json()["available_transitions"] == ["reinstate", "revoke"]

    reinstated = carol.post(f"/api/v1/licenses/{license.pk}/reinstate/", {"reason": "Cleared."})
    assert reinstated.json()["status"] == "active"
    revoked = carol.post(f"/api/v1/licenses/{license.pk}/revoke/", {"reason": "Breach."})
    assert revoked.json()["status"] == "revoked"
    assert revoked.json()["available_transitions"] == []

    again = carol.post(f"/api/v1/licenses/{license.pk}/suspend/", {"reason": "Again."})
    assert again.status_code == 409
    assert again.json()["current_state"] == "revoked"
    assert License.objects.get(pk=license.pk).status == "revoked"


def test_the_exporter_sees_its_license_but_may_not_suspend_it(api, exporter, outsider):
    license = issued_license(exporter=exporter)
    alice = api(exporter)
    assert alice.get("/api/v1/licenses/").json()["count"] == 1
    detail = alice.get(f"/api/v1/licenses/{license.pk}/").json()
    assert detail["number"] == license.number
    assert detail["available_transitions"] == ["amend", "surrender"]  # the holder's verbs
    assert alice.post(f"/api/v1/licenses/{license.pk}/suspend/", {"reason": "x"}).status_code == 403
    assert api(outsider).get(f"/api/v1/licenses/{license.pk}/").status_code == 404
    assert api(outsider).get("/api/v1/licenses/").json()["count"] == 0


def test_a_change_without_a_reason_is_refused(api, exporter, committee_member):
    license = issued_license(exporter=exporter)
    response = api(committee_member).post(f"/api/v1/licenses/{license.pk}/suspend/", {})
    assert response.status_code == 400
    assert "reason" in response.json()
    assert License.objects.get(pk=license.pk).status == "active"


def test_licenses_filter_by_status_and_destination(api, exporter, committee_member):
    german = issued_license(exporter=exporter, destination="DE")
    issued_license(exporter=exporter, destination="US")
    api(committee_member).post(f"/api/v1/licenses/{german.pk}/suspend/", {"reason": "x"})
    alice = api(exporter)
    suspended = alice.get("/api/v1/licenses/?status=suspended").json()["results"]
    assert [lic["number"] for lic in suspended] == [german.number]
    american = alice.get("/api/v1/licenses/?destination=us").json()["results"]
    assert [lic["destination"] for lic in american] == ["US"]
