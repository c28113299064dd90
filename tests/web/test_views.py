"""The web pages without a browser: what each audience is shown."""

from __future__ import annotations

import pytest
import time_machine

from licensing.clock import WorkingCalendar
from licensing.models import Application, DeadlinePolicy, Review
from licensing.services.applications import application_submit
from licensing.services.reviews import review_claim, review_recommend
from tests.auth import log_in
from tests.factories import draft

pytestmark = pytest.mark.django_db

SUNDAY = "2026-11-01 10:00 +02:00"


def _submit(exporter, **kwargs) -> Application:
    with time_machine.travel(SUNDAY, tick=False):
        return application_submit(application=draft(created_by=exporter, **kwargs), user=exporter)


def _deny(application: Application, reviewer, ministry: str, reason: str) -> None:
    review = Review.objects.get(application=application, ministry=ministry)
    review_claim(review=review, user=reviewer)
    review_recommend(
        review=review, user=reviewer, recommendation="deny", reason=reason, criteria=["7"]
    )


def test_an_exporter_never_sees_a_reviewers_notes_or_name(client, exporter, reviewers):
    application = _submit(exporter, destination="CN")
    _deny(application, reviewers["economy"], "economy", "INTERNAL: suspected front company")
    client.force_login(exporter)
    html = client.get(f"/applications/{application.pk}/").content.decode()
    assert "suspected front company" not in html
    assert reviewers["economy"].username not in html
    # Nor, before the decision, which ministry recommended what, nor its internal steps.
    assert "recommended" not in html and "Deny" not in html
    assert 'data-action="review_claimed"' not in html
    assert 'data-action="review_completed"' not in html
    assert 'data-action="application_submitted"' in html  # the case's own steps are there


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


def test_bad_form_input_is_shown_on_the_page_not_a_server_error(client, exporter, reviewers):
    application = _submit(exporter)
    review = Review.objects.get(application=application)
    client.force_login(reviewers["economy"])
    client.post(f"/reviews/{review.pk}/claim/")
    response = client.post(f"/reviews/{review.pk}/recommend/", {"recommendation": "perhaps"})
    assert response.status_code == 400
    assert "Choose a recommendation from the list." in response.content.decode()
    review.refresh_from_db()
    assert review.status == "in_progress"


def test_an_exporter_adds_a_document_and_a_reviewer_opens_it(
    client, exporter, reviewers, tmp_path, settings
):
    from django.core.files.uploadedfile import SimpleUploadedFile

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


def test_a_rejected_recommendation_keeps_what_the_reviewer_typed(client, exporter, reviewers):
    application = _submit(exporter)
    review = Review.objects.get(application=application)
    client.force_login(reviewers["economy"])
    client.post(f"/reviews/{review.pk}/claim/")
    response = client.post(
        f"/reviews/{review.pk}/recommend/",
        {"recommendation": "approve_with_conditions", "reason": "Long careful reasoning."},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "State the conditions." in html
    assert "Long careful reasoning." in html
    assert '<option value="approve_with_conditions" selected>' in html
    review.refresh_from_db()
    assert review.status == "in_progress"


def test_a_defense_supervisor_suspends_a_license_on_its_page(
    client, exporter, reviewers, supervisors
):
    application = _submit(exporter, code="ML10", license_type="marketing")
    for review in Review.objects.filter(application=application):
        review_claim(review=review, user=reviewers[review.ministry])
        review_recommend(review=review, user=reviewers[review.ministry], recommendation="approve")
    client.force_login(supervisors["defense"])
    page = client.get(f"/applications/{application.pk}/").content.decode()
    assert 'id="license-suspend"' in page
    license = application.license
    response = client.post(
        f"/licenses/{license.pk}/suspend/", {"reason": "Inquiry", "confirmed": "yes"}, follow=True
    )
    assert f"License {license.number} suspended." in response.content.decode()
    license.refresh_from_db()
    assert (license.status, license.status_reason) == ("suspended", "Inquiry")
    client.force_login(exporter)
    exporter_page = client.get(f"/applications/{application.pk}/").content.decode()
    assert 'id="license-suspend"' not in exporter_page
    assert 'id="license-revoke"' not in exporter_page
    assert 'id="license-reinstate"' not in exporter_page
    refused = client.post(f"/licenses/{license.pk}/reinstate/", {"reason": "x", "confirmed": "yes"})
    assert refused.status_code == 302
    license.refresh_from_db()
    assert license.status == "suspended"  # refused with a message, not changed


def test_long_lists_are_paged_with_a_count(client, exporter):
    for _ in range(55):
        draft(created_by=exporter, goods=0)
    client.force_login(exporter)
    first = client.get("/").content.decode()
    assert "Showing 1&ndash;50 of 55." in first
    second = client.get("/?page=2").content.decode()
    assert "Showing 51&ndash;55 of 55." in second
    filtered = client.get("/?status=approved").content.decode()
    assert "No applications match." in filtered


def test_the_draft_form_says_which_destinations_are_refused(client, exporter):
    client.force_login(exporter)
    html = client.get("/applications/new/").content.decode()
    assert "Iran (exports refused)" in html
    assert "Germany (refused" not in html


@pytest.mark.parametrize("persona", ["exporter", "reviewer", "supervisor", "committee", "admin"])
@pytest.mark.parametrize("query", ["q=%00", "q=EXP%00", "status=%00", "page=%00", "q%00=x"])
def test_nul_in_the_home_page_search_is_ignored_not_a_server_error(
    client, exporter, reviewers, supervisors, committee_member, administrator, persona, query
):
    """A NUL reaches no query (PostgreSQL refuses it): the parameter is dropped."""
    user = {
        "exporter": exporter,
        "reviewer": reviewers["economy"],
        "supervisor": supervisors["economy"],
        "committee": committee_member,
        "admin": administrator,
    }[persona]
    _submit(exporter)
    client.raise_request_exception = False
    log_in(client, user)
    response = client.get(f"/?{query}")
    assert response.status_code == 200
    assert b"\x00" not in response.content
