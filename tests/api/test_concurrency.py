"""Two people acting on the same case at once: one wins, the other gets a 409, never a 500."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from licensing.models import AuditEvent, Review
from licensing.services.applications import application_submit
from tests.api.conftest import token_for
from tests.factories import ReviewerFactory, draft

# The shared conftest reloads the reference data that a transactional test's flush removes.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(requests) -> list[int]:
    """Fire the requests from separate threads (own connections) at the same moment."""
    barrier = threading.Barrier(len(requests))
    codes: list[int] = []

    def run(token, path):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        barrier.wait()
        try:
            codes.append(client.post(path).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=request) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(codes)


def test_two_reviewers_claiming_at_once_one_wins(exporter, reviewers):
    application = draft(created_by=exporter)
    application_submit(application=application, user=exporter)
    review = application.reviews.get()
    first, second = reviewers["economy"], ReviewerFactory(username="eco-2", ministry="economy")
    first, second = token_for(first), token_for(second)
    path = f"/api/v1/reviews/{review.pk}/claim/"
    assert _race([(first, path), (second, path)]) == [200, 409]
    assert Review.objects.get(pk=review.pk).status == "in_progress"
    assert AuditEvent.objects.filter(action="review_claimed").count() == 1


def test_a_double_submit_creates_one_set_of_reviews(exporter, teammate):
    application = draft(created_by=exporter)
    path = f"/api/v1/applications/{application.pk}/submit/"
    assert _race([(token_for(exporter), path), (token_for(teammate), path)]) == [200, 409]
    assert Review.objects.filter(application=application).count() == 1
