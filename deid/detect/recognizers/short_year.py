"""Two-digit years written with an apostrophe (``CABG '84``, ``MI '92``), common in clinical history."""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

PATTERNS = [Pattern("apostrophe two-digit year", r"(?<![\w'])['\u2019]\d{2}(?![\w'])", 0.6)]


class ShortYearRecognizer(PatternRecognizer):
    """Two-digit years after an apostrophe (entity DATE_TIME)."""

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity="DATE_TIME",
            patterns=PATTERNS,
            name="ShortYearRecognizer",
            supported_language=supported_language,
        )
