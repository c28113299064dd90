"""The Django admin: rules with their change history, and a read-only audit trail.

Status fields are FSM-protected and shown read-only: every transition goes
through a service, never through an admin form.
"""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from licensing.models import (
    Appeal,
    AppealPolicy,
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
    RefusalCriterion,
    Review,
    RoutingDecision,
    RoutingRule,
    Shipment,
)

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


@admin.register(RefusalCriterion)
class RefusalCriterionAdmin(SimpleHistoryAdmin):
    list_display = ["code", "title", "active"]
    list_filter = ["active"]
    search_fields = ["code", "title", "description"]

    def has_delete_permission(self, request, obj=None) -> bool:
        # Refusals cite criteria by code: retire one by unticking "active".
        return False


@admin.register(AppealPolicy)
class AppealPolicyAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "decision_days", "notify_committee_after_days"]

    def has_add_permission(self, request, obj=None) -> bool:
        return not AppealPolicy.objects.exists()  # one policy, seeded

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Appeal)
class AppealAdmin(ReadOnlyAdmin):
    list_display = ["application", "lodged_at", "prior_status", "due_date", "outcome"]
    list_filter = ["outcome"]
    search_fields = ["application__reference", "grounds"]
    list_select_related = ["application"]


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
    inlines = [GoodInline, ReviewInline, RoutingInline]


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
