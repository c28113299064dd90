"""The schema and the interactive docs: open while debugging, behind a login otherwise."""

from __future__ import annotations

import pytest

from tests.api.conftest import token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def production(settings):
    settings.API_DOCS_PUBLIC = False


def test_anonymous_callers_get_neither_schema_nor_docs_in_production(client, production):
    assert client.get("/api/schema/").status_code == 401
    docs = client.get("/api/docs/")
    assert docs.status_code == 302
    assert docs["Location"] == "/accounts/login/?next=/api/docs/"
    script = client.get("/api/docs/?script=")
    assert script.status_code == 302


def test_a_logged_in_person_or_a_token_gets_both_in_production(client, exporter, production):
    assert (
        client.get("/api/schema/", HTTP_AUTHORIZATION=f"Token {token_for(exporter)}").status_code
        == 200
    )
    client.force_login(exporter)
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content


def test_the_docs_page_has_no_inline_script_or_style(client, exporter):
    client.force_login(exporter)
    html = client.get("/api/docs/").content.decode()
    assert "<style" not in html
    assert "<script>" not in html
    assert 'src="/api/docs/?script="' in html
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()
