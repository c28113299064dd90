"""API shapes. Input serializers validate; output serializers are split by audience.

Audiences:
- **exporter**: the organisation's own view. Reviews show only what the
  contract lists (ministry, status, due date, recommendation, deemed,
  escalation level); never who holds a review, the reviewer's reasons,
  or their conditions (conditions reach the exporter on the license).
- **staff**: ministry staff, the committee and administrators, who also see
  assignments, reasons, conditions and who asked what.
Each output carries `audience`, so a client (and the schema's `oneOf`) can
tell which view it received.
"""

from __future__ import annotations

from decimal import Decimal

import pycountry
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Ministry, Role, User
from licensing.models import (
    Application,
    AuditEvent,
    ControlListEntry,
    Country,
    Decision,
    Document,
    DocumentKind,
    EndUserType,
    InformationRequest,
    License,
    LicenseType,
    Notification,
    Recommendation,
    Review,
    RoutingDecision,
    TechnologyGeneration,
)
from licensing.models.applications import total_value
from licensing.transitions import application_actions, license_actions, review_actions

CURRENCIES = sorted(c.alpha_3 for c in pycountry.currencies)
MAX_QUANTITY = 2_147_483_647
MAX_GOODS = 200
# 15 significant digits: exact on PostgreSQL and on SQLite, which keeps decimals as doubles.
MONEY = {"max_digits": 15, "decimal_places": 2}
# Names of the user-facing transition endpoints, for the schema's enums.
APPLICATION_ACTIONS = ["submit", "respond", "withdraw", "decide"]
REVIEW_ACTIONS = ["claim", "recommend", "request-information", "reassign"]
LICENSE_ACTIONS = ["suspend", "reinstate", "revoke"]


class AudienceField(serializers.ChoiceField):
    """A constant naming the audience a representation was shaped for."""

    def __init__(self, audience: str) -> None:
        self.audience = audience
        super().__init__(choices=[audience], read_only=True, source="*")

    def to_representation(self, value) -> str:
        return self.audience


