"""The rulebook: whether a person may take an action now, for every action, declared once.

Each `Rule` names what an action acts on and either the state machine transition(s)
that take it or, for an action that changes no state (edit, delete, upload, ship,
amend), its policy, states and conditions. From it:

- the services call `require()` under their locks (403, then 409);
- `allowed()` lists what a person may do on an object now, `available()` the API's
  `available_transitions` and `endpoint_names()` its OpenAPI enum.

*Who* is a policy function (`licensing.policies`). For an action that is a
transition, it is the transition's `permission=`, and *when* is the
transition's source states and `conditions=`; django-fsm-2 answers both
(`get_available_user_status_transitions`, `has_transition_perm`).

What an action looks like and runs (its form, input serializer, service, button and
message) is the registry's, a layer above the services (`licensing.actions`). This
module imports no service, page or API module: the services import it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.db import models
from django_fsm import FSMFieldMixin, Transition, can_proceed

from licensing import policies
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

Policy = Callable[[Any, Any], bool]


@dataclass(frozen=True)
class Rule:
    name: str
    """The endpoint's path segment (`request-information`), the page's too."""
    target: type[models.Model]
    transitions: tuple[str, ...] = ()
    """The target's FSM methods that take this action (who and when come from them)."""
    policy: Policy | None = None
    """Only for an action that is no transition: who may take it."""
    states: tuple[str, ...] = ()
    """Only for an action that is no transition: the target states it is open in."""
    conditions: tuple[Callable[[Any], bool], ...] = ()
    """Only for an action that is no transition: what else must hold (own fields only); a
    condition marked with `licensing.models.applications.conflict` says its own 409."""
    endpoint: bool = True
    """Listed in `available_transitions`, with a generated `POST .../{id}/<name>/`; False
    for the draft's own verbs (PATCH, DELETE, upload) and for actions with an endpoint of
    their own (a licence's shipments)."""

    @property
    def target_name(self) -> str:
        return self.target._meta.model_name

    @cached_property
    def _transitions(self) -> list[Transition]:
        """The transition objects (one per source state) of this action's FSM methods."""
        field = next(f for f in self.target._meta.fields if isinstance(f, FSMFieldMixin))
        # django-fsm's public listing, on an unsaved instance: every transition of the field.
        every = getattr(self.target(), f"get_all_{field.name}_transitions")()
        return [t for t in every if t.name in self.transitions]

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


A = ApplicationStatus
RULES: tuple[Rule, ...] = (
    # The exporter's draft, its submission, its questions.
    Rule("edit", Application, policy=policies.is_exporter_of, states=(A.DRAFT,), endpoint=False),
    Rule("submit", Application, transitions=("submit",)),
    Rule("respond", Application, transitions=("respond",)),
    Rule("withdraw", Application, transitions=("withdraw",)),
    Rule(
        "amend",
        Application,
        policy=policies.is_exporter_of,
        states=tuple(IN_REVIEW_STATES),
        conditions=(no_pending_amendment,),
    ),
    Rule("appeal", Application, transitions=("lodge_appeal",)),
    Rule(
        "decide",
        Application,
        transitions=(
            "committee_approve",
            "committee_deny",
            "committee_partially_approve",
            "uphold_appeal",
            "dismiss_appeal",
        ),
    ),
    Rule(
        "upload",
        Application,
        policy=policies.is_exporter_of,
        states=tuple(OPEN_STATES),
        endpoint=False,
    ),
    Rule("delete", Application, policy=policies.is_exporter_of, states=(A.DRAFT,), endpoint=False),
    # A ministry's review.
    Rule("claim", Review, transitions=("claim",)),
    Rule("recommend", Review, transitions=("recommend",)),
    # A party resembling a sanctions or denial list entry (found at submission or on a
    # list change): the reviewing ministries clear or confirm it. While one is open a
    # recommendation to approve is refused, and after a confirmed one only a denial is
    # accepted (`review_recommend`, through `services.screening.check_approval_hold`;
    # the page's recommend form offers only what it accepts).
    Rule("resolve", ScreeningMatch, transitions=("clear", "confirm")),
    Rule("request-information", Review, transitions=("stop_clock",)),
    Rule("reassign", Review, transitions=("reassign",)),
    # A licence in force.
    Rule("suspend", License, transitions=("suspend",)),
    Rule("reinstate", License, transitions=("reinstate",)),
    Rule("revoke", License, transitions=("revoke",)),
    # The holder's: shipments drawn against it (`POST .../shipments/`), and giving it back.
    Rule(
        "ship",
        License,
        policy=policies.is_exporter_of,
        states=(LicenseStatus.ACTIVE,),
        endpoint=False,
    ),
    Rule(
        "amend",
        License,
        policy=policies.is_exporter_of,
        states=tuple(LIVE_STATES),
        conditions=(no_pending_amendment,),
    ),
    Rule("surrender", License, transitions=("surrender",)),
)

