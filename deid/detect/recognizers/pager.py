"""Pager numbers and phone extensions, which only their label makes recognisable (``Pager #54321``)."""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

# The label is matched but lies outside the reported span: only the number is personal data.
PATTERNS = [
    Pattern(
        "pager/beeper/extension number after its label",
        r"(?i)(?<=\b(?:pager|pgr|pg|beeper|bpr|beep|ext|extension)[\s.:#]{1,3})\d{4,7}\b",
        0.7,
    ),
    Pattern("extension written x1234", r"(?<![\w-])[xX]\d{4,5}\b", 0.5),
]


class PagerRecognizer(PatternRecognizer):
    """Pager numbers and extensions (entity PHONE_NUMBER)."""

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity="PHONE_NUMBER",
            patterns=PATTERNS,
            context=["pager", "beeper", "page", "extension", "ext"],
            name="PagerRecognizer",
            supported_language=supported_language,
        )
