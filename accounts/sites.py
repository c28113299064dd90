"""The admin site: who reaches it is policies.may_administer, the rule that also shows the
admin link and makes two-factor login compulsory, not Django's is_staff alone. A supervisor
given staff status must use a code, and an administrator by role is let in.

Installed as the default site by `accounts.apps.LicensingAdminConfig` (Django's documented
way to replace it), so `admin.site` everywhere is this one.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from accounts.security import BoundedUsername
from licensing import policies


class AdminLoginForm(BoundedUsername, AdminAuthenticationForm):
    """The admin's login form: the one rule instead of is_staff, and an overlong username
    refused with a clear message."""

    def confirm_login_allowed(self, user) -> None:
        AuthenticationForm.confirm_login_allowed(self, user)  # active; not the is_staff check
        if not policies.may_administer(user):
            raise ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


class LicensingAdminSite(admin.AdminSite):
    login_form = AdminLoginForm

    def has_permission(self, request: HttpRequest) -> bool:
        """The one rule, and the second step passed (the two-factor gate sends such a person
        to the code first; this holds on pages it lets through, such as the admin's login)."""
        user = request.user
        return policies.may_administer(user) and getattr(user, "is_verified", lambda: False)()
