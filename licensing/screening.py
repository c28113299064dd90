"""Matching parties against screening lists: names normalised, every listed name scored.

A name is compared after transliteration to ASCII (anyascii), case folding,
removing company suffixes (cleanco: Ltd, Co., GmbH, LLC, Corporation, ...) and
punctuation. Identical normalised names (the entry's own or an alias) are an
`exact` match; a token-order-insensitive similarity (rapidfuzz's
`token_sort_ratio`, digits in words read as the letters they stand for:
"Zagr0s") at or above `SCREENING_THRESHOLD` a `partial` one, as is a listed
name appearing whole in the party's ("Kavir Dynamics Trading Kish Branch",
score 100); a partial match needs the party's country to agree with the
entry's, when the entry has one.

No listed name is left out before scoring: each party's name is scored against
every listed name of a length in reach by rapidfuzz's C batch API, over the
lists' names kept in memory, normalised and word-sorted, until a list changes
(see "Candidates" below). So every name reaching the threshold is found.
"""

from __future__ import annotations

import functools
import math
import re
import threading
import uuid
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from anyascii import anyascii
from cleanco import basename
from django.conf import settings
from rapidfuzz import fuzz, process

from licensing.models import MatchKind, ScreenedPartyKind, ScreeningList, ScreeningName
from licensing.models.screening import entry_digest

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
    """`screen` for many applications' parties at once (keyed as given): one query for the
    lists' revisions, and one per `CHUNK` listed names found, whatever the number of
    parties (and, the first time after a list changed, the reading of its names)."""
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


# Candidates: every listed name is scored, in C.
#
# Nothing is filtered out before scoring, so no name reaching the threshold can be missed;
# what keeps it fast is rapidfuzz's batch API scoring a party's name against a list's names
# in one call (`process.extract`, `score_cutoff`), over names normalised, digits folded and
# words sorted once, when the list is loaded (`sorted_words`): rapidfuzz's `ratio` of two
# word-sorted names is the `token_sort_ratio` of the names (`similarity`), which
# `tests/licensing/test_screening_recall.py` checks on the corpus.
#
# The only names skipped are those of a length that cannot reach the threshold: the score
# is the Indel similarity 200 L / (|a| + |b|), L the length of the names' longest common
# subsequence, so L <= min(|a|, |b|) and a rounded score of at least T needs
#
#     min(|a|, |b|) >= L >= (2T - 1)(|a| + |b|) / 400                             (1)
#
# (`lengths_in_reach`; folding digits and sorting words keep a name's length). The exact
# and "appears whole" rules are dictionary lookups of the party's name and its runs of
# words. Each hit is then judged by `_compare` as before (the score recomputed by
# `similarity`, the country rule), on its entry as read from the database.
#
# A list's names are read once per process and kept until the list changes: every change
# (an import, an entry saved or deleted in the admin) gives the list a new `revision`, read
# with one query per screening call.

LONGEST = 300  # a stored name's longest normalised form (`ScreeningName.normalised`)
CHUNK = 500
"""Listed names read per query when the hits are read."""


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
    """The name as the score compares it: digits folded, its words in order (as long as
    the normalised name)."""
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


