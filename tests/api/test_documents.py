"""Supporting documents: judged by their bytes, limited in size, only while the case is open."""

from __future__ import annotations

import hashlib
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.storage import FileSystemStorage
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
    assert body["filename"] == "scan" + {"application/pdf": ".pdf", "image/png": ".png"}.get(
        content_type, ".jpg"
    )
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


@pytest.mark.parametrize(
    ("name", "content", "shown"),
    [
        ("x.html", PDF, "x.pdf"),
        ("x.HTML", PNG, "x.png"),
        ("invoice.pdf.exe", PDF, "invoice.pdf.pdf"),
        ("photo.jpeg", JPEG, "photo.jpeg"),
        ("photo.JPG", JPEG, "photo.JPG"),
        ("scan.pdf", PNG, "scan.png"),
        ("no-extension", PDF, "no-extension.pdf"),
        ("report.v2.svg", PDF, "report.v2.pdf"),
        ("()", PDF, "document.pdf"),
        ("a" * 300 + ".html", PDF, "a" * 250 + ".pdf"),  # Django keeps 255 of the name
    ],
)
def test_the_name_is_shown_and_served_with_the_extension_of_its_content(
    api, exporter, name, content, shown
):
    """A PDF named x.html is never served back as x.html (a browser would render it)."""
    application = draft(created_by=exporter)
    body = upload(api(exporter), application, content, name=name).json()
    assert body["filename"] == shown
    assert Document.objects.get(pk=body["id"]).filename == shown
    served = api(exporter).get(body["file_url"])
    assert f'filename="{shown}"' in served["Content-Disposition"]
    assert ".html" not in served["Content-Disposition"].lower()


def test_a_document_stored_under_its_old_name_is_served_with_the_right_extension(api, exporter):
    """Rows uploaded before names were corrected keep their name in the table only."""
    application = draft(created_by=exporter)
    body = upload(api(exporter), application, PDF, name="x.pdf").json()
    Document.objects.filter(pk=body["id"]).update(filename="x.html")
    listed = api(exporter).get(f"/api/v1/applications/{application.pk}/documents/").json()
    assert listed["results"][0]["filename"] == "x.pdf"
    served = api(exporter).get(body["file_url"])
    assert 'filename="x.pdf"' in served["Content-Disposition"]


def test_documents_per_application_are_capped_in_number_with_a_409(api, exporter, settings):
    settings.DOCUMENT_MAX_COUNT = 3
    application = draft(created_by=exporter)
    client = api(exporter)
    assert [upload(client, application, PDF).status_code for _ in range(3)] == [201] * 3
    refused = upload(client, application, PDF)
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "too_many_documents"
    assert body["current_state"] == "draft"
    assert "3 documents" in body["detail"]
    assert application.documents.count() == 3
    # The cap is per application: another one takes documents.
    assert upload(client, draft(created_by=exporter), PDF).status_code == 201


def test_documents_per_application_are_capped_in_total_size_with_a_413(api, exporter, settings):
    settings.DOCUMENT_MAX_TOTAL_BYTES = 2048
    application = draft(created_by=exporter)
    client = api(exporter)
    assert upload(client, application, PDF.ljust(1024, b" ")).status_code == 201
    assert upload(client, application, PDF.ljust(1024, b" ")).status_code == 201
    refused = upload(client, application, PDF)
    assert refused.status_code == 413
    assert "one application may hold" in refused.json()["detail"]
    assert application.documents.count() == 2


def test_the_caps_default_to_fifty_documents_and_a_hundred_megabytes(settings):
    assert settings.DOCUMENT_MAX_COUNT == 50
    assert settings.DOCUMENT_MAX_TOTAL_BYTES == 100 * 1024 * 1024


# Serving modes (deploy/README.md): nginx X-Accel-Redirect, and presigned URLs from a bucket.


def test_behind_nginx_the_download_is_an_x_accel_redirect_after_the_same_check(
    api, exporter, outsider, settings
):
    settings.DOCUMENTS_X_ACCEL = True
    application = draft(created_by=exporter)
    body = upload(api(exporter), application, PDF, name="end user cert.pdf").json()
    stored = Document.objects.get(pk=body["id"]).file.name

    response = api(exporter).get(body["file_url"])
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == "/_protected/media/" + stored
    assert response.content == b""  # nginx sends the bytes, from its internal location
    assert response["Content-Type"] == "application/pdf"
    assert 'attachment; filename="end_user_cert.pdf"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert api(outsider).get(body["file_url"]).status_code == 404


