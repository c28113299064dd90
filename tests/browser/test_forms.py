"""Forms in a real browser: the error summary, not the browser's tooltip, says what is
wrong (novalidate), and "No, go back" on a confirmation brings the form back as typed."""

from __future__ import annotations

import pytest

from accounts.models import User
from licensing.models import Review
from licensing.services.reviews import review_claim
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

MUNITIONS = {"code": "ML10", "destination": "CN", "license_type": "marketing"}


def test_submitting_without_the_declaration_shows_the_error_summary(open_as, looks_right):
    page = open_as("exporter")
    application = factories.draft(created_by=User.objects.get(username="exporter"))
    page.goto(f"/applications/{application.pk}/check/")
    page.click("#submit button[type=submit]")  # not ticked: the browser lets it through
    page.wait_for_selector("#error-summary")
    assert page.title().startswith("Error: ")
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert page.inner_text("#error-summary a") == "Tick the declaration to submit the application."
    beside = " ".join(page.text_content("#submit .errorlist").split())
    assert beside == "Error: Tick the declaration to submit the application."  # the same words
    looks_right(page, "check-declaration-error")


def test_going_back_from_the_confirmation_keeps_the_recommendation(open_as, looks_right):
    page = open_as("defense")
    case = factories.submitted(User.objects.get(username="exporter"), **MUNITIONS)
    review = Review.objects.get(application=case, ministry="defense")
    review_claim(review=review, user=User.objects.get(username="defense"))
    page.goto(f"/applications/{case.pk}/")
    page.select_option("#id_recommendation", "deny")
    page.fill("#recommend #id_reason", "End user of concern.")
    page.select_option("#recommend #id_criteria", ["1", "7"])
    page.click("#recommend button[type=submit]")
    page.wait_for_selector("#confirm-form")
    looks_right(page, "confirm-recommend-go-back")
    page.click("#cancel")  # "No, go back"
    page.wait_for_selector("#recommend[data-returned]")
    assert page.input_value("#id_recommendation") == "deny"
    assert page.input_value("#recommend #id_reason") == "End user of concern."
    assert page.eval_on_selector(
        "#recommend #id_criteria", "s => [...s.selectedOptions].map(o => o.value)"
    ) == ["1", "7"]
    assert page.evaluate("document.activeElement.id") == "id_recommendation"  # back at it
    assert page.locator("#error-summary").count() == 0
    looks_right(page, "recommend-gone-back")
    review.refresh_from_db()
    assert review.status == "in_progress"
    drafts = "Object.keys(sessionStorage).filter(k => k.startsWith('draft:'))"
    assert page.evaluate(drafts) == [f"draft:/reviews/{review.pk}/recommend/"]
    page.click(".site-nav form button")  # logging out on purpose leaves no draft behind
    page.wait_for_url("**/accounts/login/**")
    assert page.evaluate(drafts) == []
