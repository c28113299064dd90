"""Bulk seeding (`seed_demo --applications N`): every state, consistent rows, one valid chain."""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import User
from licensing.audit import audit_verify_chain
from licensing.clock import WorkingCalendar, local_today
from licensing.consistency import consistency_breaches
from licensing.models import (
    Application,
    ApplicationStatus,
    AuditChainHead,
    AuditEvent,
    ControlListEntry,
    DeadlinePolicy,
    InformationRequest,
    License,
    Notification,
    ReferenceCounter,
    Review,
    RoutingDecision,
)
from licensing.notifications import _render_text
from licensing.services.applications import application_create_draft, application_submit
from licensing.services.deadlines import deadlines_sweep
from licensing.services.reviews import review_claim, review_recommend

pytestmark = pytest.mark.django_db

N = 300
S = ApplicationStatus


@pytest.fixture
def seeded(seeding_run):
    seed, day = seeding_run
    with time_machine.travel(day, tick=False):
        call_command("seed_demo", applications=N, seed=seed)
        yield


def by_status(status: str):
    return Application.objects.filter(status=status)


def test_it_adds_exactly_n_applications_in_every_state(seeded):
    statuses = Counter(Application.objects.values_list("status", flat=True))
    assert sum(statuses.values()) == N
    assert set(statuses) == set(S.values)


def test_reviews_and_licenses_match_each_state(seeded):
    today = local_today()
    calendar = WorkingCalendar.load()
    days = dict(DeadlinePolicy.objects.values_list("ministry", "review_days"))

    drafts = by_status(S.DRAFT)
    assert not Review.objects.filter(application__in=drafts).exists()
    assert not AuditEvent.objects.filter(application__in=drafts).exists()
    assert not drafts.exclude(submitted_at=None).exists()

    submitted = Application.objects.exclude(submitted_at=None)
    assert not submitted.annotate(n=Count("reviews")).filter(n=0).exists()
    assert not submitted.annotate(n=Count("routing")).filter(n=0).exists()
    for review in Review.objects.select_related("application"):
        assert review.received_on == timezone.localtime(review.application.submitted_at).date()
        assert review.due_date == calendar.due_date(review.received_on, days[review.ministry])

    under_review = Review.objects.filter(application__status=S.UNDER_REVIEW)
    assert set(under_review.values_list("status", flat=True)) == {"pending", "in_progress"}
    assert not under_review.filter(status="in_progress", assigned_to=None).exists()
    # Spread over the past weeks: some overdue (escalated as the sweep would have), some not.
    assert Review.objects.overdue(today).exists()
    assert Review.objects.not_overdue(today).filter(application__status=S.UNDER_REVIEW).exists()
    assert under_review.filter(escalation_level__gt=0).exists()
    # Nothing the sweep would already have moved on: no deemed consent or referral owed.
    assert not Review.objects.overdue(today).filter(ministry="foreign").exists()

    asked = by_status(S.INFORMATION_REQUESTED)
    assert not asked.filter(clock_stopped_on=None).exists()
    assert InformationRequest.objects.filter(answered_at=None).count() == asked.count()
    assert set(Review.objects.filter(application__in=asked).values_list("status", flat=True)) == {
        "awaiting_applicant"
    }

    decided = Application.objects.filter(status__in=[S.APPROVED, S.DENIED, S.DISPUTED])
    reviews = Review.objects.filter(application__in=decided)
    assert set(reviews.values_list("status", flat=True)) == {"completed"}
    assert not reviews.filter(Q(recommendation="") | Q(completed_at=None)).exists()
    assert not by_status(S.APPROVED).filter(decided_at=None).exists()
    assert not by_status(S.DISPUTED).filter(disputed_at=None).exists()
    # Some decisions came from the committee after the ministries disagreed.
    assert AuditEvent.objects.filter(action="committee_decided").exists()

    assert set(
        Review.objects.filter(application__status=S.WITHDRAWN).values_list("status", flat=True)
    ) == {"cancelled"}

    approved = Application.objects.filter(status__in=[S.APPROVED, S.PARTIALLY_APPROVED])
    assert License.objects.count() == approved.count()
    assert License.objects.filter(application__in=approved, status="active").count() == (
        approved.count()
    )
    assert not License.objects.filter(valid_until__lt=today).exists()


