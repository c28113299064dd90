"""What the services keep true across an application's rows, checked over the database.

Each rule names the applications that break it, with one query. The services' own
tests drive cases through every state and find no breach, so these are the services'
rules; bulk seeding (`licensing.demo.bulk`), which writes rows without the
services, is checked against the same list, and so is a restored or migrated database
(`manage.py check_consistency`).

What superseding and withdrawing do to screening matches (DESIGN §8, §9): nothing. A
match is resolved by a ministry reviewing the case; once the case is superseded or
withdrawn no ministry reviews it, so a match still open then stays open, as found, on
a case that can no longer be approved. The amendment is screened afresh when it is
submitted and carries its own matches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet

from licensing.models import (
    Appeal,
    Application,
    ApplicationStatus,
    AuditEvent,
    Good,
    License,
    LicenseGood,
    Review,
    ReviewStatus,
    RoutingDecision,
    ScreeningMatch,
)
from licensing.models.screening import MatchStatus

S = ApplicationStatus
R = ReviewStatus

# Where a review may still be open: with the ministries, or referred to the committee by
# an escalation step (the committee then has the case; the review stays as it was).
OPEN_REVIEW_STATES = (S.UNDER_REVIEW, S.INFORMATION_REQUESTED, S.DISPUTED)
# Where every good has its outcome.
DECIDED_STATES = (S.APPROVED, S.DENIED, S.PARTIALLY_APPROVED, S.UNDER_APPEAL)
# Where a licence may exist (an appeal of a partial approval keeps its licence).
LICENSED_STATES = (S.APPROVED, S.PARTIALLY_APPROVED, S.UNDER_APPEAL)
# Where no good has an outcome yet, or ever will.
UNDECIDED_STATES = (S.DRAFT, S.UNDER_REVIEW, S.INFORMATION_REQUESTED, S.WITHDRAWN, S.SUPERSEDED)


@dataclass(frozen=True)
class Rule:
    name: str
    says: str
    breaches: Callable[[], QuerySet[Application]]


def _has(model, **filters) -> Exists:
    return Exists(model.objects.filter(application=OuterRef("pk"), **filters))


def _draft_untouched() -> QuerySet[Application]:
    return Application.objects.filter(status=S.DRAFT).filter(
        Q(submitted_at__isnull=False)
        | _has(Review)
        | _has(RoutingDecision)
        | _has(AuditEvent)
        | _has(ScreeningMatch)
    )


def _submitted_routed() -> QuerySet[Application]:
    return Application.objects.filter(submitted_at__isnull=False).filter(
        ~_has(Review) | ~_has(RoutingDecision)
    )


def _never_submitted() -> QuerySet[Application]:
    # Only a draft, or a draft withdrawn before submission, has no submission time.
    return Application.objects.filter(submitted_at__isnull=True).filter(
        ~Q(status__in=(S.DRAFT, S.WITHDRAWN)) | _has(Review)
    )


def _counters() -> QuerySet[Application]:
    return (
        Application.objects.annotate(
            parties=Count("other_parties", distinct=True),
            matches=Count("screening_matches", distinct=True),
            open_matches=Count(
                "screening_matches",
                filter=Q(screening_matches__status=MatchStatus.OPEN),
                distinct=True,
            ),
        )
        .filter(
            ~Q(other_party_count=F("parties"))
            | ~Q(screening_match_count=F("matches"))
            | ~Q(open_screening_match_count=F("open_matches"))
        )
        .values("pk")
    )


def _open_reviews() -> QuerySet[Application]:
    open_ = (R.PENDING, R.IN_PROGRESS, R.AWAITING_APPLICANT)
    return Application.objects.exclude(status__in=OPEN_REVIEW_STATES).filter(
        _has(Review, status__in=open_)
    )


def _claimed_reviews() -> QuerySet[Application]:
    return Application.objects.filter(_has(Review, status=R.IN_PROGRESS, assigned_to__isnull=True))


def _decided_reviews() -> QuerySet[Application]:
    """A decision follows every review: completed, with a recommendation (or cancelled)."""
    return Application.objects.filter(status__in=DECIDED_STATES).filter(
        _has(Review, status__in=(R.PENDING, R.IN_PROGRESS, R.AWAITING_APPLICANT))
        | _has(Review, status=R.COMPLETED, recommendation="")
        | _has(Review, status=R.COMPLETED, completed_at__isnull=True)
    )


def _closed_reviews() -> QuerySet[Application]:
    """A withdrawn or superseded case's reviews are cancelled or were completed before."""
    return Application.objects.filter(status__in=(S.WITHDRAWN, S.SUPERSEDED)).filter(
        _has(Review, status__in=(R.PENDING, R.IN_PROGRESS, R.AWAITING_APPLICANT))
    )


def _questions() -> QuerySet[Application]:
    """Waiting for the exporter exactly when one question is unanswered, the clock stopped."""
    unanswered = Count(
        "information_requests", filter=Q(information_requests__answered_at=None), distinct=True
    )
    asked = Application.objects.annotate(unanswered=unanswered)
    return asked.filter(
        Q(status=S.INFORMATION_REQUESTED)
        & (
            ~Q(unanswered=1)
            | Q(clock_stopped_on__isnull=True)
            | ~_has(Review, status=R.AWAITING_APPLICANT)
        )
        | ~Q(status=S.INFORMATION_REQUESTED) & Q(unanswered__gt=0)
    ).values("pk")


