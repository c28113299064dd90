"""Routing: each seeded rule, the default Economy review, and rule versions."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from licensing.clock import local_today
from licensing.models import ControlListEntry, CountryList, RoutingRule
from licensing.routing import route
from licensing.services.applications import application_submit
from tests.factories import GoodFactory, draft

pytestmark = pytest.mark.django_db


def _route(application):
    return route(application=application, goods=list(application.goods.all()), on=local_today())


def _rules(result) -> list[int]:
    return [m.rule.priority for m in result.matches]


def test_rule_1_refuses_an_embargoed_destination(exporter):
    for code in ["IR", "SY", "LB", "IQ"]:
        result = _route(draft(created_by=exporter, destination=code))
        assert result.refusal is not None
        assert result.refusal.rule.priority == 10
        assert "embargoed" in result.refusal.explanation
        assert result.ministries == []


def test_rules_2_and_6_send_munitions_to_defense_and_foreign(exporter):
    result = _route(draft(created_by=exporter, code="ML10", destination="US"))
    assert result.ministries == ["defense", "foreign"]
    assert _rules(result) == [20, 60]
    assert "ML10 is in the munitions regime" in result.matches[0].explanation


def test_rule_3_sends_dual_use_to_economy(exporter):
    result = _route(draft(created_by=exporter, code="9A012", destination="US"))
    assert result.ministries == ["economy"]
    assert _rules(result) == [30]


def test_rule_4_adds_defense_for_dual_use_with_a_military_end_use(exporter):
    result = _route(draft(created_by=exporter, code="6A003", military_end_use=True))
    assert result.ministries == ["economy", "defense"]
    assert _rules(result) == [30, 40]


def test_rule_5_adds_foreign_for_a_sensitive_destination(exporter):
    result = _route(
        draft(created_by=exporter, code="6A003", destination="CN", technology_generation="legacy")
    )
    assert result.ministries == ["economy", "foreign"]
    assert _rules(result) == [30, 50]


def test_rule_7_keeps_current_technology_from_sensitive_destinations(exporter):
    result = _route(
        draft(created_by=exporter, code="9A012", destination="IN", technology_generation="current")
    )
    assert result.ministries == ["economy", "foreign", "defense"]
    assert _rules(result) == [30, 50, 70]
    previous = _route(
        draft(created_by=exporter, code="9A012", destination="IN", technology_generation="previous")
    )
    assert 70 not in _rules(previous)


def test_an_application_no_rule_routes_still_gets_an_economy_review(exporter):
    RoutingRule.objects.filter(priority=30).update(active=False)
    result = _route(draft(created_by=exporter, code="6A003", destination="US"))
    assert result.matches == []
    assert result.ministries == ["economy"]


def test_inactive_and_out_of_date_rules_do_not_apply(exporter):
    rule = RoutingRule.objects.get(priority=10)
    rule.valid_until = local_today() - timedelta(days=1)
    rule.save()
    assert _route(draft(created_by=exporter, destination="IR")).refusal is None
    rule.valid_until = None
    rule.valid_from = local_today() + timedelta(days=1)
    rule.save()
    assert _route(draft(created_by=exporter, destination="IR")).refusal is None


def test_every_optional_condition_must_hold(exporter):
    rule = RoutingRule.objects.create(
        name="Large US-origin encryption exports",
        priority=80,
        action="require_review",
        ministry="defense",
        control_code_prefix="5A",
        us_origin_content=True,
        license_type="dual_use_export",
        min_total_value=Decimal("100000"),
    )
    application = draft(created_by=exporter, goods=0, destination="US")
    GoodFactory(
        application=application,
        control_list_entry=ControlListEntry.objects.get(code="5A002"),
        quantity=100,
        unit_value=Decimal("999.99"),
        us_origin_content=True,
    )
    assert rule not in [m.rule for m in _route(application).matches]  # 99,999 < 100,000
    application.goods.update(unit_value=Decimal("1000"))
    match = next(m for m in _route(application).matches if m.rule == rule)
    assert "starts with 5A" in match.explanation
    assert "US-origin" in match.explanation
    assert "at least 100000" in match.explanation


def test_the_application_keeps_the_rule_version_that_routed_it(exporter):
    """An administrator eases rule 7 for older generations; old decisions stay explained."""
    rule = RoutingRule.objects.get(priority=70)
    application = application_submit(
        application=draft(created_by=exporter, destination="IN", technology_generation="current"),
        user=exporter,
    )
    record = application.routing.get(rule=rule)
    version_then = record.rule_history_id
    assert record.rule_version == 1  # as seeded
    assert rule.history.get(history_id=version_then).technology_generation == "current"

    rule.name = "Current-generation UAVs to sensitive destinations"
    rule.control_code_prefix = "9A012"
    rule.save()
    record.refresh_from_db()
    assert record.rule_history_id == version_then
    assert rule.history.count() == 2
    assert rule.history.get(history_id=version_then).control_code_prefix == ""
    later = application_submit(
        application=draft(
            created_by=exporter, code="9A012", destination="IN", technology_generation="current"
        ),
        user=exporter,
    )
    assert later.routing.get(rule=rule).rule_version == 2


def test_country_list_changes_take_effect_for_the_next_submission(exporter):
    sensitive = CountryList.objects.get(slug="sensitive")
    sensitive.countries.add("PK")
    result = _route(draft(created_by=exporter, destination="PK", technology_generation="legacy"))
    assert "foreign" in result.ministries
