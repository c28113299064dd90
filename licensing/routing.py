"""Routing: which ministries review an application, or which rule refuses it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from accounts.models import Ministry
from licensing.models import Application, Good, RoutingRule, RuleAction
from licensing.models.applications import total_value
from licensing.screening import Party, parties_of

DEFAULT_MINISTRY = Ministry.ECONOMY


@dataclass(frozen=True)
class RuleMatch:
    rule: RoutingRule
    explanation: str
    party: Party | None = None
    """The party whose country made the rule's country-list condition hold (not the
    destination)."""

    @property
    def refusal_message(self) -> str:
        """The rule's message, naming the party when a party (not the destination) made it hold."""
        if self.party is None:
            return self.rule.message
        country = self.party.country_id
        return f"{self.rule.message} (The {self.party.label} is in {_country_name(country)}.)"


def _country_name(code: str | None) -> str:
    from licensing.selectors import countries_by_code

    country = countries_by_code().get(code or "")
    return country.name if country else str(code)


@dataclass(frozen=True)
class RoutingResult:
    matches: list[RuleMatch]
    refusal: RuleMatch | None
    ministries: list[str]


# Each condition of a rule: None when the rule does not set it, False when it fails,
# else the reason it holds, for the routing explanation.
Verdict = str | bool | None


def _destination(
    rule: RoutingRule, application: Application, goods: Sequence[Good], parties: Sequence[Party]
) -> Verdict:
    """The destination, or the country of any party, on the rule's country list."""
    if rule.destination_list_id is None:
        return None
    codes = _codes(rule.destination_list)
    slug = rule.destination_list.slug
    if application.destination_id in codes:
        return f"destination {application.destination_id} is on the '{slug}' list"
    party = next((p for p in parties if p.country_id in codes), None)
    if party is None:
        return False
    return _PartyVerdict(f"{party.label} is in {party.country_id}, on the '{slug}' list", party)


class _PartyVerdict(str):
    """A reason that names the party it is about."""

    party: Party

    def __new__(cls, text: str, party: Party) -> _PartyVerdict:
        verdict = super().__new__(cls, text)
        verdict.party = party
        return verdict


def _codes(country_list) -> frozenset[str]:
    """The list's country codes, read once per loaded list (rules are read per routing)."""
    codes = getattr(country_list, "_routing_codes", None)
    if codes is None:
        codes = frozenset(country.code for country in country_list.countries.all())
        country_list._routing_codes = codes
    return codes


def _first_good(goods: Sequence[Good], holds) -> Good | None:
    return next((good for good in goods if holds(good)), None)


def _regime(
    rule: RoutingRule, application: Application, goods: Sequence[Good], parties: Sequence[Party]
) -> Verdict:
    if not rule.regime:
        return None
    hit = _first_good(goods, lambda g: g.control_list_entry.regime == rule.regime)
    return hit is not None and f"{hit.control_list_entry.code} is in the {rule.regime} regime"


def _code_prefix(
    rule: RoutingRule, application: Application, goods: Sequence[Good], parties: Sequence[Party]
) -> Verdict:
    if not rule.control_code_prefix:
        return None
    prefix = rule.control_code_prefix.upper()
    hit = _first_good(goods, lambda g: g.control_list_entry.code.upper().startswith(prefix))
    return hit is not None and f"{hit.control_list_entry.code} starts with {prefix}"


def _generation(
    rule: RoutingRule, application: Application, goods: Sequence[Good], parties: Sequence[Party]
) -> Verdict:
    if not rule.technology_generation:
        return None
    hit = _first_good(goods, lambda g: g.technology_generation == rule.technology_generation)
    return hit is not None and (
        f"'{hit.description}' is of the {rule.technology_generation} generation"
    )


def _us_origin(
    rule: RoutingRule, application: Application, goods: Sequence[Good], parties: Sequence[Party]
) -> Verdict:
    if rule.us_origin_content is None:
        return None
    has_us = any(g.us_origin_content for g in goods)
    if has_us != rule.us_origin_content:
        return False
    return "a good has US-origin content" if has_us else "no good has US-origin content"


def _end_use(
    rule: RoutingRule, application: Application, goods: Sequence[Good], parties: Sequence[Party]
) -> Verdict:
    if rule.military_end_use is None:
        return None
    return application.military_end_use == rule.military_end_use and (
        "military end use" if rule.military_end_use else "civilian end use"
    )


def _license_type(
    rule: RoutingRule, application: Application, goods: Sequence[Good], parties: Sequence[Party]
) -> Verdict:
    if not rule.license_type:
        return None
    return application.license_type == rule.license_type and (
        f"license type is {rule.license_type}"
    )


def _min_value(
    rule: RoutingRule, application: Application, goods: Sequence[Good], parties: Sequence[Party]
) -> Verdict:
    if rule.min_total_value is None:
        return None
    value = total_value(goods)
    return value >= rule.min_total_value and (
        f"total value {value} {application.currency} is at least {rule.min_total_value}"
    )


CONDITIONS = (
    _destination,
    _regime,
    _code_prefix,
    _generation,
    _us_origin,
    _end_use,
    _license_type,
    _min_value,
)


def _explain(
    rule: RoutingRule, application: Application, goods: Sequence[Good], parties: Sequence[Party]
) -> RuleMatch | None:
    """Why `rule` applies to the application, or None when a condition fails."""
    reasons: list[str] = []
    party = None
    for condition in CONDITIONS:
        verdict = condition(rule, application, goods, parties)
        if verdict is False:
            return None
        if verdict:
            reasons.append(str(verdict))
            party = getattr(verdict, "party", party)
    return RuleMatch(rule, "; ".join(reasons) or "applies to every application", party)


def rules_in_force(on: date) -> list[RoutingRule]:
    from licensing.selectors import routing_rules

    return [rule for rule in routing_rules() if rule.in_force_on(on)]


def route(
    *,
    application: Application,
    goods: Sequence[Good],
    on: date,
    rules: Sequence[RoutingRule] | None = None,
    parties: Sequence[Party] | None = None,
) -> RoutingResult:
    """Evaluate the rules in force on `on`, in priority order.

    The first refusing rule that applies stops routing. Otherwise each
    matching rule adds its ministry; an application no rule routes still gets
    an Economy review. `rules`, when given, are `rules_in_force(on)` already
    read (the bulk seeder routes thousands of applications with one read). `parties`:
    every party of the application (`licensing.screening.parties_of`); by default its
    end user and consignee.
    """
    matches: list[RuleMatch] = []
    ministries: list[str] = []
    parties = parties_of(application) if parties is None else parties
    for rule in rules_in_force(on) if rules is None else rules:
        match = _explain(rule, application, goods, parties)
        if match is None:
            continue
        if rule.action == RuleAction.REFUSE:
            return RoutingResult(matches=[match], refusal=match, ministries=[])
        matches.append(match)
        if rule.ministry not in ministries:
            ministries.append(rule.ministry)
    if not ministries:
        ministries.append(DEFAULT_MINISTRY)
    return RoutingResult(matches=matches, refusal=None, ministries=ministries)
