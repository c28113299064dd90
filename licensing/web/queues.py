"""Each role's home page: the exporter's applications, a ministry's queue, the committee's cases.

A ministry's queue (`/`, open work; `/?tab=completed`, work done) is filtered
and sorted from the query string (`licensing.web.filters.QueueFilter`), and
each row says how many working days are left and whether its clock is
stopped. A supervisor's page adds each colleague's workload and one form that
reassigns the ticked rows (`reassign_many`), through the rulebook's
`reassign` action, one review at a time.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from licensing import actions, policies, rulebook
from licensing.clock import WorkingCalendar, local_today
from licensing.exceptions import ServiceError
from licensing.expressions import CappedCount
from licensing.models import ApplicationStatus, Review, ReviewStatus
from licensing.page_cache import cached_page, queue_page_scope
from licensing.selectors import (
    applications_visible_to,
    deadline_policies,
    decided,
    disputed,
    ministry_staff,
    reviews_visible_to,
    under_appeal,
)
from licensing.web.actions import buttons, form_endpoint
from licensing.web.errors import BadQuery, PageError
from licensing.web.filters import QueueFilter

S = ApplicationStatus
R = ReviewStatus
PAGE_SIZE = 50
SUPERVISOR_PAGE_SIZE = 25
COMPLETED = "completed"


def reminder_horizons(today) -> dict[str, object]:
    """Each ministry's "due soon" horizon: its reminder window, in working days from today."""
    calendar = WorkingCalendar.load()
    return {
        policy.ministry: calendar.add_working_days(today, policy.reminder_days_before)
        for policy in deadline_policies().values()
    }


def working_days_left(calendar: WorkingCalendar, today: date, due: date) -> int:
    """Working days from `today` to `due` (negative: working days overdue)."""
    if due >= today:
        return calendar.working_days_between(today, due)
    return -calendar.working_days_between(due, today)


def due_marks(reviews: list[Review]) -> None:
    """Mark each review overdue, or due soon within its ministry's reminder window, and say
    how many working days it has left and whether its clock is stopped.

    The same definitions as `Review.objects.overdue()` and `.due_soon()`, for
    rows already loaded (each with its application). A stopped clock keeps the
    days it had left when it stopped.
    """
    today = local_today()
    horizons = reminder_horizons(today)
    calendar = WorkingCalendar.load()
    for review in reviews:
        review.overdue = review.is_overdue(today)
        review.due_soon = not review.overdue and review.is_due_soon(
            today, horizons.get(review.ministry, today)
        )
        review.clock_stopped = review.status == R.AWAITING_APPLICANT
        review.days_left = None
        if review.is_open:
            stopped_on = review.application.clock_stopped_on if review.clock_stopped else None
            review.days_left = working_days_left(calendar, stopped_on or today, review.due_date)


class _Counted:
    """A total already known, for Django's Paginator (which asks `count()`)."""

    def __init__(self, total: int) -> None:
        self.total = total

    def count(self) -> int:
        return self.total


# A list's total is counted up to this many rows, never further: a Completed tab
# over a decade's archive, or a big backlog, shows "1,000 or more" instead of
# scanning every row to say exactly how many.
COUNT_CAP = 1000
MAX_ROW = 2**63 - 1  # the largest row offset (a 64-bit integer) a database takes


class CountedPage(Page):
    """A page whose total may be capped; `has_next` comes from the rows themselves."""

    def __init__(self, rows, number, paginator, *, more: bool, capped: bool) -> None:
        super().__init__(rows, number, paginator)
        self.more = more
        # Capped, the total is known only on the last page (where the rows run out).
        self.total_label = f"{paginator.count:,}" + (" or more" if capped and more else "")

    def has_next(self) -> bool:
        return self.more

    def next_page_number(self) -> int:
        return self.number + 1


def capped_total(queryset) -> CappedCount:
    """COUNT(*) of at most COUNT_CAP + 1 rows of `queryset`, as a scalar subquery: the
    database works it out once for the page's query (it is not correlated with the rows)."""
    return CappedCount(queryset, COUNT_CAP + 1)


