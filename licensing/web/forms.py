"""Forms for the pages. The action forms are named by `licensing.actions`, beside their service."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.forms import BaseInlineFormSet, inlineformset_factory
from django_fsm import can_proceed

from accounts.models import User
from licensing.clock import local_today
from licensing.exceptions import InvalidInput
from licensing.models import (
    Application,
    ControlListEntry,
    Decision,
    DocumentKind,
    Good,
    License,
    LicenseStatus,
    LicenseType,
    OtherParty,
    Recommendation,
    RoutingRule,
    RuleAction,
)
from licensing.models.applications import APPLICATION_FIELDS, GOOD_FIELDS, document_size_limit
from licensing.selectors import ministry_colleagues, refusal_criteria
from licensing.services.outcomes import check_decisions
from licensing.services.reviews import check_recommendation
from licensing.services.screening import approval_hold
from licensing.services.shipments import outside_validity, over_remaining, value_tolerance

# The project's error messages, each naming its field (`{name}`), so the error summary and
# the field say the same words; never Django's defaults ("Ensure this value is ...").
# `{limit}` is Django's own `%(limit_value)s`, filled in when the error is raised.
_MESSAGES = {
    "required": "Enter {name}.",
    "invalid": "Enter {name} correctly.",
    "invalid_choice": "Choose {name} from the list.",
    "invalid_list": "Choose {name} from the list.",
    "min_value": "{Name} must be {limit} or more.",
    "max_value": "{Name} must be {limit} or less.",
    "max_length": "{Name} must be {limit} characters or fewer.",
    "max_digits": "{Name} must be less than a trillion.",
    "max_whole_digits": "{Name} must be less than a trillion.",
    "max_decimal_places": "{Name} has at most 2 decimal places, such as 1500.50.",
    "missing": "Choose {name}.",
    "empty": "{Name} is empty: choose another file.",
    "contradiction": "Choose {name}, or leave it out.",
}
_BY_KIND: list[tuple[type[forms.Field], dict[str, str]]] = [
    (forms.BooleanField, {"required": "Tick {name}."}),
    (forms.FileField, {"required": "Choose {name}.", "invalid": "Choose {name} to upload."}),
    (forms.DateField, {"invalid": "Enter {name} as a date, such as 2026-11-03."}),
    (forms.IntegerField, {"invalid": "Enter {name} as a whole number, such as 12."}),
    (forms.DecimalField, {"invalid": "Enter {name} as a number, such as 1500.50."}),
    (forms.ModelChoiceField, {"required": "Choose {name}."}),
    (forms.ChoiceField, {"required": "Choose {name}."}),
]


def default_name(field: forms.Field, name: str) -> str:
    """A field's name in a sentence: its label without a parenthesis, lowercase."""
    label = re.sub(r"\s*\(.*\)\s*$", "", str(field.label or name.replace("_", " ")))
    label = label.rstrip(":").strip()
    if len(label) > 1 and label[1].isupper():  # an acronym (US, ISO)
        return label
    return label[:1].lower() + label[1:]


def say_errors(form: forms.BaseForm, names: dict[str, str] | None = None) -> None:
    """Give every field of `form` the project's messages, naming the field as
    `names[field]` (or its label), unless the field has a message of its own."""
    for name, field in form.fields.items():
        called = (
            (names or {}).get(name) or getattr(field, "error_name", "") or default_name(field, name)
        )
        chosen = dict(_MESSAGES)
        for kind, messages in reversed(_BY_KIND):
            if isinstance(field, kind):
                chosen.update(messages)
        own = getattr(field, "own_messages", None)
        if own is None:  # the messages given where the field was declared, kept
            own = field.own_messages = {
                k: v for k, v in field.error_messages.items() if v != _django_default(field, k)
            }
        for code, template in chosen.items():
            if code in own:
                continue
            text = template.format(
                name=called, Name=called[:1].upper() + called[1:], limit="%(limit_value)s"
            )
            field.error_messages[code] = text


def _django_default(field: forms.Field, code: str) -> Any:
    """Django's own message for `code` on a field of this kind."""
    messages: dict = {}
    for cls in reversed(type(field).__mro__):
        messages.update(getattr(cls, "default_error_messages", {}))
    return messages.get(code)


class SaysErrors:
    """A form whose fields say the project's messages (`say_errors`), set just before it
    validates so fields added in `__init__` have them too; `error_names` names fields whose
    label reads badly in a sentence."""

    error_names: dict[str, str] = {}

    def full_clean(self) -> None:
        say_errors(self, self.error_names)
        super().full_clean()


