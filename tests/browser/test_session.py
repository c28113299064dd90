"""A reviewer's session running out in a real browser: the warning before the idle timeout
(GOV.UK's timeout warning pattern), "Stay logged in", and, once it has run out, the login
page returning to the case with the recommendation as it was typed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.models import User
from licensing.models import Review
from licensing.services.reviews import review_claim
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

MUNITIONS = {"code": "ML10", "destination": "CN", "license_type": "marketing"}


def test_a_reviewer_is_warned_before_the_timeout_and_keeps_the_recommendation_after_it(
    open_as, looks_right, settings, live_server
):
    settings.SESSION_IDLE_MINUTES = 30
    page = open_as("defense")
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and violations.append(message.text)
        ),
    )
    reviewer = User.objects.get(username="defense")
    case = factories.submitted(User.objects.get(username="exporter"), **MUNITIONS)
    review_claim(review=Review.objects.get(application=case, ministry="defense"), user=reviewer)
    start = timezone.now()
    page.clock.install()
    page.goto(f"/applications/{case.pk}/")
    page.select_option("#id_recommendation", "deny")
    page.fill("#recommend #id_reason", "End user of concern, typed at length.")
    page.select_option("#recommend #id_criteria", "7")

    # 28 minutes without a request: two minutes before the end, the warning.
    with time_machine.travel(start + timedelta(minutes=28), tick=True):
        page.clock.run_for("28:00")
        dialog = page.locator("#timeout-warning")
        dialog.wait_for(state="visible")
        assert "you will be logged out in" in dialog.inner_text()
        assert page.evaluate("document.activeElement.id") == "timeout-stay"
        looks_right(page, "timeout-warning")
        page.click("#timeout-stay")
        dialog.wait_for(state="hidden")

    # Then 31 minutes more: logged out, and sent to log in again.
    with time_machine.travel(start + timedelta(minutes=59), tick=True):
        page.clock.run_for("31:00")
        page.wait_for_url(re.compile(r"/accounts/login/\?next="))
    assert page.url.endswith(f"/accounts/login/?next=%2Fapplications%2F{case.pk}%2F")
    assert "logged out after 30 minutes without activity" in page.inner_text("main")
    looks_right(page, "timeout-logged-out")

    page.fill("#id_username", "defense")
    page.fill("#id_password", settings.DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/applications/{case.pk}/")
    # What was typed is back in the form.
    assert page.input_value("#id_recommendation") == "deny"
    assert page.input_value("#recommend #id_reason") == "End user of concern, typed at length."
    assert page.eval_on_selector(
        "#recommend #id_criteria", "s => [...s.selectedOptions].map(o => o.value)"
    ) == ["7"]
    looks_right(page, "timeout-draft-restored")

    page.click("#recommend button[type=submit]")
    page.click("#confirm")
    page.wait_for_selector("text=Recommendation recorded.")
    assert page.evaluate("Object.keys(sessionStorage).filter(k => k.startsWith('draft:'))") == []
    assert violations == []  # the dialog and the drafts run under the policy
