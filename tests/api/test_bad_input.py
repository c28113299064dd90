"""Whatever a client sends the API, the answer is a JSON 4xx that says what was wrong, never
a 500 (DESIGN §4: "Never a 500 for anything a client can send")."""

from __future__ import annotations

import pytest
import time_machine
from rest_framework.test import APIClient

from licensing.models import Good, License, ShipmentLine
from tests import factories
from tests.api.conftest import draft_payload, token_for

pytestmark = pytest.mark.django_db

ISSUED = "2026-11-01 10:00 +02:00"
HUGE_PAGE = "1000000000000000000"


def _client(user) -> APIClient:
    """A client that receives a server error as the server answers it, not raised."""
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return client


@pytest.fixture
def license(exporter, reviewers) -> License:
    with time_machine.travel(ISSUED, tick=False):
        return factories.approved(exporter, reviewers).license


def _shipment(license: License, **overrides) -> dict:
    line = {"license_good": license.goods.get().pk, "quantity": 1, "value": "1500.00"}
    return {"reference": "AWB-1", "shipped_on": "2026-11-02", "lines": [line], **overrides}


def test_a_shipment_reference_holding_nul_is_a_json_400_naming_it(exporter, license):
    response = _client(exporter).post(
        f"/api/v1/licenses/{license.pk}/shipments/",
        _shipment(license, reference="AWB\x00-1"),
        format="json",
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["reference"] == ["Null characters are not allowed."]
    assert not license.shipments.exists()


def test_a_shipment_sent_again_with_its_reference_is_still_answered_as_recorded(exporter, license):
    alice = _client(exporter)
    url = f"/api/v1/licenses/{license.pk}/shipments/"
    assert alice.post(url, _shipment(license), format="json").status_code == 201

    again = alice.post(url, _shipment(license), format="json")

    assert again.status_code == 200
    assert license.shipments.count() == 1


@pytest.mark.parametrize("zero", ["-0", "-0.00", "-0.0"])
def test_a_unit_value_of_minus_zero_is_stored_and_shown_as_zero(exporter, zero):
    payload = draft_payload()
    payload["goods"][0]["unit_value"] = zero
    alice = _client(exporter)

    created = alice.post("/api/v1/applications/", payload, format="json")

    assert created.status_code == 201
    assert created.json()["goods"][0]["unit_value"] == "0.00"
    assert created.json()["total_value"] == "0.00"
    stored = Good.objects.get(application_id=created.json()["id"]).unit_value
    assert stored == 0 and not stored.is_signed()
    shown = alice.get(f"/api/v1/applications/{created.json()['id']}/").json()
    assert shown["goods"][0]["unit_value"] == "0.00"


def test_a_shipment_line_value_of_minus_zero_is_recorded_as_zero(exporter, license):
    response = _client(exporter).post(
        f"/api/v1/licenses/{license.pk}/shipments/",
        _shipment(
            license, lines=[{"license_good": license.goods.get().pk, "quantity": 1, "value": "-0"}]
        ),
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["lines"][0]["value"] == "0.00"
    assert not ShipmentLine.objects.get().value.is_signed()


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/applications/",
        "/api/v1/licenses/",
        "/api/v1/notifications/",
        "/api/v1/countries/",
        "/api/v1/control-list-entries/",
    ],
)
def test_a_page_past_the_end_of_an_api_list_is_a_json_404(exporter, license, path):
    response = _client(exporter).get(f"{path}?page={HUGE_PAGE}")

    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page."}


def test_a_page_past_the_end_of_the_review_queue_is_a_json_404(reviewers, license):
    response = _client(reviewers["economy"]).get(f"/api/v1/reviews/?page={HUGE_PAGE}")

    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page."}


def test_an_unexpected_error_in_the_api_is_answered_in_json(monkeypatch, exporter, license):
    """Whatever goes wrong inside, an API client is answered in JSON, never a page."""

    def broken(*args, **kwargs):
        raise RuntimeError("the PDF library failed")

    monkeypatch.setattr("licensing.api.views.license_pdf", broken)

    response = _client(exporter).get(f"/api/v1/licenses/{license.pk}/document/")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()
    assert "PDF" not in response.content.decode()  # nothing of the error itself