def _say_choose(form: forms.BaseForm, overrides: dict[str, str] | None = None) -> None:
    """A select's empty choice reads "Choose..." (or `overrides[name]`), not dashes."""
    for name, field in form.fields.items():
        label = (overrides or {}).get(name, "Choose...")
        if isinstance(field, forms.ModelChoiceField) and field.empty_label is not None:
            field.empty_label = label
        elif isinstance(field, forms.ChoiceField) and field.choices:
            choices = list(field.choices)
            if choices[0][0] == "":
                field.choices = [("", label), *choices[1:]]


def _party_names(party: str, noun: str) -> dict[str, str]:
    return {
        f"{party}_{part}": f"the {noun}'s {part}" for part in ("name", "address", "country", "type")
    }


class ApplicationForm(SaysErrors, forms.ModelForm):
    error_names = {
        "license_type": "the license type",
        "destination": "the destination",
        "currency": "the currency",
        "marketing_license": "the marketing license",
        "end_use": "the end use",
        **_party_names("end_user", "end user"),
        **_party_names("consignee", "consignee"),
    }
    marketing_license = forms.ModelChoiceField(
        queryset=License.objects.none(),
        required=False,
        to_field_name="number",
        help_text="For an export license with munitions items.",
    )

    class Meta:
        model = Application
        fields = list(APPLICATION_FIELDS)
        widgets = {
            "end_user_address": forms.Textarea(attrs={"rows": 2}),
            "consignee_address": forms.Textarea(attrs={"rows": 2}),
            "end_use": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, organisation_id: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["marketing_license"].queryset = License.objects.filter(
            organisation_id=organisation_id,
            license_type=LicenseType.MARKETING,
            status=LicenseStatus.ACTIVE,
        )
        # Say up front which destinations a rule refuses, before the form is filled in.
        refused = set(
            RoutingRule.objects.in_force(local_today())
            .filter(action=RuleAction.REFUSE, destination_list__isnull=False)
            .values_list("destination_list__countries__code", flat=True)
        )
        # Exporters see that a rule refuses it, never which list or rule.
        self.fields["destination"].label_from_instance = lambda country: (
            f"{country.name} (exports refused)" if country.code in refused else country.name
        )
        _say_choose(self, {"marketing_license": "None"})

    def clean_currency(self) -> str:
        currency = self.cleaned_data["currency"].upper()
        import pycountry

        if pycountry.currencies.get(alpha_3=currency) is None:
            raise forms.ValidationError("Use an ISO 4217 currency code, such as USD or ILS.")
        return currency


def _natural(code: str) -> tuple:
    """ML2 before ML10; 1C010 before 6A003."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", code))


class ControlEntryField(forms.ModelChoiceField):
    def label_from_instance(self, entry: ControlListEntry) -> str:
        description = (
            entry.description if len(entry.description) <= 70 else (entry.description[:67] + "...")
        )
        return f"{entry.code} - {description}"


def _row_noun(prefix: str | None, noun: str) -> str:
    """`good 2` for the formset's form `goods-1`; `the new good` for its empty form."""
    index = (prefix or "").rsplit("-", 1)[-1]
    return f"{noun} {int(index) + 1}" if index.isdigit() else f"the new {noun}"


class GoodForm(SaysErrors, forms.ModelForm):
    control_list_entry = ControlEntryField(
        queryset=ControlListEntry.objects.all(), label="Control list entry"
    )
    # The browser's limits are the server's (the model refuses 0: a positive integer).
    quantity = forms.IntegerField(min_value=1, max_value=2_147_483_647)
    unit_value = forms.DecimalField(
        min_value=Decimal("0"), max_digits=15, decimal_places=2, label="Unit value"
    )

    class Meta:
        model = Good
        fields = [name for name in GOOD_FIELDS if name != "currency"]
        labels = {"us_origin_content": "Has US-origin content"}

    def __init__(self, *args, entry_choices: list | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if entry_choices is not None:
            self.fields["control_list_entry"].choices = entry_choices
        row = _row_noun(self.prefix, "good")
        self.error_names = {
            name: f"the {default_name(field, name)} of {row}" for name, field in self.fields.items()
        }


class BaseGoodFormSet(BaseInlineFormSet):
    """Reads and sorts the control list once for every row, not once per row."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = ControlEntryField(queryset=ControlListEntry.objects.none())
        entries = sorted(ControlListEntry.objects.all(), key=lambda e: (e.regime, _natural(e.code)))
        self._entry_choices = [("", "Choose...")] + [
            (entry.pk, field.label_from_instance(entry)) for entry in entries
        ]

    def get_form_kwargs(self, index: int | None) -> dict:
        return {**super().get_form_kwargs(index), "entry_choices": self._entry_choices}


GoodFormSet = inlineformset_factory(
    Application, Good, form=GoodForm, formset=BaseGoodFormSet, extra=1, can_delete=True
)


class OtherPartyForm(SaysErrors, forms.ModelForm):
    class Meta:
        model = OtherParty
        fields = ["kind", "name", "address", "country", "type"]
        widgets = {"address": forms.Textarea(attrs={"rows": 1})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        row = _row_noun(self.prefix, "party")
        self.error_names = {
            name: f"the {default_name(field, name)} of {row}" for name, field in self.fields.items()
        }


OtherPartyFormSet = inlineformset_factory(
    Application, OtherParty, form=OtherPartyForm, extra=1, can_delete=True
)


class ActionForm(SaysErrors, forms.Form):
    """An action's input on a page; `target` is the object acted on, for forms that need it."""

    def __init__(self, *args, target=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.target = target

    def error_field(self, key: str) -> str | bool | None:
        """The field that shows a service's error about `key` (None: the form's own errors;
        False: none, the error follows from another shown already)."""
        return key if key in self.fields else None


class SubmitForm(ActionForm):
    """Submitting on the check-your-answers page: a legal submission, so the exporter
    declares the answers true and complete first (the API's submit takes no body)."""

    declaration = forms.BooleanField(
        label="I declare that the information in this application is true and complete "
        "to the best of my knowledge, and that I am authorised to submit it for my "
        "organisation.",
        error_messages={"required": "Tick the declaration to submit the application."},
    )


class DocumentForm(ActionForm):
    error_names = {"kind": "the kind of document", "file": "a file"}
    kind = forms.ChoiceField(choices=DocumentKind.choices)
    file = forms.FileField()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = f"PDF, PNG or JPEG, up to {document_size_limit()}."


class ReasonForm(ActionForm):
    error_names = {"reason": "the reason"}
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)


class OptionalReasonForm(ActionForm):
    error_names = {"reason": "the reason"}
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=5000, required=False
    )


class AnswerForm(ActionForm):
    answer = forms.CharField(
        label="Your answer", widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )


class QuestionForm(ActionForm):
    error_names = {"question": "your question"}
    question = forms.CharField(
        label="Ask the exporter (stops every ministry's clock until the answer)",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
    )


def _criteria_choices() -> list[tuple[str, str]]:
    return [
        (code, f"{code}. {criterion.title}")
        for code, criterion in refusal_criteria().items()
        if criterion.active
    ]


class PerGoodForm(ActionForm):
    """An overall decision and, optionally, one per good (`good_<id>`; blank: as overall).

    Any good decided apart sends the service a `goods` list covering every good,
    the others taking the overall decision and its criteria.
    """

    decision_field = "recommendation"
    choices: list = []
    conditional = ""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["criteria"] = forms.MultipleChoiceField(
            choices=_criteria_choices(),
            required=False,
            label="Refusal criteria (at least one to deny)",
            widget=forms.SelectMultiple(attrs={"size": 4}),
        )
        self.goods = list(self._application().goods.all()) if self.target is not None else []
        for position, good in enumerate(self.goods, start=1):
            name = f"{position}. {good.description} ({good.control_list_entry.code})"
            self.fields[f"good_{good.pk}"] = forms.ChoiceField(
                choices=[("", "As overall"), *self.choices],
                required=False,
                label=f"Good {name}",
            )
            self.fields[f"good_{good.pk}"].error_name = f"the decision on good {position}"
            if self.conditional:
                self.fields[f"good_{good.pk}_conditions"] = forms.CharField(
                    label=f"Good {position}: conditions",
                    max_length=5000,
                    required=False,
                )
                self.fields[
                    f"good_{good.pk}_conditions"
                ].error_name = f"the conditions of good {position}"
            self.fields[f"good_{good.pk}_criteria"] = forms.MultipleChoiceField(
                choices=_criteria_choices(),
                required=False,
                label=f"Good {position}: refusal criteria (to deny it)",
                widget=forms.SelectMultiple(attrs={"size": 3}),
            )
            self.fields[
                f"good_{good.pk}_criteria"
            ].error_name = f"the refusal criteria of good {position}"

    def _application(self):
        return self.target

    def _add_errors(self, error: InvalidInput) -> None:
        for field, messages in error.errors.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)

    def _check_per_good(self, data: dict) -> None:
        """The service's per-good checks (it checks again under its lock), so the
        confirmation step asks only about a decision it would accept."""
        if self.errors or not data.get(self.decision_field):
            return
        try:
            check_decisions(
                goods=self.goods,
                overall=data[self.decision_field],
                criteria=data.get("criteria", []),
                per_good=data.get("goods"),
                key=self.decision_field,
            )
        except InvalidInput as error:
            self._add_errors(error)

    def clean(self) -> dict:
        data = super().clean()
        overall = data.get(self.decision_field)
        criteria = list(data.get("criteria") or [])
        data["criteria"] = criteria
        apart = [good for good in self.goods if data.get(f"good_{good.pk}")]
        goods = None
        if apart:
            goods = []
            for good in self.goods:
                own = data.get(f"good_{good.pk}") or overall
                entry = {
                    "good": good.pk,
                    self.decision_field: own,
                    "criteria": list(data.get(f"good_{good.pk}_criteria") or [])
                    or (criteria if own == "deny" else []),
                }
                if self.conditional:
                    entry["conditions"] = data.get(f"good_{good.pk}_conditions") or (
                        data.get("conditions", "") if own == self.conditional else ""
                    )
                goods.append(entry)
        if goods is not None:
            data["goods"] = goods
        return data

    def service_data(self) -> dict:
        """What the service takes: the per-good fields folded into `goods`."""
        return {k: v for k, v in self.cleaned_data.items() if not k.startswith("good_")}