def test_each_licence_has_a_line_per_good_and_a_code_of_its_own(seeded):
    from licensing.models import Good, License, LicenseGood

    licences = list(License.objects.all())
    assert licences
    assert len({licence.verification_code for licence in licences}) == len(licences)
    for licence in licences:
        # A partial approval's licence covers its approved goods only.
        goods = Good.objects.filter(application_id=licence.application_id, outcome="approved")
        lines = LicenseGood.objects.filter(license=licence)
        assert sorted(lines.values_list("good_id", flat=True)) == sorted(
            goods.values_list("id", flat=True)
        )
        for line in lines.select_related("good"):
            assert line.value == line.good.quantity * line.good.unit_value
            assert (line.used_quantity, line.remaining_quantity) == (0, line.quantity)


def test_amendments_outcomes_per_good_and_appeals_are_seeded_as_the_services_leave_them(
    seeded,
):
    from licensing.models import Appeal, Good

    superseded = by_status(S.SUPERSEDED)
    assert superseded.exists()
    for original in superseded.select_related("superseded_by"):
        amendment = original.superseded_by
        assert amendment.amendment_of_id == original.pk
        assert amendment.submitted_at > original.submitted_at
        assert amendment.status == S.UNDER_REVIEW
        assert set(original.reviews.values_list("status", flat=True)) == {"cancelled"}
        event = AuditEvent.objects.get(application=original, action="application_superseded")
        assert event.data["superseded_by"] == amendment.pk

    # Every decided good has its outcome; refusals cite known criteria.
    decided = [S.APPROVED, S.DENIED, S.PARTIALLY_APPROVED, S.UNDER_APPEAL]
    goods = Good.objects.filter(application__status__in=decided)
    assert not goods.filter(outcome="").exists()
    refused = goods.filter(outcome="refused")
    assert refused.exists()
    assert all(g.refusal_criteria and set(g.refusal_criteria) <= set("12345678") for g in refused)
    assert not Good.objects.filter(application__status=S.UNDER_REVIEW).exclude(outcome="").exists()
    for application in by_status(S.PARTIALLY_APPROVED):
        outcomes = set(application.goods.values_list("outcome", flat=True))
        assert outcomes == {"approved", "refused"}
    assert not Review.objects.filter(recommendation="deny", criteria=[]).exists()

    appealed = by_status(S.UNDER_APPEAL)
    assert appealed.exists()
    assert Appeal.objects.count() == appealed.count()
    for appeal in Appeal.objects.select_related("application"):
        assert appeal.prior_status == S.DENIED
        assert appeal.due_date >= local_today()
        assert appeal.application.appealed_at is not None
        assert appeal.application.decided_at < appeal.lodged_at


def test_the_outbox_is_already_sent_and_reads_as_notify_writes_it(seeded):
    notifications = Notification.objects.all()
    assert notifications.count() > N
    assert not notifications.exclude(delivery_status="sent").exists()
    assert set(notifications.values_list("event", flat=True)) >= {
        "application_submitted",
        "review_assigned",
        "information_requested",
        "application_decided",
        "review_escalated",
        "review_overdue",
        "review_due_soon",
    }
    for event in set(notifications.values_list("event", flat=True)):
        notification = notifications.filter(event=event).first()
        expected = _render_text(
            f"emails/{notification.event}.txt",
            {"subject": notification.subject, **notification.context},
        )
        assert notification.body == expected


def test_the_deadline_sweep_finds_nothing_owed(seeded):
    """Reminders and steps already due are recorded as done; nothing is past a moving step."""
    before = (AuditEvent.objects.count(), Notification.objects.count())
    report = deadlines_sweep()
    assert (report.reminders, report.steps) == (0, {})
    assert (AuditEvent.objects.count(), Notification.objects.count()) == before


def test_references_are_unique_sequential_and_the_counters_moved_past_them(seeded):
    references = list(Application.objects.values_list("reference", flat=True))
    assert len(set(references)) == N
    numbers: dict[int, list[int]] = {}
    for reference in references:
        year, number = re.fullmatch(r"EXP-(\d{4})-(\d{6})", reference).groups()
        numbers.setdefault(int(year), []).append(int(number))
    for year, used in numbers.items():
        assert sorted(used) == list(range(1, len(used) + 1))
        assert ReferenceCounter.objects.get(prefix="EXP", year=year).last == len(used)
    licences = list(License.objects.values_list("number", flat=True))
    assert len(set(licences)) == len(licences)
    for counter in ReferenceCounter.objects.filter(prefix="LIC"):
        assert (
            counter.last
            == License.objects.filter(number__startswith=f"LIC-{counter.year}-").count()
        )


