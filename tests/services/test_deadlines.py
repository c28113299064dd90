"""The deadline sweep, at dated scenarios for each ministry's seeded policy.

Every application here is submitted on Sunday 1 November 2026, a working day
with no public holiday for weeks either side, so the due dates are easy to
check by hand on an Israeli (Sunday-Thursday) calendar.
"""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from licensing.clock import WorkingCalendar
from licensing.models import (
    Application,
    AuditEvent,
    NonWorkingDay,
    Notification,
    Review,
)
from licensing.services.applications import application_respond, application_submit
from licensing.services.deadlines import deadlines_sweep, latest_due_date_for_step
from licensing.services.reviews import review_claim, review_recommend, review_request_information
from tests.factories import ApplicationFactory, draft

pytestmark = pytest.mark.django_db

SUNDAY = "2026-11-01 10:00 +02:00"


def _submit(exporter, **kwargs) -> Application:
    with time_machine.travel(SUNDAY, tick=False):
        return application_submit(application=draft(created_by=exporter, **kwargs), user=exporter)


def _review(application: Application, ministry: str) -> Review:
    return Review.objects.get(application=application, ministry=ministry)


def _sweep(day: str):
    return deadlines_sweep(today=date.fromisoformat(day))


def _told(event: str, user) -> list[Notification]:
    return list(Notification.objects.filter(event=event, recipient=user))


@pytest.fixture
def staff(reviewers, supervisors, committee_member):
    return {"reviewers": reviewers, "supervisors": supervisors, "committee": committee_member}


class TestForeignSilenceIsConsent:
    """Foreign: 5 working days; reminder 1 before; due+0 deem no objection."""

    def test_silence_becomes_consent_the_day_after_the_fifth_working_day(self, exporter, staff):
        application = _submit(exporter, destination="IN")
        foreign = _review(application, "foreign")
        assert foreign.due_date == date(2026, 11, 8)  # Mon-Thu 2-5, Sun 8

        _sweep("2026-11-04")
        assert not _told("review_due_soon", staff["reviewers"]["foreign"])
        _sweep("2026-11-05")  # one working day before Sunday 8
        assert len(_told("review_due_soon", staff["reviewers"]["foreign"])) == 1

        _sweep("2026-11-08")  # the due date itself: not yet overdue
        foreign.refresh_from_db()
        assert (foreign.status, foreign.deemed) == ("pending", False)

        report = _sweep("2026-11-09")
        foreign.refresh_from_db()
        assert report.steps == {"deem_no_objection": 1}
        assert (foreign.status, foreign.recommendation, foreign.deemed) == (
            "completed",
            "approve",
            True,
        )
        assert foreign.escalation_level == 1
        event = AuditEvent.objects.get(application=application, action="review_deemed")
        assert event.actor is None
        assert event.actor_name == "system"
        assert "due on 08 Nov 2026" in event.reason
        assert "deem no objection" in event.reason
        assert len(_told("review_deemed", staff["supervisors"]["foreign"])) == 1
        # The Economy review is still open, so the application waits for it.
        application.refresh_from_db()
        assert application.status == "under_review"

    def test_a_deemed_consent_completes_the_application_like_a_human_approval(
        self, exporter, staff
    ):
        application = _submit(exporter, destination="IN")
        economy = _review(application, "economy")
        with time_machine.travel("2026-11-03 10:00 +02:00", tick=False):
            review_claim(review=economy, user=staff["reviewers"]["economy"])
            review_recommend(
                review=economy, user=staff["reviewers"]["economy"], recommendation="approve"
            )
        _sweep("2026-11-09")
        application.refresh_from_db()
        assert application.status == "approved"
        assert application.license.status == "active"
        actions = list(
            AuditEvent.objects.filter(application=application, actor__isnull=True)
            .order_by("id")
            .values_list("action", flat=True)
        )
        assert actions == [
            "escalation_step",
            "review_deemed",
            "application_approved",
            "license_issued",
        ]
        assert len(_told("application_decided", exporter)) == 1

    def test_a_question_stops_the_clock_and_the_answer_moves_the_deadline(self, exporter, staff):
        application = _submit(exporter, destination="IN")
        with time_machine.travel("2026-11-03 10:00 +02:00", tick=False):
            review_request_information(
                review=_review(application, "economy"),
                user=staff["reviewers"]["economy"],
                question="Who is the end user's parent company?",
            )
        # While the exporter is silent, the ministry's silence counts for nothing.
        _sweep("2026-11-09")
        foreign = _review(application, "foreign")
        assert (foreign.status, foreign.escalation_level) == ("awaiting_applicant", 0)

        # Answered Tuesday 10 November: Wed 4 to Tue 10 is five working days stopped.
        with time_machine.travel("2026-11-10 09:00 +02:00", tick=False):
            application_respond(application=application, user=exporter, answer="None.")
        foreign.refresh_from_db()
        assert foreign.due_date == date(2026, 11, 15)

        _sweep("2026-11-15")
        foreign.refresh_from_db()
        assert foreign.status == "pending"
        _sweep("2026-11-16")
        foreign.refresh_from_db()
        assert (foreign.status, foreign.deemed) == ("completed", True)

    def test_a_review_completed_by_a_person_is_never_deemed(self, exporter, staff):
        application = _submit(exporter, destination="IN")
        foreign = _review(application, "foreign")
        with time_machine.travel("2026-11-05 10:00 +02:00", tick=False):
            review_claim(review=foreign, user=staff["reviewers"]["foreign"])
            review_recommend(
                review=foreign,
                user=staff["reviewers"]["foreign"],
                recommendation="deny",
                reason="Policy.",
                criteria=["4"],
            )
        _sweep("2026-11-09")
        foreign.refresh_from_db()
        assert (foreign.recommendation, foreign.deemed) == ("deny", False)
        assert not AuditEvent.objects.filter(action="escalation_step").exists()


