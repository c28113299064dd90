"""Routing: which ministries review an application, or which rule refuses it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from accounts.models import Ministry
from licensing.models import Application, Good, RoutingRule, RuleAction
from licensing.models.applications import total_value

DEFAULT_MINISTRY = Ministry.ECONOMY


@dataclass(frozen=True)
class RuleMatch:
    rule: RoutingRule
    explanation: str


@dataclass(frozen=True)
class RoutingResult:
    matches: list[RuleMatch]
    refusal: RuleMatch | None
    ministries: list[str]


def _explain(rule: RoutingRule, application: Application, goods: Sequence[Good]) -> str | None:
    """Why `rule` applies to the application, or None when a condition fails."""
    reasons: list[str] = []
    if rule.destination_list_id is not None:
        codes = {country.code for country in rule.destination_list.countries.all()}
        if application.destination_id not in codes:
            return None
        reasons.append(
            f"destination {application.destination_id} is on the "
            f"'{rule.destination_list.slug}' list"
        )
    if rule.regime:
        hits = [g for g in goods if g.control_list_entry.regime == rule.regime]
        if not hits:
            return None
        reasons.append(f"{hits[0].control_list_entry.code} is in the {rule.regime} regime")
    if rule.control_code_prefix:
        prefix = rule.control_code_prefix.upper()
        hits = [g for g in goods if g.control_list_entry.code.upper().startswith(prefix)]
        if not hits:
            return None
        reasons.append(f"{hits[0].control_list_entry.code} starts with {prefix}")
    if rule.technology_generation:
        hits = [g for g in goods if g.technology_generation == rule.technology_generation]
        if not hits:
            return None
        reasons.append(f"'{hits[0].description}' is of the {rule.technology_generation} generation")
    if rule.us_origin_content is not None:
        has_us = any(g.us_origin_content for g in goods)
        if has_us != rule.us_origin_content:
            return None
        reasons.append(
            "a good has US-origin content" if has_us else "no good has US-origin content"
        )
    if rule.military_end_use is not None:
        if application.military_end_use != rule.military_end_use:
            return None
        reasons.append("military end use" if rule.military_end_use else "civilian end use")
    if rule.license_type:
        if application.license_type != rule.license_type:
            return None
        reasons.append(f"license type is {rule.license_type}")
    if rule.min_total_value is not None:
        value = total_value(goods)
        if value < rule.min_total_value:
            return None
        reasons.append(
            f"total value {value} {application.currency} is at least {rule.min_total_value}"
        )
    return "; ".join(reasons) or "applies to every application"


def rules_in_force(on: date):
    return (
        RoutingRule.objects.in_force(on)
        .select_related("destination_list")
        .prefetch_related("destination_list__countries")
    )


def route(*, application: Application, goods: Sequence[Good], on: date) -> RoutingResult:
    """Evaluate the rules in force on `on`, in priority order.

    The first refusing rule that applies stops routing. Otherwise each
    matching rule adds its ministry; an application no rule routes still gets
    an Economy review.
    """
    matches: list[RuleMatch] = []
    ministries: list[str] = []
    for rule in rules_in_force(on):
        explanation = _explain(rule, application, goods)
        if explanation is None:
            continue
        match = RuleMatch(rule, explanation)
        if rule.action == RuleAction.REFUSE:
            return RoutingResult(matches=[match], refusal=match, ministries=[])
        matches.append(match)
        if rule.ministry not in ministries:
            ministries.append(rule.ministry)
    if not ministries:
        ministries.append(DEFAULT_MINISTRY)
    return RoutingResult(matches=matches, refusal=None, ministries=ministries)
