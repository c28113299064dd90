"""Every list answers in a constant number of queries, whatever the page size."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from licensing.models import Notification
from licensing.services.applications import application_respond, application_submit
from licensing.services.documents import document_upload
from licensing.services.licenses import license_issue
from licensing.services.reviews import review_claim, review_request_information
from tests.factories import draft

pytestmark = pytest.mark.django_db

CASES = 12


@pytest.fixture
def busy(exporter, reviewers):
    """Twelve submitted cases, each with goods, routing, reviews, a question and a license."""
    for i in range(CASES):
        application = draft(
            created_by=exporter, destination="CN", goods=2, technology_generation="current"
        )
        application_submit(application=application, user=exporter)
        review = application.reviews.get(ministry="economy")
        review_claim(review=review, user=reviewers["economy"])
        if i % 2:
            review_request_information(review=review, user=reviewers["economy"], question="?")
    for _ in range(CASES):
        approved = draft(created_by=exporter, status="approved")
        with transaction.atomic():
            license_issue(application=approved)
    assert Notification.objects.filter(recipient=exporter).count() >= CASES


def _count(django_assert_max_num_queries, client, path: str, page_size: int, budget: int) -> int:
    with django_assert_max_num_queries(budget) as captured:
        response = client.get(path, {"page_size": page_size})
    assert response.status_code == 200
    assert len(response.json()["results"]) == page_size
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    ("who", "path", "budget"),
    [
        ("exporter", "/api/v1/applications/", 9),
        ("reviewer", "/api/v1/applications/", 9),
        ("administrator", "/api/v1/applications/", 9),
        ("reviewer", "/api/v1/reviews/", 4),
        ("exporter", "/api/v1/licenses/", 4),
        ("committee", "/api/v1/licenses/", 4),
        ("exporter", "/api/v1/notifications/", 4),
        ("exporter", "/api/v1/countries/", 4),
        ("exporter", "/api/v1/control-list-entries/", 4),
    ],
)
def test_a_list_costs_the_same_for_two_and_for_ten_rows(
    api, busy, django_assert_max_num_queries, who, path, budget, request
):
    user = {
        "exporter": lambda: request.getfixturevalue("exporter"),
        "reviewer": lambda: request.getfixturevalue("reviewers")["economy"],
        "administrator": lambda: request.getfixturevalue("administrator"),
        "committee": lambda: request.getfixturevalue("committee_member"),
    }[who]()
    client = api(user)
    client.get(path)  # the token row and the like, once
    small = _count(django_assert_max_num_queries, client, path, 2, budget)
    large = _count(django_assert_max_num_queries, client, path, 10, budget)
    assert small == large


def test_the_audit_trail_and_documents_cost_the_same_for_any_page(
    api, exporter, reviewers, django_assert_max_num_queries
):
    application = draft(created_by=exporter)
    application_submit(application=application, user=exporter)
    review = review_claim(review=application.reviews.get(), user=reviewers["economy"])
    review_request_information(review=review, user=reviewers["economy"], question="?")
    application_respond(application=application, user=exporter, answer="!")
    for content in (b"%PDF-1.4 a", b"%PDF-1.4 b", b"%PDF-1.4 c"):
        document_upload(
            application=application,
            user=exporter,
            file=SimpleUploadedFile("a.pdf", content),
            kind="other",
        )
    for path in ("events", "documents"):
        url = f"/api/v1/applications/{application.pk}/{path}/"
        client = api(reviewers["economy"])
        small = _count(django_assert_max_num_queries, client, url, 2, 4)
        large = _count(django_assert_max_num_queries, client, url, 3, 4)
        assert small == large


def test_page_size_is_capped_at_one_hundred(api, exporter):
    response = api(exporter).get("/api/v1/countries/", {"page_size": 1000})
    assert len(response.json()["results"]) == 100
