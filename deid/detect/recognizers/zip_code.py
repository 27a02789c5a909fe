"""US ZIP codes where the text says so: after a state code (``UT 96348``) or a label (``Zip: 96348``)."""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

_STATES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|"
    "OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC|PR|GU|VI|AS|MP|FM|MH|PW|AA|AE|AP"
)
PATTERNS = [
    Pattern("ZIP after a state code", rf"(?-i:(?<=\b(?:{_STATES}),?\s{{1,2}}))\d{{5}}(?:-\d{{4}})?\b", 0.7),
    Pattern(
        "ZIP after its label",
        r"(?<=\b(?:zip|zip\s?code|postal\s?code|zipcode)\s?[:#]?\s{0,2})\d{5}(?:-\d{4})?\b",
        0.7,
    ),
]


class ZipCodeRecognizer(PatternRecognizer):
    """ZIP codes with a state code or label before them (entity LOCATION)."""

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity="LOCATION",
            patterns=PATTERNS,
            name="ZipCodeRecognizer",
            supported_language=supported_language,
        )
