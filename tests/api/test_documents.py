"""Supporting documents: judged by their bytes, limited in size, only while the case is open."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from licensing.models import AuditEvent, Document
from licensing.services.applications import application_submit, application_withdraw
from tests.factories import draft

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
EXE = b"MZ\x90\x00" + b"\x00" * 32


def upload(client, application, content: bytes, name: str = "eu-cert.pdf", kind: str = "other"):
    return client.post(
        f"/api/v1/applications/{application.pk}/documents/",
        {"file": SimpleUploadedFile(name, content), "kind": kind},
        format="multipart",
    )


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(PDF, "application/pdf"), (PNG, "image/png"), (JPEG, "image/jpeg")],
)
def test_the_exporter_uploads_a_document_judged_by_content(api, exporter, content, content_type):
    application = draft(created_by=exporter)
    response = upload(api(exporter), application, content, name="scan.bin", kind="other")
    assert response.status_code == 201
    body = response.json()
    assert body["content_type"] == content_type
    assert body["size"] == len(content)
    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    assert body["filename"] == "scan.bin"
    stored = Document.objects.get(pk=body["id"])
    assert stored.file.read() == content
    listed = api(exporter).get(f"/api/v1/applications/{application.pk}/documents/")
    assert [d["id"] for d in listed.json()["results"]] == [body["id"]]


def test_a_program_named_like_a_pdf_is_refused(api, exporter):
    application = draft(created_by=exporter)
    response = upload(api(exporter), application, EXE, name="certificate.pdf")
    assert response.status_code == 400
    assert "file" in response.json()
    assert not Document.objects.exists()


def test_an_unknown_kind_or_missing_file_is_a_400(api, exporter):
    application = draft(created_by=exporter)
    assert "kind" in upload(api(exporter), application, PDF, kind="selfie").json()
    missing = api(exporter).post(
        f"/api/v1/applications/{application.pk}/documents/", {"kind": "other"}
    )
    assert (missing.status_code, list(missing.json())) == (400, ["file"])


def test_a_file_over_the_limit_is_a_413(api, exporter, settings):
    settings.DOCUMENT_MAX_BYTES = 1024
    application = draft(created_by=exporter)
    assert upload(api(exporter), application, PDF + b"0" * 1000).status_code == 413
    assert upload(api(exporter), application, PDF.ljust(1024, b" ")).status_code == 201
    assert Document.objects.count() == 1


def test_the_ten_megabyte_limit_applies_by_default(api, exporter, settings):
    assert settings.DOCUMENT_MAX_BYTES == 10 * 1024 * 1024
    application = draft(created_by=exporter)
    big = PDF + b"0" * (10 * 1024 * 1024)
    assert upload(api(exporter), application, big).status_code == 413


def test_documents_are_added_while_open_and_audited_once_submitted(api, exporter):
    application = draft(created_by=exporter)
    application_submit(application=application, user=exporter)
    assert upload(api(exporter), application, PDF).status_code == 201
    event = AuditEvent.objects.get(action="document_uploaded")
    assert event.application_id == application.pk
    application_withdraw(application=application, user=exporter)
    closed = upload(api(exporter), application, PDF)
    assert closed.status_code == 409
    assert closed.json()["current_state"] == "withdrawn"


def test_only_the_organisations_exporters_upload(api, exporter, teammate, outsider, reviewers):
    application = draft(created_by=exporter)
    assert upload(api(teammate), application, PDF).status_code == 201
    assert upload(api(outsider), application, PDF).status_code == 404
    application_submit(application=application, user=exporter)
    assert upload(api(reviewers["economy"]), application, PDF).status_code == 403
    listed = api(reviewers["economy"]).get(f"/api/v1/applications/{application.pk}/documents/")
    assert listed.json()["count"] == 1


def test_whoever_sees_the_application_downloads_the_file_and_no_one_else(
    api, exporter, outsider, reviewers
):
    application = draft(created_by=exporter)
    body = upload(api(exporter), application, PDF, name="end user cert.pdf").json()
    url = body["file_url"]
    assert url == f"/api/v1/applications/{application.pk}/documents/{body['id']}/file/"

    response = api(exporter).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"

    assert api(outsider).get(url).status_code == 404
    assert api(reviewers["economy"]).get(url).status_code == 404  # a draft is not theirs yet
    application_submit(application=application, user=exporter)
    assert api(reviewers["economy"]).get(url).status_code == 200
    assert api(reviewers["defense"]).get(url).status_code == 404  # not routed to Defense
    other = draft(created_by=exporter)
    assert (
        api(exporter)
        .get(f"/api/v1/applications/{other.pk}/documents/{body['id']}/file/")
        .status_code
        == 404
    )
