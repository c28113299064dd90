"""The document service: names follow the content, and each application's documents are capped."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from licensing.exceptions import LimitReached, TooLarge
from licensing.models import Document
from licensing.models.applications import name_for_content_type
from licensing.services.documents import document_upload
from tests.factories import draft

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n%%EOF\n"


def _upload(application, user, content: bytes = PDF, name: str = "cert.pdf") -> Document:
    return document_upload(
        application=application,
        user=user,
        file=SimpleUploadedFile(name, content),
        kind="other",
    )


def test_a_pdf_named_html_is_stored_as_pdf(exporter):
    document = _upload(draft(created_by=exporter), exporter, name="x.html")
    assert document.filename == "x.pdf"
    assert document.display_name == "x.pdf"
    assert document.file.name.endswith(".pdf")
    assert str(document) == "x.pdf"


@pytest.mark.parametrize(
    ("name", "content_type", "expected"),
    [
        ("x.html", "application/pdf", "x.pdf"),
        ("x.pdf", "application/pdf", "x.pdf"),
        ("x.jpeg", "image/jpeg", "x.jpeg"),
        ("x.png", "image/jpeg", "x.jpg"),
        ("x", "image/png", "x.png"),
        (".pdf", "application/pdf", "pdf.pdf"),
        ("x.html", "text/html", "x.html"),  # a type we never store: left alone
    ],
)
def test_name_for_content_type(name, content_type, expected):
    assert name_for_content_type(name, content_type) == expected


def test_the_count_cap_refuses_before_reading_the_file(exporter, settings):
    settings.DOCUMENT_MAX_COUNT = 2
    application = draft(created_by=exporter)
    _upload(application, exporter)
    _upload(application, exporter)
    with pytest.raises(LimitReached) as refused:
        # Not even a PDF: the cap answers first, as the state would.
        _upload(application, exporter, content=b"MZ not a document")
    assert refused.value.code == "too_many_documents"
    assert refused.value.current_state == "draft"
    assert application.documents.count() == 2


def test_the_total_size_cap_counts_what_the_application_holds(exporter, settings):
    settings.DOCUMENT_MAX_TOTAL_BYTES = 100
    application = draft(created_by=exporter)
    _upload(application, exporter, content=PDF.ljust(60, b" "))
    with pytest.raises(TooLarge, match="one application may hold"):
        _upload(application, exporter, content=PDF.ljust(41, b" "))
    _upload(application, exporter, content=PDF.ljust(40, b" "))  # exactly at the cap
    assert sum(d.size for d in application.documents.all()) == 100
    # A refused upload leaves no file behind.
    assert Document.objects.count() == 2
