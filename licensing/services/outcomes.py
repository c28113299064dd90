"""Decisions per good: checking a per-good list, and each good's outcome from the reviews.

A review (or the committee) decides the application as a whole, or each good
apart with `goods`: `[{"good": <id>, "recommendation" (or "decision"),
"conditions", "criteria": ["2", "7"]}]`, covering every good once. A deny,
overall or for a good, cites at least one refusal criterion by code.

A good is approved when every review approves it, refused when every review
refuses it, and disputed otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from licensing.exceptions import InvalidInput
from licensing.models import Good, GoodOutcome, Recommendation, Review
from licensing.selectors import refusal_criteria

DENY = "deny"


def _criteria_errors(codes: Iterable[str], where: str) -> list[str]:
    known = refusal_criteria()
    unknown = [code for code in codes if code not in known or not known[code].active]
    if unknown:
        return [f"{where}: unknown refusal criteria {', '.join(map(str, unknown))}."]
    return []


def check_decisions(
    *,
    goods: Sequence[Good],
    overall: str,
    criteria: Sequence[str],
    per_good: Sequence[dict[str, Any]] | None,
    key: str,
) -> list[dict[str, Any]]:
    """Check an overall decision and an optional per-good list; return the list, normalised.

    `key` names each entry's decision (`recommendation` or `decision`). Raises
    InvalidInput naming the field: `criteria`, or `goods`.
    """
    errors: dict[str, list[str]] = {}
    criteria = list(dict.fromkeys(criteria or []))
    found = _criteria_errors(criteria, "criteria")
    if overall == DENY and not criteria and not per_good:
        found = ["A deny cites at least one refusal criterion."]
    if found:
        errors["criteria"] = found
    if per_good is None:
        if errors:
            raise InvalidInput(errors)
        return []
    ids = {good.pk: position for position, good in enumerate(goods, start=1)}
    seen: set[int] = set()
    problems: list[str] = []
    normalised = []
    for entry in per_good:
        good_id = entry.get("good")
        if good_id not in ids:
            problems.append(f"Good {good_id} is not a good of this application.")
        elif good_id in seen:
            problems.append(f"Good {good_id} is listed twice.")
        else:
            seen.add(good_id)
            checked, found = _check_entry(entry, f"Good {good_id} (item {ids[good_id]})", key)
            problems += found
            normalised.append(checked)
    missing = [good_id for good_id in ids if good_id not in seen]
    if missing:
        problems.append(
            f"Decide every good of the application: missing {', '.join(map(str, missing))}."
        )
    if not problems:
        problems = _consistency(overall, [entry[key] for entry in normalised])
    if problems:
        errors["goods"] = problems
    if errors:
        raise InvalidInput(errors)
    return normalised


def _consistency(overall: str, decisions: list[str]) -> list[str]:
    """An overall deny denies every good; any other overall decision approves at least one."""
    denied = decisions.count(DENY)
    if overall == DENY and denied < len(decisions):
        return ["An overall deny denies every good; approve the application instead."]
    if overall != DENY and denied == len(decisions):
        return ["Every good is denied: the overall decision is deny."]
    return []


def _check_entry(entry: dict[str, Any], where: str, key: str) -> tuple[dict, list[str]]:
    """One good's decision, normalised, and what is wrong with it."""
    decision = entry.get(key)
    codes = list(dict.fromkeys(entry.get("criteria") or []))
    conditions = (entry.get("conditions") or "").strip()
    conditional = decision == Recommendation.APPROVE_WITH_CONDITIONS
    problems = []
    if decision == DENY and not codes:
        problems.append(f"{where}: a deny cites at least one refusal criterion.")
    problems += _criteria_errors(codes, where)
    if conditional and not conditions:
        problems.append(f"{where}: state the conditions.")
    checked = {
        "good": entry.get("good"),
        key: decision,
        "conditions": conditions if conditional else "",
        "criteria": codes if decision == DENY else [],
    }
    return checked, problems


def conditions_of_good(review: Review, entry: dict[str, Any]) -> str:
    """The conditions `review` set on one good (an entry of its `goods_recommendations`)
    beyond its overall ones, which already bind the whole licence.

    A good left "As overall" on the page carries the overall conditions; so may a good
    an API client decided apart with the same text. Neither is a condition of the good's
    own: "" so that the licence, the case page and the document state it once.
    """
    own = (entry.get("conditions") or "").strip()
    return "" if own == (review.conditions or "").strip() else own


def outcomes_from_reviews(
    goods: Sequence[Good], reviews: Sequence[Review]
) -> dict[int, tuple[str, list[str]]]:
    """Each good's outcome from the completed reviews, with the criteria its refusals cite."""
    outcomes: dict[int, tuple[str, list[str]]] = {}
    for good in goods:
        votes = [review.recommendation_for(good.pk) for review in reviews]
        denies = [criteria for recommendation, criteria, _ in votes if recommendation == DENY]
        if not denies:
            outcome = GoodOutcome.APPROVED
        elif len(denies) == len(votes):
            outcome = GoodOutcome.REFUSED
        else:
            outcome = GoodOutcome.DISPUTED
        cited = list(dict.fromkeys(code for codes in denies for code in codes))
        outcomes[good.pk] = (outcome, sorted(cited, key=_code_order) if denies else [])
    return outcomes


def _code_order(code: str) -> tuple:
    return (0, int(code), "") if code.isdigit() else (1, 0, code)


def record_outcomes(goods: Sequence[Good], outcomes: dict[int, tuple[str, list[str]]]) -> None:
    """Write each good's outcome and cited criteria (approved goods cite none)."""
    for good in goods:
        good.outcome, cited = outcomes[good.pk]
        good.refusal_criteria = cited if good.outcome != GoodOutcome.APPROVED else []
    Good.objects.bulk_update(goods, ["outcome", "refusal_criteria"])


def overall(outcomes: dict[int, tuple[str, list[str]]]) -> str:
    """`approved`, `refused`, `partial` or `disputed`: the application's, from its goods'."""
    found = {outcome for outcome, _ in outcomes.values()}
    if GoodOutcome.DISPUTED in found:
        return "disputed"
    if found == {GoodOutcome.APPROVED}:
        return "approved"
    if found == {GoodOutcome.REFUSED}:
        return "refused"
    return "partial"
