"""The staff's journeys in a real browser (Debian's Chromium), each page checked by
`looks_right`: axe-core finds no serious or critical violation, nothing scrolls sideways
at 1366 or 390 px, and a screenshot of each width lands in var/screenshots/.

One test per journey, each visiting several pages: a reviewer working the queue, a
supervisor with a backlog, the committee, notifications, and a Defense supervisor's
licence list.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest

from accounts.models import User
from licensing.clock import WorkingCalendar, local_today
from licensing.models import License, Notification, Review
from licensing.services.applications import application_respond
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

MUNITIONS = {"code": "ML10", "destination": "CN", "license_type": "marketing"}


def _people(*usernames: str) -> dict[str, User]:
    return {name: User.objects.get(username=name) for name in usernames}


def _query(page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def test_a_reviewer_filters_claims_asks_recommends_and_finds_the_finished_case(
    open_as, looks_right
):
    page = open_as("defense")
    exporter = User.objects.get(username="exporter")
    cases = [factories.submitted(exporter, **MUNITIONS) for _ in range(55)]
    page.goto("/")
    looks_right(page, "queue-reviewer")

    # Filters and sort, kept in the query string from page to page.
    page.select_option("#filter_assignee", label="Unassigned")
    page.select_option("#filter_sort", label="Reference")
    page.click("#apply-filters")
    page.wait_for_url(re.compile(r"assignee=none"))
    first = page.locator("#queue tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.reference)"
    )
    assert len(first) == 50 and first == sorted(first)
    page.click("a[rel=next]")
    page.wait_for_url(re.compile(r"page=2"))
    assert _query(page)["assignee"] == ["none"] and _query(page)["sort"] == ["reference"]
    assert page.input_value("#filter_assignee") == "none"
    assert page.input_value("#filter_sort") == "reference"
    second = page.locator("#queue tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.reference)"
    )
    assert len(second) == 5 and first[-1] < second[0]
    looks_right(page, "queue-filtered-page-2")

    # Claim one, and read its case header.
    case = cases[0]
    page.goto(f"/?q={case.reference}")
    page.locator(f"#queue tr[data-reference='{case.reference}'] button", has_text="Claim").click()
    page.wait_for_selector("text=Review claimed.")
    page.goto(f"/applications/{case.pk}/")
    holder = page.locator("#case-reviews tr[data-ministry='defense']")
    assert "Avi Mizrahi" in holder.inner_text()
    review = case.reviews.get(ministry="defense")
    left = WorkingCalendar.load().working_days_between(local_today(), review.due_date)
    assert f"{left} working days left" in holder.inner_text()
    assert not page.locator("#workflow").evaluate("d => d.open")  # the diagram folded away
    looks_right(page, "case-reviewer")

    # Ask the exporter: every clock stops, and the header says since when.
    page.fill("#id_question", "Which unit will operate the equipment?")
    page.click("#request-information button")
    page.wait_for_selector("#clock-stopped")
    today = local_today().strftime("%d %b %Y")
    assert page.inner_text("#clock-stopped") == (
        f"Clock stopped since {today}, waiting for the exporter."
    )
    looks_right(page, "case-clock-stopped")
    page.goto(f"/?q={case.reference}")
    assert "Clock stopped" in page.inner_text(f"#queue tr[data-reference='{case.reference}']")

    # The exporter answers; the reviewer recommends, confirming first.
    application_respond(application=case, user=exporter, answer="The navy's 3rd flotilla.")
    page.goto(f"/applications/{case.pk}/")
    page.select_option("#id_recommendation", "deny")
    page.fill("#recommend #id_reason", "End user of concern.")
    page.select_option("#recommend #id_criteria", "7")  # a deny cites a refusal criterion
    page.click("#recommend button")
    assert "It cannot be changed afterwards." in page.inner_text("h1")
    assert "End user of concern." in page.inner_text("#confirm-summary")
    looks_right(page, "confirm-recommend")
    page.click("#confirm")
    page.wait_for_selector("text=Recommendation recorded.")

    # Finished work leaves the open queue and is reached from the Completed tab.
    page.goto("/")
    assert page.locator(f"#queue tr[data-reference='{case.reference}']").count() == 0
    page.click("#tab-completed")
    page.wait_for_url(re.compile(r"tab=completed"))
    row = page.locator(f"#queue tr[data-reference='{case.reference}']")
    assert "Completed: deny" in row.inner_text()
    looks_right(page, "queue-completed")
    row.locator("a").click()
    page.wait_for_url(re.compile(rf"/applications/{case.pk}/$"))


def test_a_supervisor_with_a_backlog_reassigns_several_rows_at_once(open_as, looks_right):
    page = open_as("defense-supervisor")
    people = _people("exporter", "defense")
    cases = [factories.submitted(people["exporter"], **MUNITIONS) for _ in range(60)]
    overdue = cases[0].reviews.get(ministry="defense")
    Review.objects.filter(pk=overdue.pk).update(due_date=overdue.received_on - timedelta(days=3))
    page.goto("/")
    workload = page.inner_text("#workload-table")
    assert "Avi Mizrahi" in workload and "Unassigned" in workload
    assert page.locator("#queue tbody tr").count() == 25  # a short page, paged
    assert page.locator("select").count() == 4  # the filters' three and ONE reassign select
    assert page.locator(f"[data-reference='{cases[0].reference}']").count() == 1  # once
    looks_right(page, "supervisor")

    # An empty choice is an error, summarised at the top, linked to the select.
    chosen = page.locator("#queue tbody tr input[type=checkbox]")
    for index in range(3):
        chosen.nth(index).check()
    page.click("#reassign-selected")
    summary = page.locator("#error-summary")
    summary.wait_for()
    assert summary.get_attribute("role") == "alert"
    assert page.title().startswith("Error: ")
    assert page.evaluate("document.activeElement.id") == "error-summary"
    looks_right(page, "supervisor-error")
    page.click("#error-summary a[href='#id_assignee']")
    assert page.evaluate("document.activeElement.id") == "id_assignee"

    # The rows ticked, one person chosen: all three reassigned.
    references = []
    for index in range(3):
        chosen.nth(index).check()
        references.append(chosen.nth(index).evaluate("box => box.closest('tr').dataset.reference"))
    page.select_option("#id_assignee", label="Avi Mizrahi")
    page.click("#reassign-selected")
    page.wait_for_selector("text=3 review(s) reassigned to Avi Mizrahi")
    held = Review.objects.filter(
        ministry="defense", application__reference__in=references, assigned_to=people["defense"]
    )
    assert held.count() == 3
    assert re.search(r"Avi Mizrahi\s+3\s+0", page.inner_text("#workload-table"))
    looks_right(page, "supervisor-reassigned")


def test_the_committee_reads_the_advice_side_by_side_and_approves_with_conditions(
    open_as, looks_right
):
    page = open_as("committee")
    people = _people("exporter", "defense", "economy", "foreign")
    application = factories.disputed(people["exporter"], people)
    page.goto("/")
    looks_right(page, "committee-home")
    page.locator(f"#disputed tr[data-reference='{application.reference}'] a").click()
    page.wait_for_selector("#advice")
    cards = page.locator(".advice-card")
    assert cards.count() == 2
    first, second = (cards.nth(i).bounding_box() for i in range(2))
    assert first["y"] == second["y"] and first["x"] < second["x"]  # side by side
    advice = page.locator("#advice").bounding_box()
    assert advice["y"] < page.locator("#decide").bounding_box()["y"]  # above the form
    assert "Against policy." in page.inner_text("#advice")
    looks_right(page, "case-committee")

    page.select_option("#id_decision", "approve")
    page.fill("#decide #id_reason", "Acceptable with verification.")
    page.fill("#decide #id_conditions", "Post-shipment verification within six months.")
    page.click("#decide button")
    assert page.inner_text("h1").startswith("Record the committee's decision")
    looks_right(page, "confirm-decide")
    page.click("#confirm")
    page.wait_for_selector("text=Decision recorded.")
    assert page.inner_text("#status") == "Approved"
    assert "Committee: Post-shipment verification within six months." in page.inner_text("#license")


def test_notifications_are_marked_read_when_opened_and_all_at_once(open_as, looks_right):
    page = open_as("foreign")
    exporter = User.objects.get(username="exporter")
    cases = [factories.submitted(exporter, **MUNITIONS) for _ in range(3)]
    page.goto("/")
    assert page.inner_text("#unread-count").startswith("3")
    page.click("#nav-notifications")
    page.wait_for_url(re.compile(r"/notifications/$"))
    assert page.locator("#notifications li.unread").count() == 3
    looks_right(page, "notifications")

    newest = Notification.objects.filter(recipient__username="foreign").order_by(
        "-created_at", "-id"
    )[0]
    page.locator(f"li[data-notification='{newest.pk}'] button").click()
    page.wait_for_url(re.compile(rf"/applications/{newest.application_id}/$"))
    assert page.inner_text("#unread-count").startswith("2")
    page.goto("/notifications/")
    assert page.locator(f"li[data-notification='{newest.pk}']").get_attribute("class") == "read"
    page.click("#read-all")
    page.wait_for_selector("text=2 notifications marked as read.")
    assert page.locator("#notifications li.unread").count() == 0
    assert page.locator("#unread-count").count() == 0
    looks_right(page, "notifications-read")
    assert {c.pk for c in cases} >= {newest.application_id}


def test_a_defense_supervisor_suspends_a_licence_defense_did_not_review(open_as, looks_right):
    page = open_as("defense-supervisor")
    people = _people("exporter", "defense", "economy", "foreign")
    application = factories.approved(people["exporter"], people)  # dual-use: Economy alone
    assert list(application.reviews.values_list("ministry", flat=True)) == ["economy"]
    license = License.objects.get(application=application)
    page.click("#nav-licenses")
    page.wait_for_url(re.compile(r"/licenses/$"))
    row = page.locator(f"#licenses tr[data-license='{license.number}']")
    assert "Suspend license" in row.inner_text() and "Revoke license" in row.inner_text()
    looks_right(page, "licenses")

    row.locator("a[data-action=suspend]").click()
    page.wait_for_url(re.compile(rf"/licenses/{license.pk}/"))
    looks_right(page, "license")
    page.fill("#license-suspend textarea", "Inquiry into the end user.")
    page.click("#license-suspend button[type=submit]")
    assert page.inner_text("h1") == f"Suspend license {license.number}?"
    page.click("#confirm")
    page.wait_for_selector(f"text=License {license.number} suspended.")
    assert page.inner_text("#license-status") == "Suspended"
    license.refresh_from_db()
    assert (license.status, license.status_reason) == ("suspended", "Inquiry into the end user.")
    looks_right(page, "license-suspended")
