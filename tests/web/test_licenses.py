"""The licence on the case page (goods, shipments, document, surrender) and the public
verification page."""

from __future__ import annotations

import re
from datetime import date

import pytest
import time_machine

from licensing.models import License, LicenseGood, Shipment
from licensing.services.licenses import license_suspend
from licensing.services.shipments import shipment_record
from tests import factories

pytestmark = pytest.mark.django_db

ISSUED = "2026-11-01 10:00 +02:00"


@pytest.fixture
def license(exporter, reviewers) -> License:
    with time_machine.travel(ISSUED, tick=False):
        return factories.approved(exporter, reviewers, goods=2).license


def _page(client, license) -> str:
    return client.get(f"/applications/{license.application_id}/").content.decode()


def _row(page: str, good: LicenseGood) -> str:
    return re.search(rf'<tr data-license-good="{good.pk}">(.*?)</tr>', page, re.S)[1]


def test_the_case_page_shows_each_good_used_and_remaining_and_the_shipments(
    client, exporter, license
):
    first, _ = license.goods.order_by("id")
    shipment_record(
        license=license,
        user=exporter,
        reference="AWB-77",
        shipped_on=date(2026, 11, 2),
        lines=[{"license_good": first.pk, "quantity": 4, "value": 6000}],
    )
    client.force_login(exporter)
    page = _page(client, license)
    row = _row(page, first)
    assert '<td class="used">4</td>' in row
    assert '<td class="remaining">6</td>' in row
    shipments = re.search(r'<table id="shipments">(.*?)</table>', page, re.S)[1]
    assert "AWB-77" in shipments
    assert "4 x Miniature cryogenic cooler (6000.00 USD)" in shipments
    assert f'href="/api/v1/licenses/{license.pk}/document/"' in page
    assert f'action="/licenses/{license.pk}/ship/"' in page
    assert f'action="/licenses/{license.pk}/surrender/"' in page


def test_an_exporter_records_a_shipment_on_the_page(client, exporter, license):
    first, second = license.goods.order_by("id")
    client.force_login(exporter)
    with time_machine.travel("2026-11-03 10:00 +02:00", tick=False):
        response = client.post(
            f"/licenses/{license.pk}/ship/",
            {
                "reference": "INV-1",
                "shipped_on": "2026-11-03",
                f"quantity_{first.pk}": "2",
                f"quantity_{second.pk}": "",
            },
            follow=True,
        )
    assert f"Shipment recorded against license {license.number}." in response.content.decode()
    line = Shipment.objects.get(reference="INV-1").lines.get()
    assert (line.license_good_id, line.quantity, line.value) == (first.pk, 2, 3000)  # pro rata


def test_a_shipment_over_what_remains_keeps_the_input_and_names_the_line(client, exporter, license):
    first, second = license.goods.order_by("id")
    client.force_login(exporter)
    with time_machine.travel("2026-11-03 10:00 +02:00", tick=False):
        response = client.post(
            f"/licenses/{license.pk}/ship/",
            {
                "reference": "INV-2",
                "shipped_on": "2026-11-03",
                f"quantity_{first.pk}": "3",
                f"quantity_{second.pk}": "12",
                f"value_{second.pk}": "100",
            },
        )
    assert response.status_code == 400  # the form finds it, as the service would (409)
    page = response.content.decode()
    assert "quantity 12 exceeds the remaining 10" in page
    assert 'value="INV-2"' in page
    assert f'name="quantity_{second.pk}" value="12"' in page
    assert f'name="value_{second.pk}" value="100"' in page
    assert not Shipment.objects.exists()


def test_a_shipment_without_goods_or_outside_the_validity_keeps_the_form(client, exporter, license):
    first, _ = license.goods.order_by("id")
    client.force_login(exporter)
    with time_machine.travel("2026-11-03 10:00 +02:00", tick=False):
        empty = client.post(
            f"/licenses/{license.pk}/ship/", {"reference": "INV-3", "shipped_on": "2026-11-03"}
        )
        late = client.post(
            f"/licenses/{license.pk}/ship/",
            {"reference": "INV-3", "shipped_on": "2028-01-01", f"quantity_{first.pk}": "1"},
        )
    assert empty.status_code == 400
    assert "Enter the quantity shipped of at least one good." in empty.content.decode()
    assert late.status_code == 400
    assert "is outside it" in late.content.decode()
    assert 'value="2028-01-01"' in late.content.decode()
    assert not Shipment.objects.exists()


