"""Every party screened and routed (DESIGN section 8), through the services."""

from __future__ import annotations

import io

import pytest

from licensing.exceptions import InvalidInput, SubmissionRefused, TransitionConflict
from licensing.models import (
    Application,
    AuditEvent,
    Notification,
    ScreeningEntry,
    ScreeningList,
    ScreeningMatch,
    ScreeningName,
)
from licensing.screening import Party, listed_names, screen
from licensing.services.applications import application_submit, application_update_draft
from licensing.services.reviews import review_claim, review_recommend
from licensing.services.screening import (
    screening_list_import,
    screening_match_resolve,
    screening_rescreen_list,
    screening_rows_read,
)
from tests import factories

pytestmark = pytest.mark.django_db

SANCTIONED = "Zagros Precision Industries"  # on the shipped sample list, country IR


def _submit(exporter, **kwargs) -> Application:
    return factories.submitted(exporter, **kwargs)


class TestRoutingLooksAtEveryParty:
    def test_a_draft_to_france_whose_consignee_is_in_iran_is_refused_naming_the_consignee(
        self, exporter
    ):
        application = factories.draft(
            created_by=exporter,
            destination="FR",
            consignee_name="Persian Gulf Forwarding",
            consignee_address="Bandar Abbas",
            consignee_country_id="IR",
            consignee_type="commercial",
        )
        with pytest.raises(SubmissionRefused) as error:
            application_submit(application=application, user=exporter)
        assert error.value.code == "refused_by_rule"
        message = error.value.errors["non_field_errors"][0]
        assert message.startswith("Exports to this destination are embargoed")
        assert "consignee 'Persian Gulf Forwarding' is in Iran" in message
        application.refresh_from_db()
        assert application.status == "draft"

    def test_an_intermediate_consignee_in_syria_is_refused_too(self, exporter):
        application = factories.draft(created_by=exporter, destination="FR")
        factories.other_party(
            application, kind="intermediate_consignee", name="Aleppo Freight", country="SY"
        )
        with pytest.raises(SubmissionRefused) as error:
            application_submit(application=application, user=exporter)
        assert "intermediate consignee 'Aleppo Freight' is in Syria" in error.value.message

    def test_the_routing_explanation_names_the_party_that_made_a_rule_hold(self, exporter):
        application = factories.draft(created_by=exporter, destination="FR")
        factories.other_party(
            application, kind="ultimate_end_user", name="Shenzhen Optics Lab", country="CN"
        )
        application = application_submit(application=application, user=exporter)
        sensitive = application.routing.get(ministry="foreign")
        assert sensitive.explanation == (
            "ultimate end user 'Shenzhen Optics Lab' is in CN, on the 'sensitive' list"
        )
        assert set(application.reviews.values_list("ministry", flat=True)) == {
            "economy",
            "foreign",
        }

    def test_the_destination_still_explains_itself_first(self, exporter):
        application = _submit(exporter, destination="CN")
        assert application.routing.get(ministry="foreign").explanation == (
            "destination CN is on the 'sensitive' list"
        )


