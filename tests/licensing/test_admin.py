"""The Django admin: rules editable with history, cases and the audit trail read-only."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from licensing.models import Application, AuditEvent, RoutingRule
from tests import factories
from tests.auth import log_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, administrator):
    log_in(client, administrator)  # verified with an authenticator: administrators must
    return client


@pytest.fixture
def submitted(exporter) -> Application:
    return factories.submitted(exporter)


def _url(model, page: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}", args=args)


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_every_admin_list_opens(admin_client, submitted, model):
    response = admin_client.get(_url(model, "changelist"))
    assert response.status_code == 200


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_nul_in_admin_list_filters_and_search_is_ignored(admin_client, submitted, model):
    """Every changelist filter, the search and the ordering with a NUL: dropped, never a 500."""
    model_admin = admin.site._registry[model]
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
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    rule.refresh_from_db()
    assert rule.control_code_prefix == "9A012"
    latest = rule.history.first()
    assert latest.history_user == administrator
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
        {"license_type": "export", "years": 2, "value_tolerance": "10"},
    )
    assert response.status_code == 302, response.content
    validity.refresh_from_db()
    assert validity.value_tolerance == 10
    assert validity.history.count() >= 1
    refused = admin_client.post(
        _url(LicenseValidity, "change", validity.pk),
        {"license_type": "export", "years": 2, "value_tolerance": "150"},
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
