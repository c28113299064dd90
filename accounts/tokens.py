"""API tokens: django-rest-knox's model (random tokens stored only as SHA-512 digests,
each with an expiry), looked up in one query, revoked when the password changes or the
user is deactivated.

`Authorization: Token <token>`, as the design says. A token is valid for
TOKEN_TTL_HOURS from its issue; an expired one is deleted when presented, and the
user's expired ones whenever a new token is issued.
"""

from __future__ import annotations

import binascii

from django.conf import settings
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox import auth as knox_auth
from knox.crypto import hash_token
from knox.models import AuthToken
from rest_framework import exceptions

INVALID = "Invalid token."
# knox tokens are hex, AUTH_TOKEN_CHARACTER_LENGTH (64) characters: anything much longer
# is not worth hashing.
MAX_TOKEN_LENGTH = 256


class TokenAuthentication(knox_auth.TokenAuthentication):
    """knox's authentication by the token's digest, its primary key: one query, and a
    malformed header is a 401 (knox itself answers a 500 to bytes that are not UTF-8).

    Knox walks the user's other tokens on every request to delete expired ones; here
    that happens when a token is issued (`issue_token`), keeping a request at one query.
    """

    def authenticate_credentials(self, token: bytes):
        if len(token) > MAX_TOKEN_LENGTH:
            raise exceptions.AuthenticationFailed(INVALID)
        try:
            digest = hash_token(token.decode("ascii"))
        except (UnicodeDecodeError, TypeError, binascii.Error):
            raise exceptions.AuthenticationFailed(INVALID) from None
        try:
            auth_token = AuthToken.objects.select_related("user").get(digest=digest)
        except AuthToken.DoesNotExist:
            raise exceptions.AuthenticationFailed(INVALID) from None
        if auth_token.expiry is not None and auth_token.expiry <= timezone.now():
            auth_token.delete()
            raise exceptions.AuthenticationFailed("Token expired.")
        return self.validate_user(auth_token)


def issue_token(user) -> tuple[AuthToken, str]:
    """A new token for `user`, valid for TOKEN_TTL; returns the row and the token itself,
    which is shown once and never stored."""
    AuthToken.objects.filter(user=user, expiry__lte=timezone.now()).delete()
    return AuthToken.objects.create(user=user)


def revoke_tokens(user) -> int:
    deleted, _ = AuthToken.objects.filter(user=user).delete()
    return deleted


@receiver(pre_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="tokens-note-credentials")
def _note_credentials(sender, instance, update_fields=None, **kwargs) -> None:
    """Before a user is saved: whether the password or the active flag is changing."""
    instance._revoke_tokens = False
    if instance.pk is None:
        return
    if update_fields is not None and not {"password", "is_active"} & set(update_fields):
        return  # e.g. last_login on every login
    before = sender._default_manager.filter(pk=instance.pk).values("password", "is_active").first()
    if before is None:
        return
    instance._revoke_tokens = before["password"] != instance.password or (
        before["is_active"] and not instance.is_active
    )


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="tokens-revoke")
def _revoke_on_credential_change(sender, instance, created, **kwargs) -> None:
    """A new password, or a deactivation, ends every API token the user had."""
    if getattr(instance, "_revoke_tokens", False):
        revoke_tokens(instance)
        instance._revoke_tokens = False


class TokenScheme(OpenApiAuthenticationExtension):
    """The OpenAPI security scheme: `Authorization: Token <token>`."""

    target_class = "accounts.tokens.TokenAuthentication"
    name = "tokenAuth"
    match_subclasses = True

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization",
            token_prefix=self.target.authenticate_header(None),
        )