class TestScreeningAtSubmission:
    def test_an_exact_match_with_a_blocking_list_refuses_submission_naming_the_party(
        self, exporter
    ):
        factories.screening_list(blocking=True)
        application = factories.draft(created_by=exporter, end_user_name="ZAGROS PRECISION CO.")
        with pytest.raises(SubmissionRefused) as error:
            application_submit(application=application, user=exporter)
        assert error.value.code == "refused_by_screening"
        assert error.value.message == (
            "The end user 'ZAGROS PRECISION CO.' is on the screening list 'Sample "
            "consolidated list', so the application cannot be submitted."
        )
        assert not ScreeningMatch.objects.exists()

    def test_an_exact_match_with_a_list_that_does_not_block_is_recorded_open(self, exporter):
        factories.screening_list()
        application = factories.draft(created_by=exporter, end_user_name=f"{SANCTIONED} Ltd.")
        application = application_submit(application=application, user=exporter)
        match = ScreeningMatch.objects.get(application=application)
        assert (match.party_kind, match.party_name, match.entry_name) == (
            "end_user",
            f"{SANCTIONED} Ltd.",
            SANCTIONED,
        )
        assert (match.match, match.score, match.status) == ("exact", 100, "open")
        application.refresh_from_db()
        assert application.screening_match_count == application.open_screening_match_count == 1

    def test_an_alias_matches_exactly_even_in_another_script(self, exporter):
        factories.screening_list()
        application = factories.draft(created_by=exporter, end_user_name="Балтаэро")
        application_submit(application=application, user=exporter)
        match = ScreeningMatch.objects.get(application=application)
        assert (match.entry_name, match.matched_name, match.match) == (
            "Baltic Aero Components OOO",
            "Baltaero",
            "exact",
        )

    def test_a_partial_match_needs_the_entrys_country(self, exporter):
        factories.screening_list()  # Ostrava Optic Systems, CZ
        application = factories.draft(created_by=exporter, destination="FR")
        factories.other_party(application, name="Ostrava Optik Systems", country="AT")
        factories.other_party(
            application, kind="ultimate_end_user", name="Systems Ostrava Optik", country="CZ"
        )
        application_submit(application=application, user=exporter)
        matches = list(ScreeningMatch.objects.filter(application=application))
        # The party in Czechia resembles the Czech entry; the one in Austria does not
        # count, though its name is as close.
        assert [(m.party_name, m.match) for m in matches] == [("Systems Ostrava Optik", "partial")]
        assert 90 <= matches[0].score < 100

    def test_the_threshold_is_a_setting(self, exporter, settings):
        factories.screening_list()
        settings.SCREENING_THRESHOLD = 99
        application = factories.draft(created_by=exporter, destination="FR")
        factories.other_party(application, name="Ostrava Optik Systems", country="CZ")
        application_submit(application=application, user=exporter)
        assert not ScreeningMatch.objects.exists()

    def test_a_partial_match_with_a_blocking_list_is_recorded_not_refused(self, exporter):
        factories.screening_list(
            "Denied parties", blocking=True, entries=[{"name": "Harbor Star Logistics Kft"}]
        )
        application = factories.draft(created_by=exporter, end_user_name="Star Harbour Logistic")
        application_submit(application=application, user=exporter)
        match = ScreeningMatch.objects.get(application=application)
        assert (match.list_name, match.match) == ("Denied parties", "partial")

    def test_a_party_with_no_resemblance_is_not_matched(self, exporter):
        factories.screening_list()
        application = _submit(exporter)
        assert not ScreeningMatch.objects.filter(application=application).exists()
        assert application.screening_match_count == 0


class TestTheApprovalHold:
    @pytest.fixture
    def held(self, exporter, reviewers):
        """A dual-use case (Economy reviews it) whose end user is on the sample list."""
        factories.screening_list()
        application = _submit(exporter, end_user_name=SANCTIONED)
        review = application.reviews.get(ministry="economy")
        review_claim(review=review, user=reviewers["economy"])
        return application, review, ScreeningMatch.objects.get(application=application)

    def test_approval_answers_a_conflict_naming_the_open_match(self, held, reviewers):
        _application, review, _match = held
        for recommendation in ("approve", "approve_with_conditions"):
            with pytest.raises(TransitionConflict) as error:
                review_recommend(
                    review=review,
                    user=reviewers["economy"],
                    recommendation=recommendation,
                    conditions="End-use checks.",
                )
            assert error.value.code == "screening_match_open"
            assert f"'{SANCTIONED}'" in error.value.message
            assert "open" in error.value.message
        review.refresh_from_db()
        assert review.status == "in_progress"

    def test_clearing_the_match_releases_approval(self, held, reviewers, exporter):
        application, review, match = held
        screening_match_resolve(
            screeningmatch=match,
            user=reviewers["economy"],
            disposition="cleared",
            reason="A namesake: different address and registry number.",
        )
        review_recommend(review=review, user=reviewers["economy"], recommendation="approve")
        application.refresh_from_db()
        assert application.status == "approved"
        assert application.open_screening_match_count == 0
        event = AuditEvent.objects.get(action="screening_match_resolved")
        assert (event.from_state, event.to_state, event.actor) == (
            "open",
            "cleared",
            reviewers["economy"],
        )
        assert event.data["party"] == SANCTIONED

    def test_after_a_confirmed_match_only_deny_is_accepted(self, held, reviewers):
        application, review, match = held
        screening_match_resolve(
            screeningmatch=match,
            user=reviewers["economy"],
            disposition="confirmed",
            reason="Same registry number as the listed entity.",
        )
        with pytest.raises(TransitionConflict) as error:
            review_recommend(review=review, user=reviewers["economy"], recommendation="approve")
        assert error.value.code == "screening_match_confirmed"
        review_recommend(
            review=review,
            user=reviewers["economy"],
            recommendation="deny",
            reason="The end user is a listed entity.",
            criteria=["1"],
        )
        application.refresh_from_db()
        assert application.status == "denied"

    def test_deny_is_accepted_while_the_match_is_open(self, held, reviewers):
        application, review, _match = held
        review_recommend(
            review=review,
            user=reviewers["economy"],
            recommendation="deny",
            reason="Listed.",
            criteria=["1"],
        )
        assert application.reviews.get().recommendation == "deny"

    def test_a_resolved_match_cannot_be_resolved_again(self, held, reviewers):
        _application, _review, match = held
        screening_match_resolve(
            screeningmatch=match, user=reviewers["economy"], disposition="cleared", reason="Ok."
        )
        with pytest.raises(TransitionConflict) as error:
            screening_match_resolve(
                screeningmatch=match,
                user=reviewers["economy"],
                disposition="confirmed",
                reason="On second thoughts.",
            )
        assert error.value.current_state == "cleared"
        match.refresh_from_db()
        assert match.status == "cleared"

    def test_a_ministry_that_does_not_review_the_case_may_not_resolve(self, held, reviewers):
        from licensing.exceptions import NotPermitted

        _application, _review, match = held
        with pytest.raises(NotPermitted):
            screening_match_resolve(
                screeningmatch=match, user=reviewers["defense"], disposition="cleared", reason="?"
            )


