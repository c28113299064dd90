"""Web pages for people: each role's home page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from licensing.selectors import applications_visible_to


@login_required
def home(request: HttpRequest) -> HttpResponse:
    applications = (
        applications_visible_to(request.user)
        .select_related("destination", "organisation")
        .order_by("-created_at")[:50]
    )
    return render(request, "licensing/home.html", {"applications": applications})
