"""The web pages in a real browser: each role does its part of a case."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from accounts.models import User
from licensing.models import Application, ControlListEntry, Review
from licensing.services.applications import application_submit
from licensing.services.reviews import review_claim, review_recommend
from tests.factories import draft

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_exporter_drafts_two_goods_and_submits(open_as):
    page = open_as("exporter")
    page.click("text=New application")
    page.select_option("#id_license_type", "dual_use_export")
    page.select_option("#id_destination", "DE")
    page.fill("#id_end_user_name", "Munich Research Institute")
    page.fill("#id_end_user_address", "1 Hansastrasse, Munich")
    page.select_option("#id_end_user_country", "DE")
    page.select_option("#id_end_user_type", "research")
    page.fill("#id_end_use", "Thermal imaging research.")
    page.fill("#id_goods-0-description", "Cryogenic cooler")
    entry = ControlListEntry.objects.get(code="6A003")
    page.select_option("#id_goods-0-control_list_entry", label=f"6A003 - {entry.description}")
    page.fill("#id_goods-0-quantity", "4")
    page.fill("#id_goods-0-unit_value", "1200.50")
    page.click("#add-good")
    page.fill("#id_goods-1-description", "Infrared camera core")
    page.select_option(
        "#id_goods-1-control_list_entry",
        value=str(ControlListEntry.objects.get(code="6A002").pk),
    )
    page.fill("#id_goods-1-quantity", "2")
    page.fill("#id_goods-1-unit_value", "9000")
    page.click("#save")

    page.wait_for_selector("#status")
    assert page.inner_text("#status") == "Draft"
    assert page.locator("#goods tbody tr").count() == 2
    page.click("#submit-page")  # check your answers, then the declaration
    page.check("#id_declaration")
    page.click("#submit button")
    page.wait_for_selector("text=Submitted for review.")
    assert page.inner_text("#status") == "Under review"
    assert "Economy" in page.inner_text("#reviews")
    assert page.locator("#routing").count() == 0  # no rule names for exporters
    assert "Submitted" in page.inner_text("#timeline")
    current = page.locator("svg.workflow g.current")
    assert current.get_attribute("data-state") == "under_review"
    # The exporter never sees who reviews or their internal notes.
    assert "Assigned to" not in page.inner_text("#reviews")

    application = Application.objects.get(end_user_name="Munich Research Institute")
    assert application.status == "under_review"
    assert application.goods.count() == 2


def test_a_question_answered_and_an_approval_with_a_license(open_as):
    page = open_as("economy")
    exporter = User.objects.get(username="exporter")
    application = application_submit(application=draft(created_by=exporter), user=exporter)

    page.goto("/")
    row = page.locator(f"#queue tr[data-reference='{application.reference}']")
    assert "Pending" in row.inner_text()
    row.locator("text=Claim").click()
    page.wait_for_selector("text=Review claimed.")
    page.goto(f"/applications/{application.pk}/")
    page.fill("#id_question", "Who finances the purchase?")
    page.click("#request-information button")
    page.wait_for_selector("text=Question sent")
    assert page.inner_text("#status") == "Information requested"

    exporter_page = open_as("exporter")
    exporter_page.goto(f"/applications/{application.pk}/")
    exporter_page.fill("#id_answer", "The institute's own budget.")
    exporter_page.click("#respond button")
    exporter_page.wait_for_selector("text=Answer sent")
    assert exporter_page.inner_text("#status") == "Under review"

    page.goto(f"/applications/{application.pk}/")
    page.select_option("#id_recommendation", "approve_with_conditions")
    page.fill("#id_conditions", "No re-export without consent.")
    page.click("#recommend button")
    # Irreversible: a page of its own asks, showing what is about to be recorded.
    assert page.inner_text("h1") == "Record this recommendation? It cannot be changed afterwards."
    assert "No re-export without consent." in page.inner_text("#confirm-summary")
    page.click("#confirm")
    page.wait_for_selector("text=Recommendation recorded.")
    assert page.inner_text("#status") == "Approved"

    exporter_page.goto(f"/applications/{application.pk}/")
    license_text = exporter_page.inner_text("#license")
    assert re.search(r"LIC-\d{4}-\d{6}", license_text)
    assert "No re-export without consent." in license_text


def test_the_committee_decides_a_disputed_application(open_as):
    page = open_as("committee")
    exporter = User.objects.get(username="exporter")
    application = application_submit(
        application=draft(created_by=exporter, destination="CN", technology_generation="legacy"),
        user=exporter,
    )
    for review in Review.objects.filter(application=application):
        reviewer = User.objects.get(username=review.ministry)
        review_claim(review=review, user=reviewer)
        deny = review.ministry == "foreign"
        review_recommend(
            review=review,
            user=reviewer,
            recommendation="deny" if deny else "approve",
            reason="Foreign policy." if deny else "",
            criteria=["4"] if deny else [],
        )

    page.goto("/")
    page.locator(f"#disputed tr[data-reference='{application.reference}'] a").click()
    assert page.inner_text("#status") == "Disputed"
    page.select_option("#id_decision", "deny")
    page.select_option("#decide #id_criteria", "4")
    page.fill("#decide #id_reason", "The foreign-policy objection prevails.")
    page.click("#decide button")
    assert page.inner_text("h1").startswith("Record the committee's decision")
    page.click("#confirm")
    page.wait_for_selector("text=Decision recorded.")
    assert page.inner_text("#status") == "Denied"
    assert "The foreign-policy objection prevails." in page.inner_text("#decision")


def test_a_supervisor_sees_overdue_work_and_reassigns_it(open_as):
    page = open_as("economy-supervisor")
    exporter = User.objects.get(username="exporter")
    application = application_submit(application=draft(created_by=exporter), user=exporter)
    review = Review.objects.get(application=application)
    Review.objects.filter(pk=review.pk).update(due_date=review.received_on - timedelta(days=1))

    page.goto("/")
    row = page.locator(f"#queue tr[data-reference='{application.reference}']")
    assert "(overdue)" in row.inner_text()
    row.locator("input[type=checkbox]").check()
    page.select_option("#id_assignee", label="Noa Peretz")
    page.click("#reassign-selected")
    page.wait_for_selector("text=1 review(s) reassigned to Noa Peretz")
    review.refresh_from_db()
    assert review.assigned_to.username == "economy"
    assert review.status == "in_progress"


def test_an_outsider_gets_not_found_for_another_companys_application(open_as):
    page = open_as("exporter2")
    exporter = User.objects.get(username="exporter")
    application = draft(created_by=exporter)
    response = page.goto(f"/applications/{application.pk}/")
    assert response.status == 404


def test_the_pages_run_under_the_content_security_policy_without_violations(open_as, settings):
    """The policy is enforced by the browser: nothing on the pages (or the API docs) is
    blocked, the styles apply, and a cancelled confirmation keeps the case as it was."""
    settings.API_DOCS_PUBLIC = True
    violations: list[str] = []
    page = open_as("exporter")
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and violations.append(message.text)
        ),
    )
    page.goto("/")
    # site.css applied: the header's background is the stylesheet's, not the browser's.
    assert (
        page.eval_on_selector("header", "e => getComputedStyle(e).backgroundColor")
        == "rgb(11, 61, 102)"
    )
    page.goto("/applications/new/")
    page.click("#add-good")
    assert page.locator("#id_goods-1-description").count() == 1
    application = draft(created_by=User.objects.get(username="exporter"))
    page.goto(f"/applications/{application.pk}/")
    page.click("#delete button[type=submit]")
    page.click("#cancel")  # "No, go back"
    page.wait_for_selector("#status")
    application.refresh_from_db()
    assert application.status == "draft"  # not confirmed: nothing was done
    page.goto("/api/docs/")
    page.wait_for_selector(".swagger-ui .info", timeout=15000)
    assert violations == []
