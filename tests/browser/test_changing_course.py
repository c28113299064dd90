"""Changing course in a real browser: amend, recommend per good, appeal, the committee decides."""

from __future__ import annotations

import pytest

from accounts.models import User
from licensing.models import Application, Review
from licensing.services.applications import application_submit
from licensing.services.reviews import review_claim
from tests.factories import draft

pytestmark = pytest.mark.django_db(transaction=True)


def _submitted(goods: int = 2, **kwargs) -> Application:
    exporter = User.objects.get(username="exporter")
    return application_submit(
        application=draft(created_by=exporter, goods=goods, **kwargs), user=exporter
    )


def test_an_exporter_amends_and_the_reviewer_sees_the_changes(open_as, looks_right):
    exporter = open_as("exporter")
    exporter.on("dialog", lambda dialog: dialog.accept())
    original = _submitted()
    exporter.goto(f"/applications/{original.pk}/")
    exporter.click("#amend button")  # reversible: no confirmation step
    exporter.wait_for_selector("text=drafted")
    assert exporter.inner_text("#status") == "Draft"
    assert original.reference in exporter.inner_text("#amendment")
    amendment = Application.objects.get(amendment_of=original)
    exporter.click("text=Edit draft")
    exporter.fill("#id_goods-0-quantity", "3")
    exporter.click("#save")
    exporter.wait_for_selector("#changes")
    assert "Good 1, Quantity: 10" in exporter.inner_text("#changes")
    exporter.click("#submit-page")  # check your answers, then the declaration
    exporter.check("#id_declaration")
    exporter.click("#submit button")
    exporter.wait_for_selector("text=Submitted for review.")

    economy = open_as("economy")
    economy.goto(f"/applications/{amendment.pk}/")
    assert "Good 1, Quantity: 10 → 3" in economy.inner_text("#changes")
    looks_right(economy, "amendment-changes")
    economy.goto(f"/applications/{original.pk}/")
    assert economy.inner_text("#status") == "Superseded"
    assert amendment.reference in economy.inner_text("#superseded-by")


def test_a_good_refused_per_good_then_appealed_and_upheld(open_as, looks_right):
    application = _submitted()
    review = Review.objects.get(application=application)
    review_claim(review=review, user=User.objects.get(username="economy"))
    second = application.goods.order_by("id").last()

    economy = open_as("economy")
    economy.on("dialog", lambda dialog: dialog.accept())
    economy.goto(f"/applications/{application.pk}/")
    looks_right(economy, "recommend-per-good")
    economy.select_option("#id_recommendation", "approve")
    economy.fill("#recommend #id_reason", "The second cooler is not needed there.")
    economy.select_option(f"#id_good_{second.pk}", "deny")
    economy.select_option(f"#id_good_{second.pk}_criteria", "7")
    economy.click("#recommend button")
    assert "Existence of a risk" in economy.inner_text("#confirm-summary")
    economy.click("#confirm")
    economy.wait_for_selector("text=Recommendation recorded.")
    assert economy.inner_text("#status") == "Partially approved"

    exporter = open_as("exporter")
    exporter.on("dialog", lambda dialog: dialog.accept())
    exporter.goto(f"/applications/{application.pk}/")
    looks_right(exporter, "refused-goods-appeal")
    refused = exporter.inner_text("#refused-goods")
    assert "criterion 7" in refused
    assert "Assigned to" not in exporter.inner_text("#reviews")  # never who reviewed it
    exporter.fill("#id_grounds", "The end user needs both coolers.")
    exporter.click("#appeal button")
    assert "The end user needs both coolers." in exporter.inner_text("#confirm-summary")
    exporter.click("#confirm")
    exporter.wait_for_selector("text=Appeal lodged")
    assert exporter.inner_text("#status") == "Under appeal"

    committee = open_as("committee")
    committee.on("dialog", lambda dialog: dialog.accept())
    looks_right(committee, "committee-appeal-queue")
    committee.click(f"#appeals tr[data-reference='{application.reference}'] a")
    committee.select_option("#id_decision", "approve")
    committee.fill("#decide #id_reason", "Both coolers go to the same laboratory.")
    committee.click("#decide button")
    committee.click("#confirm")
    committee.wait_for_selector("text=Decision recorded.")
    assert committee.inner_text("#status") == "Approved"
    assert committee.locator("#license-goods tbody tr").count() == 2
