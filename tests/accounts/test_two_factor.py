"""Two-factor login through the login page: administrators must use it, others may turn
it on; the password is one step, the authenticator's code the other; the API's token
endpoint asks for the code too."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts import two_factor
from licensing import policies
from tests import factories
from tests.auth import authenticator, code, forgive, log_in, wrong_code

pytestmark = pytest.mark.django_db

PASSWORD = "demo-password"


@pytest.fixture(autouse=True)
def _generous_throttles(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "1000/min", "token_username": "1000/min"},
    }


def _password(client, username: str, path: str = "/accounts/login/", **data):
    return client.post(path, {"username": username, "password": PASSWORD, **data})


def _enter(client, value: str, path: str = "/accounts/two-factor/", **data):
    return client.post(path, {"code": value, **data})


def _home(client):
    return client.get("/")


def _key_on_page(html: str) -> bytes:
    import base64

    key = re.search(r'id="two-factor-key">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    return base64.b32decode(key + "=" * (-len(key) % 8))


# Who ----------------------------------------------------------------------------


def test_administrators_must_use_it_and_everyone_else_may(
    exporter, reviewers, supervisors, committee_member, administrator
):
    assert policies.must_use_two_factor(administrator)
    assert not policies.may_turn_off_two_factor(administrator)
    for user in (exporter, reviewers["defense"], supervisors["economy"], committee_member):
        assert not policies.must_use_two_factor(user)
        assert policies.may_use_two_factor(user)
        assert policies.may_turn_off_two_factor(user)


# Administrators -------------------------------------------------------------------


def test_an_administrator_without_an_authenticator_is_sent_to_set_one_up(client, administrator):
    response = _password(client, "root")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/security/two-factor/")
    for path in ("/", "/admin/", "/accounts/security/", "/accounts/two-factor/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/security/two-factor/?next="), path
    assert client.get("/api/v1/applications/").status_code == 403
    page = client.get("/accounts/security/two-factor/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "<img" not in html  # an inline QR code: fine under any CSP
    assert "Your role requires two-factor login" in html


def test_an_administrator_sets_it_up_with_a_first_code_and_is_in(client, administrator):
    _password(client, "root", next="/admin/")
    page = client.get("/accounts/security/two-factor/?next=/admin/")
    device = TOTPDevice.objects.get(user=administrator, confirmed=False)
    assert _key_on_page(page.content.decode()) == device.bin_key
    refused = _enter(client, wrong_code(device), "/accounts/security/two-factor/")
    assert "That code is not right" in refused.content.decode()
    forgive(device)
    response = _enter(client, code(device), "/accounts/security/two-factor/", next="/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed


def test_password_alone_is_not_enough_for_an_administrator_with_an_authenticator(
    client, administrator
):
    authenticator(administrator)
    response = _password(client, "root", next="/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/two-factor/?next=/admin/"
    assert _home(client)["Location"].startswith("/accounts/two-factor/")
    assert client.get("/admin/")["Location"].startswith("/accounts/two-factor/")
    # The setup page is no way around the code.
    assert client.get("/accounts/security/two-factor/")["Location"].startswith(
        "/accounts/two-factor/"
    )
    assert client.get("/api/v1/applications/").status_code == 403
    page = client.get("/accounts/two-factor/?next=/admin/")
    assert "Enter the 6-digit code" in page.content.decode()


def test_the_right_code_logs_in(client, administrator):
    device = authenticator(administrator)
    _password(client, "root")
    response = _enter(client, code(device), next="/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert _home(client).status_code == 200


def test_a_wrong_code_is_refused_with_a_message_and_the_next_try_must_wait(client, administrator):
    device = authenticator(administrator)
    _password(client, "root")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        response = _enter(client, wrong_code(device))
        assert response.status_code == 200
        assert "That code is not right" in response.content.decode()
        assert _home(client).status_code == 302  # still not in
        # At once again: even the right code waits out the throttle, and says until when.
        response = _enter(client, code(device))
        assert response.status_code == 429
        assert "Too many wrong codes: wait until" in response.content.decode()
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    with time_machine.travel(start + dt.timedelta(seconds=2), tick=False):
        response = _enter(client, code(device))
        assert response.status_code == 302
    assert _home(client).status_code == 200


def test_garbage_counts_as_a_wrong_code(client, administrator):
    device = authenticator(administrator)
    _password(client, "root")
    response = _enter(client, "abcdef")
    assert "That code is not right" in response.content.decode()
    device.refresh_from_db()
    assert device.throttling_failure_count == 1


def test_a_code_works_once(client, administrator):
    device = authenticator(administrator)
    used = code(device)
    _password(client, "root")
    assert _enter(client, used).status_code == 302
    other = type(client)()
    _password(other, "root")
    forgive(device)
    assert "That code is not right" in _enter(other, used).content.decode()


def test_the_admin_login_page_also_needs_the_code(client, administrator):
    device = authenticator(administrator)
    response = _password(client, "root", "/admin/login/", next="/admin/")
    assert response.status_code == 302
    assert client.get("/admin/")["Location"].startswith("/accounts/two-factor/")
    _enter(client, code(device))
    assert client.get("/admin/").status_code == 200


def test_the_password_step_is_still_counted_by_the_lockout(client, administrator, settings):
    authenticator(administrator)
    for i in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "root", "password": f"guess{i}"})
    assert _password(client, "root").status_code == 429
    assert "_auth_user_id" not in client.session


def test_log_in_helper_marks_the_session_verified(client, administrator):
    log_in(client, administrator)
    assert client.get("/admin/").status_code == 200


# Reviewers and the others -----------------------------------------------------------


def test_a_reviewer_without_two_factor_logs_in_as_before(client, reviewers):
    response = _password(client, "defense-reviewer")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert _home(client).status_code == 200


def test_a_reviewer_turns_it_on_then_needs_the_code_then_turns_it_off(client, reviewers):
    reviewer = reviewers["economy"]
    _password(client, "economy-reviewer")
    security = client.get("/accounts/security/")
    assert "<strong>Off</strong>" in security.content.decode()
    assert 'href="/accounts/security/"' in _home(client).content.decode()  # in the header
    page = client.get("/accounts/security/two-factor/")
    device = TOTPDevice.objects.get(user=reviewer, confirmed=False)
    assert _key_on_page(page.content.decode()) == device.bin_key
    response = _enter(client, code(device), "/accounts/security/two-factor/")
    assert response["Location"] == "/accounts/security/"
    assert "<strong>On</strong>" in client.get("/accounts/security/").content.decode()
    assert _home(client).status_code == 200  # this session entered the code

    client.post("/accounts/logout/")
    assert _password(client, "economy-reviewer")["Location"] == "/accounts/two-factor/?next=/"
    assert _home(client).status_code == 302
    assert _enter(client, code(device)).status_code == 302
    assert _home(client).status_code == 200

    # A minute later, off again with a current code; then the password alone logs in.
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=1)):
        refused = client.post(
            "/accounts/security/two-factor/off/", {"code": wrong_code(device)}, follow=True
        )
        assert "That code is not right" in refused.content.decode()
        forgive(device)
        client.post("/accounts/security/two-factor/off/", {"code": code(device)})
    assert not TOTPDevice.objects.filter(user=reviewer).exists()
    client.post("/accounts/logout/")
    assert _password(client, "economy-reviewer")["Location"] == "/"


def test_an_administrator_cannot_turn_it_off(client, administrator):
    device = authenticator(administrator)
    log_in(client, administrator)
    page = client.get("/accounts/security/").content.decode()
    assert "cannot be turned off" in page
    response = client.post("/accounts/security/two-factor/off/", {"code": code(device)})
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=administrator, confirmed=True).exists()


def test_moving_to_a_new_authenticator_retires_the_old_one(client, committee_member):
    old = authenticator(committee_member)
    log_in(client, committee_member)
    client.get("/accounts/security/two-factor/")
    new = TOTPDevice.objects.get(user=committee_member, confirmed=False)
    assert _enter(client, code(new), "/accounts/security/two-factor/").status_code == 302
    assert list(TOTPDevice.objects.filter(user=committee_member)) == [new]
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()


# The key being set up -----------------------------------------------------------------


def test_each_start_of_the_setup_shows_a_new_key(client, reviewers):
    log_in(client, reviewers["economy"])
    first = _key_on_page(client.get("/accounts/security/two-factor/").content.decode())
    second = _key_on_page(client.get("/accounts/security/two-factor/").content.decode())
    assert first != second
    # The session's earlier key is discarded: its code no longer confirms anything.
    assert [d.bin_key for d in TOTPDevice.objects.filter(user=reviewers["economy"])] == [second]


def test_a_key_seen_with_the_password_alone_is_never_the_one_the_person_confirms(client, reviewers):
    """Someone who knows only the password opens the setup page in their own session; the
    real person, later, is shown another key, and confirming it discards the intruder's."""
    reviewer = reviewers["economy"]
    intruder = type(client)()
    _password(intruder, "economy-reviewer")
    seen = _key_on_page(intruder.get("/accounts/security/two-factor/").content.decode())

    _password(client, "economy-reviewer")
    page = client.get("/accounts/security/two-factor/").content.decode()
    shown = _key_on_page(page)
    assert shown != seen
    mine = TOTPDevice.objects.get(user=reviewer, key=shown.hex())
    assert _enter(client, code(mine), "/accounts/security/two-factor/").status_code == 302
    assert [d.bin_key for d in TOTPDevice.objects.filter(user=reviewer)] == [shown]
    assert two_factor.device_of(reviewer).bin_key == shown


