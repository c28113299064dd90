"""List filters. Dates are local (Asia/Jerusalem); `overdue` uses the working clock's today."""

from __future__ import annotations

import django_filters as filters
from django import forms
from django.db.models import Q, QuerySet
from drf_spectacular.utils import extend_schema_field

from licensing.clock import local_today
from licensing.models import (
    Application,
    ApplicationStatus,
    License,
    LicenseStatus,
    LicenseType,
    MatchKind,
    MatchStatus,
    Notification,
    Regime,
    Review,
    ReviewStatus,
    ScreeningMatch,
)

ME = [("me", "me")]
MAX_ID = 2**63 - 1


class FilterSet(filters.FilterSet):
    """django-filter's FilterSet, except that a parameter given empty (`?overdue=`) is a 400
    unless it is free text: the schema's date, number, boolean or choice is never empty, and
    "no filter" is leaving the parameter out (django-filter, after HTML forms, ignores it)."""

    def get_form_class(self):
        free_text = {name for name, f in self.filters.items() if isinstance(f, filters.CharFilter)}

        class Form(super().get_form_class()):
            def clean(self) -> dict:
                cleaned = super().clean()
                for name in self.fields:
                    if name not in free_text and "" in self.data.getlist(name):
                        self.add_error(name, "Give a value, or leave the parameter out.")
                return cleaned

        return Form


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(filters.NumberFilter):
    """A whole number in the database's range: anything else is a 400, not an overflow."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, min_value=1, max_value=MAX_ID, **kwargs)


class _TrueOrFalse(forms.Field):
    """`true` or `false`, as the schema's boolean is written in a query (absent: no filter).
    Anything else is a 400, not the silent "no filter" of django-filter's NullBooleanField,
    which would answer `?overdue=yes` with every row."""

    def to_python(self, value):
        if value is None:
            return None
        if value in ("true", "false"):
            return value == "true"
        raise forms.ValidationError('Give "true" or "false".', code="invalid")


class BooleanFilter(filters.BooleanFilter):
    field_class = _TrueOrFalse


def _overdue_reviews() -> QuerySet[Review]:
    """`Review.objects.overdue()`: running (the case under review) and past its due date."""
    return Review.objects.overdue(local_today())


class ApplicationFilter(FilterSet):
    status = filters.MultipleChoiceFilter(choices=ApplicationStatus.choices)
    license_type = filters.ChoiceFilter(choices=LicenseType.choices)
    destination = filters.CharFilter(
        field_name="destination_id",
        method="filter_destination",
        help_text="ISO 3166-1 alpha-2 code.",
    )
    submitted_after = filters.DateFilter(
        field_name="submitted_at", lookup_expr="date__gte", help_text="Local date, inclusive."
    )
    submitted_before = filters.DateFilter(
        field_name="submitted_at", lookup_expr="date__lte", help_text="Local date, inclusive."
    )
    overdue = BooleanFilter(
        method="filter_overdue", help_text="Has (true) or has no (false) overdue open review."
    )
    assigned_to = filters.ChoiceFilter(
        choices=ME, method="filter_assigned_to", help_text="`me`: a review assigned to the caller."
    )

    class Meta:
        model = Application
        fields = ["status", "license_type"]

    def filter_destination(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(destination_id=value.upper()[:2])

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        overdue = _overdue_reviews().values("application_id")
        return queryset.filter(id__in=overdue) if value else queryset.exclude(id__in=overdue)

    def filter_assigned_to(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        mine = Review.objects.filter(assigned_to=self.request.user).values("application_id")
        return queryset.filter(id__in=mine)


class ReviewFilter(FilterSet):
    status = filters.MultipleChoiceFilter(choices=ReviewStatus.choices)
    ministry = filters.CharFilter(method="filter_ministry", help_text="Administrators only.")
    overdue = BooleanFilter(
        method="filter_overdue",
        help_text="Pending or in progress on an application under review, and past its due date.",
    )
    assigned_to = filters.ChoiceFilter(choices=ME, method="filter_assigned_to")
    application = IdFilter(field_name="application_id")

    class Meta:
        model = Review
        fields = ["status"]

    def filter_ministry(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(ministry=value[:20])

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        overdue = _overdue_reviews().values("pk")
        return queryset.filter(pk__in=overdue) if value else queryset.exclude(pk__in=overdue)

    def filter_assigned_to(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(assigned_to=self.request.user)


class LicenseFilter(FilterSet):
    status = filters.MultipleChoiceFilter(choices=LicenseStatus.choices)
    license_type = filters.ChoiceFilter(choices=LicenseType.choices)
    destination = filters.CharFilter(method="filter_destination")

    class Meta:
        model = License
        fields = ["status", "license_type"]

    def filter_destination(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(destination_id=value.upper()[:2])


class ScreeningMatchFilter(FilterSet):
    status = filters.MultipleChoiceFilter(choices=MatchStatus.choices)
    match = filters.ChoiceFilter(choices=MatchKind.choices)
    application = IdFilter(field_name="application_id")

    class Meta:
        model = ScreeningMatch
        fields = ["status", "match"]


class NotificationFilter(FilterSet):
    unread = BooleanFilter(field_name="read_at", lookup_expr="isnull")

    class Meta:
        model = Notification
        fields = ["unread"]


class CountryFilter(FilterSet):
    search = filters.CharFilter(method="filter_search", help_text="Part of the name, or the code.")

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(name__icontains=value) | Q(code__iexact=value[:2]))


class ControlListEntryFilter(FilterSet):
    regime = filters.ChoiceFilter(choices=Regime.choices)
    search = filters.CharFilter(
        method="filter_search", help_text="Part of the code or the description."
    )

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(code__icontains=value) | Q(description__icontains=value))
