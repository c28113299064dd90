"""Matching parties against screening lists: names normalised, candidates from an index.

A name is compared after transliteration to ASCII (anyascii), case folding,
removing company suffixes (cleanco: Ltd, Co., GmbH, LLC, Corporation, ...) and
punctuation. Identical normalised names (the entry's own or an alias) are an
`exact` match; a token-order-insensitive similarity (rapidfuzz's
`token_sort_ratio`, digits in words read as the letters they stand for:
"Zagr0s") at or above `SCREENING_THRESHOLD` a `partial` one, as is a listed
name appearing whole in the party's ("Kavir Dynamics Trading Kish Branch",
score 100); a partial match needs the party's country to agree with the
entry's, when the entry has one.

Candidates never come from reading every entry: a listed name is scored only
when it normalises to a party's, or shares with it at least as many character
trigrams (`ScreeningToken`, indexed) as any name reaching the threshold must;
that number follows from the score's definition (see "Candidates" below), so
no name that would reach the threshold is left out, and the party's rarest
trigrams are looked up (`ScreeningTokenFrequency`), so the candidates stay few
on a list of hundreds of thousands of entries.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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
from licensing.models.screening import ScreeningTokenFrequency, entry_digest

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
    entry_digest: str = ""
    """The entry's name, aliases and country as found (`entry_digest`)."""

    @property
    def blocks(self) -> bool:
        return self.blocking and self.match == MatchKind.EXACT


@dataclass
class _Candidate:
    party: Party
    normalised: str

    @functools.cached_property
    def runs(self) -> frozenset[str]:
        return frozenset(within(self.normalised))


def screen(
    parties: Sequence[Party], *, list_ids: Iterable[int] | None = None, threshold: int | None = None
) -> list[Found]:
    """Every party's matches (the best per party and entry).

    `list_ids` limits screening to some lists (re-screening after a list changes).
    """
    return screen_many({0: parties}, list_ids=list_ids, threshold=threshold).get(0, [])


def screen_many(
    parties_by_key: dict, *, list_ids: Iterable[int] | None = None, threshold: float | None = None
) -> dict:
    """`screen` for many applications' parties at once (keyed as given): two queries for
    up to `CHUNK` distinct names, whatever the number of parties."""
    threshold = settings.SCREENING_THRESHOLD if threshold is None else threshold
    threshold = math.ceil(threshold)  # the score is compared rounded: 89.5 is 90
    by_key = {
        key: [c for c in (_candidate(party) for party in parties) if c.normalised]
        for key, parties in parties_by_key.items()
    }
    names = sorted({c.normalised for found in by_key.values() for c in found})
    if not names:
        return {}
    near = candidates(names, threshold, list_ids)
    results: dict = {}
    for key, party_candidates in by_key.items():
        for candidate in party_candidates:
            found = _best(candidate, near.get(candidate.normalised, ()), threshold)
            if found:
                results.setdefault(key, []).extend(found)
    return results


def _candidate(party: Party) -> _Candidate:
    return _Candidate(party, normalise(party.name))


# Candidates: the names sharing enough character trigrams with a party's name.
#
# Why "enough" loses no match. The score is rapidfuzz's `token_sort_ratio` of the two
# normalised names a and b: their words sorted, then `ratio`, the Indel similarity
# 200 L / (|a| + |b|) where L is the length of their longest common subsequence; a
# partial match needs `round(score) >= T`, so at least 200 L / (|a| + |b|) >= T - 1/2:
#
#     L >= (2T - 1)(|a| + |b|) / 400.                                            (1)
#
# Pad each sorted name with two characters on each side: a has |a| + 2 trigrams. Going
# from a to b through a longest common subsequence deletes |a| - L characters of a,
# each inside at most 3 of a's trigrams, then inserts |b| - L characters, each
# splitting at most 2 of the trigrams left; every other trigram of a is a trigram of b.
# So a and b share, counting each trigram as often as it occurs, at least
#
#     (|a| + 2) - 3 (|a| - L) - 2 (|b| - L)  =  2 - 2 (|a| + |b|) + 5 L           (2)
#
# trigrams, with L bounded by (1). Since L <= min(|a|, |b|), (1) also bounds |b|. A name
# sharing fewer trigrams than (2) with the party's cannot reach the threshold; one that
# shares at least that many with it shares at least one of any |a| + 3 - min(2) of the
# party's trigrams (the rarest are looked up), and of those looked up at least (2)
# less the ones not looked up. `tests/licensing/test_screening_recall.py` checks (2)
# against rapidfuzz itself.

