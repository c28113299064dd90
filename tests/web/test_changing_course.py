"""Changing course on the pages (DESIGN section 9): amend, the changes, per-good recommendations,
appeals and the committee's appeal queue."""

from __future__ import annotations

import re

import pytest
import time_machine

from licensing.models import Application, ControlListEntry, License
from licensing.services.amendments import application_amend
from licensing.services.appeals import application_appeal
from licensing.services.applications import application_update_draft
from licensing.services.reviews import review_claim
from tests import factories

pytestmark = pytest.mark.django_db

MUNITIONS = {"code": "ML10", "destination": "CN", "license_type": "marketing"}


def test_the_exporter_amends_from_the_case_page_and_lands_on_the_draft(client, exporter):
    original = factories.submitted(exporter)
    client.force_login(exporter)
    page = client.get(f"/applications/{original.pk}/").content.decode()
    assert f'action="/applications/{original.pk}/amend/"' in page
    response = client.post(f"/applications/{original.pk}/amend/", follow=True)
    amendment = Application.objects.get(amendment_of=original)
    assert response.redirect_chain[-1][0] == f"/applications/{amendment.pk}/"
    body = response.content.decode()
    assert f"Amendment {amendment.reference} drafted" in body
    assert f'href="/applications/{original.pk}/"' in body  # "Amends EXP-..."
    assert "which stays under review until this amendment is submitted" in body
    again = client.get(f"/applications/{original.pk}/").content.decode()
    assert f'action="/applications/{original.pk}/amend/"' not in again
    assert 'id="pending-amendment"' in again


def test_staff_see_what_the_amendment_changed_on_its_page(client, exporter, reviewers):
    original = factories.submitted(exporter, destination="CN", goods=2)
    amendment = application_amend(application=original, user=exporter)
    first, second = amendment.goods.order_by("id")
    goods = [
        {
            "description": good.description,
            "control_list_entry_id": good.control_list_entry_id,
            "quantity": good.quantity,
            "unit_value": good.unit_value,
            "technology_generation": good.technology_generation,
            "us_origin_content": good.us_origin_content,
        }
        for good in (first, second)
    ]
    goods[1].update(
        control_list_entry_id=ControlListEntry.objects.get(code="5A002").pk,
        quantity=4,
        us_origin_content=True,
    )
    application_update_draft(
        application=amendment,
        user=exporter,
        fields={"destination_id": "IN", "end_user_name": "Bangalore Optics Lab"},
        goods=goods,
    )
    from licensing.services.applications import application_submit

    application_submit(application=amendment, user=exporter)
    client.force_login(reviewers["economy"])
    page = client.get(f"/applications/{amendment.pk}/").content.decode()
    assert 'id="changes"' in page
    shown = re.findall(
        r"<li>(.*?)</li>", re.search(r'<section id="changes">(.*?)</section>', page, re.S)[1]
    )
    assert shown == [
        "Destination: China &rarr; India",
        "End user&#x27;s name: Fraunhofer Demo Institute &rarr; Bangalore Optics Lab",
        "Good 2, Control list entry: 6A003 &rarr; 5A002",
        "Good 2, Quantity: 10 &rarr; 4",
        "Good 2, Has US-origin content: No &rarr; Yes",
    ]
    # The API keeps its machine-readable shape (DESIGN section 9).
    changes = client.get(f"/api/v1/applications/{amendment.pk}/changes/").json()
    assert changes[:2] == [
        {"field": "destination", "from": "CN", "to": "IN"},
        {
            "field": "end_user.name",
            "from": "Fraunhofer Demo Institute",
            "to": "Bangalore Optics Lab",
        },
    ]
    assert {"good": 2, "field": "control_list_entry", "from": "6A003", "to": "5A002"} in changes
    assert f"{original.reference}</a>, which this amendment superseded." in page
    superseded = client.get(f"/applications/{original.pk}/").content.decode()
    assert 'id="superseded-by"' in superseded
    assert "Superseded" in superseded


