"""Lists at scale (issue 21): a list is counted up to a cap, never to its end, and each
list's default order is read from an index.

`count` is exact up to `Pagination.count_cap` rows; past it, `count` is a lower bound and
`count_capped` true, the COUNT query reading at most cap + 1 rows. `next` comes from the
rows themselves, so a client following it walks the whole list, past the cap too.
"""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.models import User
from licensing import selectors
from licensing.api.pagination import Pagination
from licensing.models import Application, Country, Review
from tests import factories

pytestmark = pytest.mark.django_db

CAP = 3


@pytest.fixture
def cap(monkeypatch) -> int:
    monkeypatch.setattr(Pagination, "count_cap", CAP)
    return CAP


def _counts(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]


def _get(client, path: str, **params) -> dict:
    response = client.get(path, params)
    assert response.status_code == 200, response.content
    return response.json()


def test_a_queue_longer_than_the_cap_reports_the_cap_with_a_bounded_count(
    api, cap, exporter, reviewers
):
    for _ in range(cap + 2):
        factories.submitted(exporter, destination="CN")
    assert Review.objects.filter(ministry="economy").count() > cap
    client = api(reviewers["economy"])
    client.get("/api/v1/reviews/")  # the token row and the like, once

    with CaptureQueriesContext(connection) as captured:
        page = _get(client, "/api/v1/reviews/", page_size=1)

    assert page["count"] == cap
    assert page["count_capped"] is True
    assert len(page["results"]) == 1
    assert page["next"] is not None
    (count,) = _counts(captured)
    assert re.search(rf"\bLIMIT {cap + 1}\b", count), count


def test_a_list_within_the_cap_is_counted_exactly(api, cap, exporter, reviewers):
    for _ in range(cap):
        factories.submitted(exporter, destination="CN")

    page = _get(api(reviewers["economy"]), "/api/v1/reviews/", page_size=2)

    assert (page["count"], page["count_capped"]) == (cap, False)
    assert page["next"] is not None
    last = _get(api(reviewers["economy"]), "/api/v1/reviews/", page_size=2, page=2)
    assert (last["count"], last["count_capped"], last["next"]) == (cap, False, None)


def test_next_walks_the_whole_list_past_the_cap_and_the_last_page_is_exact(api, exporter, cap):
    client = api(exporter)
    everyone = list(Country.objects.order_by("code").values_list("code", flat=True))
    assert len(everyone) > 4 * cap
    seen: list[str] = []
    url = "/api/v1/countries/?page_size=2&ordering=code"
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200
        pages.append(response.json())
        seen += [row["code"] for row in pages[-1]["results"]]
        url = pages[-1]["next"]

    assert seen == everyone
    first, last = pages[0], pages[-1]
    assert (first["count"], first["count_capped"]) == (cap, True)
    # Past the cap, the count is at least the rows up to the page's end.
    assert (pages[4]["count"], pages[4]["count_capped"]) == (10, True)
    # The last page knows the total.
    assert (last["count"], last["count_capped"]) == (len(everyone), False)
    assert last["previous"] is not None


def test_a_page_past_the_end_of_a_capped_list_is_a_404(api, exporter, cap):
    pages = -(-Country.objects.count() // 2)
    client = api(exporter)

    assert client.get("/api/v1/countries/", {"page_size": 2, "page": pages}).status_code == 200
    response = client.get("/api/v1/countries/", {"page_size": 2, "page": pages + 1})

    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page."}


@pytest.mark.parametrize("page", ["0", "-1", "1.0", " 1", "²", "last"])
def test_a_page_that_is_no_whole_number_from_one_is_a_404(api, exporter, page):
    response = api(exporter).get("/api/v1/countries/", {"page": page})

    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page."}


def test_the_schema_documents_the_capped_count():
    spec = SchemaGenerator().get_schema(request=None, public=True)
    listed = spec["components"]["schemas"]["PaginatedQueueReviewList"]

    assert listed["required"] == ["count", "count_capped", "results"]
    assert listed["properties"]["count_capped"]["type"] == "boolean"
    assert "lower bound" in listed["properties"]["count"]["description"]


def test_the_committee_list_index_covers_the_committee_states():
    (index,) = [i for i in Application._meta.indexes if i.name == "app_committee_list_idx"]

    assert sorted(dict(index.condition.children)["status__in"]) == sorted(
        selectors.COMMITTEE_STATES
    )


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def _rows_query(client, path: str) -> str:
    client.get(path)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    (rows,) = [q["sql"] for q in captured.captured_queries if " ORDER BY " in q["sql"]]
    return rows


@pytest.mark.postgres
def test_the_review_queue_is_read_from_its_index_in_order():
    """Thousands of reviews: the queue's page is an index scan in its order that stops after
    the page, not a scan of the ministry's every review and a sort."""
    call_command("seed_demo", applications=3000, seed=21, stdout=io.StringIO())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE licensing_review; ANALYZE licensing_application")
    economy = User.objects.get(username="economy")
    assert Review.objects.filter(ministry="economy").count() > 1000
    client = APIClient()
    client.force_authenticate(economy)

    plan = _plan(_rows_query(client, "/api/v1/reviews/?page_size=50"))

    # The ministry's own index, or (a ministry holding half the reviews, as here) the
    # every-ministry one read in order and filtered: either stops after the page.
    assert re.search(r"Index Scan using review_(ministry_)?list_idx on licensing_review", plan), (
        plan
    )
    assert "Sort" not in plan, plan
    assert "Seq Scan on licensing_review" not in plan, plan
