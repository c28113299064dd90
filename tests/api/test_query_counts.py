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


def _statements(captured) -> list[str]:
    """The SQL a request sends, without the savepoints the test's own transaction adds
    (in production the service's transaction is the outermost one)."""
    return [
        q["sql"]
        for q in captured.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


def _two_goods(**overrides) -> dict:
    from tests.api.conftest import draft_payload

    payload = draft_payload(**overrides)
    payload["goods"] = payload["goods"] * 2
    return payload


@pytest.mark.parametrize("goods", [1, 20])
def test_creating_a_draft_costs_at_most_eight_queries_whatever_its_goods(api, exporter, goods):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.api.conftest import draft_payload

    client = api(exporter)
    client.post("/api/v1/applications/", _two_goods(), format="json")  # warm: counter, cache
    payload = draft_payload()
    payload["goods"] = payload["goods"] * goods
    with CaptureQueriesContext(connection) as captured:
        response = client.post("/api/v1/applications/", payload, format="json")
    assert response.status_code == 201, response.content
    assert len(response.json()["goods"]) == goods
    assert len(_statements(captured)) <= 8, _statements(captured)


@pytest.mark.parametrize("goods", [1, 20])
def test_submitting_costs_at_most_fifteen_queries_whatever_its_goods_and_rules(
    api, exporter, goods
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.api.conftest import draft_payload

    client = api(exporter)
    warm = client.post("/api/v1/applications/", _two_goods(), format="json").json()
    client.post(f"/api/v1/applications/{warm['id']}/submit/")  # rules, calendar: cached
    # To China, for a military end use, goods of the current generation: four rules hold.
    payload = draft_payload(destination="CN", military_end_use=True)
    payload["goods"] = [{**payload["goods"][0], "technology_generation": "current"}] * goods
    draft = client.post("/api/v1/applications/", payload, format="json").json()
    with CaptureQueriesContext(connection) as captured:
        response = client.post(f"/api/v1/applications/{draft['id']}/submit/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert {r["ministry"] for r in body["reviews"]} == {"defense", "economy", "foreign"}
    assert len(body["routing"]) >= 4
    assert len(_statements(captured)) <= 15, _statements(captured)


def test_an_action_reads_its_application_once_under_the_services_lock(api, exporter):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api(exporter)
    warm, draft = (
        client.post("/api/v1/applications/", _two_goods(), format="json").json() for _ in "ab"
    )
    client.post(f"/api/v1/applications/{warm['id']}/submit/")  # the audit chain's head made
    with CaptureQueriesContext(connection) as captured:
        response = client.post(f"/api/v1/applications/{draft['id']}/submit/")
    assert response.status_code == 200, response.content
    table = '"licensing_application"'
    reads = [
        q["sql"] for q in captured if q["sql"].startswith("SELECT") and f"FROM {table}" in q["sql"]
    ]
    assert len(reads) == 1, reads
    if connection.features.has_select_for_update:
        assert "FOR UPDATE" in reads[0]
    # One transaction, the endpoint's, which the service joined: the only savepoint is
    # the one the test's own transaction turns it into.
    assert len([q for q in captured if q["sql"].startswith("SAVEPOINT")]) == 1


def test_reading_an_application_costs_a_handful_of_queries(api, exporter, reviewers):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    application = draft(created_by=exporter, destination="CN", goods=5)
    application_submit(application=application, user=exporter)
    for who in (exporter, reviewers["economy"]):
        client = api(who)
        client.get("/api/v1/countries/")
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/api/v1/applications/{application.pk}/")
        assert response.status_code == 200
        assert len(_statements(captured)) <= 6, _statements(captured)


def test_parties_and_matches_cost_one_query_each_whatever_their_number(api, exporter, reviewers):
    """A case without other parties or matches reads neither (the counters say so: the
    six-query budget above); one with them, one query per relation, for any number."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests import factories

    factories.screening_list()
    cases = []
    for names in (["Zagros Precision Industries"], ["Zagros Precision Co", "Baltaero", "Pars"]):
        application = draft(created_by=exporter, goods=3)
        for name in names:
            factories.other_party(application, name=name, country="DE")
        cases.append(application_submit(application=application, user=exporter))
    assert [c.screening_matches.count() for c in cases] == [1, 2]
    for who, budget in ((exporter, 6 + 1), (reviewers["economy"], 6 + 2)):
        client = api(who)
        client.get("/api/v1/countries/")
        counts = []
        for case in cases:
            with CaptureQueriesContext(connection) as captured:
                response = client.get(f"/api/v1/applications/{case.pk}/")
            assert response.json()["other_parties"], response.content
            counts.append(len(_statements(captured)))
        assert counts[0] == counts[1] <= budget, counts