def _licences() -> QuerySet[Application]:
    return Application.objects.filter(
        Q(status__in=(S.APPROVED, S.PARTIALLY_APPROVED)) & ~_has(License)
        | ~Q(status__in=LICENSED_STATES) & _has(License)
    )


def _licence_lines() -> QuerySet[Application]:
    """A licence covers exactly the goods approved, each once."""
    approved_without_line = Good.objects.filter(
        application=OuterRef("pk"), outcome="approved"
    ).exclude(Exists(LicenseGood.objects.filter(good=OuterRef("pk"))))
    line_of_other_good = LicenseGood.objects.filter(license__application=OuterRef("pk")).exclude(
        good__outcome="approved"
    )
    return Application.objects.filter(_has(License)).filter(
        Exists(approved_without_line) | Exists(line_of_other_good)
    )


def _outcomes() -> QuerySet[Application]:
    return Application.objects.filter(
        Q(status__in=DECIDED_STATES) & _has(Good, outcome="")
        | Q(status__in=UNDECIDED_STATES)
        & Exists(Good.objects.filter(application=OuterRef("pk")).exclude(outcome=""))
        | Q(status=S.PARTIALLY_APPROVED)
        & ~(_has(Good, outcome="approved") & _has(Good, outcome="refused"))
    )


def _superseded() -> QuerySet[Application]:
    amendment = Application.objects.filter(
        pk=OuterRef("superseded_by"), amendment_of=OuterRef("pk"), submitted_at__isnull=False
    )
    return Application.objects.filter(
        Q(status=S.SUPERSEDED)
        & (
            Q(superseded_by__isnull=True)
            | ~Exists(amendment)
            | ~_has(AuditEvent, action="application_superseded")
        )
        | ~Q(status=S.SUPERSEDED) & Q(superseded_by__isnull=False)
    )


def _appeals() -> QuerySet[Application]:
    return Application.objects.filter(
        Q(status=S.UNDER_APPEAL) & ~_has(Appeal, outcome="")
        | ~Q(status=S.UNDER_APPEAL) & _has(Appeal, outcome="")
    )


def _matches() -> QuerySet[Application]:
    """Open or confirmed matches hold approval; a resolution names who, when, and is audited."""
    return Application.objects.filter(
        Q(status__in=(S.APPROVED, S.PARTIALLY_APPROVED))
        & _has(ScreeningMatch, status__in=(MatchStatus.OPEN, MatchStatus.CONFIRMED))
        | _has(ScreeningMatch, status__in=(MatchStatus.CLEARED, MatchStatus.CONFIRMED))
        & (
            _has(
                ScreeningMatch,
                status__in=(MatchStatus.CLEARED, MatchStatus.CONFIRMED),
                resolved_at=None,
            )
            | ~_has(AuditEvent, action="screening_match_resolved")
        )
    )


RULES: tuple[Rule, ...] = (
    Rule(
        "draft_untouched",
        "A draft has no submission, review, routing, event or match.",
        _draft_untouched,
    ),
    Rule(
        "submitted_routed", "A submitted case has its reviews and its routing.", _submitted_routed
    ),
    Rule(
        "never_submitted",
        "Only drafts (and drafts withdrawn) were never submitted.",
        _never_submitted,
    ),
    Rule("counters", "The kept counts of parties and matches equal the rows.", _counters),
    Rule(
        "open_reviews",
        "Reviews are open only while the ministries or the committee have the case.",
        _open_reviews,
    ),
    Rule("claimed_reviews", "A review in progress has its reviewer.", _claimed_reviews),
    Rule(
        "decided_reviews",
        "A decided case's reviews are complete, each with its recommendation.",
        _decided_reviews,
    ),
    Rule("closed_reviews", "A withdrawn or superseded case has no open review.", _closed_reviews),
    Rule(
        "questions",
        "A case waits for the exporter exactly while one question is unanswered.",
        _questions,
    ),
    Rule("licences", "Approved cases have a licence; undecided and refused ones none.", _licences),
    Rule("licence_lines", "A licence covers exactly the approved goods.", _licence_lines),
    Rule("outcomes", "Decided goods have outcomes; undecided ones none.", _outcomes),
    Rule("superseded", "A superseded case names its submitted amendment, audited.", _superseded),
    Rule("appeals", "A case is under appeal exactly while its appeal is undecided.", _appeals),
    Rule("matches", "Open or confirmed matches hold approval; resolutions are recorded.", _matches),
)


def consistency_breaches(applications: QuerySet[Application] | None = None) -> dict[str, list[str]]:
    """Each broken rule's name with the references of the applications that break it."""
    found: dict[str, list[str]] = {}
    within = None if applications is None else applications.values("pk")
    for rule in RULES:
        ids = rule.breaches().values("pk")
        rows = Application.objects.filter(pk__in=ids)
        if within is not None:
            rows = rows.filter(pk__in=within)
        references = sorted(rows.values_list("reference", flat=True))
        if references:
            found[rule.name] = references
    return found
