"""Who may take each action: one function per action, `(instance, user) -> bool`.

Each answers only *who*, from the user and the object (its organisation, its
ministry, who holds it); *when* (the states an action starts from, and
conditions on related objects) belongs to the state machines in
`licensing.models`. The transitions name these functions as their
`permission=`, and `licensing.rulebook` asks django-fsm-2 for them, so the
services (under lock), the API and the pages all answer the same question
the same way.

Plain functions of plain attributes: they import no model, so the models can
import them.
"""

from __future__ import annotations

from typing import Any

from accounts.models import Ministry, Role


def _authenticated(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def is_exporter_of(instance: Any, user: Any) -> bool:
    """An exporter of the organisation that owns the application (or licence)."""
    return (
        _authenticated(user)
        and user.role == Role.EXPORTER
        and user.organisation_id is not None
        and user.organisation_id == instance.organisation_id
    )


def workspace(user: Any) -> str:
    """Which home page a person works from: `exporter`, `ministry`, `committee` or `all`."""
    if not _authenticated(user):
        return ""
    if user.role in (Role.REVIEWER, Role.SUPERVISOR):
        return "ministry"
    if user.role == Role.COMMITTEE:
        return "committee"
    return "exporter" if user.role == Role.EXPORTER else "all"


def sees_ministry_backlog(user: Any) -> bool:
    """Supervisors see their ministry's overdue reviews, to reassign and chase them."""
    return _authenticated(user) and user.role == Role.SUPERVISOR


def may_administer(user: Any) -> bool:
    """Who reaches the Django admin: administrators (the role, or a superuser), who
    maintain the rules and reference data there, and anyone given staff status.

    One rule for three things: the admin site lets in exactly these people
    (accounts.admin), the header shows them the admin link, and they must log in with a
    code as well as the password (`must_use_two_factor`), since the admin changes the rules
    for everyone."""
    return (
        _authenticated(user)
        and bool(user.is_active)
        and bool(user.is_staff or user.is_administrator)
    )


def logged_out_when_idle(user: Any) -> bool:
    """Staff (ministry reviewers and supervisors, the committee, administrators) hold
    sessions that can decide cases and change rules: they are logged out after
    SESSION_IDLE_MINUTES without a request. Exporters keep Django's session age."""
    return _authenticated(user) and (
        user.role in (Role.REVIEWER, Role.SUPERVISOR, Role.COMMITTEE, Role.ADMINISTRATOR)
        or bool(user.is_superuser or user.is_staff)
    )


def sees_exporter_view(user: Any) -> bool:
    """Exporters get the exporter's shape of a case (no reviewers, notes or rule details)."""
    return _authenticated(user) and user.role == Role.EXPORTER


# The audit actions an exporter's timeline shows (the case page's and the API's events):
# their case's steps, questions, decision and licence; never the ministries' internal
# steps (claimed, reassigned, escalated), a ministry's recommendation (completed,
# deemed), nor screening (a party resembling a listed one).
EXPORTER_EVENTS = frozenset(
    {
        "application_submitted",
        "information_requested",
        "information_provided",
        "application_approved",
        "application_denied",
        "application_disputed",
        "referred_to_committee",
        "committee_decided",
        "application_withdrawn",
        "license_issued",
        "license_suspended",
        "license_reinstated",
        "license_revoked",
        "license_expired",
        "license_exhausted",
        "license_surrendered",
        "shipment_recorded",
        "document_uploaded",
        "application_partially_approved",
        "amendment_drafted",
        "application_superseded",
        "license_amendment_drafted",
        "license_superseded",
        "license_widened",
        "appeal_lodged",
        "appeal_upheld",
        "appeal_dismissed",
    }
)


def sees_recommendations(application: Any, user: Any) -> bool:
    """Staff see each ministry's recommendation as it is made; the exporter only once the
    application is decided, so a disputed case shows no ministry's view before the
    committee's decision."""
    return _authenticated(user) and (
        not sees_exporter_view(user) or application.decided_at is not None
    )


def may_create_application(user: Any) -> bool:
    return _authenticated(user) and user.role == Role.EXPORTER and user.organisation_id is not None


def is_committee_member(instance: Any, user: Any) -> bool:
    return _authenticated(user) and user.role == Role.COMMITTEE


def is_staff_of_ministry(review: Any, user: Any) -> bool:
    """A reviewer or supervisor of the review's ministry."""
    return (
        _authenticated(user)
        and user.role in (Role.REVIEWER, Role.SUPERVISOR)
        and user.ministry == review.ministry
    )


def holds_or_may_take(review: Any, user: Any) -> bool:
    """Staff of the ministry, and the review is unassigned or assigned to them.

    A claimed review is its holder's: a colleague may read it, and a
    supervisor may reassign it, but only the holder recommends or asks.
    """
    return is_staff_of_ministry(review, user) and review.assigned_to_id in (None, user.pk)


def is_supervisor_of_ministry(review: Any, user: Any) -> bool:
    return is_staff_of_ministry(review, user) and user.role == Role.SUPERVISOR


def may_resolve_screening_match(match: Any, user: Any) -> bool:
    """Clear or confirm a screening match: a reviewer or supervisor of a ministry that
    reviews (or reviewed) the match's application."""
    return (
        _authenticated(user)
        and user.role in (Role.REVIEWER, Role.SUPERVISOR)
        and user.ministry in match.reviewing_ministries
    )


def sees_screening(user: Any) -> bool:
    """Screening matches are the staff's: an exporter is never told its party resembles
    a listed one (the API's exporter shape has no such key)."""
    return _authenticated(user) and not sees_exporter_view(user)


def may_change_license(license: Any, user: Any) -> bool:
    """Suspend, reinstate or revoke any licence: a Defense supervisor, the committee, an admin."""
    return sees_every_license(user)


def sees_license_list(user: Any) -> bool:
    """Everyone with licences to see has the licence list: staff, and exporters of an
    organisation."""
    return _authenticated(user) and (user.role != Role.EXPORTER or bool(user.organisation_id))


def sees_every_license(user: Any) -> bool:
    """Whoever may suspend or revoke any licence sees every licence (the licence list, the
    API's): a Defense supervisor, the committee, an administrator; not only the licences of
    cases their ministry reviewed."""
    return _authenticated(user) and (
        user.role == Role.COMMITTEE
        or user.is_administrator
        or (user.role == Role.SUPERVISOR and user.ministry == Ministry.DEFENSE)
    )


def must_use_two_factor(user: Any) -> bool:
    """Whoever may reach the admin (`may_administer`) logs in with a code from an
    authenticator app as well as the password. Until they have set one up, every page
    sends them to set it up."""
    return may_administer(user)


def may_use_two_factor(user: Any) -> bool:
    """Anyone who logs in may turn two-factor login on (reviewers, supervisors, the
    committee and exporters alike)."""
    return _authenticated(user)


def may_turn_off_two_factor(user: Any) -> bool:
    """Whoever turned it on may turn it off again, unless they must use it."""
    return may_use_two_factor(user) and not must_use_two_factor(user)
