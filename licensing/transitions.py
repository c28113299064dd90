"""What a caller may do next: the state machine's allowed transitions, narrowed by role.

The services stay the authority (they re-check under lock); these answers are
what the API and the pages offer, computed without a query from objects the
caller already loaded. Names are the action endpoints' path segments, so a
client can POST to `.../{id}/<name>/`.
"""

from __future__ import annotations

from accounts.models import Role, User
from licensing.exceptions import NotPermitted, TransitionConflict
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
    if (
        user.is_supervisor
        and user.ministry == review.ministry
        and review.status in OPEN_STATES
        and review.application.status
        in (ApplicationStatus.UNDER_REVIEW, ApplicationStatus.INFORMATION_REQUESTED)
    ):
        actions.append("reassign")
    return actions


def license_actions(*, license: License, user: User) -> list[str]:
    if not _may_change_license(user):
        return []
    names = {t.name for t in license.get_available_status_transitions()}
    return [name for name in ("suspend", "reinstate", "revoke") if name in names]


# Checks before a request body is read: who may act (403), then whether the state
# allows it now (409). The services check both again under their locks; these
# only make sure a caller who may not act never gets a 400 about the body instead.

_EXPORTER_ACTIONS = {"edit", "delete", "submit", "withdraw", "respond", "documents"}
_APPLICATION_STATES = {
    "edit": {ApplicationStatus.DRAFT},
    "delete": {ApplicationStatus.DRAFT},
    "submit": {ApplicationStatus.DRAFT},
    "withdraw": {
        ApplicationStatus.DRAFT,
        ApplicationStatus.UNDER_REVIEW,
        ApplicationStatus.INFORMATION_REQUESTED,
    },
    "respond": {ApplicationStatus.INFORMATION_REQUESTED},
    "decide": {ApplicationStatus.DISPUTED},
    "documents": {
        ApplicationStatus.DRAFT,
        ApplicationStatus.UNDER_REVIEW,
        ApplicationStatus.INFORMATION_REQUESTED,
    },
}


def require_application_action(*, application: Application, user: User, action: str) -> None:
    if action in _EXPORTER_ACTIONS:
        allowed = user.role == Role.EXPORTER and user.organisation_id == application.organisation_id
        who = f"an exporter of {application.organisation}"
    else:
        allowed, who = user.is_committee, "a committee member"
    if not allowed:
        raise NotPermitted(f"Only {who} may {action} this application.")
    if application.status not in _APPLICATION_STATES[action]:
        raise TransitionConflict(
            f"Cannot {action} while the application is {application.get_status_display().lower()}.",
            current_state=application.status,
        )


_REVIEW_STATES = {
    "claim": {ReviewStatus.PENDING},
    "recommend": {ReviewStatus.IN_PROGRESS},
    "request-information": set(ACTIVE_STATES),
    "reassign": set(OPEN_STATES),
}


def require_review_action(*, review: Review, user: User, action: str) -> None:
    """`review.application` must be loaded."""
    of_ministry = user.is_ministry_staff and user.ministry == review.ministry
    if action == "reassign":
        of_ministry = of_ministry and user.is_supervisor
    if not of_ministry:
        raise NotPermitted(f"Only {review.get_ministry_display()} staff may {action} this review.")
    if review.status not in _REVIEW_STATES[action]:
        raise TransitionConflict(
            f"Cannot {action} while the review is {review.get_status_display().lower()}.",
            current_state=review.status,
        )
    application = review.application
    running = (
        {ApplicationStatus.UNDER_REVIEW, ApplicationStatus.INFORMATION_REQUESTED}
        if action == "reassign"
        else {ApplicationStatus.UNDER_REVIEW}
    )
    if application.status not in running:
        raise TransitionConflict(
            f"Cannot {action} while the application is {application.get_status_display().lower()}.",
            current_state=application.status,
        )


def require_license_action(*, license: License, user: User, action: str) -> None:
    if not _may_change_license(user):
        raise NotPermitted(f"Only a Defense supervisor or the committee may {action} a license.")
    if action not in {t.name for t in license.get_available_status_transitions()}:
        raise TransitionConflict(
            f"Cannot {action} a license that is {license.get_status_display().lower()}.",
            current_state=license.status,
        )
