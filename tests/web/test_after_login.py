"""A form sent after the session ended: log in again and land on the form's page, never a 405."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.test import Client

from licensing.models import Review
from licensing.services.applications import application_submit
from licensing.services.reviews import review_claim
from tests import factories
from tests.auth import log_in
from tests.factories import draft

pytestmark = pytest.mark.django_db

START = "2026-11-02 10:00 +02:00"
LATER = "2026-11-02 11:00 +02:00"


@pytest.fixture(autouse=True)
def _idle_timeout_on(settings):
    settings.SESSION_IDLE_MINUTES = 30


def _claimed_review(exporter, reviewer) -> Review:
    with time_machine.travel(START, tick=False):
        application = application_submit(application=draft(created_by=exporter), user=exporter)
        review = Review.objects.get(application=application, ministry=reviewer.ministry)
        review_claim(review=review, user=reviewer)
    return review


def _token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]


def test_a_recommendation_sent_after_the_timeout_returns_to_the_case_after_login(
    exporter, reviewers
):
    reviewer = reviewers["economy"]
    review = _claimed_review(exporter, reviewer)
    case = f"/applications/{review.application_id}/"
    client = Client(enforce_csrf_checks=True)
    with time_machine.travel(START, tick=False):
        log_in(client, reviewer)
        token = _token(client.get(case).content.decode())
    with time_machine.travel(LATER, tick=False):
        response = client.post(
            f"/reviews/{review.pk}/recommend/",
            {"csrfmiddlewaretoken": token, "recommendation": "approve"},
            HTTP_REFERER=f"http://testserver{case}",
        )
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert f"next={case}" in response["Location"].replace("%2F", "/")


def test_logging_in_again_lands_on_the_case_at_the_recommendation_form(exporter, reviewers):
    reviewer = reviewers["economy"]
    review = _claimed_review(exporter, reviewer)
    client = Client()
    with time_machine.travel(LATER, tick=False):
        # The address the timed-out POST left (no Referer): its GET leads to the form's page.
        login = client.get(f"/reviews/{review.pk}/recommend/")
        assert login.status_code == 302
        log_in(client, reviewer)
        response = client.get(f"/reviews/{review.pk}/recommend/")
    assert response.status_code == 302
    assert response["Location"] == f"/applications/{review.application_id}/#recommend"


def test_a_referer_on_another_host_is_not_where_login_returns(exporter, reviewers):
    review = _claimed_review(exporter, reviewers["economy"])
    response = Client().post(
        f"/reviews/{review.pk}/recommend/",
        {"recommendation": "approve"},
        HTTP_REFERER="https://evil.example/applications/1/",
    )
    assert response["Location"].startswith("/accounts/login/?next=")
    assert "evil" not in response["Location"]
    assert f"/reviews/{review.pk}/recommend/" in response["Location"].replace("%2F", "/")


def test_reloading_a_failed_forms_address_shows_its_page_not_a_405(
    client, exporter, reviewers, supervisors
):
    with time_machine.travel(START, tick=False):
        application = factories.approved(exporter, reviewers)
    license = application.license
    client.force_login(exporter)
    submit = client.get(f"/applications/{factories.draft(created_by=exporter).pk}/submit/")
    assert submit.status_code == 302
    assert re.fullmatch(r"/applications/\d+/check/#submit", submit["Location"])
    ship = client.get(f"/licenses/{license.pk}/ship/")
    assert ship["Location"] == f"/applications/{application.pk}/#license-ship"
    client.force_login(supervisors["economy"])
    reassign = client.get("/reviews/reassign/?status=pending")
    assert reassign.status_code == 302
    assert reassign["Location"] == "/?status=pending"


def test_the_address_of_a_case_no_one_shows_you_is_still_not_found(client, exporter, outsider):
    application = factories.draft(created_by=exporter)
    client.force_login(outsider)
    assert client.get(f"/applications/{application.pk}/submit/").status_code == 404
    assert client.get(f"/applications/{application.pk}/no-such-action/").status_code == 404
