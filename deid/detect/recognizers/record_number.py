"""Identifiers that only their label makes recognisable: medical record, account, member, licence numbers.

``MRN 4821937``, ``acct #: 00123-44``, ``Driver's license: D1234567``. Only the identifier is
reported (entity ID), never the label. Without a label a bare number is left to the other
recognizers, which keeps lab values and doses from being taken for identifiers.
"""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

_LABEL = (
    r"(?:mrn|mr\s?#|medical\s+record(?:\s+(?:no|number))?|patient\s+(?:id|number|no)|pt\s+id|unit\s+(?:no|number)|"
    r"acct|account(?:\s+(?:no|number))?|member\s+(?:id|no|number)|policy\s+(?:no|number)|"
    r"driver'?s?\s+licen[cs]e(?:\s+(?:no|number))?|dl|passport(?:\s+(?:no|number))?|"
    r"ssn|social\s+security(?:\s+(?:no|number))?|case\s+(?:no|number|id)|claim\s+(?:no|number|id))"
)
PATTERNS = [
    Pattern(
        "identifier after its label",
        rf"(?i)(?<=\b{_LABEL}\.?\s{{0,2}}(?:#|no\.?|number|:)?\s{{0,2}}[:#]?\s{{0,2}})(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{{3,18}}[A-Z0-9]\b",
        0.7,
    ),
]


class RecordNumberRecognizer(PatternRecognizer):
    """Labelled identifiers (entity ID)."""

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity="ID",
            patterns=PATTERNS,
            name="RecordNumberRecognizer",
            supported_language=supported_language,
        )
