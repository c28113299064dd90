"""Web pages for people: each role's home page, the application page, drafts and actions.

Views are thin: a form validates the input, one service acts, and any
service error becomes a message on the page. What a user may see comes from
the selectors, so a page for an invisible case is a 404.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from accounts.models import Ministry, Role
from licensing import forms
from licensing.clock import WorkingCalendar, local_today
from licensing.diagram import workflow_svg
from licensing.exceptions import InvalidInput, ServiceError
from licensing.models import (
    Application,
    ApplicationStatus,
    AuditEvent,
    DeadlinePolicy,
    Good,
    Notification,
    Review,
    ReviewStatus,
)
from licensing.models.reviews import ACTIVE_STATES
from licensing.selectors import (
    applications_visible_to,
    licenses_visible_to,
    reviews_visible_to,
)
from licensing.services import applications as app_services
from licensing.services import licenses as license_services
from licensing.services import reviews as review_services
from licensing.services.documents import UPLOAD_STATES, document_upload
from licensing.transitions import application_actions, license_actions, review_actions

S = ApplicationStatus


def _due_marks(reviews: list[Review], application_status: str | None = None) -> None:
    """Mark each running review overdue, or due soon within its ministry's reminder window.

    A review's clock runs only while its application is under review; one
    left open on an application the committee now has is neither.
    """
    today = local_today()
    calendar = WorkingCalendar.load()
    horizon = {
        policy.ministry: calendar.add_working_days(today, policy.reminder_days_before)
        for policy in DeadlinePolicy.objects.all()
    }
    for review in reviews:
        status = application_status or review.application.status
        running = review.status in ACTIVE_STATES and status == S.UNDER_REVIEW
        review.overdue = running and today > review.due_date
        review.due_soon = (
            running
            and not review.overdue
            and review.due_date <= horizon.get(review.ministry, today)
        )


PAGE_SIZE = 50


def _page(request: HttpRequest, items, size: int = PAGE_SIZE):
    """One page of a long list, with its count; `?page=N`, out-of-range gives the last."""
    return Paginator(items, size).get_page(request.GET.get("page"))


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    context: dict = {
        "notifications": Notification.objects.filter(recipient=user).order_by("-created_at")[:10],
        "query": request.GET.get("q", "").strip()[:50],
        "status_filter": request.GET.get("status", ""),
    }
    if user.is_ministry_staff:
        reviews = (
            reviews_visible_to(user)
            .filter(status__in=[*ACTIVE_STATES, ReviewStatus.AWAITING_APPLICANT])
            .select_related(
                "application",
                "application__destination",
                "application__organisation",
                "assigned_to",
            )
            .order_by("due_date", "id")
        )
        if context["query"]:
            reviews = reviews.filter(application__reference__icontains=context["query"])
        page = _page(request, reviews)
        _due_marks(page.object_list)
        context["page"] = page
        context["queue"] = page.object_list
        if user.is_supervisor:
            today = local_today()
            overdue = list(
                reviews.filter(
                    status__in=ACTIVE_STATES,
                    application__status=S.UNDER_REVIEW,
                    due_date__lt=today,
                )[:100]
            )
            context["overdue"] = overdue
            context["reassign_form"] = forms.ReassignForm(ministry=user.ministry)
        return render(request, "licensing/home_ministry.html", context)
    applications = applications_visible_to(user).select_related(
        "destination", "organisation", "license"
    )
    if context["query"]:
        applications = applications.filter(reference__icontains=context["query"])
    if user.is_committee:
        context["disputed"] = applications.filter(status=S.DISPUTED).order_by("disputed_at")
        context["page"] = _page(
            request,
            applications.filter(status__in=[S.APPROVED, S.DENIED]).order_by("-decided_at"),
        )
        context["decided"] = context["page"].object_list
        return render(request, "licensing/home_committee.html", context)
    if context["status_filter"] in S.values:
        applications = applications.filter(status=context["status_filter"])
    context["statuses"] = S.choices
    context["page"] = _page(request, applications.order_by("-created_at", "-id"))
    context["applications"] = context["page"].object_list
    return render(request, "licensing/home.html", context)


def _visible_application(request: HttpRequest, pk: int) -> Application:
    return get_object_or_404(applications_visible_to(request.user), pk=pk)


def _loaded_application(request: HttpRequest, pk: int) -> Application:
    return get_object_or_404(
        applications_visible_to(request.user)
        .select_related(
            "destination",
            "end_user_country",
            "consignee_country",
            "organisation",
            "marketing_license",
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


def _detail(
    request: HttpRequest, application: Application, status: int = 200, **bound
) -> HttpResponse:
    """The application page; `bound` forms (with the user's input and errors) replace blanks."""
    user = request.user
    reviews = list(application.reviews.all())
    _due_marks(reviews, application.status)
    is_exporter = user.role == Role.EXPORTER
    own_review = next(
        (r for r in reviews if user.is_ministry_staff and r.ministry == user.ministry), None
    )
    license = getattr(application, "license", None) if application.status == S.APPROVED else None
    events = list(AuditEvent.objects.filter(application=application).select_related("actor"))
    for event in events:
        event.label = describe_event(event)
    context = {
        "application": application,
        "goods": list(application.goods.all()),
        "reviews": reviews,
        "own_review": own_review,
        "is_exporter": is_exporter,
        "show_internal": not is_exporter,
        "events": events,
        # Built from our own constants, with every label escaped.
        "diagram": mark_safe(workflow_svg(application.status)),  # noqa: S308
        "license": license,
        "license_actions": license_actions(license=license, user=user) if license else [],
        "open_question": next(
            (q for q in application.information_requests.all() if q.answered_at is None), None
        ),
        "answer_form": forms.AnswerForm(),
        "question_form": forms.QuestionForm(),
        "recommend_form": forms.RecommendForm(),
        "decide_form": forms.DecideForm(),
        "withdraw_form": forms.OptionalReasonForm(),
        "license_form": forms.ReasonForm(),
        "document_form": forms.DocumentForm(),
        "can_upload": is_exporter
        and application.organisation_id == user.organisation_id
        and application.status in UPLOAD_STATES,
        "today": local_today(),
        "actions": application_actions(application=application, user=user),
        "review_actions": review_actions(review=own_review, user=user) if own_review else [],
    }
    if "reassign" in context["review_actions"]:
        context["reassign_form"] = forms.ReassignForm(ministry=user.ministry)
    context.update(bound)
    return render(request, "licensing/application_detail.html", context, status=status)


@login_required
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _loaded_application(request, pk))


