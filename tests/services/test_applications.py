"""The application state machine, driven through its services."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django_fsm import TransitionNotAllowed

from accounts.models import RegisterStatus
from licensing.exceptions import InvalidInput, NotPermitted, SubmissionRefused, TransitionConflict
from licensing.models import (
    Application,
    AuditEvent,
    ControlListEntry,
    InformationRequest,
    License,
    LicenseStatus,
    Review,
)
from licensing.services.applications import (
    application_create_draft,
    application_decide,
    application_delete_draft,
    application_respond,
    application_submission_problems,
    application_submit,
    application_update_draft,
    application_withdraw,
)
from licensing.services.reviews import review_claim, review_recommend, review_request_information
from tests.factories import approved, draft

pytestmark = pytest.mark.django_db

# Sunday 1 November 2026, a working day in Israel.
SUNDAY = "2026-11-01 10:00 +02:00"


def _reviews(application: Application) -> dict[str, Review]:
    return {r.ministry: r for r in Review.objects.filter(application=application)}


def _complete(review: Review, user, recommendation: str = "approve", **kwargs) -> Review:
    review_claim(review=review, user=user)
    return review_recommend(review=review, user=user, recommendation=recommendation, **kwargs)


class TestDrafts:
    def test_exporter_creates_a_draft_with_a_yearly_reference(self, exporter):
        entry = ControlListEntry.objects.get(code="6A003")
        first = application_create_draft(
            user=exporter,
            fields={"license_type": "dual_use_export", "destination_id": "DE"},
            goods=[
                {
                    "description": "Cooler",
                    "control_list_entry": entry,
                    "quantity": 2,
                    "unit_value": Decimal("10.50"),
                }
            ],
        )
        second = application_create_draft(
            user=exporter, fields={"license_type": "export", "destination_id": "US"}
        )
        year = date.today().year
        assert first.reference.startswith(f"EXP-{year}-")
        assert int(second.reference[-6:]) == int(first.reference[-6:]) + 1
        assert first.status == "draft"
        assert first.organisation == exporter.organisation
        assert first.goods.get().value == Decimal("21.00")

    def test_reviewer_cannot_create_an_application(self, reviewers):
        with pytest.raises(NotPermitted):
            application_create_draft(
                user=reviewers["economy"], fields={"license_type": "export", "destination_id": "US"}
            )

    def test_goods_must_be_priced_in_the_applications_currency(self, exporter):
        entry = ControlListEntry.objects.get(code="6A003")
        with pytest.raises(InvalidInput) as error:
            application_create_draft(
                user=exporter,
                fields={"license_type": "export", "destination_id": "US", "currency": "ILS"},
                goods=[
                    {
                        "description": "x",
                        "control_list_entry": entry,
                        "quantity": 1,
                        "unit_value": Decimal(1),
                        "currency": "EUR",
                    }
                ],
            )
        assert "goods" in error.value.errors

    def test_teammate_edits_and_outsider_cannot(self, exporter, teammate, outsider):
        application = draft(created_by=exporter)
        application_update_draft(application=application, user=teammate, fields={"end_use": "New"})
        application.refresh_from_db()
        assert application.end_use == "New"
        with pytest.raises(NotPermitted):
            application_update_draft(
                application=application, user=outsider, fields={"end_use": "x"}
            )

    def test_a_submitted_application_cannot_be_edited_or_deleted(self, exporter):
        application = application_submit(application=draft(created_by=exporter), user=exporter)
        with pytest.raises(TransitionConflict) as error:
            application_update_draft(
                application=application, user=exporter, fields={"end_use": "x"}
            )
        assert error.value.current_state == "under_review"
        with pytest.raises(TransitionConflict):
            application_delete_draft(application=application, user=exporter)

    def test_deleting_a_draft_removes_it_and_records_the_deletion(self, exporter):
        application = draft(created_by=exporter)
        reference = application.reference
        application_delete_draft(application=application, user=exporter)
        assert not Application.objects.filter(reference=reference).exists()
        event = AuditEvent.objects.get(action="draft_deleted")
        assert event.data == {"reference": reference}
        assert event.actor == exporter

    def test_status_cannot_be_set_directly(self, exporter):
        application = draft(created_by=exporter)
        with pytest.raises(AttributeError):
            application.status = "approved"


class TestSubmit:
    @time_machine.travel(SUNDAY, tick=False)
    def test_submit_routes_reviews_with_due_dates_and_records_rules(self, exporter):
        application = application_submit(application=draft(created_by=exporter), user=exporter)
        assert application.status == "under_review"
        assert application.submitted_at is not None
        reviews = _reviews(application)
        assert set(reviews) == {"economy"}
        # 20 working days after Sunday 1 November 2026: four Sun-Thu weeks less Sunday 1 itself.
        assert reviews["economy"].due_date == date(2026, 11, 29)
        assert reviews["economy"].received_on == date(2026, 11, 1)
        routing = list(application.routing.all())
        assert [r.rule_name for r in routing] == ["Dual-use items need an Economy review"]
        assert routing[0].rule_history_id is not None
        event = AuditEvent.objects.get(application=application, action="application_submitted")
        assert (event.from_state, event.to_state, event.actor) == (
            "draft",
            "under_review",
            exporter,
        )
        assert event.data["reviews"] == {"economy": "2026-11-29"}

    def test_only_an_exporter_of_the_organisation_may_submit(self, exporter, outsider, reviewers):
        application = draft(created_by=exporter)
        for user in (outsider, reviewers["economy"]):
            with pytest.raises(NotPermitted):
                application_submit(application=application, user=user)
        application.refresh_from_db()
        assert application.status == "draft"

    def test_submitting_twice_is_a_conflict(self, exporter):
        application = application_submit(application=draft(created_by=exporter), user=exporter)
        with pytest.raises(TransitionConflict) as error:
            application_submit(application=application, user=exporter)
        assert error.value.current_state == "under_review"
        assert Review.objects.filter(application=application).count() == 1

    def test_an_incomplete_application_is_refused_with_each_missing_part(self, exporter):
        application = draft(created_by=exporter, goods=0, end_user_name="", end_use="  ")
        with pytest.raises(SubmissionRefused) as error:
            application_submit(application=application, user=exporter)
        assert error.value.code == "incomplete"
        assert set(error.value.errors) == {"goods", "end_user", "end_use"}
        assert "at least one good" in error.value.errors["goods"][0]
        application.refresh_from_db()
        assert application.status == "draft"
        assert not AuditEvent.objects.filter(application=application).exists()

    def test_every_problem_is_reported_at_once_each_part_by_name(self, exporter):
        exporter.organisation.register_status = RegisterStatus.PENDING
        exporter.organisation.save()
        application = draft(
            created_by=exporter,
            code="ML10",
            license_type="export",
            destination="IR",
            end_user_address="",
            end_user_type="",
            end_use="",
            consignee_name="Transit GmbH",
        )
        with pytest.raises(SubmissionRefused) as error:
            application_submit(application=application, user=exporter)
        errors = error.value.errors
        assert errors["end_user"] == [
            "Enter the end user's address.",
            "Choose the end user's type.",
        ]
        assert errors["consignee"] == [
            "Enter the consignee's address.",
            "Choose the consignee's country.",
            "Choose the consignee's type.",
        ]
        assert errors["end_use"] == ["Describe the end use."]
        assert "marketing license for Iran" in errors["marketing_license"][0]
        assert len(errors["non_field_errors"]) == 2  # not registered, and the embargo
        assert "defense export register" in errors["non_field_errors"][0]
        assert "embargoed" in errors["non_field_errors"][1]
        assert error.value.code == "incomplete"  # the first problem's
        assert [p.field for p in error.value.problems][:2] == ["end_user_address", "end_user_type"]
        application.refresh_from_db()
        assert application.status == "draft"

    def test_the_problems_are_read_without_submitting(self, exporter):
        application = draft(created_by=exporter, goods=0, destination="SY")
        problems = application_submission_problems(application=application)
        assert [(p.key, p.code) for p in problems] == [
            ("goods", "incomplete"),
            ("non_field_errors", "refused_by_rule"),
        ]
        assert application_submission_problems(application=draft(created_by=exporter)) == []

    def test_an_embargoed_destination_is_refused_with_the_rules_message(self, exporter):
        application = draft(created_by=exporter, destination="IR")
        with pytest.raises(SubmissionRefused) as error:
            application_submit(application=application, user=exporter)
        assert error.value.code == "refused_by_rule"
        assert error.value.errors["non_field_errors"] == [
            "Exports to this destination are embargoed: the application cannot be submitted."
        ]
        assert not Review.objects.filter(application=application).exists()

    def test_an_unregistered_exporter_cannot_submit_munitions(self, exporter):
        exporter.organisation.register_status = RegisterStatus.PENDING
        exporter.organisation.save()
        application = draft(created_by=exporter, code="ML10", license_type="marketing")
        with pytest.raises(SubmissionRefused) as error:
            application_submit(application=application, user=exporter)
        assert error.value.code == "not_registered"
        assert "defense export register" in error.value.message

    def test_an_unregistered_exporter_may_still_submit_dual_use(self, exporter):
        exporter.organisation.register_status = RegisterStatus.NONE
        exporter.organisation.save()
        application = application_submit(application=draft(created_by=exporter), user=exporter)
        assert application.status == "under_review"

    def test_export_license_for_munitions_needs_an_active_marketing_license(
        self, exporter, reviewers
    ):
        application = draft(created_by=exporter, code="ML10", license_type="export")
        with pytest.raises(SubmissionRefused) as error:
            application_submit(application=application, user=exporter)
        assert error.value.code == "marketing_license_required"
        assert "marketing license for Germany" in error.value.errors["marketing_license"][0]

        marketing = _approved_marketing_license(exporter, reviewers)
        application_update_draft(
            application=application, user=exporter, fields={"marketing_license": marketing}
        )
        application = application_submit(application=application, user=exporter)
        assert set(_reviews(application)) == {"defense", "foreign"}

    def test_a_suspended_or_foreign_destination_marketing_license_is_refused(
        self, exporter, reviewers
    ):
        marketing = _approved_marketing_license(exporter, reviewers)
        application = draft(
            created_by=exporter,
            code="ML10",
            license_type="export",
            destination="US",
            marketing_license=marketing,
        )
        with pytest.raises(SubmissionRefused) as error:
            application_submit(application=application, user=exporter)
        assert error.value.code == "marketing_license_invalid"
        assert marketing.number in error.value.message


def _approved_marketing_license(exporter, reviewers) -> License:
    application = approved(exporter, reviewers, code="ML10", license_type="marketing")
    assert application.status == "approved"
    return application.license


class TestInformationRequests:
    def test_question_stops_every_clock_and_answer_moves_due_dates(self, exporter, reviewers):
        with time_machine.travel(SUNDAY, tick=False):
            application = application_submit(
                application=draft(created_by=exporter, destination="IN"), user=exporter
            )
            reviews = _reviews(application)
            assert set(reviews) == {"economy", "foreign"}
            before = {m: r.due_date for m, r in reviews.items()}
            review_claim(review=reviews["foreign"], user=reviewers["foreign"])
            review_request_information(
                review=reviews["economy"], user=reviewers["economy"], question="Who pays?"
            )
        application.refresh_from_db()
        assert application.status == "information_requested"
        assert application.clock_stopped_on == date(2026, 11, 1)
        statuses = {m: r.status for m, r in _reviews(application).items()}
        assert statuses == {"economy": "awaiting_applicant", "foreign": "awaiting_applicant"}

        # Answered on Thursday 5 November: four working days (Mon-Thu) passed.
        with time_machine.travel("2026-11-05 09:00 +02:00", tick=False):
            application_respond(application=application, user=exporter, answer="The ministry.")
        application.refresh_from_db()
        assert application.status == "under_review"
        after = _reviews(application)
        assert after["economy"].status == "pending"
        assert after["foreign"].status == "in_progress"  # back to whoever had claimed it
        assert before["foreign"] == date(2026, 11, 8)
        assert after["foreign"].due_date == date(2026, 11, 12)
        assert before["economy"] == date(2026, 11, 29)
        assert after["economy"].due_date == date(2026, 12, 3)
        request = InformationRequest.objects.get(application=application)
        assert (request.answer, request.answered_by) == ("The ministry.", exporter)
        event = AuditEvent.objects.get(application=application, action="information_provided")
        assert event.data["working_days_stopped"] == 4

    def test_only_the_ministry_may_ask_and_only_the_exporter_may_answer(
        self, exporter, outsider, reviewers
    ):
        application = application_submit(application=draft(created_by=exporter), user=exporter)
        review = _reviews(application)["economy"]
        with pytest.raises(NotPermitted):
            review_request_information(review=review, user=reviewers["defense"], question="?")
        review_request_information(review=review, user=reviewers["economy"], question="Why?")
        with pytest.raises(NotPermitted):
            application_respond(application=application, user=outsider, answer="x")
        with pytest.raises(InvalidInput):
            application_respond(application=application, user=exporter, answer="  ")

    def test_answering_without_a_question_is_a_conflict(self, exporter):
        application = application_submit(application=draft(created_by=exporter), user=exporter)
        with pytest.raises(TransitionConflict) as error:
            application_respond(application=application, user=exporter, answer="Unasked")
        assert error.value.current_state == "under_review"


class TestDecisions:
    def test_unanimous_approval_issues_a_license_with_every_reviews_conditions(
        self, exporter, reviewers
    ):
        application = application_submit(
            application=draft(
                created_by=exporter, destination="IN", technology_generation="current"
            ),
            user=exporter,
        )
        reviews = _reviews(application)
        assert set(reviews) == {"economy", "foreign", "defense"}
        _complete(
            reviews["economy"],
            reviewers["economy"],
            "approve_with_conditions",
            conditions="No re-export.",
        )
        _complete(
            reviews["defense"],
            reviewers["defense"],
            "approve_with_conditions",
            conditions="End-use visit within a year.",
        )
        application.refresh_from_db()
        assert application.status == "under_review"
        _complete(reviews["foreign"], reviewers["foreign"])
        application.refresh_from_db()
        assert application.status == "approved"
        assert application.decision == "approve"
        license = application.license
        assert license.status == LicenseStatus.ACTIVE
        assert license.conditions == (
            "Defense: End-use visit within a year.\nEconomy: No re-export."
        )
        # Dual-use export licenses are valid one year.
        assert (license.valid_until - license.valid_from).days in (364, 365)
        assert license.number.startswith("LIC-")

    def test_unanimous_denial_denies_without_a_license(self, exporter, reviewers):
        application = application_submit(application=draft(created_by=exporter), user=exporter)
        _complete(
            _reviews(application)["economy"],
            reviewers["economy"],
            "deny",
            reason="End user of concern.",
            criteria=["7"],
        )
        application.refresh_from_db()
        assert application.status == "denied"
        assert not License.objects.filter(application=application).exists()

    def test_mixed_recommendations_dispute_and_the_committee_decides(
        self, exporter, reviewers, committee_member
    ):
        application = application_submit(
            application=draft(
                created_by=exporter, destination="CN", technology_generation="legacy"
            ),
            user=exporter,
        )
        reviews = _reviews(application)
        assert set(reviews) == {"economy", "foreign"}
        _complete(reviews["economy"], reviewers["economy"])
        _complete(
            reviews["foreign"], reviewers["foreign"], "deny", reason="Policy.", criteria=["4"]
        )
        application.refresh_from_db()
        assert application.status == "disputed"
        with pytest.raises(NotPermitted):
            application_decide(
                application=application, user=reviewers["economy"], decision="approve", reason="x"
            )
        with pytest.raises(InvalidInput):
            application_decide(
                application=application, user=committee_member, decision="maybe", reason="x"
            )
        application_decide(
            application=application,
            user=committee_member,
            decision="approve",
            reason="Assurances accepted.",
        )
        application.refresh_from_db()
        assert application.status == "approved"
        assert application.decision_reason == "Assurances accepted."
        assert application.license.status == "active"
        with pytest.raises(TransitionConflict):
            application_decide(
                application=application,
                user=committee_member,
                decision="deny",
                reason="Again",
                criteria=["1"],
            )

    def test_recommendation_needs_reasons_for_denial_and_conditions(self, exporter, reviewers):
        application = application_submit(application=draft(created_by=exporter), user=exporter)
        review = _reviews(application)["economy"]
        review_claim(review=review, user=reviewers["economy"])
        with pytest.raises(InvalidInput) as error:
            review_recommend(review=review, user=reviewers["economy"], recommendation="deny")
        assert "reason" in error.value.errors
        with pytest.raises(InvalidInput) as error:
            review_recommend(
                review=review, user=reviewers["economy"], recommendation="approve_with_conditions"
            )
        assert "conditions" in error.value.errors


class TestWithdraw:
    @pytest.mark.parametrize("stage", ["draft", "under_review", "information_requested"])
    def test_exporter_withdraws_an_open_application_and_reviews_are_cancelled(
        self, exporter, reviewers, stage
    ):
        application = draft(created_by=exporter)
        if stage != "draft":
            application = application_submit(application=application, user=exporter)
        if stage == "information_requested":
            review_request_information(
                review=_reviews(application)["economy"], user=reviewers["economy"], question="?"
            )
        application = application_withdraw(application=application, user=exporter, reason="Lost")
        assert application.status == "withdrawn"
        assert all(r.status == "cancelled" for r in _reviews(application).values())

    def test_a_decided_application_cannot_be_withdrawn(self, exporter, reviewers):
        application = application_submit(application=draft(created_by=exporter), user=exporter)
        _complete(_reviews(application)["economy"], reviewers["economy"])
        with pytest.raises(TransitionConflict) as error:
            application_withdraw(application=application, user=exporter)
        assert error.value.current_state == "approved"

    def test_the_transition_methods_refuse_from_the_wrong_state(self, exporter):
        application = draft(created_by=exporter)
        with pytest.raises(TransitionNotAllowed):
            application.respond()
