"""Ministry services: claim, recommend, ask, reassign; and the system's deemed consent and referral.

Locks are always taken application first, then review, so two services never
deadlock on the same case.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction

from accounts.models import User
from licensing import rulebook
from licensing.audit import audit_record
from licensing.clock import local_today
from licensing.exceptions import InvalidInput
from licensing.models import (
    Application,
    ApplicationStatus,
    InformationRequest,
    NotificationEvent,
    Recommendation,
    Review,
)
from licensing.models.reviews import ACTIVE_STATES
from licensing.notifications import notify
from licensing.selectors import (
    committee_members,
    ministry_colleagues,
    ministry_supervisors,
    organisation_exporters,
)
from licensing.services.applications import application_conclude_if_reviewed
from licensing.services.common import lock, run_transition
from licensing.services.outcomes import check_decisions
from licensing.services.screening import check_approval_hold

MAX_TEXT = 5000


def _lock_review(review: Review) -> tuple[Application, Review]:
    """Lock the application, then the review, and join them: the review's rules read both."""
    application = lock(Application, review.application_id)
    review = lock(Review, review.pk)
    review.application = application
    return application, review


def review_claim(*, review: Review, user: User) -> Review:
    with transaction.atomic():
        application, review = _lock_review(review)
        rulebook.require("claim", review, user)
        from_state = run_transition(review, "claim", lambda: review.claim(user=user))
        audit_record(
            application=application,
            actor=user,
            action="review_claimed",
            from_state=from_state,
            to_state=review.status,
            data={"review": review.pk, "ministry": review.ministry},
        )
    return review


def review_reassign(*, review: Review, user: User, assignee: User) -> Review:
    with transaction.atomic():
        application, review = _lock_review(review)
        rulebook.require("reassign", review, user)
        if not ministry_colleagues(review).filter(pk=assignee.pk).exists():
            raise InvalidInput(
                {"user": [f"{assignee} is not a {review.get_ministry_display()} reviewer."]}
            )
        previous = review.assigned_to_id
        from_state = run_transition(review, "reassign", lambda: review.reassign(user=assignee))
        event = audit_record(
            application=application,
            actor=user,
            action="review_reassigned",
            from_state=from_state,
            to_state=review.status,
            data={"review": review.pk, "from_user": previous, "to_user": assignee.pk},
        )
        notify(
            event=NotificationEvent.REVIEW_ASSIGNED,
            recipients=[assignee],
            key=f"assigned:{review.pk}:{event.pk}",
            subject=f"{application.reference}: the {review.get_ministry_display()} review "
            "is assigned to you",
            application=application,
            context={"ministry": review.ministry, "due_date": review.due_date.isoformat()},
        )
    return review


def review_recommend(
    *,
    review: Review,
    user: User,
    recommendation: str,
    reason: str = "",
    conditions: str = "",
    criteria: Sequence[str] = (),
    goods: Sequence[dict[str, Any]] | None = None,
) -> Review:
    """Complete the review: the whole application, or (`goods`) each good apart.

    A deny, overall or for a good, cites refusal criteria (`criteria`, or each
    entry's). Without `goods` the recommendation applies to every good.
    """
    with transaction.atomic():
        application, review = _lock_review(review)
        rulebook.require("recommend", review, user)
        check_recommendation(recommendation, reason, conditions, goods)
        per_good = check_decisions(
            goods=list(application.goods.all()),
            overall=recommendation,
            criteria=criteria,
            per_good=goods,
            key="recommendation",
        )
        check_approval_hold(application, recommendation)
        overall_conditions = (
            conditions.strip() if recommendation == Recommendation.APPROVE_WITH_CONDITIONS else ""
        )
        from_state = run_transition(
            review,
            "recommend on",
            lambda: review.recommend(
                recommendation=recommendation,
                reason=reason.strip(),
                conditions=overall_conditions,
                criteria=list(dict.fromkeys(criteria)) if recommendation == "deny" else [],
                goods=per_good,
            ),
        )
        audit_record(
            application=application,
            actor=user,
            action="review_completed",
            from_state=from_state,
            to_state=review.status,
            reason=reason.strip(),
            data={
                "review": review.pk,
                "ministry": review.ministry,
                "recommendation": recommendation,
                "conditions": review.conditions,
                "criteria": review.criteria,
                "goods": review.goods_recommendations,
            },
        )
        application_conclude_if_reviewed(application=application, actor=user)
    return review