def test_a_reviewer_recommends_per_good_on_the_page(client, exporter, reviewers):
    application = factories.submitted(exporter, goods=2)
    review = application.reviews.get()
    review_claim(review=review, user=reviewers["economy"])
    first, second = application.goods.order_by("id")
    client.force_login(reviewers["economy"])
    page = client.get(f"/applications/{application.pk}/").content.decode()
    assert f'name="good_{first.pk}"' in page
    assert 'name="criteria"' in page
    refused = client.post(
        f"/reviews/{review.pk}/recommend/",
        {"recommendation": "approve", "reason": "Not the second.", f"good_{second.pk}": "deny"},
    )
    assert refused.status_code == 400
    assert "a deny cites at least one refusal criterion" in refused.content.decode()
    chosen = {
        "recommendation": "approve",
        "reason": "Not the second.",
        f"good_{second.pk}": "deny",
        f"good_{second.pk}_criteria": ["7"],
    }
    asked = client.post(f"/reviews/{review.pk}/recommend/", chosen)
    assert asked.status_code == 200  # the confirmation page: nothing recorded yet
    summary = asked.content.decode()
    assert "7. Existence of a risk" in summary
    assert "As overall" in summary
    review.refresh_from_db()
    assert review.status == "in_progress"
    done = client.post(f"/reviews/{review.pk}/recommend/", {**chosen, "confirmed": "yes"})
    assert done.status_code == 302
    application.refresh_from_db()
    assert application.status == "partially_approved"
    assert [line.good_id for line in application.license.goods.all()] == [first.pk]


