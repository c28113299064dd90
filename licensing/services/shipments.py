"""Shipments drawn against a licence: all lines or none, never overdrawn, idempotent.

The exporter's reference (an invoice or air waybill number) is unique per
licence, which makes recording a shipment safe to retry: the same reference
with the same lines answers the shipment already recorded and deducts
nothing; with other lines it is a conflict. Shipments on one licence are
serialised by the licence's row lock, so two that together exceed what
remains can never both be recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction

from accounts.models import User
from licensing import rulebook
from licensing.audit import audit_record
from licensing.exceptions import InvalidInput, TransitionConflict
from licensing.models import (
    Application,
    License,
    LicenseGood,
    LicenseValidity,
    NotificationEvent,
    Shipment,
    ShipmentLine,
)
from licensing.notifications import notify
from licensing.selectors import organisation_exporters
from licensing.services.common import lock, run_transition

MAX_LINES = 200
CENT = Decimal("0.01")

Line = tuple[int, int, Decimal]
"""(licence good id, quantity, value)"""


def shipment_check(*, license: License, user: User, reference: Any) -> None:
    """Who, then when (403, then 409), as `rulebook.require("ship", ...)` answers; except that
    a retry of a shipment already recorded passes the *when*: it is answered, not refused,
    even once that very shipment has exhausted the licence. The API asks this before it
    reads the body; the service asks it again under the lock."""
    ship = rulebook.get(License, "ship")
    replay = _recordable(reference) and (
        Shipment.objects.filter(license=license, reference=reference.strip()).exists()
    )
    if not replay or not ship.permits(license, user):
        rulebook.require("ship", license, user)


def _recordable(reference: Any) -> bool:
    """Could a shipment have been recorded under `reference`? Asked of the raw body, before
    its validation (400) and so before anything else reads it: a reference the input
    refuses (not text, blank, or holding NUL, which PostgreSQL refuses even in a query)
    names no recorded shipment, and is never looked up."""
    return isinstance(reference, str) and bool(reference.strip()) and "\x00" not in reference


def shipment_record(
    *,
    license: License,
    user: User,
    reference: str,
    shipped_on: date,
    lines: Sequence[Mapping[str, Any]],
) -> Shipment:
    """Record a shipment of some of the licence's goods, and exhaust the licence once every
    line is shipped in full. The shipment answered has `replayed` set when it was already
    recorded under this reference (and nothing was deducted)."""
    reference = (reference or "").strip()
    # Every problem at once (the reference, each line, the date, what remains), not the
    # first one found: 400 when any is a field error, else 409.
    errors: dict[str, list[str]] = {}
    if not reference:
        errors["reference"] = [
            "Give your reference for the shipment (an invoice or waybill number)."
        ]
    wanted, line_errors = _wanted(lines)
    errors.update(line_errors)
    with transaction.atomic():
        application = lock(Application, license.application_id)
        license = lock(License, license.pk)
        shipment_check(license=license, user=user, reference=reference)
        existing = (
            Shipment.objects.filter(license=license, reference=reference).first()
            if not errors
            else None
        )
        if existing is not None:
            return _replay(existing, license, shipped_on, [line for _, line in wanted])
        conflicts: dict[str, list[str]] = {}
        validity = outside_validity(license, shipped_on)
        if validity:
            conflicts["shipped_on"] = [validity]
        goods = {
            good.pk: good
            for good in LicenseGood.objects.filter(license=license).select_related(
                "control_list_entry"
            )
        }
        errors.update(_lines_not_belonging(license, goods, wanted))
        conflicts.update(_exceeding(license, goods, wanted))
        if errors:
            raise InvalidInput({**errors, **conflicts})
        if conflicts:
            exceeds = set(conflicts) != {"shipped_on"}
            raise TransitionConflict(
                "The shipment exceeds what remains on the license; nothing of it was recorded."
                if exceeds
                else validity,
                current_state=license.status,
                code="exceeds_remaining" if exceeds else "outside_validity",
                errors=conflicts,
            )
        wanted_lines = [line for _, line in wanted]
        shipment = Shipment.objects.create(
            license=license, reference=reference, shipped_on=shipped_on, created_by=user
        )
        ShipmentLine.objects.bulk_create(
            [
                ShipmentLine(shipment=shipment, license_good_id=good_id, quantity=q, value=v)
                for good_id, q, v in wanted_lines
            ]
        )
        # The goods were read under the licence's lock, so their counters are current:
        # one UPDATE for every line.
        for good_id, quantity, value in wanted_lines:
            goods[good_id].used_quantity += quantity
            goods[good_id].used_value += value
        LicenseGood.objects.bulk_update(
            [
                goods[good_id]
                for good_id in dict.fromkeys(good_id for good_id, _, _ in wanted_lines)
            ],
            ["used_quantity", "used_value"],
        )
        audit_record(
            application=application,
            actor=user,
            action="shipment_recorded",
            data={
                "license": license.number,
                "shipment": shipment.pk,
                "reference": reference,
                "shipped_on": shipped_on.isoformat(),
                "lines": [
                    {"license_good": good_id, "quantity": quantity, "value": f"{value:.2f}"}
                    for good_id, quantity, value in wanted_lines
                ],
            },
        )
        if all(good.remaining_quantity == 0 for good in goods.values()):
            _exhaust(license, application)
    shipment.replayed = False
    shipment.license = license
    return shipment


def _wanted(lines: Sequence[Mapping[str, Any]]) -> tuple[list[tuple[int, Line]], dict]:
    """The well-formed lines as (position, (good, quantity, value)), and what is wrong with
    the others (checks that need no database: 400)."""
    if not lines:
        return [], {"lines": ["Give at least one line: a licence good and its quantity."]}
    if len(lines) > MAX_LINES:
        return [], {"lines": [f"A shipment has at most {MAX_LINES} lines."]}
    errors: dict[str, list[str]] = {}
    wanted: list[tuple[int, Line]] = []
    seen: dict[int, int] = {}
    for i, line in enumerate(lines):
        good = line.get("license_good")
        good_id = getattr(good, "pk", good)
        quantity, value = line.get("quantity"), line.get("value")
        if isinstance(value, int) and not isinstance(value, bool):
            value = Decimal(value)
        if not isinstance(good_id, int) or isinstance(good_id, bool):
            errors[f"lines[{i}].license_good"] = [f"Line {i + 1}: license_good is required."]
            continue
        bad = False
        if good_id in seen:
            errors[f"lines[{i}].license_good"] = [
                f"Line {i + 1}: license_good {good_id} is already on line {seen[good_id] + 1}."
            ]
            bad = True
        seen.setdefault(good_id, i)
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            errors[f"lines[{i}].quantity"] = [f"Line {i + 1}: quantity must be at least 1."]
            bad = True
        if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
            errors[f"lines[{i}].value"] = [f"Line {i + 1}: value must be 0 or more."]
            bad = True
        if not bad:
            wanted.append((i, (good_id, quantity, value.quantize(CENT))))
    return wanted, errors


def outside_validity(license: License, shipped_on: date) -> str:
    """Why a shipment on `shipped_on` may not be made under `license` ("" if it may)."""
    if license.valid_from <= shipped_on <= license.valid_until:
        return ""
    return (
        f"License {license.number} is valid from {license.valid_from:%d %b %Y} to "
        f"{license.valid_until:%d %b %Y}; a shipment on {shipped_on:%d %b %Y} is outside it."
    )


def _lines_not_belonging(
    license: License, goods: dict[int, LicenseGood], wanted: list[tuple[int, Line]]
) -> dict[str, list[str]]:
    return {
        f"lines[{i}].license_good": [
            f"Line {i + 1}: license_good {good_id} is not a good of license {license.number}."
        ]
        for i, (good_id, _, _) in wanted
        if good_id not in goods
    }


def value_tolerance(license: License) -> Decimal:
    """How far (in %) the licence type lets a shipment's value pass the licensed value."""
    return LicenseValidity.objects.filter(license_type=license.license_type).values_list(
        "value_tolerance", flat=True
    ).first() or Decimal("0")


