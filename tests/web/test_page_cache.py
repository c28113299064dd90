"""Pages and API answers kept per person until the data changes (licensing/page_cache.py).

Transactional tests: a generation ends when a write commits, so these commit, as
the web server and the worker do.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from licensing import page_cache
from licensing.models import Application, Review
from tests import factories
from tests.api.conftest import token_for

pytestmark = pytest.mark.django_db(transaction=True)


def _get(client, path: str, **extra):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, **extra)
    assert response.status_code == 200, response.status_code
    return response, len(captured.captured_queries)


def _economy_review(application: Application) -> Review:
    return Review.objects.get(application=application, ministry="economy")


def test_a_second_look_at_the_queue_reads_only_the_session_user(client, exporter, reviewers):
    application = factories.submitted(exporter)
    client.force_login(reviewers["economy"])
    first, rendered = _get(client, "/")
    again, cached = _get(client, "/")
    assert application.reference in again.content.decode()
    assert again.content == first.content.replace(
        re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', first.content).group(1),
        re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', again.content).group(1),
    )
    assert cached == 1 < rendered  # the user (with the unread count), nothing else


def test_an_action_is_seen_on_the_next_look(client, exporter, reviewers):
    application = factories.submitted(exporter)
    review = _economy_review(application)
    reviewer = reviewers["economy"]
    client.force_login(reviewer)
    before = client.get(f"/applications/{application.pk}/").content.decode()
    assert "Unassigned" in before or "unassigned" in before.lower()
    client.post(f"/reviews/{review.pk}/claim/")
    client.get("/")  # the claim's message is shown (and used up) here
    after, rendered = _get(client, f"/applications/{application.pk}/")
    review.refresh_from_db()
    assert review.assigned_to == reviewer
    assert after.content.decode().count(reviewer.get_full_name()) > before.count(
        reviewer.get_full_name()
    )
    assert rendered > 1


def test_a_write_outside_any_page_starts_a_new_generation(client, exporter, reviewers):
    """The worker's writes (a bulk UPDATE here) reach the pages as the web's do."""
    application = factories.submitted(exporter)
    client.force_login(reviewers["economy"])
    client.get("/")
    generation = page_cache.generation()
    Application.objects.filter(pk=application.pk).update(end_use="Rewritten end use")
    assert page_cache.generation() != generation
    page, _ = _get(client, f"/applications/{application.pk}/")
    assert "Rewritten end use" in page.content.decode()


def test_a_rolled_back_write_and_a_session_write_keep_the_generation(exporter):
    application = factories.submitted(exporter)
    generation = page_cache.generation()
    with pytest.raises(RuntimeError), transaction.atomic():
        Application.objects.filter(pk=application.pk).update(end_use="Never committed")
        raise RuntimeError
    from django.contrib.sessions.backends.db import SessionStore

    SessionStore().create()  # a session row: no page shows it
    assert page_cache.generation() == generation


def test_one_persons_page_is_never_anothers(client, exporter, reviewers):
    application = factories.submitted(exporter, code="ML10", destination="CN")
    defense, economy = Client(), Client()
    defense.force_login(reviewers["defense"])
    economy.force_login(reviewers["economy"])
    assert application.reference in defense.get("/").content.decode()
    assert reviewers["defense"].get_full_name() in defense.get("/").content.decode()
    page = economy.get("/").content.decode()
    assert reviewers["economy"].get_full_name() in page
    assert application.reference not in page  # munitions: no economy review
    # A case the person may not see stays a 404 however often another opens it.
    assert economy.get(f"/applications/{application.pk}/").status_code == 404
    assert defense.get(f"/applications/{application.pk}/").status_code == 200
    assert economy.get(f"/applications/{application.pk}/").status_code == 404


def test_a_cached_pages_form_carries_a_token_that_works(exporter, reviewers):
    application = factories.submitted(exporter)
    review = _economy_review(application)
    client = Client(enforce_csrf_checks=True)
    client.force_login(reviewers["economy"])
    client.get(f"/applications/{application.pk}/")
    cached, queries = _get(client, f"/applications/{application.pk}/")
    assert queries == 1
    assert page_cache.csrf_placeholder_text().encode() not in cached.content
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', cached.content).group(1)
    response = client.post(f"/reviews/{review.pk}/claim/", {"csrfmiddlewaretoken": token.decode()})
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.assigned_to == reviewers["economy"]


def test_a_page_with_messages_is_rendered_and_the_next_one_is_kept_again(
    client, exporter, reviewers
):
    application = factories.submitted(exporter)
    review = _economy_review(application)
    client.force_login(reviewers["economy"])
    client.post(f"/reviews/{review.pk}/claim/")
    shown, _ = _get(client, "/")
    assert 'class="messages"' in shown.content.decode()
    first, rendered = _get(client, "/")
    assert 'class="messages"' not in first.content.decode()
    _, cached = _get(client, "/")
    assert cached == 1 < rendered


def test_the_unread_count_in_the_header_is_never_stale(client, exporter, reviewers):
    """Notifications start no new generation, but the count is part of the page's key."""
    from licensing.models import Notification

    reviewer = reviewers["economy"]
    factories.submitted(exporter)
    client.force_login(reviewer)
    unread = Notification.objects.filter(recipient=reviewer, read_at__isnull=True).count()
    assert re.search(rf'id="unread-count">{unread}<', client.get("/").content.decode())
    generation = page_cache.generation()
    Notification.objects.create(
        key="test-unread", recipient=reviewer, event="review_assigned", subject="S", body="B"
    )
    assert page_cache.generation() == generation
    page, _ = _get(client, "/")
    assert re.search(rf'id="unread-count">{unread + 1}<', page.content.decode())