@login_required
def application_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = request.user
    if user.role != Role.EXPORTER:
        raise Http404
    application = _visible_application(request, pk) if pk else Application(currency="USD")
    if pk and application.status != S.DRAFT:
        messages.error(request, "Only a draft can be edited.")
        return redirect("application-detail", pk=pk)
    form = forms.ApplicationForm(
        request.POST or None, instance=application, organisation_id=user.organisation_id
    )
    formset = forms.GoodFormSet(request.POST or None, instance=application, prefix="goods")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        fields = form.cleaned_data
        goods = [
            {k: v for k, v in g.items() if k not in {"id", "DELETE", "application"}}
            for g in formset.cleaned_data
            if g and not g.get("DELETE")
        ]
        try:
            with transaction.atomic():
                if pk:
                    saved = app_services.application_update_draft(
                        application=application, user=user, fields=fields, goods=goods
                    )
                else:
                    saved = app_services.application_create_draft(
                        user=user, fields=fields, goods=goods
                    )
        except InvalidInput as error:
            for field, errors in error.errors.items():
                for message in errors:
                    form.add_error(None if field not in form.fields else field, message)
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Draft {saved.reference} saved.")
            return redirect("application-detail", pk=saved.pk)
    return render(
        request,
        "licensing/application_form.html",
        {"form": form, "formset": formset, "application": application if pk else None},
    )


class _Redisplay(Exception):
    """The form (named in the page's context) is invalid: show it again with the input."""

    def __init__(self, name: str, form) -> None:
        self.name, self.form = name, form


def _form(name: str, form_class, request: HttpRequest, **kwargs):
    form = form_class(request.POST, request.FILES or None, **kwargs)
    if not form.is_valid():
        raise _Redisplay(name, form)
    return form


def _act(request: HttpRequest, pk: int, run: Callable[[], object], done: str) -> HttpResponse:
    try:
        run()
    except _Redisplay as redisplay:
        messages.error(request, "Please correct the errors below.")
        return _detail(
            request, _loaded_application(request, pk), 400, **{redisplay.name: redisplay.form}
        )
    except InvalidInput as error:
        for message in (m for msgs in error.errors.values() for m in msgs):
            messages.error(request, message)
        form = getattr(error, "form", None)
        if form is not None:
            return _detail(request, _loaded_application(request, pk), 400, **form)
    except ServiceError as error:  # NotPermitted, TransitionConflict, TooLarge
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect("application-detail", pk=pk)


def _with_form(name: str, form, call: Callable[[], object]) -> object:
    """Run a service; if it rejects the input, keep the form so the user's typing survives."""
    try:
        return call()
    except InvalidInput as error:
        for field, msgs in error.errors.items():
            for message in msgs:
                form.add_error(field if field in form.fields else None, message)
        error.form = {name: form}
        raise


