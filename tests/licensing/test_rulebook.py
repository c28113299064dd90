"""The rulebook is the one answer to "may this person do this now?".

For every action, every persona and every state the builders reach, three
places must agree: the API offers it (`available_transitions`), the page shows
its button, and the service accepts it. Each is asked through its own door:
the API and the page over HTTP, the service directly (rolled back).

The cases and personas are built once for the class that checks them (inside a
transaction rolled back at its end); each test is one state and one persona, rolled
back on its own, and fetches each page and API answer once for all the actions.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from itertools import count, product

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.models import Ministry, User
from licensing import actions, audit_guard, rulebook
from licensing.clock import local_today
from licensing.exceptions import InvalidInput, NotPermitted, TransitionConflict
from licensing.models import Application, License, Review, ScreeningMatch
from licensing.services.amendments import application_amend, license_amend
from licensing.services.appeals import application_appeal
from licensing.services.applications import (
    application_decide,
    application_submit,
    application_withdraw,
)
from licensing.services.licenses import license_surrender, license_suspend
from licensing.services.reviews import review_claim, review_request_information
from licensing.services.screening import approval_hold, screening_match_resolve
from licensing.services.shipments import shipment_record
from tests import factories
from tests.api.conftest import token_for
from tests.auth import log_in

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass
class Case:
    name: str
    application: Application

    @property
    def review(self) -> Review | None:
        """The Defense review when there is one (every built case but a draft has one)."""
        return self.application.reviews.filter(ministry="defense").first()

    @property
    def license(self) -> License | None:
        return License.objects.filter(application=self.application).first()

    @property
    def match(self) -> ScreeningMatch | None:
        return ScreeningMatch.objects.filter(application=self.application).first()

    def keys(self) -> dict[type, int | None]:
        """The key of what each kind of action acts on in this case (None: nothing)."""
        found = {Review: self.review, License: self.license, ScreeningMatch: self.match}
        return {Application: self.application.pk} | {
            target: obj.pk if obj is not None else None for target, obj in found.items()
        }


PATHS = {
    Application: "applications",
    Review: "reviews",
    License: "licenses",
    ScreeningMatch: "screening-matches",
}

# The states `_cases` builds and the personas `_personas` names, in their order.
STATES = (
    "draft",
    "under review",
    "claimed by Defense",
    "information requested",
    "disputed",
    "approved",
    "license suspended",
    "license exhausted",
    "license surrendered",
    "denied",
    "withdrawn",
    "amendment drafted",
    "the amendment draft",
    "superseded",
    "license amendment drafted",
    "partially approved",
    "under appeal",
    "appeal dismissed",
    "denied, appeal window closed",
    "screening match open",
    "screening match cleared",
    "screening match confirmed",
)
PERSONAS = (
    "exporter",
    "outsider",
    *(f"{ministry} reviewer" for ministry in Ministry.values),
    *(f"{ministry} supervisor" for ministry in Ministry.values),
    "defense colleague",
    "committee",
    "administrator",
)


def _cases(exporter, reviewers, supervisors, committee_member) -> list[Case]:
    """One case in each state the builders reach; every one routed to Defense once submitted."""
    munitions = {"code": "ML10", "destination": "CN", "license_type": "marketing"}
    cases = [Case("draft", factories.draft(created_by=exporter, **munitions))]
    cases.append(Case("under review", factories.submitted(exporter, **munitions)))
    claimed = factories.submitted(exporter, **munitions)
    review_claim(review=claimed.reviews.get(ministry="defense"), user=reviewers["defense"])
    cases.append(Case("claimed by Defense", claimed))
    asked = factories.submitted(exporter, **munitions)
    review_request_information(
        review=asked.reviews.get(ministry="foreign"), user=reviewers["foreign"], question="Who?"
    )
    cases.append(Case("information requested", asked))
    cases.append(Case("disputed", factories.disputed(exporter, reviewers)))
    cases.append(Case("approved", factories.approved(exporter, reviewers, **munitions)))
    suspended = factories.approved(exporter, reviewers, **munitions)
    license_suspend(license=suspended.license, user=supervisors["defense"], reason="Inquiry")
    cases.append(Case("license suspended", suspended))
    exhausted = factories.approved(exporter, reviewers, **munitions)
    good = exhausted.license.goods.get()
    shipment_record(
        license=exhausted.license,
        user=exporter,
        reference="AWB-ALL",
        shipped_on=local_today(),
        lines=[{"license_good": good.pk, "quantity": good.quantity, "value": good.value}],
    )
    cases.append(Case("license exhausted", exhausted))
    surrendered = factories.approved(exporter, reviewers, **munitions)
    license_surrender(license=surrendered.license, user=exporter, reason="No longer needed.")
    cases.append(Case("license surrendered", surrendered))
    denied = factories.submitted(exporter, **munitions)
    cases.append(
        Case("denied", factories.recommend_all(denied, reviewers, dict.fromkeys(reviewers, "deny")))
    )
    withdrawn = factories.submitted(exporter, **munitions)
    application_withdraw(application=withdrawn, user=exporter)
    cases.append(Case("withdrawn", withdrawn))
    # Changing course: amendments, partial approvals, appeals.
    amended = factories.submitted(exporter, **munitions)
    amendment = application_amend(application=amended, user=exporter)
    cases.append(Case("amendment drafted", amended))
    cases.append(Case("the amendment draft", amendment))
    superseded = factories.submitted(exporter, **munitions)
    application_submit(
        application=application_amend(application=superseded, user=exporter), user=exporter
    )
    cases.append(Case("superseded", superseded))
    license_amended = factories.approved(exporter, reviewers, **munitions)
    license_amend(license=license_amended.license, user=exporter)
    cases.append(Case("license amendment drafted", license_amended))
    cases.append(
        Case("partially approved", factories.partially_approved(exporter, reviewers, **munitions))
    )
    appealed = factories.denied(exporter, reviewers, **munitions)
    application_appeal(application=appealed, user=exporter, grounds="New assurances.")
    cases.append(Case("under appeal", appealed))
    dismissed = factories.denied(exporter, reviewers, **munitions)
    application_appeal(application=dismissed, user=exporter, grounds="New assurances.")
    application_decide(application=dismissed, user=committee_member, decision="deny", reason="No.")
    cases.append(Case("appeal dismissed", dismissed))
    late = factories.denied(exporter, reviewers, **munitions)
    Application.objects.filter(pk=late.pk).update(
        decided_at=late.decided_at - timedelta(days=settings.APPEAL_WINDOW_DAYS + 1)
    )
    cases.append(Case("denied, appeal window closed", late))
    # Screening: the end user resembles an entry of the sample list; Defense has claimed
    # its review, so the hold on approving shows (only a denial is accepted).
    factories.screening_list()
    for disposition in ("open", "cleared", "confirmed"):
        held = factories.submitted(
            exporter, end_user_name="Zagros Precision Industries", **munitions
        )
        review_claim(review=held.reviews.get(ministry="defense"), user=reviewers["defense"])
        if disposition != "open":
            screening_match_resolve(
                screeningmatch=held.screening_matches.get(),
                user=reviewers["foreign"],
                disposition=disposition,
                reason="Checked against the registry.",
            )
        cases.append(Case(f"screening match {disposition}", held))
    return cases


def _personas(exporter, outsider, reviewers, supervisors, committee_member, administrator):
    colleague = factories.ReviewerFactory(username="defense-colleague", ministry="defense")
    return {
        "exporter": exporter,
        "outsider": outsider,
        **{f"{m} reviewer": user for m, user in reviewers.items()},
        **{f"{m} supervisor": user for m, user in supervisors.items()},
        "defense colleague": colleague,
        "committee": committee_member,
        "administrator": administrator,
    }


_references = count(1)


def _input(action: actions.Action, obj, user) -> dict:
    """A valid input for the action, so only who and when can refuse it."""
    if action.name == "ship":
        return {
            "reference": f"INV-{next(_references)}",
            "shipped_on": local_today(),
            "lines": [{"license_good": obj.goods.first().pk, "quantity": 1, "value": Decimal(0)}],
        }
    if action.name == "reassign":
        return {"assignee": factories.ReviewerFactory(ministry=obj.ministry)}
    if action.name == "upload":
        return {"file": SimpleUploadedFile("spec.pdf", PDF), "kind": "other"}
    if action.name == "edit":
        return {"fields": {}, "goods": None}
    # A screening match holding the case leaves only a denial (the page's form offers no more).
    if action.name == "recommend" and approval_hold(obj.application) is not None:
        return {
            "recommendation": "deny",
            "reason": "A listed party.",
            "conditions": "",
            "criteria": ["1"],
        }
    if action.name == "decide" and approval_hold(obj) is not None:
        return {"decision": "deny", "reason": "A listed party.", "criteria": ["1"]}
    if action.name == "submit":
        return {"declaration": True}
    return {
        "respond": {"answer": "From its own budget."},
        "withdraw": {"reason": ""},
        "decide": {"decision": "approve", "reason": "The committee agrees."},
        "recommend": {"recommendation": "approve", "reason": "", "conditions": ""},
        "request-information": {"question": "Who finances it?"},
        "appeal": {"grounds": "The end user has changed."},
        "amend": {},
        "resolve": {"disposition": "cleared", "reason": "A namesake."},
    }.get(action.name, {"reason": "Inquiry"} if action.target is License else {})


class _RolledBack(Exception):
    pass


def _service_accepts(action: actions.Action, obj, user) -> bool:
    try:
        with transaction.atomic():
            action.run(obj, user, _input(action, obj, user))
            raise _RolledBack
    except _RolledBack:
        return True
    except (NotPermitted, TransitionConflict):
        return False
    except InvalidInput as error:  # only the input may be refused here, never who or when
        pytest.fail(f"{action.name} refused its valid input: {error.errors}")


class _Fetched:
    """What one persona is shown: each address fetched once, whichever actions ask."""

    def __init__(self, client):
        self.client = client
        self.answers: dict[str, tuple[int, str]] = {}

    def __call__(self, path: str) -> tuple[int, str]:
        if path not in self.answers:
            response = self.client.get(path)
            self.answers[path] = (response.status_code, response.content.decode())
        return self.answers[path]


def _offered_by_api(action: actions.Action, obj, api: _Fetched) -> bool | None:
    """Whether the object's `available_transitions` lists the action; None if invisible."""
    status, content = api(f"/api/v1/{PATHS[action.target]}/{obj.pk}/")
    if status == 404:
        return None
    assert status == 200, content
    return action.name in json.loads(content)["available_transitions"]


