"""The registry of actions, above the services: what each rulebook action looks like and runs.

The rulebook (`licensing.rulebook`) decides whether a person may take an action now;
this registry names, for each of its rules, the service function that takes it, the
input it reads (an API serializer, a page form), its button and what the page says
once it is done. Generated from it:

- the API's action endpoints (`POST .../{id}/<name>/`) and their request schemas
  (`licensing.api.views`);
- the buttons and forms on the pages, and the page endpoint that runs them
  (`licensing.web.actions`).

Arrows point down: the API and the pages import this module, which imports the
services, the forms and the input serializers; none of those imports it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import models

from licensing import rulebook
from licensing.api import inputs
from licensing.models import Application, License, Review, ScreeningMatch
from licensing.services.amendments import application_amend, license_amend
from licensing.services.appeals import application_appeal
from licensing.services.applications import (
    application_decide,
    application_delete_draft,
    application_respond,
    application_submit,
    application_update_draft,
    application_withdraw,
)
from licensing.services.documents import document_upload
from licensing.services.licenses import (
    license_reinstate,
    license_revoke,
    license_surrender,
    license_suspend,
)
from licensing.services.reviews import (
    review_claim,
    review_reassign,
    review_recommend,
    review_request_information,
)
from licensing.services.screening import screening_match_resolve
from licensing.services.shipments import shipment_record
from licensing.web import forms


@dataclass(frozen=True)
class Action:
    rule: rulebook.Rule
    """Who may take it and when (`licensing.rulebook`)."""
    label: str
    """The button."""
    done: str
    """What the page says once it is done; `{obj}` is the object acted on."""
    service: Callable[..., Any]
    """Called as `service(<target>=obj, user=user, **input)`."""
    serializer: type | None = None
    """The API's input (`licensing.api.inputs`)."""
    form: type | None = None
    """The page's input (`licensing.web.forms`)."""
    confirm: str = ""
    """Irreversible: the page asks this before it posts. `{obj}` is the object."""
    style: str = ""
    """The button's class: `danger`, `secondary` or plain."""
    creates: bool = False
    """The service returns a new application (an amendment draft): the endpoint answers 201
    with it, and the page goes to it."""
    keep_draft: bool = False
    """The page keeps what is typed into the form in the browser tab (sessionStorage) until
    it is sent, so a session that timed out or a page left by mistake loses nothing."""
    page: str = ""
    """The page of its own the form is on (`check`: `/applications/<id>/check/`), which
    the case page links to; empty: the form is on the case page."""

    @property
    def name(self) -> str:
        return self.rule.name

    @property
    def target(self) -> type[models.Model]:
        return self.rule.target

    @property
    def target_name(self) -> str:
        return self.rule.target_name

    @property
    def endpoint(self) -> bool:
        return self.rule.endpoint

    def allows(self, obj: Any, user: Any) -> bool:
        return self.rule.allows(obj, user)

    def require(self, obj: Any, user: Any) -> None:
        """403 unless `user` may take it, then 409 unless `obj`'s state allows it now."""
        rulebook.require(self.name, obj, user)

    def run(self, obj: Any, user: Any, data: dict[str, Any]) -> Any:
        return self.service(**{self.target_name: obj}, user=user, **data)


def _action(target: type[models.Model], name: str, **how: Any) -> Action:
    rule = rulebook.get(target, name)
    if rule is None:
        raise ImproperlyConfigured(f"The rulebook has no {name!r} on {target.__name__}.")
    return Action(rule, **how)


