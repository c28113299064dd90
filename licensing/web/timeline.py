"""The timeline of a case, told for people: one sentence per audit event."""

from __future__ import annotations

from accounts.models import Ministry
from licensing.models import AuditEvent

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
    "license_exhausted": "License {license} exhausted: every licensed quantity shipped",
    "license_surrendered": "License {license} surrendered",
    "shipment_recorded": "Shipment {reference} recorded against license {license}",
    "escalation_step": "{ministry} review overdue: {step}",
    "document_uploaded": "Document added",
    "application_partially_approved": "Partially approved: some goods approved, the rest refused",
    "amendment_drafted": "Amendment {reference} drafted",
    "application_superseded": "Superseded by its amendment {reference}; reviews cancelled",
    "license_amendment_drafted": "Amendment of license {license} drafted",
    "license_superseded": "License {license} replaced by {replaced_by}",
    "license_widened": "License {license} now covers every good",
    "appeal_lodged": "Appeal lodged",
    "appeal_upheld": "Appeal upheld by the committee",
    "appeal_dismissed": "Appeal dismissed by the committee",
    "appeal_overdue": "Appeal overdue: the committee is told",
    "screening_match_found": "Screening: a list change found a party resembling a listed one",
    "screening_match_resolved": "Screening match of '{party}' {disposition}",
}


# ...told without saying which ministry thought what.
EXPORTER_LABELS = {
    "application_approved": "Approved",
    "application_denied": "Denied",
    "application_disputed": "Sent to the interagency committee for a decision",
    "referred_to_committee": "Sent to the interagency committee for a decision",
    "information_requested": "The reviewers asked a question; the review clocks stopped",
    "application_partially_approved": "Partially approved: some goods approved, the rest refused",
}

# Events that concern no case: the administrators' changes to rules and the calendar.
ADMIN_LABELS = {
    "draft_deleted": "Draft deleted",
    "rule_added": "Rule added",
    "rule_changed": "Rule changed",
    "rule_deleted": "Rule deleted",
    "closure_day_added": "Closure day added",
    "closure_day_changed": "Closure day's reason changed",
    "closure_day_removed": "Closure day removed",
}


# Every audit action's name for people, without the event's details (the admin's list).
ACTION_NAMES = {
    "application_submitted": "Application submitted",
    "review_claimed": "Review claimed",
    "review_reassigned": "Review reassigned",
    "review_completed": "Recommendation recorded",
    "review_deemed": "No objection deemed",
    "information_requested": "Question asked",
    "information_provided": "Question answered",
    "application_approved": "Application approved",
    "application_denied": "Application denied",
    "application_disputed": "Application disputed",
    "referred_to_committee": "Referred to the committee",
    "committee_decided": "Committee decided",
    "application_withdrawn": "Application withdrawn",
    "license_issued": "License issued",
    "license_suspended": "License suspended",
    "license_reinstated": "License reinstated",
    "license_revoked": "License revoked",
    "license_expired": "License expired",
    "license_exhausted": "License exhausted",
    "license_surrendered": "License surrendered",
    "shipment_recorded": "Shipment recorded",
    "escalation_step": "Escalation step applied",
    "document_uploaded": "Document added",
    "application_partially_approved": "Application partially approved",
    "amendment_drafted": "Amendment drafted",
    "application_superseded": "Application superseded",
    "license_amendment_drafted": "License amendment drafted",
    "license_superseded": "License superseded",
    "license_widened": "License widened (appeal upheld)",
    "appeal_lodged": "Appeal lodged",
    "appeal_upheld": "Appeal upheld",
    "appeal_dismissed": "Appeal dismissed",
    "appeal_overdue": "Appeal overdue",
    **ADMIN_LABELS,
}


def action_label(action: str) -> str:
    """A readable name for an audit action (an unknown one: its words, capitalised)."""
    return ACTION_NAMES.get(action) or action.replace("_", " ").capitalize()


def describe_event(event: AuditEvent, *, for_exporter: bool = False) -> str:
    """A sentence for a person, from the event's action and data."""
    if for_exporter and event.action in EXPORTER_LABELS:
        return EXPORTER_LABELS[event.action]
    data = event.data or {}
    ministry = data.get("ministry", "")
    values = {
        "ministry": Ministry(ministry).label if ministry in Ministry.values else "A",
        "recommendation": str(data.get("recommendation", "")).replace("_", " "),
        "decision": data.get("decision", ""),
        "license": data.get("license", ""),
        "step": str(data.get("step", "")).replace("_", " "),
        "reference": data.get("reference", ""),
        "replaced_by": data.get("replaced_by", ""),
        "party": data.get("party", ""),
        "disposition": data.get("disposition", ""),
    }
    template = EVENT_LABELS.get(event.action) or ADMIN_LABELS.get(event.action)
    return template.format(**values) if template else event.action.replace("_", " ").capitalize()
