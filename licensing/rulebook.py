"""The rulebook: every action a person takes, declared once.

Each `Action` names what it acts on, the state machine transition(s) that
take it, who may take it, its input (an API serializer and a page form), the
service that does it, and what the page says afterwards. Everything else is
generated from this table:

- the services call `require()` under their locks (403, then 409);
- the API's action endpoints (`POST .../{id}/<name>/`), their request
  schemas, `available_transitions` and its OpenAPI enum (`licensing.api.views`);
- the buttons and forms on the pages, and the page endpoint that runs them
  (`licensing.web.actions`).

*Who* is a policy function (`licensing.policies`). For an action that is a
transition, it is the transition's `permission=`, and *when* is the
transition's source states and `conditions=`; django-fsm-2 answers both
(`get_available_user_status_transitions`, `has_transition_perm`). An action
that changes no state (edit, delete, upload) names its policy and states here.

Services are named by dotted path and imported when first called: the
services themselves import this module for `require()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.db import models
from django.utils.module_loading import import_string
from django_fsm import Transition, can_proceed

from licensing import policies
from licensing.api import inputs
from licensing.exceptions import NotPermitted, TransitionConflict
from licensing.models import (
    Application,
    ApplicationStatus,
    License,
    LicenseStatus,
    Review,
    ScreeningMatch,
)
from licensing.models.applications import IN_REVIEW_STATES, OPEN_STATES, no_pending_amendment
from licensing.models.licenses import LIVE_STATES
from licensing.web import forms

Policy = Callable[[Any, Any], bool]


@dataclass(frozen=True)
class Action:
    name: str
    """The endpoint's path segment (`request-information`), the page's too."""
    target: type[models.Model]
    label: str
    """The button."""
    done: str
    """What the page says once it is done; `{obj}` is the object acted on."""
    service: str
    """Dotted path; called as `service(<target>=obj, user=user, **input)`."""
    transitions: tuple[str, ...] = ()
    """The target's FSM methods that take this action (who and when come from them)."""
    policy: Policy | None = None
    """Only for an action that is no transition: who may take it."""
    states: tuple[str, ...] = ()
    """Only for an action that is no transition: the target states it is open in."""
    conditions: tuple[Callable[[Any], bool], ...] = ()
    """Only for an action that is no transition: what else must hold (own fields only); a
    condition marked with `licensing.models.applications.conflict` says its own 409."""
    serializer: type | None = None
    form: type | None = None
    endpoint: bool = True
    """A generated `POST .../{id}/<name>/` that returns the object, listed in
    `available_transitions`; False for the draft's own verbs (PATCH, DELETE, upload) and
    for actions with an endpoint of their own (a licence's shipments)."""
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
    def target_name(self) -> str:
        return self.target._meta.model_name

    @cached_property
    def _transitions(self) -> list[Transition]:
        """The transition objects (one per source state) of this action's FSM methods."""
        found = []
        for name in self.transitions:
            found.extend(getattr(self.target, name)._django_fsm.transitions.values())
        return found

    def permits(self, obj: Any, user: Any) -> bool:
        """Whether `user` is someone who may take this action on `obj` (any state)."""
        if self.transitions:
            # Every source of one action shares its permission; see test_rulebook.
            return self._transitions[0].has_perm(obj, user)
        assert self.policy is not None, self.name
        return self.policy(obj, user)

    def possible(self, obj: Any) -> bool:
        """Whether `obj`'s state (and its related objects') allows this action now."""
        if self.transitions:
            available = {t.name for t in obj.get_available_status_transitions()}
            return any(name in available for name in self.transitions)
        return obj.status in self.states and all(condition(obj) for condition in self.conditions)

    def allows(self, obj: Any, user: Any, mine: set[str] | None = None) -> bool:
        """`mine`: the names of the transitions `user` may take on `obj` now, if known."""
        if self.transitions:
            if mine is None:
                mine = _user_transitions(obj, user)
            return any(name in mine for name in self.transitions)
        return self.permits(obj, user) and self.possible(obj)

    def run(self, obj: Any, user: Any, data: dict[str, Any]) -> Any:
        return import_string(self.service)(**{self.target_name: obj}, user=user, **data)