def test_the_cache_off_renders_every_time(client, exporter, reviewers, settings):
    settings.PAGE_CACHE_SECONDS = 0
    factories.submitted(exporter)
    client.force_login(reviewers["economy"])
    client.get("/")  # the session and the reference data: read once
    _, first = _get(client, "/")
    _, second = _get(client, "/")
    assert second == first > 1


def test_the_api_detail_is_read_again_only_after_a_change(api_client_factory, exporter, reviewers):
    application = factories.submitted(exporter)
    review = _economy_review(application)
    staff = api_client_factory(reviewers["economy"])
    outsider = api_client_factory(reviewers["defense"])
    path = f"/api/v1/applications/{application.pk}/"
    first, rendered = _get(staff, path)
    again, cached = _get(staff, path)
    assert again.json() == first.json()
    assert cached == 1 < rendered  # the token (with its user), nothing else
    assert outsider.get(path).status_code == 404
    # The exporter's own shape is kept apart from the staff's.
    mine = api_client_factory(exporter).get(path).json()
    assert "screening_matches" not in mine and "screening_matches" in first.json()
    claimed = staff.post(f"/api/v1/reviews/{review.pk}/claim/")
    assert claimed.status_code == 200, claimed.content
    after, _ = _get(staff, path)
    (economy,) = [r for r in after.json()["reviews"] if r["ministry"] == "economy"]
    (before,) = [r for r in first.json()["reviews"] if r["ministry"] == "economy"]
    assert before["assigned_to"] is None
    assert economy["assigned_to"] is not None


@pytest.fixture
def api_client_factory():
    from rest_framework.test import APIClient

    def client_for(user) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
        return client

    return client_for


def test_what_the_person_was_when_loaded_is_part_of_the_key(rf, reviewers):
    """A reviewer moved to another ministry by a change that committed after their request
    loaded them is not kept under the new generation as the ministry they were."""
    request = rf.get("/")
    request.user = reviewers["economy"]
    before = page_cache._page_key(request, "g1")
    request.user.ministry = "defense"
    assert page_cache._page_key(request, "g1") != before


def test_a_new_release_renders_afresh(client, exporter, reviewers, settings):
    factories.submitted(exporter)
    client.force_login(reviewers["economy"])
    client.get("/")
    _, kept = _get(client, "/")
    settings.RELEASE = "next-build"
    _, rendered = _get(client, "/")
    assert kept == 1 < rendered


def test_a_reference_data_change_starts_a_new_generation(db):
    from licensing import reference_cache

    generation = page_cache.generation()
    reference_cache.invalidate()
    assert page_cache.generation() != generation


@pytest.mark.parametrize(
    ("sql", "shown"),
    [
        ('INSERT OR IGNORE INTO "licensing_review" ("a") VALUES (1)', True),
        ('INSERT INTO "licensing_notification" ("a") VALUES (1)', False),
        ('UPDATE "licensing_application" SET "a" = 1', True),
        ('DELETE FROM "django_session" WHERE 1', False),
        ('WITH moved AS (SELECT 1) UPDATE "licensing_review" SET "a" = 1', True),
        ('SELECT "a" FROM "licensing_review" FOR UPDATE', False),
    ],
)
def test_which_statements_start_a_new_generation(sql, shown, monkeypatch):
    class Connection:
        alias = "default"
        run_on_commit: list = []

    calls = []
    monkeypatch.setattr(
        page_cache.transaction, "on_commit", lambda func, using=None: calls.append(func)
    )
    page_cache.note_write(lambda *args: None, sql, (), False, {"connection": Connection()})
    assert calls == ([page_cache.new_generation] if shown else [])
