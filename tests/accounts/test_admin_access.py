"""Who reaches the Django admin is one rule (`policies.may_administer`): it opens the admin
site, shows the admin link in the header, and makes two-factor login compulsory. Staff
status given to a supervisor, and the administrator role given in the admin, are the two
ways the two used to disagree."""

from __future__ import annotations

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role, User
from licensing import policies
from tests.auth import code, log_in

pytestmark = pytest.mark.django_db

PASSWORD = "demo-password"
ADMIN_LINK = 'id="nav-admin"'


def _password(client, username: str, path: str = "/accounts/login/", **data):
    return client.post(path, {"username": username, "password": PASSWORD, **data})


def _set_up_two_factor(client, user) -> None:
    client.get("/accounts/security/two-factor/")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post("/accounts/security/two-factor/", {"code": code(device)})
    assert response.status_code == 302


def test_one_rule_decides_the_admin_and_two_factor_for_every_persona(
    exporter, reviewers, supervisors, committee_member, administrator
):
    staff_supervisor = supervisors["defense"]
    staff_supervisor.is_staff = True
    role_only = User.objects.create_user("new-admin", password=PASSWORD, role=Role.ADMINISTRATOR)
    for user in (exporter, reviewers["economy"], supervisors["economy"], committee_member):
        assert not policies.may_administer(user)
        assert not policies.must_use_two_factor(user)
    for user in (administrator, staff_supervisor, role_only):
        assert policies.may_administer(user)
        assert policies.must_use_two_factor(user)


def test_a_supervisor_given_staff_status_must_use_two_factor_before_the_admin(client, supervisors):
    supervisor = supervisors["defense"]
    supervisor.is_staff = True
    supervisor.save()
    response = _password(client, "defense-boss", "/admin/login/", next="/admin/")
    assert response.status_code == 302
    # The password alone opens neither the admin nor any other page.
    assert client.get("/admin/")["Location"].startswith("/accounts/security/two-factor/")
    assert client.get("/")["Location"].startswith("/accounts/security/two-factor/")
    _set_up_two_factor(client, supervisor)
    assert client.get("/admin/").status_code == 200
    assert ADMIN_LINK in client.get("/accounts/security/").content.decode()  # in the header
    page = client.get("/accounts/security/").content.decode()
    assert "cannot be turned off" in page


def test_an_administrator_created_in_the_admin_is_shown_the_admin_and_let_in(client, administrator):
    log_in(client, administrator)
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "new-admin",
            "usable_password": "true",
            "password1": "a-long-new-password-42",
            "password2": "a-long-new-password-42",
            "role": Role.ADMINISTRATOR,
            "organisation": "",
            "ministry": "",
            "email": "new-admin@example.com",
        },
    )
    assert response.status_code == 302, response.content.decode()
    created = User.objects.get(username="new-admin")
    assert not created.is_staff and not created.is_superuser  # the role alone

    newcomer = type(client)()
    response = newcomer.post(
        "/accounts/login/", {"username": "new-admin", "password": "a-long-new-password-42"}
    )
    assert response["Location"].startswith("/accounts/security/two-factor/")
    _set_up_two_factor(newcomer, created)
    home = newcomer.get("/").content.decode()
    assert ADMIN_LINK in home
    assert newcomer.get("/admin/").status_code == 200
    # Let in to do the administrator's work, not to an empty index.
    assert newcomer.get("/admin/licensing/country/").status_code == 200
    assert newcomer.get("/admin/licensing/routingrule/").status_code == 200


def test_the_admin_login_lets_in_an_administrator_by_role(client):
    user = User.objects.create_user("new-admin", password=PASSWORD, role=Role.ADMINISTRATOR)
    response = _password(client, "new-admin", "/admin/login/", next="/admin/")
    assert response.status_code == 302  # not "enter the password of a staff account"
    assert client.get("/admin/")["Location"].startswith("/accounts/security/two-factor/")
    _set_up_two_factor(client, user)
    assert client.get("/admin/").status_code == 200


def test_everyone_else_gets_no_admin_no_link_and_no_compulsory_code(client, supervisors):
    response = _password(client, "economy-boss", "/admin/login/", next="/admin/")
    assert response.status_code == 200
    assert "staff account" in response.content.decode()
    assert _password(client, "economy-boss")["Location"] == "/"
    page = client.get("/accounts/security/").content.decode()
    assert ADMIN_LINK not in page
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    assert "cannot be turned off" not in page


def test_the_admin_asks_for_the_code_even_where_the_gate_lets_a_page_through(client, administrator):
    """The admin's own check includes the second step, not only the middleware."""
    client.force_login(administrator)  # the password step, no code
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert "not authorized" in response.content.decode()
