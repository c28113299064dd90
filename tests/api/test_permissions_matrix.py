"""Every role against every endpoint, on its own objects and on others': the exact status code.

Columns, in order: the organisation's exporter, another organisation's exporter,
an Economy reviewer (the ministry the case is routed to), a Foreign Affairs
reviewer (not routed), the Economy supervisor, a committee member, an
administrator, and an anonymous caller.
"""

from __future__ import annotations

from functools import cached_property

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from licensing.models import Notification, Review
from licensing.services.applications import application_submit
from licensing.services.licenses import license_suspend
from licensing.services.reviews import (
    review_claim,
    review_recommend,
    review_request_information,
)
from tests.api.conftest import draft_payload
from tests.factories import ReviewerFactory, draft

pytestmark = pytest.mark.django_db

ROLES = [
    "exporter",
    "outsider",
    "reviewer",
    "other_reviewer",
    "supervisor",
    "committee",
    "administrator",
    "anonymous",
]


class World:
    """The cases a cell may act on, each built the first time a cell asks for it."""

    def __init__(self, users: dict, reviewers: dict) -> None:
        self.users = users
        self.exporter = users["exporter"]
        self.economy = users["reviewer"]
        self.defense = reviewers["defense"]

    def _submitted(self, **kwargs):
        application = draft(created_by=self.exporter, **kwargs)
        return application_submit(application=application, user=self.exporter)

    def _approve(self, review: Review) -> None:
        review_claim(review=review, user=self.economy)
        review_recommend(review=review, user=self.economy, recommendation="approve")

    @cached_property
    def draft(self):
        return draft(created_by=self.exporter)

    @cached_property
    def submitted(self):
        return self._submitted()

    @cached_property
    def pending_review(self):
        return self.submitted.reviews.get()

    @cached_property
    def claimed_review(self):
        review = self._submitted().reviews.get()
        return review_claim(review=review, user=self.economy)

    @cached_property
    def asked(self):
        application = self._submitted()
        review_request_information(
            review=application.reviews.get(), user=self.economy, question="Why?"
        )
        return application

    @cached_property
    def disputed(self):
        application = self._submitted(military_end_use=True)
        defense = application.reviews.get(ministry="defense")
        review_claim(review=defense, user=self.defense)
        review_recommend(
            review=defense,
            user=self.defense,
            recommendation="deny",
            reason="Risk.",
            criteria=["7"],
        )
        self._approve(application.reviews.get(ministry="economy"))
        return application

    @cached_property
    def license(self):
        application = self._submitted()
        self._approve(application.reviews.get())
        return application.license

    @cached_property
    def suspended_license(self):
        application = self._submitted()
        self._approve(application.reviews.get())
        with transaction.atomic():
            return license_suspend(
                license=application.license, user=self.users["committee"], reason="Check."
            )

    @cached_property
    def notification(self):
        self._submitted()  # tells the exporter "submitted"
        return Notification.objects.get(recipient=self.exporter)

    @cached_property
    def colleague(self):
        return ReviewerFactory(username="economy-2", ministry="economy")


@pytest.fixture
def world(exporter, outsider, reviewers, supervisors, committee_member, administrator):
    users = {
        "exporter": exporter,
        "outsider": outsider,
        "reviewer": reviewers["economy"],
        "other_reviewer": reviewers["foreign"],
        "supervisor": supervisors["economy"],
        "committee": committee_member,
        "administrator": administrator,
        "anonymous": None,
    }
    return World(users, reviewers)


def _pdf():
    return SimpleUploadedFile("c.pdf", b"%PDF-1.7\n%%EOF\n")


