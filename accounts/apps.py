from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Organisations and staff"

    def ready(self) -> None:
        # Token revocation on a password change or deactivation; the OpenAPI token scheme.
        from accounts import tokens  # noqa: F401


class LicensingAdminConfig(admin_apps.AdminConfig):
    """Django's admin, with the site that asks policies.may_administer (accounts/sites.py)."""

    default = False  # the accounts app's own config stays AccountsConfig
    default_site = "accounts.sites.LicensingAdminSite"
