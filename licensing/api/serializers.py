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

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Ministry, User
from licensing import policies, rulebook
from licensing.api.inputs import MONEY
from licensing.models import (
    Appeal,
    Application,
    AuditEvent,
    ControlListEntry,
    Country,
    Decision,
    Document,
    EndUserType,
    GoodOutcome,
    InformationRequest,
    License,
    LicenseGood,
    Notification,
    OtherParty,
    PartyKind,
    Recommendation,
    Review,
    RoutingDecision,
    ScreenedPartyKind,
    ScreeningMatch,
    Shipment,
    ShipmentLine,
    TechnologyGeneration,
)
from licensing.models.applications import APPEALABLE_STATES, total_value
from licensing.selectors import refusal_criteria


def _one_to_one(application: Application, name: str, missing: type[Exception]):
    """The application's licence or appeal, or None: from the relation (`select_related`
    read it with the row), except for a case a service has just written, which has
    neither (`written`, `licensing.services.applications`)."""
    if getattr(application, "written", None) is not None:
        return None
    try:
        return getattr(application, name)
    except missing:
        return None


class AudienceField(serializers.ChoiceField):
    """A constant naming the audience a representation was shaped for."""

    def __init__(self, audience: str) -> None:
        self.audience = audience
        super().__init__(choices=[audience], read_only=True, source="*")

    def to_representation(self, value) -> str:
        return self.audience


def _caller(serializer: serializers.Serializer) -> User:
    return serializer.context["request"].user


class CountrySerializer(serializers.ModelSerializer):
    class Meta:
        model = Country
        fields = ["code", "name"]


class ControlListEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = ControlListEntry
        fields = ["code", "regime", "description"]


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


class CriterionSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()


class OtherPartySerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=PartyKind.choices)
    country = serializers.CharField(source="country_id", help_text="ISO 3166-1 alpha-2.")
    type = serializers.ChoiceField(choices=EndUserType.choices)

    class Meta:
        model = OtherParty
        fields = ["kind", "name", "address", "country", "type"]


class ScreeningMatchSummarySerializer(serializers.ModelSerializer):
    """A match as the staff's application shows it."""

    party_kind = serializers.ChoiceField(choices=ScreenedPartyKind.choices)
    list = serializers.CharField(source="list_name", help_text="The screening list's name.")

    class Meta:
        model = ScreeningMatch
        fields = [
            "id",
            "party_name",
            "party_kind",
            "list",
            "entry_name",
            "matched_name",
            "match",
            "score",
            "status",
            "reason",
            "found_at",
            "resolved_at",
        ]


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
    outcome = serializers.ChoiceField(
        choices=GoodOutcome.choices, allow_blank=True, help_text="Blank until decided."
    )
    refusal_criteria = serializers.SerializerMethodField(
        help_text="The refusal criteria a refused good's refusal cites."
    )

    @extend_schema_field(CriterionSerializer(many=True))
    def get_refusal_criteria(self, good) -> list[dict]:
        if not good.refusal_criteria:
            return []
        known = refusal_criteria()
        return [
            {"code": code, "title": known[code].title if code in known else ""}
            for code in good.refusal_criteria
        ]


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


WITHHELD = (
    "Null until the application is decided (`decided_at` set): an exporter never learns "
    "a ministry's view before the decision."
)


