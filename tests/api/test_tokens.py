"""API tokens expire, are stored only as digests, are revoked by logout, by a password
change and by deactivation, and are never shown in the admin."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.models import User
from tests.auth import log_in

pytestmark = pytest.mark.django_db


def _issue(username: str = "alice", password: str = "demo-password") -> dict:
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def _works(token: str) -> bool:
    response = APIClient().get("/api/v1/countries/", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code in (200, 401), response.content
    return response.status_code == 200


def test_a_token_works_as_the_design_says(exporter):
    issued = _issue()
    assert _works(issued["token"])
    assert dt.datetime.fromisoformat(issued["expiry"]) > timezone.now()


def test_only_a_digest_is_stored(exporter):
    token = _issue()["token"]
    stored = AuthToken.objects.get(user=exporter)
    assert token not in (stored.digest, stored.token_key)
    assert len(token) >= 64


def test_a_token_expires_after_its_lifetime(exporter, settings):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        token = _issue()["token"]
    with time_machine.travel(start + dt.timedelta(hours=9, minutes=59), tick=False):
        assert _works(token)
    with time_machine.travel(start + dt.timedelta(hours=10, minutes=1), tick=False):
        assert not _works(token)
    assert not AuthToken.objects.filter(user=exporter).exists()  # an expired one is deleted


def test_logout_revokes_the_callers_token_only(exporter):
    first, second = _issue()["token"], _issue()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {first}")
    response = client.post("/api/v1/auth/logout/")
    assert response.status_code == 204
    assert not _works(first)
    assert _works(second)
    assert client.post("/api/v1/auth/logout/").status_code == 401


def test_logout_needs_a_token(exporter):
    assert APIClient().post("/api/v1/auth/logout/").status_code == 401


def test_a_password_change_revokes_every_token_of_the_user(exporter, teammate):
    mine, theirs = _issue()["token"], _issue("bob")["token"]
    exporter.set_password("a-new-long-passphrase")
    exporter.save()
    assert not _works(mine)
    assert _works(theirs)
    assert _works(_issue(password="a-new-long-passphrase")["token"])


def test_saving_a_user_without_changing_the_password_keeps_the_tokens(exporter):
    token = _issue()["token"]
    exporter.first_name = "Alice"
    exporter.save()
    User.objects.get(pk=exporter.pk).save()
    assert _works(token)


def test_deactivating_a_user_revokes_their_tokens(exporter):
    token = _issue()["token"]
    exporter.is_active = False
    exporter.save()
    assert not AuthToken.objects.filter(user=exporter).exists()
    assert not _works(token)


def test_a_password_changed_in_the_admin_revokes_the_tokens(client, administrator, exporter):
    token = _issue()["token"]
    log_in(client, administrator)
    response = client.post(
        f"/admin/accounts/user/{exporter.pk}/password/",
        {"password1": "a-new-long-passphrase", "password2": "a-new-long-passphrase"},
    )
    assert response.status_code == 302, response.content
    assert not _works(token)


def test_the_admin_never_shows_a_token_value(client, administrator, exporter):
    token = _issue()["token"]
    stored = AuthToken.objects.get(user=exporter)
    log_in(client, administrator)
    for path in ("/admin/", "/admin/knox/authtoken/", "/admin/authtoken/tokenproxy/"):
        response = client.get(path)
        html = response.content.decode()
        assert token not in html
        assert stored.token_key not in html  # the token's first characters
        # (The digest is the row's key, in its links: a SHA-512 of the token, useless to
        # present as one.)
    assert client.get("/admin/knox/authtoken/add/").status_code == 403


def test_an_administrator_revokes_a_token_in_the_admin(client, administrator, exporter):
    token = _issue()["token"]
    stored = AuthToken.objects.get(user=exporter)
    log_in(client, administrator)
    listed = client.get("/admin/knox/authtoken/")
    assert listed.status_code == 200
    assert "alice" in listed.content.decode()
    response = client.post(
        "/admin/knox/authtoken/",
        {"action": "delete_selected", "_selected_action": [stored.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not _works(token)


@pytest.mark.parametrize(
    "header",
    ["Token", "Token a b", "Token \u00e9\u00e9", "Token zz", "Token " + "f" * 200],
)
def test_a_malformed_token_is_a_401_never_a_500(header):
    response = APIClient().get("/api/v1/countries/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
