"""Screening's candidates lose no match (`licensing/screening.py`, "Candidates").

The trigram bound is checked against rapidfuzz itself, then the whole path (index,
candidates, scoring) against the corpus of variants of listed names
(`tests/data/screening_corpus.json`, written by `make_screening_corpus.py`).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest
from rapidfuzz.distance import LCSseq

from licensing.models import ScreeningEntry
from licensing.screening import (
    Party,
    candidates,
    lengths_in_reach,
    normalise,
    score_of,
    screen,
    screen_many,
    similarity,
    sorted_words,
    trigrams,
    trigrams_needed,
)
from licensing.services.screening import EntryRow, screening_list_import
from tests import factories

CORPUS = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "screening_corpus.json").read_text("utf-8")
)


def _shared(a: str, b: str) -> int:
    """Trigrams the two names share, each as often as both hold it."""
    return sum((Counter(trigrams(a)) & Counter(trigrams(b))).values())


def _pairs(seed: int, count: int):
    """Random names over a small alphabet (so that pairs come close), with the corpus's."""
    rng = random.Random(seed)
    for _ in range(count):
        yield tuple(
            " ".join(
                "".join(rng.choice("abcdeno") for _ in range(rng.randint(1, 7)))
                for _ in range(rng.randint(1, 3))
            )
            for _ in range(2)
        )
    for variant in CORPUS["variants"]:
        yield normalise(variant["name"]), normalise(variant["source"])


class TestTheBound:
    def test_two_names_share_at_least_the_trigrams_their_common_subsequence_implies(self):
        for a, b in _pairs(1, 10_000):
            common = LCSseq.similarity(sorted_words(a), sorted_words(b))
            assert _shared(a, b) >= 2 - 2 * (len(a) + len(b)) + 5 * common, (a, b)

    @pytest.mark.parametrize("threshold", [30, 60, 75, 90, 95, 100])
    def test_a_pair_reaching_the_threshold_shares_the_trigrams_needed(self, threshold):
        reaching = 0
        for a, b in _pairs(threshold, 10_000):
            if not a or not b or similarity(a, b) < threshold:
                continue
            reaching += 1
            assert len(b) in lengths_in_reach(len(a), threshold), (a, b)
            assert _shared(a, b) >= trigrams_needed(len(a), len(b), threshold), (a, b)
        assert reaching >= 50  # the check saw pairs that reach it

    def test_a_repeated_trigram_is_counted_again(self):
        assert trigrams("anana") == ["$$a", "$an", "ana", "nan", "ana2", "na$", "a$$"]

    def test_words_are_sorted_first_as_the_score_sorts_them(self):
        assert trigrams("kavir dynamics") == trigrams("dynamics kavir")

    def test_digits_in_words_are_read_as_letters_and_numbers_stay_numbers(self):
        assert similarity("zagr0s prec1sion", "zagros precision") == 100
        assert trigrams("plant 17 zagr0s") == trigrams("17 plant zagros")
        assert similarity("plant 17", "plant it") < 90


def _import_corpus_list():
    rows = [
        EntryRow(line, entry["name"], entry["aliases"], entry["country"], "")
        for line, entry in enumerate(CORPUS["listed"], start=2)
    ]
    return screening_list_import(name="Corpus list", rows=rows)


@pytest.mark.django_db
class TestTheCorpus:
    def test_the_names_of_issue_20_are_matched(self):
        factories.screening_list()  # the shipped sample list
        for variant in (v for v in CORPUS["variants"] if v["kind"] == "example"):
            found = screen([Party("end_user", variant["name"], variant["country"])])
            assert variant["source"] in {f.entry_name for f in found}, variant

    def test_every_variant_reaching_the_threshold_against_its_source_is_matched(self, settings):
        _import_corpus_list()
        entries = {e.name: e for e in ScreeningEntry.objects.all()}
        variants = CORPUS["variants"]
        found = screen_many(
            {i: [Party("end_user", v["name"], v["country"])] for i, v in enumerate(variants)}
        )
        reaching = 0
        for i, variant in enumerate(variants):
            party = normalise(variant["name"])
            source = entries[variant["source"]]
            exact = any(normalise(n) == party for n in source.all_names)
            best = max(score_of(party, normalise(n)) for n in source.all_names)
            if not exact and best < settings.SCREENING_THRESHOLD:
                continue
            reaching += 1
            matched = {f.entry_name for f in found.get(i, ())}
            assert variant["source"] in matched, (variant, best)
        assert reaching >= 200, reaching

    @pytest.mark.parametrize("threshold", [40, 80, 90, 95])
    def test_every_listed_name_reaching_the_threshold_is_a_candidate(self, threshold):
        """Every corpus name against every listed name, country aside: the candidates hold
        each pair that reaches the threshold (at 40 sharing no trigram proves nothing, and
        every name of a length in reach is read)."""
        _import_corpus_list()
        listed = {normalise(n) for e in ScreeningEntry.objects.all() for n in e.all_names}
        parties = sorted(
            {normalise(v["name"]) for v in CORPUS["variants"] + CORPUS["unrelated"]} - {""}
        )
        rows = candidates(parties, threshold, None)
        for party in parties:
            near = {row[2] for row in rows.get(party, ())}
            reaching = {name for name in listed if score_of(party, name) >= threshold}
            assert reaching <= near, (party, reaching - near)
