"""The Django admin: rules editable with history, cases and the audit trail read-only."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from licensing.models import Application, AuditEvent, RoutingRule
from tests import factories
from tests.auth import log_in

pytestmark = pytest.mark.django_db
JERUSALEM = ZoneInfo("Asia/Jerusalem")


@pytest.fixture
def admin_client(client, administrator):
    log_in(client, administrator)  # verified with an authenticator: administrators must
    return client


@pytest.fixture
def submitted(exporter) -> Application:
    return factories.submitted(exporter)


REGISTERED = [model for model in apps.get_models() if admin.site.is_registered(model)]


def _url(model, page: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}", args=args)


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_every_admin_list_opens(admin_client, submitted, model):
    response = admin_client.get(_url(model, "changelist"))
    assert response.status_code == 200


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_nul_in_admin_list_filters_and_search_is_ignored(admin_client, submitted, model):
    """Every changelist filter, the search and the ordering with a NUL: dropped, never a 500."""
    model_admin = admin.site.get_model_admin(model)
    names = [name for name in model_admin.list_filter if isinstance(name, str)]
    params = "&".join(f"{name}=%00" for name in names)
    admin_client.raise_request_exception = False
    for query in ["q=%00", "q=EXP%00", "o=%00", "p=%00", params]:
        if not query:
            continue
        response = admin_client.get(f"{_url(model, 'changelist')}?{query}")
        assert response.status_code == 200, (query, response.status_code)
        assert b"\x00" not in response.content


def test_an_administrator_edits_a_rule_and_its_history_keeps_both_versions(
    admin_client, administrator
):
    rule = RoutingRule.objects.get(priority=70)
    response = admin_client.post(
        _url(RoutingRule, "change", rule.pk),
        {
            "name": rule.name,
            "priority": 70,
            "active": "on",
            "action": "require_review",
            "ministry": "defense",
            "message": "",
            "destination_list": rule.destination_list_id,
            "technology_generation": "current",
            "control_code_prefix": "9A012",
            "us_origin_content": "unknown",
            "military_end_use": "unknown",
            "regime": "",
            "license_type": "",
            "min_total_value": "",
            "valid_from": "",
            "valid_until": "",
            "change_reason": "Only cutting-edge UAVs stay off sensitive destinations.",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    rule.refresh_from_db()
    assert rule.control_code_prefix == "9A012"
    latest = rule.history.first()
    assert latest.history_user == administrator
    assert latest.history_change_reason == "Only cutting-edge UAVs stay off sensitive destinations."
    assert rule.history.count() == 2
    assert admin_client.get(_url(RoutingRule, "history", rule.pk)).status_code == 200


def test_a_refusing_rule_without_a_message_is_rejected(admin_client):
    response = admin_client.post(
        _url(RoutingRule, "add"),
        {
            "name": "Block",
            "priority": 5,
            "active": "on",
            "action": "refuse",
            "ministry": "",
            "message": "",
            "us_origin_content": "unknown",
            "military_end_use": "unknown",
        },
    )
    assert response.status_code == 200
    assert "A refusing rule tells the exporter why." in response.content.decode()
    assert not RoutingRule.objects.filter(name="Block").exists()


def test_applications_and_the_audit_trail_are_read_only(admin_client, submitted):
    event = AuditEvent.objects.first()
    for model, obj in ((Application, submitted), (AuditEvent, event)):
        assert admin_client.get(_url(model, "change", obj.pk)).status_code == 200
        assert (
            admin_client.post(_url(model, "change", obj.pk), {"status": "approved"}).status_code
            == 403
        )
        assert admin_client.get(_url(model, "add")).status_code == 403
        assert admin_client.post(_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    submitted.refresh_from_db()
    assert submitted.status == "under_review"


def test_a_reviewer_cannot_open_the_admin(client, reviewers):
    client.force_login(reviewers["economy"])
    response = client.get(_url(RoutingRule, "changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_an_administrator_sets_a_licence_types_shipment_value_tolerance(admin_client):
    from licensing.models import LicenseValidity

    validity = LicenseValidity.objects.get(license_type="export")
    assert validity.value_tolerance == 0  # as seeded
    response = admin_client.post(
        _url(LicenseValidity, "change", validity.pk),
        {"license_type": "export", "years": 2, "value_tolerance": "10", "change_reason": "Drift"},
    )
    assert response.status_code == 302, response.content
    validity.refresh_from_db()
    assert validity.value_tolerance == 10
    assert validity.history.count() >= 1
    refused = admin_client.post(
        _url(LicenseValidity, "change", validity.pk),
        {"license_type": "export", "years": 2, "value_tolerance": "150", "change_reason": "x"},
    )
    assert refused.status_code == 200  # the form again: at most 100%


def test_a_licence_shows_its_goods_and_shipments_in_the_admin(admin_client, exporter, reviewers):
    from licensing.clock import local_today
    from licensing.models import License
    from licensing.services.shipments import shipment_record

    license = factories.approved(exporter, reviewers).license
    good = license.goods.get()
    shipment_record(
        license=license,
        user=exporter,
        reference="AWB-ADMIN",
        shipped_on=local_today(),
        lines=[{"license_good": good.pk, "quantity": 1, "value": 1}],
    )
    response = admin_client.get(_url(License, "change", license.pk))
    assert response.status_code == 200
    assert "Miniature cryogenic cooler" in response.content.decode()
    assert "AWB-ADMIN" in response.content.decode()


def test_an_entry_added_in_the_admin_is_indexed_and_rescreens_open_cases(
    admin_client, exporter, django_capture_on_commit_callbacks, monkeypatch
):
    from licensing.models import ScreeningEntry, ScreeningList, ScreeningMatch
    from licensing.tasks import rescreen_list

    open_case = factories.submitted(exporter, end_user_name="Kestrel Avionics")
    screening_list = ScreeningList.objects.create(name="Ministry denial list")
    enqueued = []
    monkeypatch.setattr(rescreen_list, "apply_async", lambda args, **kwargs: enqueued.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            _url(ScreeningEntry, "add"),
            {
                "list": screening_list.pk,
                "name": "Kestrel Avionics GmbH",
                "aliases": "Kestrel Avionik; KA Munich",
                "country": "",
                "remarks": "MDL-7",
            },
        )
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = ScreeningEntry.objects.get()
    assert entry.aliases == ["Kestrel Avionik", "KA Munich"]
    assert set(entry.names.values_list("normalised", flat=True)) == {
        "kestrel avionics",
        "kestrel avionik",
        "ka munich",
    }
    assert enqueued == [(screening_list.pk,)]
    # What the worker then does with it:
    rescreen_list.run(screening_list.pk)
    assert ScreeningMatch.objects.get().application == open_case


def test_entries_deleted_in_the_admin_give_their_list_a_new_revision(admin_client):
    from licensing.models import ScreeningEntry, ScreeningList
    from licensing.screening import Party, screen

    factories.screening_list(
        "Denied", entries=[{"name": "Kestrel Avionics"}, {"name": "Osprey Optics"}]
    )
    party = Party("end_user", "Kestrel Avionics", "DE")
    assert [f.entry_name for f in screen([party])] == ["Kestrel Avionics"]
    revision = ScreeningList.objects.get().revision
    kestrel = ScreeningEntry.objects.get(name="Kestrel Avionics")
    response = admin_client.post(_url(ScreeningEntry, "delete", kestrel.pk), {"post": "yes"})
    assert response.status_code == 302
    assert ScreeningList.objects.get().revision != revision
    assert screen([party]) == []
    revision = ScreeningList.objects.get().revision
    response = admin_client.post(
        _url(ScreeningEntry, "changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [ScreeningEntry.objects.get().pk],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert not ScreeningEntry.objects.exists()
    assert ScreeningList.objects.get().revision != revision


RULE_FORM = {
    "name": "Sensitive UAVs",
    "priority": 80,
    "active": "on",
    "action": "require_review",
    "ministry": "defense",
    "message": "",
    "control_code_prefix": "9A012",
    "us_origin_content": "unknown",
    "military_end_use": "unknown",
}


def test_editing_a_rule_asks_for_a_reason_and_the_change_is_an_audit_event(
    admin_client, administrator
):
    refused = admin_client.post(_url(RoutingRule, "add"), RULE_FORM)
    assert refused.status_code == 200
    assert "Reason for this change" in refused.content.decode()
    assert not RoutingRule.objects.filter(name="Sensitive UAVs").exists()

    added = admin_client.post(
        _url(RoutingRule, "add"), {**RULE_FORM, "change_reason": "New UAV policy."}
    )
    assert added.status_code == 302
    rule = RoutingRule.objects.get(name="Sensitive UAVs")
    changed = admin_client.post(
        _url(RoutingRule, "change", rule.pk),
        {**RULE_FORM, "priority": 85, "change_reason": "After the committee's review."},
    )
    assert changed.status_code == 302
    events = list(AuditEvent.objects.filter(action__startswith="rule_").order_by("id"))
    assert [(e.action, e.actor, e.reason) for e in events] == [
        ("rule_added", administrator, "New UAV policy."),
        ("rule_changed", administrator, "After the committee's review."),
    ]
    assert events[1].data["object_id"] == rule.pk
    assert events[1].data["changes"] == [{"changed": {"fields": ["Priority"]}}]
    assert [h.history_change_reason for h in rule.history.order_by("history_id")] == [
        "New UAV policy.",
        "After the committee's review.",
    ]


def test_a_deadline_policys_ladder_change_is_audited(admin_client):
    from licensing.models import DeadlinePolicy

    policy = DeadlinePolicy.objects.get(ministry="foreign")
    step = policy.steps.get()
    response = admin_client.post(
        _url(DeadlinePolicy, "change", policy.pk),
        {
            "ministry": "foreign",
            "review_days": 7,
            "reminder_days_before": 1,
            "change_reason": "The regulation now gives Foreign Affairs 7 days.",
            "steps-TOTAL_FORMS": "2",
            "steps-INITIAL_FORMS": "1",
            "steps-0-id": step.pk,
            "steps-0-policy": policy.pk,
            "steps-0-days_after_due": step.days_after_due,
            "steps-0-action": step.action,
            "steps-1-policy": policy.pk,
            "steps-1-days_after_due": "",
            "steps-1-action": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    event = AuditEvent.objects.get(action="rule_changed")
    assert event.reason == "The regulation now gives Foreign Affairs 7 days."
    assert event.data["model"] == "licensing.DeadlinePolicy"


def _closure_form(day: str, **extra) -> dict:
    return {"date": day, "reason": "Election day", **extra}


def test_a_closure_day_is_typed_day_first_and_shown_with_its_weekday(admin_client):
    from licensing.models import NonWorkingDay

    with time_machine.travel(date(2026, 11, 1), tick=False):
        response = admin_client.post(_url(NonWorkingDay, "add"), _closure_form("03/12/2026"))
    assert response.status_code == 302, response.content.decode()[:3000]
    closure = NonWorkingDay.objects.get()
    assert closure.date == date(2026, 12, 3)  # 3 December, never 12 March
    listing = admin_client.get(_url(NonWorkingDay, "changelist")).content.decode()
    assert "Thu 03 Dec 2026" in listing
    month_first = admin_client.post(_url(NonWorkingDay, "add"), _closure_form("12/31/2026"))
    assert month_first.status_code == 200
    assert "Enter a valid date." in month_first.content.decode()


def test_a_closure_on_a_weekend_or_in_the_past_warns_before_it_is_added(admin_client):
    from licensing.models import NonWorkingDay

    with time_machine.travel(date(2026, 11, 1), tick=False):
        weekend = admin_client.post(_url(NonWorkingDay, "add"), _closure_form("2026-12-04"))
        assert weekend.status_code == 200
        assert "Fri 04 Dec 2026 is a Friday: not a working day anyway" in (weekend.content.decode())
        past = admin_client.post(_url(NonWorkingDay, "add"), _closure_form("2026-10-29"))
        assert "Thu 29 Oct 2026 is in the past." in past.content.decode()
        assert not NonWorkingDay.objects.exists()
        confirmed = admin_client.post(
            _url(NonWorkingDay, "add"), _closure_form("2026-12-04", confirm="on")
        )
        assert confirmed.status_code == 302
    assert NonWorkingDay.objects.get().date == date(2026, 12, 4)


def test_a_closure_on_a_public_holiday_warns_that_it_moves_nothing(admin_client):
    from licensing.models import NonWorkingDay

    with time_machine.travel(date(2026, 11, 1), tick=False):
        holiday = admin_client.post(_url(NonWorkingDay, "add"), _closure_form("2027-04-22"))
    assert holiday.status_code == 200
    text = holiday.content.decode()
    assert "Thu 22 Apr 2027 is a public holiday (Pesach): not a working day anyway" in text
    assert not NonWorkingDay.objects.exists()


def test_adding_a_closure_day_lists_and_moves_the_due_dates_it_falls_within(
    admin_client, exporter, administrator
):
    from licensing.models import NonWorkingDay, Review

    with time_machine.travel(datetime(2026, 11, 1, 10, tzinfo=JERUSALEM), tick=False):
        application = factories.submitted(exporter, destination="IN")  # Economy and Foreign
        reviews = {r.ministry: r for r in application.reviews.all()}
        # Received Sunday 1 November: Foreign due Sunday 8, Economy Sunday 29.
        assert reviews["foreign"].due_date == date(2026, 11, 8)
        assert reviews["economy"].due_date == date(2026, 11, 29)
        preview = admin_client.post(_url(NonWorkingDay, "add"), _closure_form("2026-11-12"))
        assert preview.status_code == 200
        html = preview.content.decode()
        assert "moves the due dates of open reviews one working day later: 1 review" in html
        assert f"{application.reference} (Economy): Sun 29 Nov 2026 to Mon 30 Nov 2026" in html
        assert Review.objects.get(pk=reviews["economy"].pk).due_date == date(2026, 11, 29)

        done = admin_client.post(
            _url(NonWorkingDay, "add"), _closure_form("2026-11-12", confirm="on"), follow=True
        )
    assert "Due dates moved one working day later: 1 review" in done.content.decode()
    assert Review.objects.get(pk=reviews["economy"].pk).due_date == date(2026, 11, 30)
    assert Review.objects.get(pk=reviews["foreign"].pk).due_date == date(2026, 11, 8)
    event = AuditEvent.objects.get(action="closure_day_added")
    assert (event.actor, event.reason) == (administrator, "Election day")
    assert event.data["moved"] == [
        {
            "review": reviews["economy"].pk,
            "application": application.reference,
            "from": "2026-11-29",
            "to": "2026-11-30",
        }
    ]
    closure = NonWorkingDay.objects.get()
    edit = admin_client.get(_url(NonWorkingDay, "change", closure.pk)).content.decode()
    assert "Thu 12 Nov 2026" in edit and 'name="date"' not in edit  # added or removed only
    renamed = admin_client.post(
        _url(NonWorkingDay, "change", closure.pk), {"reason": "General election"}
    )
    assert renamed.status_code == 302
    assert AuditEvent.objects.get(action="closure_day_changed").reason == "General election"
    removed = admin_client.post(_url(NonWorkingDay, "delete", closure.pk), {"post": "yes"})
    assert removed.status_code == 302
    assert AuditEvent.objects.filter(action="closure_day_removed").count() == 1


def test_the_audit_trail_shows_actions_by_readable_names(admin_client, submitted):
    page = admin_client.get(_url(AuditEvent, "changelist")).content.decode()
    assert "Application submitted" in page
    filtered = admin_client.get(_url(AuditEvent, "changelist") + "?action=application_submitted")
    assert filtered.status_code == 200
    assert "Closure day added" in filtered.content.decode()  # a filter choice by its name


def test_the_admin_shows_times_in_jerusalem(admin_client, submitted):
    event = AuditEvent.objects.get(action="application_submitted")
    page = admin_client.get(_url(AuditEvent, "changelist")).content.decode()
    local = event.created_at.astimezone(JERUSALEM)
    assert f"{local:%H:%M} {local.tzname()}" in page


def test_refusal_criteria_are_edited_with_history_and_retired_never_deleted(admin_client):
    from licensing.models import RefusalCriterion
    from licensing.selectors import refusal_criteria

    criterion = RefusalCriterion.objects.get(code="8")
    listed = admin_client.get(_url(RefusalCriterion, "changelist")).content.decode()
    assert "Respect for human rights" in listed
    assert refusal_criteria()["8"].active
    response = admin_client.post(
        _url(RefusalCriterion, "change", criterion.pk),
        {"code": "8", "title": criterion.title, "description": "", "active": ""},
    )
    assert response.status_code == 302
    assert not refusal_criteria()["8"].active  # the cache dropped with the change
    assert criterion.history.count() == 2
    assert admin_client.get(_url(RefusalCriterion, "delete", criterion.pk)).status_code == 403


def test_an_applications_admin_page_reads_its_parties_countries_with_the_rows(
    admin_client, exporter
):
    """The read-only inlines read the relations they show with their rows: one party or
    five cost the same queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for parties in (1, 5):
        application = factories.draft(created_by=exporter)
        for i in range(parties):
            factories.other_party(application, name=f"Party {i}", country=("DE", "FR")[i % 2])
        url = reverse("admin:licensing_application_change", args=[application.pk])
        admin_client.get(url)
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(url)
        assert response.status_code == 200
        assert "Party 0" in response.content.decode()
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1], counts
