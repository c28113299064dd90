"""Two-factor login: a TOTP device per person (django-otp), checking a code, and the gate.

The password is the first step (the login form, counted by django-axes); a person with
a confirmed authenticator is then logged in but not yet *verified*, and every page sends
them to enter the 6-digit code (`django_otp.login` marks the session verified). Who must
use it (whoever may reach the admin: `licensing.policies.may_administer`) and who may turn
it on (everyone) are policies (`must_use_two_factor`, `may_use_two_factor`): someone who
must use it and has no authenticator is sent to set one up before any other page. Set-up
keys and what turning it on ends: docs/security.md.

A wrong code makes the device wait before the next try (django-otp's throttling:
1, 2, 4, 8... seconds times OTP_TOTP_THROTTLE_FACTOR), checked under a row lock so
parallel guesses cannot slip past it; a code is accepted once (a later code must be of
a later time step).

Whether someone has two-factor login on is asked on every page they open; the answer is
kept in the shared cache (dropped whenever a device is saved or deleted), so the pages'
query counts do not change.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import logging
from urllib.parse import quote

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import security
from licensing import cache_versions, policies

logger = logging.getLogger(__name__)

DEVICE_NAME = "Authenticator app"
CACHE_SECONDS = 600

WRONG_CODE = (
    "That code is not right. Enter the 6-digit code your authenticator app shows now "
    "(each code works once)."
)
TOO_MANY = "Too many wrong codes: wait until {until} before trying again."
NOT_VERIFIED = "Enter the code from your authenticator app first: two-factor login is on."
NOT_SET_UP = "Set up two-factor login first: it is required for your account."


def _cache_key(user_id: int) -> str:
    return f"two-factor:on:{user_id}"


def device_of(user) -> TOTPDevice | None:
    """The person's confirmed authenticator, if they have turned two-factor login on."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-pk").first()


def is_on(user) -> bool:
    """Whether two-factor login is on for the person (cached; see the module docstring)."""
    key = _cache_key(user.pk)
    # Read from the database when the cache is unreachable (licensing.cache_versions).
    value = cache_versions.read(key)
    if value is None:
        value = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        cache_versions.write(key, value, CACHE_SECONDS)
    return value


@receiver(post_save, sender=TOTPDevice, dispatch_uid="two-factor-cache-save")
@receiver(post_delete, sender=TOTPDevice, dispatch_uid="two-factor-cache-delete")
def _forget(sender, instance, **kwargs) -> None:
    # Now, and again once committed: a request in between must not re-cache the old value
    # (as licensing.reference_cache.invalidate does).
    key = _cache_key(instance.user_id)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


def key_base32(device: TOTPDevice) -> str:
    """The secret as an authenticator app's manual entry takes it (base32, groups of 4)."""
    text = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// address as an inline <svg> element (no image URL: fits any CSP)."""
    import segno

    return segno.make(device.config_url, error="m").svg_inline(
        scale=5, dark="#000", light="#fff", omitsize=False
    )


# Setting it up ----------------------------------------------------------------------
# A key is shown once, to the session that started the set-up, and is confirmed by that
# session within SETUP_MINUTES or never: someone who knows only the password and opens the
# setup page sees a key of their own, never the one the person will later confirm.

SETUP_MINUTES = 10
SETUP_SESSION_KEY = "two-factor-setup-device"


def _setup_cutoff() -> dt.datetime:
    return timezone.now() - dt.timedelta(minutes=SETUP_MINUTES)


def setup_start(request: HttpRequest) -> TOTPDevice:
    """A new key for this session's set-up. The session's earlier one, and any of the
    person's unconfirmed keys past their SETUP_MINUTES, are discarded."""
    user = request.user
    earlier = request.session.get(SETUP_SESSION_KEY)
    with transaction.atomic():
        pending = TOTPDevice.objects.filter(user=user, confirmed=False)
        pending.filter(Q(pk=earlier) | Q(created_at__lte=_setup_cutoff())).delete()
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    request.session[SETUP_SESSION_KEY] = device.pk
    return device


