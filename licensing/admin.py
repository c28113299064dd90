"""The Django admin: rules with their change history, and a read-only audit trail.

Status fields are FSM-protected and shown read-only: every transition goes
through a service, never through an admin form. Every change to a rule asks
why; the reason is kept in the rule's history, and the change is an audit
event (`rule_added`, `rule_changed`, `rule_deleted`). Closure days go through
`licensing.services.deadlines`: adding one lists and moves the due dates it
falls within (audited as `closure_day_added`).
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import construct_change_message
from django.contrib.admin.widgets import AdminDateWidget
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Count
from simple_history.admin import SimpleHistoryAdmin

from licensing.audit import audit_record
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
    OtherParty,
    RefusalCriterion,
    Review,
    RoutingDecision,
    RoutingRule,
    ScreeningEntry,
    ScreeningList,
    ScreeningMatch,
    Shipment,
)
from licensing.services.deadlines import (
    closure_day_add,
    closure_day_moves,
    closure_day_remove,
    closure_day_warnings,
    weekday_date,
)
from licensing.services.screening import (
    screening_entry_indexed,
    screening_lists_touched,
)
from licensing.web.timeline import ACTION_NAMES, action_label, describe_event

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
    select_related: tuple[str, ...] = ()
    """Relations its read-only fields show: read with the rows, not one query per row."""

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.select_related)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class RuleChangeForm(forms.ModelForm):
    change_reason = forms.CharField(
        label="Reason for this change",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required: kept in the history and the audit trail, so a decision made "
        "under the old rule can be explained.",
    )

    @property
    def changed_data(self) -> list[str]:
        """The rule's fields that changed (the reason is why, not what)."""
        return [name for name in super().changed_data if name != "change_reason"]


class AuditedRuleAdmin(SimpleHistoryAdmin):
    """A rule: every change asks why, keeps the reason in its history, and is audited."""

    form = RuleChangeForm

    def save_model(self, request, obj, form, change) -> None:
        obj._change_reason = form.cleaned_data["change_reason"]
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        changes = construct_change_message(form, formsets, not change)
        self._audit(
            request,
            form.instance,
            "rule_changed" if change else "rule_added",
            form.cleaned_data["change_reason"],
            changes=json.loads(json.dumps(changes, cls=DjangoJSONEncoder)),
        )

    def delete_model(self, request, obj) -> None:
        with transaction.atomic():
            self._audit(request, obj, "rule_deleted", "")
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        with transaction.atomic():
            for obj in queryset:
                self._audit(request, obj, "rule_deleted", "")
            super().delete_queryset(request, queryset)

    def _audit(self, request, obj, action: str, reason: str, **data: Any) -> None:
        audit_record(
            application=None,
            actor=request.user,
            action=action,
            reason=reason,
            data={
                "model": obj._meta.label,
                "object_id": obj.pk,
                "object": str(obj),
                **data,
            },
        )


