"""Staff are logged out after SESSION_IDLE_MINUTES without a request; exporters are not."""

from __future__ import annotations

import pytest
import time_machine

from accounts.models import Role, User
from licensing import policies

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
        client.force_login(user)
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
        client.force_login(exporter)
    assert _visit(client, "2026-11-01 10:00 +02:00") == 200
    assert _visit(client, "2026-11-01 13:00 +02:00") == 200


def test_the_admin_logs_out_idle_administrators(client, administrator):
    with time_machine.travel(START, tick=False):
        client.force_login(administrator)
        assert client.get("/admin/").status_code == 200
    with time_machine.travel("2026-11-01 10:31 +02:00", tick=False):
        response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_zero_turns_the_timeout_off(client, reviewers, settings):
    settings.SESSION_IDLE_MINUTES = 0
    with time_machine.travel(START, tick=False):
        client.force_login(reviewers["economy"])
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
