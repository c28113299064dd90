"""The case page (every role's view of one application) and the exporter's draft form."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django_fsm import can_proceed

from licensing import policies, rulebook
from licensing.exceptions import InvalidInput, ServiceError
from licensing.models import (
    Appeal,
    AppealOutcome,
    Application,
    ApplicationStatus,
    Decision,
    Good,
    GoodOutcome,
    InformationRequest,
    License,
    Recommendation,
    Review,
    ReviewStatus,
)
from licensing.models.applications import not_appealed_yet
from licensing.page_cache import cached_page, case_scope
from licensing.selectors import (
    amendment_changes,
    applications_visible_to,
    events_visible_to,
    license_goods_and_shipments,
    refusal_criteria,
    with_parties_and_matches,
)
from licensing.services import applications as app_services
from licensing.services.outcomes import conditions_of_good
from licensing.web import forms
from licensing.web.actions import buttons
from licensing.web.changes import changes_shown
from licensing.web.diagram import workflow_svg
from licensing.web.drafts import draft_tasks
from licensing.web.errors import form_errors, formset_errors
from licensing.web.queues import due_marks
from licensing.web.timeline import describe_event


def loaded_application(request: HttpRequest, pk: int) -> Application:
    return get_object_or_404(
        applications_visible_to(request.user)
        .select_related(
            "destination",
            "end_user_country",
            "consignee_country",
            "organisation",
            "marketing_license",
            "license",
            "appeal__lodged_by",
            "amendment_of",
            "superseded_by",
            "pending_amendment",
            "amends_license",
        )
        .prefetch_related(
            Prefetch("goods", queryset=Good.objects.select_related("control_list_entry")),
            Prefetch("reviews", queryset=Review.objects.select_related("assigned_to")),
            "documents",
            "routing",
            "information_requests",
        ),
        pk=pk,
    )


def _changing_course(application: Application, reviews: list[Review]) -> dict:
    """What the page shows of amendments, decisions per good and appeals: the goods (refused
    ones with their criteria), each review's recommendations per good, the appeal and its
    window, and an amendment's changes."""
    try:
        appeal = application.appeal
    except Appeal.DoesNotExist:
        appeal = None
    goods = list(application.goods.all())
    known = refusal_criteria() if any(g.refusal_criteria for g in goods) else {}
    refused_goods = [good for good in goods if good.outcome == GoodOutcome.REFUSED]
    for good in refused_goods:
        good.criteria_shown = [known[code] for code in good.refusal_criteria if code in known]
    positions = {good.pk: position for position, good in enumerate(goods, start=1)}
    for review in reviews:
        review.per_good = [
            f"Good {positions.get(entry['good'], '?')}: "
            + Recommendation(entry["recommendation"]).label.lower()
            + (f" (criteria {', '.join(entry['criteria'])})" if entry.get("criteria") else "")
            + (f"; {own}" if (own := conditions_of_good(review, entry)) else "")
            for entry in review.goods_recommendations
        ]
    is_amendment = application.amendment_of_id or application.amends_license_id
    return {
        **_decision_words(application, appeal),
        "goods": goods,
        "refused_goods": refused_goods,
        "appeal": appeal,
        # The date shows while an appeal may be lodged, and once the window has closed.
        "appeal_closes_on": application.appeal_closes_on
        if can_proceed(application.lodge_appeal, check_conditions=False)
        and not_appealed_yet(application)
        else None,
        "changes": (
            changes_shown(amendment_changes(application, goods=goods)) if is_amendment else None
        ),
    }


# The decision that stands, in words: under appeal the status is "Under appeal", but what
# was decided is still the refusal appealed against.
DECIDED = {
    Decision.APPROVE: ApplicationStatus.APPROVED.label,
    Decision.DENY: ApplicationStatus.DENIED.label,
    Decision.PARTIAL: ApplicationStatus.PARTIALLY_APPROVED.label,
}


def _decision_words(application: Application, appeal: Appeal | None) -> dict:
    """What the decision block says was decided, and by whom: the committee when it settled
    a dispute or upheld an appeal (a dismissed appeal leaves the decision, and who made it,
    as they were); nobody named for the ministries' own agreement."""
    upheld = appeal is not None and appeal.outcome == AppealOutcome.UPHELD
    if upheld:
        decided_by = "the committee, on appeal"
    elif application.disputed_at is not None:
        decided_by = "the committee"
    else:
        decided_by = ""
    return {"decided": DECIDED.get(application.decision, ""), "decided_by": decided_by}