def _csv(text: str) -> io.StringIO:
    return io.StringIO(text, newline="")


class TestImport:
    COUNTRIES = frozenset({"IR", "DE", "CN"})

    def test_every_bad_row_is_named_by_its_line_and_nothing_is_imported(self):
        factories.screening_list("Denied", entries=[{"name": "Old Entry Trading"}])
        text = _csv("name,aliases,country,remarks\nGood One,,IR,\n,,IR,no name\nBad Country,,XX,\n")
        with pytest.raises(InvalidInput) as error:
            screening_rows_read(text, set(self.COUNTRIES))
        assert error.value.errors["file"] == [
            "Line 3: the name is empty.",
            "Line 4: unknown country code 'XX'.",
        ]
        assert list(ScreeningEntry.objects.values_list("name", flat=True)) == ["Old Entry Trading"]

    def test_a_missing_column_is_refused(self):
        with pytest.raises(InvalidInput) as error:
            screening_rows_read(_csv("name,country\nA,IR\n"), set(self.COUNTRIES))
        assert "lacks aliases, remarks" in error.value.message

    def test_an_import_replaces_the_lists_entries_and_their_names(self):
        factories.screening_list("Denied", entries=[{"name": "Old Entry Trading"}])
        old = Party("end_user", "Old Entry Trading", "DE")
        assert [f.entry_name for f in screen([old])] == ["Old Entry Trading"]
        revision = ScreeningList.objects.get(name="Denied").revision
        rows = screening_rows_read(
            _csv("name,aliases,country,remarks\nNew Entry,Alias One;Alias Two,DE,R-1\n"),
            set(self.COUNTRIES),
        )
        screening_list_import(name="Denied", rows=rows, blocking=True)
        entry = ScreeningEntry.objects.get()
        assert (entry.name, entry.aliases, entry.country_id, entry.remarks) == (
            "New Entry",
            ["Alias One", "Alias Two"],
            "DE",
            "R-1",
        )
        # --blocking makes a new list blocking; this one existed and stays as it was.
        assert ScreeningList.objects.get(name="Denied").blocking is False
        assert set(ScreeningName.objects.values_list("normalised", flat=True)) == {
            "new entry",
            "alias one",
            "alias two",
        }
        # A new revision: the names this process read before the import are read again.
        assert ScreeningList.objects.get(name="Denied").revision != revision
        assert screen([old]) == []
        found = screen(
            [
                Party("end_user", "Alias Tw0 GmbH", "DE"),
                Party("consignee", "Alias Twoo", "DE"),
                Party("third_party", "Alias Two", "FR"),  # exact: in any country
                Party("third_party", "Alias Twoo", "FR"),  # partial: not the entry's country
            ]
        )
        assert [(f.party.name, f.entry_name, f.matched_name, f.match, f.score) for f in found] == [
            ("Alias Tw0 GmbH", "New Entry", "Alias Two", "partial", 100),
            ("Alias Twoo", "New Entry", "Alias Two", "partial", 95),
            ("Alias Two", "New Entry", "Alias Two", "exact", 100),
        ]

    def test_the_names_are_read_once_until_the_list_changes(self, django_assert_num_queries):
        from licensing.services.screening import screening_entry_indexed, screening_lists_touched

        factories.screening_list("Denied", entries=[{"name": "Kestrel Avionics", "country": "DE"}])
        party = Party("end_user", "Kestrel Avionix", "DE")
        assert [f.score for f in screen([party])] == [90]
        with django_assert_num_queries(1):  # the revisions; nothing found
            assert screen([Party("end_user", "Unrelated Name", "DE")]) == []
        with django_assert_num_queries(2):  # the revisions, the entries found
            assert len(screen([party])) == 1
        # An entry edited (the admin): its list's names are read again.
        entry = ScreeningEntry.objects.get()
        entry.name = "Osprey Optics"
        entry.save()
        screening_entry_indexed(entry)
        assert screen([party]) == []
        assert [f.entry_name for f in screen([Party("end_user", "Osprey Optic", "DE")])] == [
            "Osprey Optics"
        ]
        # An entry deleted (the admin touches its list): gone, read again or not.
        (kept,) = listed_names()
        ScreeningEntry.objects.all().delete()
        assert screen([Party("end_user", "Osprey Optics", "DE")]) == []
        screening_lists_touched([entry.list_id])
        (read,) = listed_names()
        assert read is not kept and read.words == []

    def test_a_failure_half_way_leaves_the_list_as_it_was(self, monkeypatch):
        factories.screening_list("Denied", entries=[{"name": "Old Entry Trading"}])
        rows = screening_rows_read(
            _csv("name,aliases,country,remarks\nA One,,,\nB Two,,,\nC Three,,,\n"),
            set(self.COUNTRIES),
        )
        calls = []

        def progress(n: int) -> None:
            calls.append(n)
            if len(calls) == 2:
                raise RuntimeError("disk full")

        with pytest.raises(RuntimeError):
            screening_list_import(name="Denied", rows=rows, progress=progress, chunk=1)
        assert list(ScreeningEntry.objects.values_list("name", flat=True)) == ["Old Entry Trading"]

    def test_the_command_reports_the_bad_line_and_exits_non_zero(self, tmp_path):
        from django.core.management import call_command
        from django.core.management.base import CommandError

        bad = tmp_path / "list.csv"
        bad.write_text("name,aliases,country,remarks\nFine,,IR,\nBroken,,ZZ,\n")
        with pytest.raises(CommandError) as error:
            call_command("import_screening_list", "--list", "Fresh", str(bad))
        assert "Line 3: unknown country code 'ZZ'." in str(error.value)
        assert not ScreeningList.objects.filter(name="Fresh").exists()

    def test_the_command_loads_the_sample_list_blocking(self, capsys):
        from django.core.management import call_command

        call_command(
            "import_screening_list", "--list", "Demo", "--blocking", str(factories.SAMPLE_LIST)
        )
        screening_list = ScreeningList.objects.get(name="Demo")
        assert screening_list.blocking
        assert screening_list.entries.count() == 10
        assert "10 entries imported into Demo (blocking)" in capsys.readouterr().out