def test_a_code_of_another_sessions_key_does_not_confirm_it(client, reviewers):
    reviewer = reviewers["economy"]
    _password(client, "economy-reviewer")
    client.get("/accounts/security/two-factor/")
    other = type(client)()
    _password(other, "economy-reviewer")
    other.get("/accounts/security/two-factor/")
    theirs = TOTPDevice.objects.filter(user=reviewer, confirmed=False).order_by("-pk").first()
    response = _enter(client, code(theirs), "/accounts/security/two-factor/")
    assert response.status_code == 200
    assert not TOTPDevice.objects.filter(user=reviewer, confirmed=True).exists()


def test_a_key_not_confirmed_within_ten_minutes_is_discarded(client, reviewers):
    reviewer = reviewers["economy"]
    log_in(client, reviewer)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.get("/accounts/security/two-factor/")
        stale = TOTPDevice.objects.get(user=reviewer, confirmed=False)
    with time_machine.travel(start + dt.timedelta(minutes=11), tick=False):
        response = _enter(client, code(stale), "/accounts/security/two-factor/")
        assert response.status_code == 200
        html = response.content.decode()
        assert "more than 10 minutes ago" in html
        fresh = _key_on_page(html)
    assert fresh != stale.bin_key
    assert not TOTPDevice.objects.filter(pk=stale.pk).exists()
    assert not TOTPDevice.objects.filter(user=reviewer, confirmed=True).exists()
    with time_machine.travel(start + dt.timedelta(minutes=12), tick=False):
        device = TOTPDevice.objects.get(user=reviewer, confirmed=False)
        assert device.bin_key == fresh
        assert _enter(client, code(device), "/accounts/security/two-factor/").status_code == 302


