"""The exporter's draft as a task list, and check your answers before submitting.

The task list (on the case page of a draft the person may edit) marks each
section of the draft Not started, In progress or Completed, with a Change link
to that section of the draft form. Check your answers
(`/applications/<id>/check/`) shows everything on one page with Change links,
lists every problem that would stop submission at once (the submission's own
check, `submission_problems`), and holds the rulebook's submit form with its
declaration.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from licensing import rulebook
from licensing.models import Application
from licensing.screening import parties_of
from licensing.selectors import with_parties_and_matches
from licensing.services.applications import Problem, submission_problems
from licensing.web.errors import PageError, form_errors

NOT_STARTED, IN_PROGRESS, COMPLETED = "Not started", "In progress", "Completed"


@dataclass(frozen=True)
class Task:
    key: str
    title: str
    status: str
    href: str
    hint: str = ""

    @property
    def status_class(self) -> str:
        return self.status.lower().replace(" ", "-")


def _progress(given: list[bool]) -> str:
    if all(given):
        return COMPLETED
    return IN_PROGRESS if any(given) else NOT_STARTED


def _party(application: Application, party: str) -> list[bool]:
    parts = ("name", "address", "country_id", "type")
    return [bool(getattr(application, f"{party}_{part}")) for part in parts]


def _parties_progress(application: Application) -> str:
    """The consignee's parts, or Completed for other parties given without a consignee."""
    consignee = _party(application, "consignee")
    if not any(consignee) and application.other_party_count:
        return COMPLETED
    return _progress(consignee)


def edit_url(application: Application, anchor: str) -> str:
    return reverse("application-edit", args=[application.pk]) + f"#{anchor}"


def draft_tasks(application: Application, goods: list, documents: list) -> list[Task]:
    """The draft's sections in the order of the form, each with how far it is filled in."""
    details = [bool(application.license_type), bool(application.destination_id)]
    on_form = [
        ("licence-details", "Licence details", _progress(details), ""),
        ("end-user", "End user", _progress(_party(application, "end_user")), ""),
        (
            "parties",
            "Consignee and other parties",
            _parties_progress(application),
            "Optional: only if someone other than the end user receives the goods.",
        ),
        ("end-use", "End use", COMPLETED if application.end_use.strip() else NOT_STARTED, ""),
        ("goods", "Goods", COMPLETED if goods else NOT_STARTED, ""),
    ]
    tasks = [
        Task(key, title, status, edit_url(application, key), hint)
        for key, title, status, hint in on_form
    ]
    tasks.append(
        Task(
            "documents",
            "Documents",
            COMPLETED if documents else NOT_STARTED,
            reverse("application-detail", args=[application.pk]) + "#documents",
            hint="Such as an end-user certificate or a technical specification.",
        )
    )
    return tasks


def problem_errors(application: Application, problems: list[Problem]) -> list[PageError]:
    """Each problem a link to the draft form's field that fixes it."""
    return [
        PageError(
            edit_url(application, "goods" if p.field == "goods" else f"id_{p.field}"), p.message
        )
        for p in problems
    ]


def render_check(
    request: HttpRequest, pk: int, *, status: int = 200, bound: dict | None = None
) -> HttpResponse:
    """Check your answers; `bound`: the submit form that failed, with its errors."""
    from licensing.web.actions import buttons
    from licensing.web.applications import loaded_application

    user = request.user
    application = loaded_application(request, pk)
    if not rulebook.get(Application, "edit").allows(application, user):
        # Not a draft this person may change: the case page says what it is.
        return redirect("application-detail", pk=pk)
    goods = list(application.goods.all())
    with_parties_and_matches([application], matches=False)
    problems, _ = submission_problems(
        application, goods, parties=parties_of(application, application.other_parties_list)
    )
    submit = buttons(application, user, names=("submit",), bound=bound)
    page_errors = []
    if bound:
        page_errors = problem_errors(application, problems)
        for button in submit:
            if button.form is not None and button.form.is_bound:
                page_errors += form_errors(button.form, anchor=button.element_id)
    context = {
        "application": application,
        "goods": goods,
        "documents": list(application.documents.all()),
        "other_parties": application.other_parties_list,
        "problems": problem_errors(application, problems),
        "submit": submit[0] if submit else None,
        "page_errors": page_errors,
    }
    return render(request, "licensing/application_check.html", context, status=status)


@login_required
def application_check(request: HttpRequest, pk: int) -> HttpResponse:
    return render_check(request, pk)
