"""US phone numbers in the forms people type, including ``201/324/1423`` and ``617.555.0123``.

Presidio's ``PhoneRecognizer`` (libphonenumbers) misses slash-separated numbers and scores every
match 0.4; this recognizer adds explicit North American patterns with a plausible area code
(first digit 2-9) so that the common forms score high without context.
"""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

_SEP = r"[-. /]"
PATTERNS = [
    Pattern(
        "US phone, (area) exchange-line",
        r"(?<![\w/])\(\s?[2-9]\d{2}\s?\)\s?[2-9]\d{2}[-. ]?\d{4}(?![\w/])",
        0.75,
    ),
    Pattern(
        "US phone, separated groups",
        rf"(?<![\w/.-])(?:\+?1{_SEP}?)?[2-9]\d{{2}}({_SEP})[2-9]\d{{2}}\1\d{{4}}(?:\s?(?:x|ext\.?)\s?\d{{1,5}})?(?![\w/]|\.\d)",
        0.75,
    ),
    Pattern("US phone, +1 and ten digits", r"(?<![\w+])\+1\s?[2-9]\d{9}(?!\w)", 0.7),
]
CONTEXT = [
    "phone",
    "tel",
    "telephone",
    "cell",
    "mobile",
    "call",
    "called",
    "fax",
    "contact",
    "number",
    "home",
    "work",
]


class UsPhoneRecognizer(PatternRecognizer):
    """North American phone numbers (entity PHONE_NUMBER)."""

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity="PHONE_NUMBER",
            patterns=PATTERNS,
            context=CONTEXT,
            name="UsPhoneRecognizer",
            supported_language=supported_language,
        )
