"""Ages written with their unit or label: ``93 year old``, ``93 y/o``, ``93yo``, ``age 93``, ``aged 93``.

Only the number is reported (entity AGE). A bare number is never taken for an age. Ages of 90 and
over score 0.7 (HIPAA Safe Harbor requires removing them); younger ages score 0.45, below the
default threshold of 0.5 for AGE, so they are reported only when ``thresholds: {AGE: 0.4}`` asks
for every age (as GDPR-minded policies may).
"""

from __future__ import annotations

from typing import Any

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


OLD_AGE = 90
YOUNGER_SCORE = 0.45


class AgeRecognizer(PatternRecognizer):
    """Ages with an explicit unit or label (entity AGE); ages under 90 score below the default threshold."""

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity="AGE",
            patterns=PATTERNS,
            name="AgeRecognizer",
            supported_language=supported_language,
        )

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: Any = None, regex_flags: int | None = None
    ) -> list[Any]:
        """Presidio's pattern matching, then the score of ages under 90 lowered to 0.45."""
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        for result in results:
            if int(text[result.start : result.end]) < OLD_AGE:
                result.score = min(result.score, YOUNGER_SCORE)
        return results