def render_case(
    request: HttpRequest, pk: int, *, status: int = 200, bound: dict | None = None
) -> HttpResponse:
    """The application page; `bound` forms (with the user's input and errors) replace blanks.

    Its parts, in the order they are read: the reviews, the licence, the timeline, the
    open question, amendments and decisions (`_changing_course`), the action buttons and
    their forms, the screening matches, and the draft's task list.
    """
    user = request.user
    application = loaded_application(request, pk)
    with_parties_and_matches([application], matches=policies.sees_screening(user))
    reviews, own_review = _reviews(application, user)
    if user.organisation_id == application.organisation_id:
        user.organisation = application.organisation  # the header names it: already read
    licence = _licence(application)
    exporter_view = policies.sees_exporter_view(user)
    show_internal = not exporter_view
    events = _timeline(application, user, exporter_view=exporter_view)
    open_question = _open_question(application)
    changing = _changing_course(application, reviews)
    actions = _actions(
        application,
        user,
        own_review=own_review,
        license=licence["license"],
        bound=bound,
        intros=_intros(open_question, changing["appeal"]),
    )
    matches = _screening_matches(application, user, bound)
    draft = _draft(application, user, changing["goods"])
    context = {
        # Set while the exporter is asked, cleared by the answer (the model's transitions).
        "clock_stopped_on": application.clock_stopped_on,
        "advice": _advice(application, reviews, show_internal=show_internal),
        "application": application,
        **changing,
        "reviews": reviews,
        "show_internal": show_internal,
        "show_recommendations": policies.sees_recommendations(application, user),
        "other_parties": application.other_parties_list,
        "screening_matches": matches,
        "events": events,
        # Built from our own constants, with every label escaped.
        "diagram": mark_safe(workflow_svg(application.status)),  # noqa: S308
        **licence,
        "open_question": open_question,
        **actions,
        **draft,
    }
    return render(request, "licensing/application_detail.html", context, status=status)


def _reviews(application: Application, user) -> tuple[list[Review], Review | None]:
    """The case's reviews (each pointing back at it, marked due or overdue), and the one of
    the user's own ministry, if any."""
    reviews = list(application.reviews.all())
    for review in reviews:
        review.application = application
    due_marks(reviews)
    own_review = next((r for r in reviews if policies.is_staff_of_ministry(r, user)), None)
    return reviews, own_review


def _licence(application: Application) -> dict:
    """The licence block: the licence (if one was issued), its goods and its shipments."""
    try:
        license = application.license
    except License.DoesNotExist:
        license = None
    license_goods, shipments = license_goods_and_shipments(license) if license else ([], [])
    if license is not None:
        # The licence's forms (a shipment's lines) read its goods from here, not again.
        license.goods_list = license_goods
    return {"license": license, "license_goods": license_goods, "shipments": shipments}


def _timeline(application: Application, user, *, exporter_view: bool) -> list:
    """The events the user may see, each in words for their audience, with who acted."""
    events = list(events_visible_to(user, application).select_related("actor"))
    for event in events:
        event.label = describe_event(event, for_exporter=exporter_view)
        event.who = event.actor.get_full_name() or event.actor_name if event.actor else "System"
    return events


def _open_question(application: Application) -> InformationRequest | None:
    """The reviewers' question still waiting for the exporter's answer, if any."""
    return next((q for q in application.information_requests.all() if q.answered_at is None), None)


def _intros(open_question: InformationRequest | None, appeal: Appeal | None) -> dict[str, str]:
    """The line above an action's form: the question answered, the appeal decided."""
    intros = (
        {"respond": f"Question from the reviewers: {open_question.question}"}
        if open_question
        else {}
    )
    intros["decide"] = "The committee's decision"
    if appeal is not None and appeal.is_open:
        intros["decide"] = f"The committee's decision on the appeal: {appeal.grounds}"
    return intros


def _actions(
    application: Application,
    user,
    *,
    own_review: Review | None,
    license: License | None,
    bound: dict | None,
    intros: dict[str, str],
) -> dict:
    """The buttons the user may press now, on the case, their own review and the licence,
    with their forms (`bound` ones keeping the input), and the errors of a failed one."""
    # A failed form keeps the plain ids (`id_reason`) its error summary links to.
    used_ids: set[str] = set().union(*(form.fields for form in (bound or {}).values()))
    actions = buttons(
        application, user, bound=bound, exclude=("edit",), used_ids=used_ids, intros=intros
    )
    if own_review is not None:
        actions += buttons(own_review, user, bound=bound, used_ids=used_ids)
    license_buttons = buttons(license, user, bound=bound, used_ids=used_ids) if license else []
    ship = [b for b in license_buttons if b.action.name == "ship"]
    upload = [b for b in actions if b.action.name == "upload"]
    return {
        "ship": ship[0] if ship else None,
        "license_buttons": [b for b in license_buttons if b.action.name != "ship"],
        # Actions whose form is on a page of their own (submit: check your answers).
        "page_actions": [b for b in actions if b.action.page],
        "actions": [b for b in actions if b.action.name != "upload" and not b.action.page],
        "upload": upload[0] if upload else None,
        "page_errors": [
            error
            for button in [*actions, *license_buttons]
            if button.form is not None and button.form.is_bound
            for error in form_errors(button.form, anchor=button.element_id)
        ],
    }


