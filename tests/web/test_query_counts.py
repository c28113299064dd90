"""The queue and the case page answer in a fixed number of queries, whatever their size."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from licensing.models import Review
from licensing.services.applications import application_submit
from tests import factories

pytestmark = pytest.mark.django_db


def _queries(client, path: str) -> int:
    client.get(path)  # the session, the cached reference data: once
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("who", ["defense", "defense-supervisor"])
def test_the_queue_costs_at_most_ten_queries_for_three_rows_or_a_full_page(
    client, exporter, reviewers, supervisors, who
):
    user = reviewers["defense"] if who == "defense" else supervisors["defense"]
    client.force_login(user)
    munitions = {"code": "ML10", "destination": "CN", "license_type": "marketing"}
    for _ in range(3):
        factories.submitted(exporter, **munitions)
    few = _queries(client, "/")
    for _ in range(60):
        factories.submitted(exporter, **munitions)
    review = Review.objects.filter(ministry="defense").first()
    Review.objects.filter(pk=review.pk).update(due_date=review.received_on)  # one overdue
    many = _queries(client, "/")
    assert many == few
    assert many <= 10


def test_the_case_page_costs_the_same_for_one_good_and_for_twenty(client, exporter, reviewers):
    small = factories.approved(exporter, reviewers, goods=1)
    large = factories.approved(exporter, reviewers, goods=20)
    for who in (exporter, reviewers["economy"]):
        client.force_login(who)
        assert _queries(client, f"/applications/{small.pk}/") == _queries(
            client, f"/applications/{large.pk}/"
        )
        # The header's unread count comes with the session's user (accounts.backends).
        assert _queries(client, f"/applications/{large.pk}/") <= 10


def test_screening_adds_no_query_per_match_or_party(client, exporter, reviewers):
    """A case without other parties or matches reads neither (its counters say so: the
    ten-query budget above); one with them costs one query per relation, whatever their
    number, and the queue's screening badge none (it reads the application's counter)."""
    factories.screening_list()
    cases = []
    for names in (["Zagros Precision Industries"], ["Zagros Precision Co", "Baltaero", "Pars"]):
        application = factories.draft(created_by=exporter)
        for name in names:
            factories.other_party(application, name=name, country="DE")
        cases.append(application_submit(application=application, user=exporter))
    client.force_login(reviewers["economy"])
    few = _queries(client, f"/applications/{cases[0].pk}/")
    many = _queries(client, f"/applications/{cases[1].pk}/")
    # Both relations read, and still within the case page's ten (the session is cached).
    assert few == many <= 10, (few, many)
    queue = client.get("/").content.decode()
    assert queue.count("badge-screening") == 2


def test_an_amendments_page_with_its_changes_stays_within_ten(client, exporter, reviewers):
    """The changes list reads the original and its goods; the amendment's own goods come
    from the page's prefetch, whatever their number."""
    from licensing.services.amendments import application_amend

    pages = []
    for goods in (1, 6):
        original = factories.submitted(exporter, goods=goods)
        amendment = application_amend(application=original, user=exporter)
        first = amendment.goods.order_by("pk").first()
        first.quantity += 1
        first.save()
        application_submit(application=amendment, user=exporter)
        pages.append(amendment)
    client.force_login(reviewers["economy"])
    counts = [_queries(client, f"/applications/{page.pk}/") for page in pages]
    assert (
        "Good 1, Quantity: 10 &rarr; 11"
        in client.get(f"/applications/{pages[1].pk}/").content.decode()
    )
    assert counts[0] == counts[1] <= 10, counts
