"""Going back keeps what was typed: "No, go back" on a confirmation page, and a bulk reassign
that failed."""

from __future__ import annotations

import re

import pytest

from licensing.models import Application, Review
from licensing.services.reviews import review_claim
from tests import factories

pytestmark = pytest.mark.django_db


def _form(html: str, form_id: str) -> str:
    return re.search(rf'<form [^>]*id="{form_id}"[^>]*>.*?</form>', html, re.S)[0]


def test_going_back_from_the_confirmation_keeps_the_recommendation(client, exporter, reviewers):
    application = factories.submitted(exporter, goods=2)
    review = application.reviews.get()
    review_claim(review=review, user=reviewers["economy"])
    _, second = application.goods.order_by("id")
    client.force_login(reviewers["economy"])
    typed = {
        "recommendation": "approve_with_conditions",
        "reason": "Careful reasons, typed at length.",
        "conditions": "No re-export.",
        "criteria": ["1", "7"],
        f"good_{second.pk}": "deny",
        f"good_{second.pk}_criteria": ["7"],
    }
    asked = client.post(f"/reviews/{review.pk}/recommend/", typed)
    assert asked.status_code == 200
    confirm = asked.content.decode()
    assert 'name="back" value="yes"' in _form(confirm, "confirm-form")
    carried = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', confirm)
    back = {}
    for key, value in carried:
        back.setdefault(key, []).append(value)
    response = client.post(f"/reviews/{review.pk}/recommend/", {**back, "back": "yes"})
    assert response.status_code == 200
    html = response.content.decode()
    form = _form(html, "recommend")
    assert "data-returned" in form
    assert '<option value="approve_with_conditions" selected>' in form
    assert "Careful reasons, typed at length.</textarea>" in form
    assert "No re-export.</textarea>" in form
    criteria = re.search(r'<select name="criteria".*?</select>', form, re.S)[0]
    assert re.findall(r'<option value="(\w+)" selected>', criteria) == ["1", "7"]
    per_good = re.search(rf'<select name="good_{second.pk}".*?</select>', form, re.S)[0]
    assert '<option value="deny" selected>' in per_good
    own = re.search(rf'<select name="good_{second.pk}_criteria".*?</select>', form, re.S)[0]
    assert re.findall(r'<option value="(\w+)" selected>', own) == ["7"]
    assert 'id="error-summary"' not in html  # nothing is wrong: it was only not confirmed
    review.refresh_from_db()
    assert review.status == "in_progress"


def test_going_back_from_a_withdrawal_keeps_the_reason(client, exporter):
    application = factories.submitted(exporter)
    client.force_login(exporter)
    response = client.post(
        f"/applications/{application.pk}/withdraw/", {"reason": "Order cancelled.", "back": "yes"}
    )
    assert response.status_code == 200
    assert "Order cancelled.</textarea>" in _form(response.content.decode(), "withdraw")
    application.refresh_from_db()
    assert application.status == "under_review"


def test_going_back_from_deleting_a_draft_returns_to_it(client, exporter):
    application = factories.draft(created_by=exporter)
    client.force_login(exporter)
    response = client.post(f"/applications/{application.pk}/delete/", {"back": "yes"})
    assert response.status_code == 302
    assert response["Location"] == f"/applications/{application.pk}/"
    assert Application.objects.filter(pk=application.pk).exists()


def test_a_failed_bulk_reassign_keeps_the_ticked_rows_and_the_person(client, exporter, supervisors):
    cases = [factories.submitted(exporter, code="ML10", destination="CN") for _ in range(3)]
    reviews = [Review.objects.get(application=a, ministry="defense") for a in cases]
    client.force_login(supervisors["defense"])
    response = client.post("/reviews/reassign/", {"assignee": "", "reviews": [reviews[0].pk]})
    assert response.status_code == 400
    html = response.content.decode()
    ticked = re.findall(r'<input type="checkbox" name="reviews" value="(\d+)"[^>]* checked', html)
    assert ticked == [str(reviews[0].pk)]
    nobody_ticked = client.post("/reviews/reassign/", {"assignee": supervisors["defense"].pk})
    chosen = re.search(r'<option value="(\d+)" selected>', nobody_ticked.content.decode())
    assert chosen and chosen[1] == str(supervisors["defense"].pk)