A = ApplicationStatus
ACTIONS: tuple[Action, ...] = (
    # The exporter's draft, its submission, its questions.
    Action(
        name="edit",
        target=Application,
        label="Edit draft",
        done="Draft {obj.reference} saved.",
        service="licensing.services.applications.application_update_draft",
        policy=policies.is_exporter_of,
        states=(A.DRAFT,),
        endpoint=False,
    ),
    Action(
        name="submit",
        target=Application,
        label="Submit for review",
        done="Submitted for review.",
        service="licensing.services.applications.application_submit",
        transitions=("submit",),
        form=forms.SubmitForm,
        page="check",
    ),
    Action(
        name="respond",
        target=Application,
        label="Send answer",
        done="Answer sent; the review clocks run again.",
        service="licensing.services.applications.application_respond",
        transitions=("respond",),
        serializer=inputs.AnswerSerializer,
        form=forms.AnswerForm,
        keep_draft=True,
    ),
    Action(
        name="withdraw",
        target=Application,
        label="Withdraw",
        done="Application withdrawn.",
        service="licensing.services.applications.application_withdraw",
        transitions=("withdraw",),
        serializer=inputs.WithdrawSerializer,
        form=forms.OptionalReasonForm,
        confirm="Withdraw {obj.reference}? The reviews stop and this cannot be undone.",
        style="danger",
    ),
    Action(
        name="amend",
        target=Application,
        label="Amend (copy into a new draft)",
        done="Amendment {obj.reference} drafted: change it and submit it; the original stays "
        "under review until then.",
        service="licensing.services.amendments.application_amend",
        policy=policies.is_exporter_of,
        states=tuple(IN_REVIEW_STATES),
        conditions=(no_pending_amendment,),
        creates=True,
        style="secondary",
    ),
    Action(
        name="appeal",
        target=Application,
        label="Appeal",
        done="Appeal lodged: the committee will decide it.",
        service="licensing.services.appeals.application_appeal",
        transitions=("lodge_appeal",),
        serializer=inputs.AppealSerializer,
        form=forms.AppealForm,
        confirm="Appeal the decision on {obj.reference}? An application is appealed once.",
        keep_draft=True,
    ),
    Action(
        name="decide",
        target=Application,
        label="Decide",
        done="Decision recorded.",
        service="licensing.services.applications.application_decide",
        transitions=(
            "committee_approve",
            "committee_deny",
            "committee_partially_approve",
            "uphold_appeal",
            "dismiss_appeal",
        ),
        serializer=inputs.DecideSerializer,
        form=forms.DecideForm,
        confirm="Record the committee's decision on {obj.reference}? It cannot be undone.",
        keep_draft=True,
    ),
    Action(
        name="upload",
        target=Application,
        label="Add document",
        done="Document added.",
        service="licensing.services.documents.document_upload",
        policy=policies.is_exporter_of,
        states=tuple(OPEN_STATES),
        serializer=inputs.DocumentUploadSerializer,
        form=forms.DocumentForm,
        endpoint=False,
    ),
    Action(
        name="delete",
        target=Application,
        label="Delete draft",
        done="Draft deleted.",
        service="licensing.services.applications.application_delete_draft",
        policy=policies.is_exporter_of,
        states=(A.DRAFT,),
        endpoint=False,
        confirm="Delete this draft? This cannot be undone.",
        style="danger",
    ),
    # A ministry's review.
    Action(
        name="claim",
        target=Review,
        label="Claim",
        done="Review claimed.",
        service="licensing.services.reviews.review_claim",
        transitions=("claim",),
    ),
    Action(
        name="recommend",
        target=Review,
        label="Record recommendation",
        done="Recommendation recorded.",
        service="licensing.services.reviews.review_recommend",
        transitions=("recommend",),
        serializer=inputs.RecommendSerializer,
        form=forms.RecommendForm,
        confirm="Record this recommendation? It cannot be changed afterwards.",
        keep_draft=True,
    ),
    # A party resembling a sanctions or denial list entry (found at submission or on a
    # list change): the reviewing ministries clear or confirm it. While one is open a
    # recommendation to approve is refused, and after a confirmed one only a denial is
    # accepted (`review_recommend`, through `services.screening.check_approval_hold`;
    # the page's recommend form offers only what it accepts).
    Action(
        name="resolve",
        target=ScreeningMatch,
        label="Resolve match",
        done="Screening match of '{obj.party_name}' resolved.",
        service="licensing.services.screening.screening_match_resolve",
        transitions=("clear", "confirm"),
        serializer=inputs.ResolveSerializer,
        form=forms.ResolveForm,
        confirm="Resolve the match of '{obj.party_name}' with '{obj.entry_name}'? "
        "It cannot be changed afterwards.",
    ),
    Action(
        name="request-information",
        target=Review,
        label="Send question",
        done="Question sent; the review clocks are stopped.",
        service="licensing.services.reviews.review_request_information",
        transitions=("stop_clock",),
        serializer=inputs.QuestionSerializer,
        form=forms.QuestionForm,
        keep_draft=True,
    ),
    Action(
        name="reassign",
        target=Review,
        label="Reassign",
        done="Review reassigned.",
        service="licensing.services.reviews.review_reassign",
        transitions=("reassign",),
        serializer=inputs.ReassignSerializer,
        form=forms.ReassignForm,
        style="secondary",
    ),
    # A licence in force.
    Action(
        name="suspend",
        target=License,
        label="Suspend license",
        done="License {obj.number} suspended.",
        service="licensing.services.licenses.license_suspend",
        transitions=("suspend",),
        serializer=inputs.ReasonSerializer,
        form=forms.ReasonForm,
        confirm="Suspend license {obj.number}?",
        style="secondary",
    ),
    Action(
        name="reinstate",
        target=License,
        label="Reinstate license",
        done="License {obj.number} reinstated.",
        service="licensing.services.licenses.license_reinstate",
        transitions=("reinstate",),
        serializer=inputs.ReasonSerializer,
        form=forms.ReasonForm,
        confirm="Reinstate license {obj.number}?",
        style="secondary",
    ),
    Action(
        name="revoke",
        target=License,
        label="Revoke license",
        done="License {obj.number} revoked.",
        service="licensing.services.licenses.license_revoke",
        transitions=("revoke",),
        serializer=inputs.ReasonSerializer,
        form=forms.ReasonForm,
        confirm="Revoke license {obj.number}? This cannot be undone.",
        style="danger",
    ),
    # The holder's: shipments drawn against it (`POST .../shipments/`), and giving it back.
    Action(
        name="ship",
        target=License,
        label="Record shipment",
        done="Shipment recorded against license {obj.number}.",
        service="licensing.services.shipments.shipment_record",
        policy=policies.is_exporter_of,
        states=(LicenseStatus.ACTIVE,),
        serializer=inputs.ShipmentInputSerializer,
        form=forms.ShipmentForm,
        endpoint=False,
    ),
    Action(
        name="amend",
        target=License,
        label="Amend license",
        done="Amendment {obj.reference} drafted from the license: change it and submit it.",
        service="licensing.services.amendments.license_amend",
        policy=policies.is_exporter_of,
        states=tuple(LIVE_STATES),
        conditions=(no_pending_amendment,),
        creates=True,
        style="secondary",
    ),
    Action(
        name="surrender",
        target=License,
        label="Surrender license",
        done="License {obj.number} surrendered.",
        service="licensing.services.licenses.license_surrender",
        transitions=("surrender",),
        serializer=inputs.ReasonSerializer,
        form=forms.ReasonForm,
        confirm="Surrender license {obj.number}? No shipment can be made under it afterwards, "
        "and this cannot be undone.",
        style="danger",
    ),
)