# name: (method, path, body, expected codes in ROLES order)
MATRIX = {
    "countries": ("get", lambda w: "/api/v1/countries/", None, [200] * 7 + [401]),
    "country": ("get", lambda w: "/api/v1/countries/DE/", None, [200] * 7 + [401]),
    "control list": ("get", lambda w: "/api/v1/control-list-entries/", None, [200] * 7 + [401]),
    "control entry": (
        "get",
        lambda w: "/api/v1/control-list-entries/6A003/",
        None,
        [200] * 7 + [401],
    ),
    "list applications": ("get", lambda w: "/api/v1/applications/", None, [200] * 7 + [401]),
    "create application": (
        "post",
        lambda w: "/api/v1/applications/",
        lambda w: draft_payload(),
        [201, 201, 403, 403, 403, 403, 403, 401],
    ),
    "read draft": (
        "get",
        lambda w: f"/api/v1/applications/{w.draft.pk}/",
        None,
        [200, 404, 404, 404, 404, 404, 200, 401],
    ),
    "read submitted": (
        "get",
        lambda w: f"/api/v1/applications/{w.submitted.pk}/",
        None,
        [200, 404, 200, 404, 200, 404, 200, 401],
    ),
    "read disputed": (
        "get",
        lambda w: f"/api/v1/applications/{w.disputed.pk}/",
        None,
        [200, 404, 200, 404, 200, 200, 200, 401],
    ),
    "edit draft": (
        "patch",
        lambda w: f"/api/v1/applications/{w.draft.pk}/",
        lambda w: {"end_use": "Edited."},
        [200, 404, 404, 404, 404, 404, 403, 401],
    ),
    "delete draft": (
        "delete",
        lambda w: f"/api/v1/applications/{w.draft.pk}/",
        None,
        [204, 404, 404, 404, 404, 404, 403, 401],
    ),
    "submit": (
        "post",
        lambda w: f"/api/v1/applications/{w.draft.pk}/submit/",
        None,
        [200, 404, 404, 404, 404, 404, 403, 401],
    ),
    "withdraw": (
        "post",
        lambda w: f"/api/v1/applications/{w.submitted.pk}/withdraw/",
        None,
        [200, 404, 403, 404, 403, 404, 403, 401],
    ),
    "respond": (
        "post",
        lambda w: f"/api/v1/applications/{w.asked.pk}/respond/",
        lambda w: {"answer": "Because."},
        [200, 404, 403, 404, 403, 404, 403, 401],
    ),
    "decide": (
        "post",
        lambda w: f"/api/v1/applications/{w.disputed.pk}/decide/",
        lambda w: {"decision": "deny", "reason": "Too risky.", "criteria": ["4"]},
        [403, 404, 403, 404, 403, 200, 403, 401],
    ),
    "list documents": (
        "get",
        lambda w: f"/api/v1/applications/{w.submitted.pk}/documents/",
        None,
        [200, 404, 200, 404, 200, 404, 200, 401],
    ),
    "upload document": (
        "multipart",
        lambda w: f"/api/v1/applications/{w.submitted.pk}/documents/",
        lambda w: {"file": _pdf(), "kind": "other"},
        [201, 404, 403, 404, 403, 404, 403, 401],
    ),
    "events": (
        "get",
        lambda w: f"/api/v1/applications/{w.disputed.pk}/events/",
        None,
        [200, 404, 200, 404, 200, 200, 200, 401],
    ),
    "review queue": ("get", lambda w: "/api/v1/reviews/", None, [200] * 7 + [401]),
    "read review": (
        "get",
        lambda w: f"/api/v1/reviews/{w.pending_review.pk}/",
        None,
        [404, 404, 200, 404, 200, 404, 200, 401],
    ),
    "claim": (
        "post",
        lambda w: f"/api/v1/reviews/{w.pending_review.pk}/claim/",
        None,
        [404, 404, 200, 404, 200, 404, 403, 401],
    ),
    "recommend": (
        "post",
        lambda w: f"/api/v1/reviews/{w.claimed_review.pk}/recommend/",
        lambda w: {"recommendation": "approve"},
        [404, 404, 200, 404, 403, 404, 403, 401],
    ),
    "request information": (
        "post",
        lambda w: f"/api/v1/reviews/{w.pending_review.pk}/request-information/",
        lambda w: {"question": "Who pays?"},
        [404, 404, 200, 404, 200, 404, 403, 401],
    ),
    "reassign": (
        "post",
        lambda w: f"/api/v1/reviews/{w.pending_review.pk}/reassign/",
        lambda w: {"user": w.colleague.pk},
        [404, 404, 403, 404, 200, 404, 403, 401],
    ),
    "list licenses": ("get", lambda w: "/api/v1/licenses/", None, [200] * 7 + [401]),
    "read license": (
        "get",
        lambda w: f"/api/v1/licenses/{w.license.pk}/",
        None,
        [200, 404, 200, 404, 200, 200, 200, 401],
    ),
    "suspend": (
        "post",
        lambda w: f"/api/v1/licenses/{w.license.pk}/suspend/",
        lambda w: {"reason": "Investigation."},
        [403, 404, 403, 404, 403, 200, 200, 401],
    ),
    "reinstate": (
        "post",
        lambda w: f"/api/v1/licenses/{w.suspended_license.pk}/reinstate/",
        lambda w: {"reason": "Cleared."},
        [403, 404, 403, 404, 403, 200, 200, 401],
    ),
    "revoke": (
        "post",
        lambda w: f"/api/v1/licenses/{w.license.pk}/revoke/",
        lambda w: {"reason": "Breach."},
        [403, 404, 403, 404, 403, 200, 200, 401],
    ),
    "notifications": ("get", lambda w: "/api/v1/notifications/", None, [200] * 7 + [401]),
    "read notification": (
        "post",
        lambda w: f"/api/v1/notifications/{w.notification.pk}/read/",
        None,
        [200, 404, 404, 404, 404, 404, 404, 401],
    ),
}

CASES = [
    pytest.param(endpoint, role, expected[i], id=f"{endpoint}-{role}")
    for endpoint, (_, _, _, expected) in MATRIX.items()
    for i, role in enumerate(ROLES)
]


@pytest.mark.parametrize(("endpoint", "role", "expected"), CASES)
def test_role_gets_exactly_this_status(api, world, endpoint, role, expected):
    method, path, body, _ = MATRIX[endpoint]
    client = api(world.users[role])
    data = body(world) if body else None
    if method == "multipart":
        response = client.post(path(world), data, format="multipart")
    else:
        response = getattr(client, method)(path(world), data, format="json")
    assert response.status_code == expected, response.content
