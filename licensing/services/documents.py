"""Exporters' supporting documents: PDF, PNG or JPEG, judged by content, never by name.

The name a client sent is kept for display only, with the extension of the
type found in the content (a PDF sent as `x.html` is `x.pdf`); the file is
stored under a name of ours. Each application holds at most
DOCUMENT_MAX_COUNT documents (409, `too_many_documents`) of at most
DOCUMENT_MAX_TOTAL_BYTES together (413), checked under the application's lock.
"""

from __future__ import annotations

import hashlib
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Count, Sum
from django.utils.text import get_valid_filename

from accounts.models import User
from licensing import page_cache, rulebook
from licensing.audit import audit_record
from licensing.exceptions import InvalidInput, LimitReached, TooLarge
from licensing.models import Application, ApplicationStatus, Document, DocumentKind
from licensing.models.applications import document_size_limit as size_limit
from licensing.models.applications import megabytes, name_for_content_type
from licensing.services.common import locked

S = ApplicationStatus

# (magic bytes at offset 0, content type, extension). A renamed .exe stays an .exe.
SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)


def sniff_content_type(head: bytes) -> tuple[str, str] | None:
    """The content type and extension the first bytes prove, or None."""
    for magic, content_type, extension in SIGNATURES:
        if head.startswith(magic):
            return content_type, extension
    return None


def _display_name(name: str | None, content_type: str) -> str:
    """The client's name, made a plain file name, with the content's extension."""
    try:
        cleaned = get_valid_filename(PurePath(name or "").name) if name else ""
    except SuspiciousFileOperation:  # nothing usable left, such as "()" or "..."
        cleaned = ""
    return name_for_content_type(cleaned or "document", content_type)


def _check_count(application: Application) -> int:
    """Refuse a document past the application's count cap; the bytes it already holds."""
    held = application.documents.aggregate(count=Count("id"), total=Sum("size"))
    if held["count"] >= settings.DOCUMENT_MAX_COUNT:
        raise LimitReached(
            f"This application already has {held['count']} documents, the most one "
            f"application may hold ({settings.DOCUMENT_MAX_COUNT}).",
            current_state=application.status,
            code="too_many_documents",
        )
    return held["total"] or 0


def _check_total(held_bytes: int, size: int) -> None:
    if held_bytes + size > settings.DOCUMENT_MAX_TOTAL_BYTES:
        raise TooLarge(
            f"This application's documents would total more than the "
            f"{megabytes(settings.DOCUMENT_MAX_TOTAL_BYTES)} one application may hold."
        )


def document_upload(
    *, application: Application, user: User, file: UploadedFile, kind: str
) -> Document:
    """Attach a document while the application is open; record its size, sha256 and type."""
    with locked(Application, application.pk) as application:
        rulebook.require("upload", application, user)
        if kind not in DocumentKind.values:
            raise InvalidInput({"kind": [f"Choose one of {', '.join(DocumentKind.values)}."]})
        # Under the application's lock, so two uploads at once cannot both pass the caps.
        held_bytes = _check_count(application)
        content, content_type, extension = _read_checked(file)
        _check_total(held_bytes, len(content))
        document = _store(application, user, file.name, kind, content, content_type, extension)
    return document


def _read_checked(file: UploadedFile) -> tuple[bytes, str, str]:
    """The file's bytes, once its size and its content (not its name) pass."""
    if file.size is None or file.size > settings.DOCUMENT_MAX_BYTES:
        raise TooLarge(f"The file is larger than the {size_limit()} limit.")
    file.seek(0)
    content = file.read()
    sniffed = sniff_content_type(content[:16])
    if sniffed is None:
        raise InvalidInput(
            {"file": ["Upload a PDF, PNG or JPEG file (checked by content, not by name)."]},
            code="unsupported_type",
        )
    return content, *sniffed


def _store(
    application: Application,
    user: User,
    name: str | None,
    kind: str,
    content: bytes,
    content_type: str,
    extension: str,
) -> Document:
    sha256 = hashlib.sha256(content).hexdigest()
    document = Document(
        application=application,
        kind=kind,
        filename=_display_name(name, content_type),
        content_type=content_type,
        size=len(content),
        sha256=sha256,
        uploaded_by=user,
    )
    # Stored under a name we choose; the client's name is only displayed.
    document.file.save(f"{sha256[:32]}{extension}", ContentFile(content), save=False)
    try:
        document.save()
        if application.status == S.DRAFT:  # recorded below without the application
            page_cache.application_changed(application.pk, application.organisation_id)
        audit_record(
            # A draft's trail starts at submission (a draft can be deleted, and the
            # trail is append-only), so a draft's upload is recorded without the row.
            application=None if application.status == S.DRAFT else application,
            actor=user,
            action="document_uploaded",
            to_state=application.status,
            data={
                "reference": application.reference,
                "document": document.pk,
                "kind": kind,
                "size": document.size,
                "sha256": sha256,
                "content_type": content_type,
            },
        )
    except BaseException:
        # The row did not make it, so neither does the file.
        document.file.delete(save=False)
        raise
    return document
