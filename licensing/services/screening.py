"""Screening services: at submission, resolving a match, loading a list, re-screening.

Matching itself (normalising names, finding candidates, scoring) is
`licensing.screening`; these services record what it finds, under the same
locks and in the same transactions as the changes they belong to.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import User
from licensing import rulebook
from licensing.audit import audit_record
from licensing.exceptions import InvalidInput, TransitionConflict
from licensing.models import (
    Application,
    ApplicationStatus,
    Country,
    LicenseStatus,
    MatchStatus,
    NotificationEvent,
    OtherParty,
    Recommendation,
    ScreeningEntry,
    ScreeningList,
    ScreeningMatch,
    ScreeningName,
)
from licensing.notifications import Message, notify_all
from licensing.screening import Found, Party, index_rows, parties_of, screen, screen_many
from licensing.services.common import lock, run_transition

S = ApplicationStatus
SAMPLE_LIST = Path(__file__).resolve().parent.parent / "data" / "sample_screening_list.csv"
SAMPLE_LIST_NAME = "Sample consolidated list"
# Where a list change reaches: cases still being decided, and those behind a live licence.
RESCREENED_STATES = (S.UNDER_REVIEW, S.INFORMATION_REQUESTED, S.DISPUTED)


def application_parties(application: Application) -> list[Party]:
    """Every party of the application; the other parties read only when it has some."""
    others = application.other_parties.all() if application.other_party_count else ()
    return parties_of(application, others)


def blocking_match(found: Sequence[Found]) -> Found | None:
    """The first exact match with an entry of a blocking list: it refuses submission."""
    return next((f for f in found if f.blocks), None)


def _match(application: Application, found: Found) -> ScreeningMatch:
    return ScreeningMatch(
        application=application,
        party_kind=found.party.kind,
        party_name=found.party.name[:300],
        party_country_id=found.party.country_id,
        list_id=found.list_id,
        list_name=found.list_name[:100],
        entry_id=found.entry_id,
        entry_name=found.entry_name[:300],
        matched_name=found.matched_name[:300],
        match=found.match,
        score=found.score,
        entry_digest=found.entry_digest,
    )


def _key(match: ScreeningMatch) -> tuple:
    return (
        match.application_id,
        match.party_kind,
        match.party_name,
        match.list_name,
        match.entry_name,
    )


def _distinct(matches: Iterable[ScreeningMatch]) -> list[ScreeningMatch]:
    """One match per party and listed name: two entries of one name (a list may hold a
    namesake per country), or two parties of one kind and name, are one resemblance.
    An exact match, then the higher score, is kept."""
    best: dict[tuple, ScreeningMatch] = {}
    for match in matches:
        kept = best.get(_key(match))
        if kept is None or (match.match, -match.score) < (kept.match, -kept.score):
            best[_key(match)] = match
    return list(best.values())


def screening_record_at_submission(
    application: Application, found: Sequence[Found]
) -> list[ScreeningMatch]:
    """Record what screening found, and count it on the application (saved by the caller,
    with its transition)."""
    matches = ScreeningMatch.objects.bulk_create(_distinct(_match(application, f) for f in found))
    application.screening_match_count = len(matches)
    application.open_screening_match_count = len(matches)
    return matches


def approval_hold(application: Application) -> tuple[str, str] | None:
    """Why a recommendation to approve is refused now: `(code, message)`, or None.

    While a match is open, approval waits for it; after a confirmed match only a
    denial is accepted. Read from the counters first: no query for a case without
    matches.
    """
    if not application.screening_match_count:
        return None
    held = list(
        ScreeningMatch.objects.filter(
            application=application, status__in=(MatchStatus.OPEN, MatchStatus.CONFIRMED)
        ).order_by("id")
    )
    confirmed = next((m for m in held if m.status == MatchStatus.CONFIRMED), None)
    if confirmed is not None:
        return (
            "screening_match_confirmed",
            f"The screening match of the {confirmed.description} is confirmed: "
            "only a denial is accepted.",
        )
    if held:
        return (
            "screening_match_open",
            f"The screening match of the {held[0].description} is open: resolve it "
            "before approving.",
        )
    return None


def check_approval_hold(
    application: Application, recommendation: str, *, field: str = "recommendation"
) -> None:
    """409 for a recommendation (or the committee's decision) to approve while a match
    holds the application; `field` names the input the message belongs to."""
    if recommendation == Recommendation.DENY:
        return
    hold = approval_hold(application)
    if hold is not None:
        code, message = hold
        raise TransitionConflict(
            message, current_state=application.status, code=code, errors={field: [message]}
        )


def screening_match_resolve(
    *, screeningmatch: ScreeningMatch, user: User, disposition: str, reason: str
) -> ScreeningMatch:
    """Clear (not the listed party) or confirm (it is) an open match; audited."""
    with transaction.atomic():
        application = lock(Application, screeningmatch.application_id)
        match = lock(ScreeningMatch, screeningmatch.pk)
        match.application = application
        rulebook.require("resolve", match, user)
        if disposition not in (MatchStatus.CLEARED, MatchStatus.CONFIRMED):
            raise InvalidInput({"disposition": ["Choose 'cleared' or 'confirmed'."]})
        if not reason or not reason.strip():
            raise InvalidInput({"reason": ["Give the reason for the disposition."]})
        method = match.clear if disposition == MatchStatus.CLEARED else match.confirm
        # What is cleared is the entry as it stands now (a list change since the match
        # was found may have changed it): re-screening reopens the match if it changes.
        entry = ScreeningEntry.objects.filter(pk=match.entry_id).first() if match.entry_id else None
        if entry is not None:
            match.entry_digest = entry.digest
        from_state = run_transition(
            match, "resolve", lambda: method(user=user, reason=reason.strip())
        )
        Application.objects.filter(pk=application.pk).update(
            open_screening_match_count=F("open_screening_match_count") - 1
        )
        audit_record(
            application=application,
            actor=user,
            action="screening_match_resolved",
            from_state=from_state,
            to_state=match.status,
            reason=match.reason,
            data={
                "match": match.pk,
                "party": match.party_name,
                "party_kind": match.party_kind,
                "list": match.list_name,
                "entry": match.entry_name,
                "disposition": disposition,
            },
        )
    return match


# Lists: loading and editing


@dataclass
class EntryRow:
    """One entry read from a list file (line numbers count the header as line 1)."""

    line: int
    name: str
    aliases: list[str]
    country_id: str | None
    remarks: str


COLUMNS = ("name", "aliases", "country", "remarks")


def screening_rows_read(text: Iterable[str], countries: set[str]) -> list[EntryRow]:
    """Parse a CSV (`name,aliases,country,remarks`; aliases separated by `;`).

    Raises `InvalidInput` naming every bad row by its line number; nothing is read
    partially.
    """
    reader = csv.DictReader(text)
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InvalidInput({"file": [f"Line 1: the header lacks {', '.join(missing)}."]})
    rows: list[EntryRow] = []
    errors: list[str] = []
    try:
        for record in reader:
            line = reader.line_num
            if None in record or any(v is None for v in record.values()):
                errors.append(f"Line {line}: expected {len(reader.fieldnames)} columns.")
                continue
            name = record["name"].strip()
            country = record["country"].strip().upper() or None
            if not name:
                errors.append(f"Line {line}: the name is empty.")
            elif len(name) > 300:
                errors.append(f"Line {line}: the name is longer than 300 characters.")
            if country is not None and country not in countries:
                errors.append(f"Line {line}: unknown country code '{record['country'].strip()}'.")
            aliases = [a.strip()[:300] for a in record["aliases"].split(";") if a.strip()]
            rows.append(EntryRow(line, name, aliases, country, record["remarks"].strip()))
    except csv.Error as error:
        errors.append(f"Line {reader.line_num}: {error}.")
    if errors:
        raise InvalidInput({"file": errors})
    return rows


def screening_list_import(
    *,
    name: str,
    rows: Sequence[EntryRow],
    blocking: bool = False,
    source: str = "",
    progress: Callable[[int], object] | None = None,
    chunk: int = 2000,
) -> ScreeningList:
    """Replace a list's entries with `rows`, all or nothing; create the list if new
    (`blocking` applies to a new list only). Re-screening follows the commit."""
    with transaction.atomic():
        screening_list, created = ScreeningList.objects.get_or_create(
            name=name, defaults={"blocking": blocking, "source": source}
        )
        if not created:
            ScreeningList.objects.filter(pk=screening_list.pk).update(
                updated_at=timezone.now(),
                revision=uuid.uuid4(),
                **({"source": source} if source else {}),
            )
            _delete_entries(screening_list)
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            entries = ScreeningEntry.objects.bulk_create(
                [
                    ScreeningEntry(
                        list=screening_list,
                        name=row.name,
                        aliases=row.aliases,
                        country_id=row.country_id,
                        remarks=row.remarks,
                    )
                    for row in part
                ]
            )
            _index(entries)
            if progress is not None:
                progress(len(part))
        screening_list_changed(screening_list)
    return screening_list


def _delete_entries(screening_list: ScreeningList) -> None:
    """The old entries and their names; matches keep what they matched, by name."""
    entries = ScreeningEntry.objects.filter(list=screening_list)
    ScreeningName.objects.filter(entry__in=entries).delete()
    ScreeningMatch.objects.filter(entry__in=entries).update(entry=None)
    entries.delete()


def _index(entries: Sequence[ScreeningEntry]) -> None:
    """Keep the entries' names, normalised (`ScreeningName`)."""
    names = [name for entry in entries for name in index_rows(entry.pk, entry.all_names)]
    ScreeningName.objects.bulk_create(names, batch_size=5000)


def screening_entry_indexed(entry: ScreeningEntry) -> None:
    """After an entry is saved (the admin): its names again, then re-screening."""
    with transaction.atomic():
        ScreeningName.objects.filter(entry=entry).delete()
        _index([entry])
        screening_lists_touched([entry.list_id])
        screening_list_changed(entry.list)


def screening_lists_touched(list_ids: Iterable[int]) -> None:
    """The lists' entries changed (an entry saved or deleted): a new `revision`, so that
    every process reads their names again before screening against them."""
    ScreeningList.objects.filter(pk__in=list(list_ids)).update(
        updated_at=timezone.now(), revision=uuid.uuid4()
    )


def screening_list_changed(screening_list: ScreeningList) -> None:
    """Open cases and live licences are screened against the list again, after commit."""
    from licensing.tasks import rescreen_list

    list_id = screening_list.pk
    transaction.on_commit(lambda: _enqueue(rescreen_list, list_id))


def _enqueue(task, list_id: int) -> None:
    import logging

    try:
        task.apply_async((list_id,), retry=False)
    except Exception:  # noqa: BLE001 - the broker is down: say so, an operator re-runs it
        logging.getLogger(__name__).warning(
            "broker unavailable; re-screen list %s with `manage.py rescreen --list NAME`", list_id
        )


# Re-screening


def screening_rescreen_list(*, list_id: int, batch_size: int | None = None) -> int:
    """Screen every open case and every case behind a live licence against one list.

    Batches of `SCREENING_BATCH_SIZE` applications by id, each its own short
    transaction (no lock held across batches); a match already recorded is not
    recorded again, so running it twice, or concurrently, finds nothing new the
    second time. Returns how many matches were new.
    """
    batch_size = batch_size or settings.SCREENING_BATCH_SIZE
    if not ScreeningList.objects.filter(pk=list_id).exists():
        return 0
    scope = Application.objects.filter(
        Q(status__in=RESCREENED_STATES) | Q(license__status=LicenseStatus.ACTIVE)
    )
    after = 0
    new = 0
    while True:
        ids = list(
            scope.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return new
        new += _rescreen_batch(ids, list_id)
        after = ids[-1]


def _rescreen_batch(ids: list[int], list_id: int) -> int:
    with transaction.atomic():
        applications = {
            a.pk: a
            for a in Application.objects.filter(pk__in=ids)
            .select_related("license")
            .only(
                "pk",
                "reference",
                "status",
                "end_user_name",
                "end_user_country_id",
                "consignee_name",
                "consignee_country_id",
                "other_party_count",
                "license__status",
                "license__number",
            )
        }
        others: dict[int, list[OtherParty]] = {}
        with_others = [pk for pk, a in applications.items() if a.other_party_count]
        for party in OtherParty.objects.filter(application_id__in=with_others):
            others.setdefault(party.application_id, []).append(party)
        parties = {pk: parties_of(a, others.get(pk, ())) for pk, a in applications.items()}
        found = {pk: hits for pk, hits in screen_many(parties, list_ids=[list_id]).items() if hits}
        if not found:
            return 0
        # Only the cases with something found are locked, briefly: a concurrent
        # re-screen (or a resolution) of the same case waits, then sees these rows.
        list(
            Application.objects.select_for_update().filter(pk__in=found).order_by("pk").values("pk")
        )
        known = {
            _key(m): m
            for m in ScreeningMatch.objects.filter(application_id__in=found.keys()).only(
                *_KEY_FIELDS, "status", "entry_id", "entry_digest"
            )
        }
        matches = _distinct(_match(applications[pk], f) for pk, hits in found.items() for f in hits)
        fresh = [m for m in matches if _key(m) not in known]
        created = ScreeningMatch.objects.bulk_create(fresh) if fresh else []
        reopened = _found_again([(known[_key(m)], m) for m in matches if _key(m) in known])
        if not created and not reopened:
            return 0
        _after_rescreen(applications, created, reopened)
    return len(created) + len(reopened)


_KEY_FIELDS = ("application_id", "party_kind", "party_name", "list_name", "entry_name")


def _found_again(pairs: list[tuple[ScreeningMatch, ScreeningMatch]]) -> list[ScreeningMatch]:
    """Matches recorded before and found again: a cleared one whose entry changed since
    its clearance (name, aliases or country: `entry_digest`) is open again; otherwise
    it stays as it was, following its entry (re-imported under a new id). The reopened."""
    reopened = []
    for kept, now in pairs:
        if kept.status == MatchStatus.CLEARED and kept.entry_digest not in ("", now.entry_digest):
            match = lock(ScreeningMatch, kept.pk)  # its application is locked already
            if match.status != MatchStatus.CLEARED:
                continue
            run_transition(
                match,
                "reopen",
                lambda match=match, now=now: match.reopen(
                    found_kind=now.match,
                    score=now.score,
                    matched_name=now.matched_name,
                    digest=now.entry_digest,
                ),
            )
            if match.entry_id != now.entry_id:
                ScreeningMatch.objects.filter(pk=match.pk).update(entry_id=now.entry_id)
            reopened.append(match)
        else:
            # It follows its entry (a re-import gives it a new row); an open match takes
            # the entry as it is now, so that clearing it clears that; a clearance from
            # before digests were kept takes today's.
            digest = kept.entry_digest
            if kept.status == MatchStatus.OPEN or not digest:
                digest = now.entry_digest
            if (kept.entry_id, kept.entry_digest) != (now.entry_id, digest):
                ScreeningMatch.objects.filter(pk=kept.pk).update(
                    entry_id=now.entry_id, entry_digest=digest
                )
    return reopened


def _after_rescreen(
    applications: dict[int, Application],
    created: list[ScreeningMatch],
    reopened: list[ScreeningMatch],
) -> None:
    """Count, audit, and tell the supervisors of each live licence's ministries (of a new
    match, or of a cleared one open again because its entry changed)."""
    by_application: dict[int, tuple[list[ScreeningMatch], list[ScreeningMatch]]] = {}
    for match in created:
        by_application.setdefault(match.application_id, ([], []))[0].append(match)
    for match in reopened:
        by_application.setdefault(match.application_id, ([], []))[1].append(match)
    messages = []
    supervisors = _reviewing_supervisors([pk for pk in by_application if _live(applications[pk])])
    for pk, (new, again) in by_application.items():
        application = applications[pk]
        Application.objects.filter(pk=pk).update(
            screening_match_count=F("screening_match_count") + len(new),
            open_screening_match_count=F("open_screening_match_count") + len(new) + len(again),
        )
        # One action for both (staff-only, like every screening event: `selectors`).
        for matches, reason in (
            (new, "A screening list changed."),
            (again, "A screening list changed an entry a match was cleared against: open again."),
        ):
            if matches:
                audit_record(
                    application=application,
                    actor=None,
                    action="screening_match_found",
                    from_state=application.status,
                    to_state=application.status,
                    reason=reason,
                    data={
                        "matches": [
                            {
                                "match": m.pk,
                                "party": m.party_name,
                                "list": m.list_name,
                                "entry": m.entry_name,
                                **({"reopened": True} if matches is again else {}),
                            }
                            for m in matches
                        ]
                    },
                )
        for match in [*new, *again] if pk in supervisors else ():
            license = application.license
            messages.append(
                Message(
                    event=NotificationEvent.SCREENING_MATCH,
                    recipients=supervisors[pk],
                    # Once per match, and once more per version of the entry it opens on.
                    key=f"screening:{match.pk}"
                    + (f":{match.entry_digest[:16]}" if match in again else ""),
                    subject=f"License {license.number}: the "
                    f"{match.get_party_kind_display().lower()} resembles an entry of "
                    f"'{match.list_name}'",
                    application=application,
                    context={
                        "license": license.number,
                        "party": match.party_name,
                        "party_kind": match.get_party_kind_display(),
                        "list": match.list_name,
                        "entry": match.entry_name,
                        "match": match.match,
                        "score": match.score,
                    },
                )
            )
    notify_all(messages)


def _live(application: Application) -> bool:
    from licensing.models import License

    try:
        return application.license.status == LicenseStatus.ACTIVE
    except License.DoesNotExist:
        return False


def _reviewing_supervisors(application_ids: list[int]) -> dict[int, list[User]]:
    """Each application's supervisors of the ministries that reviewed it, in two queries."""
    if not application_ids:
        return {}
    from accounts.models import Role
    from licensing.models import Review, ReviewStatus

    ministries: dict[int, set[str]] = {}
    for application_id, ministry in (
        Review.objects.filter(application_id__in=application_ids)
        .exclude(status=ReviewStatus.CANCELLED)
        .values_list("application_id", "ministry")
    ):
        ministries.setdefault(application_id, set()).add(ministry)
    wanted = set().union(*ministries.values()) if ministries else set()
    people = list(User.objects.filter(is_active=True, role=Role.SUPERVISOR, ministry__in=wanted))
    return {pk: [p for p in people if p.ministry in found] for pk, found in ministries.items()}


def screening_sample_list_load() -> ScreeningList | None:
    """The made-up sample list the project ships, for the demo (once: None if loaded)."""
    if ScreeningList.objects.filter(name=SAMPLE_LIST_NAME).exists():
        return None
    countries = set(Country.objects.values_list("code", flat=True))
    rows = screening_rows_read(screening_csv_text(SAMPLE_LIST.read_bytes()), countries)
    return screening_list_import(
        name=SAMPLE_LIST_NAME, rows=rows, source="Made up for the demo and the tests."
    )


def screening_csv_text(data: bytes) -> io.StringIO:
    """A list file's bytes as text (UTF-8, with or without a byte-order mark)."""
    return io.StringIO(data.decode("utf-8-sig"), newline="")


__all__ = [
    "application_parties",
    "approval_hold",
    "blocking_match",
    "check_approval_hold",
    "screen",
    "screening_entry_indexed",
    "screening_list_import",
    "screening_lists_touched",
    "screening_match_resolve",
    "screening_record_at_submission",
    "screening_rescreen_list",
    "screening_rows_read",
]
