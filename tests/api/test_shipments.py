"""Section 7 over the API: licence goods, shipments and their refusals, surrender, the document."""

from __future__ import annotations

from io import BytesIO

import pytest
import time_machine
from pypdf import PdfReader

from licensing.models import AuditEvent, License, Shipment
from licensing.services.licenses import license_suspend
from tests import factories

pytestmark = pytest.mark.django_db

ISSUED = "2026-11-01 10:00 +02:00"


@pytest.fixture
def license(exporter, reviewers) -> License:
    """Two lines of 10 coolers at 1,500 USD, valid 1 November 2026 to 31 October 2027."""
    with time_machine.travel(ISSUED, tick=False):
        return factories.approved(exporter, reviewers, goods=2).license


@pytest.fixture
def goods(api, exporter, license) -> list[dict]:
    return api(exporter).get(f"/api/v1/licenses/{license.pk}/").json()["goods"]


def _body(goods, reference="AWB-1", shipped_on="2026-11-02", **lines) -> dict:
    """`first=(3, "4500")`: a line for the licence's first good."""
    picked = [("first", 0), ("second", 1)]
    return {
        "reference": reference,
        "shipped_on": shipped_on,
        "lines": [
            {"license_good": goods[i]["id"], "quantity": lines[name][0], "value": lines[name][1]}
            for name, i in picked
            if name in lines
        ],
    }


def _url(license) -> str:
    return f"/api/v1/licenses/{license.pk}/shipments/"


def test_a_licence_lists_its_goods_with_used_and_remaining(goods, license):
    assert len(goods) == 2
    application_good = license.application.goods.order_by("id").first()
    assert goods[0] == {
        "id": goods[0]["id"],
        "good": application_good.pk,
        "description": "Miniature cryogenic cooler",
        "control_list_entry": "6A003",
        "quantity": 10,
        "value": "15000.00",
        "currency": "USD",
        "used_quantity": 0,
        "used_value": "0.00",
        "remaining_quantity": 10,
        "remaining_value": "15000.00",
    }


def test_a_shipment_is_recorded_with_the_licences_updated_goods(api, exporter, license, goods):
    response = api(exporter).post(
        _url(license), _body(goods, first=(3, "4500"), second=(1, "1500.5")), format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "reference", "shipped_on", "lines", "created_at", "license"}
    assert body["reference"] == "AWB-1"
    assert body["shipped_on"] == "2026-11-02"
    assert body["lines"] == [
        {"license_good": goods[0]["id"], "quantity": 3, "value": "4500.00"},
        {"license_good": goods[1]["id"], "quantity": 1, "value": "1500.50"},
    ]
    first, second = body["license"]["goods"]
    assert (first["used_quantity"], first["remaining_quantity"]) == (3, 7)
    assert (first["used_value"], first["remaining_value"]) == ("4500.00", "10500.00")
    assert (second["remaining_quantity"], second["remaining_value"]) == (9, "13499.50")
    listed = api(exporter).get(_url(license)).json()
    assert listed["count"] == 1
    assert listed["results"][0]["id"] == body["id"]


def test_the_same_reference_and_body_answers_200_and_deducts_nothing(api, exporter, license, goods):
    alice = api(exporter)
    body = _body(goods, first=(3, "4500"))
    created = alice.post(_url(license), body, format="json")
    replayed = alice.post(_url(license), body, format="json")
    assert (created.status_code, replayed.status_code) == (201, 200)
    assert replayed.json()["id"] == created.json()["id"]
    assert replayed.json()["license"]["goods"][0]["used_quantity"] == 3
    assert AuditEvent.objects.filter(action="shipment_recorded").count() == 1


def test_the_same_reference_with_another_body_answers_409(api, exporter, license, goods):
    alice = api(exporter)
    alice.post(_url(license), _body(goods, first=(3, "4500")), format="json")
    other = alice.post(_url(license), _body(goods, first=(4, "6000")), format="json")
    assert other.status_code == 409
    assert other.json()["code"] == "reference_reused"
    assert "AWB-1" in other.json()["detail"]
    assert Shipment.objects.get().lines.get().quantity == 3


