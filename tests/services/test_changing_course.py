"""Changing course (DESIGN section 9), through the services: amendments, decisions per good,
refusal criteria, appeals."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from licensing.exceptions import InvalidInput, NotPermitted, TransitionConflict
from licensing.models import (
    Application,
    AuditEvent,
    License,
    Notification,
    RefusalCriterion,
    Review,
)
from licensing.selectors import amendment_changes
from licensing.services.amendments import application_amend, license_amend
from licensing.services.appeals import application_appeal
from licensing.services.applications import (
    application_decide,
    application_delete_draft,
    application_submit,
    application_update_draft,
    application_withdraw,
)
from licensing.services.deadlines import deadlines_sweep
from licensing.services.documents import document_upload
from licensing.services.reviews import review_claim, review_recommend, review_request_information
from tests import factories

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
MUNITIONS = {"code": "ML10", "destination": "CN", "license_type": "marketing"}


def _recommend(review: Review, user, recommendation="approve", **kwargs) -> Review:
    review_claim(review=review, user=user)
    kwargs.setdefault("reason", "Because.")
    return review_recommend(review=review, user=user, recommendation=recommendation, **kwargs)


def _per_good(application: Application, *decisions: str, key="recommendation") -> list[dict]:
    goods = list(application.goods.order_by("id"))
    return [
        {"good": good.pk, key: decision, "criteria": ["2"] if decision == "deny" else []}
        for good, decision in zip(goods, decisions, strict=True)
    ]


class TestRefusalCriteria:
    def test_the_eight_criteria_of_the_eu_common_position_are_seeded(self):
        criteria = dict(RefusalCriterion.objects.values_list("code", "title"))
        assert sorted(criteria) == [str(n) for n in range(1, 9)]
        assert criteria["2"].startswith("Respect for human rights")
        assert "diverted" in criteria["7"]


class TestAmendByCopy:
    def test_an_amendment_copies_the_application_and_the_original_keeps_its_reviews(
        self, exporter, reviewers
    ):
        draft = factories.draft(created_by=exporter, destination="CN", goods=2)
        factories.other_party(draft, kind="intermediate_consignee", name="Hamburg Freight")
        original = application_submit(application=draft, user=exporter)
        document_upload(
            application=original,
            user=exporter,
            file=SimpleUploadedFile("euc.pdf", PDF),
            kind="end_user_certificate",
        )
        amendment = application_amend(application=original, user=exporter)

        assert amendment.status == "draft"
        assert amendment.amendment_of_id == original.pk
        assert amendment.reference != original.reference
        assert (amendment.destination_id, amendment.end_user_name) == (
            "CN",
            original.end_user_name,
        )
        copied = list(amendment.goods.values_list("description", "quantity", "unit_value"))
        assert copied == list(original.goods.values_list("description", "quantity", "unit_value"))
        assert list(amendment.other_parties.values_list("kind", "name")) == [
            ("intermediate_consignee", "Hamburg Freight")
        ]
        assert amendment.other_party_count == 1
        document = amendment.documents.get()
        assert document.file.read() == PDF
        assert document.file.name != original.documents.get().file.name
        original.refresh_from_db()
        assert original.status == "under_review"
        assert original.pending_amendment_id == amendment.pk
        assert set(original.reviews.values_list("status", flat=True)) == {"pending"}

    def test_a_second_amendment_while_one_is_drafted_is_a_conflict_naming_it(self, exporter):
        original = factories.submitted(exporter)
        amendment = application_amend(application=original, user=exporter)
        with pytest.raises(TransitionConflict) as conflict:
            application_amend(application=original, user=exporter)
        assert conflict.value.current_state == "under_review"
        assert conflict.value.code == "amendment_exists"
        assert conflict.value.extra == {"amendment": amendment.pk}

    def test_submitting_the_amendment_supersedes_the_original_and_cancels_its_reviews(
        self, exporter, reviewers
    ):
        original = factories.submitted(exporter, **MUNITIONS)
        review_claim(review=original.reviews.get(ministry="defense"), user=reviewers["defense"])
        amendment = application_amend(application=original, user=exporter)
        application_update_draft(
            application=amendment, user=exporter, fields={"destination_id": "IN"}
        )
        application_submit(application=amendment, user=exporter)

        original.refresh_from_db()
        amendment.refresh_from_db()
        assert original.status == "superseded"
        assert original.superseded_by_id == amendment.pk
        assert original.pending_amendment_id is None
        assert set(original.reviews.values_list("status", flat=True)) == {"cancelled"}
        assert amendment.status == "under_review"
        # Routed afresh: India is sensitive too, munitions go to Defense and Foreign Affairs.
        assert set(amendment.reviews.values_list("ministry", flat=True)) == {"defense", "foreign"}
        event = AuditEvent.objects.get(application=original, action="application_superseded")
        assert (event.from_state, event.to_state) == ("under_review", "superseded")
        assert event.data["superseded_by"] == amendment.pk
        assert sorted(event.data["cancelled_reviews"]) == ["defense", "foreign"]
        told = Notification.objects.filter(event="application_superseded")
        assert {n.recipient for n in told} == {exporter, reviewers["defense"]}

    def test_an_application_waiting_for_the_exporter_can_be_amended_and_superseded(
        self, exporter, reviewers
    ):
        original = factories.submitted(exporter)
        review = original.reviews.get()
        review_claim(review=review, user=reviewers["economy"])
        review_request_information(review=review, user=reviewers["economy"], question="Who?")
        amendment = application_amend(application=original, user=exporter)
        application_submit(application=amendment, user=exporter)
        original.refresh_from_db()
        assert original.status == "superseded"
        assert not original.information_requests.filter(answered_at__isnull=True).exists()

    def test_deleting_or_withdrawing_the_draft_leaves_the_original_untouched(self, exporter):
        original = factories.submitted(exporter)
        application_delete_draft(
            application=application_amend(application=original, user=exporter), user=exporter
        )
        original.refresh_from_db()
        assert (original.status, original.pending_amendment_id) == ("under_review", None)
        second = application_amend(application=original, user=exporter)
        application_withdraw(application=second, user=exporter)
        original.refresh_from_db()
        assert (original.status, original.pending_amendment_id) == ("under_review", None)
        assert application_amend(application=original, user=exporter).amendment_of_id == (
            original.pk
        )

    @pytest.mark.parametrize("state", ["draft", "approved", "withdrawn"])
    def test_only_an_application_with_the_ministries_can_be_amended(
        self, exporter, reviewers, state
    ):
        application = {
            "draft": lambda: factories.draft(created_by=exporter),
            "approved": lambda: factories.approved(exporter, reviewers),
            "withdrawn": lambda: application_withdraw(
                application=factories.submitted(exporter), user=exporter
            ),
        }[state]()
        with pytest.raises(TransitionConflict) as conflict:
            application_amend(application=application, user=exporter)
        assert conflict.value.current_state == state

    def test_only_the_organisations_exporters_may_amend(self, exporter, outsider, reviewers):
        original = factories.submitted(exporter)
        for someone in (outsider, reviewers["economy"]):
            with pytest.raises(NotPermitted):
                application_amend(application=original, user=someone)

    def test_an_amendment_of_an_application_decided_meanwhile_cannot_be_submitted(
        self, exporter, reviewers
    ):
        original = factories.submitted(exporter)
        amendment = application_amend(application=original, user=exporter)
        factories.recommend_all(original, reviewers)
        with pytest.raises(TransitionConflict) as conflict:
            application_submit(application=amendment, user=exporter)
        assert (conflict.value.code, conflict.value.current_state) == (
            "original_decided",
            "approved",
        )


class TestChanges:
    def test_the_changes_list_fields_and_goods_by_position(self, exporter):
        original = factories.submitted(exporter, destination="CN", goods=2)
        amendment = application_amend(application=original, user=exporter)
        first, second = amendment.goods.order_by("id")
        goods = [
            {
                "description": first.description,
                "control_list_entry": first.control_list_entry,
                "quantity": 4,
                "unit_value": first.unit_value,
                "technology_generation": first.technology_generation,
            },
            {
                "description": second.description,
                "control_list_entry": second.control_list_entry,
                "quantity": second.quantity,
                "unit_value": second.unit_value,
                "technology_generation": second.technology_generation,
            },
            {
                "description": "Spare lens",
                "control_list_entry": first.control_list_entry,
                "quantity": 1,
                "unit_value": 10,
            },
        ]
        application_update_draft(
            application=amendment, user=exporter, fields={"destination_id": "IN"}, goods=goods
        )
        amendment.refresh_from_db()
        assert amendment_changes(amendment) == [
            {"field": "destination", "from": "CN", "to": "IN"},
            {"good": 1, "field": "quantity", "from": first.quantity, "to": 4},
            {"good": 3, "change": "added"},
        ]
        application_update_draft(application=amendment, user=exporter, fields={}, goods=goods[:1])
        assert amendment_changes(amendment)[-1] == {"good": 2, "change": "removed"}

    def test_a_licence_amendment_is_compared_with_the_licence(self, exporter, reviewers):
        application = factories.partially_approved(exporter, reviewers, goods=2, **MUNITIONS)
        amendment = license_amend(license=application.license, user=exporter)
        # Pre-filled with the licensed good only: nothing changed yet.
        assert amendment.goods.count() == 1
        assert amendment_changes(amendment) == []
        good = amendment.goods.get()
        application_update_draft(
            application=amendment,
            user=exporter,
            fields={"end_user_name": "New Lab"},
            goods=[
                {
                    "description": good.description,
                    "control_list_entry": good.control_list_entry,
                    "quantity": good.quantity + 5,
                    "unit_value": good.unit_value,
                    "technology_generation": good.technology_generation,
                }
            ],
        )
        amendment.refresh_from_db()
        assert amendment_changes(amendment) == [
            {"field": "end_user.name", "from": application.end_user_name, "to": "New Lab"},
            {"good": 1, "field": "quantity", "from": good.quantity, "to": good.quantity + 5},
        ]

    def test_an_application_that_amends_nothing_has_no_changes(self, exporter):
        assert amendment_changes(factories.submitted(exporter)) == []


class TestAmendALicence:
    def test_the_approved_amendment_replaces_the_licence(self, exporter, reviewers):
        application = factories.approved(exporter, reviewers, goods=2)
        old = application.license
        amendment = license_amend(license=old, user=exporter)
        assert amendment.amends_license_id == old.pk
        assert amendment.amendment_of_id is None
        assert list(amendment.goods.values_list("description", "quantity")) == list(
            old.goods.values_list("description", "quantity")
        )
        with pytest.raises(TransitionConflict) as conflict:
            license_amend(license=old, user=exporter)
        assert conflict.value.extra == {"amendment": amendment.pk}

        application_submit(application=amendment, user=exporter)
        factories.recommend_all(amendment, reviewers)
        new = License.objects.get(application=amendment)
        old.refresh_from_db()
        assert new.replaces_id == old.pk
        assert new.status == "active"
        assert old.status == "superseded"
        assert old.status_reason == f"Replaced by license {new.number}."
        assert AuditEvent.objects.filter(
            application=application, action="license_superseded"
        ).exists()

    def test_only_a_licence_in_force_is_amended_by_its_holder(
        self, exporter, outsider, reviewers, supervisors
    ):
        license = factories.approved(exporter, reviewers).license
        with pytest.raises(NotPermitted):
            license_amend(license=license, user=outsider)
        from licensing.services.licenses import license_revoke

        license_revoke(license=license, user=supervisors["defense"], reason="Breach.")
        with pytest.raises(TransitionConflict):
            license_amend(license=license, user=exporter)


class TestDecisionsPerGood:
    def test_goods_every_review_refuses_are_refused_and_the_licence_lists_the_rest(
        self, exporter, reviewers
    ):
        application = factories.partially_approved(exporter, reviewers, goods=3, **MUNITIONS)
        assert application.status == "partially_approved"
        assert application.decision == "partial"
        first, second, third = application.goods.order_by("id")
        assert (first.outcome, first.refusal_criteria) == ("refused", ["2", "7"])
        assert [second.outcome, third.outcome] == ["approved", "approved"]
        lines = application.license.goods.order_by("id")
        assert [line.good_id for line in lines] == [second.pk, third.pk]

    def test_a_good_the_reviews_disagree_on_goes_to_the_committee_which_decides_per_good(
        self, exporter, reviewers, committee_member
    ):
        application = factories.submitted(exporter, goods=2, **MUNITIONS)
        reviews = {r.ministry: r for r in application.reviews.all()}
        _recommend(
            reviews["defense"],
            reviewers["defense"],
            goods=_per_good(application, "approve", "deny"),
        )
        _recommend(reviews["foreign"], reviewers["foreign"])
        application.refresh_from_db()
        assert application.status == "disputed"
        assert list(application.goods.values_list("outcome", flat=True)) == [
            "approved",
            "disputed",
        ]
        application_decide(
            application=application,
            user=committee_member,
            decision="approve",
            reason="The second good stays at home.",
            goods=_per_good(application, "approve", "deny", key="decision"),
        )
        application.refresh_from_db()
        assert application.status == "partially_approved"
        first, second = application.goods.order_by("id")
        assert (second.outcome, second.refusal_criteria) == ("refused", ["2"])
        assert [line.good_id for line in application.license.goods.all()] == [first.pk]

    def test_the_committee_may_refuse_every_good(self, exporter, reviewers, committee_member):
        application = factories.disputed(exporter, reviewers, goods=2)
        application_decide(
            application=application,
            user=committee_member,
            decision="deny",
            reason="Too risky.",
            criteria=["4"],
        )
        application.refresh_from_db()
        assert application.status == "denied"
        assert set(application.goods.values_list("outcome", flat=True)) == {"refused"}
        assert [g.refusal_criteria for g in application.goods.all()] == [["4"], ["4"]]
        assert not License.objects.filter(application=application).exists()

    @pytest.mark.parametrize(
        ("goods", "criteria", "field", "message"),
        [
            (lambda a: _per_good(a, "approve", "approve")[:1], [], "goods", "missing"),
            (lambda a: _per_good(a, "approve", "approve")[:1] * 2, [], "goods", "twice"),
            (
                lambda a: [{**g, "criteria": []} for g in _per_good(a, "approve", "deny")],
                [],
                "goods",
                "criterion",
            ),
            (
                lambda a: [{**g, "criteria": ["9"]} for g in _per_good(a, "approve", "deny")],
                [],
                "goods",
                "unknown",
            ),
            (lambda a: [{"good": 0, "recommendation": "approve"}], [], "goods", "not a good"),
            (lambda a: None, [], "criteria", "criterion"),
            (lambda a: None, ["2", "99"], "criteria", "unknown"),
        ],
    )
    def test_bad_per_good_lists_and_denials_without_criteria_name_the_field(
        self, exporter, reviewers, goods, criteria, field, message
    ):
        application = factories.submitted(exporter, goods=2)
        review = application.reviews.get()
        review_claim(review=review, user=reviewers["economy"])
        per_good = goods(application)
        recommendation = "deny" if per_good is None else "approve"
        with pytest.raises(InvalidInput) as error:
            review_recommend(
                review=review,
                user=reviewers["economy"],
                recommendation=recommendation,
                reason="Risk.",
                criteria=criteria,
                goods=per_good,
            )
        assert list(error.value.errors) == [field]
        assert message in " ".join(error.value.errors[field])
        review.refresh_from_db()
        assert review.status == "in_progress"

    def test_an_overall_deny_must_deny_every_good(self, exporter, reviewers):
        application = factories.submitted(exporter, goods=2)
        review = application.reviews.get()
        review_claim(review=review, user=reviewers["economy"])
        with pytest.raises(InvalidInput) as error:
            review_recommend(
                review=review,
                user=reviewers["economy"],
                recommendation="deny",
                reason="Risk.",
                criteria=["1"],
                goods=_per_good(application, "approve", "deny"),
            )
        assert "denies every good" in error.value.errors["goods"][0]

    def test_per_good_conditions_reach_the_licence(self, exporter, reviewers):
        application = factories.submitted(exporter, goods=2)
        goods = list(application.goods.order_by("id"))
        _recommend(
            application.reviews.get(),
            reviewers["economy"],
            "approve",
            goods=[
                {"good": goods[0].pk, "recommendation": "approve"},
                {
                    "good": goods[1].pk,
                    "recommendation": "approve_with_conditions",
                    "conditions": "No re-export.",
                },
            ],
        )
        application.refresh_from_db()
        assert application.status == "approved"
        assert application.license.conditions == f"Economy ({goods[1].description}): No re-export."


class TestAppeals:
    def test_an_upheld_appeal_of_a_denial_issues_a_licence(
        self, exporter, reviewers, committee_member
    ):
        application = factories.denied(exporter, reviewers)
        application_appeal(application=application, user=exporter, grounds="New end-user checks.")
        application.refresh_from_db()
        assert application.status == "under_appeal"
        appeal = application.appeal
        assert (appeal.prior_status, appeal.outcome) == ("denied", "")
        assert appeal.due_date > appeal.received_on
        assert Notification.objects.filter(
            event="appeal_lodged", recipient=committee_member
        ).exists()

        application_decide(
            application=application, user=committee_member, decision="approve", reason="Fair."
        )
        application.refresh_from_db()
        assert application.status == "approved"
        assert application.license.status == "active"
        assert set(application.goods.values_list("outcome", flat=True)) == {"approved"}
        appeal.refresh_from_db()
        assert appeal.outcome == "upheld"
        assert AuditEvent.objects.filter(application=application, action="appeal_upheld").exists()

    def test_an_upheld_appeal_of_a_partial_approval_widens_its_licence(
        self, exporter, reviewers, committee_member
    ):
        application = factories.partially_approved(exporter, reviewers, goods=2, **MUNITIONS)
        license = application.license
        assert license.goods.count() == 1
        application_appeal(application=application, user=exporter, grounds="The first too.")
        application_decide(
            application=application, user=committee_member, decision="approve", reason="Fine."
        )
        license.refresh_from_db()
        assert license.goods.count() == 2
        assert License.objects.filter(application=application).count() == 1

    def test_an_exhausted_partial_licence_is_in_force_again_once_widened(
        self, exporter, reviewers, committee_member
    ):
        from licensing.clock import local_today
        from licensing.services.shipments import shipment_record

        application = factories.partially_approved(exporter, reviewers, goods=2, **MUNITIONS)
        license = application.license
        line = license.goods.get()
        shipment_record(
            license=license,
            user=exporter,
            reference="AWB-1",
            shipped_on=local_today(),
            lines=[{"license_good": line.pk, "quantity": line.quantity, "value": line.value}],
        )
        license.refresh_from_db()
        assert license.status == "exhausted"
        application_appeal(application=application, user=exporter, grounds="Both.")
        application_decide(
            application=application, user=committee_member, decision="approve", reason="Yes."
        )
        license.refresh_from_db()
        assert license.status == "active"
        assert sorted(line.remaining_quantity for line in license.goods.all()) == [
            0,
            application.goods.order_by("id").first().quantity,
        ]
        event = AuditEvent.objects.get(application=application, action="license_widened")
        assert (event.from_state, event.to_state) == ("exhausted", "active")

    def test_a_dismissed_appeal_goes_back_to_the_refusal(
        self, exporter, reviewers, committee_member
    ):
        application = factories.partially_approved(exporter, reviewers, **MUNITIONS)
        application_appeal(application=application, user=exporter, grounds="Please.")
        application_decide(
            application=application, user=committee_member, decision="deny", reason="No."
        )
        application.refresh_from_db()
        assert application.status == "partially_approved"
        assert application.appeal.outcome == "dismissed"
        event = AuditEvent.objects.get(application=application, action="appeal_dismissed")
        assert (event.from_state, event.to_state) == ("under_appeal", "partially_approved")
        assert application.license.goods.count() == 1
        with pytest.raises(TransitionConflict) as conflict:
            application_appeal(application=application, user=exporter, grounds="Again.")
        assert (conflict.value.code, conflict.value.current_state) == (
            "already_appealed",
            "partially_approved",
        )

    def test_a_late_appeal_is_refused(self, exporter, reviewers, settings):
        application = factories.denied(exporter, reviewers)
        decided = application.decided_at
        with time_machine.travel(decided + timedelta(days=settings.APPEAL_WINDOW_DAYS - 1)):
            application_appeal(application=application, user=exporter, grounds="In time.")
        late = factories.denied(exporter, reviewers)
        with (
            time_machine.travel(late.decided_at + timedelta(days=settings.APPEAL_WINDOW_DAYS + 1)),
            pytest.raises(TransitionConflict) as conflict,
        ):
            application_appeal(application=late, user=exporter, grounds="Too late.")
        assert (conflict.value.code, conflict.value.current_state) == (
            "appeal_window_closed",
            "denied",
        )
        late.refresh_from_db()
        assert late.status == "denied"

    def test_deciding_an_appeal_that_is_not_open_is_a_conflict(
        self, exporter, reviewers, committee_member
    ):
        application = factories.denied(exporter, reviewers)
        with pytest.raises(TransitionConflict) as conflict:
            application_decide(
                application=application, user=committee_member, decision="approve", reason="x"
            )
        assert conflict.value.current_state == "denied"

    def test_only_the_exporter_appeals_and_only_a_refusal(
        self, exporter, outsider, reviewers, committee_member
    ):
        denied = factories.denied(exporter, reviewers)
        for someone in (outsider, committee_member):
            with pytest.raises(NotPermitted):
                application_appeal(application=denied, user=someone, grounds="x")
        with pytest.raises(TransitionConflict):
            application_appeal(
                application=factories.approved(exporter, reviewers), user=exporter, grounds="x"
            )
        with pytest.raises(InvalidInput) as error:
            application_appeal(application=denied, user=exporter, grounds="  ")
        assert list(error.value.errors) == ["grounds"]

    def test_the_committee_is_told_once_when_an_appeal_is_overdue(
        self, exporter, reviewers, committee_member
    ):
        application = factories.denied(exporter, reviewers)
        application_appeal(application=application, user=exporter, grounds="Please.")
        due = application.appeal.due_date
        assert deadlines_sweep(today=due).steps.get("appeal_overdue") is None
        after = due + timedelta(days=1)
        assert deadlines_sweep(today=after).steps == {"appeal_overdue": 1}
        assert deadlines_sweep(today=after).steps == {}
        assert (
            Notification.objects.filter(event="appeal_overdue", recipient=committee_member).count()
            == 1
        )
        assert (
            AuditEvent.objects.filter(application=application, action="appeal_overdue").count() == 1
        )

    def test_the_appeal_window_is_calendar_days_from_the_decision(
        self, exporter, reviewers, settings
    ):
        settings.APPEAL_WINDOW_DAYS = 3
        application = factories.denied(exporter, reviewers)
        local = timezone.localtime(application.decided_at).date()
        assert application.appeal_closes_on == local + timedelta(days=3)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestRaces:
    """Two at once on one case: the application's row lock lets exactly one through."""

    def test_two_amendments_at_once_make_one_draft(self, exporter, teammate):
        from tests.services.test_concurrency import _run_in_threads

        original = factories.submitted(exporter)
        results = _run_in_threads(
            lambda: application_amend(application=original, user=exporter),
            lambda: application_amend(application=original, user=teammate),
        )
        drafts = [r for r in results if isinstance(r, Application)]
        conflicts = [r for r in results if isinstance(r, TransitionConflict)]
        assert (len(drafts), len(conflicts)) == (1, 1), results
        assert conflicts[0].extra == {"amendment": drafts[0].pk}
        assert Application.objects.filter(amendment_of=original).count() == 1

    def test_two_appeals_at_once_lodge_one(self, exporter, teammate, reviewers):
        from licensing.models import Appeal
        from tests.services.test_concurrency import _run_in_threads

        application = factories.denied(exporter, reviewers)
        results = _run_in_threads(
            lambda: application_appeal(application=application, user=exporter, grounds="A"),
            lambda: application_appeal(application=application, user=teammate, grounds="B"),
        )
        assert sum(isinstance(r, Application) for r in results) == 1, results
        assert sum(isinstance(r, TransitionConflict) for r in results) == 1, results
        assert Appeal.objects.filter(application=application).count() == 1