def _offer_only_denial(form: ActionForm, name: str, application) -> None:
    """While a screening match holds the case, the service refuses approval: the choice
    offers what it accepts, and says why (and no good is decided apart: all are denied)."""
    hold = approval_hold(application) if application is not None else None
    if hold is not None:
        field = form.fields[name]
        field.choices = [(value, label) for value, label in field.choices if value in ("", "deny")]
        field.help_text = hold[1]
        field.error_messages["invalid_choice"] = hold[1]
        for per_good in [n for n in form.fields if n.startswith("good_")]:
            del form.fields[per_good]
        form.goods = []


class RecommendForm(PerGoodForm):
    error_names = {
        "recommendation": "a recommendation",
        "reason": "the reasons",
        "conditions": "the conditions",
        "criteria": "the refusal criteria",
    }
    recommendation = forms.ChoiceField(choices=[("", "Choose..."), *Recommendation.choices])
    reason = forms.CharField(
        label="Reasons (required to deny)",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=5000,
        required=False,
    )
    conditions = forms.CharField(
        label="Conditions (required to approve with conditions)",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=5000,
        required=False,
    )
    choices = Recommendation.choices
    conditional = Recommendation.APPROVE_WITH_CONDITIONS

    def _application(self):
        return self.target.application

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _offer_only_denial(self, "recommendation", getattr(self.target, "application", None))

    def clean(self) -> dict:
        """The service's own input checks, so the confirmation step asks only about a
        recommendation the service would accept (it checks again under its lock)."""
        data = super().clean()
        if not self.errors:
            try:
                check_recommendation(
                    data["recommendation"],
                    data.get("reason", ""),
                    data.get("conditions", ""),
                    data.get("goods"),
                )
            except InvalidInput as error:
                self._add_errors(error)
        if not self.errors:
            self._check_per_good(data)
        return data


