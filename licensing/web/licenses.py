"""Licences: the list of those the caller may see, with the actions each may take, and one
licence's page (for those who may act on a licence whose case they cannot open)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from licensing import actions
from licensing.models import LicenseStatus
from licensing.selectors import (
    applications_visible_to,
    license_goods_and_shipments,
    licenses_visible_to,
)
from licensing.web.actions import buttons
from licensing.web.queues import counted_page

PAGE_SIZE = 50


@login_required
def license_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    licenses = licenses_visible_to(user).select_related("organisation", "destination")
    status = request.GET.get("status", "")
    if status in LicenseStatus.values:  # a filter the person chose, not a rule
        licenses = licenses.filter(status=status)
    query = request.GET.get("q", "").strip()[:50]
    if query:
        licenses = licenses.filter(number__icontains=query)
    page = counted_page(request, licenses.order_by("-issued_at", "-id"), PAGE_SIZE)
    rows = list(page.object_list)
    for license in rows:
        license.actions = [a for a in actions.allowed(license, user) if a.name != "ship"]
    return render(
        request,
        "licensing/licenses.html",
        {
            "page": page,
            "licenses": rows,
            "statuses": LicenseStatus.choices,
            "status_filter": status,
            "query": query,
        },
    )


def render_license(
    request: HttpRequest, pk: int, *, status: int = 200, bound: dict | None = None
) -> HttpResponse:
    user = request.user
    license = get_object_or_404(
        licenses_visible_to(user).select_related("organisation", "destination", "application"),
        pk=pk,
    )
    goods, shipments = license_goods_and_shipments(license)
    license.goods_list = goods  # the shipment form's lines (`ShipmentForm`): read once
    actions = buttons(license, user, bound=bound, exclude=("ship",))
    return render(
        request,
        "licensing/license_detail.html",
        {
            "license": license,
            "license_goods": goods,
            "shipments": shipments,
            "actions": actions,
            "sees_case": applications_visible_to(user).filter(pk=license.application_id).exists(),
        },
        status=status,
    )


@login_required
def license_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_license(request, pk)
