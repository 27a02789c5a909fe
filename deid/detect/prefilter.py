"""Cheap prefilters: a recognizer is skipped for a text that cannot hold what it looks for.

A text without a digit cannot hold a phone number, a card, an SSN or a date; one without ``@``
cannot hold an e-mail address. Checking that costs a scan of the text; running the recognizer
costs dozens of regular expressions (and, for phones, the libphonenumber matcher). Validation
(Luhn, IBAN checksums...) is untouched: a recognizer that runs, runs unchanged.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import regex

_DIGIT = re.compile(r"\d")
_SEVEN_DIGITS = re.compile(r"(?:\d\D{0,3}){7}")
# libphonenumber's matcher only considers digit blocks separated by at most 4 of its punctuation
# characters (spaces, dashes, dots, slashes, parentheses, "x"...): letters between digits end a
# candidate, so "BP 120/80 HR 72 RR 18" holds none.
# (phonenumbers' _VALID_PUNCTUATION; tests/detect/test_prefilter.py checks it against the package.)
PHONE_PUNCTUATION = "-x\u2010-\u2015\u2212\u30fc\uff0d-\uff0f \u00a0\u00ad\u200b\u2060\u3000()\uff08\uff09\uff3b\uff3d.\\[\\]/~\u2053\u223c\uff5e"
_PHONE_CANDIDATE = re.compile(r"(?:\d[" + PHONE_PUNCTUATION + r"]{0,4}){6}\d")
# Every URL pattern (Presidio's and deid's hardened ones) ends in host characters, a dot and a
# top-level domain, and every TLD starts with a letter. Same engine and flags as Presidio's
# patterns (``regex``, case-insensitive), so case folding is the same as theirs.
_HOST_DOT_TLD = regex.compile(r"[a-z0-9.\-][.][a-z]", regex.IGNORECASE)


def _has_digit(text: str) -> bool:
    return _DIGIT.search(text) is not None


def _has_seven_digits(text: str) -> bool:
    return _SEVEN_DIGITS.search(text) is not None


def _has_phone_candidate(text: str) -> bool:
    return _PHONE_CANDIDATE.search(text) is not None


def _has_host_dot_tld(text: str) -> bool:
    return _HOST_DOT_TLD.search(text) is not None


# recognizer name -> what a text must contain for it to run
PREFILTERS: dict[str, Callable[[str], bool]] = {
    "PhoneRecognizer": _has_phone_candidate,
    "UsPhoneRecognizer": _has_seven_digits,
    "CreditCardRecognizer": _has_seven_digits,
    "UsBankRecognizer": _has_seven_digits,
    "IbanRecognizer": _has_seven_digits,
    "UsSsnRecognizer": _has_seven_digits,
    "UsPassportRecognizer": _has_seven_digits,
    "IpRecognizer": lambda text: _has_digit(text) and ("." in text or ":" in text),
    "EmailRecognizer": lambda text: "@" in text,
    "SocialHandleRecognizer": lambda text: "@" in text,
    "UrlRecognizer": _has_host_dot_tld,
    "HardenedUrlRecognizer": _has_host_dot_tld,
    "DateRecognizer": _has_digit,
    "NumericDateRecognizer": _has_digit,
    "TextDateRecognizer": _has_digit,
    "ShortYearRecognizer": _has_digit,
    "AgeRecognizer": _has_digit,
    "ZipCodeRecognizer": _has_digit,
    "PagerRecognizer": _has_digit,
    "RecordNumberRecognizer": _has_digit,
    "MedicalLicenseRecognizer": _has_digit,
    "MacAddressRecognizer": _has_digit,
    "UuidRecognizer": lambda text: "-" in text,
}


def add_prefilter(recognizer: Any) -> None:
    """Wrap ``recognizer.analyze`` so that it returns nothing for texts its prefilter rules out."""
    check = PREFILTERS.get(recognizer.name)
    if check is None:
        return
    analyze = recognizer.analyze

    @functools.wraps(analyze)
    def gated(
        text: str, entities: list[str], nlp_artifacts: Any = None, *args: Any, **kwargs: Any
    ) -> list[Any]:
        if not check(text):
            return []
        return analyze(text, entities, nlp_artifacts, *args, **kwargs)

    recognizer.analyze = gated


def add_context_gate(recognizer: Any, threshold: float) -> bool:
    """Skip ``recognizer`` on texts where no result of it could reach ``threshold``.

    Presidio's ``PhoneRecognizer`` scores every match ``SCORE`` (0.4); only a context word of the
    recognizer near the match raises it (by 0.35, the lemma context enhancer). When the reporting
    threshold of its entity is above ``SCORE``, a match without a context word is dropped anyway, so
    a text that holds none of the context words anywhere cannot yield a reported span and
    libphonenumber (8 regions) need not run on it. The enhancer compares lower-cased words of the
    text by substring, so "contains a context word, lower-cased" is a superset of what it accepts.
    Context words outside ASCII (whose lower case could depend on position) disable the gate.

    Returns:
        whether the gate was added (only to ``PhoneRecognizer``, with ``SCORE`` below ``threshold``).
    """
    from presidio_analyzer.predefined_recognizers import PhoneRecognizer

    if not isinstance(recognizer, PhoneRecognizer) or threshold <= recognizer.SCORE:
        return False
    words = tuple(dict.fromkeys(str(w).lower() for w in recognizer.context or ()))
    if not words or not all(w.isascii() for w in words):
        return False
    analyze = recognizer.analyze

    @functools.wraps(analyze)
    def gated(
        text: str, entities: list[str], nlp_artifacts: Any = None, *args: Any, **kwargs: Any
    ) -> list[Any]:
        lowered = text.lower()
        if not any(word in lowered for word in words):
            return []
        return analyze(text, entities, nlp_artifacts, *args, **kwargs)

    recognizer.analyze = gated
    return True