class TestEconomyEscalatesToSupervisorThenCommittee:
    """Economy: 20 working days; reminder 3 before; due+0 supervisor; due+5 committee."""

    def test_each_step_of_the_ladder_on_its_day(self, exporter, staff):
        application = _submit(exporter)
        economy = _review(application, "economy")
        assert economy.due_date == date(2026, 11, 29)

        _sweep("2026-11-23")
        assert not Notification.objects.filter(event="review_due_soon").exists()
        _sweep("2026-11-24")  # Tue: three working days before Sunday 29 (Wed, Thu, Sun)
        assert len(_told("review_due_soon", staff["reviewers"]["economy"])) == 1

        _sweep("2026-11-29")
        assert not _told("review_overdue", staff["supervisors"]["economy"])
        _sweep("2026-11-30")
        overdue = _told("review_overdue", staff["supervisors"]["economy"])
        assert len(overdue) == 1
        assert "due on 29 Nov 2026" in overdue[0].body
        assert not _told("review_overdue", staff["supervisors"]["defense"])

        # due + 5 working days is Sunday 6 December; the referral comes the day after.
        _sweep("2026-12-06")
        application.refresh_from_db()
        assert application.status == "under_review"
        _sweep("2026-12-07")
        application.refresh_from_db()
        assert application.status == "disputed"
        referral = AuditEvent.objects.get(application=application, action="referred_to_committee")
        assert (referral.actor_name, referral.from_state, referral.to_state) == (
            "system",
            "under_review",
            "disputed",
        )
        assert "refer the application to the committee" in referral.reason
        assert len(_told("review_escalated", staff["committee"])) == 1
        economy.refresh_from_db()
        assert economy.escalation_level == 2

    def test_a_sweep_after_an_outage_applies_every_missed_step_once(self, exporter, staff):
        application = _submit(exporter)
        report = _sweep("2026-12-10")
        assert report.steps == {"notify_supervisor": 1, "refer_to_committee": 1}
        application.refresh_from_db()
        assert application.status == "disputed"
        steps = AuditEvent.objects.filter(application=application, action="escalation_step")
        assert [e.data["step"] for e in steps.order_by("id")] == [
            "notify_supervisor",
            "refer_to_committee",
        ]

    def test_sweeping_again_or_replaying_an_earlier_day_repeats_nothing(self, exporter, staff):
        application = _submit(exporter)
        for day in ("2026-11-24", "2026-11-30", "2026-12-07", "2026-12-07", "2026-11-30"):
            _sweep(day)
        call_command("sweep_deadlines", "--today", "2026-12-08")
        assert AuditEvent.objects.filter(action="escalation_step").count() == 2
        assert AuditEvent.objects.filter(action="referred_to_committee").count() == 1
        assert len(_told("review_due_soon", staff["reviewers"]["economy"])) == 1
        assert len(_told("review_overdue", staff["supervisors"]["economy"])) == 1
        assert len(_told("review_escalated", staff["committee"])) == 1
        application.refresh_from_db()
        assert application.status == "disputed"

    def test_an_administrators_closure_day_moves_the_step(self, exporter, staff):
        _submit(exporter)
        # Closing Monday 30 November after the due date was set makes due + 5
        # working days Monday 7 December (Tue 1 to Thu 3, Sun 6, Mon 7).
        NonWorkingDay.objects.create(date=date(2026, 11, 30), reason="General strike")
        _sweep("2026-12-07")
        assert AuditEvent.objects.filter(action="referred_to_committee").count() == 0
        _sweep("2026-12-08")
        assert AuditEvent.objects.filter(action="referred_to_committee").count() == 1