def _button_on_page(action: actions.Action, obj, get: _Fetched) -> bool:
    if isinstance(obj, License) and action.name != "ship":
        return _on_license_pages(action, obj, get)
    case = obj if isinstance(obj, Application) else obj.application
    # An action with a page of its own (submit: check your answers) has its form there,
    # and the case page links to that page exactly when the form is there.
    page_of_its_own = f"/applications/{case.pk}/{action.page}/" if action.page else ""
    if page_of_its_own:
        linked = f'href="{page_of_its_own}"' in get(f"/applications/{case.pk}/")[1]
        status, content = get(page_of_its_own)
        found = status == 200 and bool(
            re.search(rf'action="/applications/{obj.pk}/{action.name}/"', content)
        )
        assert linked == found, f"{action.name}: linked {linked}, form on its page {found}"
        return found
    status, page = get(f"/applications/{case.pk}/")
    if status == 404:
        return False
    if action.name == "edit":
        return f'href="/applications/{case.pk}/edit/"' in page
    path = PATHS[action.target]
    return bool(re.search(rf'action="/{path}/{obj.pk}/{re.escape(action.name)}/"', page))


def _on_license_pages(action: actions.Action, license: License, get: _Fetched) -> bool:
    """A licence's actions: its own page shows the form, the licence list names the action;
    the case page (for whoever may open it) shows the same form. All must agree."""
    pattern = rf'action="/licenses/{license.pk}/{re.escape(action.name)}/"'
    status, page = get(f"/licenses/{license.pk}/")
    on_page = status == 200 and bool(re.search(pattern, page))
    listed = get(f"/licenses/?q={license.number}")[1]
    row = re.search(rf'<tr data-license="{license.number}">(.*?)</tr>', listed, re.S)
    in_list = bool(row and f'data-action="{action.name}"' in row[1])
    status, case = get(f"/applications/{license.application_id}/")
    if status == 200:
        assert bool(re.search(pattern, case)) == on_page, action.name
    assert in_list == on_page, action.name
    return on_page