class ResolveForm(ActionForm):
    error_names = {"disposition": "cleared or confirmed", "reason": "the reasons"}
    disposition = forms.ChoiceField(
        choices=[
            ("", "Choose..."),
            ("cleared", "Cleared: not the listed party"),
            ("confirmed", "Confirmed: the listed party"),
        ]
    )
    reason = forms.CharField(
        label="Reasons", widget=forms.Textarea(attrs={"rows": 2}), max_length=5000
    )


DECISIONS = [(Decision.APPROVE, "Approve"), (Decision.DENY, "Deny")]


class DecideForm(PerGoodForm):
    error_names = {
        "decision": "a decision",
        "reason": "the reasons",
        "conditions": "the conditions",
        "criteria": "the refusal criteria",
    }
    decision = forms.ChoiceField(choices=[("", "Choose..."), *DECISIONS])
    reason = forms.CharField(
        label="Reasons", widget=forms.Textarea(attrs={"rows": 2}), max_length=5000
    )
    conditions = forms.CharField(
        label="Conditions (optional, only when approving)",
        help_text="The license carries them after the ministries' conditions.",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=5000,
        required=False,
    )
    decision_field = "decision"
    choices = DECISIONS

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.target is not None and can_proceed(
            self.target.uphold_appeal, check_conditions=False
        ):
            # An appeal is upheld (approve) or dismissed (deny) as a whole.
            self.fields["decision"].choices = [
                ("", "Choose..."),
                (Decision.APPROVE, "Uphold the appeal (approve every good)"),
                (Decision.DENY, "Dismiss the appeal"),
            ]
            for name in [n for n in self.fields if n.startswith("good_") or n == "criteria"]:
                del self.fields[name]
            self.goods = []
        _offer_only_denial(self, "decision", self.target)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("conditions", "").strip() and data.get("decision") == Decision.DENY:
            self.add_error("conditions", "Conditions go with an approval, not a denial.")
        if self.goods or "criteria" in self.fields:
            self._check_per_good(data)
        return data


