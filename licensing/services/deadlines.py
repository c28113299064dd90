"""The deadline sweep: reminders and each escalation step, applied exactly once.

Safe to run as often and as concurrently as you like: a reminder is claimed
with a conditional UPDATE, and an escalation step is claimed by locking the
application with SKIP LOCKED and re-checking the review's step counter under
the lock. Its cost grows with the work due: each query reads only open
reviews past (or near) their due date, through a partial index.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.db.models import QuerySet

from licensing.audit import audit_record
from licensing.clock import WorkingCalendar, latest_due_date_for_step, local_today
from licensing.models import (
    Application,
    ApplicationStatus,
    DeadlinePolicy,
    EscalationAction,
    EscalationStep,
    NonWorkingDay,
    NotificationEvent,
    Review,
)
from licensing.notifications import notify
from licensing.selectors import (
    committee_members,
    deadline_policies,
    ministry_staff,
    ministry_supervisors,
)
from licensing.services.appeals import appeals_overdue_sweep
from licensing.services.reviews import application_refer_to_committee, review_deem_no_objection

log = logging.getLogger(__name__)


@dataclass
class SweepReport:
    today: date
    reminders: int = 0
    steps: dict[str, int] = field(default_factory=dict)

    def count(self, action: str) -> None:
        self.steps[action] = self.steps.get(action, 0) + 1

    def __str__(self) -> str:
        steps = ", ".join(f"{k}: {v}" for k, v in sorted(self.steps.items())) or "none"
        return f"{self.today}: {self.reminders} reminders; escalation steps: {steps}"


def deadlines_sweep(*, today: date | None = None) -> SweepReport:
    """Send due reminders, then apply every due escalation step, oldest first.

    Steps are applied in the order they fell due, across ministries, so a
    sweep that catches up after an outage does what the missed sweeps would
    have done: a Foreign review deemed on day 5 is deemed before an Economy
    review of the same case refers it to the committee on day 25.
    """
    today = today or local_today()
    calendar = WorkingCalendar.load()
    report = SweepReport(today=today)
    policies = list(deadline_policies().values())
    for policy in policies:
        _send_reminders(policy, today, calendar, report)
    due: list[tuple[date, int, int, int, EscalationStep]] = []
    for policy in policies:
        for level, step in enumerate(policy.steps.all()):
            candidates = reviews_due_a_step(
                policy=policy, level=level, step=step, today=today, calendar=calendar
            )
            for review_id, application_id, due_date in candidates.values_list(
                "pk", "application_id", "due_date"
            ):
                fell_due = calendar.add_working_days(due_date, step.days_after_due)
                # Step (k, action) applies on the first sweep later than due + k working days.
                if today > fell_due:
                    due.append((fell_due, review_id, level, application_id, step))
    for _, review_id, level, application_id, step in sorted(due, key=lambda w: w[:3]):
        if _apply_step(review_id, application_id, level, step):
            report.count(step.action)
    for _ in range(appeals_overdue_sweep(today=today, calendar=calendar)):
        report.count("appeal_overdue")
    log.info("deadline sweep %s", report)
    return report


def reviews_due_a_reminder(
    *, policy: DeadlinePolicy, today: date, calendar: WorkingCalendar
) -> QuerySet[Review]:
    """Open reviews whose due date is within the reminder window and not yet reminded.

    A review still at level 0 has never been overdue, so its reminder may be
    due; the filter matches the partial index review_open_due_idx (ministry,
    escalation_level, due_date WHERE status is pending or in progress), so the
    cost is the rows in the window, not every open review.
    """
    horizon = calendar.add_working_days(today, policy.reminder_days_before)
    return (
        Review.objects.due_soon(today, {policy.ministry: horizon})
        .filter(ministry=policy.ministry, escalation_level=0, reminder_sent=False)
        .order_by("due_date", "pk")
    )


def reviews_due_a_step(
    *,
    policy: DeadlinePolicy,
    level: int,
    step: EscalationStep,
    today: date,
    calendar: WorkingCalendar,
) -> QuerySet[Review]:
    """Open reviews owing step `step` (ladder level `level`) today; same index."""
    # Running only: reviews left open on an application the committee now has owe nothing more.
    return (
        Review.objects.running()
        .filter(
            ministry=policy.ministry,
            # At this level or below: a sweep catching up may owe a review several steps,
            # applied in order below. Still index ranges: (ministry, level, due_date) per level.
            escalation_level__in=range(level + 1),
            due_date__lte=latest_due_date_for_step(today, step.days_after_due, calendar),
        )
        .order_by("due_date", "pk")
    )


def _send_reminders(
    policy: DeadlinePolicy, today: date, calendar: WorkingCalendar, report: SweepReport
) -> None:
    if not policy.reminder_days_before:
        return
    candidates = reviews_due_a_reminder(policy=policy, today=today, calendar=calendar)
    for review in candidates.select_related("application", "assigned_to"):
        if calendar.subtract_working_days(review.due_date, policy.reminder_days_before) > today:
            continue
        if review.application.status != ApplicationStatus.UNDER_REVIEW:
            continue  # frozen on a referred application: the committee has it
        with transaction.atomic():
            # The conditional update is the claim: one sweep gets 1, the others 0.
            claimed = Review.objects.filter(pk=review.pk, reminder_sent=False).update(
                reminder_sent=True
            )
            if not claimed:
                continue
            notify(
                event=NotificationEvent.REVIEW_DUE_SOON,
                recipients=[review.assigned_to]
                if review.assigned_to
                else ministry_staff(review.ministry),
                key=f"due-soon:{review.pk}:{review.due_date.isoformat()}",
                subject=f"{review.application.reference}: {review.get_ministry_display()} "
                f"review due {review.due_date:%d %b %Y}",
                application=review.application,
                context={"ministry": review.ministry, "due_date": review.due_date.isoformat()},
            )
            report.reminders += 1


def _apply_step(review_id: int, application_id: int, level: int, step: EscalationStep) -> bool:
    """Apply one step to one review, once; False if another sweep or a person got there first."""
    with transaction.atomic():
        # Lock order as in the services: application, then review. SKIP LOCKED lets a
        # concurrent sweep (or a person acting on the case) keep it; the next sweep sees
        # the step counter and applies what is still due.
        if (
            not Application.objects.select_for_update(skip_locked=True)
            .filter(pk=application_id)
            .exists()
        ):
            return False
        # Re-checked under the lock: the step counter is the claim. Reviews left open on an
        # application referred to the committee stop here: the committee has the case.
        review = (
            Review.objects.running()
            .select_for_update()
            .select_related("application")
            .filter(pk=review_id, escalation_level=level)
            .first()
        )
        if review is None:
            return False
        _run_step(review, step, level)
        # Only the counter changes here; the status field is left alone.
        Review.objects.filter(pk=review.pk).update(escalation_level=level + 1)
        return True


def _run_step(review: Review, step: EscalationStep, level: int) -> None:
    application = review.application
    ministry = review.get_ministry_display()
    why = (
        f"The {ministry} review was due on {review.due_date:%d %b %Y}; "
        f"escalation step due+{step.days_after_due}: {step.get_action_display().lower()}."
    )
    audit_record(
        application=application,
        actor=None,
        action="escalation_step",
        from_state=application.status,
        to_state=application.status,
        reason=why,
        data={
            "review": review.pk,
            "ministry": review.ministry,
            "level": level + 1,
            "days_after_due": step.days_after_due,
            "step": step.action,
        },
    )
    context = {"ministry": review.ministry, "due_date": review.due_date.isoformat(), "reason": why}
    key = f"escalation:{review.pk}:{level}"
    if step.action == EscalationAction.NOTIFY_SUPERVISOR:
        notify(
            event=NotificationEvent.REVIEW_OVERDUE,
            recipients=[
                *ministry_supervisors(review.ministry),
                *filter(None, [review.assigned_to]),
            ],
            key=key,
            subject=f"{application.reference}: {ministry} review overdue",
            application=application,
            context=context,
        )
    elif step.action == EscalationAction.NOTIFY_COMMITTEE:
        notify(
            event=NotificationEvent.REVIEW_ESCALATED,
            recipients=committee_members(),
            key=key,
            subject=f"{application.reference}: {ministry} review escalated to the committee",
            application=application,
            context=context,
        )
    elif step.action == EscalationAction.DEEM_NO_OBJECTION:
        review_deem_no_objection(review=review, reason=why)
    elif step.action == EscalationAction.REFER_TO_COMMITTEE:
        application_refer_to_committee(review=review, reason=why)


# The administrators' calendar: a closure day moves the due dates it falls within.


@dataclass(frozen=True)
class DueDateMove:
    """An open review whose due date a closure day moves, and where to."""

    review_id: int
    reference: str
    ministry: str
    old: date
    new: date

    def __str__(self) -> str:
        return (
            f"{self.reference} ({self.ministry}): "
            f"{weekday_date(self.old)} to {weekday_date(self.new)}"
        )


def weekday_date(day: date) -> str:
    """A date for people, with its weekday: `Thu 03 Dec 2026`."""
    return f"{day:%a %d %b %Y}"


def closure_day_warnings(day: date, *, today: date | None = None) -> list[str]:
    """What an administrator should know before closing `day`: in the past, or not a
    working day anyway (the weekend, a public holiday, already closed)."""
    from licensing.clock import WEEKEND, public_holiday_name

    today = today or local_today()
    shown = weekday_date(day)
    warnings = []
    if day < today:
        warnings.append(f"{shown} is in the past.")
    if day.weekday() in WEEKEND:
        warnings.append(f"{shown} is a {day:%A}: not a working day anyway, so no due date moves.")
    holiday = public_holiday_name(day)
    if holiday:
        warnings.append(
            f"{shown} is a public holiday ({holiday}): not a working day anyway, "
            "so no due date moves."
        )
    if day in WorkingCalendar.load().closures:
        warnings.append(f"{shown} is already a closure day.")
    return warnings


def closure_day_moves(day: date) -> list[DueDateMove]:
    """The open reviews whose due dates closing `day` moves, and where to (reads only).

    A review counts `day` when it was received before it and is due on or after it:
    its due date moves one working day later. That holds for a review whose clock is
    stopped too: when the exporter answers, the stopped working days are counted with
    the closure already in the calendar. A day that is not a working day moves nothing.
    """
    calendar = WorkingCalendar.load()
    if not calendar.is_working_day(day):
        return []
    closed = WorkingCalendar([*calendar.closures, day])
    moved: dict[date, date] = {}
    reviews = (
        Review.objects.open()
        .filter(received_on__lt=day, due_date__gte=day)
        .select_related("application")
        .only("id", "ministry", "due_date", "application__reference")
        .order_by("due_date", "application__reference", "ministry")
    )
    moves = []
    for review in reviews:
        if review.due_date not in moved:
            moved[review.due_date] = closed.add_working_days(review.due_date, 1)
        moves.append(
            DueDateMove(
                review.pk,
                review.application.reference,
                review.get_ministry_display(),
                review.due_date,
                moved[review.due_date],
            )
        )
    return moves


def closure_day_add(*, day: date, reason: str, user) -> tuple[NonWorkingDay, list[DueDateMove]]:
    """Close `day`: the calendar gains it, and every open review it falls within is due a
    working day later; one audit event records the day and each move."""
    with transaction.atomic():
        moves = closure_day_moves(day)
        closure = NonWorkingDay.objects.create(date=day, reason=reason)
        by_old: dict[tuple[date, date], list[int]] = {}
        for move in moves:
            by_old.setdefault((move.old, move.new), []).append(move.review_id)
        for (old, new), ids in by_old.items():
            Review.objects.filter(pk__in=ids, due_date=old).update(due_date=new)
        audit_record(
            application=None,
            actor=user,
            action="closure_day_added",
            reason=reason,
            data={
                "date": day.isoformat(),
                "moved": [
                    {
                        "review": m.review_id,
                        "application": m.reference,
                        "from": m.old.isoformat(),
                        "to": m.new.isoformat(),
                    }
                    for m in moves
                ],
            },
        )
    return closure, moves


def closure_day_remove(*, closure: NonWorkingDay, user) -> None:
    """Open `closure`'s day again. Due dates already moved stay where they are (a review
    keeps the time it was given); new ones count the day again."""
    with transaction.atomic():
        day, reason = closure.date, closure.reason
        closure.delete()
        audit_record(
            application=None,
            actor=user,
            action="closure_day_removed",
            reason=reason,
            data={"date": day.isoformat()},
        )
