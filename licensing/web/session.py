"""The staff idle timeout as the pages see it: a warning before it, after GOV.UK's pattern.

A page for someone who is logged out when idle (`policies.logged_out_when_idle`)
carries the timeout on its body (`idle_timeout`, a context processor:
`data-idle-timeout`, in seconds, and `data-idle-touch`, how long the server may
take to notice activity); `licensing/static/licensing/site.js` asks `/session/`
how long is left shortly before it ends, warns in a dialog with a countdown, and
either keeps the session ("Stay logged in" posts here) or, once it has ended,
goes to the login page, which returns to the page the person was on.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from licensing import policies
from licensing.web.middleware import LAST_SEEN, TOUCH_EVERY_SECONDS


def idle_timeout(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if settings.SESSION_IDLE_MINUTES <= 0 or not policies.logged_out_when_idle(user):
        return {}
    return {
        "idle_timeout_seconds": settings.SESSION_IDLE_MINUTES * 60,
        "idle_touch_seconds": TOUCH_EVERY_SECONDS,
    }


@never_cache
def session_status(request: HttpRequest) -> JsonResponse:
    """GET: how many seconds the session has left without activity (asking is not activity:
    `StaffIdleTimeout` leaves this GET out). POST: keep it ("Stay logged in")."""
    if not request.user.is_authenticated:
        return JsonResponse({"remaining": 0}, status=401)
    limit = settings.SESSION_IDLE_MINUTES * 60
    if limit <= 0 or not policies.logged_out_when_idle(request.user):
        return JsonResponse({"remaining": None})
    now = int(time.time())
    if request.method == "POST":
        request.session[LAST_SEEN] = now
    last_seen = request.session.get(LAST_SEEN)
    last_seen = last_seen if isinstance(last_seen, int) else now
    return JsonResponse({"remaining": max(limit - (now - last_seen), 0)})