def test_a_key_confirmed_within_ten_minutes_is_accepted(client, reviewers):
    reviewer = reviewers["economy"]
    log_in(client, reviewer)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.get("/accounts/security/two-factor/")
        device = TOTPDevice.objects.get(user=reviewer, confirmed=False)
    with time_machine.travel(start + dt.timedelta(minutes=9), tick=False):
        assert _enter(client, code(device), "/accounts/security/two-factor/").status_code == 302
    device.refresh_from_db()
    assert device.confirmed


def test_confirming_discards_every_other_unconfirmed_key(client, reviewers):
    reviewer = reviewers["economy"]
    others = [type(client)() for _ in range(2)]
    for other in others:
        _password(other, "economy-reviewer")
        other.get("/accounts/security/two-factor/")
    log_in(client, reviewer)
    client.get("/accounts/security/two-factor/")
    mine = TOTPDevice.objects.filter(user=reviewer, confirmed=False).order_by("-pk").first()
    assert TOTPDevice.objects.filter(user=reviewer, confirmed=False).count() == 3
    assert _enter(client, code(mine), "/accounts/security/two-factor/").status_code == 302
    assert list(TOTPDevice.objects.filter(user=reviewer)) == [mine]


def test_a_session_of_someone_who_turned_it_on_elsewhere_must_enter_the_code(client, reviewers):
    reviewer = reviewers["foreign"]
    _password(client, "foreign-reviewer")
    assert _home(client).status_code == 200
    authenticator(reviewer)  # turned on in another session
    assert _home(client)["Location"].startswith("/accounts/two-factor/")


