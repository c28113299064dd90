"""The Django admin: rules editable with history, cases and the audit trail read-only."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from licensing.models import Application, AuditEvent, RoutingRule
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, administrator):
    client.force_login(administrator)
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