def test_the_chain_verifies_and_its_head_is_the_last_event(seeded):
    report = audit_verify_chain()
    assert report.ok
    assert report.checked == AuditEvent.objects.count()
    last = AuditEvent.objects.order_by("-id").first()
    assert AuditChainHead.objects.get(pk=1).last_hash == last.hash
    assert RoutingDecision.objects.exists()


def test_a_second_run_adds_n_more_and_live_work_carries_on(seeded):
    exporter = User.objects.get(username="exporter")
    live = application_create_draft(
        user=exporter,
        fields={
            "license_type": "dual_use_export",
            "destination_id": "DE",
            "end_user_name": "Live End User",
            "end_user_address": "1 Live Street",
            "end_user_country_id": "DE",
            "end_user_type": "commercial",
            "end_use": "Civilian cameras.",
        },
        goods=[
            {
                "description": "Thermal camera",
                "control_list_entry": ControlListEntry.objects.get(code="6A003"),
                "quantity": 2,
                "unit_value": Decimal("1000"),
                "technology_generation": "previous",
            }
        ],
    )
    year = local_today().year
    this_year = Application.objects.filter(reference__startswith=f"EXP-{year}-")
    # The seeded cases of this year, then this one: no number skipped or taken twice.
    assert live.reference == f"EXP-{year}-{this_year.count():06d}"
    submitted = application_submit(application=live, user=exporter)

    call_command("seed_demo", applications=N)
    assert Application.objects.count() == 2 * N + 1
    references = Application.objects.values_list("reference", flat=True)
    assert len(set(references)) == 2 * N + 1
    assert audit_verify_chain().ok

    # After both runs, a live case takes the next numbers and keeps the chain whole.
    live = application_create_draft(
        user=exporter,
        fields={"license_type": "dual_use_export", "destination_id": "DE"},
    )
    assert live.reference == f"EXP-{year}-{this_year.count():06d}"
    review = submitted.reviews.get()
    reviewer = User.objects.get(username=review.ministry)
    review_claim(review=review, user=reviewer)
    review_recommend(review=review, user=reviewer, recommendation="approve")
    licences = License.objects.filter(number__startswith=f"LIC-{year}-")
    newest = License.objects.get(application=submitted)
    assert newest.number == f"LIC-{year}-{licences.count():06d}"
    assert audit_verify_chain().ok


def test_verification_reports_progress_and_still_names_a_broken_event(seeded):
    from django.db import connection

    seen: list[int] = []
    report = audit_verify_chain(batch_size=100, progress=seen.append)
    assert report.ok and sum(seen) == report.checked
    target = AuditEvent.objects.order_by("id")[250]
    from licensing import audit_guard

    audit_guard.remove(connection)  # an insider who can drop the database's guard
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AuditEvent._meta.db_table} SET reason = %s WHERE id = %s",
            ["rewritten", target.pk],
        )
    report = audit_verify_chain(batch_size=100)
    assert report.broken.pk == target.pk and report.checked == 250


def test_seeded_cases_break_no_rule_the_services_keep(seeded):
    """Seeding writes rows without the services: every rule they keep holds all the same."""
    assert consistency_breaches() == {}


def test_other_parties_and_screening_matches_are_seeded_as_the_services_keep_them(seeded):
    from licensing.models import OtherParty, ScreeningMatch
    from licensing.services.screening import approval_hold

    assert OtherParty.objects.exists()
    assert ScreeningMatch.objects.exists()
    counted = Application.objects.annotate(
        parties=Count("other_parties", distinct=True),
        matches=Count("screening_matches", distinct=True),
        open_matches=Count(
            "screening_matches", filter=Q(screening_matches__status="open"), distinct=True
        ),
    )
    for application in counted:
        assert application.other_party_count == application.parties, application.reference
        assert application.screening_match_count == application.matches, application.reference
        assert application.open_screening_match_count == application.open_matches
    for match in ScreeningMatch.objects.select_related("application"):
        application = match.application
        assert match.party_name == application.end_user_name  # what screening would find
        if application.status == S.APPROVED:
            assert approval_hold(application) is None
    # Where each match may be open, cleared or confirmed:
    # `test_seeded_cases_break_no_rule_the_services_keep`.
    # The chain still verifies with the resolutions on it.
    assert audit_verify_chain().ok
