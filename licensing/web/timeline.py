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
        "reference": data.get("reference", ""),
        "replaced_by": data.get("replaced_by", ""),
    }
    template = EVENT_LABELS.get(event.action)
    return template.format(**values) if template else event.action.replace("_", " ").capitalize()
