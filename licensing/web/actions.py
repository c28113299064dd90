"""The registry's actions on the pages: their buttons and forms, and the one view that runs them.

What a person may do is never decided here: `actions.allowed` lists the
actions the rulebook allows, `rulebook.require` and the services (under lock)
decide. This module only turns them into HTML forms and runs the posted one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from licensing import actions
from licensing.exceptions import InvalidInput, ServiceError, TransitionConflict
from licensing.models import Application, License, Review, ScreeningMatch
from licensing.selectors import (
    applications_visible_to,
    licenses_visible_to,
    reviews_visible_to,
    screening_matches_visible_to,
)
from licensing.services.common import acting_on

TARGETS: dict[str, tuple[type[Model], Any]] = {
    "applications": (Application, applications_visible_to),
    "reviews": (Review, reviews_visible_to),
    "licenses": (License, licenses_visible_to),
    "screening-matches": (ScreeningMatch, screening_matches_visible_to),
}
PATHS = {model: path for path, (model, _) in TARGETS.items()}
# A licence's forms share the case page with the application's: keep their ids apart;
# each screening match has a form of its own.
ID_PREFIX = {Application: "", Review: "", License: "license-", ScreeningMatch: "match-{pk}-"}


@dataclass
class Button:
    """One action offered on a page: where it posts, its form (bound after an error), its text."""

    action: actions.Action
    obj: Any
    form: Any = None
    intro: str = ""
    id_suffix: str = ""
    """Apart the forms of one action on many rows (a queue's claim buttons)."""

    @property
    def url(self) -> str:
        return reverse("act", args=[PATHS[type(self.obj)], self.obj.pk, self.action.name])

    @property
    def element_id(self) -> str:
        return (
            f"{ID_PREFIX[type(self.obj)].format(pk=self.obj.pk)}{self.action.name}{self.id_suffix}"
        )

    @property
    def confirm(self) -> str:
        return self.action.confirm.format(obj=self.obj) if self.action.confirm else ""

    @property
    def multipart(self) -> bool:
        return bool(self.form is not None and self.form.is_multipart())


def buttons(
    obj: Any,
    user: Any,
    *,
    bound: dict[str, Any] | None = None,
    names: tuple[str, ...] | None = None,
    exclude: tuple[str, ...] = (),
    used_ids: set[str] | None = None,
    intros: dict[str, str] | None = None,
) -> list[Button]:
    """The actions `user` may take on `obj` now, each with its form.

    `bound` holds a form that failed, by action name, so the user's input and
    its errors are shown again. Field ids stay unique on the page: a field
    name already used by an earlier form gets the action's prefix.
    """
    bound = bound or {}
    used_ids = used_ids if used_ids is not None else set()
    result = []
    for action in actions.allowed(obj, user, names=names):
        if action.name in exclude:
            continue
        form = bound.get(action.name)
        if form is None and action.form is not None:
            names = set(action.form.base_fields)
            auto_id = f"id_{action.name}-%s" if names & used_ids else "id_%s"
            form = action.form(target=obj, auto_id=auto_id)
        if form is not None:
            used_ids.update(form.fields)
        result.append(Button(action, obj, form, (intros or {}).get(action.name, "")))
    return result


def _case_of(obj: Any) -> int:
    return obj.pk if isinstance(obj, Application) else obj.application_id


def _back_url(request: HttpRequest, obj: Any) -> str:
    """Where a person goes after acting: the page they acted from."""
    nxt = request.POST.get("next")
    if nxt == "home":
        # Back to the queue as it was: its filters, sort and page (a query string only).
        query = QueryDict(request.POST.get("query", "")[:1000]).urlencode()
        return reverse("home") + (f"?{query}" if query else "")
    if isinstance(obj, License) and (nxt == "license" or not _sees_case(request, obj)):
        # A Defense supervisor may act on a licence of a case they cannot open.
        return reverse("license-detail", args=[obj.pk])
    return reverse("application-detail", args=[_case_of(obj)])


def _sees_case(request: HttpRequest, obj: Any) -> bool:
    return applications_visible_to(request.user).filter(pk=_case_of(obj)).exists()


def _back(request: HttpRequest, obj: Any) -> HttpResponse:
    return redirect(_back_url(request, obj))


class NeedsConfirmation(Exception):
    """An irreversible action whose input is valid, not yet confirmed: ask first."""

    def __init__(self, form: Any) -> None:
        self.form = form


class GoingBack(NeedsConfirmation):
    """The confirmation's "No, go back": the form again, holding what was typed."""


def _run(action: actions.Action, obj: Any, request: HttpRequest) -> Any:
    """Who and when first, then the form, then (irreversible) the confirmation, then the service;
    a refused input keeps its form. Answers what the service returned."""
    action.require(obj, request.user)
    form = None
    try:
        data: dict[str, Any] = {}
        if action.form is not None:
            form = action.form(request.POST, request.FILES or None, target=obj)
        if action.confirm and request.POST.get("back") == "yes":
            raise GoingBack(form)
        if form is not None:
            if not form.is_valid():
                raise InvalidInput(form.errors)
            data = form.service_data() if hasattr(form, "service_data") else dict(form.cleaned_data)
        if action.confirm and request.POST.get("confirmed") != "yes":
            raise NeedsConfirmation(form)
        return action.run(obj, request.user, data)
    except (InvalidInput, TransitionConflict) as error:
        error.form = form
        raise


def _confirm(request: HttpRequest, action: actions.Action, obj: Any, form: Any) -> HttpResponse:
    """The confirmation step of an irreversible action: what is about to be recorded, the
    question, and the same input posted again with `confirmed=yes` (no script needed)."""
    summary = []
    if form is not None:
        for field in form:
            value = form.cleaned_data.get(field.name)
            choices = dict(getattr(field.field, "choices", ()) or ())
            if isinstance(value, list | tuple):  # a multiple choice: each one's label
                shown = ", ".join(str(choices.get(v, v)) for v in value)
            else:
                shown = choices.get(value, value) if choices else value
            summary.append((field.label, shown if shown not in (None, "") else "-"))
    carried = [
        (key, value)
        for key in request.POST
        if key not in ("csrfmiddlewaretoken", "confirmed", "back")
        for value in request.POST.getlist(key)
    ]
    return render(
        request,
        "licensing/confirm.html",
        {
            "action": action,
            "obj": obj,
            "question": action.confirm.format(obj=obj),
            "summary": summary,
            "carried": carried,
            "url": reverse("act", args=[PATHS[type(obj)], obj.pk, action.name]),
        },
    )


def _invalid(
    request: HttpRequest,
    action: actions.Action,
    obj: Any,
    error: InvalidInput | TransitionConflict,
    status: int = 400,
) -> HttpResponse:
    """Show the form again with what was typed and every error, or say why on the way back."""
    form = getattr(error, "form", None)
    if form is None or request.POST.get("next") == "home":
        for message in (m for msgs in error.errors.values() for m in msgs):
            messages.error(request, message)
        return _back(request, obj)
    # A page of its own lists the service's problems itself (check your answers: every
    # problem, each linked to the field that fixes it); the case page puts them on the form.
    service_errors = {} if action.page else error.errors
    for key, errors in service_errors.items():
        field = form.error_field(key) if hasattr(form, "error_field") else key
        if field is False:
            continue
        field = field if field in form.fields else None
        for message in errors:
            if message not in form.errors.get(field or "__all__", []):
                form.add_error(field, message)
    return _show_again(request, action, obj, form, status)


def _show_again(
    request: HttpRequest, action: actions.Action, obj: Any, form: Any, status: int = 200
) -> HttpResponse:
    """The page the form is on, with the form holding what was posted (its error summary
    first, if it failed)."""
    from licensing.web.applications import render_case
    from licensing.web.drafts import render_check
    from licensing.web.licenses import render_license

    if isinstance(obj, License) and (
        request.POST.get("next") == "license" or not _sees_case(request, obj)
    ):
        return render_license(request, obj.pk, status=status, bound={action.name: form})
    render_page = {"": render_case, "check": render_check}[action.page]
    return render_page(request, _case_of(obj), status=status, bound={action.name: form})


def _login_next(request: HttpRequest) -> str:
    """Where to come back to after logging in: the page the form was posted from (its
    Referer, on this host only), else this address, whose GET leads to the form's page."""
    here = request.get_full_path()
    referer = request.headers.get("referer", "")
    if request.method != "POST" or not url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return here
    parts = urlsplit(referer)
    if not parts.path.startswith("/") or parts.path == request.path:
        return here
    return parts.path + (f"?{parts.query}" if parts.query else "")


View = Callable[..., HttpResponse]


def form_endpoint(form_page: Callable[..., str]) -> Callable[[View], View]:
    """A view that a page's form posts to. Logged out (a session that timed out while the
    person typed), it sends them to log in and then back to the form's page, not to this
    address; a GET (that return, a reload of the address a failed form left in the bar)
    is redirected to the form's page by `form_page(request, *args)`, never a bare 405."""

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def endpoint(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(_login_next(request))
            if request.method != "POST":
                return redirect(form_page(request, *args, **kwargs))
            return view(request, *args, **kwargs)

        return endpoint

    return decorator


def _target(target: str, name: str) -> tuple[Any, Any, actions.Action]:
    """The model, its visibility and the action an address names (404 for none)."""
    if target not in TARGETS:
        raise Http404
    model, visible_to = TARGETS[target]
    action = actions.get(model, name)
    if action is None or name == "edit":  # the draft has its own page
        raise Http404
    return model, visible_to, action


def action_page(request: HttpRequest, target: str, pk: int, name: str) -> str:
    """The page an action's form is on, at its form: the case page, the licence's page or
    the action's page of its own (submit: check your answers)."""
    _, visible_to, action = _target(target, name)
    obj = get_object_or_404(visible_to(request.user), pk=pk)
    if action.page:
        page = reverse(f"application-{action.page}", args=[_case_of(obj)])
    else:
        page = _back_url(request, obj)
    return f"{page}#{Button(action, obj).element_id}"


@form_endpoint(action_page)
def act(request: HttpRequest, target: str, pk: int, name: str) -> HttpResponse:
    """Run one action posted from a page, then go back to the case (or the queue)."""
    model, visible_to, action = _target(target, name)
    try:
        # An application read locked, in the transaction its service joins (one read).
        with acting_on(
            model, pk, request.user, lambda: get_object_or_404(visible_to(request.user), pk=pk)
        ) as obj:
            result = _run(action, obj, request)
    except GoingBack as back:
        if back.form is None or request.POST.get("next") == "home":
            return _back(request, obj)
        back.form.returned = True  # the page moves the focus to it (forms.js)
        return _show_again(request, action, obj, back.form)
    except NeedsConfirmation as pending:
        return _confirm(request, action, obj, pending.form)
    except InvalidInput as error:
        return _invalid(request, action, obj, error)
    except TransitionConflict as error:
        if error.errors and getattr(error, "form", None) is not None:
            # The state allows it, but not what was asked (more than remains): keep the input.
            return _invalid(request, action, obj, error, status=409)
        messages.error(request, error.message)
    except ServiceError as error:  # NotPermitted, TransitionConflict, TooLarge
        messages.error(request, error.message)
    else:
        if action.creates:  # a new draft (an amendment): go and change it
            messages.success(request, action.done.format(obj=result))
            return redirect("application-detail", pk=result.pk)
        messages.success(request, action.done.format(obj=obj))
        if name == "delete":
            return redirect("home")
    return _back(request, obj)
