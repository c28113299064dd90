"""Pages and API answers kept per person until the data changes (licensing/page_cache.py).

Transactional tests: a version is renewed when a write commits, so these commit, as
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

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


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


def _kept(client, path: str):
    """`path` as rendered, then as kept: the second read costs only the session's user."""
    first, rendered = _get(client, path)
    _, cached = _get(client, path)
    assert cached == 1 < rendered
    return first


def _the_other_stays_kept_and_the_changed_one_is_read_again(client, changed, other, write):
    """After `write` commits, `other`'s kept page is still served (one query: the session's
    user) and `changed`'s is rendered afresh; the fresh page is returned."""
    _kept(client, f"/applications/{other.pk}/")
    _kept(client, f"/applications/{changed.pk}/")
    write()
    _, other_queries = _get(client, f"/applications/{other.pk}/")
    page, changed_queries = _get(client, f"/applications/{changed.pk}/")
    assert other_queries == 1 < changed_queries
    return page.content.decode()


def test_a_transition_on_one_case_leaves_anothers_kept_page(client, exporter, reviewers):
    from licensing.services.applications import application_withdraw

    changed, other = factories.submitted(exporter), factories.submitted(exporter)
    client.force_login(reviewers["economy"])
    page = _the_other_stays_kept_and_the_changed_one_is_read_again(
        client,
        changed,
        other,
        lambda: application_withdraw(application=changed, user=exporter, reason="Cancelled"),
    )
    assert "Withdrawn" in page


def test_a_document_on_one_case_leaves_anothers_kept_page(client, exporter):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from licensing.services.documents import document_upload

    changed, other = factories.submitted(exporter), factories.submitted(exporter)
    client.force_login(exporter)
    page = _the_other_stays_kept_and_the_changed_one_is_read_again(
        client,
        changed,
        other,
        lambda: document_upload(
            application=changed,
            user=exporter,
            file=SimpleUploadedFile("kept-page-euc.pdf", PDF),
            kind="end_user_certificate",
        ),
    )
    assert "kept-page-euc.pdf" in page


def test_a_shipment_on_one_case_leaves_anothers_kept_page(client, exporter, reviewers):
    from licensing.clock import local_today
    from licensing.models import LicenseGood
    from licensing.services.shipments import shipment_record

    changed = factories.approved(exporter, reviewers, goods=1)
    other = factories.approved(exporter, reviewers, goods=1)
    line = LicenseGood.objects.get(license=changed.license)
    client.force_login(exporter)
    page = _the_other_stays_kept_and_the_changed_one_is_read_again(
        client,
        changed,
        other,
        lambda: shipment_record(
            license=changed.license,
            user=exporter,
            reference="AWB-KEPT-1",
            shipped_on=local_today(),
            lines=[{"license_good": line.pk, "quantity": 1, "value": line.value / line.quantity}],
        ),
    )
    assert "AWB-KEPT-1" in page


