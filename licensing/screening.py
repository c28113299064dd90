"""Matching parties against screening lists: names normalised, candidates from an index.

A name is compared after transliteration to ASCII (anyascii), case folding,
removing company suffixes (cleanco: Ltd, Co., GmbH, LLC, Corporation, ...) and
punctuation. Identical normalised names (the entry's own or an alias) are an
`exact` match; a token-order-insensitive similarity (rapidfuzz's
`token_sort_ratio`) at or above `SCREENING_THRESHOLD` a `partial` one, and a
partial match needs the party's country to agree with the entry's, when the
entry has one.

Candidates never come from reading every entry: an entry is scored only when
one of its names normalises to a party's, or shares a distinctive token with
it (`ScreeningToken`, indexed). Tokens so common in company names that they
say nothing ("trading", "industries", ...) are not indexed, so the candidate
set stays small on a list of hundreds of thousands of entries.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from anyascii import anyascii
from cleanco import basename
from django.conf import settings
from django.db import connection
from rapidfuzz import fuzz

from licensing.models import (
    MatchKind,
    ScreenedPartyKind,
    ScreeningEntry,
    ScreeningName,
    ScreeningToken,
)

# Words that name what a company is rather than which one: never a reason to compare.
COMMON_TOKENS = frozenset(
    """
    and the of for de la le el al du des der und
    trading trade traders company companies group holding holdings international intl
    industries industry industrial services service general enterprise enterprises
    commercial commerce import export imports exports global technology technologies tech
    engineering manufacturing products systems solutions supply supplies logistics
    shipping co corp inc ltd llc limited corporation partners association foundation
    bank institute research center centre factory works office agency organization
    organisation ministry national state
    """.split()  # noqa: SIM905 - a paragraph of words reads better than a column
)
MIN_TOKEN = 2
_PUNCTUATION = re.compile(r"[^\w\s]|_")


def normalise(name: str) -> str:
    """`Tehran Précision Co., Ltd.` -> `tehran precision`: comparable across spellings."""
    text = " ".join(anyascii(name or "").casefold().split())
    text = _strip_suffixes(text)
    text = " ".join(_PUNCTUATION.sub(" ", text).split())
    return _strip_suffixes(text)


def _strip_suffixes(text: str) -> str:
    """Company suffixes, one after another (`co., ltd.`), never the whole name."""
    while True:
        stripped = " ".join(basename(text).split())
        if not stripped or stripped == text:
            return text
        text = stripped


def tokens(normalised: str) -> set[str]:
    """The distinctive words of a normalised name: what candidates are found by."""
    return {
        word[:100]
        for word in normalised.split()
        if len(word) >= MIN_TOKEN and word not in COMMON_TOKENS
    }


@dataclass(frozen=True)
class Party:
    """One party of an application, as screening and routing see it."""

    kind: str
    name: str
    country_id: str | None
    index: int | None = None
    """An other party's position among the application's other parties."""

    @property
    def label(self) -> str:
        return f"{ScreenedPartyKind(self.kind).label.lower()} '{self.name}'"


def parties_of(application, other_parties: Iterable | None = None) -> list[Party]:
    """The end user, the consignee (when given) and every other party, in that order."""
    found = []
    if application.end_user_name:
        found.append(
            Party(
                ScreenedPartyKind.END_USER,
                application.end_user_name,
                application.end_user_country_id,
            )
        )
    if application.consignee_name:
        found.append(
            Party(
                ScreenedPartyKind.CONSIGNEE,
                application.consignee_name,
                application.consignee_country_id,
            )
        )
    for index, party in enumerate(other_parties or ()):
        found.append(Party(party.kind, party.name, party.country_id, index))
    return found


def party_field(party: Party, part: str) -> str:
    """The draft form's field of one part (`name`, `country`) of a party: `end_user_name`,
    or `parties-2-country` for the third other party (the form's parties formset)."""
    if party.index is None:
        return f"{party.kind}_{part}"
    return f"parties-{party.index}-{part}"


@dataclass
class Found:
    """A party resembling a list entry."""

    party: Party
    entry_id: int
    entry_name: str
    list_id: int
    list_name: str
    blocking: bool
    matched_name: str
    match: str
    score: int

    @property
    def blocks(self) -> bool:
        return self.blocking and self.match == MatchKind.EXACT


@dataclass
class _Candidate:
    party: Party
    normalised: str
    words: set[str] = field(default_factory=set)


def screen(
    parties: Sequence[Party], *, list_ids: Iterable[int] | None = None, threshold: int | None = None
) -> list[Found]:
    """Every party's matches (the best per party and entry), in one query.

    `list_ids` limits screening to some lists (re-screening after a list changes).
    """
    return screen_many({0: parties}, list_ids=list_ids, threshold=threshold).get(0, [])


def screen_many(
    parties_by_key: dict, *, list_ids: Iterable[int] | None = None, threshold: int | None = None
) -> dict:
    """`screen` for many applications' parties at once (keyed as given), in one query."""
    threshold = settings.SCREENING_THRESHOLD if threshold is None else threshold
    candidates = {
        key: [c for c in (_candidate(party) for party in parties) if c.normalised]
        for key, parties in parties_by_key.items()
    }
    names = {c.normalised for found in candidates.values() for c in found}
    words = {w for found in candidates.values() for c in found for w in c.words}
    if not names:
        return {}
    index = _Index(_rows(names, words, list_ids))
    results: dict = {}
    for key, party_candidates in candidates.items():
        for candidate in party_candidates:
            found = index.best(candidate, threshold)
            if found:
                results.setdefault(key, []).extend(found)
    return results


def _candidate(party: Party) -> _Candidate:
    normalised = normalise(party.name)
    return _Candidate(party, normalised, tokens(normalised))


_ROW = (
    "entry_id",
    "name",
    "normalised",
    "entry__name",
    "entry__country_id",
    "entry__list_id",
    "entry__list__name",
    "entry__list__blocking",
)


def _rows(names: set[str], words: set[str], list_ids: Iterable[int] | None) -> list[tuple]:
    """The names of every entry sharing a whole name or a distinctive token with a party
    (the columns of `_ROW`).

    The entries are found first (a UNION of two index scans), then their names by the
    entry index: an OR of the two would read every name. Every submission asks, so the
    SQL is the ORM's own, compiled once (`_rows_sql`), with a placeholder per value.
    """
    lists = None if list_ids is None else list(list_ids)
    if lists == []:
        return []
    sql = _rows_sql()
    params: list = []
    # Only the models' table and column names are formatted in; values are parameters.
    near = "SELECT U0.entry_id FROM %s U0 WHERE U0.normalised IN (%s)" % (  # noqa: S608, UP031
        sql["names"],
        _marks(names),
    )
    params += sorted(names)
    if words:
        near = "SELECT U1.entry_id FROM %s U1 WHERE U1.token IN (%s) UNION %s" % (  # noqa: S608, UP031
            sql["tokens"],
            _marks(words),
            near,
        )
        params = [*sorted(words), *params]
    where = f"{sql['entry_column']} IN ({near})"
    if lists is not None:
        where += f" AND {sql['list_column']} IN ({_marks(lists)})"
        params += lists
    with connection.cursor() as cursor:
        cursor.execute(f"{sql['select']} WHERE {where}", params)
        return [tuple(row) for row in cursor.fetchall()]


def _marks(values) -> str:
    return ", ".join(["%s"] * len(values))


@functools.cache
def _rows_sql() -> dict[str, str]:
    """The SELECT of `_ROW` with its joins, and the names it filters by, from the ORM."""
    quote = connection.ops.quote_name
    query = ScreeningName.objects.order_by().values_list(*_ROW).query
    select, params = query.sql_with_params()
    assert not params
    return {
        "select": select,
        "names": quote(ScreeningName._meta.db_table),
        "tokens": quote(ScreeningToken._meta.db_table),
        "entry_column": f"{quote(ScreeningName._meta.db_table)}.{quote('entry_id')}",
        "list_column": f"{quote(ScreeningEntry._meta.db_table)}.{quote('list_id')}",
    }


class _Index:
    """The candidate rows by entry, and the entries by token and by name: each party is
    compared only with entries it shares one with (re-screening puts many applications'
    parties in one query)."""

    def __init__(self, rows: list[tuple]) -> None:
        self.by_entry: dict[int, list[tuple]] = {}
        self.by_word: dict[str, set[int]] = {}
        self.by_name: dict[str, set[int]] = {}
        for row in rows:
            self.by_entry.setdefault(row[0], []).append(row)
            self.by_name.setdefault(row[2], set()).add(row[0])
            for word in tokens(row[2]):
                self.by_word.setdefault(word, set()).add(row[0])

    def best(self, candidate: _Candidate, threshold: int) -> list[Found]:
        """The candidate's best match with each entry near it (exact first, then score)."""
        near = set(self.by_name.get(candidate.normalised, ()))
        for word in candidate.words:
            near |= self.by_word.get(word, set())
        best: dict[int, Found] = {}
        for entry_id in near:
            for row in self.by_entry[entry_id]:
                _, name, normalised, entry_name, country, list_id, list_name, blocking = row
                verdict = _compare(candidate, normalised, country, threshold)
                if verdict is None:
                    continue
                kind, score = verdict
                kept = best.get(entry_id)
                if kept is not None and (kept.match, -kept.score) <= (kind, -score):
                    continue  # "exact" < "partial": an exact match, or a better score, stays
                best[entry_id] = Found(
                    party=candidate.party,
                    entry_id=entry_id,
                    entry_name=entry_name,
                    list_id=list_id,
                    list_name=list_name,
                    blocking=blocking,
                    matched_name=name,
                    match=kind,
                    score=score,
                )
        return list(best.values())


def _compare(
    candidate: _Candidate, normalised: str, country: str | None, threshold: int
) -> tuple[str, int] | None:
    if normalised == candidate.normalised:
        return MatchKind.EXACT, 100
    if country is not None and country != candidate.party.country_id:
        return None  # a partial match must agree on the entry's country
    score = round(fuzz.token_sort_ratio(candidate.normalised, normalised))
    return (MatchKind.PARTIAL, score) if score >= threshold else None


def index_rows(
    entry_id: int, names: Sequence[str]
) -> tuple[list[ScreeningName], list[ScreeningToken]]:
    """The normalised names and distinctive tokens of one entry (the first name its own)."""
    name_rows: list[ScreeningName] = []
    seen: set[str] = set()
    words: set[str] = set()
    for position, name in enumerate(names):
        normalised = normalise(name)[:300]
        if not normalised or normalised in seen:
            continue
        seen.add(normalised)
        words |= tokens(normalised)
        name_rows.append(
            ScreeningName(
                entry_id=entry_id, name=name[:300], normalised=normalised, alias=position > 0
            )
        )
    return name_rows, [ScreeningToken(entry_id=entry_id, token=word) for word in sorted(words)]
