"""The Django admin: rules with their change history, and a read-only audit trail.

Status fields are FSM-protected and shown read-only: every transition goes
through a service, never through an admin form.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count
from simple_history.admin import SimpleHistoryAdmin

from licensing.models import (
    Application,
    AuditEvent,
    ControlListEntry,
    Country,
    CountryList,
    DeadlinePolicy,
    EscalationStep,
    Good,
    License,
    LicenseGood,
    LicenseValidity,
    NonWorkingDay,
    Notification,
    OtherParty,
    Review,
    RoutingDecision,
    RoutingRule,
    ScreeningEntry,
    ScreeningList,
    ScreeningMatch,
    Shipment,
)
from licensing.services.screening import screening_entry_indexed

admin.site.site_header = "Export licensing administration"
admin.site.site_title = "Export licensing"
admin.site.index_title = "Rules, reference data and people"


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Country)
class CountryAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(CountryList)
class CountryListAdmin(SimpleHistoryAdmin):
    list_display = ["slug", "name", "country_codes"]
    filter_horizontal = ["countries"]
    prepopulated_fields = {"slug": ["name"]}

    @admin.display(description="countries")
    def country_codes(self, obj: CountryList) -> str:
        return ", ".join(c.code for c in obj.countries.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("countries")


@admin.register(ControlListEntry)
class ControlListEntryAdmin(SimpleHistoryAdmin):
    list_display = ["code", "regime", "description"]
    list_filter = ["regime"]
    search_fields = ["code", "description"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(SimpleHistoryAdmin):
    list_display = [
        "priority",
        "name",
        "action",
        "ministry",
        "active",
        "valid_from",
        "valid_until",
    ]
    list_display_links = ["name"]
    list_filter = ["active", "action", "ministry"]

    def has_delete_permission(self, request, obj=None) -> bool:
        # Past decisions cite rules by version: retire a rule by unticking "active".
        return False

    search_fields = ["name", "message"]
    fieldsets = [
        (None, {"fields": ["name", "priority", "active", "valid_from", "valid_until"]}),
        ("Outcome", {"fields": ["action", "ministry", "message"]}),
        (
            "Conditions (all that are set must hold)",
            {
                "fields": [
                    "destination_list",
                    "regime",
                    "control_code_prefix",
                    "technology_generation",
                    "us_origin_content",
                    "military_end_use",
                    "license_type",
                    "min_total_value",
                ]
            },
        ),
    ]


class EscalationStepInline(admin.TabularInline):
    model = EscalationStep
    extra = 1


@admin.register(DeadlinePolicy)
class DeadlinePolicyAdmin(SimpleHistoryAdmin):
    list_display = ["ministry", "review_days", "reminder_days_before", "ladder"]
    inlines = [EscalationStepInline]

    @admin.display(description="escalation ladder")
    def ladder(self, obj: DeadlinePolicy) -> str:
        return "; ".join(str(step) for step in obj.steps.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("steps")


@admin.register(EscalationStep)
class EscalationStepAdmin(SimpleHistoryAdmin):
    list_display = ["policy", "days_after_due", "action"]
    list_filter = ["policy"]


@admin.register(NonWorkingDay)
class NonWorkingDayAdmin(SimpleHistoryAdmin):
    list_display = ["date", "reason"]
    date_hierarchy = "date"


@admin.register(LicenseValidity)
class LicenseValidityAdmin(SimpleHistoryAdmin):
    list_display = ["license_type", "years", "value_tolerance"]


class GoodInline(ReadOnlyInline):
    model = Good
    fields = [
        "description",
        "control_list_entry",
        "quantity",
        "unit_value",
        "currency",
        "technology_generation",
        "us_origin_content",
    ]


class ReviewInline(ReadOnlyInline):
    model = Review
    fields = [
        "ministry",
        "status",
        "assigned_to",
        "due_date",
        "escalation_level",
        "recommendation",
        "deemed",
    ]


class RoutingInline(ReadOnlyInline):
    model = RoutingDecision
    fields = ["rule_name", "rule_history_id", "action", "ministry", "explanation"]


class OtherPartyInline(ReadOnlyInline):
    model = OtherParty
    fields = ["kind", "name", "address", "country", "type"]


class ScreeningMatchInline(ReadOnlyInline):
    model = ScreeningMatch
    fields = [
        "party_kind",
        "party_name",
        "list_name",
        "entry_name",
        "match",
        "score",
        "status",
        "reason",
        "resolved_by",
    ]


@admin.register(Application)
class ApplicationAdmin(ReadOnlyAdmin):
    list_display = [
        "reference",
        "organisation",
        "license_type",
        "destination",
        "status",
        "submitted_at",
        "decided_at",
    ]
    list_filter = ["status", "license_type"]
    search_fields = ["reference", "organisation__name", "end_user_name"]
    list_select_related = ["organisation", "destination"]
    inlines = [GoodInline, OtherPartyInline, ReviewInline, RoutingInline, ScreeningMatchInline]


class LicenseGoodInline(ReadOnlyInline):
    model = LicenseGood
    fields = [
        "description",
        "control_list_entry",
        "quantity",
        "used_quantity",
        "value",
        "used_value",
        "currency",
    ]


class ShipmentInline(ReadOnlyInline):
    model = Shipment
    fields = ["reference", "shipped_on", "created_by", "created_at"]
    readonly_fields = fields


@admin.register(License)
class LicenseAdmin(ReadOnlyAdmin):
    list_display = [
        "number",
        "organisation",
        "license_type",
        "destination",
        "status",
        "valid_from",
        "valid_until",
    ]
    list_filter = ["status", "license_type"]
    search_fields = ["number", "organisation__name"]
    list_select_related = ["organisation", "destination"]
    inlines = [LicenseGoodInline, ShipmentInline]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "created_at",
        "application",
        "actor_name",
        "action",
        "from_state",
        "to_state",
    ]
    list_filter = ["action", "actor_name"]
    search_fields = ["application__reference", "actor_name", "action", "reason"]
    list_select_related = ["application"]
    date_hierarchy = "created_at"


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "recipient", "event", "subject", "delivery_status", "sent_at"]
    list_filter = ["event", "delivery_status"]
    search_fields = ["subject", "key", "recipient__username"]
    list_select_related = ["recipient"]


# Screening lists: maintained here or loaded with `manage.py import_screening_list`.


@admin.register(ScreeningList)
class ScreeningListAdmin(admin.ModelAdmin):
    list_display = ["name", "source", "blocking", "entry_count", "updated_at"]
    search_fields = ["name"]
    readonly_fields = ["updated_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(entry_total=Count("entries"))

    @admin.display(description="entries", ordering="entry_total")
    def entry_count(self, screening_list: ScreeningList) -> int:
        return screening_list.entry_total


class ScreeningEntryForm(forms.ModelForm):
    aliases = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Other names, separated by ';'.",
    )

    class Meta:
        model = ScreeningEntry
        fields = ["list", "name", "aliases", "country", "remarks"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["aliases"] = "; ".join(self.instance.aliases)

    def clean_aliases(self) -> list[str]:
        return [a.strip()[:300] for a in self.cleaned_data["aliases"].split(";") if a.strip()]


@admin.register(ScreeningEntry)
class ScreeningEntryAdmin(admin.ModelAdmin):
    """Saving an entry indexes its names again and re-screens open cases and live
    licenses against its list (after commit, in the worker)."""

    form = ScreeningEntryForm
    list_display = ["name", "list", "country", "remarks"]
    list_filter = ["list"]
    search_fields = ["name", "remarks"]
    list_select_related = ["list", "country"]
    autocomplete_fields = ["country"]

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        screening_entry_indexed(obj)


@admin.register(ScreeningMatch)
class ScreeningMatchAdmin(ReadOnlyAdmin):
    list_display = [
        "application",
        "party_kind",
        "party_name",
        "list_name",
        "entry_name",
        "match",
        "score",
        "status",
    ]
    list_filter = ["status", "match", "list_name"]
    search_fields = ["party_name", "entry_name", "application__reference"]
    list_select_related = ["application"]
