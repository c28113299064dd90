"""Password guessing: the web login, the admin login and the API token endpoint lock out
a username, and a client address, after AXES_FAILURE_LIMIT failures, for a cool-off."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from tests.auth import log_in

pytestmark = pytest.mark.django_db

LIMIT = 10


@pytest.fixture(autouse=True)
def _generous_throttles(settings):
    """The token endpoint's throttles would answer 429 first; here the lockout is tested."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "1000/min", "token_username": "1000/min"},
    }


def _web_login(client, path: str, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_thirty_wrong_passwords_then_the_right_one_is_refused(client, administrator, path):
    codes = [_web_login(client, path, "root", f"guess{i}").status_code for i in range(30)]
    assert codes[: LIMIT - 1] == [200] * (LIMIT - 1)  # the form again, with its error
    assert set(codes[LIMIT - 1 :]) == {429}  # the failure that reaches the limit locks
    response = _web_login(client, path, "root", "demo-password")
    assert response.status_code == 429
    assert not _logged_in(client)
    html = response.content.decode()
    assert "locked" in html
    assert "Try again after" in html


def test_the_lockout_is_per_username_whatever_the_address(client, exporter):
    for i in range(LIMIT):
        _web_login(client, "/accounts/login/", "alice", f"guess{i}", address=f"10.0.1.{i}")
    response = _web_login(client, "/accounts/login/", "alice", "demo-password", "10.0.2.1")
    assert response.status_code == 429
    assert not _logged_in(client)


def test_the_lockout_is_per_client_whatever_the_username(client, exporter):
    for i in range(LIMIT):
        _web_login(client, "/accounts/login/", f"nobody{i}", "guess")
    response = _web_login(client, "/accounts/login/", "alice", "demo-password")
    assert response.status_code == 429
    assert not _logged_in(client)
    # Another client logs in as alice: she was not the one guessing.
    other = _web_login(client, "/accounts/login/", "alice", "demo-password", "10.0.9.9")
    assert other.status_code == 302
    assert _logged_in(client)


def test_fewer_failures_than_the_limit_do_not_lock(client, exporter):
    for i in range(LIMIT - 1):
        _web_login(client, "/accounts/login/", "alice", f"guess{i}")
    assert _web_login(client, "/accounts/login/", "alice", "demo-password").status_code == 302


def test_the_lockout_ends_after_the_cool_off(client, exporter, settings):
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=30)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for i in range(LIMIT):
            _web_login(client, "/accounts/login/", "alice", f"guess{i}")
    with time_machine.travel(start + dt.timedelta(minutes=29), tick=False):
        assert _web_login(client, "/accounts/login/", "alice", "demo-password").status_code == 429
    with time_machine.travel(start + dt.timedelta(minutes=31), tick=False):
        assert _web_login(client, "/accounts/login/", "alice", "demo-password").status_code == 302


def test_an_administrator_unlocks_a_username(client, exporter):
    for i in range(LIMIT):
        _web_login(client, "/accounts/login/", "alice", f"guess{i}", address=f"10.0.1.{i}")
    assert _web_login(client, "/accounts/login/", "alice", "demo-password").status_code == 429
    call_command("axes_reset_username", "alice")
    assert _web_login(client, "/accounts/login/", "alice", "demo-password").status_code == 302


def test_an_administrator_unlocks_in_the_admin(client, administrator, exporter):
    from axes.models import AccessAttempt

    for i in range(LIMIT):
        _web_login(client, "/accounts/login/", "alice", f"guess{i}")
    assert _web_login(client, "/accounts/login/", "alice", "demo-password").status_code == 429
    admin_client = APIClient()
    log_in(admin_client, administrator)
    listed = admin_client.get("/admin/axes/accessattempt/", {"locked_out": "yes"})
    assert "alice" in listed.content.decode()
    attempt = AccessAttempt.objects.get(username="alice")
    response = admin_client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert _web_login(client, "/accounts/login/", "alice", "demo-password").status_code == 302


def test_the_admin_lists_the_failed_attempts_without_the_passwords(client, administrator, exporter):
    admin_client = APIClient()
    log_in(admin_client, administrator)
    for i in range(3):
        _web_login(client, "/accounts/login/", "alice", f"secret-guess-{i}")
    page = admin_client.get("/admin/axes/accessattempt/")
    assert page.status_code == 200
    assert "alice" in page.content.decode()
    from axes.models import AccessAttempt

    attempt = AccessAttempt.objects.get(username="alice")
    assert attempt.failures_since_start == 3
    detail = admin_client.get(f"/admin/axes/accessattempt/{attempt.pk}/change/")
    assert "secret-guess" not in detail.content.decode()


class TestTheTokenEndpoint:
    def _token(self, client, username, password, address="10.0.0.1"):
        return client.post(
            "/api/v1/auth/token/",
            {"username": username, "password": password},
            format="json",
            REMOTE_ADDR=address,
        )

    def test_guessing_locks_the_username_with_a_clear_json_answer(self, exporter):
        client = APIClient()
        codes = [
            self._token(client, "alice", f"guess{i}", f"10.0.1.{i}").status_code
            for i in range(LIMIT)
        ]
        assert codes == [400] * (LIMIT - 1) + [429]
        response = self._token(client, "alice", "demo-password", "10.0.2.1")
        assert response.status_code == 429
        assert "token" not in response.json()
        detail = response.json()["detail"]
        assert "Too many failed logins" in detail
        assert "try again after" in detail.lower()
        assert int(response["Retry-After"]) > 0

    def test_a_web_lockout_holds_on_the_api_too(self, client, exporter):
        for i in range(LIMIT):
            _web_login(client, "/accounts/login/", "alice", f"guess{i}", f"10.0.1.{i}")
        assert self._token(APIClient(), "alice", "demo-password", "10.0.2.1").status_code == 429

    def test_the_right_password_still_gets_a_token_below_the_limit(self, exporter):
        client = APIClient()
        for i in range(LIMIT - 1):
            self._token(client, "alice", f"guess{i}")
        response = self._token(client, "alice", "demo-password")
        assert response.status_code == 200
        assert response.json()["token"]


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
@pytest.mark.parametrize("length", [256, 300, 5000])
def test_an_overlong_username_is_a_failed_login_with_a_clear_message(client, path, length):
    """Longer than any account's username (and than the lockout's column, where
    PostgreSQL refused it with a 500): the form says so and nothing is stored."""
    from axes.models import AccessAttempt

    client.raise_request_exception = False
    response = _web_login(client, path, "a" * length, "guess")
    assert response.status_code == 200  # the login page again, as for a wrong password
    assert "usernames have at most 150 characters" in response.content.decode()
    assert not _logged_in(client)
    assert not AccessAttempt.objects.filter(username__startswith="a" * 150).exists()


def test_a_username_at_the_limit_is_an_ordinary_failed_login(client, exporter):
    response = _web_login(client, "/accounts/login/", "a" * 150, "guess")
    assert response.status_code == 200
    assert "at most 150" not in response.content.decode()
    from axes.models import AccessAttempt

    assert AccessAttempt.objects.get(username="a" * 150).failures_since_start == 1