def test_the_exporter_sees_refused_goods_with_criteria_and_may_appeal(
    client, exporter, reviewers, committee_member
):
    application = factories.partially_approved(exporter, reviewers, goods=2, **MUNITIONS)
    client.force_login(exporter)
    page = client.get(f"/applications/{application.pk}/").content.decode()
    assert 'id="refused-goods"' in page
    assert "criterion 2, Respect for human rights" in page
    assert "criterion 7" in page
    assert 'id="appeal-window"' in page
    for reviewer in reviewers.values():
        assert reviewer.username not in page
    response = client.post(
        f"/applications/{application.pk}/appeal/",
        {"grounds": "The first good too.", "confirmed": "yes"},
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == "under_appeal"

    client.force_login(committee_member)
    home = client.get("/").content.decode()
    assert 'id="appeals"' in home
    assert f'data-reference="{application.reference}"' in home
    case = client.get(f"/applications/{application.pk}/").content.decode()
    assert "decision on the appeal: The first good too." in case
    assert "Uphold the appeal" in case
    upheld = client.post(
        f"/applications/{application.pk}/decide/",
        {"decision": "approve", "reason": "Fair.", "confirmed": "yes"},
    )
    assert upheld.status_code == 302
    application.refresh_from_db()
    assert application.status == "approved"
    assert License.objects.get(application=application).goods.count() == 2


def test_an_appeal_without_grounds_keeps_the_form(client, exporter, reviewers):
    application = factories.denied(exporter, reviewers)
    client.force_login(exporter)
    response = client.post(f"/applications/{application.pk}/appeal/", {"grounds": ""})
    assert response.status_code == 400
    assert 'id="appeal"' in response.content.decode()
    application.refresh_from_db()
    assert application.status == "denied"


def test_the_committee_decides_per_good_on_the_page(client, exporter, reviewers, committee_member):
    application = factories.disputed(exporter, reviewers, goods=2)
    _first, second = application.goods.order_by("id")
    client.force_login(committee_member)
    response = client.post(
        f"/applications/{application.pk}/decide/",
        {
            "decision": "approve",
            "reason": "The first only.",
            f"good_{second.pk}": "deny",
            f"good_{second.pk}_criteria": ["4"],
            "confirmed": "yes",
        },
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == "partially_approved"
    assert application.goods.get(pk=second.pk).refusal_criteria == ["4"]


def test_an_appeal_is_audited_in_the_timeline(client, exporter, reviewers):
    application = factories.denied(exporter, reviewers)
    application_appeal(application=application, user=exporter, grounds="New facts.")
    client.force_login(exporter)
    page = client.get(f"/applications/{application.pk}/").content.decode()
    assert 'data-action="appeal_lodged"' in page


def test_staff_see_each_reviews_recommendation_per_good(client, exporter, reviewers):
    application = factories.partially_approved(exporter, reviewers, goods=2, **MUNITIONS)
    client.force_login(reviewers["defense"])
    page = client.get(f"/applications/{application.pk}/").content.decode()
    assert "Good 1: deny (criteria 2, 7)" in page
    assert "Good 2: approve" in page
    client.force_login(exporter)
    assert "Good 1: deny" not in client.get(f"/applications/{application.pk}/").content.decode()


def _pdf_text(response) -> str:
    from io import BytesIO

    from pypdf import PdfReader

    pages = PdfReader(BytesIO(b"".join(response.streaming_content))).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split())


def test_a_good_left_as_overall_carries_the_overall_condition_once(client, exporter, reviewers):
    application = factories.submitted(exporter, goods=2)
    review = application.reviews.get()
    review_claim(review=review, user=reviewers["economy"])
    _first, second = application.goods.order_by("id")
    client.force_login(reviewers["economy"])
    done = client.post(
        f"/reviews/{review.pk}/recommend/",
        {
            "recommendation": "approve_with_conditions",
            "conditions": "No re-export without consent.",
            # The first good is left "As overall"; the second has a condition of its own.
            f"good_{second.pk}": "approve_with_conditions",
            f"good_{second.pk}_conditions": "Civil end use only.",
            "confirmed": "yes",
        },
    )
    assert done.status_code == 302
    license = License.objects.get(application=application)

    case = client.get(f"/applications/{application.pk}/").content.decode()
    assert "<li>Good 1: approve with conditions</li>" in case
    assert "<li>Good 2: approve with conditions; Civil end use only.</li>" in case
    shown = re.search(r'<p id="license">(.*?)</p>', case, re.S)[1]
    assert shown.count("No re-export without consent.") == 1
    assert shown.count("Civil end use only.") == 1

    page = client.get(f"/licenses/{license.pk}/").content.decode()
    assert page.count("No re-export without consent.") == 1
    assert page.count("Civil end use only.") == 1

    client.force_login(exporter)
    text = _pdf_text(client.get(f"/api/v1/licenses/{license.pk}/document/"))
    assert text.count("No re-export without consent.") == 1
    assert text.count("Civil end use only.") == 1


def _decision(page: str) -> str:
    return " ".join(re.search(r'<section id="decision">(.*?)</section>', page, re.S)[1].split())


def test_under_appeal_the_decision_says_the_exporter_lodged_it_and_the_committee_decides(
    client, exporter, reviewers, committee_member
):
    from licensing.services.applications import application_decide

    with time_machine.travel("2026-11-02 10:00 +02:00", tick=False):
        application = factories.disputed(exporter, reviewers)
        application_decide(
            application=application,
            user=committee_member,
            decision="deny",
            reason="Risk of diversion.",
            criteria=["7"],
        )
    with time_machine.travel("2026-11-09 10:00 +02:00", tick=False):
        application_appeal(application=application, user=exporter, grounds="New facts.")
    due = application.appeal.due_date
    for person in (exporter, committee_member):
        client.force_login(person)
        decision = _decision(client.get(f"/applications/{application.pk}/").content.decode())
        assert "Under appeal on" not in decision
        assert "Denied on 02 Nov 2026 by the committee. Risk of diversion." in decision
        assert (
            f"Appeal lodged by alice of {exporter.organisation.name} on 09 Nov 2026: "
            "New facts." in decision
        )
        assert f"The committee decides it, due {due:%d %b %Y}." in decision

    with time_machine.travel("2026-11-16 10:00 +02:00", tick=False):
        application_decide(
            application=application, user=committee_member, decision="approve", reason="Fair."
        )
    decision = _decision(client.get(f"/applications/{application.pk}/").content.decode())
    assert "Approved on 16 Nov 2026 by the committee, on appeal. Fair." in decision
    assert "Appeal upheld by the committee on 16 Nov 2026." in decision


def test_an_appeal_of_the_ministries_refusal_does_not_credit_the_committee(
    client, exporter, reviewers
):
    with time_machine.travel("2026-11-02 10:00 +02:00", tick=False):
        application = factories.denied(exporter, reviewers)
    with time_machine.travel("2026-11-03 10:00 +02:00", tick=False):
        application_appeal(application=application, user=exporter, grounds="New facts.")
    client.force_login(exporter)
    decision = _decision(client.get(f"/applications/{application.pk}/").content.decode())
    assert "Denied on 02 Nov 2026." in decision
    assert "Appeal lodged by alice of" in decision
