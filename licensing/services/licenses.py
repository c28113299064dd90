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
    LicenseStatus,
    LicenseValidity,
    NotificationEvent,
    Review,
    ReviewStatus,
)
from licensing.models.licenses import LIVE_STATES
from licensing.notifications import notify
from licensing.selectors import organisation_exporters
from licensing.services.common import lock, next_number, run_transition
from licensing.services.outcomes import conditions_of_good


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _conditions(application: Application, goods: list[Good], committee_conditions: str = "") -> str:
    """Every completed review's conditions: overall, and those of each licensed good beyond
    them (`conditions_of_good`); then the committee's, when it approved with conditions of
    its own."""
    licensed = {good.pk: good for good in goods}
    lines = []
    for review in Review.objects.filter(
        application=application, status=ReviewStatus.COMPLETED
    ).order_by("ministry"):
        ministry = review.get_ministry_display()
        if review.conditions:
            lines.append(f"{ministry}: {review.conditions}")
        for entry in review.goods_recommendations:
            good = licensed.get(entry["good"])
            own = conditions_of_good(review, entry)
            if good is not None and own:
                lines.append(f"{ministry} ({good.description}): {own}")
    if committee_conditions:
        lines.append(f"Committee: {committee_conditions}")
    return "\n".join(lines)


def _lines(license: License, goods: Iterable[Good]) -> list[LicenseGood]:
    return LicenseGood.objects.bulk_create(
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


def license_issue(
    *, application: Application, goods: Iterable[Good] | None = None, committee_conditions: str = ""
) -> License:
    """Issue the license of an approved application, with every review's conditions
    (and the committee's, when it approved with conditions of its own).

    The licence covers `goods` (by default every good of the application), one
    line each with its quantity and value. An application that amends a licence
    replaces it: the new licence names it, and a live one is superseded.
    """
    today = local_today()
    validity = LicenseValidity.objects.get(license_type=application.license_type)
    goods = list(goods if goods is not None else Good.objects.filter(application=application))
    replaces = None
    if application.amends_license_id:
        replaces = lock(License, application.amends_license_id)
    license = License.objects.create(
        number=next_number("LIC", today.year),
        application=application,
        organisation_id=application.organisation_id,
        license_type=application.license_type,
        destination_id=application.destination_id,
        valid_from=today,
        # Valid for whole years, through the day before the anniversary.
        valid_until=_add_years(today, validity.years) - timedelta(days=1),
        conditions=_conditions(application, goods, committee_conditions),
        replaces=replaces,
    )
    lines = _lines(license, goods)
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
            "replaces": replaces.number if replaces else None,
        },
    )
    if replaces is not None and replaces.status in LIVE_STATES:
        _supersede(replaces, by=license)
    return license


def _supersede(old: License, *, by: License) -> None:
    """The amended licence gives way to its replacement (on the old one's own chain)."""
    application = Application.objects.get(pk=old.application_id)
    from_state = run_transition(old, "supersede", lambda: old.supersede(by=by))
    audit_record(
        application=application,
        actor=None,
        action="license_superseded",
        from_state=from_state,
        to_state=old.status,
        reason=old.status_reason,
        data={"license": old.number, "replaced_by": by.number},
    )
    notify(
        event=NotificationEvent.LICENSE_STATUS_CHANGED,
        recipients=organisation_exporters(old.organisation_id),
        key=f"license:{old.pk}:superseded",
        subject=f"License {old.number} replaced by {by.number}",
        application=application,
        context={"license": old.number, "status": old.status, "reason": old.status_reason},
    )


def license_widen(
    *, license: License, goods: list[Good], committee_conditions: str = ""
) -> License:
    """An appeal upheld on a partial approval: the licence now covers the goods refused before.

    The licence keeps its number, validity and shipments; each good gains its line, and
    an exhausted licence is in force again (a revoked, surrendered or expired one stays so).
    """
    lines = _lines(license, goods)
    from_state = license.status
    if committee_conditions:
        license.conditions = "\n".join(
            filter(None, [license.conditions, f"Committee: {committee_conditions}"])
        )
        license.save(update_fields=["conditions"])
    if lines and license.status == LicenseStatus.EXHAUSTED:
        run_transition(license, "reopen", license.reopen)
    audit_record(
        application=Application.objects.get(pk=license.application_id),
        actor=None,
        action="license_widened",
        from_state=from_state,
        to_state=license.status,
        data={
            "license": license.number,
            "goods": [{"good": line.good_id, "quantity": line.quantity} for line in lines],
            "conditions": license.conditions,
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
