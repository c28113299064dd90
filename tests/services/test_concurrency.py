"""Two people acting on the same case at once: exactly one wins, the other gets a conflict.

Row locks are what make this true, and SQLite ignores them, so the threaded
tests run on PostgreSQL (CI sets DATABASE_URL).
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction
from django_fsm import ConcurrentTransition

from licensing.exceptions import TransitionConflict
from licensing.models import Application, AuditEvent, Review
from licensing.services.applications import application_create_draft, application_submit
from licensing.services.reviews import review_claim
from tests.factories import ReviewerFactory, draft


def _run_in_threads(*targets):
    """Run each callable in its own thread (own DB connection); return results or errors."""
    results: list = [None] * len(targets)
    barrier = threading.Barrier(len(targets))

    def runner(i, target):
        try:
            barrier.wait()
            results[i] = target()
        except Exception as exc:  # noqa: BLE001 - the test inspects what each got
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_reviewers_claiming_at_once_one_wins_one_conflicts(exporter, reviewers):
    application = application_submit(application=draft(created_by=exporter), user=exporter)
    review = application.reviews.get()
    colleague = ReviewerFactory(username="economy-2", ministry="economy")

    results = _run_in_threads(
        lambda: review_claim(review=review, user=reviewers["economy"]),
        lambda: review_claim(review=review, user=colleague),
    )

    winners = [r for r in results if isinstance(r, Review)]
    conflicts = [r for r in results if isinstance(r, TransitionConflict)]
    assert len(winners) == 1, results
    assert len(conflicts) == 1, results
    assert conflicts[0].current_state == "in_progress"
    review.refresh_from_db()
    assert review.assigned_to == winners[0].assigned_to
    assert AuditEvent.objects.filter(action="review_claimed").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_second_claim_waits_for_the_first_to_commit(exporter, reviewers):
    application = application_submit(application=draft(created_by=exporter), user=exporter)
    review = application.reviews.get()
    colleague = ReviewerFactory(username="economy-2", ministry="economy")
    first_holds_lock = threading.Event()
    times: dict[str, float] = {}

    def first():
        with transaction.atomic():
            result = review_claim(review=review, user=reviewers["economy"])
            first_holds_lock.set()
            time.sleep(0.5)
            times["first_commit"] = time.monotonic()
        return result

    def second():
        first_holds_lock.wait(timeout=10)
        try:
            return review_claim(review=review, user=colleague)
        finally:
            times["second_done"] = time.monotonic()

    results = _run_in_threads(first, second)
    assert isinstance(results[0], Review)
    assert isinstance(results[1], TransitionConflict)
    assert times["second_done"] >= times["first_commit"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_drafts_get_distinct_sequential_references(exporter):
    def create():
        return application_create_draft(
            user=exporter, fields={"license_type": "export", "destination_id": "US"}
        ).reference

    references = _run_in_threads(*[create] * 6)
    assert all(isinstance(r, str) for r in references), references
    numbers = sorted(int(r[-6:]) for r in references)
    assert numbers == list(range(numbers[0], numbers[0] + 6))


@pytest.mark.django_db
def test_a_stale_copy_cannot_overwrite_a_transition(exporter, reviewers):
    """The optimistic layer under the locks: saving from an outdated state fails."""
    application = application_submit(application=draft(created_by=exporter), user=exporter)
    fresh = Review.objects.get(application=application)
    stale = Review.objects.get(application=application)
    fresh.claim(user=reviewers["economy"])
    fresh.save()
    stale.cancel()
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        stale.save()
    assert Review.objects.get(pk=fresh.pk).status == "in_progress"
    assert Application.objects.get(pk=application.pk).status == "under_review"
