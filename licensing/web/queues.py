"""Each role's home page: the exporter's applications, a ministry's queue, the committee's cases."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from licensing import policies
from licensing.clock import WorkingCalendar, local_today
from licensing.models import ApplicationStatus, Notification, Review
from licensing.selectors import (
    applications_visible_to,
    deadline_policies,
    decided,
    disputed,
    reviews_visible_to,
    under_appeal,
)
from licensing.web.actions import buttons

S = ApplicationStatus
PAGE_SIZE = 50


def reminder_horizons(today) -> dict[str, object]:
    """Each ministry's "due soon" horizon: its reminder window, in working days from today."""
    calendar = WorkingCalendar.load()
    return {
        policy.ministry: calendar.add_working_days(today, policy.reminder_days_before)
        for policy in deadline_policies().values()
    }


def due_marks(reviews: list[Review]) -> None:
    """Mark each review overdue, or due soon within its ministry's reminder window.

    The same definitions as `Review.objects.overdue()` and `.due_soon()`, for
    rows already loaded (each with its application).
    """
    today = local_today()
    horizons = reminder_horizons(today)
    for review in reviews:
        review.overdue = review.is_overdue(today)
        review.due_soon = not review.overdue and review.is_due_soon(
            today, horizons.get(review.ministry, today)
        )


def page_of(request: HttpRequest, items, size: int = PAGE_SIZE):
    """One page of a long list, with its count; `?page=N`, out-of-range gives the last."""
    return Paginator(items, size).get_page(request.GET.get("page"))


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    context: dict = {
        "notifications": Notification.objects.filter(recipient=user).order_by("-created_at")[:10],
        "query": request.GET.get("q", "").strip()[:50],
        "status_filter": request.GET.get("status", ""),
    }
    workspace = policies.workspace(user)
    if workspace == "ministry":
        return _ministry_queue(request, context)
    applications = applications_visible_to(user).select_related(
        "destination", "organisation", "license"
    )
    if context["query"]:
        applications = applications.filter(reference__icontains=context["query"])
    if workspace == "committee":
        context["disputed"] = disputed(applications).order_by("disputed_at")
        context["appeals"] = under_appeal(applications)
        context["today"] = local_today()
        context["page"] = page_of(request, decided(applications).order_by("-decided_at"))
        context["decided"] = context["page"].object_list
        return render(request, "licensing/home_committee.html", context)
    if context["status_filter"] in S.values:  # a filter the person chose, not a rule
        applications = applications.filter(status=context["status_filter"])
    context["statuses"] = S.choices
    context["page"] = page_of(request, applications.order_by("-created_at", "-id"))
    context["applications"] = context["page"].object_list
    context["exporter_view"] = policies.sees_exporter_view(user)
    context["may_create"] = policies.may_create_application(user)
    context["may_administer"] = policies.may_administer(user)
    return render(request, "licensing/home.html", context)


def _ministry_queue(request: HttpRequest, context: dict) -> HttpResponse:
    user = request.user
    reviews = (
        reviews_visible_to(user)
        .open()
        .select_related(
            "application",
            "application__destination",
            "application__organisation",
            "assigned_to",
        )
        .order_by("due_date", "id")
    )
    if context["query"]:
        reviews = reviews.filter(application__reference__icontains=context["query"])
    page = page_of(request, reviews)
    rows = list(page.object_list)
    due_marks(rows)
    used_ids: set[str] = set()
    shared_choices = None
    for review in rows:
        review.buttons = buttons(review, user, names=("claim", "reassign"), used_ids=used_ids)
        for button in review.buttons:
            if button.form is None:
                continue
            # One list of colleagues for the page, and a field id of each row's own.
            button.form.auto_id = f"id_{review.pk}-%s"
            field = button.form.fields["assignee"]
            shared_choices = shared_choices or list(field.choices)
            field.choices = shared_choices
    context.update(page=page, queue=rows)
    context["show_backlog"] = policies.sees_ministry_backlog(user)
    if context["show_backlog"]:
        context["overdue"] = list(
            reviews_visible_to(user)
            .overdue(local_today())
            .select_related("application", "assigned_to")
            .order_by("due_date", "id")[:100]
        )
    return render(request, "licensing/home_ministry.html", context)