ACTIONS: tuple[Action, ...] = (
    _action(
        Application,
        "edit",
        label="Edit draft",
        done="Draft {obj.reference} saved.",
        service=application_update_draft,
    ),
    _action(
        Application,
        "submit",
        label="Submit for review",
        done="Submitted for review.",
        service=application_submit,
        form=forms.SubmitForm,
        page="check",
    ),
    _action(
        Application,
        "respond",
        label="Send answer",
        done="Answer sent; the review clocks run again.",
        service=application_respond,
        serializer=inputs.AnswerSerializer,
        form=forms.AnswerForm,
        keep_draft=True,
    ),
    _action(
        Application,
        "withdraw",
        label="Withdraw",
        done="Application withdrawn.",
        service=application_withdraw,
        serializer=inputs.WithdrawSerializer,
        form=forms.OptionalReasonForm,
        confirm="Withdraw {obj.reference}? The reviews stop and this cannot be undone.",
        style="danger",
    ),
    _action(
        Application,
        "amend",
        label="Amend (copy into a new draft)",
        done="Amendment {obj.reference} drafted: change it and submit it; the original stays "
        "under review until then.",
        service=application_amend,
        creates=True,
        style="secondary",
    ),
    _action(
        Application,
        "appeal",
        label="Appeal",
        done="Appeal lodged: the committee will decide it.",
        service=application_appeal,
        serializer=inputs.AppealSerializer,
        form=forms.AppealForm,
        confirm="Appeal the decision on {obj.reference}? An application is appealed once.",
        keep_draft=True,
    ),
    _action(
        Application,
        "decide",
        label="Decide",
        done="Decision recorded.",
        service=application_decide,
        serializer=inputs.DecideSerializer,
        form=forms.DecideForm,
        confirm="Record the committee's decision on {obj.reference}? It cannot be undone.",
        keep_draft=True,
    ),
    _action(
        Application,
        "upload",
        label="Add document",
        done="Document added.",
        service=document_upload,
        serializer=inputs.DocumentUploadSerializer,
        form=forms.DocumentForm,
    ),
    _action(
        Application,
        "delete",
        label="Delete draft",
        done="Draft deleted.",
        service=application_delete_draft,
        confirm="Delete this draft? This cannot be undone.",
        style="danger",
    ),
    _action(
        Review,
        "claim",
        label="Claim",
        done="Review claimed.",
        service=review_claim,
    ),
    _action(
        Review,
        "recommend",
        label="Record recommendation",
        done="Recommendation recorded.",
        service=review_recommend,
        serializer=inputs.RecommendSerializer,
        form=forms.RecommendForm,
        confirm="Record this recommendation? It cannot be changed afterwards.",
        keep_draft=True,
    ),
    _action(
        ScreeningMatch,
        "resolve",
        label="Resolve match",
        done="Screening match of '{obj.party_name}' resolved.",
        service=screening_match_resolve,
        serializer=inputs.ResolveSerializer,
        form=forms.ResolveForm,
        confirm="Resolve the match of '{obj.party_name}' with '{obj.entry_name}'? "
        "It cannot be changed afterwards.",
    ),
    _action(
        Review,
        "request-information",
        label="Send question",
        done="Question sent; the review clocks are stopped.",
        service=review_request_information,
        serializer=inputs.QuestionSerializer,
        form=forms.QuestionForm,
        keep_draft=True,
    ),
    _action(
        Review,
        "reassign",
        label="Reassign",
        done="Review reassigned.",
        service=review_reassign,
        serializer=inputs.ReassignSerializer,
        form=forms.ReassignForm,
        style="secondary",
    ),
    _action(
        License,
        "suspend",
        label="Suspend license",
        done="License {obj.number} suspended.",
        service=license_suspend,
        serializer=inputs.ReasonSerializer,
        form=forms.ReasonForm,
        confirm="Suspend license {obj.number}?",
        style="secondary",
    ),
    _action(
        License,
        "reinstate",
        label="Reinstate license",
        done="License {obj.number} reinstated.",
        service=license_reinstate,
        serializer=inputs.ReasonSerializer,
        form=forms.ReasonForm,
        confirm="Reinstate license {obj.number}?",
        style="secondary",
    ),
    _action(
        License,
        "revoke",
        label="Revoke license",
        done="License {obj.number} revoked.",
        service=license_revoke,
        serializer=inputs.ReasonSerializer,
        form=forms.ReasonForm,
        confirm="Revoke license {obj.number}? This cannot be undone.",
        style="danger",
    ),
    _action(
        License,
        "ship",
        label="Record shipment",
        done="Shipment recorded against license {obj.number}.",
        service=shipment_record,
        serializer=inputs.ShipmentInputSerializer,
        form=forms.ShipmentForm,
    ),
    _action(
        License,
        "amend",
        label="Amend license",
        done="Amendment {obj.reference} drafted from the license: change it and submit it.",
        service=license_amend,
        creates=True,
        style="secondary",
    ),
    _action(
        License,
        "surrender",
        label="Surrender license",
        done="License {obj.number} surrendered.",
        service=license_surrender,
        serializer=inputs.ReasonSerializer,
        form=forms.ReasonForm,
        confirm="Surrender license {obj.number}? No shipment can be made under it afterwards, "
        "and this cannot be undone.",
        style="danger",
    ),
)

_BY_KEY = {(action.target, action.name): action for action in ACTIONS}
if len(_BY_KEY) != len(ACTIONS) or set(_BY_KEY) != {(r.target, r.name) for r in rulebook.RULES}:
    raise ImproperlyConfigured("The registry names each rule of the rulebook once.")


def actions_for(target: type[models.Model]) -> list[Action]:
    """`target`'s actions, in the rulebook's order."""
    return [_BY_KEY[(rule.target, rule.name)] for rule in rulebook.rules_for(target)]


def get(target: type[models.Model], name: str) -> Action | None:
    return _BY_KEY.get((target, name))


def allowed(obj: Any, user: Any, *, names: Iterable[str] | None = None) -> list[Action]:
    """The actions `user` may take on `obj` now (`rulebook.allowed`), in its order."""
    return [_BY_KEY[(rule.target, rule.name)] for rule in rulebook.allowed(obj, user, names=names)]