def test_an_admin_edit_of_a_rule_a_page_shows_is_seen_on_the_next_look(
    client, exporter, reviewers, administrator
):
    """Reference data is on every page: an edit renews its stamp, which every key holds."""
    from licensing.models import ControlListEntry
    from tests.auth import log_in

    application = factories.submitted(exporter)
    entry = ControlListEntry.objects.get(pk=application.goods.get().control_list_entry_id)
    client.force_login(reviewers["economy"])
    before = _kept(client, f"/applications/{application.pk}/")
    assert f"<td>{entry.code}</td>" in before.content.decode()
    admin = Client()
    log_in(admin, administrator)
    response = admin.post(
        f"/admin/licensing/controllistentry/{entry.pk}/change/",
        {
            "code": f"{entry.code}-X",
            "regime": entry.regime,
            "description": entry.description,
            "change_reason": "Renumbered",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    page, rendered = _get(client, f"/applications/{application.pk}/")
    assert rendered > 1
    assert f"<td>{entry.code}-X</td>" in page.content.decode()


def test_a_change_to_a_case_is_seen_on_everyones_queue_that_shows_it(client, exporter, reviewers):
    """The economy queue is read again after a change to a case with an economy review;
    the defense queue, which does not list it, stays kept."""
    from licensing.services.reviews import review_claim

    economy_only = factories.submitted(exporter)
    defense = Client()
    defense.force_login(reviewers["defense"])
    client.force_login(reviewers["economy"])
    _kept(client, "/")
    _kept(defense, "/")
    review_claim(review=_economy_review(economy_only), user=reviewers["economy"])
    _, economy_queries = _get(client, "/")
    _, defense_queries = _get(defense, "/")
    assert defense_queries == 1 < economy_queries


def test_a_bulk_update_outside_the_services_waits_for_the_pages_lifetime(
    client, exporter, reviewers
):
    """A write that records no event (SQL typed into psql, a bulk UPDATE) renews no
    version: the kept page is served until PAGE_CACHE_SECONDS runs out."""
    application = factories.submitted(exporter)
    client.force_login(reviewers["economy"])
    _kept(client, f"/applications/{application.pk}/")
    Application.objects.filter(pk=application.pk).update(end_use="Rewritten end use")
    page, queries = _get(client, f"/applications/{application.pk}/")
    assert queries == 1 and "Rewritten end use" not in page.content.decode()


def test_a_rolled_back_change_renews_no_version(client, exporter, reviewers):
    from licensing.services.applications import application_withdraw

    application = factories.submitted(exporter)
    client.force_login(reviewers["economy"])
    _kept(client, f"/applications/{application.pk}/")
    with pytest.raises(RuntimeError), transaction.atomic():
        application_withdraw(application=application, user=exporter, reason="Never committed")
        raise RuntimeError
    _, queries = _get(client, f"/applications/{application.pk}/")
    assert queries == 1


def test_redis_down_renders_every_page_afresh(client, exporter, reviewers, settings):
    """A cache is an optimisation: with Redis unreachable the pages read the database."""
    application = factories.submitted(exporter)
    client.force_login(reviewers["economy"])
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # a closed port
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    for path in ("/", f"/applications/{application.pk}/"):
        _get(client, path)
        _, again = _get(client, path)
        assert again > 1
    token = token_for(reviewers["economy"])
    response = Client().get(
        f"/api/v1/applications/{application.pk}/", HTTP_AUTHORIZATION=f"Token {token}"
    )
    assert response.status_code == 200
    review = _economy_review(application)
    assert client.post(f"/reviews/{review.pk}/claim/").status_code == 302
    review.refresh_from_db()
    assert review.assigned_to == reviewers["economy"]


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
    """Notifications renew no version, but the count is part of the page's key."""
    from licensing.models import Notification

    reviewer = reviewers["economy"]
    factories.submitted(exporter)
    client.force_login(reviewer)
    unread = Notification.objects.filter(recipient=reviewer, read_at__isnull=True).count()
    assert re.search(rf'id="unread-count">{unread}<', client.get("/").content.decode())
    Notification.objects.create(
        key="test-unread", recipient=reviewer, event="review_assigned", subject="S", body="B"
    )
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
    loaded them is not kept under the new versions as the ministry they were."""
    request = rf.get("/")
    request.user = reviewers["economy"]
    before = page_cache._page_key(request, ["v1"])
    request.user.ministry = "defense"
    assert page_cache._page_key(request, ["v1"]) != before


def test_a_new_release_renders_afresh(client, exporter, reviewers, settings):
    factories.submitted(exporter)
    client.force_login(reviewers["economy"])
    client.get("/")
    _, kept = _get(client, "/")
    settings.RELEASE = "next-build"
    _, rendered = _get(client, "/")
    assert kept == 1 < rendered


def test_a_reference_data_change_renders_every_page_afresh(client, exporter, reviewers):
    from licensing import reference_cache

    factories.submitted(exporter)
    client.force_login(reviewers["economy"])
    _kept(client, "/")
    reference_cache.invalidate()
    _, rendered = _get(client, "/")
    assert rendered > 1