class CodeField(serializers.SlugRelatedField):
    """A reference by code; a code no database could hold (NUL) is simply not found."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return super().to_internal_value(data)


def _caller(serializer: serializers.Serializer) -> User:
    return serializer.context["request"].user


# Reference data


class CountrySerializer(serializers.ModelSerializer):
    class Meta:
        model = Country
        fields = ["code", "name"]


class ControlListEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = ControlListEntry
        fields = ["code", "regime", "description"]


# Applications: input


class PartyInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    address = serializers.CharField(max_length=1000)
    country = CodeField(slug_field="code", queryset=Country.objects.all())
    type = serializers.ChoiceField(choices=EndUserType.choices)


class GoodInputSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=500)
    control_list_entry = CodeField(
        slug_field="code",
        queryset=ControlListEntry.objects.all(),
        help_text="The control list code, such as ML10 or 6A003.",
    )
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    unit_value = serializers.DecimalField(**MONEY, min_value=Decimal("0"))
    currency = serializers.ChoiceField(
        choices=CURRENCIES,
        required=False,
        help_text="ISO 4217; defaults to the application's currency, and must equal it.",
    )
    technology_generation = serializers.ChoiceField(
        choices=TechnologyGeneration.choices, default=TechnologyGeneration.CURRENT
    )
    us_origin_content = serializers.BooleanField(default=False)


class ApplicationInputSerializer(serializers.Serializer):
    """A draft with its goods. On PATCH, any part given replaces that part; goods wholesale."""

    license_type = serializers.ChoiceField(choices=LicenseType.choices)
    destination = CodeField(
        slug_field="code", queryset=Country.objects.all(), help_text="ISO 3166-1 alpha-2."
    )
    end_user = PartyInputSerializer(required=False)
    consignee = PartyInputSerializer(required=False, allow_null=True)
    end_use = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    military_end_use = serializers.BooleanField(required=False)
    marketing_license = CodeField(
        slug_field="number",
        queryset=License.objects.none(),
        required=False,
        allow_null=True,
        help_text="The number of your organisation's marketing license (export of munitions).",
    )
    currency = serializers.ChoiceField(choices=CURRENCIES, required=False)
    goods = GoodInputSerializer(many=True, required=False, max_length=MAX_GOODS)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Only the caller's own licenses resolve: another company's number is "not found".
        request = self.context.get("request")
        organisation_id = getattr(request.user, "organisation_id", None) if request else None
        self.fields["marketing_license"].queryset = License.objects.filter(
            organisation_id=organisation_id
        )

    def service_arguments(self) -> tuple[dict, list[dict] | None]:
        """The `fields` and `goods` the draft services take."""
        data = dict(self.validated_data)
        goods = data.pop("goods", None)
        fields: dict = {}
        for party in ("end_user", "consignee"):
            if party not in data:
                continue
            value = data.pop(party) or {"name": "", "address": "", "country": None, "type": ""}
            for part in ("name", "address", "country", "type"):
                if part in value:
                    fields[f"{party}_{part}"] = value[part]
        fields.update(data)
        return fields, goods


class AnswerSerializer(serializers.Serializer):
    answer = serializers.CharField(max_length=5000)


class DecideSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    reason = serializers.CharField(max_length=5000)


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000, required=False, allow_blank=True)


# Applications: output, shared parts


class PartySerializer(serializers.Serializer):
    name = serializers.CharField()
    address = serializers.CharField()
    country = serializers.CharField(allow_null=True, help_text="ISO 3166-1 alpha-2.")
    type = serializers.ChoiceField(choices=EndUserType.choices, allow_blank=True)


def _party(application: Application, party: str) -> dict:
    return {
        "name": getattr(application, f"{party}_name"),
        "address": getattr(application, f"{party}_address"),
        "country": getattr(application, f"{party}_country_id"),
        "type": getattr(application, f"{party}_type"),
    }


class GoodSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    description = serializers.CharField()
    control_list_entry = serializers.CharField(source="control_list_entry.code")
    regime = serializers.CharField(source="control_list_entry.regime")
    quantity = serializers.IntegerField()
    unit_value = serializers.DecimalField(**MONEY)
    currency = serializers.CharField()
    technology_generation = serializers.ChoiceField(choices=TechnologyGeneration.choices)
    us_origin_content = serializers.BooleanField()


class RoutingSerializer(serializers.ModelSerializer):
    ministry = serializers.ChoiceField(
        choices=Ministry.choices, allow_blank=True, help_text="Blank for a refusing rule."
    )
    rule_id = serializers.IntegerField(allow_null=True)
    version = serializers.IntegerField(
        source="rule_version",
        allow_null=True,
        help_text="The rule's version that applied: 1 as created, 2 after its first edit, ...",
    )
    history_id = serializers.IntegerField(
        source="rule_history_id",
        allow_null=True,
        help_text="That version's record in the rule's change history.",
    )

    class Meta:
        model = RoutingDecision
        fields = [
            "rule_name",
            "rule_id",
            "version",
            "history_id",
            "action",
            "ministry",
            "explanation",
        ]


class LicenseSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = License
        fields = ["id", "number", "status", "valid_from", "valid_until", "conditions"]


class UserSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


class ExporterReviewSerializer(serializers.ModelSerializer):
    recommendation = serializers.ChoiceField(
        choices=Recommendation.choices, allow_blank=True, help_text="Blank until completed."
    )

    class Meta:
        model = Review
        fields = [
            "id",
            "ministry",
            "status",
            "due_date",
            "recommendation",
            "deemed",
            "escalation_level",
        ]


class StaffReviewSerializer(serializers.ModelSerializer):
    assigned_to = UserSummarySerializer(allow_null=True)

    class Meta:
        model = Review
        fields = [
            *ExporterReviewSerializer.Meta.fields,
            "received_on",
            "assigned_to",
            "reason",
            "conditions",
            "completed_at",
        ]


class ExporterQuestionSerializer(serializers.ModelSerializer):
    ministry = serializers.ChoiceField(source="review.ministry", choices=Ministry.choices)

    class Meta:
        model = InformationRequest
        fields = ["id", "ministry", "question", "asked_at", "answer", "answered_at"]


class StaffQuestionSerializer(ExporterQuestionSerializer):
    asked_by = UserSummarySerializer()
    answered_by = UserSummarySerializer(allow_null=True)

    class Meta(ExporterQuestionSerializer.Meta):
        fields = [*ExporterQuestionSerializer.Meta.fields, "asked_by", "answered_by"]


class _ApplicationSerializer(serializers.ModelSerializer):
    """What every audience sees; subclasses add the reviews in their own shape."""

    organisation = serializers.CharField(source="organisation.name")
    destination = serializers.CharField(source="destination_id", help_text="ISO 3166-1 alpha-2.")
    end_user = serializers.SerializerMethodField()
    consignee = serializers.SerializerMethodField()
    marketing_license = serializers.CharField(
        source="marketing_license.number", allow_null=True, default=None
    )
    goods = GoodSerializer(many=True)
    total_value = serializers.SerializerMethodField()
    routing = RoutingSerializer(many=True)
    license = serializers.SerializerMethodField()
    decision = serializers.ChoiceField(
        choices=Decision.choices, allow_blank=True, help_text="Blank until decided."
    )
    available_transitions = serializers.SerializerMethodField()

    class Meta:
        model = Application
        fields = [
            "audience",
            "id",
            "reference",
            "status",
            "organisation",
            "license_type",
            "destination",
            "end_user",
            "consignee",
            "end_use",
            "military_end_use",
            "marketing_license",
            "goods",
            "total_value",
            "currency",
            "reviews",
            "information_requests",
            "routing",
            "license",
            "decision",
            "decision_reason",
            "created_at",
            "updated_at",
            "submitted_at",
            "decided_at",
            "available_transitions",
        ]
        read_only_fields = fields

    @extend_schema_field(PartySerializer)
    def get_end_user(self, application: Application) -> dict:
        return _party(application, "end_user")

    @extend_schema_field(PartySerializer(allow_null=True))
    def get_consignee(self, application: Application) -> dict | None:
        return _party(application, "consignee") if application.has_consignee else None

    @extend_schema_field(serializers.DecimalField(max_digits=30, decimal_places=2))
    def get_total_value(self, application: Application) -> str:
        return f"{total_value(application.goods.all()):.2f}"

    @extend_schema_field(LicenseSummarySerializer(allow_null=True))
    def get_license(self, application: Application) -> dict | None:
        try:
            license = application.license
        except License.DoesNotExist:
            return None
        return LicenseSummarySerializer(license).data

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(APPLICATION_ACTIONS)))
    def get_available_transitions(self, application: Application) -> list[str]:
        return application_actions(application=application, user=_caller(self))


class ExporterApplicationSerializer(_ApplicationSerializer):
    audience = AudienceField("exporter")
    reviews = ExporterReviewSerializer(many=True)
    information_requests = ExporterQuestionSerializer(many=True)


class StaffApplicationSerializer(_ApplicationSerializer):
    audience = AudienceField("staff")
    reviews = StaffReviewSerializer(many=True)
    information_requests = StaffQuestionSerializer(many=True)


# Reviews (ministry staff and administrators only)


class ApplicationSummarySerializer(serializers.ModelSerializer):
    destination = serializers.CharField(source="destination_id")

    class Meta:
        model = Application
        fields = ["id", "reference", "status", "license_type", "destination", "submitted_at"]


class QueueReviewSerializer(StaffReviewSerializer):
    application = ApplicationSummarySerializer()
    overdue = serializers.SerializerMethodField()
    available_transitions = serializers.SerializerMethodField()

    class Meta(StaffReviewSerializer.Meta):
        fields = [
            *StaffReviewSerializer.Meta.fields,
            "application",
            "overdue",
            "available_transitions",
        ]

    def get_overdue(self, review: Review) -> bool:
        return review.is_overdue(self.context["today"])

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(REVIEW_ACTIONS)))
    def get_available_transitions(self, review: Review) -> list[str]:
        return review_actions(review=review, user=_caller(self))


class RecommendSerializer(serializers.Serializer):
    recommendation = serializers.ChoiceField(choices=Recommendation.choices)
    reason = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    conditions = serializers.CharField(
        max_length=5000, required=False, allow_blank=True, default=""
    )


class QuestionSerializer(serializers.Serializer):
    question = serializers.CharField(max_length=5000)


class ReassignSerializer(serializers.Serializer):
    user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(),
        pk_field=serializers.IntegerField(min_value=1),
        help_text="The id of a reviewer or supervisor of the review's ministry.",
        error_messages={"does_not_exist": "No reviewer of this ministry has id {pk_value}."},
    )

    def __init__(self, *args, ministry: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Only colleagues resolve: anyone else is "no such reviewer", never a name.
        self.fields["user"].queryset = User.objects.filter(
            is_active=True, ministry=ministry, role__in=[Role.REVIEWER, Role.SUPERVISOR]
        )


# Licenses


class LicenseSerializer(serializers.ModelSerializer):
    application = ApplicationSummarySerializer()
    organisation = serializers.CharField(source="organisation.name")
    destination = serializers.CharField(source="destination_id")
    available_transitions = serializers.SerializerMethodField()

    class Meta:
        model = License
        fields = [
            "id",
            "number",
            "application",
            "organisation",
            "license_type",
            "destination",
            "valid_from",
            "valid_until",
            "conditions",
            "status",
            "status_reason",
            "issued_at",
            "available_transitions",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(LICENSE_ACTIONS)))
    def get_available_transitions(self, license: License) -> list[str]:
        return license_actions(license=license, user=_caller(self))


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000)


# Documents, events, notifications


class DocumentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="PDF, PNG or JPEG, judged by content; at most 10 MB.")
    kind = serializers.ChoiceField(choices=DocumentKind.choices)


class DocumentSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.CharField(source="uploaded_by.username")
    file_url = serializers.SerializerMethodField(help_text="Where to download the file.")

    class Meta:
        model = Document
        fields = [
            "id",
            "kind",
            "filename",
            "content_type",
            "size",
            "sha256",
            "uploaded_by",
            "uploaded_at",
            "file_url",
        ]

    def get_file_url(self, document: Document) -> str:
        return reverse(
            "application-document-file",
            kwargs={"pk": document.application_id, "document_id": document.pk},
        )


class ExporterEventSerializer(serializers.ModelSerializer):
    """The timeline without reviewers' reasons, data or names."""

    audience = AudienceField("exporter")

    class Meta:
        model = AuditEvent
        fields = ["audience", "id", "action", "from_state", "to_state", "created_at"]


class StaffEventSerializer(serializers.ModelSerializer):
    audience = AudienceField("staff")
    actor = serializers.CharField(source="actor_name")
    data = serializers.JSONField()

    class Meta:
        model = AuditEvent
        fields = [*ExporterEventSerializer.Meta.fields, "actor", "reason", "data", "hash"]


class NotificationSerializer(serializers.ModelSerializer):
    application = serializers.IntegerField(source="application_id", allow_null=True)

    class Meta:
        model = Notification
        fields = ["id", "event", "subject", "body", "application", "created_at", "read_at"]


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    current_state = serializers.CharField()