class TestRescreening:
    def test_a_new_entry_finds_a_match_on_a_live_license_and_tells_its_supervisors(
        self, exporter, reviewers, supervisors
    ):
        approved = factories.approved(exporter, reviewers, end_user_name="Kestrel Avionics")
        open_case = _submit(exporter, end_user_name="Unrelated Name")
        screening_list = factories.screening_list(
            "Denied", entries=[{"name": "Kestrel Avionics GmbH", "country": "DE"}]
        )

        assert screening_rescreen_list(list_id=screening_list.pk, batch_size=1) == 1
        match = ScreeningMatch.objects.get()
        assert (match.application, match.match, match.status) == (approved, "exact", "open")
        approved.refresh_from_db()
        assert approved.open_screening_match_count == 1
        assert not ScreeningMatch.objects.filter(application=open_case).exists()
        told = Notification.objects.filter(event="screening_match")
        # Economy reviewed the licence's case: its supervisor is told, nobody else.
        assert list(told.values_list("recipient__username", flat=True)) == ["economy-boss"]
        assert told.get().key == f"screening:{match.pk}:{supervisors['economy'].pk}"
        assert AuditEvent.objects.filter(
            application=approved, action="screening_match_found"
        ).exists()

        # Again: nothing new, nobody told twice.
        assert screening_rescreen_list(list_id=screening_list.pk) == 0
        assert ScreeningMatch.objects.count() == 1
        assert told.count() == 1

    def test_open_cases_are_rescreened_and_drafts_and_closed_cases_are_not(
        self, exporter, reviewers
    ):
        under_review = _submit(exporter, end_user_name="Kestrel Avionics")
        factories.draft(created_by=exporter, end_user_name="Kestrel Avionics")
        denied = factories.recommend_all(
            _submit(exporter, end_user_name="Kestrel Avionics"), reviewers, {"economy": "deny"}
        )
        screening_list = factories.screening_list("Denied", entries=[{"name": "Kestrel Avionics"}])
        screening_rescreen_list(list_id=screening_list.pk)
        assert list(ScreeningMatch.objects.values_list("application", flat=True)) == [
            under_review.pk
        ]
        assert denied.status == "denied"

    def test_a_draft_edit_keeps_the_party_count(self, exporter):
        application = factories.draft(created_by=exporter)
        application_update_draft(
            application=application,
            user=exporter,
            fields={},
            other_parties=[
                {
                    "kind": "third_party",
                    "name": "Broker One",
                    "address": "Somewhere",
                    "country": factories.Country.objects.get(code="DE"),
                    "type": "commercial",
                }
            ],
        )
        application.refresh_from_db()
        assert application.other_party_count == 1
        application_update_draft(
            application=application, user=exporter, fields={}, other_parties=[]
        )
        application.refresh_from_db()
        assert application.other_party_count == 0
        assert not application.other_parties.exists()