def test_an_unsafe_next_is_ignored(client, administrator):
    device = authenticator(administrator)
    _password(client, "root")
    response = _enter(client, code(device), next="https://evil.example.com/")
    assert response["Location"] == "/"


# Turning it on, or an administrator removing a device, ends the person's other access ---


def _api(token: str) -> int:
    client = APIClient(headers={"Authorization": f"Token {token}"})
    return client.get("/api/v1/applications/").status_code


def _logged_out(client) -> bool:
    response = _home(client)
    return response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_turning_it_on_ends_the_persons_tokens_and_other_sessions_but_not_this_one(
    client, reviewers
):
    reviewer = reviewers["economy"]
    token = _token(username="economy-reviewer", password=PASSWORD).json()["token"]
    elsewhere = type(client)()
    _password(elsewhere, "economy-reviewer")
    assert _home(elsewhere).status_code == 200 and _api(token) == 200

    _password(client, "economy-reviewer")
    client.get("/accounts/security/two-factor/")
    device = TOTPDevice.objects.get(user=reviewer, confirmed=False)
    assert _enter(client, code(device), "/accounts/security/two-factor/").status_code == 302

    assert _api(token) == 401
    assert _logged_out(elsewhere)  # logged out, not merely asked for the code
    assert _home(client).status_code == 200  # the session that turned it on stays in
    assert "<strong>On</strong>" in client.get("/accounts/security/").content.decode()


def test_moving_to_a_new_authenticator_ends_the_other_sessions_too(client, committee_member):
    old = authenticator(committee_member)
    elsewhere = type(client)()
    log_in(elsewhere, committee_member)
    token = _token(username="carol", password=PASSWORD, otp=code(old)).json()["token"]
    log_in(client, committee_member)
    client.get("/accounts/security/two-factor/")
    new = TOTPDevice.objects.get(user=committee_member, confirmed=False)
    assert _enter(client, code(new), "/accounts/security/two-factor/").status_code == 302
    assert _logged_out(elsewhere)
    assert _api(token) == 401
    assert _home(client).status_code == 200


def test_the_session_survives_a_secret_key_rotation_after_turning_it_on(
    client, reviewers, settings
):
    reviewer = reviewers["economy"]
    _password(client, "economy-reviewer")
    client.get("/accounts/security/two-factor/")
    device = TOTPDevice.objects.get(user=reviewer, confirmed=False)
    _enter(client, code(device), "/accounts/security/two-factor/")
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    assert _home(client).status_code == 200


def _device_holder(client, user) -> tuple[TOTPDevice, str]:
    """The person with an authenticator, logged in with it in `client`, and an API token."""
    device = authenticator(user)
    log_in(client, user)
    token = _token(username=user.username, password=PASSWORD, otp=code(device)).json()["token"]
    assert _home(client).status_code == 200 and _api(token) == 200
    return device, token


def test_an_administrator_removing_a_persons_device_ends_their_tokens_and_sessions(
    client, administrator, reviewers
):
    reviewer = reviewers["defense"]
    device, token = _device_holder(client, reviewer)
    admin = type(client)()
    log_in(admin, administrator)
    url = f"/admin/otp_totp/totpdevice/{device.pk}/delete/"
    assert admin.post(url, {"post": "yes"}).status_code == 302
    assert not TOTPDevice.objects.filter(user=reviewer).exists()
    assert _api(token) == 401
    assert _logged_out(client)
    assert admin.get("/admin/").status_code == 200  # the administrator's own session stays