_BY_KEY = {(rule.target, rule.name): rule for rule in RULES}


def rules_for(target: type[models.Model]) -> list[Rule]:
    return [rule for rule in RULES if rule.target is target]


def endpoint_names(target: type[models.Model]) -> list[str]:
    """The generated endpoints of `target`, in the table's order (the OpenAPI enum)."""
    return [rule.name for rule in rules_for(target) if rule.endpoint]


def get(target: type[models.Model], name: str) -> Rule | None:
    return _BY_KEY.get((target, name))


def allowed(obj: Any, user: Any, *, names: Iterable[str] | None = None) -> list[Rule]:
    """The actions `user` may take on `obj` now, in the table's order."""
    wanted = set(names) if names is not None else None
    candidates = [r for r in rules_for(type(obj)) if wanted is None or r.name in wanted]
    # django-fsm-2 answers for every transition at once; ask it once per object.
    mine = _user_transitions(obj, user) if any(r.transitions for r in candidates) else set()
    return [rule for rule in candidates if rule.allows(obj, user, mine)]


def _user_transitions(obj: Any, user: Any) -> set[str]:
    return {t.name for t in obj.get_available_user_status_transitions(user)}


def available(obj: Any, user: Any) -> list[str]:
    """`available_transitions`: the endpoints `user` may POST to on `obj` now."""
    return [rule.name for rule in allowed(obj, user) if rule.endpoint]


def require(name: str, obj: Any, user: Any) -> Rule:
    """Refuse unless `user` may take action `name` on `obj` now: 403 who, then 409 when.

    Services call this with `obj` (and its related objects) locked and freshly
    read; the API and the pages call it before reading a request body, so a
    caller who may not act never learns what a valid body would be.
    """
    rule = _BY_KEY[(type(obj), name)]
    label = name.replace("-", " ")
    noun = obj._meta.verbose_name
    if not rule.permits(obj, user):
        raise NotPermitted(f"You may not {label} this {noun}.")
    if not rule.possible(obj):
        failed = _failed_condition(rule, obj)
        if failed is not None and hasattr(failed, "conflict"):
            raise failed.conflict(obj)
        blocking = _blocking(rule, obj)
        raise TransitionConflict(
            f"Cannot {label} while the {blocking._meta.verbose_name} is "
            f"{blocking.get_status_display().lower()}.",
            current_state=blocking.status,
        )
    return rule


def _failed_condition(rule: Rule, obj: Any) -> Callable[[Any], bool] | None:
    """The first condition that fails where the state alone allows the action, if any."""
    if not rule.transitions:
        if obj.status not in rule.states:
            return None
        return next((c for c in rule.conditions if not c(obj)), None)
    for transition in rule._transitions:
        if transition.source in (obj.status, "*", "+"):
            failed = next((c for c in transition.conditions if not c(obj)), None)
            if failed is not None:
                return failed
    return None


def _blocking(rule: Rule, obj: Any) -> Any:
    """What stands in the way: `obj`'s own state, or (its own state allowing) its application's."""
    own_state_allows = any(
        can_proceed(getattr(obj, name), check_conditions=False) for name in rule.transitions
    )
    if own_state_allows and isinstance(obj, Review):
        return obj.application
    return obj
