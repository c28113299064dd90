"""Exporters' services: drafts, submission, answers, withdrawal; and the committee's decision."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from licensing import page_cache, policies, rulebook
from licensing.audit import audit_record
from licensing.clock import WorkingCalendar, local_today
from licensing.exceptions import (
    InvalidInput,
    NotPermitted,
    SubmissionRefused,
    TransitionConflict,
)
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
    LicenseStatus,
    LicenseType,
    NotificationEvent,
    OtherParty,
    Review,
    ReviewStatus,
    RoutingDecision,
)
from licensing.models.applications import (
    APPLICATION_FIELDS,
    GOOD_FIELDS,
    IN_REVIEW_STATES,
    has_munitions,
)
from licensing.notifications import Message, notify, notify_all
from licensing.routing import route
from licensing.screening import Found, Party, parties_of, party_field, screen
from licensing.selectors import (
    committee_members,
    deadline_policies,
    organisation_exporters,
    rule_versions,
    submission_recipients,
)
from licensing.services.amendments import amendment_released
from licensing.services.common import lock, locked, next_number, run_transition
from licensing.services.licenses import license_issue, license_widen
from licensing.services.outcomes import (
    check_decisions,
    outcomes_from_reviews,
    overall,
    record_outcomes,
)
from licensing.services.screening import (
    application_parties,
    approval_hold,
    blocking_match,
    check_approval_hold,
    screening_record_at_submission,
)

OTHER_PARTY_FIELDS = ("kind", "name", "address", "country", "type")

S = ApplicationStatus


def _model_fields(fields: dict[str, Any], allowed: Collection[str]) -> dict[str, Any]:
    """Keep the fields a caller may set, by name or by `<name>_id`."""
    return {k: v for k, v in fields.items() if k in allowed or k.removesuffix("_id") in allowed}


def _check_goods_currency(currency: str, goods: Sequence[dict[str, Any]]) -> None:
    errors = [
        f"Good {i + 1} is priced in {good['currency']}, the application in {currency}."
        for i, good in enumerate(goods)
        if good.get("currency", currency) != currency
    ]
    if errors:
        raise InvalidInput({"goods": errors})


def _replace_goods(
    application: Application, goods: Sequence[dict[str, Any]], *, new: bool = False
) -> list[Good]:
    if not new:
        application.goods.all().delete()
    return Good.objects.bulk_create(
        [Good(application=application, **_model_fields(good, GOOD_FIELDS)) for good in goods]
    )


def _replace_other_parties(
    application: Application, parties: Sequence[dict[str, Any]], *, new: bool = False
) -> list[OtherParty]:
    """The other parties, wholesale; their number kept on the application (saved by the
    caller)."""
    if not new and application.other_party_count:
        application.other_parties.all().delete()
    application.other_party_count = len(parties)
    return OtherParty.objects.bulk_create(
        [
            OtherParty(application=application, **_model_fields(party, OTHER_PARTY_FIELDS))
            for party in parties
        ]
    )


def _known(application: Application, **related: list) -> Application:
    """Say what this service read and wrote, by relation, so the API can answer with it
    without reading it all again (`written`; a draft or a just-submitted case has no
    licence). Django's own caches are left alone: a caller that goes on using the
    instance reads fresh rows, never these."""
    application.written = related
    return application


def application_create_draft(
    *,
    user: User,
    fields: dict[str, Any],
    goods: Sequence[dict[str, Any]] = (),
    other_parties: Sequence[dict[str, Any]] = (),
) -> Application:
    if not policies.may_create_application(user):
        raise NotPermitted("Only an exporter can create an application.")
    fields = _model_fields(fields, APPLICATION_FIELDS)
    goods = [{"currency": fields.get("currency", "USD"), **good} for good in goods]
    _check_goods_currency(fields.get("currency", "USD"), goods)
    with transaction.atomic():
        # The year's counter is locked from here to the commit: two inserts.
        application = Application.objects.create(
            reference=next_number("EXP", local_today().year),
            organisation_id=user.organisation_id,
            created_by=user,
            other_party_count=len(other_parties),
            **fields,
        )
        created = _replace_goods(application, goods, new=True)
        parties = _replace_other_parties(application, other_parties, new=True)
        page_cache.application_changed(application.pk, application.organisation_id)
    return _known(
        application,
        goods=created,
        reviews=[],
        information_requests=[],
        routing=[],
        other_parties=parties,
        screening_matches=[],
    )


def application_update_draft(
    *,
    application: Application,
    user: User,
    fields: dict[str, Any],
    goods: Sequence[dict[str, Any]] | None = None,
    other_parties: Sequence[dict[str, Any]] | None = None,
) -> Application:
    """Edit a draft; `goods` and `other_parties`, when given, replace theirs wholesale."""
    with locked(Application, application.pk) as application:
        rulebook.require("edit", application, user)
        for name, value in _model_fields(fields, APPLICATION_FIELDS).items():
            setattr(application, name, value)
        currency = application.currency
        if goods is not None:
            goods = [{"currency": currency, **good} for good in goods]
            _check_goods_currency(currency, goods)
            _replace_goods(application, goods)
        else:
            _check_goods_currency(currency, list(application.goods.values("currency")))
        if other_parties is not None:
            _replace_other_parties(application, other_parties)
        application.save()
        # A draft records no audit event (its trail starts at submission).
        page_cache.application_changed(application.pk, application.organisation_id)
    return application


def application_delete_draft(*, application: Application, user: User) -> None:
    with locked(Application, application.pk) as application:
        rulebook.require("delete", application, user)
        # A draft has no audit events of its own (the trail starts at submission),
        # so it can go; the deletion itself is recorded, without the row.
        reference = application.reference
        for document in application.documents.all():
            transaction.on_commit(lambda f=document.file: f.delete(save=False))
        page_cache.application_changed(application.pk, application.organisation_id)
        application.delete()
        audit_record(
            application=None,
            actor=user,
            action="draft_deleted",
            from_state=S.DRAFT,
            data={"reference": reference},
        )


@dataclass(frozen=True)
class Problem:
    """One thing that stops a submission: under which key the API reports it, which
    field of the draft form fixes it, and what to tell the exporter."""

    key: str
    field: str
    message: str
    code: str


_PARTY_PARTS = (
    ("name", "Enter the {party}'s name."),
    ("address", "Enter the {party}'s address."),
    ("country", "Choose the {party}'s country."),
    ("type", "Choose the {party}'s type."),
)


def _party_parts(application: Application, party: str) -> list[tuple[str, bool]]:
    """Each part of a party (`end_user`, `consignee`): its form field and whether it is given."""
    parts = []
    for part, _ in _PARTY_PARTS:
        field = f"{party}_{part}"
        attribute = f"{field}_id" if part == "country" else field
        parts.append((field, bool(getattr(application, attribute))))
    return parts


def _completeness_problems(application: Application, goods: Sequence[Good]) -> list[Problem]:
    problems: list[Problem] = []

    def missing(key: str, field: str, message: str) -> None:
        problems.append(Problem(key, field, message, "incomplete"))

    if not application.destination_id:
        missing("destination", "destination", "Choose the destination country.")
    for party, optional in (("end_user", False), ("consignee", True)):
        parts = _party_parts(application, party)
        given = [ok for _, ok in parts]
        if optional and (not any(given) or all(given)):
            continue
        name = party.replace("_", " ")
        for (field, ok), (_, message) in zip(parts, _PARTY_PARTS, strict=True):
            if not ok:
                missing(party, field, message.format(party=name))
    if not application.end_use.strip():
        missing("end_use", "end_use", "Describe the end use.")
    if not goods:
        missing("goods", "goods", "Add at least one good.")
    return problems


def _marketing_license_problem(application: Application) -> Problem | None:
    marketing = application.marketing_license
    if marketing is None:
        return Problem(
            "marketing_license",
            "marketing_license",
            "An export license for munitions items needs the number of your "
            f"active marketing license for {application.destination.name}.",
            "marketing_license_required",
        )
    valid = (
        marketing.organisation_id == application.organisation_id
        and marketing.license_type == LicenseType.MARKETING
        and marketing.status == LicenseStatus.ACTIVE
        and marketing.destination_id == application.destination_id
        and marketing.valid_until >= local_today()
    )
    if not valid:
        return Problem(
            "marketing_license",
            "marketing_license",
            f"{marketing.number} is not an active marketing license of your "
            f"organisation for {application.destination.name}.",
            "marketing_license_invalid",
        )
    return None


def submission_problems(
    application: Application,
    goods: Sequence[Good],
    *,
    today=None,
    parties: Sequence[Party] | None = None,
    screened: list[Found] | None = None,
) -> tuple[list[Problem], Any]:
    """Every problem that would stop `application` being submitted, at once, in the
    order the exporter meets them on the draft; and the routing (None if incomplete).

    Routing looks at every party's country, and every party is screened: an exact
    match with a blocking list is a problem too. `parties`: the application's, if
    already read; `screened` receives what screening found, for submission to record.

    Changes nothing: the check-your-answers page lists these before the exporter
    submits, and submission refuses with all of them.
    """
    problems = _completeness_problems(application, goods)
    munitions = has_munitions(goods)
    if munitions and not application.organisation.may_export_munitions:
        problems.append(
            Problem(
                "non_field_errors",
                "goods",
                f"{application.organisation} is not registered in the defense export "
                "register, so it cannot apply for munitions items. Register first, "
                "or remove the munitions items.",
                "not_registered",
            )
        )
    if munitions and application.license_type == LicenseType.EXPORT:
        problem = _marketing_license_problem(application)
        if problem is not None:
            problems.append(problem)
    parties = application_parties(application) if parties is None else parties
    result = None
    if application.destination_id:
        result = route(
            application=application, goods=goods, on=today or local_today(), parties=parties
        )
        if result.refusal:
            party = result.refusal.party
            problems.append(
                Problem(
                    "non_field_errors",
                    "destination" if party is None else party_field(party, "country"),
                    result.refusal.refusal_message,
                    "refused_by_rule",
                )
            )
    found = screen(parties)
    blocked = blocking_match(found)
    if blocked is not None:
        problems.append(
            Problem(
                "non_field_errors",
                party_field(blocked.party, "name"),
                f"The {blocked.party.label} is on the screening list '{blocked.list_name}', "
                "so the application cannot be submitted.",
                "refused_by_screening",
            )
        )
    if screened is not None:
        screened.extend(found)
    return problems, result


def application_submission_problems(*, application: Application) -> list[Problem]:
    """What `application_submit` would refuse the draft for now (reads only)."""
    goods = list(application.goods.select_related("control_list_entry"))
    return submission_problems(application, goods)[0]


def _refusal(problems: Sequence[Problem]) -> SubmissionRefused:
    """One refusal listing every problem by the API's keys; its code is the first's."""
    errors: dict[str, list[str]] = {}
    for problem in problems:
        errors.setdefault(problem.key, []).append(problem.message)
    refusal = SubmissionRefused(errors, code=problems[0].code)
    refusal.problems = list(problems)
    return refusal


def application_submit(
    *, application: Application, user: User, declaration: bool = False
) -> Application:
    """Check completeness and the rules, screen every party, route to ministries, start
    their clocks; record what screening found.

    Every problem is reported at once (`submission_problems`). `declaration`: the
    exporter ticked the page's declaration that the answers are true and complete
    (the API's submit has no body); the audit event records it.
    """
    # The organisation comes with the row (only the application's is locked): the
    # munitions check and the answer read it, and screening spent that query.
    with locked(Application, application.pk, related=("organisation",)) as application:
        rulebook.require("submit", application, user)
        goods = list(application.goods.select_related("control_list_entry"))
        today = local_today()
        others = list(application.other_parties.all()) if application.other_party_count else []
        parties = parties_of(application, others)
        found: list[Found] = []
        problems, result = submission_problems(
            application, goods, today=today, parties=parties, screened=found
        )
        if problems:
            raise _refusal(problems)
        original = _original_to_supersede(application)
        matches = screening_record_at_submission(application, found)
        from_state = run_transition(application, "submit", application.submit)
        reviews = _open_reviews(application, result.ministries, today)
        versions, routing = _record_routing(application, result.matches)
        _notify_submitted(application, reviews, result.ministries)
        # Last but for a rare supersession: the audit chain's head stays locked from here
        # to the commit, and every other change waits on it meanwhile.
        audit_record(
            application=application,
            actor=user,
            action="application_submitted",
            from_state=from_state,
            to_state=application.status,
            data={
                "declaration": declaration,
                "reviews": {r.ministry: r.due_date.isoformat() for r in reviews},
                "rules": [
                    {
                        "rule": m.rule.pk,
                        "version": versions.get(m.rule.pk, (None, None))[1],
                        "history_id": versions.get(m.rule.pk, (None, None))[0],
                        "why": m.explanation,
                    }
                    for m in result.matches
                ],
                **(
                    {
                        "screening_matches": [
                            {"match": m.pk, "party": m.party_name, "list": m.list_name}
                            for m in matches
                        ]
                    }
                    if matches
                    else {}
                ),
            },
        )
        if original is not None:
            _supersede(original, by=application, user=user)
        amendment_released(application)
    return _known(
        application,
        goods=goods,
        reviews=reviews,
        information_requests=[],
        routing=routing,
        other_parties=others,
        screening_matches=matches,
    )


def _original_to_supersede(application: Application) -> Application | None:
    """An amendment's original, locked; it must still be with the ministries (409 otherwise)."""
    if not application.amendment_of_id:
        return None
    original = lock(Application, application.amendment_of_id)
    if original.status not in IN_REVIEW_STATES:
        raise TransitionConflict(
            f"{original.reference}, which this amends, is {original.get_status_display().lower()}"
            " now: it can no longer be superseded. Delete this draft (or amend the licence).",
            current_state=original.status,
            code="original_decided",
        )
    return original


def _supersede(original: Application, *, by: Application, user: User) -> None:
    """The submitted amendment replaces the original: its open reviews and question end."""
    from_state = run_transition(original, "supersede", lambda: original.supersede(by=by))
    open_reviews = list(
        # The reviews' rows only: the reviewer is read with them, not locked.
        Review.objects.select_for_update(of=("self",))
        .select_related("assigned_to")
        .filter(application=original)
        .open()
    )
    for review in open_reviews:
        run_transition(review, "cancel", review.cancel)
    InformationRequest.objects.filter(application=original, answered_at__isnull=True).delete()
    audit_record(
        application=original,
        actor=user,
        action="application_superseded",
        from_state=from_state,
        to_state=original.status,
        reason=f"Amended by {by.reference}.",
        data={
            "superseded_by": by.pk,
            "reference": by.reference,
            "cancelled_reviews": [r.ministry for r in open_reviews],
        },
    )
    staff = [r.assigned_to for r in open_reviews if r.assigned_to_id]
    notify(
        event=NotificationEvent.APPLICATION_SUPERSEDED,
        recipients=[*organisation_exporters(original.organisation_id), *staff],
        key=f"superseded:{original.pk}",
        subject=f"{original.reference} superseded by its amendment {by.reference}",
        application=original,
        context={"reason": f"Its reviews are cancelled; {by.reference} is reviewed instead."},
    )


def _open_reviews(application: Application, ministries: Sequence[str], today) -> list[Review]:
    """One review per routed ministry, due after its policy's working days."""
    calendar = WorkingCalendar.load()
    policies_by_ministry = deadline_policies()
    return Review.objects.bulk_create(
        [
            Review(
                application=application,
                ministry=ministry,
                received_on=today,
                due_date=calendar.due_date(today, policies_by_ministry[ministry].review_days),
            )
            for ministry in sorted(ministries)  # the order reviews are always read in
        ]
    )


def _record_routing(
    application: Application, matches
) -> tuple[dict[int, tuple[int | None, int | None]], list[RoutingDecision]]:
    """Keep which rules, in which versions, routed the application; return both."""
    versions = rule_versions()
    routing = RoutingDecision.objects.bulk_create(
        [
            RoutingDecision(
                application=application,
                rule=match.rule,
                rule_history_id=versions.get(match.rule.pk, (None, None))[0],
                rule_version=versions.get(match.rule.pk, (None, None))[1],
                rule_name=match.rule.name,
                action=match.rule.action,
                ministry=match.rule.ministry,
                explanation=match.explanation,
            )
            for match in matches
        ]
    )
    return versions, routing


def _notify_submitted(
    application: Application, reviews: Sequence[Review], ministries: Sequence[str]
) -> None:
    """The exporters that it is in, each routed ministry's staff that it is queued: at once."""
    exporters, staff = submission_recipients(application.organisation_id, list(ministries))
    notify_all(
        [
            Message(
                event=NotificationEvent.APPLICATION_SUBMITTED,
                recipients=exporters,
                key=f"submitted:{application.pk}",
                subject=f"{application.reference} submitted",
                application=application,
                context={"ministries": list(ministries)},
            ),
            *(
                Message(
                    event=NotificationEvent.REVIEW_ASSIGNED,
                    recipients=staff.get(review.ministry, []),
                    key=f"queued:{review.pk}",
                    subject=f"{application.reference}: new {review.get_ministry_display()} "
                    f"review, due {review.due_date:%d %b %Y}",
                    application=application,
                    context={"ministry": review.ministry, "due_date": review.due_date.isoformat()},
                )
                for review in reviews
            ),
        ]
    )


def application_withdraw(*, application: Application, user: User, reason: str = "") -> Application:
    with locked(Application, application.pk) as application:
        rulebook.require("withdraw", application, user)
        from_state = run_transition(application, "withdraw", application.withdraw)
        open_reviews = list(
            Review.objects.select_for_update().filter(application=application).open()
        )
        for review in open_reviews:
            run_transition(review, "cancel", review.cancel)
        InformationRequest.objects.filter(
            application=application, answered_at__isnull=True
        ).delete()
        amendment_released(application)
        audit_record(
            application=application,
            actor=user,
            action="application_withdrawn",
            from_state=from_state,
            to_state=application.status,
            reason=reason,
            data={"cancelled_reviews": [r.ministry for r in open_reviews]},
        )
    return application


def application_respond(*, application: Application, user: User, answer: str) -> Application:
    """Answer the open question; every stopped review clock restarts, its due date moved later."""
    with locked(Application, application.pk) as application:
        rulebook.require("respond", application, user)
        if not answer or not answer.strip():
            raise InvalidInput({"answer": ["Write an answer."]})
        stopped_on = application.clock_stopped_on
        from_state = run_transition(application, "respond", application.respond)
        request = InformationRequest.objects.select_for_update().get(
            application=application, answered_at__isnull=True
        )
        request.answer = answer.strip()
        request.answered_by = user
        request.answered_at = timezone.now()
        request.save()

        today = local_today()
        calendar = WorkingCalendar.load()
        paused = calendar.working_days_between(stopped_on, today) if stopped_on else 0
        moved: dict[str, list[str]] = {}
        reviews = list(
            Review.objects.select_for_update().filter(
                application=application, status=ReviewStatus.AWAITING_APPLICANT
            )
        )
        for review in reviews:
            new_due = (
                calendar.resume(review.due_date, stopped_on, today)
                if stopped_on
                else review.due_date
            )
            moved[review.ministry] = [review.due_date.isoformat(), new_due.isoformat()]
            run_transition(
                review,
                "restart the clock of",
                lambda r=review, d=new_due: r.restart_clock(due_date=d),
            )
        audit_record(
            application=application,
            actor=user,
            action="information_provided",
            from_state=from_state,
            to_state=application.status,
            data={"request": request.pk, "working_days_stopped": paused, "due_dates": moved},
        )
        recipients = [request.asked_by] + [r.assigned_to for r in reviews if r.assigned_to]
        notify(
            event=NotificationEvent.INFORMATION_PROVIDED,
            recipients=recipients,
            key=f"answered:{request.pk}",
            subject=f"{application.reference}: the exporter answered your question",
            application=application,
            context={"question": request.question, "answer": request.answer},
        )
    return application


def application_decide(
    *,
    application: Application,
    user: User,
    decision: str,
    reason: str,
    conditions: str = "",
    criteria: Sequence[str] = (),
    goods: Sequence[dict[str, Any]] | None = None,
) -> Application:
    """The committee settles a disputed application (whole, or each good apart), or an appeal.

    On a disputed application: `approve` approves every good, `deny` refuses every
    good citing `criteria`; `goods` decides each good apart, ending in approved,
    denied or partially approved. Approving (any good), the committee may add
    conditions of its own, which the licence carries after the ministries'. On an
    appeal: `approve` upholds it (every good approved, the licence issued or
    widened), `deny` dismisses it (back to the refusal appealed against,
    `appeal_dismissed` recorded).
    """
    conditions = (conditions or "").strip()
    with locked(Application, application.pk) as application:
        rulebook.require("decide", application, user)
        if decision not in (Decision.APPROVE, Decision.DENY):
            raise InvalidInput({"decision": ["Decide 'approve' or 'deny'."]})
        if not reason or not reason.strip():
            raise InvalidInput({"reason": ["Give the committee's reasons."]})
        if conditions and decision != Decision.APPROVE:
            raise InvalidInput({"conditions": ["Conditions go with an approval, not a denial."]})
        if decision == Decision.APPROVE:
            check_approval_hold(application, decision, field="decision")
        if application.status == S.UNDER_APPEAL:
            if goods is not None:
                raise InvalidInput(
                    {"goods": ["An appeal is upheld or dismissed as a whole: leave out goods."]}
                )
            return _decide_appeal(application, user, decision, reason.strip(), conditions)
        application_goods = list(application.goods.all())
        per_good = check_decisions(
            goods=application_goods,
            overall=decision,
            criteria=criteria,
            per_good=goods,
            key="decision",
        )
        by_good = {entry["good"]: entry for entry in per_good}
        cited = list(dict.fromkeys(criteria))
        outcomes = {}
        for good in application_goods:
            entry = by_good.get(good.pk, {"decision": decision, "criteria": cited})
            outcomes[good.pk] = (
                (GoodOutcome.REFUSED, entry["criteria"])
                if entry["decision"] == Decision.DENY
                else (GoodOutcome.APPROVED, [])
            )
        result = overall(outcomes)
        method = {
            "approved": application.committee_approve,
            "refused": application.committee_deny,
            "partial": application.committee_partially_approve,
        }[result]
        from_state = run_transition(application, "decide", lambda: method(reason=reason.strip()))
        record_outcomes(application_goods, outcomes)
        for review in Review.objects.select_for_update().filter(application=application).open():
            run_transition(review, "cancel", review.cancel)
        audit_record(
            application=application,
            actor=user,
            action="committee_decided",
            from_state=from_state,
            to_state=application.status,
            reason=reason.strip(),
            data={
                "decision": decision,
                "criteria": cited,
                "goods": {str(pk): outcome for pk, (outcome, _) in outcomes.items()},
                **({"conditions": conditions} if conditions else {}),
            },
        )
        _after_decision(application, application_goods, committee_conditions=conditions)
    return application


def _decide_appeal(
    application: Application, user: User, decision: str, reason: str, conditions: str
) -> Application:
    appeal = Appeal.objects.select_for_update().get(application=application)
    if decision == Decision.APPROVE:
        from_state = run_transition(
            application, "decide", lambda: application.uphold_appeal(reason=reason)
        )
        outcome, action = AppealOutcome.UPHELD, "appeal_upheld"
    else:
        from_state = run_transition(
            application,
            "decide",
            lambda: application.dismiss_appeal(prior_status=appeal.prior_status),
        )
        outcome, action = AppealOutcome.DISMISSED, "appeal_dismissed"
    appeal.outcome, appeal.decided_by, appeal.reason = outcome, user, reason
    appeal.decided_at = timezone.now()
    appeal.save()
    audit_record(
        application=application,
        actor=user,
        action=action,
        from_state=from_state,
        to_state=application.status,
        reason=reason,
        data={
            "appeal": appeal.pk,
            "decision": decision,
            **({"conditions": conditions} if conditions else {}),
        },
    )
    license = None
    if outcome == AppealOutcome.UPHELD:
        goods = list(application.goods.all())
        refused = [good for good in goods if good.outcome != GoodOutcome.APPROVED]
        record_outcomes(goods, {good.pk: (GoodOutcome.APPROVED, []) for good in goods})
        existing = License.objects.select_for_update().filter(application=application).first()
        license = (
            license_widen(license=existing, goods=refused, committee_conditions=conditions)
            if existing is not None
            else license_issue(application=application, committee_conditions=conditions)
        )
    notify(
        event=NotificationEvent.APPLICATION_DECIDED,
        recipients=organisation_exporters(application.organisation_id),
        key=f"appeal-decided:{appeal.pk}",
        subject=f"{application.reference}: appeal {outcome}",
        application=application,
        context={
            "decision": decision,
            "reason": reason,
            "license": license.number if license else None,
        },
    )
    return application


def _after_decision(
    application: Application,
    goods: Sequence[Good] | None = None,
    committee_conditions: str = "",
) -> License | None:
    license = None
    if application.status in (S.APPROVED, S.PARTIALLY_APPROVED):
        approved = None
        if goods is not None:
            approved = [good for good in goods if good.outcome == GoodOutcome.APPROVED]
        license = license_issue(
            application=application, goods=approved, committee_conditions=committee_conditions
        )
    notify(
        event=NotificationEvent.APPLICATION_DECIDED,
        recipients=organisation_exporters(application.organisation_id),
        key=f"decided:{application.pk}",
        subject=f"{application.reference} {application.get_status_display().lower()}",
        application=application,
        context={
            "decision": application.decision,
            "reason": application.decision_reason,
            "license": license.number if license else None,
        },
    )
    return license


def application_conclude_if_reviewed(*, application: Application, actor: User | None) -> None:
    """Once every review is complete, decide each good, then the application.

    A good is approved when every review approves it, refused when every review
    refuses it, disputed otherwise. Any disputed good: the application is
    disputed (the committee decides). Else every good approved: approved;
    every good refused: denied; some of each: partially approved, its licence
    covering the approved goods.

    Call with the application locked, inside the transaction that completed
    the last review.
    """
    reviews = list(application.reviews.exclude(status=ReviewStatus.CANCELLED))
    if not reviews or any(r.status != ReviewStatus.COMPLETED for r in reviews):
        return
    goods = list(application.goods.all())
    outcomes = outcomes_from_reviews(goods, reviews)
    result = overall(outcomes)
    held = approval_hold(application) if result in ("approved", "partial") else None
    if held is not None:
        # The ministries approve goods (a deemed consent among them), but a screening match
        # is open or confirmed: the committee decides, once the match is resolved.
        result = "disputed"
    action, method = {
        "approved": ("application_approved", application.approve),
        "refused": ("application_denied", application.deny),
        "partial": ("application_partially_approved", application.partially_approve),
        "disputed": ("application_disputed", application.dispute),
    }[result]
    from_state = run_transition(application, action, method)
    record_outcomes(goods, outcomes)
    recommendations = {r.ministry: r.recommendation for r in reviews}
    audit_record(
        application=application,
        actor=None,
        action=action,
        from_state=from_state,
        to_state=application.status,
        reason=held[1] if held else "Every review is complete.",
        data={
            "recommendations": recommendations,
            "goods": {str(pk): outcome for pk, (outcome, _) in outcomes.items()},
        },
    )
    if application.status == S.DISPUTED:
        notify(
            event=NotificationEvent.REVIEW_ESCALATED,
            recipients=committee_members(),
            key=f"disputed:{application.pk}",
            subject=f"{application.reference}: the ministries disagree",
            application=application,
            context={"recommendations": recommendations},
        )
    else:
        _after_decision(application, goods)