_BY_KEY = {(action.target, action.name): action for action in ACTIONS}


def actions_for(target: type[models.Model]) -> list[Action]:
    return [action for action in ACTIONS if action.target is target]


def endpoint_names(target: type[models.Model]) -> list[str]:
    """The generated endpoints of `target`, in the table's order (the OpenAPI enum)."""
    return [action.name for action in actions_for(target) if action.endpoint]


def get(target: type[models.Model], name: str) -> Action | None:
    return _BY_KEY.get((target, name))


def allowed(obj: Any, user: Any, *, names: Iterable[str] | None = None) -> list[Action]:
    """The actions `user` may take on `obj` now, in the table's order."""
    wanted = set(names) if names is not None else None
    candidates = [a for a in actions_for(type(obj)) if wanted is None or a.name in wanted]
    # django-fsm-2 answers for every transition at once; ask it once per object.
    mine = _user_transitions(obj, user) if any(a.transitions for a in candidates) else set()
    return [action for action in candidates if action.allows(obj, user, mine)]


def _user_transitions(obj: Any, user: Any) -> set[str]:
    return {t.name for t in obj.get_available_user_status_transitions(user)}


def available(obj: Any, user: Any) -> list[str]:
    """`available_transitions`: the endpoints `user` may POST to on `obj` now."""
    return [action.name for action in allowed(obj, user) if action.endpoint]


def require(name: str, obj: Any, user: Any) -> Action:
    """Refuse unless `user` may take action `name` on `obj` now: 403 who, then 409 when.

    Services call this with `obj` (and its related objects) locked and freshly
    read; the API and the pages call it before reading a request body, so a
    caller who may not act never learns what a valid body would be.
    """
    action = _BY_KEY[(type(obj), name)]
    label = name.replace("-", " ")
    noun = obj._meta.verbose_name
    if not action.permits(obj, user):
        raise NotPermitted(f"You may not {label} this {noun}.")
    if not action.possible(obj):
        failed = _failed_condition(action, obj)
        if failed is not None and hasattr(failed, "conflict"):
            raise failed.conflict(obj)
        blocking = _blocking(action, obj)
        raise TransitionConflict(
            f"Cannot {label} while the {blocking._meta.verbose_name} is "
            f"{blocking.get_status_display().lower()}.",
            current_state=blocking.status,
        )
    return action


def _failed_condition(action: Action, obj: Any) -> Callable[[Any], bool] | None:
    """The first condition that fails where the state alone allows the action, if any."""
    if not action.transitions:
        if obj.status not in action.states:
            return None
        return next((c for c in action.conditions if not c(obj)), None)
    for transition in action._transitions:
        if transition.source in (obj.status, "*", "+"):
            failed = next((c for c in transition.conditions if not c(obj)), None)
            if failed is not None:
                return failed
    return None


def _blocking(action: Action, obj: Any) -> Any:
    """What stands in the way: `obj`'s own state, or (its own state allowing) its application's."""
    own_state_allows = any(
        can_proceed(getattr(obj, name), check_conditions=False) for name in action.transitions
    )
    if own_state_allows and isinstance(obj, Review):
        return obj.application
    return obj
