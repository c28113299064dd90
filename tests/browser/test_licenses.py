"""A licence in use, in a real browser: a shipment recorded, the document downloaded,
the licence surrendered, and its verification page read without logging in."""

from __future__ import annotations

import pytest
from pypdf import PdfReader

from accounts.models import User
from licensing.models import License
from tests.factories import approved

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_exporter_ships_downloads_and_surrenders_its_licence(open_as, browser, live_server):
    page = open_as("exporter")
    reviewers = {m: User.objects.get(username=m) for m in ("defense", "economy", "foreign")}
    application = approved(User.objects.get(username="exporter"), reviewers, goods=2)
    license = License.objects.get(application=application)
    first, second = license.goods.order_by("id")

    page.goto(f"/applications/{application.pk}/")
    row = page.locator(f'tr[data-license-good="{first.pk}"]')
    assert row.locator("td.remaining").inner_text() == "10"

    # Too many: refused, and what was typed is still there.
    page.fill("#id_reference", "AWB-2026-1")
    page.fill(f"#id_quantity_{first.pk}", "11")
    page.click("#license-ship button[type=submit]")
    page.wait_for_selector("text=quantity 11 exceeds the remaining 10")
    assert page.input_value("#id_reference") == "AWB-2026-1"
    page.fill(f"#id_quantity_{first.pk}", "4")
    page.fill(f"#id_quantity_{second.pk}", "1")
    page.click("#license-ship button[type=submit]")
    page.wait_for_selector(f"text=Shipment recorded against license {license.number}.")
    assert row.locator("td.used").inner_text() == "4"
    assert row.locator("td.remaining").inner_text() == "6"
    assert "AWB-2026-1" in page.inner_text("#shipments")

    with page.expect_download() as download:
        page.click("#license-document")
    pdf = PdfReader(download.value.path())
    text = " ".join(p.extract_text() for p in pdf.pages)
    assert license.number in text
    assert "Miniature cryogenic cooler" in text

    page.fill("#license-surrender textarea", "The contract ended.")
    page.click("#license-surrender button[type=submit]")
    page.click("#confirm")
    page.wait_for_selector(f"text=License {license.number} surrendered.")
    assert page.locator("#license-ship").count() == 0
    license.refresh_from_db()
    assert license.status == "surrendered"

    # Anyone holding the document checks it, without an account.
    context = browser.new_context(base_url=live_server.url)
    try:
        public = context.new_page()
        public.goto(f"/verify/{license.verification_code}/")
        assert public.inner_text("#verdict") == "This license is not valid today"
        assert public.inner_text("#license-status") == "Surrendered"
        assert public.inner_text("#number") == license.number
    finally:
        context.close()
