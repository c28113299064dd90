from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Organisations and staff"

    def ready(self) -> None:
        # Token revocation on a password change or deactivation; the OpenAPI token scheme.
        from accounts import tokens  # noqa: F401
