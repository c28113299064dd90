"""API tokens: a username and password for a token, and logging a token out.

`POST /api/v1/auth/token/` goes through `django.contrib.auth.authenticate` with the
request, so django-axes counts its failures with the web and admin logins' and locks
out a username or a client past AXES_FAILURE_LIMIT (429, with when to retry); two
throttles (per client, per username) come first. A token is valid for TOKEN_TTL_HOURS.
`POST /api/v1/auth/logout/` revokes the token it is sent with.

Someone with two-factor login on sends the current code from their authenticator app as
`otp` too (a wrong one counts against the device like on the web's code page); someone
who must use two-factor login and has not set it up gets no token until they have, on
the web. Only a correct password earns the answer that a code is missing.
"""

from __future__ import annotations

from django.contrib.auth import authenticate, user_logged_in, user_logged_out
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from accounts import two_factor
from accounts.security import lockout_message
from accounts.tokens import TokenAuthentication, issue_token
from licensing import policies
from licensing.api.throttling import TokenClientThrottle, TokenUsernameThrottle

OTP_REQUIRED = (
    "This account uses two-factor login: send the 6-digit code from the authenticator app as otp."
)
OTP_NOT_SET_UP = (
    "This account must use two-factor login and has not set it up: log in on the web and "
    "set it up first (Security), then send its code as otp."
)


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, trim_whitespace=False)
    password = serializers.CharField(
        max_length=4096, trim_whitespace=False, write_only=True, style={"input_type": "password"}
    )
    otp = serializers.CharField(
        max_length=16,
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="The 6-digit code from the authenticator app: required for accounts with "
        "two-factor login on.",
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")
    expiry = serializers.DateTimeField(
        allow_null=True, help_text="When the token stops working (TOKEN_TTL_HOURS after issue)."
    )


class LockedOut(APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"

    def __init__(self, detail: str, wait: int) -> None:
        super().__init__(detail)
        self.wait = wait  # DRF's handler sends it as Retry-After


class TokenView(APIView):
    """Username and password for a token; throttled per client and per username, and
    locked out with the web logins after repeated failures."""

    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes = [TokenClientThrottle, TokenUsernameThrottle]
    throttle_scope = "token"  # for the schema: this endpoint can answer 429
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES

    @extend_schema(request=TokenRequestSerializer, responses={200: TokenSerializer})
    def post(self, request: Request) -> Response:
        given = TokenRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        username = given.validated_data["username"]
        # axes takes DRF's request as it is (it reads META through it) and marks a lockout
        # on it: this view answers the lockout itself (a 429), so axes' middleware, which
        # looks at the Django request, has nothing to replace.
        user = authenticate(
            request=request, username=username, password=given.validated_data["password"]
        )
        if getattr(request, "axes_locked_out", False):
            message, seconds = lockout_message(request, {"username": username})
            raise LockedOut(message, wait=seconds)
        if user is None:
            raise ValidationError(
                {"non_field_errors": ["Unable to log in with provided credentials."]},
                code="authorization",
            )
        self._second_factor(user, given.validated_data.get("otp", ""))
        instance, token = issue_token(user)
        user_logged_in.send(sender=user.__class__, request=request, user=user)
        return Response(TokenSerializer({"token": token, "expiry": instance.expiry}).data)

    @staticmethod
    def _second_factor(user, code: str) -> None:
        device = two_factor.device_of(user)
        if device is None:
            if policies.must_use_two_factor(user):
                raise ValidationError({"otp": [OTP_NOT_SET_UP]}, code="two_factor_not_set_up")
            return
        if not code.strip():
            raise ValidationError({"otp": [OTP_REQUIRED]}, code="required")
        result = two_factor.check(device, code)
        if not result.ok:
            raise ValidationError({"otp": [result.message]}, code="invalid")


class LogoutView(APIView):
    """Revoke the token this request is sent with (other tokens of the user stay)."""

    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        request.auth.delete()
        user_logged_out.send(sender=request.user.__class__, request=request, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