@login_required
@require_POST
def application_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    application = _visible_application(request, pk)
    user = request.user

    def run() -> object:
        if action == "submit":
            return app_services.application_submit(application=application, user=user)
        if action == "withdraw":
            form = _form("withdraw_form", forms.OptionalReasonForm, request)
            return app_services.application_withdraw(
                application=application, user=user, reason=form.cleaned_data["reason"]
            )
        if action == "respond":
            form = _form("answer_form", forms.AnswerForm, request)
            return _with_form(
                "answer_form",
                form,
                lambda: app_services.application_respond(
                    application=application, user=user, answer=form.cleaned_data["answer"]
                ),
            )
        if action == "decide":
            form = _form("decide_form", forms.DecideForm, request)
            return _with_form(
                "decide_form",
                form,
                lambda: app_services.application_decide(
                    application=application, user=user, **form.cleaned_data
                ),
            )
        if action == "delete":
            return app_services.application_delete_draft(application=application, user=user)
        if action == "upload":
            form = _form("document_form", forms.DocumentForm, request)
            return _with_form(
                "document_form",
                form,
                lambda: document_upload(
                    application=application,
                    user=user,
                    upload=form.cleaned_data["file"],
                    kind=form.cleaned_data["kind"],
                ),
            )
        raise Http404

    done = {
        "submit": "Submitted for review.",
        "withdraw": "Application withdrawn.",
        "respond": "Answer sent; the review clocks run again.",
        "decide": "Decision recorded.",
        "delete": "Draft deleted.",
        "upload": "Document added.",
    }.get(action, "")
    response = _act(request, pk, run, done)
    if action == "delete" and not Application.objects.filter(pk=pk).exists():
        return redirect("home")
    return response


@login_required
@require_POST
def review_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    review = get_object_or_404(reviews_visible_to(request.user), pk=pk)
    user = request.user

    def run() -> object:
        if action == "claim":
            return review_services.review_claim(review=review, user=user)
        if action == "recommend":
            form = _form("recommend_form", forms.RecommendForm, request)
            return _with_form(
                "recommend_form",
                form,
                lambda: review_services.review_recommend(
                    review=review, user=user, **form.cleaned_data
                ),
            )
        if action == "request-information":
            form = _form("question_form", forms.QuestionForm, request)
            return _with_form(
                "question_form",
                form,
                lambda: review_services.review_request_information(
                    review=review, user=user, question=form.cleaned_data["question"]
                ),
            )
        if action == "reassign":
            form = _form("reassign_form", forms.ReassignForm, request, ministry=review.ministry)
            return review_services.review_reassign(
                review=review, user=user, assignee=form.cleaned_data["user"]
            )
        raise Http404

    done = {
        "claim": "Review claimed.",
        "recommend": "Recommendation recorded.",
        "request-information": "Question sent; the review clocks are stopped.",
        "reassign": "Review reassigned.",
    }.get(action, "")
    if request.POST.get("next") == "home":
        try:
            run()
        except _Redisplay:
            messages.error(request, "Choose the reviewer to assign.")
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, done)
        return redirect("home")
    return _act(request, review.application_id, run, done)


@login_required
@require_POST
def license_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    license = get_object_or_404(licenses_visible_to(request.user), pk=pk)
    services = {
        "suspend": license_services.license_suspend,
        "reinstate": license_services.license_reinstate,
        "revoke": license_services.license_revoke,
    }
    if action not in services:
        raise Http404

    def run() -> object:
        form = _form("license_form", forms.ReasonForm, request)
        return services[action](license=license, user=request.user, **form.cleaned_data)

    past = {"suspend": "suspended", "reinstate": "reinstated", "revoke": "revoked"}[action]
    return _act(request, license.application_id, run, f"License {license.number} {past}.")


EVENT_LABELS = {
    "application_submitted": "Submitted",
    "review_claimed": "{ministry} review claimed",
    "review_reassigned": "{ministry} review reassigned",
    "review_completed": "{ministry} recommended: {recommendation}",
    "review_deemed": "{ministry}: no objection deemed (deadline passed in silence)",
    "information_requested": "Question asked; review clocks stopped",
    "information_provided": "Question answered; review clocks restarted",
    "application_approved": "Approved: every ministry approved",
    "application_denied": "Denied: every ministry denied",
    "application_disputed": "Disputed: the ministries disagree; sent to the committee",
    "referred_to_committee": "Referred to the committee: {ministry} review overdue",
    "committee_decided": "Committee decided: {decision}",
    "application_withdrawn": "Withdrawn",
    "license_issued": "License {license} issued",
    "license_suspended": "License {license} suspended",
    "license_reinstated": "License {license} reinstated",
    "license_revoked": "License {license} revoked",
    "license_expired": "License {license} expired",
    "escalation_step": "{ministry} review overdue: {step}",
    "document_uploaded": "Document added",
}


def describe_event(event: AuditEvent) -> str:
    """A sentence for a person, from the event's action and data."""
    data = event.data or {}
    ministry = data.get("ministry", "")
    values = {
        "ministry": Ministry(ministry).label if ministry in Ministry.values else "A",
        "recommendation": str(data.get("recommendation", "")).replace("_", " "),
        "decision": data.get("decision", ""),
        "license": data.get("license", ""),
        "step": str(data.get("step", "")).replace("_", " "),
    }
    template = EVENT_LABELS.get(event.action)
    return template.format(**values) if template else event.action.replace("_", " ").capitalize()
