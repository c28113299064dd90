"""Parties and screening on the pages, without a browser."""

from __future__ import annotations

import re

import pytest

from licensing.models import Application, ScreeningMatch
from licensing.services.applications import application_submit
from licensing.services.reviews import review_claim
from tests import factories

pytestmark = pytest.mark.django_db

SANCTIONED = "Zagros Precision Industries"


def _form(prefix: str, **fields) -> dict:
    """A formset's management fields and rows: `_form("parties", rows=[...])`."""
    rows = fields.pop("rows", [])
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        data.update({f"{prefix}-{i}-{k}": v for k, v in row.items()})
    return data


def _draft_post(**overrides) -> dict:
    entry = factories.ControlListEntry.objects.get(code="6A003")
    data = {
        "license_type": "dual_use_export",
        "destination": "FR",
        "currency": "USD",
        "end_user_name": "Institut Demo",
        "end_user_address": "1 rue Demo, Paris",
        "end_user_country": "FR",
        "end_user_type": "research",
        "end_use": "Research.",
        **_form(
            "goods",
            rows=[
                {
                    "description": "Cooler",
                    "control_list_entry": entry.pk,
                    "quantity": "2",
                    "unit_value": "10.00",
                    "technology_generation": "previous",
                }
            ],
        ),
    }
    data.update(overrides)
    return data


def test_the_draft_page_adds_other_parties_and_the_case_page_lists_them(client, exporter):
    client.force_login(exporter)
    page = client.get("/applications/new/").content.decode()
    assert 'id="other-parties"' in page
    data = _draft_post(
        **_form(
            "parties",
            rows=[
                {
                    "kind": "intermediate_consignee",
                    "name": "Antwerp Forwarding NV",
                    "address": "Haven 1, Antwerp",
                    "country": "BE",
                    "type": "commercial",
                },
                {},  # the blank row the page offers: ignored
            ],
        )
    )
    response = client.post("/applications/new/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    application = Application.objects.get()
    party = application.other_parties.get()
    assert (party.kind, party.name, party.country_id) == (
        "intermediate_consignee",
        "Antwerp Forwarding NV",
        "BE",
    )
    assert application.other_party_count == 1
    case = client.get(f"/applications/{application.pk}/").content.decode()
    assert "Intermediate consignee</dt>" in case
    assert "Antwerp Forwarding NV, Commercial" in case
    edit = client.get(f"/applications/{application.pk}/edit/").content.decode()
    assert 'value="Antwerp Forwarding NV"' in edit


def test_a_party_without_a_country_is_an_error_on_the_draft_page(client, exporter):
    client.force_login(exporter)
    row = {"kind": "third_party", "name": "Broker", "address": "x", "type": "commercial"}
    response = client.post("/applications/new/", _draft_post(**_form("parties", rows=[row])))
    assert response.status_code == 400
    html = response.content.decode()
    # The error summary links to the party's country; what was typed stays.
    assert 'href="#id_parties-0-country"' in html
    assert "Choose the country of party 1." in html
    assert 'value="Broker"' in html
    assert not Application.objects.exists()


@pytest.fixture
def held(exporter, reviewers):
    factories.screening_list()
    application = factories.draft(created_by=exporter)
    factories.other_party(application, kind="ultimate_end_user", name=SANCTIONED)
    application_submit(application=application, user=exporter)
    return application, ScreeningMatch.objects.get()


def test_staff_see_the_match_with_its_resolve_form_and_the_exporter_sees_nothing(
    client, exporter, reviewers, held
):
    application, match = held
    client.force_login(reviewers["economy"])
    page = client.get(f"/applications/{application.pk}/").content.decode()
    assert 'id="screening-matches"' in page
    assert f"Ultimate end user: {SANCTIONED}" in page
    assert f'action="/screening-matches/{match.pk}/resolve/"' in page
    assert f'id="id_match-{match.pk}-disposition"' in page
    client.force_login(exporter)
    mine = client.get(f"/applications/{application.pk}/").content.decode()
    assert "screening" not in mine.lower()
    assert (
        client.post(
            f"/screening-matches/{match.pk}/resolve/", {"disposition": "cleared", "reason": "x"}
        ).status_code
        == 404
    )


def test_resolving_on_the_page_records_it_and_a_bad_form_keeps_what_was_typed(
    client, reviewers, held
):
    application, match = held
    client.force_login(reviewers["economy"])
    url = f"/screening-matches/{match.pk}/resolve/"
    refused = client.post(url, {"disposition": "", "reason": "Typed reasons"})
    assert refused.status_code == 400
    assert "Typed reasons" in refused.content.decode()
    body = {"disposition": "confirmed", "reason": "Same registry number."}
    # Irreversible: the page asks first, with what is about to be recorded.
    asked = client.post(url, body)
    assert asked.status_code == 200
    assert "Resolve the match of &#x27;Zagros Precision Industries&#x27;" in asked.content.decode()
    match.refresh_from_db()
    assert match.status == "open"
    done = client.post(url, {**body, "confirmed": "yes"})
    assert done.status_code == 302
    match.refresh_from_db()
    assert (match.status, match.reason, match.resolved_by) == (
        "confirmed",
        "Same registry number.",
        reviewers["economy"],
    )
    page = client.get(f"/applications/{application.pk}/").content.decode()
    assert f'action="/screening-matches/{match.pk}/resolve/"' not in page
    assert "Screening match of &#x27;Zagros Precision Industries&#x27; confirmed" in page
    again = client.post(
        url, {"disposition": "cleared", "reason": "x", "confirmed": "yes"}, follow=True
    )
    assert "Cannot resolve while the screening match is confirmed." in again.content.decode()


def test_the_recommend_form_refuses_approval_while_the_match_is_open(client, reviewers, held):
    application, _match = held
    review = review_claim(review=application.reviews.get(), user=reviewers["economy"])
    client.force_login(reviewers["economy"])
    response = client.post(f"/reviews/{review.pk}/recommend/", {"recommendation": "approve"})
    assert response.status_code == 400
    assert "is open: resolve it before approving" in response.content.decode()
    review.refresh_from_db()
    assert review.status == "in_progress"


def test_the_queue_marks_cases_with_open_matches(client, exporter, reviewers, held):
    application, _match = held
    factories.submitted(exporter)  # a case with no match
    client.force_login(reviewers["economy"])
    queue = client.get("/").content.decode()
    rows = re.findall(r"<tr data-reference=\"(EXP-[^\"]+)\"[^>]*>(.*?)</tr>", queue, re.S)
    assert len(rows) == 2
    marked = {ref for ref, row in rows if "badge-screening" in row}
    assert marked == {application.reference}
    assert "1 screening match<" in queue


def test_the_draft_forms_error_summary_follows_the_page(client, exporter):
    client.force_login(exporter)
    row = {"kind": "third_party", "name": "Broker", "address": "x", "type": "commercial"}
    data = _draft_post(**_form("parties", rows=[row]))
    data.update({"currency": "ZZZ", "end_use": "x" * 5001, "goods-0-quantity": "0"})
    response = client.post("/applications/new/", data)
    assert response.status_code == 400
    summary = re.search(r'<div class="error-summary".*?</div>', response.content.decode(), re.S)
    # Licence details, then the other parties, then the end use, then the goods.
    assert re.findall(r'<a href="#([^"]+)">', summary[0]) == [
        "id_currency",
        "id_parties-0-country",
        "id_end_use",
        "id_goods-0-quantity",
    ]