def setup_device(request: HttpRequest) -> TOTPDevice | None:
    """The key this session's set-up showed, while it may still be confirmed."""
    pk = request.session.get(SETUP_SESSION_KEY)
    if pk is None:
        return None
    return TOTPDevice.objects.filter(
        pk=pk, user=request.user, confirmed=False, created_at__gt=_setup_cutoff()
    ).first()


@dataclasses.dataclass(frozen=True)
class Check:
    ok: bool
    device: TOTPDevice | None = None
    locked_until: dt.datetime | None = None

    @property
    def message(self) -> str:
        if self.ok:
            return ""
        if self.locked_until is not None:
            local = timezone.localtime(self.locked_until).strftime("%H:%M:%S")
            return TOO_MANY.format(until=local)
        return WRONG_CODE


def check(device: TOTPDevice, code: str) -> Check:
    """Verify `code` against `device` under a row lock, counting a failure against it."""
    code = "".join((code or "").split())
    with transaction.atomic():
        locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        allowed, why = locked.verify_is_allowed()
        if not allowed:
            return Check(False, locked, (why or {}).get("locked_until"))
        well_formed = code.isdigit() and len(code) == locked.digits
        if well_formed and locked.verify_token(code):  # a wrong code counts a failure
            return Check(True, locked)
        if not well_formed:
            locked.throttle_increment(commit=True)  # so does a malformed one
    logger.warning("two-factor: wrong code for user %s", device.user_id)
    return Check(False, locked)


def confirm(request: HttpRequest, device: TOTPDevice) -> None:
    """Make the session's set-up key the person's authenticator: every other device of
    theirs, confirmed or still being set up in any session, is deleted, and so are their
    API tokens and other sessions (this one stays)."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user_id=device.user_id).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save()
        security.end_other_access(request.user, request=request)
    request.session.pop(SETUP_SESSION_KEY, None)


def turn_off(user) -> None:
    for device in TOTPDevice.objects.filter(user=user):
        device.delete()  # one by one: the cache signal fires


# The gate --------------------------------------------------------------------------

# Pages a logged-in person may open before entering the code (or setting it up).
# (The token endpoint asks for the code itself.)
OPEN_URL_NAMES = {
    "login",
    "logout",
    "two-factor-verify",
    "two-factor-setup",
    "healthz",
    "api-token",
}


def _url_name(request: HttpRequest) -> str | None:
    try:
        return resolve(request.path_info).url_name
    except Resolver404:
        return None


def pending_step(user) -> str | None:
    """Which page a logged-in person must pass before any other: the code, the setup,
    or none."""
    if not getattr(user, "is_authenticated", False):
        return None
    # OTPMiddleware gives request.user is_verified(); a user just logged in has none yet.
    if getattr(user, "is_verified", lambda: False)():
        return None
    if is_on(user):
        return "two-factor-verify"
    if policies.must_use_two_factor(user):
        return "two-factor-setup"
    return None


class TwoFactorMiddleware:
    """After django_otp's OTPMiddleware: a session that still owes its second step is
    sent to the code page (or, for someone who must use two-factor login and has not set
    it up, the setup page); the API answers 403 to such a session. Token-authenticated
    API requests carry no session: their token was issued only after the code."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        step = pending_step(request.user)
        if step is not None and not self._open(request, step):
            if request.path.startswith("/api/"):
                detail = NOT_VERIFIED if step == "two-factor-verify" else NOT_SET_UP
                return JsonResponse({"detail": detail}, status=403)
            return redirect(f"{reverse(step)}?next={quote(request.get_full_path())}")
        return self.get_response(request)

    @staticmethod
    def _open(request: HttpRequest, step: str) -> bool:
        static = "/" + settings.STATIC_URL.lstrip("/")
        if request.path.startswith(static):
            return True
        name = _url_name(request)
        if name in {"two-factor-verify", "two-factor-setup"}:
            return name == step  # the setup page is no way around a code already set
        return name in OPEN_URL_NAMES
