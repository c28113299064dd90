"""The web pages without a browser: what each audience is shown."""

from __future__ import annotations

import pytest
import time_machine

from licensing.clock import WorkingCalendar
from licensing.models import Application, DeadlinePolicy, Review
from licensing.services.applications import application_submit
from licensing.services.reviews import review_claim, review_recommend
from tests.factories import draft

pytestmark = pytest.mark.django_db

SUNDAY = "2026-11-01 10:00 +02:00"


def _submit(exporter, **kwargs) -> Application:
    with time_machine.travel(SUNDAY, tick=False):
        return application_submit(application=draft(created_by=exporter, **kwargs), user=exporter)


def _deny(application: Application, reviewer, ministry: str, reason: str) -> None:
    review = Review.objects.get(application=application, ministry=ministry)
    review_claim(review=review, user=reviewer)
    review_recommend(review=review, user=reviewer, recommendation="deny", reason=reason)


def test_an_exporter_never_sees_a_reviewers_notes_or_name(client, exporter, reviewers):
    application = _submit(exporter, destination="CN")
    _deny(application, reviewers["economy"], "economy", "INTERNAL: suspected front company")
    client.force_login(exporter)
    html = client.get(f"/applications/{application.pk}/").content.decode()
    assert "suspected front company" not in html
    assert reviewers["economy"].username not in html
    assert "review_completed" in html  # the step itself is on the timeline


def test_ministry_staff_see_the_reasons_on_the_timeline(client, exporter, reviewers):
    application = _submit(exporter, destination="CN")
    _deny(application, reviewers["economy"], "economy", "INTERNAL: suspected front company")
    client.force_login(reviewers["foreign"])
    html = client.get(f"/applications/{application.pk}/").content.decode()
    assert "suspected front company" in html
    assert reviewers["economy"].username in html


def test_due_soon_follows_each_ministrys_reminder_window(client, exporter, reviewers):
    application = _submit(exporter, destination="CN")
    foreign = Review.objects.get(application=application, ministry="foreign")
    window = DeadlinePolicy.objects.get(ministry="foreign").reminder_days_before
    calendar = WorkingCalendar.load()
    client.force_login(reviewers["foreign"])
    outside = calendar.subtract_working_days(foreign.due_date, window + 1)
    with time_machine.travel(f"{outside.isoformat()} 10:00 +02:00", tick=False):
        assert "(due soon)" not in client.get("/").content.decode()
    inside = calendar.subtract_working_days(foreign.due_date, window)
    with time_machine.travel(f"{inside.isoformat()} 10:00 +02:00", tick=False):
        assert "(due soon)" in client.get("/").content.decode()


def test_a_denied_application_reads_denied(client, exporter, reviewers):
    application = _submit(exporter)
    _deny(application, reviewers["economy"], "economy", "Reasons")
    client.force_login(exporter)
    html = client.get(f"/applications/{application.pk}/").content.decode()
    assert "Denied on" in html


@pytest.mark.parametrize(
    "path",
    ["/applications/{pk}/", "/applications/{pk}/edit/"],
)
def test_another_companys_application_is_not_found(client, exporter, outsider, path):
    application = draft(created_by=exporter)
    client.force_login(outsider)
    assert client.get(path.format(pk=application.pk)).status_code == 404
    assert client.post(f"/applications/{application.pk}/submit/").status_code == 404
    application.refresh_from_db()
    assert application.status == "draft"


def test_bad_form_input_is_a_message_not_an_error(client, exporter, reviewers):
    application = _submit(exporter)
    review = Review.objects.get(application=application)
    client.force_login(reviewers["economy"])
    client.post(f"/reviews/{review.pk}/claim/")
    response = client.post(
        f"/reviews/{review.pk}/recommend/", {"recommendation": "perhaps"}, follow=True
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    review.refresh_from_db()
    assert review.status == "in_progress"


def test_an_exporter_adds_a_document_and_a_reviewer_opens_it(
    client, exporter, reviewers, tmp_path, settings
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    application = draft(created_by=exporter)
    client.force_login(exporter)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
    response = client.post(
        f"/applications/{application.pk}/upload/",
        {"kind": "technical_specification", "file": SimpleUploadedFile("spec.png", png)},
        follow=True,
    )
    assert "Document added." in response.content.decode()
    refused = client.post(
        f"/applications/{application.pk}/upload/",
        {"kind": "other", "file": SimpleUploadedFile("virus.pdf", b"MZ" + b"\x00" * 16)},
        follow=True,
    )
    assert "Upload a PDF, PNG or JPEG file" in refused.content.decode()
    assert application.documents.count() == 1

    application_submit(application=application, user=exporter)
    client.force_login(reviewers["economy"])
    page = client.get(f"/applications/{application.pk}/").content.decode()
    document = application.documents.get()
    link = f"/api/v1/applications/{application.pk}/documents/{document.pk}/file/"
    assert link in page
    assert 'id="upload"' not in page  # reviewers do not add the exporter's documents
    assert b"".join(client.get(link).streaming_content) == png
