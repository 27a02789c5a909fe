"""Numeric dates with a year that Presidio's ``DateRecognizer`` misses, such as ``05-17-76`` and ``9.3.2002``.

Month and day are range-checked (1-12, 1-31, either order), so blood pressures (``120/80``) and
lab ranges (``27-41/14``) do not match; the year has 2 or 4 digits.
"""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

_MD = r"(?:0?[1-9]|1[0-2])"
_DD = r"(?:0?[1-9]|[12]\d|3[01])"
PATTERNS = [
    Pattern(
        "month-day-year or day-month-year with one separator",
        rf"(?<![\d/.-])(?:{_MD}([/.-]){_DD}|{_DD}([/.-]){_MD})(?:\1|\2)(?:19|20)?\d{{2}}(?![\d/.-]|\.\d)",
        0.6,
    ),
]


class NumericDateRecognizer(PatternRecognizer):
    """Numeric dates with a year (entity DATE_TIME)."""

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity="DATE_TIME",
            patterns=PATTERNS,
            name="NumericDateRecognizer",
            supported_language=supported_language,
        )
