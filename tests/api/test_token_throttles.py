"""The token endpoint's throttles: per client (the address a trusted proxy saw, never one
the client wrote itself), per username across clients, counted in the shared cache."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

RATE = 10  # TOKEN_THROTTLE_RATE and TOKEN_USERNAME_THROTTLE_RATE default to 10/min


@pytest.fixture(autouse=True)
def _no_lockout(settings):
    """The login lockout (10 failures) would answer 429 too; here the throttles are tested."""
    settings.AXES_FAILURE_LIMIT = 1000


def _token(username: str, password: str = "guess", **meta):
    return APIClient().post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json", **meta
    )


def _throttled(response) -> bool:
    return response.status_code == 429 and "throttled" in response.json()["detail"]


def test_forged_forwarded_addresses_do_not_reset_the_per_client_count():
    """NUM_PROXIES=0 (the default): X-Forwarded-For is the client's own writing, ignored."""
    for i in range(RATE):
        response = _token(f"user{i}", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")
        assert response.status_code == 400
    forged = _token("user-x", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert _throttled(forged)
    assert _token("user-y", REMOTE_ADDR="10.0.0.2").status_code == 400  # another client


def test_behind_one_proxy_the_address_it_appended_is_the_client(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    for i in range(RATE):
        # The client forges the left part; the proxy appends what it saw: 192.0.2.1.
        forged = f"203.0.113.{i}, 192.0.2.1"
        assert _token(f"user{i}", HTTP_X_FORWARDED_FOR=forged, **proxy).status_code == 400
    assert _throttled(_token("user-x", HTTP_X_FORWARDED_FOR="9.9.9.9, 192.0.2.1", **proxy))
    # Another client behind the same proxy has its own count.
    assert _token("user-y", HTTP_X_FORWARDED_FOR="192.0.2.2", **proxy).status_code == 400


def test_a_username_is_throttled_across_client_addresses(exporter):
    """Even successful requests: a botnet spreading guesses over addresses meets the limit."""
    for i in range(RATE):
        response = _token("alice", "demo-password", REMOTE_ADDR=f"10.1.0.{i}")
        assert response.status_code == 200
    response = _token("alice", "demo-password", REMOTE_ADDR="10.1.1.1")
    assert _throttled(response)
    assert "token" not in response.json()
    assert _token("bob", REMOTE_ADDR="10.1.1.2").status_code == 400  # another username


def test_the_counts_are_kept_in_the_shared_cache():
    """The configured cache (Redis, or a folder every worker shares), not process memory."""
    from licensing.api.throttling import TokenClientThrottle, TokenUsernameThrottle

    assert TokenClientThrottle.cache is cache
    assert TokenUsernameThrottle.cache is cache
    _token("someone", REMOTE_ADDR="10.2.0.1")
    cache.clear()  # what every worker sees
    for _ in range(RATE):
        assert _token("someone", REMOTE_ADDR="10.2.0.1").status_code == 400


def test_an_odd_username_is_throttled_like_any_other():
    for i in range(RATE):
        assert _token(["a", i], REMOTE_ADDR=f"10.3.0.{i}").status_code == 400
    assert _token("\x00" * 500, REMOTE_ADDR="10.3.1.1").status_code == 400
