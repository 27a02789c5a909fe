"""Ages written with their unit or label: ``93 year old``, ``93 y/o``, ``93yo``, ``age 93``, ``aged 93``.

Only the number is reported (entity AGE). A bare number is never taken for an age.
"""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

PATTERNS = [
    Pattern(
        "number before a year-old unit",
        r"\b\d{1,3}(?=\s?(?:-\s?)?(?:years?|yrs?|y)(?:\s?|-)(?:old|o\b)|\s?y/o\b|\s?yo\b|\s?yrs?\.?\s?old\b)",
        0.7,
    ),
    Pattern(
        "number after an age label",
        r"(?<=\b(?:age|aged|ages)\s?:?\s{0,2})\d{1,3}\b(?!\s?(?:%|mg|kg|lb|cm|mm))",
        0.6,
    ),
]


class AgeRecognizer(PatternRecognizer):
    """Ages with an explicit unit or label (entity AGE)."""

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity="AGE",
            patterns=PATTERNS,
            name="AgeRecognizer",
            supported_language=supported_language,
        )
