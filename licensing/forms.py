"""Forms for the web pages; the services still decide what is allowed."""

from __future__ import annotations

import re

from django import forms
from django.forms import BaseInlineFormSet, inlineformset_factory

from accounts.models import User
from licensing.clock import local_today
from licensing.models import (
    Application,
    ControlListEntry,
    DocumentKind,
    Good,
    License,
    Recommendation,
    RoutingRule,
    RuleAction,
)
from licensing.services.applications import APPLICATION_FIELDS


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
            organisation_id=organisation_id, license_type="marketing", status="active"
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
        fields = [
            "description",
            "control_list_entry",
            "quantity",
            "unit_value",
            "technology_generation",
            "us_origin_content",
        ]

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


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(choices=DocumentKind.choices)
    file = forms.FileField(help_text="PDF, PNG or JPEG, up to 10 MB.")


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)


class OptionalReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=5000, required=False
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


class QuestionForm(forms.Form):
    question = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


class RecommendForm(forms.Form):
    recommendation = forms.ChoiceField(choices=[("", "Choose..."), *Recommendation.choices])
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=5000, required=False
    )
    conditions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=5000, required=False
    )


class DecideForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("", "Choose..."), ("approve", "Approve"), ("deny", "Deny")]
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)


class ReassignForm(forms.Form):
    user = forms.ModelChoiceField(queryset=User.objects.none(), label="Assign to")

    def __init__(self, *args, ministry: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(
            is_active=True, ministry=ministry, role__in=["reviewer", "supervisor"]
        ).order_by("username")
