"""What a caller may do next: the state machine's allowed transitions, narrowed by role.

The services stay the authority (they re-check under lock); these answers are
what the API and the pages offer, computed without a query from objects the
caller already loaded. Names are the action endpoints' path segments, so a
client can POST to `.../{id}/<name>/`.
"""

from __future__ import annotations

from accounts.models import Role, User
from licensing.models import Application, ApplicationStatus, License, Review, ReviewStatus
from licensing.models.reviews import ACTIVE_STATES, OPEN_STATES
from licensing.services.licenses import _may_change_license

# The application's FSM methods, by the endpoint that triggers them.
_APPLICATION_ENDPOINTS = {
    "submit": "submit",
    "respond": "respond",
    "withdraw": "withdraw",
    "committee_approve": "decide",
    "committee_deny": "decide",
}
_ORDER = ["submit", "respond", "withdraw", "decide"]


def application_actions(*, application: Application, user: User) -> list[str]:
    allowed_now = {
        _APPLICATION_ENDPOINTS[t.name]
        for t in application.get_available_status_transitions()
        if t.name in _APPLICATION_ENDPOINTS
    }
    if user.role == Role.EXPORTER and user.organisation_id == application.organisation_id:
        mine = {"submit", "respond", "withdraw"}
    elif user.is_committee:
        mine = {"decide"}
    else:
        mine = set()
    return [name for name in _ORDER if name in allowed_now & mine]


def review_actions(*, review: Review, user: User) -> list[str]:
    """Reviewer-level actions; `review.application` must be loaded."""
    actions: list[str] = []
    of_ministry = user.is_ministry_staff and user.ministry == review.ministry
    under_review = review.application.status == ApplicationStatus.UNDER_REVIEW
    if of_ministry and under_review and review.status == ReviewStatus.PENDING:
        actions.append("claim")
    if (
        of_ministry
        and under_review
        and review.status == ReviewStatus.IN_PROGRESS
        and review.assigned_to_id == user.pk
    ):
        actions.append("recommend")
    if (
        of_ministry
        and under_review
        and review.status in ACTIVE_STATES
        and (review.status == ReviewStatus.PENDING or review.assigned_to_id == user.pk)
    ):
        actions.append("request-information")
    if user.is_supervisor and user.ministry == review.ministry and review.status in OPEN_STATES:
        actions.append("reassign")
    return actions


def license_actions(*, license: License, user: User) -> list[str]:
    if not _may_change_license(user):
        return []
    names = {t.name for t in license.get_available_status_transitions()}
    return [name for name in ("suspend", "reinstate", "revoke") if name in names]