def counted_page(request: HttpRequest, queryset, size: int = PAGE_SIZE) -> Page:
    """One page of a long list and its (capped) total in ONE query; `?page=N`, out of range
    gives the last page (one more query, only then). The total never scans past COUNT_CAP
    rows, and the page reads `size + 1` rows to know whether another follows."""
    try:
        number = max(1, int(request.GET.get("page", 1)))
    except (TypeError, ValueError):
        number = 1
    if number * size + 1 > MAX_ROW:
        # Past any list the database can hold: its row offset is out of the integer range.
        raise BadQuery(f"There is no page {number}: the list ends long before it.")
    counted = queryset.annotate(listed_total=capped_total(queryset))
    rows = list(counted[(number - 1) * size : number * size + 1])
    if rows:
        total = rows[0].listed_total
    elif number > 1:
        total = queryset.order_by()[: COUNT_CAP + 1].count()
        number = max(1, -(-min(total, COUNT_CAP) // size))
        rows = list(counted[(number - 1) * size : number * size + 1])
    else:
        total = 0
    more = len(rows) > size
    capped = total > COUNT_CAP
    # Past the cap the page's own position is the lower bound of the total.
    known = max(min(total, COUNT_CAP), (number - 1) * size + min(len(rows), size))
    if capped and not more:
        known = (number - 1) * size + len(rows)  # the last page: now it is exact
    paginator = Paginator(_Counted(known), size, allow_empty_first_page=True)
    return CountedPage(rows[:size], number, paginator, more=more, capped=capped)


def page_of(request: HttpRequest, items, size: int = PAGE_SIZE):
    """One page of a long list, with its count; `?page=N`, out-of-range gives the last."""
    return Paginator(items, size).get_page(request.GET.get("page"))


@login_required
@cached_page(queue_page_scope)
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    context: dict = {
        "query": request.GET.get("q", "").strip()[:50],
        "status_filter": request.GET.get("status", ""),
    }
    workspace = policies.workspace(user)
    if workspace == "ministry":
        return ministry_queue(request)
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


def ministry_queue(
    request: HttpRequest, *, status: int = 200, reassign_errors: dict | None = None
) -> HttpResponse:
    """The ministry's queue (open work, or the Completed tab), filtered, sorted and paged."""
    user = request.user
    completed = request.GET.get("tab") == COMPLETED
    colleagues = list(ministry_staff(user.ministry).order_by("first_name", "last_name", "id"))
    today = local_today()
    reviews = reviews_visible_to(user).select_related(
        "application", "application__destination", "application__organisation", "assigned_to"
    )
    if completed:
        reviews = reviews.filter(status__in=[R.COMPLETED, R.CANCELLED]).order_by(
            "-completed_at", "-id"
        )
    else:
        reviews = reviews.open().order_by("due_date", "id")
    queue_filter = QueueFilter(
        request.GET,
        queryset=reviews,
        user=user,
        colleagues=colleagues,
        horizons=reminder_horizons(today),
        completed=completed,
    )
    # The filters' ids stay apart from the bulk form's (`id_assignee`, the reassign select).
    queue_filter.form.auto_id = "filter_%s"
    supervisor = policies.sees_ministry_backlog(user)
    # A supervisor's page carries the workload and the bulk form too: keep it short.
    page = counted_page(request, queue_filter.qs, SUPERVISOR_PAGE_SIZE if supervisor else PAGE_SIZE)
    rows = list(page.object_list)
    due_marks(rows)
    reassign = rulebook.get(Review, "reassign")
    # A bulk reassign that failed shows the rows and the person as they were chosen.
    ticked = set(request.POST.getlist("reviews")) if reassign_errors else set()
    for review in rows:
        review.ticked = str(review.pk) in ticked
        review.buttons = buttons(review, user, names=("claim",))
        for button in review.buttons:
            button.id_suffix = f"-{review.pk}"
        review.may_reassign = supervisor and reassign.allows(review, user)
    context: dict[str, Any] = {
        "filter": queue_filter,
        "completed": completed,
        "page": page,
        "queue": rows,
        "supervisor": supervisor,
        "filtered": any(
            request.GET.get(k) for k in ("q", "status", "assignee", "overdue", "due_soon")
        ),
    }
    if supervisor:
        context["colleagues"] = colleagues
        context["workload"] = _workload(user, colleagues, today)
        context["reassign_errors"] = reassign_errors or {}
        context["chosen_assignee"] = request.POST.get("assignee", "") if reassign_errors else ""
        # The page's error summary (base.html): each error a link to its field.
        context["page_errors"] = [
            PageError(f"#{target}", message)
            for target, message in context["reassign_errors"].items()
        ]
        context["any_reassignable"] = any(r.may_reassign for r in rows)
    return render(request, "licensing/home_ministry.html", context, status=status)


def _workload(user: Any, colleagues: list, today: date) -> list[dict[str, Any]]:
    """Each colleague's open reviews, how many are in progress, awaiting the exporter and
    overdue (one grouped query), and the unassigned ones."""
    overdue = Q(
        status__in=[R.PENDING, R.IN_PROGRESS],
        application__status=S.UNDER_REVIEW,
        due_date__lt=today,
    )
    counts = {
        row["assigned_to"]: row
        for row in reviews_visible_to(user)
        .open()
        .values("assigned_to")
        .annotate(
            open=Count("pk"),
            awaiting=Count("pk", filter=Q(status=R.AWAITING_APPLICANT)),
            overdue=Count("pk", filter=overdue),
        )
        .order_by()
    }
    empty = {"open": 0, "awaiting": 0, "overdue": 0}
    rows = [
        {"person": person, **{k: counts.get(person.pk, empty)[k] for k in empty}}
        for person in colleagues
    ]
    rows.append({"person": None, **{k: counts.get(None, empty)[k] for k in empty}})
    return rows


def _queue_page(request: HttpRequest) -> str:
    """The queue as it was: the bulk form posts with the page's query string."""
    query = request.GET.urlencode()
    return reverse("home") + (f"?{query}" if query else "")


def _review_ids(values: list[str]) -> list[int]:
    """The ticked rows' ids: whole numbers (ASCII digits only: "²" is a digit to `isdigit`
    but no number to `int`) in the database's range; anything else names no review."""
    ids = [int(v) for v in values if v.isascii() and v.isdigit() and len(v) <= len(str(MAX_ROW))]
    return [pk for pk in ids if 0 < pk <= MAX_ROW][:PAGE_SIZE]


@form_endpoint(_queue_page)
def reassign_many(request: HttpRequest) -> HttpResponse:
    """The supervisor's bulk reassign: the ticked reviews to the one person chosen.

    Each review goes through the rulebook's `reassign` action (its service checks
    who and when under the review's lock); an empty choice, or no row ticked,
    shows the queue again with an error summary.
    """
    user = request.user
    if not policies.sees_ministry_backlog(user):
        return redirect("home")
    action = actions.get(Review, "reassign")
    colleagues = {str(p.pk): p for p in ministry_staff(user.ministry)}
    errors: dict[str, str] = {}
    assignee = colleagues.get(request.POST.get("assignee", ""))
    if assignee is None:
        errors["id_assignee"] = "Choose who to reassign the selected reviews to."
    ids = _review_ids(request.POST.getlist("reviews"))
    if not ids:
        errors["queue"] = "Select at least one review to reassign."
    if errors:
        return ministry_queue(request, status=400, reassign_errors=errors)
    done, refused = [], []
    for review in reviews_visible_to(user).filter(pk__in=ids).select_related("application"):
        try:
            action.run(review, user, {"assignee": assignee})
        except ServiceError as error:
            refused.append(f"{review.application.reference}: {error.message}")
        else:
            done.append(review.application.reference)
    if done:
        name = assignee.get_full_name() or assignee.get_username()
        messages.success(request, f"{len(done)} review(s) reassigned to {name}: {', '.join(done)}.")
    for message in refused:
        messages.error(request, message)
    # Back to the same filtered, sorted page: the form posts with the page's query string.
    return redirect(_queue_page(request))
