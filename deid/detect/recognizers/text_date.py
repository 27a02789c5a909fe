"""Dates written with a month name: ``14 Feb 1992``, ``March 14, 2021``, ``Jun 9``, ``July 4th``.

With a year, any letter case matches. Without a year the month must be capitalised or upper case
(``Jun 9``, ``JUN 9``), so that the verb "may" followed by a number is not taken for a date.
"""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_MONTH_CAPITALISED = (
    r"(?-i:(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|"
    r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?|JAN|FEB|MAR|APR|MAY|JUNE?|JULY?|AUG|SEPT?|OCT|NOV|DEC)\.?)"
)
_DAY = r"(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d{2}"
PATTERNS = [
    Pattern("day month year", rf"\b{_DAY}\s+{_MONTH},?\s+{_YEAR}\b", 0.7),
    Pattern("month day, year", rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b", 0.7),
    Pattern("month year", rf"\b{_MONTH},?\s+{_YEAR}\b", 0.6),
    Pattern(
        "capitalised month and day", rf"\b{_MONTH_CAPITALISED}\s+{_DAY}\b(?!\s*(?:mg|ml|units?|%))", 0.55
    ),
    Pattern("day and capitalised month", rf"\b{_DAY}\s+{_MONTH_CAPITALISED}(?=\W|$)", 0.55),
]


class TextDateRecognizer(PatternRecognizer):
    """Dates with a month name (entity DATE_TIME)."""

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity="DATE_TIME",
            patterns=PATTERNS,
            name="TextDateRecognizer",
            supported_language=supported_language,
        )