def over_remaining(
    good: LicenseGood, quantity: int, value: Decimal | None, tolerance: Decimal
) -> dict[str, str]:
    """What shipping `quantity` (and `value`, if given) of `good` would overdraw:
    `{"quantity": ..., "value": ...}`, each message naming neither the good nor a line
    (who shows it says which good)."""
    problems = {}
    if quantity > good.remaining_quantity:
        problems["quantity"] = (
            f"quantity {quantity} exceeds the remaining {good.remaining_quantity}."
        )
    if value is not None:
        ceiling = (good.value * (100 + tolerance) / 100).quantize(CENT)
        room = max(ceiling - good.used_value, Decimal("0"))
        if value > room:
            allowed = f" ({room} with the {tolerance:g}% tolerance)" if tolerance else ""
            problems["value"] = (
                f"value {value} exceeds the remaining {good.remaining_value} "
                f"{good.currency}{allowed}."
            )
    return problems


def _exceeding(
    license: License, goods: dict[int, LicenseGood], wanted: list[tuple[int, Line]]
) -> dict[str, list[str]]:
    """Every line within what remains (the value within the licence type's tolerance)."""
    tolerance = value_tolerance(license)
    errors: dict[str, list[str]] = {}
    for i, (good_id, quantity, value) in wanted:
        good = goods.get(good_id)
        if good is None:
            continue
        name = f"Line {i + 1} ({good.description}, {good.control_list_entry.code})"
        for field, message in over_remaining(good, quantity, value, tolerance).items():
            errors[f"lines[{i}].{field}"] = [f"{name}: {message}"]
    return errors


def _replay(existing: Shipment, license: License, shipped_on: date, wanted: list[Line]):
    recorded = sorted(
        (line.license_good_id, line.quantity, line.value) for line in existing.lines.all()
    )
    if existing.shipped_on != shipped_on or recorded != sorted(wanted):
        message = (
            f"Shipment {existing.reference} is already recorded on license {license.number} "
            "with other details; a new shipment needs a new reference."
        )
        raise TransitionConflict(
            message,
            current_state=license.status,
            code="reference_reused",
            errors={"reference": [message]},
        )
    existing.replayed = True
    existing.license = license
    return existing


def _exhaust(license: License, application: Application) -> None:
    from_state = run_transition(license, "exhaust", license.exhaust)
    event = audit_record(
        application=application,
        actor=None,
        action="license_exhausted",
        from_state=from_state,
        to_state=license.status,
        reason=license.status_reason,
        data={"license": license.number},
    )
    notify(
        event=NotificationEvent.LICENSE_STATUS_CHANGED,
        recipients=organisation_exporters(license.organisation_id),
        key=f"license:{license.pk}:{event.pk}",
        subject=f"License {license.number} exhausted",
        application=application,
        context={
            "license": license.number,
            "status": license.status,
            "reason": license.status_reason,
        },
    )
