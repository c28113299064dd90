"""An amendment's changes in words, for people: the selector's machine-readable list
(`selectors.amendment_changes`, the API's `/changes/`, DESIGN section 9) with each field's
label, country names for country codes, the choices' labels for their codes, yes or no,
and goods by position ("Good 2")."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models

from licensing.models import Application, Country, Good
from licensing.selectors import countries_by_code

# The draft form's labels, by the API's field names (`end_user.name`).
APPLICATION_LABELS = {
    "license_type": "License type",
    "destination": "Destination",
    "currency": "Currency",
    "end_user.name": "End user's name",
    "end_user.address": "End user's address",
    "end_user.country": "End user's country",
    "end_user.type": "End user's type",
    "consignee.name": "Consignee's name",
    "consignee.address": "Consignee's address",
    "consignee.country": "Consignee's country",
    "consignee.type": "Consignee's type",
    "end_use": "End use",
    "military_end_use": "Military end use",
    "marketing_license": "Marketing license",
}
GOOD_LABELS = {
    "description": "Description",
    "control_list_entry": "Control list entry",
    "quantity": "Quantity",
    "unit_value": "Unit value",
    "currency": "Currency",
    "technology_generation": "Technology generation",
    "us_origin_content": "Has US-origin content",
}


def _model_field(model: type[models.Model], name: str) -> models.Field | None:
    try:
        return model._meta.get_field(name.replace(".", "_"))
    except FieldDoesNotExist:  # a name the selector added later: shown as it comes
        return None


def _value(model: type[models.Model], name: str, value: Any) -> str:
    """A value as a person reads it: "-" for none, a country's name, a choice's label."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    field = _model_field(model, name)
    if field is not None and field.is_relation and field.related_model is Country:
        country = countries_by_code().get(value)
        return country.name if country is not None else str(value)
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


def changes_shown(changes: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Each change as `{"what", "from", "to"}`, or `{"what"}` alone for a good added or
    removed: "Good 3 added"."""
    shown = []
    for change in changes:
        if "good" in change:
            good = f"Good {change['good']}"
            if "change" in change:
                shown.append({"what": f"{good} {change['change']}"})
                continue
            model, labels, what = Good, GOOD_LABELS, f"{good}, "
        else:
            model, labels, what = Application, APPLICATION_LABELS, ""
        name = change["field"]
        shown.append(
            {
                "what": what + labels.get(name, name),
                "from": _value(model, name, change["from"]),
                "to": _value(model, name, change["to"]),
            }
        )
    return shown
