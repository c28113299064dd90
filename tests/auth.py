"""Logging people in in tests, two-factor login included.

`log_in(client, user)` is `force_login` plus, for someone with two-factor login on or
who must use it (administrators), an authenticator and a session marked verified the
way the code page marks it (`django_otp.login`). The login page itself, the code page
and the setup page are tested in tests/accounts/test_two_factor.py and the browser.
"""

from __future__ import annotations

import time

import django_otp
from django.http import HttpRequest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from licensing import policies


def authenticator(user) -> TOTPDevice:
    """The user's confirmed authenticator, created if they have none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Test phone", confirmed=True)


def code(device: TOTPDevice) -> str:
    """The code the authenticator shows now, or, when that one was used already, the
    next step's (the device accepts one step of drift)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if totp.t() <= device.last_t:
        totp.time = device.t0 + (device.last_t + 1) * device.step
    return f"{totp.token():0{device.digits}d}"


def forgive(device: TOTPDevice) -> None:
    """Clear the device's wrong-code throttle (tests that go on after a wrong code)."""
    device.refresh_from_db()
    device.throttle_reset()


def wrong_code(device: TOTPDevice) -> str:
    return f"{(int(code(device)) + 1) % 10**device.digits:0{device.digits}d}"


def verify_session(client, user, device: TOTPDevice | None = None) -> None:
    """Mark the client's session as having passed the second step with `device`."""
    request = HttpRequest()
    request.session = client.session
    request.user = user
    django_otp.login(request, device or authenticator(user))
    request.session.save()


def log_in(client, user) -> None:
    """force_login, verified by an authenticator when the user has or needs one."""
    client.force_login(user)
    has_one = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    if has_one or policies.must_use_two_factor(user):
        verify_session(client, user)