def least_in_common(total: int, threshold: int) -> int:
    """(1): the fewest characters in common (L) for names of `total` characters together."""
    return max(0, -(-(2 * threshold - 1) * total // 400))


@functools.cache
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
class ListedNames:
    """One list's names as screening scores them, read from `ScreeningName`."""

    revision: uuid.UUID
    words: list[str]
    """Every name's `sorted_words`, shortest first."""
    ids: array
    """The `ScreeningName` id of each of `words`."""
    starts: list[int]
    """`starts[n]`: the position in `words` of the first name of length n or more."""
    by_name: dict[str, list[int]]
    """The ids of each normalised name: exact matches and names appearing whole."""

    @classmethod
    def read(cls, list_id: int, revision: uuid.UUID) -> ListedNames:
        by_length: list[list[tuple[str, int]]] = [[] for _ in range(LONGEST + 2)]
        by_name: dict[str, list[int]] = {}
        rows = (
            ScreeningName.objects.filter(entry__list_id=list_id)
            .order_by()
            .values_list("pk", "normalised")
            .iterator(chunk_size=10_000)
        )
        for pk, normalised in rows:
            by_name.setdefault(normalised, []).append(pk)
            by_length[min(len(normalised), LONGEST + 1)].append((sorted_words(normalised), pk))
        words: list[str] = []
        ids = array("q")
        starts = []
        for names in by_length:
            starts.append(len(words))
            words += (words_ for words_, _ in names)
            ids.extend(pk for _, pk in names)
        starts.append(len(words))
        return cls(revision, words, ids, starts, by_name)

    def near(self, normalised: str, threshold: int) -> set[int]:
        """The ids of the names identical to `normalised`, appearing whole in it, or
        scoring (`ratio` of the sorted words, rounded) at least `threshold` with it."""
        found = set(self.by_name.get(normalised, ()))
        for run in within(normalised):
            found.update(self.by_name.get(run, ()))
        reach = lengths_in_reach(len(normalised), threshold)
        if not reach:
            return found
        first = self.starts[min(reach.start, LONGEST + 1)]
        last = self.starts[min(reach.stop, LONGEST + 1)]
        # A rounded score of T is a score of T - 1/2 or more; the margin covers the
        # floating point, `_compare` judges each hit with the exact score.
        hits = process.extract(
            sorted_words(normalised),
            self.words[first:last],
            scorer=fuzz.ratio,
            processor=None,
            score_cutoff=max(0.0, threshold - 0.51),
            limit=None,
        )
        found.update(self.ids[first + position] for _, _, position in hits)
        return found


_LOADED: dict[int, ListedNames] = {}
_LOADING = threading.Lock()


def listed_names(list_ids: Iterable[int] | None = None) -> list[ListedNames]:
    """The lists' names (every list's, or these lists'), read again for a list whose
    `revision` changed since this process read them. One query when none did."""
    wanted = None if list_ids is None else set(list_ids)
    revisions = dict(ScreeningList.objects.order_by().values_list("pk", "revision"))
    with _LOADING:
        for gone in _LOADED.keys() - revisions.keys():
            del _LOADED[gone]
        found = []
        for list_id, revision in sorted(revisions.items()):
            if wanted is not None and list_id not in wanted:
                continue
            kept = _LOADED.get(list_id)
            if kept is None or kept.revision != revision:
                kept = _LOADED[list_id] = ListedNames.read(list_id, revision)
            found.append(kept)
        return found


def forget_listed_names() -> None:
    """Drop the names read (the next screening reads them again): for measurements."""
    with _LOADING:
        _LOADED.clear()


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
    """Each (normalised) party name's candidates: the listed names identical to it,
    appearing whole in it, or scoring at least `threshold` with it, whatever their
    country (the columns of `_ROW`). Every listed name is scored (`ListedNames.near`);
    the hits are then read from the database, a query per `CHUNK` of them."""
    lists = None if list_ids is None else list(list_ids)
    if lists == []:
        return {}
    near: dict[str, set[int]] = {name: set() for name in names}
    for listed in listed_names(lists):
        for name in names:
            near[name] |= listed.near(name, threshold)
    wanted = sorted(set().union(*near.values()))
    rows: dict[int, tuple] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        for pk, *row in ScreeningName.objects.filter(pk__in=chunk).values_list("pk", *_ROW):
            rows[pk] = tuple(row)
    # A name deleted since its list was read is no longer there: not a candidate.
    return {
        name: [rows[pk] for pk in sorted(ids) if pk in rows] for name, ids in near.items() if ids
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
            entry_digest=entry_digest(entry_name, aliases, country),
        )
    return list(best.values())


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
    word order aside. `ListedNames.near` computes it as `ratio` of the `sorted_words`."""
    return round(fuzz.token_sort_ratio(folded(normalised), folded(other)))


def index_rows(entry_id: int, names: Sequence[str]) -> list[ScreeningName]:
    """The normalised names of one entry (the first its own), each once."""
    name_rows: list[ScreeningName] = []
    seen: set[str] = set()
    for position, name in enumerate(names):
        normalised = normalise(name)[:LONGEST]
        if not normalised or normalised in seen:
            continue
        seen.add(normalised)
        name_rows.append(
            ScreeningName(
                entry_id=entry_id, name=name[:300], normalised=normalised, alias=position > 0
            )
        )
    return name_rows
