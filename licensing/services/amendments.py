"""Amending by copy: an application under review, or a licence in force.

The amendment is a new draft carrying the original's parties (end user,
consignee and other parties), goods and documents. The original keeps its
reviews running until the amendment is submitted
(`licensing.services.applications.application_submit` then supersedes it);
withdrawing or deleting the draft leaves the original as it was. An amended
licence is replaced when its amendment is approved
(`licensing.services.licenses.license_issue`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePath
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction

from accounts.models import User
from licensing import page_cache, rulebook
from licensing.audit import audit_record
from licensing.clock import local_today
from licensing.models import Application, Document, Good, License, OtherParty
from licensing.models.applications import APPLICATION_FIELDS, GOOD_FIELDS
from licensing.services.common import lock, locked, next_number


def _attnames(model_fields: Sequence[str], obj: Any) -> dict[str, Any]:
    """`obj`'s values of `model_fields`, by column (`destination_id`): no related row read."""
    names = (obj._meta.get_field(name).attname for name in model_fields)
    return {name: getattr(obj, name) for name in names}


def _draft(
    original: Application, user: User, goods: Sequence[dict[str, Any]], **links: Any
) -> Application:
    parties = list(original.other_parties.all()) if original.other_party_count else []
    amendment = Application.objects.create(
        reference=next_number("EXP", local_today().year),
        organisation_id=original.organisation_id,
        created_by=user,
        other_party_count=len(parties),
        **_attnames(APPLICATION_FIELDS, original),
        **links,
    )
    OtherParty.objects.bulk_create(
        [
            OtherParty(
                application=amendment,
                kind=party.kind,
                name=party.name,
                address=party.address,
                country_id=party.country_id,
                type=party.type,
            )
            for party in parties
        ]
    )
    Good.objects.bulk_create([Good(application=amendment, **good) for good in goods])
    # Each file copied (deleting the draft deletes its own files, never the original's),
    # stored as uploads are: under a name we choose, and gone again if the rows are not.
    copies: list[Document] = []
    try:
        for document in original.documents.all():
            with document.file.open("rb") as source:
                content = source.read()
            copy = Document(
                application=amendment,
                kind=document.kind,
                filename=document.filename,
                content_type=document.content_type,
                size=document.size,
                sha256=document.sha256,
                uploaded_by=document.uploaded_by,
            )
            suffix = PurePath(document.file.name).suffix
            copy.file.save(f"{document.sha256[:32]}{suffix}", ContentFile(content), save=False)
            copies.append(copy)
        Document.objects.bulk_create(copies)
    except BaseException:
        for copy in copies:
            copy.file.delete(save=False)
        raise
    return amendment


def _goods_of(application: Application) -> list[dict[str, Any]]:
    return [_attnames(GOOD_FIELDS, good) for good in application.goods.all()]


def application_amend(*, application: Application, user: User) -> Application:
    """A new draft copying `application` (under review or waiting for the exporter)."""
    with locked(Application, application.pk) as application:
        rulebook.require("amend", application, user)
        amendment = _draft(application, user, _goods_of(application), amendment_of=application)
        application.pending_amendment = amendment
        application.save(update_fields=["pending_amendment", "updated_at"])
        audit_record(
            application=application,
            actor=user,
            action="amendment_drafted",
            from_state=application.status,
            to_state=application.status,
            data={"amendment": amendment.pk, "reference": amendment.reference},
        )
    return amendment


def license_amend(*, license: License, user: User) -> Application:
    """A new draft pre-filled from the licence: its application's parties, its goods as licensed."""
    with transaction.atomic():
        original = lock(Application, license.application_id)
        license = lock(License, license.pk)
        rulebook.require("amend", license, user)
        goods = []
        for line in license.goods.select_related("good"):
            good = line.good
            goods.append(
                {
                    "description": line.description,
                    "control_list_entry_id": line.control_list_entry_id,
                    "quantity": line.quantity,
                    "unit_value": good.unit_value,
                    "currency": line.currency,
                    "technology_generation": good.technology_generation,
                    "us_origin_content": good.us_origin_content,
                }
            )
        amendment = _draft(original, user, goods, amends_license=license)
        license.pending_amendment = amendment
        license.save(update_fields=["pending_amendment"])
        audit_record(
            application=original,
            actor=user,
            action="license_amendment_drafted",
            from_state=license.status,
            to_state=license.status,
            data={"license": license.number, "amendment": amendment.pk},
        )
    return amendment


def amendment_released(application: Application) -> None:
    """The amendment draft is gone (withdrawn) or submitted: the original may be amended again.
    Call with `application` locked."""
    if application.amendment_of_id:
        page_cache.application_changed(application.amendment_of_id, application.organisation_id)
        Application.objects.filter(
            pk=application.amendment_of_id, pending_amendment=application
        ).update(pending_amendment=None)
    if application.amends_license_id:
        License.objects.filter(
            pk=application.amends_license_id, pending_amendment=application
        ).update(pending_amendment=None)
        if page_cache.enabled():  # the licence is shown on its own application's page
            licensed = License.objects.values_list("application_id", flat=True)
            page_cache.application_changed(
                licensed.get(pk=application.amends_license_id), application.organisation_id
            )
