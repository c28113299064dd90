"""Writing and verifying the hash-chained audit trail.

`event_hash` is the chain's only hash function: the live `audit_record`, the
bulk seeder (`licensing.demo.bulk`) and `audit_verify_chain` all call
it, so changing how events are hashed is a change here and nowhere else.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from licensing import page_cache
from licensing.models import SYSTEM, Application, AuditChainHead, AuditEvent

# The continuous anchor: one line per event once its change commits, on a logger of its
# own (always at INFO, config/settings.py), so the log shipped away from the database
# holds every event's id and hash. `seq` is the event's id: ids only grow, and only
# committed events are logged, so the gaps rolled-back transactions leave never show.
anchor_log = logging.getLogger("licensing.audit.anchor")
LOGGED_EVENT = "audit event seq=%d hash=%s"
_LOGGED_EVENT = re.compile(r"audit event seq=(\d+) hash=([0-9a-f]{64})\b")

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
    return _sign(payload)


def _sign(payload: dict) -> str:
    """HMAC-SHA256 of the canonical JSON, keyed by AUDIT_HMAC_KEY.

    The key lives outside the database (the environment or a `*_FILE` secret),
    so someone who can write to the database cannot recompute the hashes after
    an edit.
    """
    canonical = json.dumps(payload, sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":"))
    return hmac.new(
        settings.AUDIT_HMAC_KEY.encode(), canonical.encode(), hashlib.sha256
    ).hexdigest()


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
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    # Locking the single head row serialises appends, so the chain never forks.
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
        prev_hash=_locked_head_hash(connection),
    )
    event.hash = hash_of(event)
    _append(connection, event)
    if application is not None:
        # Every change to a case records an event in its transaction: the one place
        # its kept pages learn of it (their versions are renewed once it commits).
        page_cache.application_changed(application.pk, application.organisation_id)
    if anchor_log.isEnabledFor(logging.INFO):
        # After the commit (never for a change rolled back): no query, one log call.
        transaction.on_commit(
            functools.partial(anchor_log.info, LOGGED_EVENT, event.pk, event.hash),
            using=connection.alias,
        )
    return event


def lock_chain_head() -> AuditChainHead:
    """The chain's head row, locked until the transaction ends: no one else appends meanwhile."""
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
    return head


# Every change appends an event: its statements are written once from the models (not
# built by the ORM on every append), and on PostgreSQL the event and the head's new
# hash go in one statement.
_HEAD_ID = 1


