"""The exporter's pages: the draft form and its error summary, the task list, check your
answers with its declaration, and what an exporter's case page leaves out."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from licensing.models import Application, AuditEvent, ControlListEntry, Country
from licensing.services.applications import application_submit
from tests.factories import disputed, draft

pytestmark = pytest.mark.django_db


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.found.append((tag, dict(attrs)))


def elements(html: str, tag: str) -> list[dict]:
    parser = _Elements()
    parser.feed(html)
    return [attrs for name, attrs in parser.found if name == tag]


def title(html: str) -> str:
    return re.search(r"<title>(.*?)</title>", html, re.S)[1].strip()


def summary_links(html: str) -> list[str]:
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert summary, "no error summary"
    assert 'role="alert"' in summary[0]
    return re.findall(r'<a href="([^"]+)">', summary[0])


def summary_messages(html: str) -> list[str]:
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    return re.findall(r'<a href="[^"]+">([^<]+)</a>', summary[0]) if summary else []


def field_messages(html: str) -> list[str]:
    """What each field says beside it, in the page's order."""
    return re.findall(
        r'<ul class="errorlist" id="[^"]+_error">.*?<span class="visually-hidden">Error:</span> '
        r"([^<]+)</li>",
        html,
        re.S,
    )


def _form_data(**overrides) -> dict:
    entry = ControlListEntry.objects.get(code="6A003")
    data = {
        "license_type": "dual_use_export",
        "destination": "DE",
        "currency": "USD",
        "end_user_name": "Fraunhofer Demo Institute",
        "end_user_address": "Hansastrasse 27c, Munich",
        "end_user_country": "DE",
        "end_user_type": "research",
        "end_use": "Thermal imaging research.",
        "goods-TOTAL_FORMS": "1",
        "goods-INITIAL_FORMS": "0",
        "goods-0-description": "Cooled thermal camera core",
        "goods-0-control_list_entry": str(entry.pk),
        "goods-0-quantity": "4",
        "goods-0-unit_value": "1200.00",
        "goods-0-technology_generation": "previous",
    }
    return {**data, **overrides}


def test_the_draft_forms_goods_are_labelled_and_quantity_starts_at_one(client, exporter):
    client.force_login(exporter)
    html = client.get("/applications/new/").content.decode()
    labelled = {attrs["for"] for attrs in elements(html, "label") if "for" in attrs}
    inputs = [
        attrs
        for tag in ("input", "select", "textarea")
        for attrs in elements(html, tag)
        if attrs.get("type") != "hidden" and "goods-0-" in attrs.get("id", "")
    ]
    assert len(inputs) == 6  # description, entry, quantity, unit value, generation, US content
    assert [a["id"] for a in inputs if a["id"] not in labelled] == []
    quantity = next(a for a in inputs if a["id"] == "id_goods-0-quantity")
    assert quantity["min"] == "1"