class TestDefenseNotifiesSupervisorThenCommittee:
    """Defense: 15 working days; reminder 3 before; due+0 supervisor; due+5 committee."""

    def test_supervisor_then_committee_without_changing_the_application(self, exporter, staff):
        application = _submit(exporter, code="ML10", license_type="marketing")
        defense = _review(application, "defense")
        assert defense.due_date == date(2026, 11, 22)
        review_claim(review=defense, user=staff["reviewers"]["defense"])

        _sweep("2026-11-17")  # Tue: Wed 18, Thu 19, Sun 22
        assert len(_told("review_due_soon", staff["reviewers"]["defense"])) == 1
        assert not _told("review_due_soon", staff["supervisors"]["defense"])  # it is claimed

        _sweep("2026-11-23")
        assert len(_told("review_overdue", staff["supervisors"]["defense"])) == 1
        assert len(_told("review_overdue", staff["reviewers"]["defense"])) == 1
        assert not _told("review_escalated", staff["committee"])

        _sweep("2026-11-29")  # due + 5 working days: not yet
        assert not _told("review_escalated", staff["committee"])
        _sweep("2026-11-30")
        escalated = _told("review_escalated", staff["committee"])
        assert len(escalated) == 1
        assert "escalated to the committee" in escalated[0].subject

        defense.refresh_from_db()
        application.refresh_from_db()
        assert (defense.status, defense.escalation_level) == ("in_progress", 2)
        assert application.status == "under_review"
        events = AuditEvent.objects.filter(
            application=application, action="escalation_step", data__ministry="defense"
        ).order_by("id")
        assert [(e.actor_name, e.data["step"]) for e in events] == [
            ("system", "notify_supervisor"),
            ("system", "notify_committee"),
        ]


class TestTheSweepsCost:
    def test_latest_due_date_for_a_step_skips_the_weekend(self):
        calendar = WorkingCalendar()
        # On Sunday 6 December, due+0 covers due dates up to Saturday 5.
        assert latest_due_date_for_step(date(2026, 12, 6), 0, calendar) == date(2026, 12, 5)
        # due+1: the one working day after the due date (Thursday 3) must be before Sunday 6.
        assert latest_due_date_for_step(date(2026, 12, 6), 1, calendar) == date(2026, 12, 2)

    def test_open_reviews_not_yet_due_cost_no_extra_queries(self, exporter, staff):
        _submit(exporter)

        def queries() -> int:
            with CaptureQueriesContext(connection) as captured:
                _sweep("2026-11-10")
            return len(captured)

        queries()  # the policies and the calendar, once, into the cache
        few = queries()
        with time_machine.travel(SUNDAY, tick=False):
            applications = ApplicationFactory.create_batch(
                60, created_by=exporter, status="under_review"
            )
        Review.objects.bulk_create(
            Review(
                application=a,
                ministry=ministry,
                received_on=date(2026, 11, 1),
                due_date=date(2026, 11, 29),
            )
            for a in applications
            for ministry in ("defense", "economy", "foreign")
        )
        assert queries() == few


@pytest.mark.postgres
def test_the_sweep_reads_open_reviews_through_the_partial_index(exporter):
    """The query plan, with many open reviews not due and a few due: an index scan."""
    applications = ApplicationFactory.create_batch(400, created_by=exporter, status="under_review")
    Review.objects.bulk_create(
        Review(
            application=a,
            ministry=ministry,
            received_on=date(2026, 11, 1),
            due_date=date(2026, 11, 29) if i % 100 else date(2026, 11, 2),
        )
        for i, a in enumerate(applications)
        for ministry in ("defense", "economy", "foreign")
    )
    Review.objects.filter(application__in=applications[::3]).update(status="completed")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE licensing_review")
        cursor.execute("ANALYZE licensing_application")
    from licensing.models import DeadlinePolicy
    from licensing.services.deadlines import reviews_due_a_step

    policy = DeadlinePolicy.objects.get(ministry="economy")
    step = policy.steps.first()
    plan = reviews_due_a_step(
        policy=policy, level=0, step=step, today=date(2026, 11, 10), calendar=WorkingCalendar()
    ).explain()
    # The plan, as in the README: an index scan of a partial index that holds only open
    # reviews (review_open_due_idx, or the queue's review_queue_idx, as the planner
    # prefers), never the whole table.
    assert "review_open_due_idx" in plan or "review_queue_idx" in plan, plan
    assert "Seq Scan on licensing_review" not in plan


