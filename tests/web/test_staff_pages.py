"""The staff's pages without a browser: the queue's filters, sorting, tabs and marks; the
supervisor's workload and bulk reassign; notifications; licences; the case header; the
committee's reading and decision; the confirmation step of irreversible actions."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from licensing.clock import WorkingCalendar, local_today
from licensing.models import AuditEvent, License, Notification, Review
from licensing.services.licenses import license_issue
from licensing.services.reviews import (
    review_claim,
    review_recommend,
    review_request_information,
)
from tests import factories

pytestmark = pytest.mark.django_db

MUNITIONS = {"code": "ML10", "destination": "CN", "license_type": "marketing"}


def _html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _rows(html: str) -> list[str]:
    """The references in the queue, in the order shown."""
    table = re.search(r'<table id="queue">(.*?)</table>', html, re.S)[1]
    return re.findall(r'<tr data-reference="([^"]+)"', table)


def _named(user, first: str, last: str):
    user.first_name, user.last_name = first, last
    user.save(update_fields=["first_name", "last_name"])
    return user


@pytest.fixture
def queue(exporter):
    """Four munitions cases to China, each with a Defense review."""
    return [factories.submitted(exporter, **MUNITIONS) for _ in range(4)]


def _defense(application) -> Review:
    return application.reviews.get(ministry="defense")


# The queue: filters, sorting, tabs, marks


def test_a_reviewer_filters_the_queue_by_status_and_assignee(client, queue, reviewers, supervisors):
    colleague = _named(supervisors["defense"], "Dana", "Levi")
    review_claim(review=_defense(queue[0]), user=reviewers["defense"])
    review_claim(review=_defense(queue[1]), user=colleague)
    client.force_login(reviewers["defense"])
    references = [a.reference for a in queue]

    assert sorted(_rows(_html(client.get("/")))) == sorted(references)
    assert _rows(_html(client.get("/?assignee=me"))) == [references[0]]
    assert sorted(_rows(_html(client.get("/?assignee=none")))) == sorted(references[2:])
    named = _html(client.get(f"/?assignee={colleague.pk}"))
    assert _rows(named) == [references[1]]
    assert "Dana Levi" in named  # colleagues by full name, in the choice and the row
    assert sorted(_rows(_html(client.get("/?status=in_progress")))) == sorted(references[:2])
    # A value nobody offered is ignored, not a 500.
    assert len(_rows(_html(client.get("/?status=nonsense&assignee=99999999")))) == 4


def test_overdue_and_due_soon_filters_use_the_ministrys_windows(client, queue, reviewers):
    today = local_today()
    calendar = WorkingCalendar.load()
    Review.objects.filter(pk=_defense(queue[0]).pk).update(due_date=today - timedelta(days=3))
    Review.objects.filter(pk=_defense(queue[1]).pk).update(
        due_date=calendar.add_working_days(today, 1)
    )
    client.force_login(reviewers["defense"])
    overdue = _html(client.get("/?overdue=on"))
    assert _rows(overdue) == [queue[0].reference]
    assert "(overdue)" in overdue
    assert "working days overdue" in overdue or "working day overdue" in overdue
    assert _rows(_html(client.get("/?due_soon=on"))) == [queue[1].reference]


def test_sorting_by_reference_and_destination_and_the_filters_survive_paging(
    client, exporter, reviewers
):
    for destination in ("DE", "FR", "CN"):
        factories.submitted(
            exporter, code="ML10", destination=destination, license_type="marketing"
        )
    client.force_login(reviewers["defense"])
    by_reference = _rows(_html(client.get("/?sort=reference")))
    assert by_reference == sorted(by_reference)
    assert _rows(_html(client.get("/?sort=-reference"))) == by_reference[::-1]
    html = _html(client.get("/?sort=destination"))
    destinations = re.findall(r'<td class="wide-only">([A-Z][a-z]+)</td>', html)
    assert destinations == sorted(destinations) == ["China", "France", "Germany"]
    # The sort and the filters stay in the links to other pages.
    for _ in range(50):
        factories.submitted(exporter, code="ML10", destination="DE", license_type="marketing")
    first = _html(client.get("/?sort=-reference&assignee=none&q=EXP"))
    assert len(_rows(first)) == 50
    link = re.search(r'<a href="(\?[^"]*)" rel="next">', first)[1].replace("&amp;", "&")
    assert set(link[1:].split("&")) == {"sort=-reference", "assignee=none", "q=EXP", "page=2"}
    second = _html(client.get(f"/{link}"))
    assert len(_rows(second)) == 3
    assert _rows(first) + _rows(second) == sorted(_rows(first) + _rows(second), reverse=True)
    assert 'rel="prev"' in second


def test_sorting_by_received_date_either_way(client, exporter, reviewers):
    cases = [
        factories.submitted(exporter, code="ML10", destination="DE", license_type="marketing")
        for _ in range(3)
    ]
    received = [date(2026, 11, 3), date(2026, 11, 1), date(2026, 11, 2)]
    for case, day in zip(cases, received, strict=True):
        Review.objects.filter(application=case, ministry="defense").update(received_on=day)
    client.force_login(reviewers["defense"])
    oldest_first = [c.reference for _, c in sorted(zip(received, cases, strict=True))]
    assert _rows(_html(client.get("/?sort=received"))) == oldest_first
    assert _rows(_html(client.get("/?sort=-received"))) == oldest_first[::-1]


def test_claiming_from_the_queue_comes_back_to_the_same_filtered_page(client, queue, reviewers):
    review = _defense(queue[0])
    client.force_login(reviewers["defense"])
    html = _html(client.get("/?assignee=none&sort=-reference&page=1"))
    assert 'name="query" value="assignee=none&amp;sort=-reference&amp;page=1"' in html
    response = client.post(
        f"/reviews/{review.pk}/claim/",
        {"next": "home", "query": "assignee=none&sort=-reference&page=1"},
    )
    assert response["Location"] == "/?assignee=none&sort=-reference&page=1"
    review.refresh_from_db()
    assert review.assigned_to == reviewers["defense"]
    hostile = client.post(
        f"/reviews/{_defense(queue[1]).pk}/claim/",
        {"next": "home", "query": "//evil.example/x"},
    )
    assert hostile["Location"].startswith("/?")  # only ever a query string on the queue


def test_the_completed_tab_reaches_work_the_reviewer_finished(client, queue, reviewers):
    finished = _defense(queue[0])
    review_claim(review=finished, user=reviewers["defense"])
    review_recommend(review=finished, user=reviewers["defense"], recommendation="approve")
    client.force_login(reviewers["defense"])
    assert queue[0].reference not in _rows(_html(client.get("/")))
    done = _html(client.get("/?tab=completed&assignee=me"))
    assert _rows(done) == [queue[0].reference]
    assert "Completed: approve" in done
    assert 'id="tab-completed" aria-current="page"' not in done  # attribute order
    assert re.search(r'aria-current="page" id="tab-completed"', done)


def test_each_row_says_the_working_days_left_and_marks_a_stopped_clock(client, queue, reviewers):
    asked = _defense(queue[0])
    review_claim(review=asked, user=reviewers["defense"])
    review_request_information(review=asked, user=reviewers["defense"], question="Which unit?")
    client.force_login(reviewers["defense"])
    html = _html(client.get("/"))
    rows = dict(
        re.findall(r'<tr data-reference="([^"]+)" data-review="\d+">(.*?)</tr>', html, re.S)
    )
    stopped = rows[queue[0].reference]
    assert "Clock stopped" in stopped
    assert "when stopped" in stopped
    running = rows[queue[1].reference]
    assert "Clock stopped" not in running
    calendar = WorkingCalendar.load()
    review = _defense(queue[1])
    left = calendar.working_days_between(local_today(), review.due_date)
    assert f"{left} working days left" in running


# The supervisor's page


def test_the_supervisor_sees_each_reviewers_workload_and_overdue_once(
    client, queue, reviewers, supervisors
):
    _named(reviewers["defense"], "Noa", "Cohen")
    review_claim(review=_defense(queue[0]), user=reviewers["defense"])
    review_claim(review=_defense(queue[1]), user=reviewers["defense"])
    Review.objects.filter(pk=_defense(queue[1]).pk).update(
        due_date=local_today() - timedelta(days=7)
    )
    client.force_login(supervisors["defense"])
    html = _html(client.get("/"))
    workload = re.search(r'<table id="workload-table">(.*?)</table>', html, re.S)[1]
    row = re.search(r'<tr data-person="defense-reviewer">(.*?)</tr>', workload, re.S)[1]
    assert "Noa Cohen" in row
    assert re.findall(r'<td class="num[^"]*">(?:<a [^>]*>)?(\d+)', row) == ["2", "0", "1"]
    unassigned = re.search(r'<tr data-person="unassigned">(.*?)</tr>', workload, re.S)[1]
    assert re.findall(r'<td class="num[^"]*">(?:<a [^>]*>)?(\d+)', unassigned)[0] == "2"
    # The overdue review is listed once, in the queue, marked; no second list.
    assert html.count(f'data-reference="{queue[1].reference}"') == 1
    assert html.count(f">{queue[1].reference}</a>") == 1
    assert 'id="overdue"' not in html
    # One labelled select for the whole page, not one per row.
    assert html.count('<select id="id_assignee"') == 1
    assert '<label for="id_assignee">Reassign the selected reviews to</label>' in html
    assert html.count('name="reviews"') == 4
    ids = re.findall(r' id="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "every id once on the page"


def test_the_supervisor_reassigns_several_rows_at_once(client, queue, reviewers, supervisors):
    target = _named(supervisors["defense"], "Dana", "Levi")
    chosen = [_defense(a) for a in queue[:3]]
    client.force_login(supervisors["defense"])
    response = client.post(
        "/reviews/reassign/?sort=reference",
        {"assignee": target.pk, "reviews": [r.pk for r in chosen]},
    )
    assert response.status_code == 302
    assert response["Location"] == "/?sort=reference"
    assert {r.assigned_to_id for r in Review.objects.filter(pk__in=[r.pk for r in chosen])} == {
        target.pk
    }
    assert _defense(queue[3]).assigned_to_id is None
    assert AuditEvent.objects.filter(action="review_reassigned").count() == 3
    html = _html(client.get("/"))
    assert "3 review(s) reassigned to Dana Levi" in html


def test_an_empty_choice_is_an_error_summary_not_a_silent_reload(
    client, queue, reviewers, supervisors
):
    client.force_login(supervisors["defense"])
    review = _defense(queue[0])
    response = client.post("/reviews/reassign/", {"assignee": "", "reviews": [review.pk]})
    assert response.status_code == 400
    html = response.content.decode()
    summary = re.search(
        r'<div class="error-summary" id="error-summary" role="alert"[^>]*>(.*?)</div>', html, re.S
    )[1]
    assert '<a href="#id_assignee">Choose who to reassign the selected reviews to.</a>' in summary
    assert "<title>Error: " in html
    nothing = client.post("/reviews/reassign/", {"assignee": reviewers["defense"].pk})
    assert nothing.status_code == 400
    assert (
        '<a href="#queue">Select at least one review to reassign.</a>' in nothing.content.decode()
    )
    review.refresh_from_db()
    assert review.assigned_to_id is None


def test_a_reviewer_cannot_bulk_reassign(client, queue, reviewers):
    client.force_login(reviewers["defense"])
    review = _defense(queue[0])
    response = client.post(
        "/reviews/reassign/", {"assignee": reviewers["defense"].pk, "reviews": [review.pk]}
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.assigned_to_id is None
    assert 'id="bulk-reassign"' not in _html(client.get("/"))


# Notifications


def test_notifications_unread_count_page_open_and_mark_all(client, exporter, reviewers):
    for _ in range(3):
        factories.submitted(exporter, **MUNITIONS)
    reviewer = reviewers["defense"]
    mine = list(Notification.objects.filter(recipient=reviewer).order_by("-created_at", "-id"))
    assert len(mine) == 3
    client.force_login(reviewer)
    home = _html(client.get("/"))
    assert re.search(r'<span class="badge" id="unread-count">3<', home)
    page = _html(client.get("/notifications/"))
    assert page.count('class="unread"') == 3
    opened = client.post(f"/notifications/{mine[0].pk}/")
    assert opened.status_code == 302
    assert opened["Location"] == f"/applications/{mine[0].application_id}/"
    mine[0].refresh_from_db()
    first_read = mine[0].read_at
    assert first_read is not None
    page = _html(client.get("/notifications/"))
    assert page.count('class="unread"') == 2
    assert page.count('class="read"') == 1
    assert (
        len(re.findall(r'data-notification="\d+"', _html(client.get("/notifications/?unread=1"))))
        == 2
    )
    client.post(f"/notifications/{mine[0].pk}/")
    mine[0].refresh_from_db()
    assert mine[0].read_at == first_read  # the first reading time is kept
    done = client.post("/notifications/read-all/", follow=True)
    assert "2 notifications marked as read." in done.content.decode()
    assert not Notification.objects.filter(recipient=reviewer, read_at__isnull=True).exists()
    assert 'id="unread-count"' not in _html(client.get("/"))


def test_the_unread_count_stops_counting_at_the_cap(client, reviewers):
    """A backlog of unread notifications costs the header no more than a hundred: "99+"."""
    from accounts.backends import UNREAD_CAP

    reviewer = reviewers["defense"]
    Notification.objects.bulk_create(
        Notification(
            key=f"n{i}", recipient=reviewer, event="review_assigned", subject="S", body="B"
        )
        for i in range(UNREAD_CAP + 20)
    )
    client.force_login(reviewer)
    assert re.search(r'id="unread-count">99\+<', _html(client.get("/")))
    assert "Unread (99+)" in _html(client.get("/notifications/"))
    Notification.objects.filter(pk__in=Notification.objects.values("pk")[:21]).update(
        read_at="2026-01-01T00:00:00Z"
    )
    assert re.search(r'id="unread-count">99<', _html(client.get("/")))


def test_someone_elses_notification_is_not_found(client, exporter, reviewers):
    factories.submitted(exporter, **MUNITIONS)
    theirs = Notification.objects.filter(recipient=reviewers["defense"]).first()
    client.force_login(reviewers["foreign"])
    assert client.post(f"/notifications/{theirs.pk}/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_notifications_page_is_paged(client, exporter, reviewers):
    for _ in range(30):
        factories.submitted(exporter, **MUNITIONS)
    client.force_login(reviewers["foreign"])
    first = _html(client.get("/notifications/"))
    assert len(re.findall(r'data-notification="\d+"', first)) == 25
    assert "Showing 1&ndash;25 of 30." in first
    assert (
        len(re.findall(r'data-notification="\d+"', _html(client.get("/notifications/?page=2"))))
        == 5
    )


# Licences


@pytest.fixture
def economy_license(exporter, reviewers):
    """A dual-use licence only Economy reviewed: Defense never saw its case."""
    application = factories.approved(exporter, reviewers)
    assert set(application.reviews.values_list("ministry", flat=True)) == {"economy"}
    return application.license


def test_a_defense_supervisor_lists_and_suspends_a_licence_defense_did_not_review(
    client, economy_license, supervisors
):
    license = economy_license
    client.force_login(supervisors["defense"])
    assert client.get(f"/applications/{license.application_id}/").status_code == 404
    listed = _html(client.get("/licenses/"))
    row = re.search(rf'<tr data-license="{license.number}">(.*?)</tr>', listed, re.S)[1]
    assert 'data-action="suspend"' in row and 'data-action="revoke"' in row
    page = _html(client.get(f"/licenses/{license.pk}/"))
    assert f'action="/licenses/{license.pk}/suspend/"' in page
    # A missing reason is shown on the licence page, with the form.
    missing = client.post(f"/licenses/{license.pk}/suspend/", {"reason": "", "next": "license"})
    assert missing.status_code == 400
    assert "Enter the reason." in missing.content.decode()
    asked = _html(
        client.post(f"/licenses/{license.pk}/suspend/", {"reason": "Inquiry", "next": "license"})
    )
    assert f"Suspend license {license.number}?" in asked
    license.refresh_from_db()
    assert license.status == "active"
    done = client.post(
        f"/licenses/{license.pk}/suspend/",
        {"reason": "Inquiry", "next": "license", "confirmed": "yes"},
    )
    assert done["Location"] == f"/licenses/{license.pk}/"
    license.refresh_from_db()
    assert (license.status, license.status_reason) == ("suspended", "Inquiry")


def test_other_ministries_and_exporters_see_only_their_licences(
    client, economy_license, exporter, outsider, supervisors, committee_member
):
    license = economy_license
    client.force_login(supervisors["foreign"])
    assert license.number not in _html(client.get("/licenses/"))
    assert client.get(f"/licenses/{license.pk}/").status_code == 404
    client.force_login(committee_member)
    assert license.number in _html(client.get("/licenses/"))
    client.force_login(exporter)
    row = re.search(
        rf'<tr data-license="{license.number}">(.*?)</tr>', _html(client.get("/licenses/")), re.S
    )[1]
    assert 'data-action="surrender"' in row and 'data-action="suspend"' not in row
    client.force_login(outsider)
    assert license.number not in _html(client.get("/licenses/"))


# The case header, the committee, confirmations


def test_the_case_header_names_holders_days_left_and_the_stopped_clock(client, exporter, reviewers):
    application = factories.submitted(exporter, **MUNITIONS)
    defense = _named(reviewers["defense"], "Noa", "Cohen")
    review = _defense(application)
    review_claim(review=review, user=defense)
    client.force_login(defense)
    html = _html(client.get(f"/applications/{application.pk}/"))
    header = re.search(r'<div class="case-header" id="case-header">(.*?)</details>', html, re.S)[0]
    row = re.search(r'<tr data-ministry="defense">(.*?)</tr>', header, re.S)[1]
    assert "Noa Cohen" in row
    left = WorkingCalendar.load().working_days_between(local_today(), review.due_date)
    assert f"{left} working days left" in row
    assert '<details class="diagram" id="workflow">' in header
    assert 'id="clock-stopped"' not in html

    review_request_information(review=review, user=defense, question="Which unit?")
    html = _html(client.get(f"/applications/{application.pk}/"))
    today = local_today().strftime("%d %b %Y")
    assert f"Clock stopped since {today}, waiting for the exporter." in html
    client.force_login(exporter)
    exporter_html = _html(client.get(f"/applications/{application.pk}/"))
    assert "Clock stopped since" in exporter_html
    assert 'id="case-reviews"' not in exporter_html  # no holders' names for the exporter


def test_the_committee_reads_the_advice_above_its_form_and_approves_with_conditions(
    client, exporter, reviewers, committee_member
):
    application = factories.disputed(exporter, reviewers)
    client.force_login(committee_member)
    html = _html(client.get(f"/applications/{application.pk}/"))
    advice = html.index('id="advice"')
    assert advice < html.index('id="decide"')
    cards = re.findall(r'<article class="advice-card" data-ministry="(\w+)">', html)
    assert sorted(cards) == ["defense", "foreign"]
    assert "Against policy." in html[advice : html.index('id="decide"')]

    body = {
        "decision": "approve",
        "reason": "Acceptable with checks.",
        "conditions": "Post-shipment verification.",
    }
    asked = _html(client.post(f"/applications/{application.pk}/decide/", body))
    assert "Record the committee&#x27;s decision on" in asked
    assert "Post-shipment verification." in asked  # what is about to be recorded
    application.refresh_from_db()
    assert application.status == "disputed"
    done = client.post(f"/applications/{application.pk}/decide/", {**body, "confirmed": "yes"})
    assert done.status_code == 302
    application.refresh_from_db()
    assert application.status == "approved"
    assert (
        "Committee: Post-shipment verification."
        in License.objects.get(application=application).conditions
    )


def test_a_denial_with_conditions_is_refused_before_the_confirmation(
    client, exporter, reviewers, committee_member
):
    application = factories.disputed(exporter, reviewers)
    client.force_login(committee_member)
    response = client.post(
        f"/applications/{application.pk}/decide/",
        {"decision": "deny", "reason": "Risk.", "conditions": "None would do."},
    )
    assert response.status_code == 400
    assert "Conditions go with an approval, not a denial." in response.content.decode()


def test_a_recommendation_is_recorded_only_once_confirmed(client, queue, reviewers):
    review = _defense(queue[0])
    review_claim(review=review, user=reviewers["defense"])
    client.force_login(reviewers["defense"])
    body = {"recommendation": "deny", "reason": "Diversion risk.", "criteria": ["7"]}
    asked = _html(client.post(f"/reviews/{review.pk}/recommend/", body))
    assert "Record this recommendation? It cannot be changed afterwards." in asked
    summary = re.search(r'<dl class="summary-list" id="confirm-summary">(.*?)</dl>', asked, re.S)[1]
    assert "Deny" in summary and "Diversion risk." in summary
    assert "7. Existence of a risk" in summary  # the refusal criterion cited
    assert 'name="confirmed" value="yes" id="confirm"' in asked
    assert 'name="back" value="yes" id="cancel"' in asked  # back to the form, kept
    review.refresh_from_db()
    assert review.status == "in_progress"
    # Denying without reasons (or criteria) is refused on the case page, before any
    # confirmation.
    refused = client.post(f"/reviews/{review.pk}/recommend/", {"recommendation": "deny"})
    assert refused.status_code == 400
    assert "Give the reasons for denying." in refused.content.decode()
    uncited = client.post(
        f"/reviews/{review.pk}/recommend/", {"recommendation": "deny", "reason": "Risk."}
    )
    assert uncited.status_code == 400
    assert "A deny cites at least one refusal criterion." in uncited.content.decode()
    client.post(f"/reviews/{review.pk}/recommend/", {**body, "confirmed": "yes"})
    review.refresh_from_db()
    assert (review.status, review.recommendation) == ("completed", "deny")


# Budgets


def _queries(client, path: str) -> int:
    client.get(path)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_the_reviewers_queue_is_three_queries_with_filters_and_sort(client, exporter, reviewers):
    for _ in range(3):
        factories.submitted(exporter, **MUNITIONS)
    client.force_login(reviewers["defense"])
    # The user with their unread count (accounts.backends; the session comes from the
    # cache), the colleagues (the assignee filter), and one page of rows carrying their
    # total (COUNT(*) OVER ()).
    assert _queries(client, "/") == 3
    assert _queries(client, "/?sort=-destination&assignee=none&overdue=on") == 3
    assert _queries(client, "/?tab=completed") == 3


def test_the_licence_list_and_notifications_cost_the_same_for_few_and_many(
    client, exporter, reviewers, committee_member
):
    factories.approved(exporter, reviewers)
    client.force_login(committee_member)
    few_licenses = _queries(client, "/licenses/")
    client.force_login(reviewers["economy"])
    few_notifications = _queries(client, "/notifications/")
    for _ in range(5):
        application = factories.draft(created_by=exporter, status="approved")
        license_issue(application=application)
        factories.submitted(exporter)
    client.force_login(committee_member)
    assert _queries(client, "/licenses/") == few_licenses
    client.force_login(reviewers["economy"])
    assert _queries(client, "/notifications/") == few_notifications <= 5


def test_a_long_list_counts_only_up_to_the_cap_and_still_pages_on(
    client, exporter, reviewers, monkeypatch
):
    """Past COUNT_CAP rows the total reads "N or more" (no scan of the whole history), and
    Next still leads on, from the rows themselves."""
    from licensing.web import queues

    monkeypatch.setattr(queues, "COUNT_CAP", 4)
    monkeypatch.setattr(queues, "PAGE_SIZE", 3)
    for _ in range(8):
        factories.submitted(exporter, **MUNITIONS)
    client.force_login(reviewers["defense"])
    first = _html(client.get("/"))
    assert "Showing 1&ndash;3 of 4 or more." in first
    assert 'rel="next"' in first
    third = _html(client.get("/?page=3"))
    assert "Showing 7&ndash;8 of 8." in third  # the rows ran out: now it is known
    assert third.count("data-reference=") == 2
    assert 'rel="next"' not in third
    assert 'rel="prev"' in third
    monkeypatch.setattr(queues, "COUNT_CAP", 100)
    assert "Showing 1&ndash;3 of 8." in _html(client.get("/"))