def _summary(html: str) -> list[str]:
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    return re.findall(r'<a href="[^"]+">([^<]+)</a>', summary[0]) if summary else []


def test_a_shipment_says_every_problem_at_once_each_naming_its_good_once(client, exporter, license):
    first, second = license.goods.order_by("id")
    first.description = "Thermal imager"
    first.save(update_fields=["description"])
    client.force_login(exporter)
    with time_machine.travel("2026-11-03 10:00 +02:00", tick=False):
        response = client.post(
            f"/licenses/{license.pk}/ship/",
            {
                "reference": "",
                "shipped_on": "2026-11-03",
                f"quantity_{first.pk}": "12",  # over what remains, its value left blank
                f"quantity_{second.pk}": "0",  # at least 1, as on the draft
            },
        )
    assert response.status_code == 400
    html = response.content.decode()
    assert _summary(html) == [
        "Enter your reference.",
        "Thermal imager (6A003): quantity 12 exceeds the remaining 10.",
        "The quantity of Miniature cryogenic cooler (6A003) must be 1 or more.",
    ]
    for message in _summary(html):  # the field says the same words
        assert f'<span class="visually-hidden">Error:</span> {message}</li>' in html
    assert "Thermal imager" not in _summary(html)[1].split(":", 1)[1]  # named once
    assert not Shipment.objects.exists()


def test_the_holder_surrenders_on_the_page_and_the_forms_go(client, exporter, license):
    client.force_login(exporter)
    asked = client.post(f"/licenses/{license.pk}/surrender/", {"reason": "Contract ended."})
    assert asked.status_code == 200
    assert f"Surrender license {license.number}?" in asked.content.decode()
    license.refresh_from_db()
    assert license.status == "active"  # nothing happens before the confirmation
    response = client.post(
        f"/licenses/{license.pk}/surrender/",
        {"reason": "Contract ended.", "confirmed": "yes"},
        follow=True,
    )
    assert f"License {license.number} surrendered." in response.content.decode()
    license.refresh_from_db()
    assert license.status == "surrendered"
    page = _page(client, license)
    assert f'action="/licenses/{license.pk}/ship/"' not in page
    assert f'action="/licenses/{license.pk}/surrender/"' not in page
    assert f"License {license.number} surrendered" in page  # the timeline


def test_staff_see_the_goods_but_no_shipment_form(client, license, reviewers):
    client.force_login(reviewers["economy"])
    page = _page(client, license)
    assert 'id="license-goods"' in page
    assert f'action="/licenses/{license.pk}/ship/"' not in page
    assert client.post(f"/licenses/{license.pk}/ship/", {}).status_code == 302  # refused


# The public verification page


def test_anyone_verifies_a_valid_licence_without_logging_in(client, license):
    with time_machine.travel("2026-12-01 10:00 +02:00", tick=False):
        response = client.get(f"/verify/{license.verification_code}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "This license is valid today" in page
    assert license.number in page
    assert "Ricor Test Ltd" in page
    assert "Active" in page
    assert "01 Nov 2026 to 31 Oct 2027" in page
    # Nothing else: no goods, parties, conditions or links into the case.
    for secret in ("Miniature cryogenic cooler", "Fraunhofer", "Germany", "/applications/"):
        assert secret not in page
    assert response["Cache-Control"] == "no-store"


def test_a_suspended_or_lapsed_licence_is_not_valid_today(client, license, supervisors):
    with time_machine.travel("2027-11-01 10:00 +02:00", tick=False):
        after = client.get(f"/verify/{license.verification_code}/").content.decode()
    assert "This license is not valid today" in after
    license_suspend(license=license, user=supervisors["defense"], reason="Inquiry")
    with time_machine.travel("2026-12-01 10:00 +02:00", tick=False):
        suspended = client.get(f"/verify/{license.verification_code}/").content.decode()
    assert "This license is not valid today" in suspended
    assert "Suspended" in suspended
    assert "Inquiry" not in suspended


def test_an_unknown_code_is_not_found(client, license):
    assert client.get("/verify/not-a-real-code-at-all-000000000/").status_code == 404
    assert client.get(f"/verify/{license.verification_code[:-1]}/").status_code == 404


def test_each_licence_has_its_own_unguessable_code(exporter, reviewers, license):
    with time_machine.travel(ISSUED, tick=False):
        other = factories.approved(exporter, reviewers).license
    assert other.verification_code != license.verification_code
    assert len(license.verification_code) == 32  # 24 random bytes: 192 bits