GRAM = 3
_PAD = "$" * (GRAM - 1)  # never in a normalised name
LONGEST = 300  # a stored name's longest normalised form (`ScreeningName.normalised`)
CHUNK = 100
"""Distinct party names looked up in one query (re-screening passes thousands)."""


# Digits standing for the letters they look like, in a word that has letters too
# ("zagr0s prec1sion"); a number ("plant 17") stays a number.
_LOOKALIKES = str.maketrans("0134578", "oieastb")
_LETTER = re.compile(r"[a-z]")
SHORTEST_WITHIN = 8
"""A listed name this long or longer is matched when it appears whole inside a party's
name ("... Kish Branch"); a shorter one ("noor") says too little on its own."""


def folded(normalised: str) -> str:
    """Digits read as the letters they stand for, in words that mix both."""
    return " ".join(
        word.translate(_LOOKALIKES) if _LETTER.search(word) else word for word in normalised.split()
    )


def sorted_words(normalised: str) -> str:
    """The name as the score compares it: digits folded, its words in order."""
    return " ".join(sorted(folded(normalised).split()))


def within(normalised: str) -> list[str]:
    """The runs of whole words inside a name (not the name itself) that a listed name
    can be, to be matched as appearing whole in it."""
    words = normalised.split()
    runs = (
        " ".join(words[start:end])
        for start in range(len(words))
        for end in range(start + 1, len(words) + 1)
        if end - start < len(words)
    )
    return sorted({run for run in runs if len(run) >= SHORTEST_WITHIN})


def trigrams(normalised: str) -> list[str]:
    """The padded, word-sorted name's trigrams; a repeated one numbered (`ing`, `ing2`)."""
    text = f"{_PAD}{sorted_words(normalised)}{_PAD}"
    seen: dict[str, int] = {}
    found = []
    for start in range(len(text) - GRAM + 1):
        gram = text[start : start + GRAM]
        seen[gram] = count = seen.get(gram, 0) + 1
        found.append(gram if count == 1 else f"{gram}{count}")
    return found


