"""An exporter's journey in a real browser, as a compliance officer would take it.

A draft with a mistake, the error summary and its links, the task list filling
in, check your answers with every problem at once, the declaration, the
submission; and a disputed case that shows no ministry's recommendation. Every
page visited is checked by `looks_right` (axe-core, no sideways scrolling at
1366 and 390 px, screenshots in var/screenshots/).
"""

from __future__ import annotations

import re

import pytest

from accounts.models import User
from licensing.models import Application, AuditEvent, ControlListEntry
from tests.factories import disputed

pytestmark = pytest.mark.django_db(transaction=True)


def _task_states(page) -> dict[str, str]:
    return {
        row.get_attribute("data-task"): row.locator(".tag").inner_text()
        for row in page.locator("#task-list .task").all()
    }


def _focused_id(page) -> str:
    return page.evaluate("() => document.activeElement && document.activeElement.id")


def test_an_exporter_drafts_fixes_checks_declares_and_submits(open_as, looks_right):
    page = open_as("exporter")
    page.goto("/applications/new/")
    looks_right(page, "draft-new")

    page.select_option("#id_license_type", "dual_use_export")
    page.select_option("#id_destination", "DE")
    page.fill("#id_currency", "ZZZ")  # no such currency: only the server knows
    page.fill("#id_end_user_name", "Munich Research Institute")
    page.fill("#id_goods-0-description", "Cryogenic cooler")
    entry = ControlListEntry.objects.get(code="6A003")
    page.select_option("#id_goods-0-control_list_entry", str(entry.pk))
    page.fill("#id_goods-0-unit_value", "1200.50")

    # The browser refuses a quantity of 0, as the server would.
    page.fill("#id_goods-0-quantity", "0")
    page.click("#save")
    assert page.eval_on_selector("#id_goods-0-quantity", "e => e.validity.rangeUnderflow")
    assert page.url.endswith("/applications/new/")
    assert not Application.objects.exists()

    page.fill("#id_goods-0-quantity", "4")
    page.click("#save")
    page.wait_for_selector("#error-summary")
    assert page.title().startswith("Error: ")
    assert _focused_id(page) == "error-summary"
    summary = page.locator("#error-summary")
    assert summary.get_attribute("role") == "alert"
    links = summary.locator("a")
    assert links.count() == 1
    assert links.first.get_attribute("href") == "#id_currency"
    assert "ISO 4217" in links.first.inner_text()
    # What was typed is still there.
    assert page.input_value("#id_end_user_name") == "Munich Research Institute"
    assert page.input_value("#id_goods-0-quantity") == "4"
    looks_right(page, "draft-error-summary")
    links.first.click()
    assert _focused_id(page) == "id_currency"

    page.fill("#id_currency", "USD")
    page.click("#save")
    page.wait_for_selector("#task-list")
    application = Application.objects.get(end_user_name="Munich Research Institute")
    assert _task_states(page) == {
        "licence-details": "Completed",
        "end-user": "In progress",
        "parties": "Not started",
        "end-use": "Not started",
        "goods": "Completed",
        "documents": "Not started",
    }
    looks_right(page, "draft-task-list")

    # Check your answers: every problem at once, each a link to where it is fixed.
    page.click("#submit-page")
    page.wait_for_url(re.compile(rf"/applications/{application.pk}/check/$"))
    problems = page.locator("#problems li a")
    assert [problems.nth(i).inner_text() for i in range(problems.count())] == [
        "Enter the end user's address.",
        "Choose the end user's country.",
        "Choose the end user's type.",
        "Describe the end use.",
    ]
    assert "Munich Research Institute" in page.inner_text(".check-answers")
    looks_right(page, "check-answers-problems")

    problems.first.click()
    page.wait_for_url(re.compile(r"/edit/#id_end_user_address$"))
    page.fill("#id_end_user_address", "1 Hansastrasse, Munich")
    page.select_option("#id_end_user_country", "DE")
    page.select_option("#id_end_user_type", "research")
    page.fill("#id_end_use", "Thermal imaging research.")
    looks_right(page, "draft-edit")
    page.click("#save")
    page.wait_for_selector("#task-list")
    states = _task_states(page)
    assert (states["end-user"], states["end-use"]) == ("Completed", "Completed")

    page.click("#submit-page")
    page.wait_for_selector("#id_declaration")
    assert page.locator("#problems").count() == 0
    looks_right(page, "check-answers")
    # Submit does nothing until the declaration is ticked.
    page.click("#submit button")
    assert page.eval_on_selector("#id_declaration", "e => e.validity.valueMissing")
    application.refresh_from_db()
    assert application.status == "draft"
    page.check("#id_declaration")
    page.click("#submit button")
    page.wait_for_selector("text=Submitted for review.")
    assert page.inner_text("#status") == "Under review"
    application.refresh_from_db()
    assert application.status == "under_review"
    submitted = AuditEvent.objects.get(application=application, action="application_submitted")
    assert submitted.data["declaration"] is True
    looks_right(page, "case-submitted-exporter")


def test_an_exporters_disputed_case_shows_no_recommendation(open_as, looks_right):
    page = open_as("exporter")
    exporter = User.objects.get(username="exporter")
    reviewers = {m: User.objects.get(username=m) for m in ("defense", "economy", "foreign")}
    application = disputed(exporter, reviewers)

    page.goto(f"/applications/{application.pk}/")
    assert page.inner_text("#status") == "Disputed"
    reviews = page.inner_text("#reviews")
    assert "Recommendation" not in reviews
    assert "Approve" not in reviews and "Deny" not in reviews
    timeline = page.inner_text("#timeline")
    assert "Sent to the interagency committee for a decision" in timeline
    assert "claimed" not in timeline and "recommended" not in timeline
    assert page.locator("#routing").count() == 0
    looks_right(page, "case-disputed-exporter")

    staff = open_as("defense")
    staff.goto(f"/applications/{application.pk}/")
    assert "Deny" in staff.inner_text("#reviews")  # staff see each ministry's advice
