"""Whatever a person (or a crafted link) sends the pages, the answer is never a 500: input
no page offers is a 4xx that says what was wrong."""

from __future__ import annotations

import pytest
from django.test import Client

from licensing.models import Review
from tests import factories

pytestmark = pytest.mark.django_db

# Past the 64-bit row offset any database takes, whatever the page size.
HUGE_PAGE = "1000000000000000000"


@pytest.fixture
def browser():
    """A client that answers a server error as the server would, rather than raising it."""
    return Client(raise_request_exception=False)


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("exporter", "/notifications/"),
        ("exporter", "/licenses/"),
        ("reviewer", "/"),
        ("reviewer", "/?tab=completed"),
        ("supervisor", "/"),
        ("supervisor", "/notifications/?unread=1"),
    ],
)
def test_a_page_number_past_any_list_is_a_400_that_says_so(
    browser, exporter, reviewers, supervisors, who, path
):
    person = {
        "exporter": exporter,
        "reviewer": reviewers["economy"],
        "supervisor": supervisors["economy"],
    }[who]
    factories.submitted(exporter)  # some rows on every list
    browser.force_login(person)
    joiner = "&" if "?" in path else "?"

    response = browser.get(f"{path}{joiner}page={HUGE_PAGE}")

    assert response.status_code == 400
    assert f"There is no page {HUGE_PAGE}" in response.content.decode()


def test_a_page_number_just_past_the_end_still_shows_the_last_page(browser, exporter):
    browser.force_login(exporter)

    response = browser.get("/notifications/?page=999999")

    assert response.status_code == 200


def test_the_exporters_home_page_number_past_the_end_shows_the_last_page(browser, exporter):
    factories.draft(created_by=exporter)
    browser.force_login(exporter)

    response = browser.get(f"/?page={HUGE_PAGE}")

    assert response.status_code == 200


@pytest.mark.parametrize("value", ["\u00b2", "\u0663", "99999999999999999999", "9" * 5000, "-1"])
def test_reassigning_a_review_that_is_no_number_is_a_400_asking_for_a_review(
    browser, exporter, reviewers, supervisors, value
):
    factories.submitted(exporter)
    browser.force_login(supervisors["economy"])

    response = browser.post(
        "/reviews/reassign/", {"reviews": value, "assignee": str(reviewers["economy"].pk)}
    )

    assert response.status_code == 400
    assert "Select at least one review to reassign." in response.content.decode()


def test_a_real_review_beside_a_superscript_is_still_reassigned(
    browser, exporter, reviewers, supervisors
):
    application = factories.submitted(exporter)
    review = Review.objects.get(application=application, ministry="economy")
    browser.force_login(supervisors["economy"])

    response = browser.post(
        "/reviews/reassign/",
        {"reviews": ["\u00b2", str(review.pk)], "assignee": str(reviewers["economy"].pk)},
    )

    assert response.status_code == 302
    review.refresh_from_db()
    assert review.assigned_to == reviewers["economy"]