class TestAClearanceOutlastsAListChange:
    """A supervisor's clearance holds for the entry it was given for: importing the list
    again leaves it cleared, unless the entry's name, aliases or country changed."""

    ROW = "name,aliases,country,remarks\nKestrel Avionics GmbH,{aliases},{country},R-1\n"

    def _import(self, aliases: str = "", country: str = "DE"):
        rows = screening_rows_read(
            _csv(self.ROW.format(aliases=aliases, country=country)), {"DE", "FR"}
        )
        return screening_list_import(name="Denied", rows=rows)

    def _cleared(self, exporter, reviewers, supervisors):
        approved = factories.approved(exporter, reviewers, end_user_name="Kestrel Avionics")
        screening_list = self._import()
        assert screening_rescreen_list(list_id=screening_list.pk) == 1
        match = screening_match_resolve(
            screeningmatch=ScreeningMatch.objects.get(),
            user=supervisors["economy"],
            disposition="cleared",
            reason="Another company of that name, in Munich.",
        )
        return approved, match

    def _rescreen_after(self, **changes):
        screening_list = self._import(**changes)
        return screening_rescreen_list(list_id=screening_list.pk)

    def test_the_same_entry_imported_again_leaves_the_match_cleared(
        self, exporter, reviewers, supervisors
    ):
        approved, match = self._cleared(exporter, reviewers, supervisors)
        assert self._rescreen_after() == 0
        match.refresh_from_db()
        assert (match.status, match.reason) == (
            "cleared",
            "Another company of that name, in Munich.",
        )
        approved.refresh_from_db()
        assert approved.open_screening_match_count == 0
        # It follows the entry's new row, so that the next change is seen against it.
        assert match.entry == ScreeningEntry.objects.get()

    @pytest.mark.parametrize(
        "changes", [{"aliases": "Kestrel Avionik"}, {"country": "FR"}], ids=["aliases", "country"]
    )
    def test_a_changed_entry_opens_the_match_again_and_tells_the_supervisors(
        self, exporter, reviewers, supervisors, changes
    ):
        approved, match = self._cleared(exporter, reviewers, supervisors)
        told = Notification.objects.filter(event="screening_match")
        before = told.count()
        # (The party's name is the entry's, suffix aside: an exact match, in any country.)
        assert self._rescreen_after(**changes) == 1
        match.refresh_from_db()
        assert (match.status, match.reason, match.resolved_by) == ("open", "", None)
        approved.refresh_from_db()
        assert approved.open_screening_match_count == 1
        assert told.count() == before + 1  # economy's supervisor, again
        event = AuditEvent.objects.filter(
            application=approved, action="screening_match_found"
        ).latest("id")
        assert "open again" in event.reason
        # Found again unchanged: stays open, nobody told twice.
        assert self._rescreen_after(**changes) == 0
        assert told.count() == before + 1

    def test_a_renamed_entry_is_a_new_match_and_the_old_clearance_stays(
        self, exporter, reviewers, supervisors
    ):
        self._cleared(exporter, reviewers, supervisors)
        rows = screening_rows_read(
            _csv("name,aliases,country,remarks\nKestrel Avionics AG,,DE,R-1\n"), {"DE"}
        )
        screening_list = screening_list_import(name="Denied", rows=rows)
        assert screening_rescreen_list(list_id=screening_list.pk) == 1
        assert dict(ScreeningMatch.objects.values_list("entry_name", "status")) == {
            "Kestrel Avionics GmbH": "cleared",
            "Kestrel Avionics AG": "open",
        }

    def test_an_entry_edited_in_the_admin_opens_the_match_again(
        self, exporter, reviewers, supervisors
    ):
        from licensing.services.screening import screening_entry_indexed

        _, match = self._cleared(exporter, reviewers, supervisors)
        entry = ScreeningEntry.objects.get()
        screening_rescreen_list(list_id=entry.list_id)  # nothing changed yet
        match.refresh_from_db()
        assert match.status == "cleared"
        entry.aliases = ["Kestrel Avionics Munich"]
        entry.save()
        screening_entry_indexed(entry)
        assert screening_rescreen_list(list_id=entry.list_id) == 1
        match.refresh_from_db()
        assert match.status == "open"


