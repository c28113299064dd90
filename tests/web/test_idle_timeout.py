"""Staff are logged out after SESSION_IDLE_MINUTES without a request; exporters are not."""

from __future__ import annotations

import pytest
import time_machine

from accounts.models import Role, User
from licensing import policies
from tests.auth import log_in

pytestmark = pytest.mark.django_db

START = "2026-11-01 10:00 +02:00"


@pytest.fixture(autouse=True)
def _idle_timeout_on(settings):
    settings.SESSION_IDLE_MINUTES = 30


def _visit(client, when: str) -> int:
    with time_machine.travel(when, tick=False):
        return client.get("/").status_code


@pytest.mark.parametrize("who", ["reviewer", "supervisor", "committee", "administrator"])
def test_staff_are_logged_out_after_thirty_idle_minutes(
    client, reviewers, supervisors, committee_member, administrator, who
):
    user = {
        "reviewer": reviewers["economy"],
        "supervisor": supervisors["economy"],
        "committee": committee_member,
        "administrator": administrator,
    }[who]
    with time_machine.travel(START, tick=False):
        log_in(client, user)
    assert _visit(client, "2026-11-01 10:00 +02:00") == 200
    assert _visit(client, "2026-11-01 10:29 +02:00") == 200  # active: the clock restarts
    assert _visit(client, "2026-11-01 10:58 +02:00") == 200
    with time_machine.travel("2026-11-01 11:29 +02:00", tick=False):
        response = client.get("/", follow=True)
    assert response.redirect_chain[0][0].startswith("/accounts/login/")
    assert "logged out after 30 minutes without activity" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_exporter_keeps_the_session(client, exporter):
    with time_machine.travel(START, tick=False):
        log_in(client, exporter)
    assert _visit(client, "2026-11-01 10:00 +02:00") == 200
    assert _visit(client, "2026-11-01 13:00 +02:00") == 200


def test_the_admin_logs_out_idle_administrators(client, administrator):
    with time_machine.travel(START, tick=False):
        log_in(client, administrator)
        assert client.get("/admin/").status_code == 200
    with time_machine.travel("2026-11-01 10:31 +02:00", tick=False):
        response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_zero_turns_the_timeout_off(client, reviewers, settings):
    settings.SESSION_IDLE_MINUTES = 0
    with time_machine.travel(START, tick=False):
        log_in(client, reviewers["economy"])
    assert _visit(client, "2026-11-01 10:00 +02:00") == 200
    assert _visit(client, "2026-11-02 10:00 +02:00") == 200


def test_who_is_logged_out_when_idle_is_a_policy():
    def user(role: str, **flags) -> User:
        return User(username=role, role=role, **flags)

    assert not policies.logged_out_when_idle(None)
    assert not policies.logged_out_when_idle(user(Role.EXPORTER))
    assert policies.logged_out_when_idle(user(Role.EXPORTER, is_superuser=True))
    for role in (Role.REVIEWER, Role.SUPERVISOR, Role.COMMITTEE, Role.ADMINISTRATOR):
        assert policies.logged_out_when_idle(user(role))


# The warning before the timeout (licensing/web/session.py, site.js)


def _body(html: str) -> str:
    import re

    return re.search(r"<body[^>]*>", html)[0]


def test_staff_pages_carry_the_idle_timeout_for_the_warning_and_exporters_do_not(
    client, reviewers, exporter
):
    log_in(client, reviewers["economy"])
    body = _body(client.get("/").content.decode())
    assert 'data-idle-timeout="1800"' in body
    assert 'data-idle-touch="60"' in body
    assert 'data-session-url="/session/"' in body
    assert 'data-login-url="/accounts/login/"' in body
    log_in(client, exporter)
    assert "data-idle-timeout" not in _body(client.get("/").content.decode())


def test_asking_how_long_is_left_is_not_activity_and_staying_is(client, reviewers):
    with time_machine.travel(START, tick=False):
        log_in(client, reviewers["economy"])
        assert client.get("/").status_code == 200
    with time_machine.travel("2026-11-01 10:28 +02:00", tick=False):
        assert client.get("/session/").json() == {"remaining": 120}
    with time_machine.travel("2026-11-01 10:29 +02:00", tick=False):
        assert client.get("/session/").json() == {"remaining": 60}  # the asking did not count
        assert client.post("/session/").json() == {"remaining": 1800}  # "Stay logged in"
    with time_machine.travel("2026-11-01 10:58 +02:00", tick=False):
        assert client.get("/").status_code == 200  # still in: the stay counted
    with time_machine.travel("2026-11-01 11:29 +02:00", tick=False):
        answer = client.get("/session/")
    assert answer.status_code == 401
    assert answer.json() == {"remaining": 0}
    assert "_auth_user_id" not in client.session
