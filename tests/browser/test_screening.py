"""Screening in a real browser: a held case, its match resolved, then approved."""

from __future__ import annotations

import pytest

from accounts.models import User
from licensing.models import ScreeningMatch
from licensing.services.applications import application_submit
from tests.factories import draft

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_reviewer_clears_a_match_and_may_then_approve(open_as, looks_right):
    page = open_as("economy")  # seed_demo loads the made-up sample list
    exporter = User.objects.get(username="exporter")
    application = application_submit(
        application=draft(created_by=exporter, end_user_name="Zagros Precision Industries"),
        user=exporter,
    )
    match = ScreeningMatch.objects.get(application=application)

    page.goto("/")
    looks_right(page, "queue-screening-badge")
    row = page.locator(f"#queue tr[data-reference='{application.reference}']")
    assert "1 screening match" in row.locator(".badge-screening").inner_text()
    row.locator("text=Claim").click()
    page.wait_for_selector("text=Review claimed.")
    page.goto(f"/applications/{application.pk}/")
    looks_right(page, "case-screening-match")
    # Approval is held: the form offers only a denial, and says why.
    options = page.locator("#id_recommendation option").all_inner_texts()
    assert options == ["Choose...", "Deny"]
    assert "is open: resolve it before approving" in page.inner_text("#recommend")

    form = page.locator(f"#match-{match.pk}-resolve")
    form.locator("select").select_option("cleared")
    form.locator("textarea").fill("A namesake: another registry number.")
    form.locator("button").click()
    # Irreversible: a page of its own asks first, with what is about to be recorded.
    page.wait_for_selector("#confirm")
    assert page.inner_text("h1") == (
        "Resolve the match of 'Zagros Precision Industries' with "
        "'Zagros Precision Industries'? It cannot be changed afterwards."
    )
    assert "A namesake: another registry number." in page.inner_text("#confirm-summary")
    looks_right(page, "confirm-resolve")
    page.click("#confirm")
    page.wait_for_selector("text=Screening match of 'Zagros Precision Industries' resolved.")
    assert "Cleared" in page.inner_text(f"#screening-matches tr[data-match='{match.pk}']")
    assert page.locator(f"#match-{match.pk}-resolve").count() == 0

    page.select_option("#id_recommendation", "approve")
    page.click("#recommend button")
    page.click("#confirm")
    page.wait_for_selector("text=Recommendation recorded.")
    assert page.inner_text("#status") == "Approved"