def _advice(application: Application, reviews: list[Review], *, show_internal: bool) -> list:
    """The committee reads every ministry's advice side by side, above its decision form."""
    if show_internal and rulebook.get(Application, "decide").possible(application):
        return [r for r in reviews if r.status != ReviewStatus.CANCELLED]
    return []


def _draft(application: Application, user, goods: list[Good]) -> dict:
    """Whether the user may edit the case; if so, the draft as a task list of its sections."""
    may_edit = rulebook.get(Application, "edit").allows(application, user)
    return {
        "may_edit": may_edit,
        "tasks": draft_tasks(application, goods, list(application.documents.all()))
        if may_edit
        else [],
    }


def _screening_matches(application: Application, user, bound: dict | None) -> list:
    """The staff's matches, each with the resolve form the user may use on it now."""
    if not policies.sees_screening(user):
        return []
    matches = list(application.screening_matches_list)
    for match in matches:
        match.application = application  # its policy reads the reviews, already loaded
        # A form that failed is shown again for the match it was posted for only.
        mine = (bound or {}).get("resolve")
        own_bound = {"resolve": mine} if mine is not None and mine.target.pk == match.pk else {}
        match.buttons = buttons(match, user, bound=own_bound)
        for button in match.buttons:
            if button.form is not None:
                button.form.auto_id = f"id_match-{match.pk}-%s"
    return matches


@login_required
@cached_page(case_scope)
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_case(request, pk)


def _save_draft(request: HttpRequest, application, form, formset, parties) -> Application | None:
    """Create or update the draft from the valid form and formsets (goods, other parties);
    None if the service refused (its errors are then on the form)."""
    goods = _rows(formset)
    other_parties = _rows(parties) if parties is not None else None
    try:
        with transaction.atomic():
            if application is not None:
                return app_services.application_update_draft(
                    application=application,
                    user=request.user,
                    fields=form.cleaned_data,
                    goods=goods,
                    other_parties=other_parties,
                )
            return app_services.application_create_draft(
                user=request.user,
                fields=form.cleaned_data,
                goods=goods,
                other_parties=other_parties or (),
            )
    except InvalidInput as error:
        for field, errors in error.errors.items():
            for message in errors:
                form.add_error(None if field not in form.fields else field, message)
    except ServiceError as error:
        messages.error(request, error.message)
    return None


DRAFT_FIELDS_BEFORE_PARTIES = (
    "license_type",
    "destination",
    "currency",
    "marketing_license",
    *(
        f"{party}_{part}"
        for party in ("end_user", "consignee")
        for part in ("name", "address", "country", "type")
    ),
)


@login_required
def application_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """A new draft, or an existing one: the application's fields and its goods together."""
    user = request.user
    if pk:
        application = get_object_or_404(applications_visible_to(user), pk=pk)
        try:
            rulebook.require("edit", application, user)
        except ServiceError as error:
            messages.error(request, error.message)
            return redirect("application-detail", pk=pk)
    elif policies.may_create_application(user):
        application = Application(currency="USD")
    else:
        raise Http404
    form = forms.ApplicationForm(
        request.POST or None, instance=application, organisation_id=user.organisation_id
    )
    formset = forms.GoodFormSet(request.POST or None, instance=application, prefix="goods")
    # A post without the parties' management form (an older page, a script) leaves them.
    posted_parties = request.method == "POST" and "parties-TOTAL_FORMS" in request.POST
    parties = forms.OtherPartyFormSet(
        request.POST if posted_parties else None, instance=application, prefix="parties"
    )
    if (
        request.method == "POST"
        and form.is_valid()
        and formset.is_valid()
        and (not posted_parties or parties.is_valid())
    ):
        saved = _save_draft(
            request, application if pk else None, form, formset, parties if posted_parties else None
        )
        if saved is not None:
            messages.success(request, f"Draft {saved.reference} saved.")
            return redirect("application-detail", pk=saved.pk)
    page_errors = []
    if form.is_bound:
        # In the page's order (application_form.html): the other parties come between the
        # consignee and the end use, the goods last.
        page_errors = (
            form_errors(form, anchor="application-form", fields=DRAFT_FIELDS_BEFORE_PARTIES)
            + (
                formset_errors(parties, anchor="other-parties", noun="Party")
                if posted_parties
                else []
            )
            + form_errors(
                form, anchor="application-form", fields=("end_use", "military_end_use"), own=False
            )
            + formset_errors(formset, anchor="goods", noun="Good")
        )
    return render(
        request,
        "licensing/application_form.html",
        {
            "form": form,
            "formset": formset,
            "parties": parties,
            "application": application if pk else None,
            "page_errors": page_errors,
        },
        status=400 if page_errors else 200,
    )


def _rows(formset) -> list[dict]:
    """A formset's kept rows as the services take them."""
    return [
        {k: v for k, v in row.items() if k not in {"id", "DELETE", "application"}}
        for row in formset.cleaned_data
        if row and not row.get("DELETE")
    ]
