"""The login's two steps, and the Security page where two-factor login is turned on and off.

Step one is Django's LoginView (the password, counted by django-axes); for a person with
two-factor login on, step two is the code page, which marks the session verified
(`django_otp.login`). `accounts.two_factor.TwoFactorMiddleware` keeps every other page
closed until then.
"""

from __future__ import annotations

from urllib.parse import quote

import django_otp
from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts import two_factor
from accounts.security import BoundedUsername
from licensing import policies


class CodeForm(forms.Form):
    code = forms.CharField(
        label="6-digit code",
        max_length=16,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": r"[0-9 ]*",
                "autofocus": True,
            }
        ),
    )


def _next(request: HttpRequest, default: str = "home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(default)


def _with_next(name: str, target: str) -> str:
    return f"{reverse(name)}?next={quote(target)}"


def _verified(request: HttpRequest, device) -> None:
    """Mark the session as having passed the second step (a new session key, too)."""
    django_otp.login(request, device)
    request.session.cycle_key()


class LoginForm(BoundedUsername, AuthenticationForm):
    """Django's login form, refusing an overlong username with a clear message."""


class LoginView(auth_views.LoginView):
    """Step one, the password (django-axes counts the failures); then, for a person with
    two-factor login on, the code page, and for one who must use it but has not set it up,
    the setup page."""

    authentication_form = LoginForm

    def form_valid(self, form) -> HttpResponse:
        response = super().form_valid(form)
        step = two_factor.pending_step(self.request.user)
        if step is None:
            return response
        return HttpResponseRedirect(_with_next(step, self.get_success_url()))


@never_cache
@sensitive_post_parameters("code")
@login_required
def verify(request: HttpRequest) -> HttpResponse:
    """Step two: the code from the person's authenticator app."""
    device = two_factor.device_of(request.user)
    if device is None or request.user.is_verified():
        return redirect(_next(request))
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        result = two_factor.check(device, form.cleaned_data["code"])
        if result.ok:
            _verified(request, result.device)
            return redirect(_next(request))
        form.add_error("code", result.message)
        status = 429 if result.locked_until else 200
    return render(
        request,
        "registration/two_factor_verify.html",
        {
            "form": form,
            "next": request.POST.get("next") or request.GET.get("next", ""),
            "required": policies.must_use_two_factor(request.user),
        },
        status=status,
    )


@never_cache
@login_required
def security(request: HttpRequest) -> HttpResponse:
    """The person's two-factor login: on or off, required or not, and the buttons."""
    user = request.user
    if not policies.may_use_two_factor(user):
        raise PermissionDenied
    return render(
        request,
        "accounts/security.html",
        {
            "device": two_factor.device_of(user),
            "required": policies.must_use_two_factor(user),
            "may_turn_off": policies.may_turn_off_two_factor(user),
            "form": CodeForm(),
        },
    )


SETUP_EXPIRED = (
    "The key you added was shown more than {minutes} minutes ago (or on another page): it "
    "was discarded. Add this new key to your authenticator app and enter its code."
)


@never_cache
@sensitive_post_parameters("code")
@login_required
def setup(request: HttpRequest) -> HttpResponse:
    """Turn two-factor login on (or move it to a new phone): the key as a QR code and as
    text, confirmed with a first code. Someone who already has it on reaches this page
    only after entering a code (the middleware)."""
    user = request.user
    if not policies.may_use_two_factor(user):
        raise PermissionDenied
    form = CodeForm(request.POST or None)
    status = 200
    expired = ""
    device = two_factor.setup_device(request) if request.method == "POST" else None
    if device is None:  # set-up starts (again): a new key
        device = two_factor.setup_start(request)
        if request.method == "POST":
            form = CodeForm()
            expired = SETUP_EXPIRED.format(minutes=two_factor.SETUP_MINUTES)
    elif form.is_valid():
        result = two_factor.check(device, form.cleaned_data["code"])
        if result.ok:
            two_factor.confirm(request, result.device)
            _verified(request, result.device)
            messages.success(request, "Two-factor login is on: you will be asked for a code.")
            return redirect(_next(request, default="security"))
        form.add_error("code", result.message)
        status = 429 if result.locked_until else 200
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            "qr": two_factor.qr_svg(device),
            "key": two_factor.key_base32(device),
            "required": policies.must_use_two_factor(user),
            "expired": expired,
            "next": request.POST.get("next") or request.GET.get("next", ""),
        },
        status=status,
    )


@require_POST
@sensitive_post_parameters("code")
@login_required
def turn_off(request: HttpRequest) -> HttpResponse:
    """Turn two-factor login off, confirmed with a current code."""
    user = request.user
    if not policies.may_turn_off_two_factor(user):
        raise PermissionDenied
    device = two_factor.device_of(user)
    if device is None:
        return redirect("security")
    form = CodeForm(request.POST)
    if form.is_valid():
        result = two_factor.check(device, form.cleaned_data["code"])
        if result.ok:
            two_factor.turn_off(user)
            messages.success(request, "Two-factor login is off: your password alone logs in.")
            return redirect("security")
        messages.error(request, result.message)
    else:
        messages.error(request, "Enter the 6-digit code to turn two-factor login off.")
    return redirect("security")