@admin.register(Country)
class CountryAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(CountryList)
class CountryListAdmin(AuditedRuleAdmin):
    list_display = ["slug", "name", "country_codes"]
    filter_horizontal = ["countries"]
    prepopulated_fields = {"slug": ["name"]}

    @admin.display(description="countries")
    def country_codes(self, obj: CountryList) -> str:
        return ", ".join(c.code for c in obj.countries.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("countries")


@admin.register(ControlListEntry)
class ControlListEntryAdmin(AuditedRuleAdmin):
    list_display = ["code", "regime", "description"]
    list_filter = ["regime"]
    search_fields = ["code", "description"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(AuditedRuleAdmin):
    list_display = [
        "priority",
        "name",
        "action",
        "ministry",
        "active",
        "valid_from",
        "valid_until",
    ]
    date_hint = "Type as 2026-12-03 or 03/12/2026 (day first)."

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name in ("valid_from", "valid_until"):
            field.help_text = self.date_hint
        return field

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
        ("Why", {"fields": ["change_reason"]}),
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
class AppealPolicyAdmin(AuditedRuleAdmin):
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
class DeadlinePolicyAdmin(AuditedRuleAdmin):
    list_display = ["ministry", "review_days", "reminder_days_before", "ladder"]
    inlines = [EscalationStepInline]

    @admin.display(description="escalation ladder")
    def ladder(self, obj: DeadlinePolicy) -> str:
        return "; ".join(str(step) for step in obj.steps.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("steps")


@admin.register(EscalationStep)
class EscalationStepAdmin(AuditedRuleAdmin):
    list_display = ["policy", "days_after_due", "action"]
    list_filter = ["policy"]


class NonWorkingDayForm(forms.ModelForm):
    date = forms.DateField(
        widget=AdminDateWidget,
        help_text="Type as 2026-12-03 or 03/12/2026 (day first).",
    )
    confirm = forms.BooleanField(
        required=False,
        label="Add it anyway",
        help_text="Tick after reading the warnings and the due dates it moves, listed above.",
    )

    class Meta:
        model = NonWorkingDay
        fields = ["date", "reason", "confirm"]

    def clean(self) -> dict:
        data = super().clean()
        day = data.get("date")
        self.moves = []
        if day is None or self.instance.pk:
            return data
        warnings = closure_day_warnings(day)
        self.moves = closure_day_moves(day)
        if (warnings or self.moves) and not data.get("confirm"):
            notes = list(warnings)
            if self.moves:
                notes.append(
                    f"Closing {weekday_date(day)} moves the due dates of open reviews one "
                    f"working day later: {_listed(self.moves)}"
                )
            notes.append('Tick "Add it anyway" to add it.')
            raise forms.ValidationError(notes)
        return data


MOVES_LISTED = 50


def _listed(moves: list) -> str:
    """`n reviews: A; B; ... and k more.`, the first MOVES_LISTED by name."""
    shown = "; ".join(str(move) for move in moves[:MOVES_LISTED])
    more = len(moves) - MOVES_LISTED
    count = f"{len(moves)} review{'s' if len(moves) != 1 else ''}"
    return f"{count}: {shown}{f'; and {more} more' if more > 0 else ''}."


@admin.register(NonWorkingDay)
class NonWorkingDayAdmin(SimpleHistoryAdmin):
    """Closure days: dates typed ISO or day first, shown with the weekday; adding one warns
    about past and non-working days, lists the due dates it moves, and moves them."""

    form = NonWorkingDayForm
    list_display = ["day", "reason"]
    date_hierarchy = "date"
    ordering = ["-date"]

    @admin.display(description="date", ordering="date")
    def day(self, obj: NonWorkingDay) -> str:
        return weekday_date(obj.date)

    def get_fields(self, request, obj=None):
        return ["day", "reason"] if obj else ["date", "reason", "confirm"]

    def get_readonly_fields(self, request, obj=None):
        # A day is added or removed, never moved: moving it would move due dates twice.
        return ["day"] if obj else []

    def get_form(self, request, obj=None, **kwargs):
        if obj is not None:  # only its reason changes: no date to type, nothing to confirm
            kwargs["form"] = forms.ModelForm
        return super().get_form(request, obj, **kwargs)

    def save_model(self, request, obj, form, change) -> None:
        if change:
            with transaction.atomic():
                super().save_model(request, obj, form, change)
                audit_record(
                    application=None,
                    actor=request.user,
                    action="closure_day_changed",
                    reason=obj.reason,
                    data={"date": obj.date.isoformat()},
                )
            return
        closure, moves = closure_day_add(day=obj.date, reason=obj.reason, user=request.user)
        obj.pk = closure.pk
        obj._state.adding = False
        if moves:
            messages.info(request, f"Due dates moved one working day later: {_listed(moves)}")
        else:
            messages.info(request, "No open review's due date falls on or after it: none moved.")

    def delete_model(self, request, obj) -> None:
        closure_day_remove(closure=obj, user=request.user)

    def delete_queryset(self, request, queryset) -> None:
        with transaction.atomic():
            for closure in queryset:
                closure_day_remove(closure=closure, user=request.user)


@admin.register(LicenseValidity)
class LicenseValidityAdmin(AuditedRuleAdmin):
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
    select_related = ("country",)
    fields = ["kind", "name", "address", "country", "type"]


class ScreeningMatchInline(ReadOnlyInline):
    model = ScreeningMatch
    select_related = ("resolved_by",)
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
    select_related = ("control_list_entry",)
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
    select_related = ("created_by",)
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


class AuditActionFilter(admin.SimpleListFilter):
    """The audit actions by their readable names (the trail itself keeps the codes)."""

    title = "action"
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return sorted(ACTION_NAMES.items(), key=lambda item: item[1])

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "created_at",
        "application",
        "actor_name",
        "action_name",
        "what",
        "from_state",
        "to_state",
    ]
    list_filter = [AuditActionFilter, "actor_name"]
    search_fields = ["application__reference", "actor_name", "action", "reason"]
    list_select_related = ["application"]
    date_hierarchy = "created_at"

    @admin.display(description="action", ordering="action")
    def action_name(self, obj: AuditEvent) -> str:
        return action_label(obj.action)

    @admin.display(description="what happened")
    def what(self, obj: AuditEvent) -> str:
        moved = (obj.data or {}).get("moved")
        if obj.action == "closure_day_added":
            return f"Closed {obj.data.get('date')}; {len(moved or [])} due dates moved"
        if obj.action.startswith("rule_"):
            return (
                f"{obj.data.get('object', '')}: {obj.reason}"
                if obj.reason
                else obj.data.get("object", "")
            )
        return describe_event(obj)


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

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        screening_lists_touched([obj.list_id])

    def delete_queryset(self, request, queryset) -> None:
        list_ids = set(queryset.values_list("list_id", flat=True))
        super().delete_queryset(request, queryset)
        screening_lists_touched(list_ids)


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