def test_every_transition_of_an_action_shares_one_permission():
    for rule in rulebook.RULES:
        permissions = {t.permission for t in rule._transitions}
        if rule.transitions:
            assert len(permissions) == 1 and None not in permissions, rule.name
        else:
            assert rule.policy is not None and rule.states, rule.name


def test_the_registry_names_each_rule_once_with_its_service_function():
    assert [(a.target, a.name) for a in actions.ACTIONS] == [
        (r.target, r.name) for r in rulebook.RULES
    ]
    for action in actions.ACTIONS:
        assert callable(action.service), action.name
        assert action.service.__module__.startswith("licensing.services."), action.name


@dataclass
class World:
    keys: dict[str, dict[type, int | None]]
    """Per case: the key of what each kind of action acts on (`Case.keys`)."""
    personas: dict[str, User]
    tokens: dict[str, str]
    accepted: set[tuple[str, str]]
    """The actions (target, name) a service has accepted in a test of the class so far."""


@pytest.fixture(scope="class")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Every case and persona, built once for the class in a transaction rolled back after
    its last test; each test's own transaction nests inside it as a savepoint. The build
    runs under the settings conftest.py's autouse fixtures give a test."""
    from licensing.tasks import deliver_notifications, rescreen_list

    folder = tmp_path_factory.mktemp("rulebook")
    with (
        django_db_blocker.unblock(),
        override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            MEDIA_ROOT=folder / "media",
            AUDIT_ANCHOR_DIR=folder / "audit-anchors",
            CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
            PAGE_CACHE_SECONDS=0,
            SESSION_IDLE_MINUTES=0,
        ),
        pytest.MonkeyPatch.context() as patch,
        transaction.atomic(),
    ):
        patch.setattr(deliver_notifications, "apply_async", lambda *args, **kwargs: None)
        patch.setattr(rescreen_list, "apply_async", lambda *args, **kwargs: None)
        audit_guard.install(connection)
        organisation = factories.OrganisationFactory(name="Ricor Test Ltd")
        exporter = factories.ExporterFactory(username="alice", organisation=organisation)
        outsider = factories.ExporterFactory(
            username="mallory", organisation=factories.OrganisationFactory(name="Other Co Ltd")
        )
        reviewers = {
            ministry: factories.ReviewerFactory(username=f"{ministry}-reviewer", ministry=ministry)
            for ministry in Ministry.values
        }
        supervisors = {
            ministry: factories.SupervisorFactory(username=f"{ministry}-boss", ministry=ministry)
            for ministry in Ministry.values
        }
        committee_member = factories.CommitteeFactory(username="carol")
        administrator = factories.AdministratorFactory(username="root")
        cases = _cases(exporter, reviewers, supervisors, committee_member)
        personas = _personas(
            exporter, outsider, reviewers, supervisors, committee_member, administrator
        )
        assert [case.name for case in cases] == list(STATES)
        assert list(personas) == list(PERSONAS)
        try:
            yield World(
                keys={case.name: case.keys() for case in cases},
                personas=personas,
                tokens={name: token_for(user) for name, user in personas.items()},
                accepted=set(),
            )
        finally:
            transaction.set_rollback(True)