class TestTheHoldElsewhere:
    def test_a_deemed_consent_sends_a_held_case_to_the_committee_which_waits_too(
        self, exporter, reviewers, committee_member
    ):
        """Economy approved; a list change then matched the end user; Foreign's silence is
        consent, yet the case goes to the committee, which may approve only once the match
        is cleared."""
        from licensing.services.applications import application_decide
        from licensing.services.reviews import review_deem_no_objection

        application = _submit(exporter, destination="IN", end_user_name="Kestrel Avionics")
        economy = review_claim(
            review=application.reviews.get(ministry="economy"), user=reviewers["economy"]
        )
        review_recommend(review=economy, user=reviewers["economy"], recommendation="approve")
        screening_list = factories.screening_list("Denied", entries=[{"name": "Kestrel Avionics"}])
        assert screening_rescreen_list(list_id=screening_list.pk) == 1

        review_deem_no_objection(
            review=application.reviews.get(ministry="foreign"), reason="Silence is consent."
        )
        application.refresh_from_db()
        assert application.status == "disputed"
        event = AuditEvent.objects.get(application=application, action="application_disputed")
        assert "is open: resolve it before approving" in event.reason

        with pytest.raises(TransitionConflict) as error:
            application_decide(
                application=application, user=committee_member, decision="approve", reason="Ok."
            )
        assert error.value.code == "screening_match_open"
        screening_match_resolve(
            screeningmatch=ScreeningMatch.objects.get(),
            user=reviewers["economy"],
            disposition="cleared",
            reason="A namesake.",
        )
        application_decide(
            application=application, user=committee_member, decision="approve", reason="Ok."
        )
        application.refresh_from_db()
        assert application.status == "approved"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_rescreens_at_once_record_each_match_and_tell_each_supervisor_once(
    exporter, reviewers, supervisors
):
    from tests.services.test_concurrency import _run_in_threads

    names = ["Kestrel Avionics", "Orinoco Marine Holdings", "Quasar Photonics"]
    licensed = [factories.approved(exporter, reviewers, end_user_name=name) for name in names]
    screening_list = factories.screening_list("Denied", entries=[{"name": n} for n in names])
    results = _run_in_threads(
        lambda: screening_rescreen_list(list_id=screening_list.pk, batch_size=1),
        lambda: screening_rescreen_list(list_id=screening_list.pk, batch_size=2),
    )
    assert sum(results) == 3, results  # between them, each match once
    assert ScreeningMatch.objects.count() == 3
    for application in licensed:
        application.refresh_from_db()
        assert application.screening_match_count == application.open_screening_match_count == 1
    assert Notification.objects.filter(event="screening_match").count() == 3
    assert AuditEvent.objects.filter(action="screening_match_found").count() == 3