class ExporterReviewSerializer(serializers.ModelSerializer):
    recommendation = serializers.ChoiceField(
        choices=Recommendation.choices,
        allow_blank=True,
        allow_null=True,
        help_text=f"Blank until completed. {WITHHELD}",
    )
    deemed = serializers.BooleanField(
        allow_null=True,
        help_text="The recommendation was deemed (no objection: the deadline passed in "
        f"silence). {WITHHELD}",
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


class GoodRecommendationOutSerializer(serializers.Serializer):
    good = serializers.IntegerField()
    recommendation = serializers.ChoiceField(choices=Recommendation.choices)
    conditions = serializers.CharField(allow_blank=True)
    criteria = serializers.ListField(child=serializers.CharField())


class StaffReviewSerializer(serializers.ModelSerializer):
    assigned_to = UserSummarySerializer(allow_null=True)
    criteria = serializers.ListField(
        child=serializers.CharField(), help_text="Refusal criteria an overall deny cites."
    )
    goods = GoodRecommendationOutSerializer(
        source="goods_recommendations",
        many=True,
        help_text="Per good, when the review decided goods apart; else empty.",
    )

    class Meta:
        model = Review
        fields = [
            *ExporterReviewSerializer.Meta.fields,
            "received_on",
            "assigned_to",
            "reason",
            "conditions",
            "criteria",
            "goods",
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


class AppealSerializer(serializers.ModelSerializer):
    class Meta:
        model = Appeal
        fields = ["grounds", "lodged_at", "due_date", "outcome", "decided_at", "reason"]


class _ApplicationSerializer(serializers.ModelSerializer):
    """What every audience sees; subclasses add the reviews in their own shape."""

    organisation = serializers.CharField(source="organisation.name")
    destination = serializers.CharField(source="destination_id", help_text="ISO 3166-1 alpha-2.")
    end_user = serializers.SerializerMethodField()
    consignee = serializers.SerializerMethodField()
    marketing_license = serializers.CharField(
        source="marketing_license.number", allow_null=True, default=None
    )
    goods = GoodSerializer(many=True, source="goods_list")
    other_parties = OtherPartySerializer(many=True, source="other_parties_list")
    total_value = serializers.SerializerMethodField()
    routing = RoutingSerializer(many=True, source="routing_list")
    license = serializers.SerializerMethodField()
    decision = serializers.ChoiceField(
        choices=Decision.choices,
        allow_blank=True,
        help_text="Blank until decided; `partial`: some goods approved, the rest refused.",
    )
    amendment_of = serializers.IntegerField(
        source="amendment_of_id", allow_null=True, help_text="The application this amends."
    )
    superseded_by = serializers.IntegerField(
        source="superseded_by_id",
        allow_null=True,
        help_text="The amendment that superseded this application.",
    )
    pending_amendment = serializers.IntegerField(
        source="pending_amendment_id",
        allow_null=True,
        help_text="The amendment of this application being drafted.",
    )
    amends_license = serializers.CharField(
        source="amends_license.number",
        allow_null=True,
        default=None,
        help_text="The number of the licence this application amends.",
    )
    appeal = serializers.SerializerMethodField()
    appeal_closes_on = serializers.SerializerMethodField(
        help_text="The last day to appeal a refusal (whole or in part); null otherwise."
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
            "other_parties",
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
            "amendment_of",
            "superseded_by",
            "pending_amendment",
            "amends_license",
            "appeal",
            "appeal_closes_on",
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
        return f"{total_value(application.goods_list):.2f}"

    @extend_schema_field(LicenseSummarySerializer(allow_null=True))
    def get_license(self, application: Application) -> dict | None:
        license = _one_to_one(application, "license", License.DoesNotExist)
        return LicenseSummarySerializer(license).data if license is not None else None

    @extend_schema_field(AppealSerializer(allow_null=True))
    def get_appeal(self, application: Application) -> dict | None:
        appeal = _one_to_one(application, "appeal", Appeal.DoesNotExist)
        return AppealSerializer(appeal).data if appeal is not None else None

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_appeal_closes_on(self, application: Application) -> str | None:
        if application.status not in APPEALABLE_STATES or application.appealed_at:
            return None
        closes = application.appeal_closes_on
        return closes.isoformat() if closes else None

    @extend_schema_field(
        serializers.ListField(child=serializers.ChoiceField(rulebook.endpoint_names(Application)))
    )
    def get_available_transitions(self, application: Application) -> list[str]:
        return rulebook.available(application, _caller(self))


class ExporterRoutingSerializer(serializers.ModelSerializer):
    """Which ministries review the case: never the rule, its number, version or the
    explanation (which names country lists), DESIGN §10."""

    ministry = serializers.ChoiceField(
        choices=Ministry.choices, allow_blank=True, help_text="Blank for a refusing rule."
    )

    class Meta:
        model = RoutingDecision
        fields = ["ministry", "action"]


class ExporterApplicationSerializer(_ApplicationSerializer):
    """The organisation's own view. Before the decision it carries no ministry's view
    (`policies.sees_recommendations`): each review's `recommendation` and `deemed` are
    null, each good's `outcome` blank and its `refusal_criteria` empty, as the case page
    shows it."""

    audience = AudienceField("exporter")
    reviews = ExporterReviewSerializer(many=True, source="reviews_list")
    information_requests = ExporterQuestionSerializer(many=True, source="information_requests_list")
    routing = ExporterRoutingSerializer(many=True, source="routing_list")

    def to_representation(self, application: Application) -> dict:
        data = super().to_representation(application)
        if not policies.sees_recommendations(application, _caller(self)):
            for review in data["reviews"]:
                review["recommendation"] = None
                review["deemed"] = None
            for good in data["goods"]:
                good["outcome"] = ""
                good["refusal_criteria"] = []
        return data


class StaffApplicationSerializer(_ApplicationSerializer):
    audience = AudienceField("staff")
    reviews = StaffReviewSerializer(many=True, source="reviews_list")
    information_requests = StaffQuestionSerializer(many=True, source="information_requests_list")
    screening_matches = ScreeningMatchSummarySerializer(
        many=True,
        source="screening_matches_list",
        help_text="Parties resembling entries of the screening lists; open ones hold approval.",
    )

    class Meta(_ApplicationSerializer.Meta):
        fields = [*_ApplicationSerializer.Meta.fields, "screening_matches"]
        read_only_fields = fields


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

    @extend_schema_field(
        serializers.ListField(child=serializers.ChoiceField(rulebook.endpoint_names(Review)))
    )
    def get_available_transitions(self, review: Review) -> list[str]:
        return rulebook.available(review, _caller(self))


class ScreeningMatchSerializer(ScreeningMatchSummarySerializer):
    """A match on its own (ministry staff, the committee and administrators only)."""

    application = ApplicationSummarySerializer()
    party_country = serializers.CharField(source="party_country_id", allow_null=True)
    resolved_by = UserSummarySerializer(allow_null=True)
    available_transitions = serializers.SerializerMethodField()

    class Meta(ScreeningMatchSummarySerializer.Meta):
        fields = [
            *ScreeningMatchSummarySerializer.Meta.fields,
            "party_country",
            "application",
            "resolved_by",
            "available_transitions",
        ]

    @extend_schema_field(
        serializers.ListField(
            child=serializers.ChoiceField(rulebook.endpoint_names(ScreeningMatch))
        )
    )
    def get_available_transitions(self, match: ScreeningMatch) -> list[str]:
        return rulebook.available(match, _caller(self))


# Licenses

TOTAL = {"max_digits": 30, "decimal_places": 2}


class LicenseGoodSerializer(serializers.ModelSerializer):
    good = serializers.IntegerField(source="good_id", help_text="The application good's id.")
    control_list_entry = serializers.CharField(source="control_list_entry.code")
    value = serializers.DecimalField(**TOTAL, help_text="Licensed: quantity times unit value.")
    used_value = serializers.DecimalField(**TOTAL)
    remaining_quantity = serializers.IntegerField()
    remaining_value = serializers.DecimalField(**TOTAL)

    class Meta:
        model = LicenseGood
        fields = [
            "id",
            "good",
            "description",
            "control_list_entry",
            "quantity",
            "value",
            "currency",
            "used_quantity",
            "used_value",
            "remaining_quantity",
            "remaining_value",
        ]


def verification_url(license: License) -> str:
    """Where anyone holding the licence document checks it (absolute, from SITE_URL)."""
    path = reverse("license-verify", args=[license.verification_code])
    return settings.SITE_URL.rstrip("/") + path


class LicenseSerializer(serializers.ModelSerializer):
    application = ApplicationSummarySerializer()
    replaces = serializers.CharField(
        source="replaces.number",
        allow_null=True,
        default=None,
        help_text="The number of the licence this one replaced (an amended licence).",
    )
    pending_amendment = serializers.IntegerField(
        source="pending_amendment_id",
        allow_null=True,
        help_text="The amending application being drafted.",
    )
    organisation = serializers.CharField(source="organisation.name")
    destination = serializers.CharField(source="destination_id")
    goods = LicenseGoodSerializer(many=True)
    verification_url = serializers.SerializerMethodField(
        help_text="The public page that says whether the licence is valid today."
    )
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
            "goods",
            "verification_url",
            "replaces",
            "pending_amendment",
            "available_transitions",
        ]

    def get_verification_url(self, license: License) -> str:
        return verification_url(license)

    @extend_schema_field(
        serializers.ListField(child=serializers.ChoiceField(rulebook.endpoint_names(License)))
    )
    def get_available_transitions(self, license: License) -> list[str]:
        return rulebook.available(license, _caller(self))


class ShipmentLineSerializer(serializers.ModelSerializer):
    license_good = serializers.IntegerField(source="license_good_id")
    value = serializers.DecimalField(**MONEY)

    class Meta:
        model = ShipmentLine
        fields = ["license_good", "quantity", "value"]


class ShipmentSerializer(serializers.ModelSerializer):
    lines = ShipmentLineSerializer(many=True)

    class Meta:
        model = Shipment
        fields = ["id", "reference", "shipped_on", "lines", "created_at"]


class RecordedShipmentSerializer(ShipmentSerializer):
    """A shipment just recorded (or replayed), with the licence's goods as they now stand."""

    license = LicenseSerializer()

    class Meta(ShipmentSerializer.Meta):
        fields = [*ShipmentSerializer.Meta.fields, "license"]


# Documents, events, notifications


class DocumentSerializer(serializers.ModelSerializer):
    filename = serializers.CharField(
        source="display_name",
        help_text="The uploaded name, with the extension of the type found in its content.",
    )
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
    code = serializers.CharField(
        required=False,
        help_text="Why, when the state alone does not say: `exceeds_remaining`, "
        "`too_many_documents`, ...",
    )
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Messages by field (`lines[0].quantity`), each naming its line and field.",
    )
    amendment = serializers.IntegerField(
        required=False, help_text="With `amendment_exists`: the id of the amendment drafted."
    )


class ChangeSerializer(serializers.Serializer):
    """One change an amendment made: a field of the application, or of its good at a
    position (1 for the first), or a good added or removed."""

    field = serializers.CharField(required=False, help_text="`destination`, `end_user.name`...")
    good = serializers.IntegerField(required=False, help_text="The good's position, from 1.")
    change = serializers.ChoiceField(choices=["added", "removed"], required=False)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.JSONField(required=False)
        fields["to"] = serializers.JSONField(required=False)
        return fields