def test_the_command_replays_a_day_and_rejects_a_bad_date(exporter, staff, capsys):
    application = _submit(exporter, destination="IN")
    call_command("sweep_deadlines", "--today", "2026-11-09")
    assert "deem_no_objection: 1" in capsys.readouterr().out
    assert _review(application, "foreign").deemed
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("sweep_deadlines", "--today", "09/11/2026")


def test_a_due_date_moved_by_a_question_gets_its_own_reminder(exporter, staff):
    application = _submit(exporter, destination="IN")  # Foreign due Sunday 8 November
    foreign_reviewers = [staff["reviewers"]["foreign"], staff["supervisors"]["foreign"]]
    _sweep("2026-11-05")  # one working day before: the reminder
    assert len(_told("review_due_soon", staff["reviewers"]["foreign"])) == 1
    with time_machine.travel("2026-11-05 12:00 +02:00", tick=False):
        review_request_information(
            review=_review(application, "economy"),
            user=staff["reviewers"]["economy"],
            question="Parent company?",
        )
    # Answered Thursday 19 November: Sun 8 to Thu 19 is ten working days stopped.
    with time_machine.travel("2026-11-19 09:00 +02:00", tick=False):
        application_respond(application=application, user=exporter, answer="None.")
    foreign = _review(application, "foreign")
    assert foreign.due_date == date(2026, 11, 22)
    _sweep("2026-11-19")  # one working day before the new date (Fri, Sat are the weekend)
    for user in foreign_reviewers:
        assert len(_told("review_due_soon", user)) == 2
    _sweep("2026-11-19")
    assert len(_told("review_due_soon", staff["reviewers"]["foreign"])) == 2


def test_reviews_left_open_on_a_referred_application_owe_no_more_steps(exporter, staff):
    from licensing.services.reviews import application_refer_to_committee

    application = _submit(exporter, destination="IN")
    application_refer_to_committee(review=_review(application, "economy"), reason="Overdue.")
    report = _sweep("2026-12-31")
    assert report.steps == {}
    foreign = _review(application, "foreign")
    assert (foreign.status, foreign.escalation_level) == ("pending", 0)


class TestClosureDays:
    """An administrator closes a day: open reviews it falls within are due a day later."""

    def test_a_closure_moves_each_open_review_it_falls_within(
        self, exporter, reviewers, administrator
    ):
        from licensing.services.deadlines import closure_day_add, closure_day_moves

        application = _submit(exporter, destination="CN")  # Economy (29 Nov), Foreign (8 Nov)
        done = _submit(exporter)  # Economy only, recommended: completed, nothing to move
        review_claim(review=_review(done, "economy"), user=reviewers["economy"])
        review_recommend(
            review=_review(done, "economy"), user=reviewers["economy"], recommendation="approve"
        )
        assert [m.reference for m in closure_day_moves(date(2026, 11, 12))] == [
            application.reference
        ]
        with time_machine.travel("2026-11-03 09:00 +02:00", tick=False):
            _, moves = closure_day_add(day=date(2026, 11, 12), reason="Strike", user=administrator)
        assert [(m.reference, m.old, m.new) for m in moves] == [
            (application.reference, date(2026, 11, 29), date(2026, 11, 30)),
        ]
        assert _review(done, "economy").due_date == date(2026, 11, 29)
        assert _review(application, "foreign").due_date == date(2026, 11, 8)  # due before it
        assert _review(application, "economy").due_date == date(2026, 11, 30)
        assert WorkingCalendar.load().is_working_day(date(2026, 11, 12)) is False
        # A day that is not a working day anyway moves nothing.
        assert closure_day_moves(date(2026, 11, 13)) == []  # a Friday
        assert closure_day_moves(date(2026, 11, 12)) == []  # closed already

    def test_a_stopped_clock_ends_where_it_would_have_without_the_closure(
        self, exporter, reviewers, administrator
    ):
        from licensing.services.deadlines import closure_day_add

        application = _submit(exporter, destination="CN")
        with time_machine.travel("2026-11-04 10:00 +02:00", tick=False):
            review_request_information(
                review=_review(application, "economy"), user=reviewers["economy"], question="?"
            )
            # Thursday 5 November falls while the clock is stopped: closing it moves the
            # due date now, and the answer then counts one stopped working day fewer.
            closure_day_add(day=date(2026, 11, 5), reason="Storm", user=administrator)
        assert _review(application, "foreign").due_date == date(2026, 11, 9)
        with time_machine.travel("2026-11-10 10:00 +02:00", tick=False):
            application_respond(application=application, user=exporter, answer="!")
        # Without the closure: 8 November plus the 4 working days stopped (5, 8, 9, 10).
        assert _review(application, "foreign").due_date == date(2026, 11, 12)
