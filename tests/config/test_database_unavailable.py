"""The database unreachable is a quick 503 with Retry-After, JSON under /api/, a page elsewhere.

The real outage (PostgreSQL stopped and started under load) is tests/ops/test_database_restart.py.
"""

from __future__ import annotations

import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client, RequestFactory

from licensing.api import views as api_views
from licensing.web import unavailable
from tests.api.conftest import token_for

pytestmark = pytest.mark.django_db


def refuse(*args, **kwargs):
    raise OperationalError("connection refused")


def test_an_api_request_is_a_json_503_with_retry_after(monkeypatch, exporter):
    monkeypatch.setattr(api_views.CountryViewSet, "get_queryset", refuse)
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/countries/", HTTP_AUTHORIZATION=f"Token {token_for(exporter)}")
    assert response.status_code == 503
    assert response["Retry-After"] == str(unavailable.RETRY_AFTER_SECONDS)
    assert response.json() == {"detail": unavailable.DETAIL}


def test_a_page_is_an_html_503_with_retry_after(monkeypatch):
    # A session the cache does not hold is read from the database, which is down.
    monkeypatch.setattr(
        "django.contrib.sessions.backends.db.SessionStore._get_session_from_db", refuse
    )
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = "x" * 32
    response = client.get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == str(unavailable.RETRY_AFTER_SECONDS)
    assert response["Content-Type"].startswith("text/html")
    assert b"Service unavailable" in response.content


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_outside_a_view_the_500_handler_answers_503(error):
    request = RequestFactory().get("/api/v1/licenses/")
    try:
        raise error("the connection is closed")
    except error:
        response = unavailable.server_error(request)
    assert response.status_code == 503
    assert response["Retry-After"]


def test_any_other_error_is_still_a_500():
    request = RequestFactory().get("/")
    try:
        raise ValueError("a bug")
    except ValueError:
        response = unavailable.server_error(request)
    assert response.status_code == 500


def test_a_dead_postgresql_server_is_given_up_on_after_seconds(settings):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("connect_timeout is PostgreSQL's")
    assert 0 < settings.DATABASES["default"]["OPTIONS"]["connect_timeout"] <= 10
