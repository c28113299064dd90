"""The OpenAPI schema is valid, served, and tells the truth about every response."""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.management import call_command
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application as wsgi_application
from tests.api.conftest import token_for
from tests.factories import draft

pytestmark = pytest.mark.django_db

schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_application)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_the_schema_validates_without_warnings(tmp_path):
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )


def test_the_schema_and_the_interactive_docs_are_served(client):
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


@pytest.fixture
def keep_the_test_connection():
    """Requests go straight to the WSGI handler, whose end-of-request hook would close the
    test's database connection (Django's test client disconnects it the same way)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def callers(
    keep_the_test_connection, exporter, reviewers, supervisors, committee_member, administrator
):
    """Tokens for an exporter and for staff, with a case each can see."""
    application = draft(created_by=exporter)
    from licensing.services.applications import application_submit

    application_submit(application=application, user=exporter)
    draft(created_by=exporter)
    return {
        "exporter": token_for(exporter),
        "reviewer": token_for(reviewers["economy"]),
        "administrator": token_for(administrator),
    }


@schema.parametrize()
@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.parametrize("who", ["exporter", "administrator"])
def test_no_request_makes_a_server_error_or_breaks_the_schema(case, callers, who):
    case.call_and_validate(headers={"Authorization": f"Token {callers[who]}"}, checks=CHECKS)


# Schemathesis never draws lone surrogates (it leaves out category Cs: they cannot
# be encoded for the wire, except as JSON's "\\udXXX" escapes), so the text fuzzing
# is ours: any code point, lone surrogates and NUL included, in each text field of
# a draft, created and edited; then explicit cases.
TEXT_FIELDS = [
    ("license_type",),
    ("destination",),
    ("end_use",),
    ("currency",),
    ("end_user", "name"),
    ("end_user", "address"),
    ("end_user", "country"),
    ("end_user", "type"),
    ("goods", 0, "description"),
    ("goods", 0, "control_list_entry"),
    ("goods", 0, "unit_value"),
    ("goods", 0, "technology_generation"),
]


def _send_with(client, method: str, target, path: tuple, text: str):
    import json

    from tests.api.conftest import draft_payload

    body = draft_payload()
    node = body
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = text
    data = json.dumps(body)  # ensure_ascii: a surrogate travels as "\\ud800"
    if method == "POST":
        return client.post("/api/v1/applications/", data=data, content_type="application/json")
    return client.patch(
        f"/api/v1/applications/{target.pk}/", data=data, content_type="application/json"
    )


# A list of characters, joined: st.text() itself leaves lone surrogates out.
ANY_TEXT = st.lists(
    st.one_of(
        st.characters(exclude_categories=()),  # any code point
        st.characters(categories=["Cs"]),  # a lone surrogate
        st.just("\x00"),
    ),
    max_size=12,
).map("".join)


@given(
    method=st.sampled_from(["POST", "PATCH"]),
    path=st.sampled_from(TEXT_FIELDS),
    text=ANY_TEXT,
)
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_text_in_any_field_makes_a_server_error(api, exporter, method, path, text):
    client = api(exporter)
    client.raise_request_exception = False
    target = draft(created_by=exporter)
    response = _send_with(client, method, target, path, text)
    assert response.status_code in (200, 201, 400), (path, text, response.status_code)
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("method", ["POST", "PATCH"])
@pytest.mark.parametrize(
    "text",
    ["\ud800", "\udfff", "x\ud83d", "\x00", "a\x00b", "\U0001f680"],
    ids=["high", "low", "half-pair", "nul", "inner-nul", "astral"],
)
def test_hostile_text_in_every_string_field_is_never_a_server_error(api, exporter, method, text):
    """Explicit cases beside the fuzzing: each text field in turn holds the text."""
    client = api(exporter)
    client.raise_request_exception = False
    target = draft(created_by=exporter)
    for path in TEXT_FIELDS:
        response = _send_with(client, method, target, path, text)
        assert response.status_code in (200, 201, 400), (path, response.status_code)
        assert response["Content-Type"].startswith("application/json")
