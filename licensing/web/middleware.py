"""Request middleware for the pages and the admin.

- `DropNulQueryParameters`: a query parameter holding NUL is ignored.
- `StaffIdleTimeout`: staff are logged out after SESSION_IDLE_MINUTES without a request.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, QueryDict

from licensing import policies

NUL = "\x00"

# The API answers its own bad input with JSON 400s (django-filter's forms refuse NUL).
API_PREFIX = "/api/"


class DropNulQueryParameters:
    """Drop every query parameter (name or value) holding NUL, on pages and the admin.

    No person types NUL into a search box, PostgreSQL refuses it in any text
    (a `DataError`, so a 500), and the pages and admin read `request.GET` in
    many places (the home page's search, every admin changelist's search,
    filters, ordering and date hierarchy). Cleaning `request.GET` once, before
    any view, covers them all; dropping (rather than stripping the NUL)
    means a crafted value never turns into a different, valid one.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(API_PREFIX) and _has_nul(request.GET):
            request.GET = _without_nul(request.GET)
        return self.get_response(request)


def _has_nul(query: QueryDict) -> bool:
    return any(NUL in key or any(NUL in v for v in values) for key, values in query.lists())


def _without_nul(query: QueryDict) -> QueryDict:
    cleaned = QueryDict(mutable=True)
    for key, values in query.lists():
        kept = [value for value in values if NUL not in value]
        if NUL not in key and kept:
            cleaned.setlist(key, kept)
    return QueryDict(cleaned.urlencode(), encoding=query.encoding)  # immutable, as Django's


LAST_SEEN = "last_seen"
# The session is written at most this often to record activity (not on every request).
TOUCH_EVERY_SECONDS = 60
# Asking how long the session has left (the pages' timeout warning) is not activity.
SESSION_STATUS_PATH = "/session/"


class StaffIdleTimeout:
    """Log staff out after SESSION_IDLE_MINUTES without a request (`policies.logged_out_when_idle`).

    The session keeps when the person was last seen (rewritten at most once a
    minute); the first request past the idle limit logs out, and the request goes
    on anonymous, so a page redirects to the login form (with a message saying
    why) and the API answers 401/403. Token-authenticated API calls carry no
    session and are not affected here.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if settings.SESSION_IDLE_MINUTES > 0 and policies.logged_out_when_idle(user):
            now = int(time.time())
            last_seen = request.session.get(LAST_SEEN)
            if isinstance(last_seen, int) and now - last_seen > settings.SESSION_IDLE_MINUTES * 60:
                logout(request)
                if not request.path_info.startswith(API_PREFIX):
                    messages.info(
                        request,
                        f"You were logged out after {settings.SESSION_IDLE_MINUTES} minutes "
                        "without activity.",
                    )
            elif not isinstance(last_seen, int) or (
                now - last_seen >= TOUCH_EVERY_SECONDS and not _asks_status(request)
            ):
                request.session[LAST_SEEN] = now
        return self.get_response(request)


def _asks_status(request: HttpRequest) -> bool:
    return request.method == "GET" and request.path_info == SESSION_STATUS_PATH
