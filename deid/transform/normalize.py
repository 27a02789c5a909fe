"""Normalisation of detected values before keyed hashing or pseudonymisation.

Two spellings of one value must map to one pseudonym or hash: ``John  Smith`` and ``JOHN SMITH``,
``(617) 555-0123`` and ``617.555.0123``. Structured types keep only their letters and digits;
free-text types are Unicode-normalised, case-folded and have their whitespace collapsed.
"""

from __future__ import annotations

import re
import unicodedata

_DIGITS_ONLY = frozenset({"PHONE_NUMBER", "US_SSN", "CREDIT_CARD", "US_BANK_NUMBER", "US_ITIN"})
_ALNUM_ONLY = frozenset({"IBAN_CODE", "ID", "US_PASSPORT", "US_DRIVER_LICENSE", "MEDICAL_LICENSE", "UK_NHS"})
_TITLES = re.compile(r"^(?:dr|mr|mrs|ms|miss|mx|prof|sir|dame|nurse|rn|md)\.?\s+", re.IGNORECASE)


def normalize_value(entity_type: str, value: str) -> str:
    """The canonical form of ``value`` used as the input of keyed functions."""
    text = unicodedata.normalize("NFKC", value)
    if entity_type in _DIGITS_ONLY:
        digits = re.sub(r"\D", "", text)
        if entity_type == "PHONE_NUMBER" and len(digits) == 11 and digits.startswith("1"):
            digits = digits[1:]
        return digits or text.casefold()
    if entity_type in _ALNUM_ONLY:
        return re.sub(r"[\W_]", "", text).casefold()
    text = " ".join(text.split()).casefold()
    if entity_type == "PERSON":
        text = _TITLES.sub("", text)
    return text


def split_title(value: str) -> tuple[str, str]:
    """Split a leading honorific (``Dr. ``, ``Mrs ``) from a name: ``("Dr. ", "Patel")``."""
    match = _TITLES.match(value)
    if not match:
        return "", value
    return value[: match.end()], value[match.end() :]


def match_case(template: str, value: str) -> str:
    """Give ``value`` the letter case of ``template`` (all upper, all lower, or as generated)."""
    letters = [c for c in template if c.isalpha()]
    if letters and all(c.isupper() for c in letters) and len(letters) > 1:
        return value.upper()
    if letters and all(c.islower() for c in letters):
        return value.lower()
    return value
