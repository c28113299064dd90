"""The token endpoint's throttles, against password guessing: per client and per username.

Counts live in Django's default cache (CACHES: Redis, or a folder every process shares),
so every gunicorn worker sees the same count. The client is `accounts.security.client_ip`,
the address the login lockout uses too: X-Forwarded-For counts only as far as
NUM_PROXIES trusted proxies wrote it.
"""

from __future__ import annotations

import hashlib

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.security import client_ip


class _TokenThrottle(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        # Read at each request (DRF binds THROTTLE_RATES once, at import).
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_ident(self, request) -> str:
        return client_ip(request) or "unknown"


class TokenClientThrottle(_TokenThrottle):
    """TOKEN_THROTTLE_RATE token requests per client address."""

    scope = "token"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class TokenUsernameThrottle(_TokenThrottle):
    """TOKEN_USERNAME_THROTTLE_RATE token requests per posted username, from any address:
    guesses spread over many addresses still meet a limit."""

    scope = "token_username"

    def get_cache_key(self, request, view) -> str | None:
        username = request.data.get("username") if hasattr(request.data, "get") else None
        if username is None or username == "":
            return None  # a 400 for the missing field, counted per client only
        # A digest: any value (long, odd characters, not a string) makes a safe cache key.
        digest = hashlib.sha256(str(username).casefold().encode("utf-8", "replace")).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": digest}
