"""Daily license housekeeping: the 30-day warning and expiry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction

from licensing.clock import local_today
from licensing.models import License, LicenseStatus, NotificationEvent
from licensing.models.licenses import LIVE_STATES
from licensing.notifications import notify
from licensing.selectors import organisation_exporters
from licensing.services.licenses import license_expire

WARNING_DAYS = 30


@dataclass
class ExpiryReport:
    warned: int = 0
    expired: int = 0


def licenses_expire_and_warn(*, today: date | None = None) -> ExpiryReport:
    today = today or local_today()
    report = ExpiryReport()
    for license in License.objects.filter(status__in=LIVE_STATES, valid_until__lt=today).only("pk"):
        if license_expire(license=license, today=today):
            report.expired += 1
    warn_by = today + timedelta(days=WARNING_DAYS)
    for license in License.objects.filter(
        status=LicenseStatus.ACTIVE,
        expiry_warning_sent=False,
        valid_until__gte=today,
        valid_until__lte=warn_by,
    ).select_related("application"):
        with transaction.atomic():
            if not License.objects.filter(pk=license.pk, expiry_warning_sent=False).update(
                expiry_warning_sent=True
            ):
                continue
            notify(
                event=NotificationEvent.LICENSE_EXPIRING,
                recipients=organisation_exporters(license.organisation_id),
                key=f"expiring:{license.pk}",
                subject=f"License {license.number} expires on {license.valid_until:%d %b %Y}",
                application=license.application,
                context={"license": license.number, "valid_until": license.valid_until.isoformat()},
            )
            report.warned += 1
    return report
