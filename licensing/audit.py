"""Writing and verifying the hash-chained audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from licensing.models import SYSTEM, Application, AuditChainHead, AuditEvent


def audit_record(
    *,
    application: Application | None,
    actor: Any | None,
    action: str,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    data: dict | None = None,
) -> AuditEvent:
    """Append an event, chained to the previous one. Call inside the change's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    # Locking the single head row serialises appends, so the chain never forks.
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
    event = AuditEvent(
        application=application,
        actor=actor,
        actor_name=actor.get_username() if actor else SYSTEM,
        action=action,
        from_state=from_state,
        to_state=to_state,
        created_at=timezone.now(),
        reason=reason,
        data=data or {},
        prev_hash=head.last_hash,
    )
    event.hash = event.compute_hash()
    event.save()
    head.last_hash = event.hash
    head.save(update_fields=["last_hash"])
    return event


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken: AuditEvent | None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.broken is None


def audit_verify_chain(*, batch_size: int = 2000) -> ChainReport:
    """Recompute every hash in order; name the first event that does not match."""
    prev_hash = ""
    checked = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=batch_size):
        if event.prev_hash != prev_hash:
            return ChainReport(checked, event, "its link to the previous event is broken")
        if event.compute_hash() != event.hash:
            return ChainReport(checked, event, "its contents do not match its hash")
        prev_hash = event.hash
        checked += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head and head.last_hash != prev_hash:
        last = AuditEvent.objects.order_by("-id").first()
        return ChainReport(checked, last, "events after it are missing")
    return ChainReport(checked, None)