class _FakeBucket(FileSystemStorage):
    """A storage without local paths (as S3's), recording what url() was asked."""

    asked: ClassVar[list] = []

    def path(self, name):
        raise NotImplementedError("no local paths")

    def url(self, name, parameters=None, expire=None, http_method=None):
        self.asked.append((name, parameters, expire))
        return f"https://bucket.example/{name}?signature=abc"


def test_from_a_bucket_the_download_redirects_to_the_storages_url(
    api, exporter, outsider, settings
):
    application = draft(created_by=exporter)
    body = upload(api(exporter), application, PDF, name="cert.pdf").json()
    stored = Document.objects.get(pk=body["id"]).file.name
    settings.DOCUMENTS_URL_SECONDS = 45
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": f"{__name__}._FakeBucket",
            "OPTIONS": {"location": str(settings.MEDIA_ROOT)},
        },
    }
    _FakeBucket.asked.clear()

    assert api(outsider).get(body["file_url"]).status_code == 404
    assert _FakeBucket.asked == []  # no URL for whoever may not see the application

    response = api(exporter).get(body["file_url"])
    assert response.status_code == 302
    assert response["Location"] == f"https://bucket.example/{stored}?signature=abc"
    assert response["Cache-Control"] == "private, no-store"
    [(name, parameters, expire)] = _FakeBucket.asked
    assert (name, expire) == (stored, 45)
    assert parameters == {
        "ResponseContentType": "application/pdf",
        "ResponseContentDisposition": 'attachment; filename="cert.pdf"',
    }


def test_the_s3_backend_presigns_a_short_lived_url_for_the_public_endpoint(api, exporter, settings):
    """django-storages' real S3 backend: signing is local, so no server is needed."""
    application = draft(created_by=exporter)
    body = upload(api(exporter), application, PDF, name="cert.pdf").json()
    stored = Document.objects.get(pk=body["id"]).file.name
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "licensing.storage.DocumentS3Storage",
            "OPTIONS": {
                "bucket_name": "documents",
                "endpoint_url": "http://minio:9000",
                "public_endpoint_url": "https://files.example.test",
                "region_name": "us-east-1",
                "access_key": "test-access-key",
                "secret_key": "test-secret-key",
                "signature_version": "s3v4",
                "addressing_style": "path",
                "querystring_expire": 3600,
            },
        },
    }
    response = api(exporter).get(body["file_url"])
    assert response.status_code == 302
    url = urlsplit(response["Location"])
    query = parse_qs(url.query)
    assert (url.scheme, url.netloc, url.path) == (
        "https",
        "files.example.test",
        f"/documents/{stored}",
    )
    assert query["X-Amz-Expires"] == [str(settings.DOCUMENTS_URL_SECONDS)]
    assert query["X-Amz-Credential"][0].startswith("test-access-key/")
    assert "X-Amz-Signature" in query
    assert query["response-content-disposition"] == ['attachment; filename="cert.pdf"']
    assert query["response-content-type"] == ["application/pdf"]


def test_the_licence_document_carries_every_other_party(api, exporter, reviewers):
    from io import BytesIO

    from pypdf import PdfReader

    from licensing.models import License
    from tests import factories

    application = factories.draft(created_by=exporter)
    factories.other_party(
        application, kind="intermediate_consignee", name="Rotterdam Transit BV", country="NL"
    )
    factories.other_party(
        application, kind="ultimate_end_user", name="Institut Optique Lyon", country="FR"
    )
    factories.recommend_all(application_submit(application=application, user=exporter), reviewers)
    license = License.objects.get(application=application)
    response = api(exporter).get(f"/api/v1/licenses/{license.pk}/document/")
    assert response.status_code == 200
    pages = PdfReader(BytesIO(b"".join(response.streaming_content))).pages
    text = " ".join(" ".join(page.extract_text() for page in pages).split())
    for expected in (
        "Intermediate consignee Rotterdam Transit BV, 1 Made-up Street, Netherlands",
        "Ultimate end user Institut Optique Lyon, 1 Made-up Street, France",
    ):
        assert expected in text, text