def check_recommendation(
    recommendation: str, reason: str, conditions: str, goods: Sequence[dict] | None
) -> None:
    """The recommendation's own input (400), whatever the review's state; the page's form
    asks it too, so its confirmation step asks only about what the service would accept."""
    errors: dict[str, list[str]] = {}
    if recommendation not in Recommendation.values:
        errors["recommendation"] = [f"Choose one of {', '.join(Recommendation.values)}."]
    denies = recommendation == Recommendation.DENY or any(
        entry.get("recommendation") == Recommendation.DENY for entry in goods or ()
    )
    if denies and not reason.strip():
        errors["reason"] = ["Give the reasons for denying."]
    if (
        recommendation == Recommendation.APPROVE_WITH_CONDITIONS
        and not conditions.strip()
        and not goods
    ):
        errors["conditions"] = ["State the conditions."]
    if errors:
        raise InvalidInput(errors)


def review_request_information(*, review: Review, user: User, question: str) -> Review:
    """Ask the exporter; every open review's clock stops until the answer."""
    with transaction.atomic():
        application, review = _lock_review(review)
        rulebook.require("request-information", review, user)
        if not question or not question.strip():
            raise InvalidInput({"question": ["Write the question."]})
        today = local_today()
        # Every running clock stops (the asker's among them) while the case is still
        # under review, which is when their transitions allow it; then the case waits.
        stopped = []
        for other in Review.objects.select_for_update().filter(
            application=application, status__in=ACTIVE_STATES
        ):
            other.application = application
            run_transition(other, "stop the clock of", other.stop_clock)
            stopped.append(other.ministry)
        from_state = run_transition(
            application,
            "request information on",
            lambda: application.request_information(on=today),
        )
        request = InformationRequest.objects.create(
            application=application, review=review, question=question.strip(), asked_by=user
        )
        audit_record(
            application=application,
            actor=user,
            action="information_requested",
            from_state=from_state,
            to_state=application.status,
            reason=request.question,
            data={"request": request.pk, "review": review.pk, "clocks_stopped": stopped},
        )
        notify(
            event=NotificationEvent.INFORMATION_REQUESTED,
            recipients=organisation_exporters(application.organisation_id),
            key=f"asked:{request.pk}",
            subject=f"{application.reference}: the {review.get_ministry_display()} ministry "
            "asks a question",
            application=application,
            context={"question": request.question},
        )
    review.refresh_from_db()
    return review


def review_deem_no_objection(*, review: Review, reason: str) -> Review | None:
    """Silence is consent: complete an overdue review as an approval marked deemed.

    Returns None when the review is no longer open (another sweep, or a human, got there first).
    """
    with transaction.atomic():
        application, review = _lock_review(review)
        if not review.is_running():
            return None
        from_state = run_transition(review, "deem", lambda: review.deem_no_objection(reason=reason))
        audit_record(
            application=application,
            actor=None,
            action="review_deemed",
            from_state=from_state,
            to_state=review.status,
            reason=reason,
            data={
                "review": review.pk,
                "ministry": review.ministry,
                "due_date": str(review.due_date),
            },
        )
        notify(
            event=NotificationEvent.REVIEW_DEEMED,
            recipients=[
                *ministry_supervisors(review.ministry),
                *filter(None, [review.assigned_to]),
            ],
            key=f"deemed:{review.pk}",
            subject=f"{application.reference}: {review.get_ministry_display()} review deemed "
            "no objection",
            application=application,
            context={"ministry": review.ministry, "reason": reason},
        )
        application_conclude_if_reviewed(application=application, actor=None)
    return review


def application_refer_to_committee(*, review: Review, reason: str) -> Application | None:
    """An escalation step: the overdue review sends the application to the committee."""
    with transaction.atomic():
        application, review = _lock_review(review)
        if application.status != ApplicationStatus.UNDER_REVIEW:
            return None
        from_state = run_transition(
            application, "refer to the committee", application.refer_to_committee
        )
        audit_record(
            application=application,
            actor=None,
            action="referred_to_committee",
            from_state=from_state,
            to_state=application.status,
            reason=reason,
            data={"review": review.pk, "ministry": review.ministry},
        )
        notify(
            event=NotificationEvent.REVIEW_ESCALATED,
            recipients=committee_members(),
            key=f"referred:{application.pk}",
            subject=f"{application.reference} referred to the committee",
            application=application,
            context={"ministry": review.ministry, "reason": reason},
        )
    return application
