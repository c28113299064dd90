"""API input: what a client may send, validated before any service runs.

The action inputs (answer, decide, recommend, ...) are named by the registry of
actions (`licensing.actions`), which pairs each with its service; a serializer that
needs the object acted on (reassign: colleagues of the review's ministry)
finds it in `context["target"]`.
"""

from __future__ import annotations

from decimal import Decimal

import pycountry
from rest_framework import serializers

from accounts.models import User
from licensing.models import (
    ControlListEntry,
    Country,
    Decision,
    DocumentKind,
    EndUserType,
    License,
    LicenseType,
    MatchStatus,
    PartyKind,
    Recommendation,
    TechnologyGeneration,
)
from licensing.selectors import control_entries_by_code, countries_by_code, ministry_colleagues

CURRENCIES = sorted(c.alpha_3 for c in pycountry.currencies)
MAX_QUANTITY = 2_147_483_647
MAX_GOODS = 200
# 15 significant digits: exact on PostgreSQL and on SQLite, which keeps decimals as doubles.
MONEY = {"max_digits": 15, "decimal_places": 2}


class CodeField(serializers.SlugRelatedField):
    """A reference by code; a code no database could hold (NUL) is simply not found.

    With `lookup` (a mapping of code to object, from the reference cache), the
    code is resolved without a query: creating a draft with many goods costs
    no query per good.
    """

    def __init__(self, *args, lookup=None, **kwargs) -> None:
        self.lookup = lookup
        super().__init__(*args, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        if self.lookup is None:
            return super().to_internal_value(data)
        if not isinstance(data, str):
            self.fail("invalid")
        found = self.lookup().get(data)
        if found is None:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return found


class MoneyField(serializers.DecimalField):
    """A sum of money. "-0" passes `min_value=0` (it equals 0) but keeps its sign, and
    would be stored and shown as -0.00: it is 0."""

    def to_internal_value(self, data) -> Decimal:
        value = super().to_internal_value(data)
        return value.copy_abs() if value.is_zero() else value


# Applications: input


class PartyInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    address = serializers.CharField(max_length=1000)
    country = CodeField(slug_field="code", queryset=Country.objects.all(), lookup=countries_by_code)
    type = serializers.ChoiceField(choices=EndUserType.choices)


class OtherPartyInputSerializer(PartyInputSerializer):
    kind = serializers.ChoiceField(choices=PartyKind.choices)


MAX_OTHER_PARTIES = 50


class GoodInputSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=500)
    control_list_entry = CodeField(
        slug_field="code",
        queryset=ControlListEntry.objects.all(),
        lookup=control_entries_by_code,
        help_text="The control list code, such as ML10 or 6A003.",
    )
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    unit_value = MoneyField(**MONEY, min_value=Decimal("0"))
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
        slug_field="code",
        queryset=Country.objects.all(),
        lookup=countries_by_code,
        help_text="ISO 3166-1 alpha-2.",
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
    other_parties = OtherPartyInputSerializer(
        many=True,
        required=False,
        max_length=MAX_OTHER_PARTIES,
        help_text="Ultimate end users, intermediate consignees and third parties; on PATCH, "
        "the list given replaces the parties wholesale.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Only the caller's own licenses resolve: another company's number is "not found".
        request = self.context.get("request")
        organisation_id = getattr(request.user, "organisation_id", None) if request else None
        self.fields["marketing_license"].queryset = License.objects.filter(
            organisation_id=organisation_id
        )

    def service_arguments(self) -> tuple[dict, list[dict] | None, list[dict] | None]:
        """The `fields`, `goods` and `other_parties` the draft services take."""
        data = dict(self.validated_data)
        goods = data.pop("goods", None)
        other_parties = data.pop("other_parties", None)
        fields: dict = {}
        for party in ("end_user", "consignee"):
            if party not in data:
                continue
            value = data.pop(party) or {"name": "", "address": "", "country": None, "type": ""}
            for part in ("name", "address", "country", "type"):
                if part in value:
                    fields[f"{party}_{part}"] = value[part]
        fields.update(data)
        return fields, goods, other_parties


class AnswerSerializer(serializers.Serializer):
    answer = serializers.CharField(max_length=5000)


def _criteria_field(help_text: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=10),
        required=False,
        default=list,
        max_length=20,
        help_text=help_text,
    )


DECISIONS = [(Decision.APPROVE, "Approve"), (Decision.DENY, "Deny")]


class GoodDecisionSerializer(serializers.Serializer):
    good = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text="The id of one of the application's goods."
    )
    decision = serializers.ChoiceField(choices=DECISIONS)
    criteria = _criteria_field("Refusal criteria (codes) a deny of this good cites.")


class DecideSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(
        choices=DECISIONS,
        help_text="On an appeal: `approve` upholds it, `deny` dismisses it.",
    )
    reason = serializers.CharField(max_length=5000)
    conditions = serializers.CharField(
        max_length=5000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Only with `approve`: the committee's own conditions, which the license "
        "carries after the ministries' (400 with `deny`).",
    )
    criteria = _criteria_field("Refusal criteria (codes) an overall deny cites; at least one.")
    goods = GoodDecisionSerializer(
        many=True,
        required=False,
        max_length=MAX_GOODS,
        help_text="A decision per good, covering every good once (not on an appeal). Some "
        "approved and some denied: the application is partially approved.",
    )


class AppealSerializer(serializers.Serializer):
    grounds = serializers.CharField(max_length=5000)


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class GoodRecommendationSerializer(serializers.Serializer):
    good = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text="The id of one of the application's goods."
    )
    recommendation = serializers.ChoiceField(choices=Recommendation.choices)
    conditions = serializers.CharField(
        max_length=5000, required=False, allow_blank=True, default=""
    )
    criteria = _criteria_field("Refusal criteria (codes) a deny of this good cites.")


class RecommendSerializer(serializers.Serializer):
    recommendation = serializers.ChoiceField(choices=Recommendation.choices)
    reason = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    conditions = serializers.CharField(
        max_length=5000, required=False, allow_blank=True, default=""
    )
    criteria = _criteria_field("Refusal criteria (codes) an overall deny cites; at least one.")
    goods = GoodRecommendationSerializer(
        many=True,
        required=False,
        max_length=MAX_GOODS,
        help_text="A recommendation per good, covering every good once; without it the "
        "recommendation applies to every good.",
    )


class QuestionSerializer(serializers.Serializer):
    question = serializers.CharField(max_length=5000)


class ReassignSerializer(serializers.Serializer):
    user = serializers.PrimaryKeyRelatedField(
        source="assignee",
        queryset=User.objects.none(),
        pk_field=serializers.IntegerField(min_value=1),
        help_text="The id of a reviewer or supervisor of the review's ministry.",
        error_messages={"does_not_exist": "No reviewer of this ministry has id {pk_value}."},
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Only colleagues resolve: anyone else is "no such reviewer", never a name.
        self.fields["user"].queryset = ministry_colleagues(self.context.get("target"))


class ResolveSerializer(serializers.Serializer):
    disposition = serializers.ChoiceField(
        choices=[MatchStatus.CLEARED, MatchStatus.CONFIRMED],
        help_text="`cleared`: not the listed party; `confirmed`: it is (then only a denial "
        "is accepted).",
    )
    reason = serializers.CharField(max_length=5000)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000)


class ShipmentLineInputSerializer(serializers.Serializer):
    license_good = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text="The id of one of the licence's `goods`."
    )
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    value = MoneyField(**MONEY, min_value=Decimal("0"), help_text="In the licence good's currency.")


class ShipmentInputSerializer(serializers.Serializer):
    reference = serializers.CharField(
        max_length=100,
        help_text="Your own reference (invoice or air waybill number), unique per licence: "
        "sending the same shipment again records it once.",
    )
    shipped_on = serializers.DateField()
    # A list field rather than `many=True`: its length limits are validators, which the
    # schema shows (minItems, maxItems) as it enforces them.
    lines = serializers.ListField(
        child=ShipmentLineInputSerializer(), allow_empty=False, min_length=1, max_length=200
    )


def line_errors(errors: dict) -> dict[str, list[str]]:
    """A serializer's nested errors as flat ones, each message naming its line and field:
    `{"lines": [{}, {"quantity": [...]}]}` becomes
    `{"lines[1].quantity": ["Line 2: quantity: ..."]}`.
    """
    flat: dict[str, list[str]] = {}
    for field, value in errors.items():
        # A list of each line's errors, or (DRF 3.15+) a mapping of the index to them.
        by_line = (
            dict(enumerate(value))
            if isinstance(value, list) and any(isinstance(v, dict) for v in value)
            else value
            if isinstance(value, dict) and value and all(isinstance(k, int) for k in value)
            else None
        )
        if field == "lines" and by_line is not None:
            for i, line in by_line.items():
                for name, messages in (line or {}).items():
                    flat[f"lines[{i}].{name}"] = [
                        f"Line {i + 1}: {name}: {message}" for message in messages
                    ]
        elif isinstance(value, dict):
            flat[field] = [
                str(m) if name == "non_field_errors" else f"{name}: {m}"
                for name, msgs in value.items()
                for m in msgs
            ]
        else:
            flat[field] = [str(message) for message in value]
    return flat


class DocumentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="PDF, PNG or JPEG, judged by content; at most 10 MB.")
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