def least_in_common(total: int, threshold: int) -> int:
    """(1): the fewest characters in common (L) for names of `total` characters together."""
    return max(0, -(-(2 * threshold - 1) * total // 400))


def trigrams_needed(length: int, other: int, threshold: int) -> int:
    """(2): the fewest trigrams shared by names of these lengths reaching the threshold."""
    return 2 - 2 * (length + other) + 5 * least_in_common(length + other, threshold)


def lengths_in_reach(length: int, threshold: int) -> range:
    """The lengths of the names a name of `length` can reach the threshold with (they
    form one run: see `test_the_lengths_in_reach_are_one_run`)."""
    reach = [
        other
        for other in range(1, LONGEST + 1)
        if least_in_common(length + other, threshold) <= min(length, other)
    ]
    return range(reach[0], reach[-1] + 1) if reach else range(0)


@dataclass(frozen=True)
class Probe:
    """What to look up for one party name: `tokens` (None: every name of a length in
    reach) and how many of them a name of each length must share (`needed`)."""

    length: int
    lengths: range
    tokens: list[str] | None
    unprobed: int
    """The name's trigrams not looked up: a candidate may share these too."""

    def needed(self, other: int, threshold: int) -> int:
        return trigrams_needed(self.length, other, threshold) - self.unprobed


def probe(normalised: str, threshold: int, frequency: dict[str, int]) -> Probe:
    """The party name's rarest trigrams (by `frequency`; unknown counts as rare) that
    every name reaching the threshold shares at least one of."""
    grams = trigrams(normalised)
    length = len(normalised)
    lengths = lengths_in_reach(length, threshold)
    if not lengths:
        return Probe(length, lengths, [], 0)
    fewest = min(trigrams_needed(length, other, threshold) for other in lengths)
    if fewest < 1:  # a threshold so low that sharing no trigram is no proof: read them all
        return Probe(length, lengths, None, 0)
    kept = len(grams) - fewest + 1
    rarest = sorted(grams, key=lambda gram: (frequency.get(gram, 0), gram))[:kept]
    return Probe(length, lengths, rarest, len(grams) - kept)


_ROW = (
    "entry_id",
    "name",
    "normalised",
    "entry__name",
    "entry__country_id",
    "entry__list_id",
    "entry__list__name",
    "entry__list__blocking",
    "entry__aliases",
)


def candidates(
    names: Sequence[str], threshold: int, list_ids: Iterable[int] | None
) -> dict[str, list[tuple]]:
    """Each (normalised) party name's candidates: the listed names identical to it or
    sharing enough trigrams with it (the columns of `_ROW`), in two queries. Every name
    whose score with it reaches `threshold` is among them, whatever its country.

    The trigram rows are counted per name in the index (`screening_trigram_idx`:
    token, length, name), one GROUP BY per party name, then only the names that pass
    are joined to their entries. The SQL is the ORM's own SELECT, compiled once
    (`_rows_sql`), with a placeholder per value.
    """
    lists = None if list_ids is None else list(list_ids)
    if lists == []:
        return {}
    found: dict[str, list[tuple]] = {}
    for start in range(0, len(names), CHUNK):
        found.update(_chunk_rows(list(names[start : start + CHUNK]), threshold, lists))
    return found


def _chunk_rows(names: list[str], threshold: int, lists: list[int] | None) -> dict:
    every = {gram for name in names for gram in trigrams(name)}
    frequency = dict(
        ScreeningTokenFrequency.objects.filter(token__in=sorted(every)).values_list(
            "token", "names"
        )
    )
    sql = _rows_sql()
    parts: list[str] = []
    params: list = []
    # Only the models' table names and placeholders are formatted in; values are parameters.
    for number, name in enumerate(names):
        whole = [name, *within(name)]  # the name itself, or a listed name inside it
        parts.append(f"SELECT %s AS party, U0.id AS name_id FROM {sql['names']} U0 WHERE U0.normalised IN ({_marks(whole)})")  # noqa: E501, S608 # fmt: skip
        params += [number, *whole]
        found = probe(name, threshold, frequency)
        if not found.lengths:
            continue
        if found.tokens is None:
            parts.append(
                f"SELECT %s AS party, U0.id AS name_id FROM {sql['names']} U0 "  # noqa: S608
                "WHERE LENGTH(U0.normalised) BETWEEN %s AND %s"
            )
            params += [number, found.lengths[0], found.lengths[-1]]
            continue
        # needed(l) = 2 - 2 (length + l) + 5 ceil(c (length + l) / 400) - unprobed, c = 2T - 1
        c = 2 * threshold - 1
        parts.append(
            f"SELECT %s AS party, U1.name_id AS name_id FROM {sql['tokens']} U1 "  # noqa: S608
            f"WHERE U1.token IN ({_marks(found.tokens)}) AND U1.length BETWEEN %s AND %s "
            "GROUP BY U1.name_id, U1.length "
            "HAVING COUNT(*) >= %s - 2 * U1.length + 5 * ((%s * U1.length + %s) / 400)"
        )
        params += [
            number,
            *found.tokens,
            found.lengths[0],
            found.lengths[-1],
            2 - 2 * found.length - found.unprobed,
            c,
            c * found.length + 399,
        ]
    where = ""
    if lists is not None:
        where = f" WHERE {sql['list_column']} IN ({_marks(lists)})"
        params += lists
    query = (
        f"SELECT near.party, {sql['columns']} {sql['from']} INNER JOIN "
        f"({' UNION ALL '.join(parts)}) near ON near.name_id = {sql['name_column']}{where}"
    )
    found_rows: dict[str, list[tuple]] = {}
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        for party, *row in cursor.fetchall():
            found_rows.setdefault(names[party], []).append(tuple(row))
    return found_rows


def _marks(values) -> str:
    return ", ".join(["%s"] * len(values))


@functools.cache
def _rows_sql() -> dict[str, str]:
    """The SELECT of `_ROW` with its joins, split at FROM, and the tables it reads."""
    quote = connection.ops.quote_name
    query = ScreeningName.objects.order_by().values_list(*_ROW).query
    select, params = query.sql_with_params()
    assert not params
    assert select.startswith("SELECT ")
    columns, _, joins = select.removeprefix("SELECT ").partition(" FROM ")
    names = quote(ScreeningName._meta.db_table)
    return {
        "columns": columns,
        "from": f"FROM {joins}",
        "names": names,
        "tokens": quote(ScreeningToken._meta.db_table),
        "name_column": f"{names}.{quote('id')}",
        "list_column": f"{quote(ScreeningEntry._meta.db_table)}.{quote('list_id')}",
    }


def _best(candidate: _Candidate, rows: Iterable[tuple], threshold: int) -> list[Found]:
    """The candidate's best match with each entry near it (exact first, then score)."""
    best: dict[int, Found] = {}
    for row in rows:
        entry_id, name, normalised, entry_name, country, list_id, list_name, blocking, aliases = row
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
            entry_digest=entry_digest(entry_name, _json_list(aliases), country),
        )
    return list(best.values())


def _json_list(value) -> list[str]:
    """A JSON column read by raw SQL: parsed by psycopg, text from SQLite."""
    return json.loads(value or "[]") if isinstance(value, str) else list(value or ())


def _compare(
    candidate: _Candidate, normalised: str, country: str | None, threshold: int
) -> tuple[str, int] | None:
    if normalised == candidate.normalised:
        return MatchKind.EXACT, 100
    if country is not None and country != candidate.party.country_id:
        return None  # a partial match must agree on the entry's country
    if len(normalised) >= SHORTEST_WITHIN and normalised in candidate.runs:
        return MatchKind.PARTIAL, 100  # the listed name appears whole in the party's
    score = similarity(candidate.normalised, normalised)
    return (MatchKind.PARTIAL, score) if score >= threshold else None


def score_of(party: str, listed: str) -> int:
    """How much a party's normalised name resembles a listed one, 0-100: 100 when the
    listed name appears whole in it (`within`), else their `similarity`."""
    if len(listed) >= SHORTEST_WITHIN and listed in within(party):
        return 100
    return similarity(party, listed)


def similarity(normalised: str, other: str) -> int:
    """rapidfuzz's `token_sort_ratio` of two normalised names, digits folded, rounded:
    word order aside. The trigram bound ("Candidates") is derived from it."""
    return round(fuzz.token_sort_ratio(folded(normalised), folded(other)))


def index_rows(
    entry_id: int, names: Sequence[str]
) -> tuple[list[ScreeningName], dict[int, list[str]]]:
    """The normalised names of one entry (the first its own) and, by position, their
    trigrams (`ScreeningToken` rows once the names have ids)."""
    name_rows: list[ScreeningName] = []
    grams: dict[int, list[str]] = {}
    seen: set[str] = set()
    for position, name in enumerate(names):
        normalised = normalise(name)[:LONGEST]
        if not normalised or normalised in seen:
            continue
        seen.add(normalised)
        grams[len(name_rows)] = trigrams(normalised)
        name_rows.append(
            ScreeningName(
                entry_id=entry_id, name=name[:300], normalised=normalised, alias=position > 0
            )
        )
    return name_rows, grams