class AppealForm(ActionForm):
    error_names = {"grounds": "the grounds of appeal"}
    grounds = forms.CharField(
        label="Grounds of appeal",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
    )


class ReassignForm(ActionForm):
    error_names = {"assignee": "who to assign it to"}
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), label="Assign to")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = ministry_colleagues(self.target).order_by("username")


class ShipmentForm(ActionForm):
    """A shipment against the licence (`target`): a quantity, and optionally a value, per good.

    A good left blank is not shipped; a value left blank is the quantity's share
    of the good's licensed value. Every problem is found at once: the reference, the
    date, each quantity and value, and what remains (the service checks that again
    under the licence's lock).
    """

    error_names = {"reference": "your reference", "shipped_on": "the date shipped"}
    reference = forms.CharField(
        max_length=100,
        label="Your reference",
        help_text="Invoice or air waybill number; one per shipment.",
    )
    shipped_on = forms.DateField(
        label="Shipped on", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    @staticmethod
    def _goods_of(license) -> list:
        """The licence's goods: those its page read already (`goods_list`, as a
        `Prefetch(to_attr=)` would leave them), else read here."""
        goods = getattr(license, "goods_list", None)
        return list(license.goods.all()) if goods is None else list(goods)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["shipped_on"].initial = local_today
        self.goods = self._goods_of(self.target) if self.target is not None else []
        self.line_goods: list[int] = []
        self.shared_values: set[int] = set()
        for good in self.goods:
            name = self.good_name(good)
            # At least 1, as on the draft; blank: this good is not shipped.
            self.fields[f"quantity_{good.pk}"] = forms.IntegerField(
                label=f"{name}: quantity",
                min_value=1,
                max_value=2_147_483_647,
                required=False,
                help_text=f"{good.remaining_quantity} of {good.quantity} remaining.",
            )
            self.fields[f"quantity_{good.pk}"].error_name = f"the quantity of {name}"
            self.fields[f"value_{good.pk}"] = forms.DecimalField(
                label=f"{name}: value ({good.currency})",
                min_value=Decimal("0"),
                max_digits=15,
                decimal_places=2,
                required=False,
                help_text=f"{good.remaining_value} remaining; blank: the quantity's share.",
            )
            self.fields[f"value_{good.pk}"].error_name = f"the value of {name}"

    @staticmethod
    def good_name(good) -> str:
        return f"{good.description} ({good.control_list_entry.code})"

    def clean(self) -> dict:
        data = super().clean()
        lines = []
        self.line_goods, self.shared_values = [], set()
        tolerance = value_tolerance(self.target) if self.goods else Decimal("0")
        for good in self.goods:
            quantity = data.get(f"quantity_{good.pk}")
            if not quantity:
                continue
            given = data.get(f"value_{good.pk}")
            # A value left blank follows the quantity: only the quantity can be wrong.
            for field, problem in over_remaining(good, quantity, given, tolerance).items():
                self.add_error(f"{field}_{good.pk}", f"{self.good_name(good)}: {problem}")
            value = given
            if value is None:
                value = (good.value * quantity / good.quantity).quantize(Decimal("0.01"))
                self.shared_values.add(len(lines))
            lines.append({"license_good": good.pk, "quantity": quantity, "value": value})
            self.line_goods.append(good.pk)
        shipped_on = data.get("shipped_on")
        if shipped_on is not None and self.target is not None:
            problem = outside_validity(self.target, shipped_on)
            if problem:
                self.add_error("shipped_on", problem)
        typed = any(self.has_error(f"quantity_{good.pk}") for good in self.goods)
        if not lines and not typed:
            self.add_error(None, "Enter the quantity shipped of at least one good.")
        return {"reference": data.get("reference"), "shipped_on": shipped_on, "lines": lines}

    def error_field(self, key: str) -> str | bool | None:
        match = re.fullmatch(r"lines\[(\d+)\]\.(quantity|value)", key)
        if match and int(match[1]) < len(self.line_goods):
            if match[2] == "value" and int(match[1]) in self.shared_values:
                return False  # a value left blank follows its quantity: not its own error
            return f"{match[2]}_{self.line_goods[int(match[1])]}"
        return super().error_field(key)
