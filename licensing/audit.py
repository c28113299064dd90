"""Writing and verifying the hash-chained audit trail.

`event_hash` is the chain's only hash function: the live `audit_record`, the
bulk seeder (`licensing.services.seeding`) and `audit_verify_chain` all call
it, so changing how events are hashed is a change here and nowhere else.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from licensing.models import SYSTEM, Application, AuditChainHead, AuditEvent

# The columns an event's hash covers (besides the previous event's hash), as model attnames.
HASHED_FIELDS = (
    "application_id",
    "actor_id",
    "actor_name",
    "action",
    "from_state",
    "to_state",
    "created_at",
    "reason",
    "data",
    "prev_hash",
)


def event_hash(
    *,
    application_id: int | None,
    actor_id: int | None,
    actor_name: str,
    action: str,
    from_state: str,
    to_state: str,
    created_at: datetime,
    reason: str,
    data: Any,
    prev_hash: str,
) -> str:
    """The hash of one event, chained to the previous one by `prev_hash`."""
    payload = {
        "application": application_id,
        "actor": actor_id,
        "actor_name": actor_name,
        "action": action,
        "from_state": from_state,
        "to_state": to_state,
        "created_at": created_at.isoformat(),
        "reason": reason,
        "data": data,
        "prev_hash": prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def hash_of(event: AuditEvent) -> str:
    """`event_hash` of a model instance (saved or not)."""
    return event_hash(**{name: getattr(event, name) for name in HASHED_FIELDS})


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
    head = lock_chain_head()
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
    event.hash = hash_of(event)
    event.save()
    head.last_hash = event.hash
    head.save(update_fields=["last_hash"])
    return event


def lock_chain_head() -> AuditChainHead:
    """The chain's head row, locked until the transaction ends: no one else appends meanwhile."""
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
    return head


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken: AuditEvent | None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.broken is None


def audit_verify_chain(
    *, batch_size: int = 5000, progress: Callable[[int], object] | None = None
) -> ChainReport:
    """Recompute every hash in order; name the first event that does not match.

    Streams the events through a server-side cursor (`iterator`), reading only
    the hashed columns, so memory stays constant however long the trail is.
    `progress`, when given, is called with the number of events checked since
    its previous call, every `batch_size` events and once at the end.
    """
    # Inside a transaction the cursor streams (outside one, Django declares it WITH HOLD
    # and PostgreSQL copies every event aside before sending the first); one snapshot
    # for the events and the head, so appends while it runs are not taken for a break.
    connection = transaction.get_connection()
    snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic():
        if snapshot:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return _verify(batch_size, progress)


def _verify(batch_size: int, progress: Callable[[int], object] | None) -> ChainReport:
    prev_hash = ""
    checked = 0
    unreported = 0
    rows = (
        AuditEvent.objects.order_by("id")
        .values_list("id", "hash", *HASHED_FIELDS)
        .iterator(chunk_size=batch_size)
    )
    for pk, stored_hash, *values in rows:
        fields = dict(zip(HASHED_FIELDS, values, strict=True))
        problem = ""
        if fields["prev_hash"] != prev_hash:
            problem = "its link to the previous event is broken"
        elif event_hash(**fields) != stored_hash:
            problem = "its contents do not match its hash"
        if problem:
            if progress and unreported:
                progress(unreported)
            return ChainReport(checked, AuditEvent.objects.get(pk=pk), problem)
        prev_hash = stored_hash
        checked += 1
        unreported += 1
        if progress and unreported >= batch_size:
            progress(unreported)
            unreported = 0
    if progress and unreported:
        progress(unreported)
    head = AuditChainHead.objects.filter(pk=1).first()
    if head and head.last_hash != prev_hash:
        last = AuditEvent.objects.order_by("-id").first()
        return ChainReport(checked, last, "events after it are missing")
    return ChainReport(checked, None)
