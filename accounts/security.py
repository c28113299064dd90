"""Who is knocking, what a locked-out client is told, what a login form refuses before
authenticating, and ending a person's other sessions and tokens (`end_other_access`).

`client_ip` is the one answer to "which client is this" for the login lockout
(django-axes, AXES_CLIENT_IP_CALLABLE) and the token endpoint's throttles: the
peer's address, or, behind NUM_PROXIES trusted proxies, the address the
outermost of them appended to X-Forwarded-For. Anything a client writes there
itself is ignored, so forging the header neither resets a count nor frames
another address.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math

from django import forms
from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from rest_framework.settings import api_settings

LOCKED_OUT_MESSAGE = (
    "Too many failed logins for this account or from this address: it is locked. "
    "Try again after {retry_at}, or ask an administrator to unlock it."
)


def _valid(address: str | None) -> str | None:
    if not address:
        return None
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, trusting X-Forwarded-For only as far as NUM_PROXIES says.

    The same rule as DRF's throttles with NUM_PROXIES set (the Nth address from the
    right), and never a value that is not an IP address (it is stored and keyed on).
    """
    meta = request.META
    remote = _valid(meta.get("REMOTE_ADDR"))
    proxies = api_settings.NUM_PROXIES or 0
    forwarded = meta.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not forwarded:
        return remote
    addresses = forwarded.split(",")
    return _valid(addresses[-min(proxies, len(addresses))]) or remote


def cool_off() -> dt.timedelta:
    value = settings.AXES_COOLOFF_TIME
    if isinstance(value, dt.timedelta):
        return value
    return dt.timedelta(hours=float(value or 0))


def retry_at(request: HttpRequest, username: str | None) -> dt.datetime:
    """When the lockout that covers this username or this client ends: a cool-off after
    the latest counted failure of either."""
    from axes.models import AccessAttempt

    who = Q(ip_address=client_ip(request))
    if username:
        who |= Q(username=username)
    latest = AccessAttempt.objects.filter(who).aggregate(latest=Max("attempt_time"))["latest"]
    return (latest or timezone.now()) + cool_off()


def _username(request: HttpRequest, credentials: dict | None) -> str | None:
    from axes.helpers import get_client_username

    username = get_client_username(request, credentials)
    return username if isinstance(username, str) else None


def lockout_message(request: HttpRequest, credentials: dict | None = None) -> tuple[str, int]:
    """The message for a locked-out client, and the seconds until it may try again."""
    until = retry_at(request, _username(request, credentials))
    seconds = max(1, math.ceil((until - timezone.now()).total_seconds()))
    local = timezone.localtime(until).strftime("%Y-%m-%d %H:%M %Z")
    return LOCKED_OUT_MESSAGE.format(retry_at=local), seconds


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: a 429 saying the account or client is locked, and until when;
    JSON under /api/, the login page's lockout template elsewhere."""
    if request.path.startswith("/api/"):
        if original_response is not None and original_response.status_code == 429:
            return original_response  # the token view answered the lockout itself
        message, seconds = lockout_message(request, credentials)
        response: HttpResponse = JsonResponse({"detail": message}, status=429)
    else:
        message, seconds = lockout_message(request, credentials)
        response = render(
            request,
            "registration/locked_out.html",
            {"message": message, "failure_limit": settings.AXES_FAILURE_LIMIT},
            status=429,
        )
    response["Retry-After"] = str(seconds)
    return response


USERNAME_TOO_LONG = "That username is too long: usernames have at most {limit} characters."


class BoundedUsername:
    """For the login forms (Django's AuthenticationForm and the admin's): a username longer
    than any account's is refused with a clear message before anything authenticates it.

    AuthenticationForm gives the field the username's max_length but no validator, so a
    longer one reached django-axes, whose 255-character column PostgreSQL refused (a 500).
    Refused here, it is never stored; it could not have named an account anyway.
    """

    def clean(self):
        username = self.cleaned_data.get("username")
        limit = self.fields["username"].max_length
        if username and limit and len(username) > limit:
            raise forms.ValidationError(
                USERNAME_TOO_LONG.format(limit=limit), code="username_too_long"
            )
        return super().clean()


def end_other_access(user, *, request: HttpRequest | None = None) -> None:
    """End the person's API tokens and every session of theirs but the one `request`
    belongs to (when it is theirs): on turning two-factor login on, where a session or
    token from the password alone must not outlive it, and when an administrator removes
    their authenticator.

    Sessions end by raising the person's session_generation, which their session hash
    covers (User.get_session_auth_hash): each is logged out at its next request, however
    it is stored. The current one is given the new hash (update_session_auth_hash)."""
    from django.contrib.auth import get_user_model, update_session_auth_hash

    from accounts.tokens import revoke_tokens

    with transaction.atomic():
        get_user_model().objects.filter(pk=user.pk).update(
            session_generation=F("session_generation") + 1
        )
        revoke_tokens(user)
    user.refresh_from_db(fields=["session_generation"])
    if request is not None and getattr(request.user, "pk", None) == user.pk:
        update_session_auth_hash(request, user)
