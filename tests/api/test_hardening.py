"""Hostile and careless input: every answer is the contract's code, in JSON, never a 500."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from licensing.models import LicenseValidity, Review
from licensing.services.applications import application_submit
from licensing.services.reviews import review_claim
from tests.api.conftest import draft_payload
from tests.factories import draft

pytestmark = pytest.mark.django_db

GOOD = draft_payload()["goods"][0]


def _lenient(client):
    client.raise_request_exception = False
    return client


def test_deeply_nested_json_is_a_400_not_a_500(api):
    # Anonymous, on the token endpoint: no credentials needed to cause it.
    response = _lenient(api(None)).post(
        "/api/v1/auth/token/", data="[" * 100_000 + "]" * 100_000, content_type="application/json"
    )
    assert response.status_code == 400


def test_deeply_nested_json_on_create_is_a_400(api, exporter):
    response = _lenient(api(exporter)).post(
        "/api/v1/applications/", data="[" * 100_000 + "]" * 100_000, content_type="application/json"
    )
    assert response.status_code == 400


def test_a_filename_without_word_characters_is_a_json_field_error(api, exporter):
    application = draft(created_by=exporter)
    response = _lenient(api(exporter)).post(
        f"/api/v1/applications/{application.pk}/documents/",
        {"file": SimpleUploadedFile("()", b"%PDF-1.7 x"), "kind": "other"},
        format="multipart",
    )
    # Either accepted under a fallback name, or a JSON 400 naming the field; never an HTML page.
    assert response["Content-Type"].startswith("application/json"), response.content[:60]


def test_an_oversized_body_answers_json_413(api, exporter):
    response = _lenient(api(exporter)).post(
        "/api/v1/applications/", draft_payload(end_use="x" * 3_000_000), format="json"
    )
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")


def test_the_number_of_goods_is_bounded(api, exporter):
    response = api(exporter).post(
        "/api/v1/applications/", draft_payload(goods=[GOOD] * 5000), format="json"
    )
    assert response.status_code == 400
    assert "goods" in response.json()


def test_a_server_side_lookup_failure_is_a_server_error_not_a_404(api, exporter, reviewers):
    """404 means "not visible to you"; a missing rule row is ours to fix, and must show."""
    application = draft(created_by=exporter)
    application_submit(application=application, user=exporter)
    review = review_claim(review=application.reviews.get(), user=reviewers["economy"])
    LicenseValidity.objects.filter(license_type="dual_use_export").delete()  # admin mistake
    response = _lenient(api(reviewers["economy"])).post(
        f"/api/v1/reviews/{review.pk}/recommend/", {"recommendation": "approve"}, format="json"
    )
    assert response.status_code == 500
    review.refresh_from_db()
    assert review.status == "in_progress"  # rolled back whole


def test_reassign_does_not_reveal_other_organisations_users(api, exporter, outsider, supervisors):
    application = draft(created_by=exporter)
    application_submit(application=application, user=exporter)
    review = Review.objects.get(application=application)
    boss = api(supervisors["economy"])
    response = boss.post(f"/api/v1/reviews/{review.pk}/reassign/", {"user": outsider.pk})
    assert response.status_code == 400
    assert "mallory" not in response.content.decode()
    fractional = boss.post(f"/api/v1/reviews/{review.pk}/reassign/", {"user": 1.5}, format="json")
    assert fractional.status_code == 400
    assert "alice" not in fractional.content.decode()  # 1.5 is not a user id


@pytest.mark.parametrize(
    ("who", "path", "body"),
    [
        ("reviewer", "", {"goods": "x"}),  # PATCH
        ("exporter", "decide/", {}),
        ("reviewer", "documents/", {}),
    ],
)
def test_a_caller_who_may_not_act_gets_403_whatever_the_body(
    api, exporter, reviewers, who, path, body
):
    application = draft(created_by=exporter)
    application_submit(application=application, user=exporter)
    client = api({"exporter": exporter, "reviewer": reviewers["economy"]}[who])
    url = f"/api/v1/applications/{application.pk}/{path}"
    if path == "":
        response = client.patch(url, body, format="json")
    elif path == "documents/":
        response = client.post(url, body, format="multipart")
    else:
        response = client.post(url, body, format="json")
    assert response.status_code == 403, response.json()


def test_patch_on_a_submitted_application_is_a_409_whatever_the_body(api, exporter):
    application = draft(created_by=exporter)
    application_submit(application=application, user=exporter)
    response = api(exporter).patch(
        f"/api/v1/applications/{application.pk}/", {"goods": "x"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["current_state"] == "under_review"


def test_a_half_filled_consignee_cannot_be_submitted(api, exporter):
    alice = api(exporter)
    app = alice.post("/api/v1/applications/", draft_payload(), format="json").json()["id"]
    alice.patch(f"/api/v1/applications/{app}/", {"consignee": {"name": "X"}}, format="json")
    submitted = alice.post(f"/api/v1/applications/{app}/submit/")
    assert submitted.status_code == 400
    assert "consignee" in submitted.json()


def test_password_guessing_on_the_token_endpoint_is_throttled(api, exporter):
    anonymous = api(None)
    codes = [
        anonymous.post(
            "/api/v1/auth/token/", {"username": "alice", "password": f"guess{i}"}, format="json"
        ).status_code
        for i in range(50)
    ]
    assert 429 in codes


def test_money_beyond_fifteen_digits_is_a_field_error_and_the_list_still_works(api, exporter):
    """SQLite, the laptop default, keeps decimals as doubles: 15 digits stay exact."""
    client = api(exporter)
    created = client.post(
        "/api/v1/applications/",
        draft_payload(goods=[{**GOOD, "unit_value": "9999999999999999.99"}]),
        format="json",
    )
    assert created.status_code == 400
    assert "goods" in created.json()
    exact = client.post(
        "/api/v1/applications/",
        draft_payload(goods=[{**GOOD, "unit_value": "1234567890123.45", "quantity": 1}]),
        format="json",
    )
    assert exact.status_code == 201
    assert exact.json()["goods"][0]["unit_value"] == "1234567890123.45"
    assert client.get("/api/v1/applications/").status_code == 200


def test_a_defense_supervisor_suspends_a_license(api, exporter, reviewers, supervisors):
    from licensing.models import License
    from licensing.services.reviews import review_recommend

    application = application_submit(
        application=draft(created_by=exporter, code="ML10", license_type="marketing"),
        user=exporter,
    )
    for review in application.reviews.all():
        review_claim(review=review, user=reviewers[review.ministry])
        review_recommend(review=review, user=reviewers[review.ministry], recommendation="approve")
    license = License.objects.get(application=application)
    response = api(supervisors["defense"]).post(
        f"/api/v1/licenses/{license.pk}/suspend/", {"reason": "Inquiry"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "suspended"
    refused = api(supervisors["foreign"]).post(
        f"/api/v1/licenses/{license.pk}/revoke/", {}, format="json"
    )
    assert refused.status_code == 403  # before the missing reason is even looked at


# Text that no database or encoder takes: a lone surrogate (valid JSON escape, invalid
# Unicode) and NUL. Each is the client's error, a JSON 400 naming it, never a 500.

LONE_SURROGATE = '{"license_type": "\\ud800"}'


def test_a_lone_surrogate_in_json_on_create_is_a_400(api, exporter):
    response = _lenient(api(exporter)).post(
        "/api/v1/applications/", data=LONE_SURROGATE, content_type="application/json"
    )
    assert response.status_code == 400, response.content[:200]
    assert "surrogate" in response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        '{"end_use": "ok \\udfff"}',
        '{"end_user": {"name": "\\ud83d"}}',
        '{"goods": [{"description": "x\\udc00y"}]}',
        '{"\\ud800": 1}',
    ],
)
def test_a_lone_surrogate_anywhere_in_json_on_patch_is_a_400(api, exporter, body):
    application = draft(created_by=exporter)
    response = _lenient(api(exporter)).patch(
        f"/api/v1/applications/{application.pk}/", data=body, content_type="application/json"
    )
    assert response.status_code == 400, response.content[:200]
    assert "surrogate" in response.json()["detail"]


def test_a_surrogate_pair_is_a_character_and_is_kept(api, exporter):
    application = draft(created_by=exporter)
    response = api(exporter).patch(
        f"/api/v1/applications/{application.pk}/",
        data='{"end_use": "Rockets \\ud83d\\ude80"}',
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["end_use"] == "Rockets \U0001f680"


def test_a_lone_surrogate_on_the_token_endpoint_is_a_400(api):
    response = _lenient(api(None)).post(
        "/api/v1/auth/token/",
        data='{"username": "\\ud800", "password": "x"}',
        content_type="application/json",
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        draft_payload(end_use="nul\x00here"),
        draft_payload(end_user={**draft_payload()["end_user"], "name": "\x00"}),
        draft_payload(goods=[{**GOOD, "description": "a\x00b"}]),
        draft_payload(license_type="\x00"),
    ],
    ids=["end_use", "end_user.name", "goods.description", "license_type"],
)
def test_nul_in_json_text_is_a_field_error(api, exporter, body):
    response = _lenient(api(exporter)).post("/api/v1/applications/", body, format="json")
    assert response.status_code == 400, response.content[:200]


@pytest.mark.parametrize(
    ("path", "who"),
    [
        ("/api/v1/applications/", "exporter"),
        ("/api/v1/reviews/", "reviewer"),
        ("/api/v1/licenses/", "exporter"),
        ("/api/v1/notifications/", "exporter"),
        ("/api/v1/countries/", "exporter"),
        ("/api/v1/control-list-entries/", "exporter"),
    ],
)
@pytest.mark.parametrize(
    "query", ["status=%00", "search=%00", "reference=%00", "ordering=%00", "page=%00", "x%00=1"]
)
def test_nul_in_a_list_filter_is_never_a_server_error(api, exporter, reviewers, path, who, query):
    client = _lenient(api({"exporter": exporter, "reviewer": reviewers["economy"]}[who]))
    response = client.get(f"{path}?{query}")
    assert response.status_code in (200, 400, 404), (path, query, response.status_code)
    assert response["Content-Type"].startswith("application/json")


def test_an_action_on_an_id_past_any_row_is_not_found(api, exporter):
    response = api(exporter).post("/api/v1/applications/99999999999999999999/submit/")
    assert response.status_code == 404