def test_a_failed_draft_shows_every_error_in_a_summary_linked_to_its_field(client, exporter):
    client.force_login(exporter)
    response = client.post(
        "/applications/new/",
        _form_data(**{"currency": "ZZZ", "goods-0-quantity": "0", "end_user_name": "Kept Ltd"}),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert title(html).startswith("Error: ")
    links = summary_links(html)
    assert links == ["#id_currency", "#id_goods-0-quantity"]
    ids = {attrs.get("id") for tag in ("input", "select") for attrs in elements(html, tag)}
    assert {"id_currency", "id_goods-0-quantity"} <= ids  # each link lands on its field
    assert summary_messages(html) == [
        "Use an ISO 4217 currency code, such as USD or ILS.",
        "The quantity of good 1 must be 1 or more.",
    ]
    assert field_messages(html) == summary_messages(html)  # the same words by the field
    assert "Ensure this value" not in html  # no Django default
    assert 'value="Kept Ltd"' in html and 'value="ZZZ"' in html
    assert not Application.objects.exists()


def test_a_saved_draft_is_a_task_list_of_its_sections(client, exporter):
    client.force_login(exporter)
    response = client.post("/applications/new/", _form_data(consignee_name="Transit GmbH"))
    application = Application.objects.get()
    assert response.status_code == 302
    html = client.get(f"/applications/{application.pk}/").content.decode()
    states = dict(
        re.findall(r'data-task="([a-z-]+)".*?<strong class="tag[^"]*"[^>]*>([^<]+)<', html, re.S)
    )
    assert states == {
        "licence-details": "Completed",
        "end-user": "Completed",
        "parties": "In progress",  # a consignee's name without the rest
        "end-use": "Completed",
        "goods": "Completed",
        "documents": "Not started",
    }
    assert f'href="/applications/{application.pk}/edit/#end-user"' in html
    assert f'href="/applications/{application.pk}/check/"' in html
    # Submitting happens on check your answers, not from the case page.
    assert f'action="/applications/{application.pk}/submit/"' not in html


def test_check_your_answers_lists_every_problem_at_once_with_links(client, exporter):
    application = draft(
        created_by=exporter,
        goods=0,
        destination="IR",
        end_user_address="",
        end_use="",
    )
    client.force_login(exporter)
    html = client.get(f"/applications/{application.pk}/check/").content.decode()
    edit = f"/applications/{application.pk}/edit/"
    problems = re.search(r'<section class="problems".*?</section>', html, re.S)[0]
    assert "4 problems to fix before you can submit" in problems
    assert re.findall(r'<a href="([^"]+)">', problems) == [
        f"{edit}#id_end_user_address",
        f"{edit}#id_end_use",
        f"{edit}#goods",
        f"{edit}#id_destination",
    ]
    assert "Fraunhofer Demo Institute" in html  # the answers themselves
    assert f'href="{edit}#id_end_user_name"' in html  # each with a Change link
    assert 'name="declaration"' in html


def test_submitting_needs_the_declaration_and_then_submits(client, exporter):
    application = draft(created_by=exporter)
    client.force_login(exporter)
    refused = client.post(f"/applications/{application.pk}/submit/", {})
    assert refused.status_code == 400
    html = refused.content.decode()
    assert title(html).startswith("Error: Check your answers")
    assert summary_links(html) == ["#id_declaration"]
    assert "Tick the declaration to submit the application." in html
    application.refresh_from_db()
    assert application.status == "draft"

    done = client.post(f"/applications/{application.pk}/submit/", {"declaration": "on"})
    assert done.status_code == 302
    application.refresh_from_db()
    assert application.status == "under_review"
    event = AuditEvent.objects.get(application=application, action="application_submitted")
    assert event.data["declaration"] is True
    # A submitted case has no check page to go back to.
    assert client.get(f"/applications/{application.pk}/check/").status_code == 302


def test_a_refused_submission_shows_every_problem_and_the_declaration_kept(client, exporter):
    application = draft(created_by=exporter, end_use="", destination="SY")
    client.force_login(exporter)
    response = client.post(f"/applications/{application.pk}/submit/", {"declaration": "on"})
    assert response.status_code == 400
    html = response.content.decode()
    edit = f"/applications/{application.pk}/edit/"
    assert summary_links(html) == [f"{edit}#id_end_use", f"{edit}#id_destination"]
    declaration = next(a for a in elements(html, "input") if a.get("name") == "declaration")
    assert "checked" in declaration


def test_check_your_answers_says_each_problem_once_and_the_declaration_briefly(client, exporter):
    application = draft(created_by=exporter, end_use="", destination="SY")
    client.force_login(exporter)
    response = client.post(f"/applications/{application.pk}/submit/", {})
    assert response.status_code == 400
    html = response.content.decode()
    messages = summary_messages(html)
    assert len(messages) == 3
    assert messages[-1] == "Tick the declaration to submit the application."
    for message in messages:
        assert html.count(message) == (2 if message == messages[-1] else 1), message
    assert field_messages(html) == [messages[-1]]  # beside the declaration, the same words


def test_an_exporter_sees_no_recommendation_while_disputed(client, exporter, reviewers):
    application = disputed(exporter, reviewers)
    client.force_login(exporter)
    html = client.get(f"/applications/{application.pk}/").content.decode()
    assert "Disputed" in html
    assert "Recommendation" not in html
    reviews = re.search(r'<table id="reviews">.*?</table>', html, re.S)[0]
    timeline = re.search(r'<ol id="timeline">.*?</ol>', html, re.S)[0]
    for shown in (reviews, timeline):
        assert "Approve" not in shown and "Deny" not in shown and "deemed" not in shown
    assert "Why these reviews" not in html and "rule " not in html
    assert "Sent to the interagency committee for a decision" in html
    assert 'data-action="review_claimed"' not in html

    client.force_login(reviewers["defense"])
    staff = client.get(f"/applications/{application.pk}/").content.decode()
    assert "Recommendation" in staff and "Why these reviews" in staff
    assert 'data-action="review_claimed"' in staff


def test_an_action_form_that_fails_gets_the_summary_too(client, exporter, reviewers):
    application = application_submit(application=draft(created_by=exporter), user=exporter)
    review = application.reviews.get()
    client.force_login(reviewers["economy"])
    client.post(f"/reviews/{review.pk}/claim/")
    response = client.post(
        f"/reviews/{review.pk}/recommend/", {"recommendation": "deny", "reason": ""}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert title(html).startswith("Error: ")
    links = summary_links(html)
    assert links and all(link.startswith("#id_") for link in links)
    ids = {attrs.get("id") for tag in ("textarea", "select") for attrs in elements(html, tag)}
    assert {link[1:] for link in links} <= ids


def test_the_draft_form_offers_each_destination_without_naming_lists(client, exporter):
    client.force_login(exporter)
    html = client.get("/applications/new/").content.decode()
    assert "embargoed" not in html and "sensitive" not in html
    assert Country.objects.filter(code="IR").exists()


def test_once_decided_the_exporter_sees_each_ministrys_recommendation(
    client, exporter, reviewers, committee_member
):
    from licensing.services.applications import application_decide

    application = disputed(exporter, reviewers)
    application_decide(
        application=application, user=committee_member, decision="approve", reason="Agreed."
    )
    client.force_login(exporter)
    html = client.get(f"/applications/{application.pk}/").content.decode()
    reviews = re.search(r'<table id="reviews">.*?</table>', html, re.S)[0]
    assert "Recommendation" in reviews and "Deny" in reviews
    assert "Reasons" not in reviews  # the reviewers' notes stay internal


def test_submitting_on_the_page_reads_the_application_once_under_the_services_lock(
    client, exporter
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    application = draft(created_by=exporter)
    client.force_login(exporter)
    with CaptureQueriesContext(connection) as captured:
        done = client.post(f"/applications/{application.pk}/submit/", {"declaration": "on"})
    assert done.status_code == 302
    table = f'FROM "{Application._meta.db_table}"'
    reads = [q["sql"] for q in captured if q["sql"].startswith("SELECT") and table in q["sql"]]
    assert len(reads) == 1, reads
    if connection.features.has_select_for_update:
        assert "FOR UPDATE" in reads[0]


def test_forms_leave_checking_to_the_error_summary_not_the_browsers_tooltip(client, exporter):
    application = draft(created_by=exporter)
    client.force_login(exporter)
    edit = client.get(f"/applications/{application.pk}/edit/").content.decode()
    check = client.get(f"/applications/{application.pk}/check/").content.decode()
    case = client.get(f"/applications/{application.pk}/").content.decode()
    forms = [
        next(a for a in elements(edit, "form") if a.get("id") == "application-form"),
        next(a for a in elements(check, "form") if a.get("id") == "submit"),
        next(a for a in elements(case, "form") if a.get("id") == "upload"),
    ]
    assert all("novalidate" in form for form in forms)
