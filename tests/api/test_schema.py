"""The OpenAPI schema is valid, served, and tells the truth about every response."""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.management import call_command
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
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
