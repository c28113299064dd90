"""Appeals: an exporter appeals a refusal (whole or in part); the committee decides it
(`licensing.services.applications.application_decide`) under its own deadline policy."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from accounts.models import User
from licensing import rulebook
from licensing.audit import audit_record
from licensing.clock import WorkingCalendar, latest_due_date_for_step, local_today
from licensing.exceptions import InvalidInput
from licensing.models import Appeal, Application, ApplicationStatus, NotificationEvent
from licensing.notifications import notify
from licensing.selectors import appeal_policy, committee_members
from licensing.services.common import locked, run_transition


def application_appeal(*, application: Application, user: User, grounds: str) -> Application:
    """Lodge the appeal: the application goes to the committee's queue, due in its working days."""
    with locked(application) as application:
        rulebook.require("appeal", application, user)
        if not grounds or not grounds.strip():
            raise InvalidInput({"grounds": ["State the grounds of the appeal."]})
        prior = application.status
        from_state = run_transition(application, "appeal", application.lodge_appeal)
        today = local_today()
        due = WorkingCalendar.load().due_date(today, appeal_policy().decision_days)
        appeal = Appeal.objects.create(
            application=application,
            grounds=grounds.strip(),
            lodged_by=user,
            prior_status=prior,
            received_on=today,
            due_date=due,
        )
        audit_record(
            application=application,
            actor=user,
            action="appeal_lodged",
            from_state=from_state,
            to_state=application.status,
            reason=appeal.grounds,
            data={"appeal": appeal.pk, "due_date": due.isoformat()},
        )
        notify(
            event=NotificationEvent.APPEAL_LODGED,
            recipients=committee_members(),
            key=f"appeal:{appeal.pk}",
            subject=f"{application.reference}: appeal lodged, due {due:%d %b %Y}",
            application=application,
            context={"reason": appeal.grounds},
        )
    return application


def appeals_overdue_sweep(*, today: date, calendar: WorkingCalendar) -> int:
    """Tell the committee, once, of each open appeal past its due date (plus the policy's days).

    The conditional update is the claim: concurrent sweeps notify once.
    """
    policy = appeal_policy()
    latest = latest_due_date_for_step(today, policy.notify_committee_after_days, calendar)
    told = 0
    candidates = Appeal.objects.filter(
        outcome="",
        overdue_notified=False,
        due_date__lte=latest,
        application__status=ApplicationStatus.UNDER_APPEAL,
    ).select_related("application")
    for appeal in candidates:
        with transaction.atomic():
            if not Appeal.objects.filter(pk=appeal.pk, overdue_notified=False).update(
                overdue_notified=True
            ):
                continue
            application = appeal.application
            why = f"The appeal was due on {appeal.due_date:%d %b %Y}."
            audit_record(
                application=application,
                actor=None,
                action="appeal_overdue",
                from_state=application.status,
                to_state=application.status,
                reason=why,
                data={"appeal": appeal.pk, "due_date": appeal.due_date.isoformat()},
            )
            notify(
                event=NotificationEvent.APPEAL_OVERDUE,
                recipients=committee_members(),
                key=f"appeal-overdue:{appeal.pk}",
                subject=f"{application.reference}: appeal overdue",
                application=application,
                context={"reason": why},
            )
            told += 1
    return told
