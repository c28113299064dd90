"""The queue's filters and sorting (django-filter), read from the query string.

Filters a person chooses (a status, an assignee, overdue, due soon, a
reference) and the order they read in; who sees which reviews is decided
before this, by `licensing.selectors`.
"""

from __future__ import annotations

import django_filters as filters
from django import forms
from django.db.models import QuerySet

from licensing.clock import local_today
from licensing.models import Review, ReviewStatus
from licensing.models.reviews import OPEN_STATES

R = ReviewStatus
ME, NOBODY = "me", "none"
SORTS = (
    ("due_date", "due"),
    ("received_on", "received"),
    ("application__reference", "reference"),
    ("application__destination__name", "destination"),
)
SORT_LABELS = {
    "due": "Due date, soonest first",
    "-due": "Due date, latest first",
    "received": "Received, oldest first",
    "-received": "Received, newest first",
    "reference": "Reference",
    "-reference": "Reference, descending",
    "destination": "Destination",
    "-destination": "Destination, Z to A",
}


class StableOrdering(filters.OrderingFilter):
    """The chosen order, then by id, so a page boundary never moves between requests."""

    def filter(self, qs: QuerySet, value) -> QuerySet:
        if not value:
            return qs
        chosen = [self.get_ordering_value(param) for param in value if param]
        return qs.order_by(*chosen, "id")


class QueueFilter(filters.FilterSet):
    """A ministry's queue: `?status=&assignee=&overdue=on&due_soon=on&q=&sort=`.

    `colleagues` (the ministry's staff, already read for the page) name the
    assignees one may pick; `horizons` are each ministry's "due soon" dates.
    """

    q = filters.CharFilter(
        label="Reference",
        method="filter_reference",
        widget=forms.TextInput(attrs={"placeholder": "EXP-2026-..."}),
    )
    status = filters.ChoiceFilter(label="Status", empty_label="Any", method="filter_status")
    assignee = filters.ChoiceFilter(
        label="Assigned to", empty_label="Anyone", method="filter_assignee"
    )
    overdue = filters.BooleanFilter(
        label="Overdue", method="filter_overdue", widget=forms.CheckboxInput
    )
    due_soon = filters.BooleanFilter(
        label="Due soon", method="filter_due_soon", widget=forms.CheckboxInput
    )
    sort = StableOrdering(
        label="Sort by", fields=SORTS, choices=list(SORT_LABELS.items()), empty_label=None
    )

    class Meta:
        model = Review
        fields: list[str] = []

    def __init__(self, *args, user, colleagues, horizons, completed: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.horizons = horizons
        self.completed = completed
        states = [R.COMPLETED, R.CANCELLED] if completed else OPEN_STATES
        self.filters["status"].extra["choices"] = [(s, R(s).label) for s in states]
        people = [(str(p.pk), p.get_full_name() or p.get_username()) for p in colleagues]
        self.filters["assignee"].extra["choices"] = [(ME, "Me"), (NOBODY, "Unassigned"), *people]
        for name in ("overdue", "due_soon"):
            self.filters[name].field.required = False

    def filter_reference(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(application__reference__icontains=value.strip()[:50])

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(status=value)

    def filter_assignee(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == ME:
            return queryset.filter(assigned_to=self.user)
        if value == NOBODY:
            return queryset.filter(assigned_to__isnull=True)
        return queryset.filter(assigned_to_id=int(value))

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.overdue(local_today()) if value else queryset

    def filter_due_soon(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.due_soon(local_today(), self.horizons) if value else queryset
