"""The public page a licence document's QR code points at: is this licence valid today?

No login: customs officers and consignees use it. It says only whether the
licence is valid today, its number, holder, status and validity. The code
in the address is 192 random bits, so the page cannot be found by guessing;
an unknown code is a plain 404.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from licensing.clock import local_today
from licensing.models import License


@require_safe
def license_verify(request: HttpRequest, code: str) -> HttpResponse:
    license = get_object_or_404(
        License.objects.select_related("organisation"), verification_code=code
    )
    today = local_today()
    response = render(
        request,
        "licensing/verify.html",
        {"license": license, "valid": license.valid_on(today), "today": today},
    )
    response["Cache-Control"] = "no-store"  # the answer is today's
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"  # the code stays out of other sites' logs
    return response
