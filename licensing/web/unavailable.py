"""The database unreachable: a quick 503 with Retry-After, never a hang or a bare 500.

While PostgreSQL restarts (or a failover happens) a request that needs it fails with
`OperationalError` (cannot connect, the server is shutting down, the connection was
terminated) or `InterfaceError` (the connection is already closed). Those are answered
503 Service Unavailable with a Retry-After, as JSON under /api/ (and to clients that
ask for JSON), as a short page elsewhere; load balancers and scripts then retry.

- `DatabaseUnavailableMiddleware` answers for errors raised in a view (DRF hands the
  exceptions it does not know back to Django, so the API is covered too).
- `server_error` (handler500) answers for the same errors raised outside a view, in a
  middleware; any other error is Django's usual 500 page.

Nothing here reconnects: Django's persistent connections are health-checked before
reuse (CONN_HEALTH_CHECKS), so once the server is back the next request in each thread
opens a fresh connection, and `connect_timeout` (DB_CONNECT_TIMEOUT) bounds how long
an attempt against a server that does not answer may take.
"""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
DETAIL = "The service is briefly unavailable. Please try again in a few seconds."
PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Service unavailable</title></head>
<body><h1>Service unavailable</h1><p>{DETAIL}</p></body></html>
"""
DATABASE_ERRORS = (OperationalError, InterfaceError)
SERVER_ERROR = "A server error occurred; it has been logged."


def unavailable(request: HttpRequest) -> HttpResponse:
    """503, JSON or a page (no template: the base template would look up the user)."""
    wants_json = request.path.startswith("/api/") or "json" in request.headers.get("Accept", "")
    if wants_json:
        response: HttpResponse = JsonResponse({"detail": DETAIL}, status=503)
    else:
        response = HttpResponse(PAGE, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if isinstance(exception, DATABASE_ERRORS):
            log.warning("database unavailable: %s %s: %s", request.method, request.path, exception)
            return unavailable(request)
        return None


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: the database's errors outside a view are a 503 too; the rest, a 500,
    which the API answers in JSON as it answers every other error, never as a page."""
    if isinstance(sys.exc_info()[1], DATABASE_ERRORS):
        return unavailable(request)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": SERVER_ERROR}, status=500)
    return defaults.server_error(request)
