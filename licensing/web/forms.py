"""Forms for the pages. The action forms are named by the rulebook, beside the service they feed."""

from __future__ import annotations

import re

from django import forms
from django.forms import BaseInlineFormSet, inlineformset_factory

from accounts.models import User
from licensing.clock import local_today
from licensing.models import (
    Application,
    ControlListEntry,
    Decision,
    DocumentKind,
    Good,
    License,
    LicenseStatus,
    LicenseType,
    Recommendation,
    RoutingRule,
    RuleAction,
)
from licensing.models.applications import APPLICATION_FIELDS, GOOD_FIELDS, document_size_limit
from licensing.selectors import ministry_colleagues


class ApplicationForm(forms.ModelForm):
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
        self.fields["destination"].label_from_instance = lambda country: (
            f"{country.name} (refused: embargoed)" if country.code in refused else country.name
        )

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


class GoodForm(forms.ModelForm):
    control_list_entry = ControlEntryField(queryset=ControlListEntry.objects.all())

    class Meta:
        model = Good
        fields = [name for name in GOOD_FIELDS if name != "currency"]

    def __init__(self, *args, entry_choices: list | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if entry_choices is not None:
            self.fields["control_list_entry"].choices = entry_choices


class BaseGoodFormSet(BaseInlineFormSet):
    """Reads and sorts the control list once for every row, not once per row."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = ControlEntryField(queryset=ControlListEntry.objects.none())
        entries = sorted(ControlListEntry.objects.all(), key=lambda e: (e.regime, _natural(e.code)))
        self._entry_choices = [("", "---------")] + [
            (entry.pk, field.label_from_instance(entry)) for entry in entries
        ]

    def get_form_kwargs(self, index: int | None) -> dict:
        return {**super().get_form_kwargs(index), "entry_choices": self._entry_choices}


GoodFormSet = inlineformset_factory(
    Application, Good, form=GoodForm, formset=BaseGoodFormSet, extra=1, can_delete=True
)


class ActionForm(forms.Form):
    """An action's input on a page; `target` is the object acted on, for forms that need it."""

    def __init__(self, *args, target=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.target = target


class DocumentForm(ActionForm):
    kind = forms.ChoiceField(choices=DocumentKind.choices)
    file = forms.FileField()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = f"PDF, PNG or JPEG, up to {document_size_limit()}."


class ReasonForm(ActionForm):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)


class OptionalReasonForm(ActionForm):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=5000, required=False
    )


class AnswerForm(ActionForm):
    answer = forms.CharField(
        label="Your answer", widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )


class QuestionForm(ActionForm):
    question = forms.CharField(
        label="Ask the exporter (stops every ministry's clock until the answer)",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
    )


class RecommendForm(ActionForm):
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


class DecideForm(ActionForm):
    decision = forms.ChoiceField(choices=[("", "Choose..."), *Decision.choices])
    reason = forms.CharField(
        label="Reasons", widget=forms.Textarea(attrs={"rows": 2}), max_length=5000
    )


class ReassignForm(ActionForm):
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), label="Assign to")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = ministry_colleagues(self.target).order_by("username")
