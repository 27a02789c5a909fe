"""Build ``deid/detect/data/never_phi_clinical.txt``: clinical words the NER model must not report alone.

A word enters the list when, in the PhysioNet *train* notes, it occurs at least ``--min-count``
times outside every gold PHI span and never inside one, and it is not a first or last name in any
of Faker's English locales (so that a name which is also a clinical word, "Brady", "Foley",
"Anderson", stays the model's call), nor a US state, its postal code ("DC" is also "d/c") or a
country. The dev notes are not read.

Usage:
    python scripts/build_clinical_lexicon.py [--train $DEID_DATA_DIR/physionet_deid/physionet_train.jsonl]
        [--min-count 3] [--out deid/detect/data/never_phi_clinical.txt]
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
from collections import Counter
from pathlib import Path

WORD = re.compile(r"[A-Za-z]+")
LOCALES = ("en", "en_GB", "en_IE", "en_IN", "en_KE", "en_NG", "en_NZ", "en_PK", "en_US")


def faker_names() -> set[str]:
    """Lower-case first and last names of Faker's English person providers."""
    names: set[str] = set()
    for locale in LOCALES:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        for attribute in ("first_names", "first_names_male", "first_names_female", "last_names"):
            for name in getattr(provider, attribute, ()) or ():
                names.update(part.lower() for part in WORD.findall(name))
    return names


def place_names() -> set[str]:
    """Lower-case words of US states and territories, their postal codes, countries and company
    suffixes ("Inc"): parts of places and organisations, whatever the notes say."""
    address = importlib.import_module("faker.providers.address.en_US").Provider
    company = importlib.import_module("faker.providers.company.en_US").Provider
    words: set[str] = set()
    for attribute in dir(address):
        codes = getattr(address, attribute)
        if attribute.endswith("_abbr") and isinstance(codes, tuple | list):  # states, territories, USPS
            words.update(code.lower() for code in codes)
    for name in (*address.states, *address.countries, *company.company_suffixes):
        words.update(part.lower() for part in WORD.findall(name))
    return words


def count_words(path: Path) -> tuple[Counter[str], Counter[str]]:
    """(occurrences outside gold spans, occurrences touching a gold span) of each lower-case word."""
    outside: Counter[str] = Counter()
    inside: Counter[str] = Counter()
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            doc = json.loads(line)
            text = doc["text"]
            covered = [False] * len(text)
            for span in doc.get("spans", []):
                for i in range(span["start"], span["end"]):
                    covered[i] = True
            for match in WORD.finditer(text):
                word = match.group().lower()
                (inside if any(covered[match.start() : match.end()]) else outside)[word] += 1
    return outside, inside


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    from deid.ner.config import resolve_data_dir

    default_train = resolve_data_dir(base=Path(__file__)) / "physionet_deid" / "physionet_train.jsonl"
    parser.add_argument(
        "--train", default=str(default_train), help="default: $DEID_DATA_DIR or ../shared/data"
    )
    parser.add_argument("--min-count", type=int, default=3)
    parser.add_argument("--out", default="deid/detect/data/never_phi_clinical.txt")
    args = parser.parse_args()
    outside, inside = count_words(Path(args.train))
    names = faker_names() | place_names()
    words = sorted(
        w
        for w, n in outside.items()
        if n >= args.min_count and inside[w] == 0 and len(w) >= 2 and w not in names
    )
    header = [
        f"# Words that occur >= {args.min_count} times outside gold PHI in the PhysioNet train notes, never "
        "inside, and are",
        "# not a first or last name of Faker's English locales, a US state or code, a country or a company suffix.",
        "# Built by scripts/build_clinical_lexicon.py;",
        "# a model span whose words are all listed here is dropped (deid/detect/model_filters.py).",
    ]
    Path(args.out).write_text("\n".join(header + words) + "\n", encoding="utf-8")
    print(f"wrote {len(words)} words to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
