# ruff: noqa: RUF001, T201 - Cyrillic letters are the point; a script tells what it wrote
"""Write `screening_corpus.json`: listed names, variants of them, and unrelated names.

    .venv/bin/python tests/data/make_screening_corpus.py

Deterministic (a fixed seed, no library whose output could change): run it again and
the file is the same. The listed names are made up, like the shipped sample list
(`licensing/data/sample_screening_list.csv`, whose entries come first); the variants
are the ways a party's name differs from a listed one in practice: misspellings,
transliterations, words in another order, words added or dropped, digits for letters,
another company suffix, and some of these at once. Screening must find every variant
whose score against its source reaches the threshold (`tests/licensing/
test_screening_recall.py`); `make bench` reports recall and false positives.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parent.parent / "licensing" / "data" / "sample_screening_list.csv"
OUT = HERE / "screening_corpus.json"

# Made-up listed entities and people, with the country a partial match must agree on.
LISTED = [
    ("Arak Heavy Forgings Complex", "IR"),
    ("Shahrud Precision Bearings", "IR"),
    ("Mashhad Aerospace Composites", "IR"),
    ("Bandar Abbas Marine Navigation", "IR"),
    ("Tabriz Electro Optics", "IR"),
    ("Sepahan Special Metallurgy Group", "IR"),
    ("Damascus Scientific Instruments Bureau", "SY"),
    ("Aleppo Fine Chemicals", "SY"),
    ("Latakia Harbour Logistics", "SY"),
    ("Volzhsky Radio Engineering Plant", "RU"),
    ("Uralsk Special Alloys", "RU"),
    ("Kazanskaya Avionika", "RU"),
    ("Novosibirsk Semiconductor Works", "RU"),
    ("Sevastopol Hydroacoustic Instruments", "RU"),
    ("Tulskiy Precision Mechanics", "RU"),
    ("Minsk Opto Mechanical Association", "BY"),
    ("Gomel Tractor Electronics", "BY"),
    ("Sinuiju Kwangsong Trading", "KP"),
    ("Chongjin Ryongsong Machinery", "KP"),
    ("Shenzhen Longhua Microwave Components", "CN"),
    ("Dalian Haitong Marine Equipment", "CN"),
    ("Xian Tianhe Aviation Parts", "CN"),
    ("Chengdu Jinjiang Photonics", "CN"),
    ("Brilliant Star Logistics", "HK"),
    ("Victory Ocean Shipping Limited", "HK"),
    ("Silverline Tech Supplies", "HK"),
    ("Horizon Falcon General Trading", "AE"),
    ("Al Rashidiya Electronic Trading", "AE"),
    ("Sharjah Saker Aviation Services", "AE"),
    ("Jebel Ali Technical Supplies", "AE"),
    ("Anatolia Defence Engineering", "TR"),
    ("Ege Kimya Sanayi", "TR"),
    ("Karachi Precision Fasteners", "PK"),
    ("Lahore Advanced Materials", "PK"),
    ("Rawalpindi Technical Traders", "PK"),
    ("Orinoco Petroleum Equipment", "VE"),
    ("Yangon Golden Star Heavy Industries", "MM"),
    ("Cedar Coast Electronics", "LB"),
    ("Erbil Rafidain Contracting", "IQ"),
    ("Al Nahrain Scientific Bureau", "IQ"),
    ("Khartoum Blue Nile Engineering", "SD"),
    ("Sahara Oilfield Services Tripoli", "LY"),
    ("Steppe Avionics Almaty", "KZ"),
    ("Chirchik Electrochemical Plant", "UZ"),
    ("Farhad Karimi Tehrani", "IR"),
    ("Dmitri Sergeyevich Volkonov", "RU"),
    ("Hamid Reza Shirazinejad", "IR"),
    ("Yousef Al Haddadin", "SY"),
    ("Ri Chol Myong", "KP"),
    ("Zhang Weiguo", None),
    ("Olena Kravchenko Trading", None),
    ("Nasser Bin Khalfan Logistics", "AE"),
]

SUFFIXES = ["Ltd", "LLC", "Co., Ltd.", "GmbH", "JSC", "FZE", "FZCO", "SARL", "Limited",
            "Corporation", "Inc.", "S.A.", "PJSC", "Pvt Ltd", "OOO", "Company"]  # fmt: skip
ADDED = ["Kish Branch", "Dubai Branch", "FZE", "International", "Holding", "Group",
         "Head Office", "Export Division", "Trading", "Overseas", "Representative Office",
         "Free Zone"]  # fmt: skip
# Spellings of the same sound in other transliterations.
SOUNDS = [("ou", "u"), ("u", "ou"), ("k", "q"), ("q", "k"), ("ph", "f"), ("f", "ph"),
          ("i", "ee"), ("ee", "i"), ("y", "i"), ("kh", "h"), ("sh", "ch"), ("ch", "tch"),
          ("j", "dj"), ("v", "w"), ("w", "v"), ("c", "k"), ("x", "ks"), ("al ", "el "),
          ("z", "s"), ("ei", "ey"), ("ai", "ay"), ("o", "ou"), ("a", "aa")]  # fmt: skip
DIGITS = {"o": "0", "i": "1", "e": "3", "a": "4", "s": "5", "l": "1", "b": "8"}
CYRILLIC = {"shch": "щ", "sh": "ш", "ch": "ч", "zh": "ж", "kh": "х", "ts": "ц", "ya": "я",
            "yu": "ю", "a": "а", "b": "б", "v": "в", "g": "г", "d": "д", "e": "е", "z": "з",
            "i": "и", "y": "й", "k": "к", "l": "л", "m": "м", "n": "н", "o": "о", "p": "п",
            "r": "р", "s": "с", "t": "т", "u": "у", "f": "ф", "h": "х", "c": "к"}  # fmt: skip

# Unrelated names: ordinary businesses and people, nobody's on a list.
BRANDS = ["Northbridge", "Bluewater", "Helios", "Alder", "Meridian", "Cascade", "Granite",
          "Silver Birch", "Oakridge", "Lumen", "Riverside", "Summit", "Pioneer", "Harbor View",
          "Evergreen", "Sterling", "Westfield", "Crescent", "Redwood", "Beacon", "Marigold",
          "Juniper", "Kingfisher", "Larkspur", "Nordic", "Pacific Rim", "Sunridge", "Thistle",
          "Valley Fresh", "Windmill", "Aurora", "Bayside", "Cobalt", "Driftwood", "Edelweiss",
          "Fjord", "Golden Gate", "Hawthorn", "Ironwood", "Jasmine"]  # fmt: skip
TRADES = ["Dental Supplies", "Organic Foods", "Textile Mills", "Furniture", "Printing",
          "Software", "Agricultural Machinery", "Medical Devices", "Packaging",
          "Coffee Importers", "Solar Energy", "Bicycle Works", "Paper Products", "Bakery",
          "Ceramics", "Veterinary Clinic", "Garden Centre", "Toys", "Cosmetics", "Footwear",
          "Wine Merchants", "Dairy", "Insurance Brokers", "Architects", "Hotel Group"]  # fmt: skip
FIRST = ["Anna", "Luca", "Sofia", "Mateo", "Amara", "Kenji", "Priya", "Tomasz", "Ingrid",
         "Diego", "Fatima", "Oskar", "Mei", "Rahul", "Chiara", "Kwame", "Elif", "Sven",
         "Lucia", "Arjun", "Nadia", "Pieter", "Yara", "Hiroshi", "Camille"]  # fmt: skip
LAST = ["Johansson", "Moreau", "Kowalski", "Tanaka", "Okafor", "Fernandes", "Lindqvist",
        "Novak", "Bianchi", "Mensah", "Gupta", "Schneider", "Alvarez", "Nakamura", "Dubois",
        "Hansen", "Costa", "Yilmaz", "Andersen", "Papadopoulos"]  # fmt: skip
COUNTRIES = ["IR", "RU", "CN", "AE", "HK", "TR", "DE", "FR", "IN", "SY", "PK", "BY", None]


def words_of(name: str) -> list[str]:
    return name.split()


def misspell(name: str, rng: random.Random) -> str:
    words = words_of(name)
    i = rng.choice([i for i, w in enumerate(words) if len(w) >= 4] or [0])
    word = words[i]
    j = rng.randrange(1, len(word))
    how = rng.choice(["double", "drop", "swap", "vowel", "double_end"])
    if how == "double":
        word = word[:j] + word[j] + word[j:]
    elif how == "drop" and len(word) > 4:
        word = word[:j] + word[j + 1 :]
    elif how == "swap" and j < len(word) - 1:
        word = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
    elif how == "vowel":
        vowels = [k for k, c in enumerate(word) if c in "aeiou" and k > 0]
        if vowels:
            k = rng.choice(vowels)
            word = word[:k] + rng.choice([v for v in "aeiou" if v != word[k]]) + word[k + 1 :]
    else:
        word = word + word[-1]
    words[i] = word
    return " ".join(words)


def transliterate(name: str, rng: random.Random) -> str:
    lower = name.lower()
    options = [(a, b) for a, b in SOUNDS if a in lower]
    if not options:
        return misspell(name, rng)
    a, b = rng.choice(options)
    at = rng.choice([i for i in range(len(lower)) if lower.startswith(a, i)])
    replaced = name[:at] + (b.capitalize() if name[at].isupper() else b) + name[at + len(a) :]
    return replaced


def cyrillic(name: str) -> str:
    out, lower, i = [], name.lower(), 0
    while i < len(lower):
        for size in (4, 2, 1):
            chunk = lower[i : i + size]
            if chunk in CYRILLIC:
                out.append(CYRILLIC[chunk])
                i += size
                break
        else:
            out.append(lower[i])
            i += 1
    return "".join(out).title()


def reorder(name: str, rng: random.Random) -> str:
    words = words_of(name)
    if len(words) < 2:
        return misspell(name, rng)
    shuffled = words[:]
    while shuffled == words:
        rng.shuffle(shuffled)
    return " ".join(shuffled)


def add_words(name: str, rng: random.Random) -> str:
    added = rng.choice(ADDED)
    return f"{added} {name}" if rng.random() < 0.3 else f"{name} {added}"


def drop_word(name: str, rng: random.Random) -> str:
    words = words_of(name)
    if len(words) < 3:
        return add_words(name, rng)
    del words[rng.randrange(len(words))]
    return " ".join(words)


def digits(name: str, rng: random.Random) -> str:
    chars = list(name)
    spots = [i for i, c in enumerate(chars) if c.lower() in DIGITS]
    for i in rng.sample(spots, min(len(spots), rng.choice([1, 1, 2]))):
        chars[i] = DIGITS[chars[i].lower()]
    return "".join(chars)


def suffix(name: str, rng: random.Random) -> str:
    words = [w for w in words_of(name) if w.rstrip(".,") not in {"Ltd", "LLC", "Co", "OOO"}]
    return f"{' '.join(words)}{rng.choice(['', ','])} {rng.choice(SUFFIXES)}"


KINDS = {
    "misspelling": misspell,
    "transliteration": transliterate,
    "word_order": reorder,
    "added_words": add_words,
    "dropped_word": drop_word,
    "digits": digits,
    "suffix": suffix,
}


def listed() -> list[dict]:
    with SAMPLE.open(encoding="utf-8", newline="") as file:
        sample = [
            {
                "name": row["name"],
                "aliases": [a.strip() for a in row["aliases"].split(";") if a.strip()],
                "country": row["country"] or None,
            }
            for row in csv.DictReader(file)
        ]
    return sample + [{"name": n, "aliases": [], "country": c} for n, c in LISTED]


# The names of issue 20, each with the listed name it should have matched.
EXAMPLES = [
    ("Kavirr Dynamicss Trading", "Kavir Dynamics Trading LLC", "AE"),
    ("Goldenn Cranee Electronicss", "Golden Crane Electronics Co Ltd", "HK"),
    ("Zagross Precisionn Industries", "Zagros Precision Industries", "IR"),
    ("Baltaeroo", "Baltic Aero Components OOO", "RU"),
    ("Zagr0s Prec1sion", "Zagros Precision Industries", "IR"),
    ("Kavir Dynamics Trading Kish Branch", "Kavir Dynamics Trading LLC", "AE"),
]


def main() -> None:
    rng = random.Random(20)
    entries = listed()
    variants = [
        {"name": name, "country": country, "source": source, "kind": "example"}
        for name, source, country in EXAMPLES
    ]
    kinds = list(KINDS)
    for number, entry in enumerate(entries):
        names = [entry["name"], *entry["aliases"]]
        made = set()
        for k in range(5):
            kind = kinds[(number + k) % len(kinds)]
            variant = KINDS[kind](rng.choice(names), rng)
            if k == 4:  # and one with two changes at once
                second = rng.choice([misspell, digits, reorder, suffix, transliterate])
                variant, kind = second(variant, rng), f"{kind}+{second.__name__}"
            if variant in made or variant in names:
                continue
            made.add(variant)
            variants.append(
                {"name": variant, "country": entry["country"], "source": entry["name"],
                 "kind": kind}
            )  # fmt: skip
        if entry["country"] in {"RU", "BY"}:
            variants.append(
                {"name": cyrillic(entry["name"]), "country": entry["country"],
                 "source": entry["name"], "kind": "script"}
            )  # fmt: skip
    unrelated: list[dict] = []
    seen: set[str] = set()
    while len(unrelated) < 200:
        if rng.random() < 0.7:
            name = f"{rng.choice(BRANDS)} {rng.choice(TRADES)}"
            if rng.random() < 0.6:
                name += f" {rng.choice(SUFFIXES)}"
        else:
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        if name not in seen:
            seen.add(name)
            unrelated.append({"name": name, "country": rng.choice(COUNTRIES)})
    OUT.write_text(
        json.dumps(
            {"listed": entries, "variants": variants, "unrelated": unrelated},
            indent=1,
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"{len(entries)} listed, {len(variants)} variants, {len(unrelated)} unrelated: {OUT}")


if __name__ == "__main__":
    main()
