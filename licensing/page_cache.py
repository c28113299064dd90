"""Pages and API answers read again without reading the database again, until anything changes.

A reviewer refreshing a queue, a caseworker coming back to a case, a client
polling an application: most reads find the data as the last read left it.
Each person's rendered queue and case page, and each caller's
`GET /api/v1/applications/{id}/`, are kept in the shared cache under the
current **generation** of the data, a token in the cache that every committed
write to the database replaces (`note_write`, a database execute wrapper on
every connection of every process: web, worker and beat alike, whatever
service, admin form or bulk update made the write). A read looks the
generation up first and the database only on a miss, so an entry can never
outlive the data it was rendered from: the first read after a commit finds a
new generation and renders afresh.

What else a page depends on is in its key: the release (`RELEASE`, so a
deploy never serves the previous code's pages), the person as the request
loaded them (role, ministry, organisation, name), the path and query string,
the local date (days left and overdue marks move at midnight) and the
person's unread count (in the header). A page carrying messages for the person is
rendered, never served from or put in the cache; a form's CSRF token is put
in per request. Writes to tables no cached answer shows (sessions, login
attempts, notifications and their delivery, two-factor devices, API tokens)
start no new generation. `PAGE_CACHE_SECONDS` bounds an entry's life (0 turns
the cache off), which also bounds how long a change made outside Django (SQL
typed into `psql`) or the passing of time within a day can go unnoticed.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils.crypto import salted_hmac

from config.cache import renew_shared_token, shared_token
from licensing.clock import local_today

GENERATION_KEY = "licensing:generation"


@functools.cache
def csrf_placeholder_text() -> str:
    """Stands in for the CSRF token in a kept page; each answer carries the request's own.
    Derived from SECRET_KEY: the same in every process, and no one can type it into a
    field to have a reader's token written in its place."""
    return "csrf-" + salted_hmac("licensing.page_cache", "csrf placeholder").hexdigest()[:32]


WRITE = re.compile(
    r"^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE|DELETE\s+FROM"
    r'|TRUNCATE(?:\s+TABLE)?)\s+"?([\w.]+)"?',
    re.IGNORECASE,
)
# A statement with a common table expression may write to any table: counted as shown.
WRITING_CTE = re.compile(r"^\s*WITH\b.*\b(?:INSERT|UPDATE|DELETE)\b", re.IGNORECASE | re.DOTALL)
# Tables no cached page or answer reads: a write to them keeps the generation.
UNSHOWN_TABLES = frozenset(
    {
        "django_session",
        "axes_accessattempt",
        "axes_accessfailurelog",
        "axes_accesslog",
        "licensing_notification",
        "knox_authtoken",
        "otp_totp_totpdevice",
        "otp_static_staticdevice",
        "otp_static_statictoken",
        "django_admin_log",
    }
)


def enabled() -> bool:
    return settings.PAGE_CACHE_SECONDS > 0


def generation() -> str:
    """The data's current generation (a new one if the cache has none, e.g. after a restart)."""
    return shared_token(GENERATION_KEY)


def new_generation() -> None:
    """Start a new generation: every page and answer kept so far is read afresh."""
    renew_shared_token(GENERATION_KEY)


def data_changed(connection) -> None:
    """The data changed on `connection`: a new generation once the transaction commits (at
    once outside one), registered once per transaction however many writes it holds."""
    # Already waiting for this transaction's commit? (Rolled back, it is dropped.)
    if not any(entry[1] is new_generation for entry in connection.run_on_commit):
        transaction.on_commit(new_generation, using=connection.alias)


def note_write(execute, sql, params, many, context):
    """Execute wrapper: a write to a shown table is a change to the data (`data_changed`)."""
    result = execute(sql, params, many, context)
    if not isinstance(sql, str):
        return result
    match = WRITE.match(sql)
    shown = (
        match.group(1).rsplit(".", 1)[-1] not in UNSHOWN_TABLES
        if match is not None
        else sql.lstrip()[:4].upper() == "WITH" and WRITING_CTE.match(sql) is not None
    )
    if shown:
        data_changed(context["connection"])
    return result


def install(sender, connection, **kwargs) -> None:
    """`connection_created` receiver: watch the connection's writes (once per wrapper)."""
    if note_write not in connection.execute_wrappers:
        connection.execute_wrappers.append(note_write)


def _key(kind: str, *parts: object) -> str:
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=16).hexdigest()
    return f"licensing:{kind}:{digest}"


# The generation this process saw last: a read asks for it and for the page kept under
# it in one round trip, and only when the generation has moved on for the page again.
_last_seen = {"generation": ""}


def _read(key_for: Callable[[str], str]) -> tuple[str, Any]:
    """The key under the current generation and what is kept there (None if nothing), in
    one round trip when the generation is the one this process saw last."""
    guess = _last_seen["generation"]
    if guess:
        key = key_for(guess)
        found = cache.get_many([GENERATION_KEY, key])
        if found.get(GENERATION_KEY) == guess:
            return key, found.get(key)
    current = _last_seen["generation"] = generation()
    key = key_for(current)
    return key, cache.get(key)


def _person(user) -> str:
    """The person as this request loaded them (role, ministry, organisation, name...):
    the user may have been read before a change that started the generation the page is
    kept under, so what they were is part of the key, not only who."""
    return "\x1e".join(
        str(getattr(user, field.attname))
        for field in user._meta.concrete_fields
        if field.attname != "last_login"
    )


def _page_key(request: HttpRequest, generation_now: str) -> str:
    user = request.user
    return _key(
        "page",
        settings.RELEASE,
        generation_now,
        _person(user),
        getattr(user, "unread_notifications", ""),
        local_today().isoformat(),
        request.get_full_path(),
    )


def cached_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Keep a person's successful GET of `view` until the data changes (see the module)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if (
            not enabled()
            or request.method not in ("GET", "HEAD")
            or not request.user.is_authenticated
            or len(messages.get_messages(request))
        ):
            return view(request, *args, **kwargs)
        # The generation is read before any row: a page rendered from rows older than it
        # is never kept under it.
        key, content = _read(lambda current: _page_key(request, current))
        if content is None:
            request.META["licensing.page_cache"] = True  # the view's csrf_token: a placeholder
            response = view(request, *args, **kwargs)
            if response.status_code != 200 or response.streaming:
                return response
            content = response.content
            cache.set(key, content, settings.PAGE_CACHE_SECONDS)
        else:
            response = HttpResponse(content_type="text/html; charset=utf-8")
        response.content = content.replace(
            csrf_placeholder_text().encode(), get_token(request).encode()
        )
        return response

    return wrapper


def csrf_placeholder(request: HttpRequest) -> dict[str, str]:
    """Context processor: while a page is rendered for the cache, its forms carry the
    placeholder the cache swaps for each request's own CSRF token."""
    if request.META.get("licensing.page_cache"):
        return {"csrf_token": csrf_placeholder_text()}
    return {}


def cached_data(request, parts: tuple, compute: Callable[[], Any]) -> Any:
    """An API answer's data for this caller, kept until the data changes."""
    if not enabled():
        return compute()
    today = local_today().isoformat()
    person = _person(request.user)
    key, data = _read(lambda current: _key("api", settings.RELEASE, current, person, today, *parts))
    if data is None:
        data = compute()
        cache.set(key, data, settings.PAGE_CACHE_SECONDS)
    return data
