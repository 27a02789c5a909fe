"""Filters on the NER model's spans: drop predictions that cannot be personal data.

The token classifier sometimes takes clinical shorthand for a name or a place, and clinical
ratios for dates. Three checks, each cheap and each only ever *removing* a model span (pattern
recognizers are not filtered):

- **eponyms**: a PERSON span directly followed by a device or condition noun ("Quinton
  catheter", "Anderson tubes", "Cushing syndrome") names a thing. Only nouns that are not also
  verbs after a name ("John signs", "Floyd bags") and not "cath", which follows hospital names
  ("GH cath lab").
- **numeric non-dates**: a DATE_TIME span that is only ``a/b`` where no reading (month/day,
  day/month, month/two-digit year) is a calendar date ("14/32", "177/17"), or a pain score ``n/10`` after a pain
  word ("pain 9/10", "CP 5/10").
- **clinical words**: a PERSON, LOCATION or ORGANIZATION span whose every word is in a lexicon of words that
  are never PHI in the PhysioNet train notes and are not English first or last names
  (``data/never_phi_clinical.txt``, built by ``scripts/build_clinical_lexicon.py``):
  "CATH", "rhonchi", "rehab". Not when the span has a digit, when every word is an upper-case
  word of at most three letters (initials such as "CC", "MG" look like clinical abbreviations), or
  when a word is Title-case ("Neo" is a name in a tweet, "neo" a drug in a note).

A title just before the span ("Dr. Murphy") keeps a name whatever follows it.

Measured on the PhysioNet dev notes (which the lexicon never saw), see the README's NER section.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

LEXICON_PATH = Path(__file__).resolve().parent / "data" / "never_phi_clinical.txt"
NAME_TYPES = frozenset({"PERSON", "LOCATION", "ORGANIZATION"})

# Nouns that follow an eponym and are not also third-person verbs after a name ("John signs",
# "Mary tests positive", "Floyd bags groceries" must keep the name).
_EPONYM_NOUNS = (
    "catheters?|catheterization|stents?|valves?|cannulas?|cannulae|airways?|syndromes?|disease|"
    "disorders?|procedures?|maneuvers?|manoeuvres?|reflex(?:es)?|criteria|classification|tubes"
)
_EPONYM_AFTER = re.compile(rf"[ -](?:{_EPONYM_NOUNS})\b", re.IGNORECASE)
# A title before the span makes it a person whatever follows ("Dr. Murphy procedure").
_TITLE_BEFORE = re.compile(r"\b(?:dr|mr|mrs|ms|miss|mx|prof|sr|rev|nurse|rn|md)\.?\s*$", re.IGNORECASE)
_RATIO = re.compile(r"(\d{1,3})/(\d{1,3})")
_PAIN_BEFORE = re.compile(r"(?:pain|discomfort|ache|angina|cp|score|#)\W{0,3}(?:\w+\W{1,3})?$", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z]+")


@lru_cache(maxsize=4)
def load_lexicon(path: Path = LEXICON_PATH) -> frozenset[str]:
    """The lower-case words of a lexicon file (``#`` lines are comments)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def _is_calendar_ratio(first: str, second: str) -> bool:
    """``first/second`` read as month/day, day/month or month/two-digit year ("8/88")."""
    a, b = int(first), int(second)
    return (
        (1 <= a <= 12 and 1 <= b <= 31)
        or (1 <= a <= 31 and 1 <= b <= 12)
        or (1 <= a <= 12 and len(second) == 2)
    )


class ModelSpanFilter:
    """Decides whether a model span is kept (see the module docstring).

    Args:
        lexicon: lower-case words never reported alone as a name, place or organisation; None: the shipped one.
    """

    def __init__(self, lexicon: Iterable[str] | None = None) -> None:
        self.lexicon = load_lexicon() if lexicon is None else frozenset(w.lower() for w in lexicon)

    def keep(self, text: str, start: int, end: int, label: str) -> bool:
        """False when the span ``text[start:end]`` labelled ``label`` is one of the non-PII cases."""
        value = text[start:end]
        if label in NAME_TYPES:
            if _TITLE_BEFORE.search(text, max(0, start - 8), start):
                return True
            if label == "PERSON" and _EPONYM_AFTER.match(text, end):
                return False
            words = _WORD.findall(value)
            if (
                words
                and not any(ch.isdigit() for ch in value)  # "97YO", "bc76" are something else
                and not all(w.isupper() and len(w) <= 3 for w in words)  # initials look like "CC", "MG"
                and not any(w[0].isupper() and w[1:].islower() for w in words)  # "Neo": names are Title-case
                and all(w.lower() in self.lexicon for w in words)
            ):
                return False
        elif label == "DATE_TIME":
            ratio = _RATIO.fullmatch(value.strip())
            if ratio:
                if not _is_calendar_ratio(ratio.group(1), ratio.group(2)):
                    return False
                if (
                    ratio.group(2) == "10"
                    and int(ratio.group(1)) <= 10
                    and _PAIN_BEFORE.search(text, max(0, start - 40), start)
                ):
                    return False
        return True