def test_removing_devices_in_bulk_in_the_admin_ends_each_persons_access(
    client, administrator, reviewers, committee_member
):
    reviewer = reviewers["defense"]
    device, token = _device_holder(client, reviewer)
    other = type(client)()
    other_device, other_token = _device_holder(other, committee_member)
    admin = type(client)()
    log_in(admin, administrator)
    response = admin.post(
        "/admin/otp_totp/totpdevice/",
        {
            "action": "delete_selected",
            "_selected_action": [device.pk, other_device.pk],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(pk__in=[device.pk, other_device.pk]).exists()
    assert _api(token) == 401 and _api(other_token) == 401
    assert _logged_out(client) and _logged_out(other)
    assert admin.get("/admin/").status_code == 200


def test_an_administrator_unconfirming_a_device_in_the_admin_ends_the_access_too(
    client, administrator, reviewers
):
    reviewer = reviewers["defense"]
    device, token = _device_holder(client, reviewer)
    admin = type(client)()
    log_in(admin, administrator)
    url = f"/admin/otp_totp/totpdevice/{device.pk}/change/"
    form = {
        "user": reviewer.pk,
        "name": device.name,
        "step": device.step,
        "t0": device.t0,
        "digits": device.digits,
        "tolerance": device.tolerance,
        "drift": device.drift,
        "throttling_failure_count": 0,
    }  # "confirmed" left out: unticked
    assert admin.post(url, form).status_code == 302
    device.refresh_from_db()
    assert not device.confirmed
    assert _api(token) == 401
    assert _logged_out(client)


def test_turning_it_off_oneself_keeps_the_other_sessions(client, reviewers):
    """Only turning it on and an administrator's removal end other access."""
    reviewer = reviewers["economy"]
    device, token = _device_holder(client, reviewer)
    elsewhere = type(client)()
    log_in(elsewhere, reviewer)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=1)):
        client.post("/accounts/security/two-factor/off/", {"code": code(device)})
    assert not TOTPDevice.objects.filter(user=reviewer).exists()
    assert _home(elsewhere).status_code == 200
    assert _api(token) == 200


# The API's token endpoint ----------------------------------------------------------


def _token(**data):
    return APIClient().post("/api/v1/auth/token/", data, format="json")


def test_the_token_endpoint_needs_the_code_of_someone_with_two_factor(exporter):
    device = authenticator(exporter)
    missing = _token(username="alice", password=PASSWORD)
    assert missing.status_code == 400
    assert "two-factor" in missing.json()["otp"][0]
    wrong = _token(username="alice", password=PASSWORD, otp=wrong_code(device))
    assert wrong.status_code == 400
    assert "not right" in wrong.json()["otp"][0]
    forgive(device)
    right = _token(username="alice", password=PASSWORD, otp=code(device))
    assert right.status_code == 200
    assert (
        APIClient(headers={"Authorization": f"Token {right.json()['token']}"})
        .get("/api/v1/applications/")
        .status_code
        == 200
    )


def test_a_wrong_password_never_says_whether_a_code_is_needed(exporter):
    authenticator(exporter)
    response = _token(username="alice", password="wrong")
    assert response.status_code == 400
    assert "otp" not in response.json()


def test_an_administrator_without_an_authenticator_gets_no_token(administrator):
    response = _token(username="root", password=PASSWORD)
    assert response.status_code == 400
    assert "set it up" in response.json()["otp"][0]
    device = authenticator(administrator)
    assert _token(username="root", password=PASSWORD).status_code == 400
    assert _token(username="root", password=PASSWORD, otp=code(device)).status_code == 200


def test_the_token_endpoint_needs_no_code_without_two_factor(reviewers):
    assert _token(username="defense-reviewer", password=PASSWORD).status_code == 200


# The demo -------------------------------------------------------------------------


def test_seed_demo_gives_the_demo_admin_the_documented_key_while_debugging(settings, capsys):
    settings.DEBUG = True
    call_command("seed_demo")
    admin = factories.User.objects.get(username="admin")
    device = two_factor.device_of(admin)
    assert device.bin_key == b"demo-admin-totp-key!"
    assert "MRSW 23ZN MFSG 22LO FV2G 65DQ FVVW K6JB" in capsys.readouterr().out
    call_command("seed_demo")
    assert list(TOTPDevice.objects.filter(user=admin)) == [device]  # idempotent
    for username in ("exporter", "defense", "committee"):
        assert not TOTPDevice.objects.filter(user__username=username).exists()


def test_seed_demo_gives_a_random_key_in_production(settings, capsys):
    settings.DEBUG = False
    call_command("seed_demo")
    device = two_factor.device_of(factories.User.objects.get(username="admin"))
    assert device.bin_key != b"demo-admin-totp-key!"
    assert two_factor.key_base32(device) in capsys.readouterr().out
    call_command("seed_demo")
    assert two_factor.key_base32(device) not in capsys.readouterr().out  # printed once