def _slug(name: str) -> str:
    return re.sub(r"\W+", "-", name).strip("-").lower()


def _object(keys: dict[type, int | None], target: type):
    """What an action on `target` acts on, read afresh (a service attempt changes it in
    memory before it is rolled back); None if the case has none."""
    return None if keys[target] is None else target.objects.get(pk=keys[target])


class TestTheApiThePageAndTheServiceAgree:
    @pytest.mark.parametrize("persona", PERSONAS, ids=_slug)
    @pytest.mark.parametrize("state", STATES, ids=_slug)
    def test_for_every_action(self, world, client, state, persona):
        user = world.personas[persona]
        log_in(client, user)
        page = _Fetched(client)
        api_client = APIClient()
        api_client.credentials(HTTP_AUTHORIZATION=f"Token {world.tokens[persona]}")
        api = _Fetched(api_client)
        disagreements = []
        for action in actions.ACTIONS:
            obj = _object(world.keys[state], action.target)
            if obj is None:
                continue
            shown = _button_on_page(action, obj, page)
            offered = _offered_by_api(action, obj, api) if action.endpoint else None
            accepted = _service_accepts(action, obj, user)
            if not action.endpoint:
                offered = accepted
            if not (accepted == shown == bool(offered)):
                disagreements.append(
                    f"{state} / {action.name} / {persona}: "
                    f"service {accepted}, page {shown}, api {offered}"
                )
            if accepted:
                world.accepted.add((action.target_name, action.name))
        assert disagreements == []

    def test_the_states_and_personas_reach_every_action(self, world):
        """Some persona in some state may take each action. The test above notes each it
        saw accepted; whatever it has not (this test run on its own) is looked for here."""
        for action in actions.ACTIONS:
            key = (action.target_name, action.name)
            for keys, user in product(world.keys.values(), world.personas.values()):
                if key in world.accepted:
                    break
                obj = _object(keys, action.target)
                if obj is not None and _service_accepts(action, obj, user):
                    world.accepted.add(key)
        assert world.accepted == {(a.target_name, a.name) for a in actions.ACTIONS}


def test_the_recommend_form_offers_only_a_denial_while_a_match_holds_the_case(
    client, exporter, reviewers
):
    factories.screening_list()
    held = factories.submitted(exporter, end_user_name="Zagros Precision Industries")
    review = review_claim(review=held.reviews.get(), user=reviewers["economy"])
    log_in(client, reviewers["economy"])
    page = client.get(f"/applications/{held.pk}/").content.decode()
    form = page[page.index(f'action="/reviews/{review.pk}/recommend/"') :]
    form = form[: form.index("</form>")]
    assert 'value="deny"' in form
    assert 'value="approve"' not in form
    assert "is open: resolve it before approving" in form
