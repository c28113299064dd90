"""Screening loses no match (`licensing/screening.py`, "Candidates").

Every listed name of a length in reach is scored by rapidfuzz's `ratio` over the
word-sorted names; that this is the score screening is defined by (`similarity`, the
`token_sort_ratio`) and that the lengths skipped cannot reach the threshold are checked
against rapidfuzz itself, then the whole path (names in memory, scoring, the rules)
against the corpus of variants of listed names (`tests/data/screening_corpus.json`,
written by `make_screening_corpus.py`).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from rapidfuzz import fuzz

from licensing.models import ScreeningEntry
from licensing.screening import (
    Party,
    candidates,
    folded,
    lengths_in_reach,
    normalise,
    score_of,
    screen,
    screen_many,
    similarity,
    sorted_words,
)
from licensing.services.screening import EntryRow, screening_list_import
from tests import factories

CORPUS = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "screening_corpus.json").read_text("utf-8")
)


def _random_pairs(seed: int, count: int):
    """Random names over a small alphabet (so that pairs come close), some with digits."""
    rng = random.Random(seed)
    for _ in range(count):
        yield tuple(
            " ".join(
                "".join(rng.choice("abcdeno0") for _ in range(rng.randint(1, 7)))
                for _ in range(rng.randint(1, 3))
            )
            for _ in range(2)
        )


def _corpus_pairs():
    """Every corpus name (variant or unrelated) against every listed name of the corpus."""
    listed = sorted(
        {normalise(n) for e in CORPUS["listed"] for n in [e["name"], *e["aliases"]]} - {""}
    )
    parties = sorted(
        {normalise(v["name"]) for v in CORPUS["variants"] + CORPUS["unrelated"]} - {""}
    )
    return [(a, b) for a in parties for b in listed]


class TestTheScore:
    def test_ratio_of_the_sorted_words_is_the_token_sort_ratio_screening_is_defined_by(self):
        """What the C batch scores (`ratio` of the names word-sorted once, when a list is
        read) is, to the last bit, what `similarity` and `score_of` score."""
        pairs = _corpus_pairs()
        assert len(pairs) > 30_000
        for a, b in [*pairs, *_random_pairs(1, 10_000)]:
            batch = fuzz.ratio(sorted_words(a), sorted_words(b))
            assert batch == fuzz.token_sort_ratio(folded(a), folded(b)), (a, b)
            assert round(batch) == similarity(a, b), (a, b)

    def test_sorting_and_folding_keep_a_names_length(self):
        for a, b in [*_corpus_pairs()[:2000], *_random_pairs(2, 2000)]:
            assert len(sorted_words(a)) == len(a)
            assert len(sorted_words(b)) == len(b)

    @pytest.mark.parametrize("threshold", [30, 60, 75, 90, 95, 100])
    def test_a_pair_reaching_the_threshold_has_lengths_in_reach(self, threshold):
        reaching = 0
        variants = [(normalise(v["name"]), normalise(v["source"])) for v in CORPUS["variants"]]
        for a, b in [*_random_pairs(threshold, 10_000), *variants, *_corpus_pairs()[::7]]:
            if not a or not b or similarity(a, b) < threshold:
                continue
            reaching += 1
            assert len(b) in lengths_in_reach(len(a), threshold), (a, b)
        assert reaching >= 50  # the check saw pairs that reach it

    @pytest.mark.parametrize("threshold", [1, 30, 89, 90, 100])
    def test_the_lengths_in_reach_are_one_run(self, threshold):
        """`ListedNames.near` scores one slice of the names sorted by length: the lengths
        whose best score (one name a subsequence of the other: 200 min / total) reaches
        T - 1/2, the least that rounds to T."""
        for length in range(1, 120):
            inside = [
                other
                for other in range(1, 301)
                if 400 * min(length, other) >= (2 * threshold - 1) * (length + other)
            ]
            assert list(lengths_in_reach(length, threshold)) == inside, (length, threshold)

    def test_words_are_sorted_as_the_score_sorts_them(self):
        assert sorted_words("kavir dynamics") == sorted_words("dynamics kavir")

    def test_digits_in_words_are_read_as_letters_and_numbers_stay_numbers(self):
        assert similarity("zagr0s prec1sion", "zagros precision") == 100
        assert sorted_words("plant 17 zagr0s") == sorted_words("17 plant zagros")
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
        """Every corpus name against every listed name, country aside: the candidates are
        the pairs reaching the threshold (`score_of`) or identical, and only those (a
        score a hair under it, kept for floating point, aside)."""
        _import_corpus_list()
        listed = {normalise(n) for e in ScreeningEntry.objects.all() for n in e.all_names}
        parties = sorted(
            {normalise(v["name"]) for v in CORPUS["variants"] + CORPUS["unrelated"]} - {""}
        )
        rows = candidates(parties, threshold, None)
        reached = 0
        for party in parties:
            near = {row[2] for row in rows.get(party, ())}
            reaching = {name for name in listed if score_of(party, name) >= threshold}
            reached += len(reaching)
            assert reaching <= near, (party, reaching - near)
            assert all(name == party or score_of(party, name) >= threshold - 1 for name in near), (
                party,
                near - reaching,
            )
        assert reached >= 250