@functools.cache
def _statements(vendor: str) -> dict[str, Any]:
    """The statements for the database, written on first use."""
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    head = quote(AuditChainHead._meta.db_table)
    last_hash = quote(AuditChainHead._meta.get_field("last_hash").column)
    head_id = quote(AuditChainHead._meta.pk.column)
    fields = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
    insert = "INSERT INTO {} ({}) VALUES ({}) RETURNING {}".format(  # noqa: S608 - names only
        quote(AuditEvent._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
        quote(AuditEvent._meta.pk.column),
    )
    lock = f"SELECT {last_hash} FROM {head} WHERE {head_id} = %s"  # noqa: S608 - names only
    if connection.features.has_select_for_update:
        lock += " FOR UPDATE"
    move = f"UPDATE {head} SET {last_hash} = %s WHERE {head_id} = %s"  # noqa: S608
    together = None
    if vendor == "postgresql":
        event_id = quote(AuditEvent._meta.pk.column)
        returning = f"RETURNING (SELECT {event_id} FROM appended)"  # noqa: S608 - names only
        together = f"WITH appended AS ({insert}) {move} {returning}"
    return {"fields": fields, "insert": insert, "lock": lock, "move": move, "together": together}


def _locked_head_hash(connection) -> str:
    """The head's hash, its row locked until the transaction ends (made on first use)."""
    sql = _statements(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql["lock"], [_HEAD_ID])
        row = cursor.fetchone()
    if row is None:
        return lock_chain_head().last_hash
    return row[0]


def _append(connection, event: AuditEvent) -> None:
    """Insert `event` and make its hash the head's; the head is already locked."""
    sql = _statements(connection.vendor)
    values = [f.get_db_prep_save(getattr(event, f.attname), connection) for f in sql["fields"]]
    with connection.cursor() as cursor:
        if sql["together"] is not None:
            cursor.execute(sql["together"], [*values, event.hash, _HEAD_ID])
            event.pk = cursor.fetchone()[0]
        else:
            cursor.execute(sql["insert"], values)
            event.pk = cursor.fetchone()[0]
            cursor.execute(sql["move"], [event.hash, _HEAD_ID])
    event._state.adding = False
    event._state.db = connection.alias


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken: AuditEvent | None
    problem: str = ""
    anchors: int = 0  # how many anchors the trail was compared with
    logged: int = 0  # how many logged events (`audit_log_read`) it was compared with

    @property
    def ok(self) -> bool:
        return self.broken is None and not self.problem


def audit_verify_chain(
    *,
    batch_size: int = 5000,
    progress: Callable[[int], object] | None = None,
    logged: dict[int, str] | None = None,
) -> ChainReport:
    """Recompute every hash in order; name the first event that does not match.

    Streams the events through a server-side cursor (`iterator`), reading only
    the hashed columns, so memory stays constant however long the trail is
    (bar `logged`, held whole). `progress`, when given, is called with the number
    of events checked since its previous call, every `batch_size` events and once
    at the end.

    The trail is compared with every anchor (AUDIT_ANCHOR_DIR) and, when given,
    with `logged` (`audit_log_read`): every logged event must be there with the
    logged hash. Read the log first: every line in it was written after its event
    committed, so before this check's snapshot, and none is taken for a cut.
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
        return _verify(batch_size, progress, logged or {})


def _verify(
    batch_size: int, progress: Callable[[int], object] | None, logged: dict[int, str]
) -> ChainReport:
    anchors = anchors_read()
    forged = next((anchor for anchor in anchors if not anchor.signed_here), None)
    if forged is not None:
        return ChainReport(0, None, f"the anchor {forged.path} is not signed with our key")
    compared = {"anchors": len(anchors), "logged": len(logged)}
    unmet = sorted(logged, reverse=True)  # the logged ids not yet met, the next one last
    # An anchor of the empty trail (a fresh deployment's first) names no event to find.
    pending = sorted((anchor for anchor in anchors if anchor.count), key=lambda a: a.last_id)
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
        problem = problem or _against_anchors(pending, pk, stored_hash, checked + 1)
        problem = problem or _against_log(logged, unmet, pk, stored_hash)
        if problem:
            if progress and unreported:
                progress(unreported)
            return ChainReport(checked, AuditEvent.objects.get(pk=pk), problem, **compared)
        prev_hash = stored_hash
        checked += 1
        unreported += 1
        if progress and unreported >= batch_size:
            progress(unreported)
            unreported = 0
    if progress and unreported:
        progress(unreported)
    head = AuditChainHead.objects.filter(pk=1).first()
    last = AuditEvent.objects.order_by("-id").first()
    if pending:
        anchor = pending[0]
        return ChainReport(
            checked,
            last,
            f"events after it are missing: the anchor of {anchor.at} counted {anchor.count} "
            f"events, the trail holds {checked}",
            **compared,
        )
    if unmet:
        # Every logged id up to the last event's was met: these are past the end.
        return ChainReport(
            checked,
            last,
            f"the trail was truncated: the log records {len(unmet)} events after its last "
            f"(id {last.pk if last else 0}), up to event {unmet[0]}",
            **compared,
        )
    if checked and head is None:
        # The first append creates the head; events without one had it deleted.
        return ChainReport(checked, last, "the chain head is gone", **compared)
    if head and head.last_hash != prev_hash:
        return ChainReport(checked, last, "events after it are missing", **compared)
    return ChainReport(checked, None, **compared)


def _against_log(logged: dict[int, str], unmet: list[int], pk: int, stored_hash: str) -> str:
    """Check the event `pk` against the log: was a logged event before it lost, or is it
    not what was logged? Pops the logged ids it passes from `unmet`."""
    if not unmet or unmet[-1] > pk:
        return ""
    seq = unmet.pop()
    if seq < pk:
        return f"the logged event {seq} before it is missing"
    if logged[seq] != stored_hash:
        return "it differs from the hash logged when it was committed: rewritten since"
    return ""


def _against_anchors(pending: list[Anchor], pk: int, stored_hash: str, position: int) -> str:
    """Check the event at `position` (id `pk`) against the anchors it reaches; pop them."""
    while pending and pending[0].last_id <= pk:
        anchor = pending.pop(0)
        if anchor.last_id < pk:
            return f"the event anchored on {anchor.at} (id {anchor.last_id}) is missing"
        if anchor.last_hash != stored_hash or anchor.count != position:
            return f"it differs from the anchor of {anchor.at}: rewritten at or before it"
    return ""


# Anchors: the chain's head, signed and kept outside the database.


@dataclass(frozen=True)
class Anchor:
    count: int
    last_id: int
    last_hash: str
    at: str
    signature: str
    path: str = ""

    @property
    def fields(self) -> dict:
        return {
            "count": self.count,
            "last_id": self.last_id,
            "last_hash": self.last_hash,
            "at": self.at,
        }

    @property
    def signed_here(self) -> bool:
        return hmac.compare_digest(self.signature, _sign(self.fields))


def audit_anchor() -> Anchor:
    """Write the chain's head (event count, last event, its hash), signed, outside the database.

    A file per anchor under AUDIT_ANCHOR_DIR, and a log line, so an operator
    keeps it wherever logs go. `audit_verify_chain` compares the trail with
    every anchor: events cut off the end, or a trail recomputed from an edit,
    no longer match.
    """
    with transaction.atomic():
        head = lock_chain_head()  # no append while we read the count and the last event
        count = AuditEvent.objects.count()
        last = AuditEvent.objects.order_by("-id").values_list("id", "hash").first()
        last_id, last_hash = last or (0, "")
        if last_hash != head.last_hash:
            raise RuntimeError("the chain head does not match the last event: verify the chain")
    at = timezone.now().isoformat()
    fields = {"count": count, "last_id": last_id, "last_hash": last_hash, "at": at}
    anchor = Anchor(**fields, signature=_sign(fields))
    folder = settings.AUDIT_ANCHOR_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"anchor-{timezone.now():%Y%m%dT%H%M%S%f}-{count}.json"
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({**fields, "signature": anchor.signature}))
    os.replace(temporary, path)
    anchor_log.info("audit anchor %s", json.dumps({**fields, "signature": anchor.signature}))
    return Anchor(**fields, signature=anchor.signature, path=str(path))


def anchors_read() -> list[Anchor]:
    folder = settings.AUDIT_ANCHOR_DIR
    if not folder.is_dir():
        return []
    anchors = []
    for path in sorted(folder.glob("anchor-*.json")):
        data = json.loads(path.read_text())
        anchors.append(Anchor(**data, path=str(path)))
    return anchors


def audit_log_read(lines: Iterable[str]) -> dict[int, str]:
    """The events logged as they committed (`LOGGED_EVENT`), by id, from a log's lines.

    Lines may carry any prefix (time, level, logger) and come from several
    processes in any order; other lines are skipped. One event logged with two
    different hashes is refused (ValueError): the log, or the trail's ids, were
    tampered with or reused (a database restored over a newer one).
    """
    logged: dict[int, str] = {}
    for line in lines:
        match = _LOGGED_EVENT.search(line)
        if match is None:
            continue
        seq, hash_ = int(match[1]), match[2]
        if logged.setdefault(seq, hash_) != hash_:
            raise ValueError(f"event {seq} is logged with two different hashes")
    return logged
