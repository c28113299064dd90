"""Licenses: issued on approval with their goods; suspended, reinstated, revoked, surrendered by
people; expired by the clock (exhausted by the shipments: `licensing.services.shipments`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from django.db import transaction

from accounts.models import User
from licensing import rulebook
from licensing.audit import audit_record
from licensing.clock import local_today
from licensing.exceptions import InvalidInput
from licensing.models import (
    Application,
    Good,
    License,
    LicenseGood,
    LicenseValidity,
    NotificationEvent,
    Review,
    ReviewStatus,
)
from licensing.models.licenses import LIVE_STATES
from licensing.notifications import notify
from licensing.selectors import organisation_exporters
from licensing.services.common import lock, next_number, run_transition


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def license_issue(
    *, application: Application, goods: Iterable[Good] | None = None, committee_conditions: str = ""
) -> License:
    """Issue the license of an approved application, with every review's conditions
    (and the committee's, when it approved a disputed case with conditions of its own).

    The licence covers `goods` (by default every good of the application), one
    line each with its quantity and value.
    """
    today = local_today()
    validity = LicenseValidity.objects.get(license_type=application.license_type)
    conditions = [
        f"{review.get_ministry_display()}: {review.conditions}"
        for review in Review.objects.filter(
            application=application, status=ReviewStatus.COMPLETED
        ).exclude(conditions="")
    ]
    if committee_conditions:
        conditions.append(f"Committee: {committee_conditions}")
    license = License.objects.create(
        number=next_number("LIC", today.year),
        application=application,
        organisation_id=application.organisation_id,
        license_type=application.license_type,
        destination_id=application.destination_id,
        valid_from=today,
        # Valid for whole years, through the day before the anniversary.
        valid_until=_add_years(today, validity.years) - timedelta(days=1),
        conditions="\n".join(conditions),
    )
    if goods is None:
        goods = Good.objects.filter(application=application)
    lines = LicenseGood.objects.bulk_create(
        [
            LicenseGood(
                license=license,
                good=good,
                description=good.description,
                control_list_entry_id=good.control_list_entry_id,
                quantity=good.quantity,
                value=good.value,
                currency=good.currency,
            )
            for good in goods
        ]
    )
    audit_record(
        application=application,
        actor=None,
        action="license_issued",
        to_state=license.status,
        data={
            "license": license.number,
            "valid_until": license.valid_until.isoformat(),
            "conditions": license.conditions,
            "goods": [{"good": line.good_id, "quantity": line.quantity} for line in lines],
        },
    )
    return license


def _license_change(*, license: License, user: User, action: str, reason: str) -> License:
    with transaction.atomic():
        application = lock(Application, license.application_id)
        license = lock(License, license.pk)
        rulebook.require(action, license, user)
        if not reason or not reason.strip():
            raise InvalidInput({"reason": [f"Give the reason to {action} the license."]})
        method = getattr(license, action)
        from_state = run_transition(license, action, lambda: method(reason=reason.strip()))
        event = audit_record(
            application=application,
            actor=user,
            action=f"license_{action}{'d' if action.endswith('e') else 'ed'}",
            from_state=from_state,
            to_state=license.status,
            reason=reason.strip(),
            data={"license": license.number},
        )
        notify(
            event=NotificationEvent.LICENSE_STATUS_CHANGED,
            recipients=organisation_exporters(license.organisation_id),
            key=f"license:{license.pk}:{event.pk}",
            subject=f"License {license.number} {license.get_status_display().lower()}",
            application=application,
            context={"license": license.number, "status": license.status, "reason": reason},
        )
    return license


def license_suspend(*, license: License, user: User, reason: str) -> License:
    return _license_change(license=license, user=user, action="suspend", reason=reason)


def license_reinstate(*, license: License, user: User, reason: str) -> License:
    return _license_change(license=license, user=user, action="reinstate", reason=reason)


def license_revoke(*, license: License, user: User, reason: str) -> License:
    return _license_change(license=license, user=user, action="revoke", reason=reason)


def license_surrender(*, license: License, user: User, reason: str) -> License:
    """The holder gives the licence back: no more shipments against it."""
    return _license_change(license=license, user=user, action="surrender", reason=reason)


def license_expire(*, license: License, today: date | None = None) -> License | None:
    """The daily task: end a license past its validity. None if already ended."""
    today = today or local_today()
    with transaction.atomic():
        application = lock(Application, license.application_id)
        license = lock(License, license.pk)
        if license.status not in LIVE_STATES or license.valid_until >= today:
            return None
        from_state = run_transition(license, "expire", license.expire)
        audit_record(
            application=application,
            actor=None,
            action="license_expired",
            from_state=from_state,
            to_state=license.status,
            data={"license": license.number, "valid_until": license.valid_until.isoformat()},
        )
        notify(
            event=NotificationEvent.LICENSE_EXPIRED,
            recipients=organisation_exporters(license.organisation_id),
            key=f"expired:{license.pk}",
            subject=f"License {license.number} has expired",
            application=application,
            context={"license": license.number},
        )
    return license
