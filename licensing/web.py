"""Web pages for people: each role's home page, the application page, drafts and actions.

Views are thin: a form validates the input, one service acts, and any
service error becomes a message on the page. What a user may see comes from
the selectors, so a page for an invisible case is a 404.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from accounts.models import Role
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
from licensing.selectors import applications_visible_to, reviews_visible_to
from licensing.services import applications as app_services
from licensing.services import reviews as review_services
from licensing.services.documents import UPLOAD_STATES, document_upload
from licensing.transitions import application_actions, review_actions

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


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    context: dict = {
        "notifications": Notification.objects.filter(recipient=user).order_by("-created_at")[:10]
    }
    if user.is_ministry_staff:
        queue = list(
            reviews_visible_to(user)
            .filter(status__in=[*ACTIVE_STATES, ReviewStatus.AWAITING_APPLICANT])
            .select_related("application", "application__destination", "assigned_to")
            .order_by("due_date", "id")
        )
        _due_marks(queue)
        context["queue"] = queue
        if user.is_supervisor:
            context["overdue"] = [r for r in queue if r.overdue]
            context["reassign_form"] = forms.ReassignForm(ministry=user.ministry)
        return render(request, "licensing/home_ministry.html", context)
    applications = applications_visible_to(user).select_related(
        "destination", "organisation", "license"
    )
    if user.is_committee:
        context["disputed"] = applications.filter(status=S.DISPUTED).order_by("disputed_at")
        context["decided"] = applications.filter(status__in=[S.APPROVED, S.DENIED]).order_by(
            "-decided_at"
        )[:50]
        return render(request, "licensing/home_committee.html", context)
    context["applications"] = applications.order_by("-created_at")[:100]
    return render(request, "licensing/home.html", context)


def _visible_application(request: HttpRequest, pk: int) -> Application:
    return get_object_or_404(applications_visible_to(request.user), pk=pk)


@login_required
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_object_or_404(
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
    user = request.user
    reviews = list(application.reviews.all())
    _due_marks(reviews, application.status)
    is_exporter = user.role == Role.EXPORTER
    own_review = next(
        (r for r in reviews if user.is_ministry_staff and r.ministry == user.ministry), None
    )
    license = getattr(application, "license", None) if application.status == S.APPROVED else None
    context = {
        "application": application,
        "goods": list(application.goods.all()),
        "reviews": reviews,
        "own_review": own_review,
        "is_exporter": is_exporter,
        "show_internal": not is_exporter,
        "events": AuditEvent.objects.filter(application=application).select_related("actor"),
        "diagram": mark_safe(workflow_svg(application.status)),  # noqa: S308 - built from our own constants, escaped
        "license": license,
        "open_question": next(
            (q for q in application.information_requests.all() if q.answered_at is None), None
        ),
        "answer_form": forms.AnswerForm(),
        "question_form": forms.QuestionForm(),
        "recommend_form": forms.RecommendForm(),
        "decide_form": forms.DecideForm(),
        "reason_form": forms.OptionalReasonForm(),
        "document_form": forms.DocumentForm(),
        "can_upload": is_exporter
        and application.organisation_id == user.organisation_id
        and application.status in UPLOAD_STATES,
        "today": local_today(),
    }
    context["actions"] = application_actions(application=application, user=user)
    context["review_actions"] = review_actions(review=own_review, user=user) if own_review else []
    if "reassign" in context["review_actions"]:
        context["reassign_form"] = forms.ReassignForm(ministry=user.ministry)
    return render(request, "licensing/application_detail.html", context)


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


def _act(request: HttpRequest, pk: int, run: Callable[[], object], done: str) -> HttpResponse:
    try:
        run()
    except InvalidInput as error:
        for message in (m for msgs in error.errors.values() for m in msgs):
            messages.error(request, message)
    except ServiceError as error:  # TooLarge, NotPermitted, TransitionConflict
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect("application-detail", pk=pk)


def _form(form_class, request: HttpRequest, **kwargs):
    form = form_class(request.POST, **kwargs)
    if not form.is_valid():
        raise InvalidInput({k: [str(m) for m in v] for k, v in form.errors.items()})
    return form.cleaned_data


@login_required
@require_POST
def application_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    application = _visible_application(request, pk)
    user = request.user

    def run() -> object:
        if action == "submit":
            return app_services.application_submit(application=application, user=user)
        if action == "withdraw":
            reason = _form(forms.OptionalReasonForm, request)["reason"]
            return app_services.application_withdraw(
                application=application, user=user, reason=reason
            )
        if action == "respond":
            answer = _form(forms.AnswerForm, request)["answer"]
            return app_services.application_respond(
                application=application, user=user, answer=answer
            )
        if action == "decide":
            data = _form(forms.DecideForm, request)
            return app_services.application_decide(application=application, user=user, **data)
        if action == "delete":
            return app_services.application_delete_draft(application=application, user=user)
        if action == "upload":
            form = forms.DocumentForm(request.POST, request.FILES)
            if not form.is_valid():
                raise InvalidInput({k: [str(m) for m in v] for k, v in form.errors.items()})
            return document_upload(
                application=application,
                user=user,
                upload=form.cleaned_data["file"],
                kind=form.cleaned_data["kind"],
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
            return review_services.review_recommend(
                review=review, user=user, **_form(forms.RecommendForm, request)
            )
        if action == "request-information":
            question = _form(forms.QuestionForm, request)["question"]
            return review_services.review_request_information(
                review=review, user=user, question=question
            )
        if action == "reassign":
            assignee = _form(forms.ReassignForm, request, ministry=review.ministry)["user"]
            return review_services.review_reassign(review=review, user=user, assignee=assignee)
        raise Http404

    done = {
        "claim": "Review claimed.",
        "recommend": "Recommendation recorded.",
        "request-information": "Question sent; the review clocks are stopped.",
        "reassign": "Review reassigned.",
    }.get(action, "")
    response = _act(request, review.application_id, run, done)
    if request.POST.get("next") == "home":
        return redirect("home")
    return response
