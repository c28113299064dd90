"""The cross-row rules (`licensing.consistency`) are the services' own: cases taken through
every state by the services break none of them, and each rule names a case that breaks it."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from licensing.consistency import RULES, consistency_breaches
from licensing.models import Application, ApplicationStatus, Review, ScreeningMatch
from licensing.services.amendments import application_amend
from licensing.services.appeals import application_appeal
from licensing.services.applications import (
    application_submit,
    application_withdraw,
)
from licensing.services.reviews import review_claim, review_request_information
from licensing.services.screening import screening_match_resolve
from tests import factories

pytestmark = pytest.mark.django_db

S = ApplicationStatus
LISTED = "Kavir Dynamics Trading"


def _listed_end_user(exporter) -> Application:
    """Submitted with its end user on a screening list: one open match."""
    application = factories.submitted(exporter, end_user_name=LISTED)
    assert application.screening_matches.get().status == "open"
    return application


@pytest.fixture
def every_state(exporter, reviewers, supervisors, committee_member):
    factories.screening_list(entries=[{"name": LISTED}])
    cases = {"draft": factories.draft(created_by=exporter)}
    cases["under_review"] = factories.submitted(exporter)
    asked = factories.submitted(exporter)
    review = Review.objects.filter(application=asked).first()
    review_claim(review=review, user=reviewers[review.ministry])
    review_request_information(review=review, user=reviewers[review.ministry], question="Who?")
    cases["information_requested"] = asked
    cases["approved"] = factories.approved(exporter, reviewers)
    cases["denied"] = factories.denied(exporter, reviewers)
    cases["disputed"] = factories.disputed(exporter, reviewers)
    cases["partially_approved"] = factories.partially_approved(exporter, reviewers)
    appealed = factories.denied(exporter, reviewers)
    cases["under_appeal"] = application_appeal(
        application=appealed, user=exporter, grounds="The end user is a university."
    )
    # Screening: a match cleared before approval; matches left open when the case closed.
    cleared = _listed_end_user(exporter)
    match = cleared.screening_matches.get()
    ministry = cleared.reviews.first().ministry
    screening_match_resolve(
        screeningmatch=match,
        user=supervisors[ministry],
        disposition="cleared",
        reason="Another company of the same name.",
    )
    cases["cleared_then_approved"] = factories.recommend_all(cleared, reviewers)
    cases["withdrawn_with_open_match"] = application_withdraw(
        application=_listed_end_user(exporter), user=exporter, reason="Order cancelled."
    )
    original = _listed_end_user(exporter)
    amendment = application_amend(application=original, user=exporter)
    application_submit(application=amendment, user=exporter)
    original.refresh_from_db()
    cases["superseded_with_open_match"] = original
    cases["withdrawn_draft"] = application_withdraw(
        application=factories.draft(created_by=exporter), user=exporter
    )
    for case in cases.values():
        case.refresh_from_db()
    return cases


def test_cases_the_services_take_through_every_state_break_no_rule(every_state):
    states = {case.status for case in every_state.values()}
    assert states == set(S.values)
    assert consistency_breaches() == {}


def test_superseding_or_withdrawing_leaves_an_open_match_open_and_never_approvable(every_state):
    for name in ("superseded_with_open_match", "withdrawn_with_open_match"):
        case = every_state[name]
        assert case.status in (S.SUPERSEDED, S.WITHDRAWN)
        assert case.screening_matches.get().status == "open"
        assert case.open_screening_match_count == 1
    # The amendment was screened afresh at its submission: a match of its own.
    amendment = every_state["superseded_with_open_match"].superseded_by
    assert amendment.screening_matches.get().status == "open"


@pytest.mark.parametrize(
    ("rule", "case", "break_it"),
    [
        ("counters", "under_review", lambda a: _update(a, open_screening_match_count=3)),
        ("licences", "denied", lambda a: _update(a, status=S.APPROVED)),
        ("superseded", "under_review", lambda a: _update(a, status=S.SUPERSEDED)),
        ("appeals", "denied", lambda a: _update(a, status=S.UNDER_APPEAL)),
        ("questions", "under_review", lambda a: _update(a, status=S.INFORMATION_REQUESTED)),
        ("open_reviews", "under_review", lambda a: _update(a, status=S.WITHDRAWN)),
        ("draft_untouched", "under_review", lambda a: _update(a, status=S.DRAFT)),
        (
            "matches",
            "withdrawn_with_open_match",
            lambda a: _update(a, status=S.APPROVED),
        ),
        (
            "matches",
            "cleared_then_approved",
            lambda a: ScreeningMatch.objects.filter(application=a).update(resolved_at=None),
        ),
        (
            "outcomes",
            "approved",
            lambda a: a.goods.update(outcome=""),
        ),
    ],
)
def test_each_rule_names_the_case_that_breaks_it(every_state, rule, case, break_it):
    application = every_state[case]
    break_it(application)
    breaches = consistency_breaches()
    assert application.reference in breaches[rule]


def _update(application: Application, **fields) -> None:
    # Rows written around the services, as a faulty import or seeder would.
    Application.objects.filter(pk=application.pk).update(**fields)


def test_every_rule_says_what_it_keeps():
    assert len({rule.name for rule in RULES}) == len(RULES)
    assert all(rule.says.endswith(".") for rule in RULES)


def test_the_command_reports_breaches_and_fails(every_state):
    call_command("check_consistency")  # nothing broken: no error
    _update(every_state["denied"], status=S.APPROVED)
    with pytest.raises(CommandError, match="licences"):
        call_command("check_consistency")
