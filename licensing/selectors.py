"""Reads: who sees what, and who is told what."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Role, User
from licensing.models import Application, ApplicationStatus, License, Review

S = ApplicationStatus


def applications_visible_to(user: User) -> QuerySet[Application]:
    """Applications the user may see; anything else answers 404, so existence never leaks."""
    qs = Application.objects.all()
    if user.is_administrator:
        return qs
    if user.role == Role.EXPORTER:
        return qs.filter(organisation_id=user.organisation_id)
    if user.is_ministry_staff:
        return qs.exclude(status=S.DRAFT).filter(
            id__in=Review.objects.filter(ministry=user.ministry).values("application_id")
        )
    if user.is_committee:
        # Disputed applications to settle, and every decided one: the committee
        # also revokes licenses, so it sees each approved case behind one.
        return qs.filter(status__in=[S.DISPUTED, S.APPROVED, S.DENIED])
    return qs.none()


def disputed(applications: QuerySet[Application]) -> QuerySet[Application]:
    """The committee's work: cases the ministries disagree on, or referred to it."""
    return applications.filter(status=S.DISPUTED)


def decided(applications: QuerySet[Application]) -> QuerySet[Application]:
    return applications.filter(status__in=[S.APPROVED, S.DENIED])


def reviews_visible_to(user: User) -> QuerySet[Review]:
    qs = Review.objects.exclude(application__status=S.DRAFT)
    if user.is_administrator:
        return qs
    if user.is_ministry_staff:
        return qs.filter(ministry=user.ministry)
    return qs.none()


def licenses_visible_to(user: User) -> QuerySet[License]:
    qs = License.objects.all()
    if user.is_administrator:
        return qs
    if user.role == Role.EXPORTER:
        return qs.filter(organisation_id=user.organisation_id)
    if user.is_ministry_staff:
        return qs.filter(application__reviews__ministry=user.ministry).distinct()
    if user.is_committee:
        # Every license comes from a decided application, which the committee sees.
        return qs
    return qs.none()


def ministry_staff(ministry: str, *, roles: tuple[str, ...] = (Role.REVIEWER, Role.SUPERVISOR)):
    return User.objects.filter(is_active=True, ministry=ministry, role__in=roles)


def ministry_colleagues(review: Review | None) -> QuerySet[User]:
    """Who a review may be assigned to: the active reviewers and supervisors of its ministry."""
    return ministry_staff(review.ministry if review is not None else "")


def ministry_supervisors(ministry: str):
    return ministry_staff(ministry, roles=(Role.SUPERVISOR,))


def committee_members():
    return User.objects.filter(is_active=True, role=Role.COMMITTEE)


def organisation_exporters(organisation_id: int):
    return User.objects.filter(is_active=True, role=Role.EXPORTER, organisation_id=organisation_id)