def test_a_line_over_what_remains_answers_409_and_records_nothing(api, exporter, license, goods):
    alice = api(exporter)
    response = alice.post(
        _url(license), _body(goods, first=(2, "3000"), second=(11, "16500")), format="json"
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "exceeds_remaining"
    assert body["current_state"] == "active"
    assert body["errors"]["lines[1].quantity"] == [
        "Line 2 (Miniature cryogenic cooler, 6A003): quantity 11 exceeds the remaining 10."
    ]
    assert "Line 2" in body["errors"]["lines[1].value"][0]
    assert not Shipment.objects.exists()
    after = alice.get(f"/api/v1/licenses/{license.pk}/").json()["goods"]
    assert [g["used_quantity"] for g in after] == [0, 0]  # not even the line that fitted


def test_a_value_over_what_remains_answers_409(api, exporter, license, goods):
    response = api(exporter).post(_url(license), _body(goods, first=(1, "15000.01")), format="json")
    assert response.status_code == 409
    assert list(response.json()["errors"]) == ["lines[0].value"]


@pytest.mark.parametrize(
    ("lines", "field", "message"),
    [
        (
            [{"license_good": 999999, "quantity": 1, "value": "1"}],
            "lines[0].license_good",
            "999999",
        ),
        (
            [{"license_good": "GOOD", "quantity": 1, "value": "1"}],
            "lines[0].license_good",
            "Line 1",
        ),
        ("FIRST:0", "lines[0].quantity", "Line 1: quantity"),
        ("FIRST:-2", "lines[0].quantity", "Line 1: quantity"),
        ("VALUE:-1", "lines[0].value", "Line 1: value"),
        ("MISSING", "lines[0].value", "Line 1: value"),
        ([], "lines", "empty"),
        ("TWICE", "lines[1].license_good", "Line 2"),
    ],
)
def test_bad_lines_answer_400_naming_the_line_and_field(
    api, exporter, license, goods, lines, field, message
):
    first = goods[0]["id"]
    if lines == "TWICE":
        lines = [{"license_good": first, "quantity": 1, "value": "1"}] * 2
    elif lines == "MISSING":
        lines = [{"license_good": first, "quantity": 1}]
    elif isinstance(lines, str):
        kind, number = lines.split(":")
        quantity, value = (int(number), "1") if kind == "FIRST" else (1, number)
        lines = [{"license_good": first, "quantity": quantity, "value": value}]
    body = {"reference": "AWB-9", "shipped_on": "2026-11-02", "lines": lines}
    response = api(exporter).post(_url(license), body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert message in " ".join(response.json()[field])
    assert not Shipment.objects.exists()


def test_a_line_of_another_licence_answers_400(api, exporter, reviewers, license, goods):
    with time_machine.travel(ISSUED, tick=False):
        other = factories.approved(exporter, reviewers).license
    foreign = other.goods.get().pk
    body = {
        "reference": "AWB-1",
        "shipped_on": "2026-11-02",
        "lines": [{"license_good": foreign, "quantity": 1, "value": "1"}],
    }
    response = api(exporter).post(_url(license), body, format="json")
    assert response.status_code == 400
    assert "is not a good of license" in response.json()["lines[0].license_good"][0]


def test_missing_fields_answer_400(api, exporter, license):
    response = api(exporter).post(_url(license), {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) >= {"reference", "shipped_on", "lines"}


@pytest.mark.parametrize("day", ["2026-10-31", "2027-11-01"])
def test_a_shipping_date_outside_the_validity_answers_409(api, exporter, license, goods, day):
    response = api(exporter).post(
        _url(license), _body(goods, shipped_on=day, first=(1, "1500")), format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "outside_validity"


def test_a_licence_not_active_answers_409_with_its_state(
    api, exporter, license, goods, supervisors
):
    license_suspend(license=license, user=supervisors["defense"], reason="Inquiry")
    response = api(exporter).post(_url(license), _body(goods, first=(1, "1500")), format="json")
    assert response.status_code == 409
    assert response.json()["current_state"] == "suspended"


def test_shipping_everything_exhausts_the_licence(api, exporter, license, goods):
    alice = api(exporter)
    last = _body(goods, first=(10, "15000"), second=(10, "15000"))
    done = alice.post(_url(license), last, format="json")
    assert done.status_code == 201
    assert done.json()["license"]["status"] == "exhausted"
    assert done.json()["license"]["available_transitions"] == []
    more = alice.post(_url(license), _body(goods, reference="AWB-2", first=(1, "0")), format="json")
    assert more.status_code == 409
    assert more.json()["current_state"] == "exhausted"
    assert alice.post(_url(license), last, format="json").status_code == 200  # its retry
    events = alice.get(f"/api/v1/applications/{license.application_id}/events/").json()
    assert "license_exhausted" in [e["action"] for e in events["results"]]


def test_only_the_holders_exporters_ship(
    api, exporter, outsider, reviewers, committee_member, license, goods
):
    body = _body(goods, first=(1, "1500"))
    assert api(outsider).post(_url(license), body, format="json").status_code == 404
    assert api(outsider).get(_url(license)).status_code == 404
    assert api(committee_member).post(_url(license), body, format="json").status_code == 403
    assert api(committee_member).get(_url(license)).status_code == 200
    assert api(None).post(_url(license), body, format="json").status_code == 401
    assert not Shipment.objects.exists()


def test_the_holder_surrenders_its_licence(api, exporter, committee_member, license):
    url = f"/api/v1/licenses/{license.pk}/surrender/"
    assert api(committee_member).post(url, {"reason": "x"}).status_code == 403
    assert api(exporter).post(url, {}).status_code == 400
    response = api(exporter).post(url, {"reason": "The contract was cancelled."})
    assert response.status_code == 200
    assert response.json()["status"] == "surrendered"
    assert api(exporter).post(url, {"reason": "Again."}).status_code == 409


def test_the_verification_url_is_absolute_from_site_url(api, exporter, license, settings):
    settings.SITE_URL = "https://licensing.example.gov/"
    body = api(exporter).get(f"/api/v1/licenses/{license.pk}/").json()
    assert body["verification_url"] == (
        f"https://licensing.example.gov/verify/{license.verification_code}/"
    )
    assert len(license.verification_code) >= 22  # at least 128 bits in URL-safe base64


def test_the_licence_document_is_a_pdf_with_the_number_holder_goods_and_conditions(
    api, exporter, outsider, reviewers
):
    with time_machine.travel(ISSUED, tick=False):
        application = factories.draft(
            created_by=exporter,
            goods=1,
            consignee_name="Hamburg Freight GmbH",
            consignee_address="Am Sandtorkai 1",
            consignee_type="commercial",
            consignee_country_id="DE",
        )
        from licensing.services.applications import application_submit
        from licensing.services.reviews import review_claim, review_recommend

        application_submit(application=application, user=exporter)
        review = application.reviews.get()
        review_claim(review=review, user=reviewers["economy"])
        review_recommend(
            review=review,
            user=reviewers["economy"],
            recommendation="approve_with_conditions",
            conditions="No re-export without consent.",
        )
    license = License.objects.get(application=application)
    response = api(exporter).get(f"/api/v1/licenses/{license.pk}/document/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="{license.number}.pdf"' in response["Content-Disposition"]
    text = " ".join(
        page.extract_text()
        for page in PdfReader(BytesIO(b"".join(response.streaming_content))).pages
    )
    for expected in (
        license.number,
        "Ricor Test Ltd",
        "Germany",
        "Fraunhofer Demo Institute",
        "Hamburg Freight GmbH",
        "Miniature cryogenic cooler",
        "6A003",
        "15,000.00 USD",
        "No re-export without consent.",
        "01 November 2026 to 31 October 2027",
        f"/verify/{license.verification_code}/",
    ):
        assert expected in " ".join(text.split()), expected
    assert api(outsider).get(f"/api/v1/licenses/{license.pk}/document/").status_code == 404
