"""What every service shares: a transition writes what changed since the lock, and only that."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from licensing.models import Application, Review
from licensing.services.common import lock, locked, run_transition
from tests.factories import ApplicationFactory, draft

pytestmark = pytest.mark.django_db


def _updates(captured) -> list[str]:
    return [q["sql"] for q in captured if q["sql"].startswith("UPDATE")]


def test_a_transition_writes_the_columns_it_and_the_service_changed_and_no_others():
    application = ApplicationFactory()
    with transaction.atomic(), locked(application) as locked_row:
        locked_row.end_user_name = "Changed before the transition"
        with CaptureQueriesContext(connection) as captured:
            run_transition(locked_row, "submit", locked_row.submit)
    (update,) = _updates(captured)
    for column in ("status", "submitted_at", "end_user_name", "updated_at"):
        assert f'"{column}"' in update.split("WHERE")[0]
    assert '"end_user_address"' not in update
    stored = Application.objects.get(pk=application.pk)
    assert stored.status == "under_review"
    assert stored.end_user_name == "Changed before the transition"
    assert stored.submitted_at is not None


def test_a_json_value_changed_in_place_is_written(exporter):
    from licensing.services.applications import application_submit

    submitted = application_submit(application=draft(created_by=exporter), user=exporter)
    review = submitted.reviews.get()
    with transaction.atomic():
        row = lock(Review, review.pk)
        row.criteria.append("in place")
        run_transition(row, "claim", lambda: row.claim(user=exporter))
    assert Review.objects.get(pk=review.pk).criteria == ["in place"]


def test_an_object_not_read_under_a_lock_is_written_whole():
    application = ApplicationFactory()
    with CaptureQueriesContext(connection) as captured:
        run_transition(application, "submit", application.submit)
    (update,) = _updates(captured)
    assert '"end_user_address"' in update


def test_a_transition_on_a_row_changed_meanwhile_is_a_conflict():
    from licensing.exceptions import TransitionConflict

    application = ApplicationFactory()
    with transaction.atomic(), locked(application) as row:
        # Only a write around the lock can do this (the lock stops any other writer).
        Application.objects.filter(pk=row.pk).update(status="withdrawn")
        with pytest.raises(TransitionConflict, match="changed while you were acting"):
            run_transition(row, "submit", row.submit)


def test_a_service_given_the_row_its_caller_holds_reads_it_no_more_and_any_other_again():
    from licensing.services.common import holding

    application = ApplicationFactory()
    with holding(lambda: lock(Application, application.pk)) as held:
        with CaptureQueriesContext(connection) as captured, locked(held) as row:
            assert row is held
        assert not captured.captured_queries
    with transaction.atomic():
        with CaptureQueriesContext(connection) as captured, locked(held) as row:
            assert row is not held and row.pk == held.pk
        assert any(q["sql"].startswith("SELECT") for q in captured.captured_queries)
