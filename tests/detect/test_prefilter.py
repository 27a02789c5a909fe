"""Prefilters skip recognizers only for texts that cannot hold their entity."""

from __future__ import annotations

import pytest

from deid.detect.prefilter import PREFILTERS, add_prefilter


@pytest.mark.parametrize(
    ("recognizer", "text", "runs"),
    [
        ("PhoneRecognizer", "call (617) 555-0123", True),
        ("PhoneRecognizer", "room 12, bed 4", False),
        ("PhoneRecognizer", "no digits at all", False),
        ("EmailRecognizer", "ann@example.org", True),
        ("EmailRecognizer", "ann at example dot org", False),
        ("CreditCardRecognizer", "4111 1111 1111 1111", True),
        ("IpRecognizer", "host 10.0.0.1", True),
        ("IpRecognizer", "version 2", False),
        ("DateRecognizer", "seen on March 3", True),
        ("DateRecognizer", "seen on March", False),
        ("PhoneRecognizer", "+49 (30) 1234-5678", True),
        ("PhoneRecognizer", "BP 120/80 HR 72 RR 18", False),  # letters end a candidate
        ("PhoneRecognizer", "617 555 0123 x", True),
        ("HardenedUrlRecognizer", "see www.example.org/x", True),
        ("HardenedUrlRecognizer", "mail HOSP.ORG today", True),
        ("HardenedUrlRecognizer", "Pt stable. Plan: wean.", False),  # a sentence end is no host
        ("HardenedUrlRecognizer", "temp 38.5 today", False),  # no TLD starts with a digit
        ("UrlRecognizer", "go to example.com", True),
    ],
)
def test_when_text_checked_then_recognizer_runs_only_if_it_could_match(
    recognizer: str, text: str, runs: bool
) -> None:
    assert PREFILTERS[recognizer](text) is runs


def test_when_prefilter_rules_text_out_then_wrapped_analyze_is_not_called() -> None:
    calls: list[str] = []

    class Fake:
        name = "EmailRecognizer"

        def analyze(self, text: str, entities: list[str], nlp_artifacts: object = None) -> list[str]:
            calls.append(text)
            return ["hit"]

    fake = Fake()
    add_prefilter(fake)
    assert fake.analyze(text="no address here", entities=[], nlp_artifacts=None) == []
    assert fake.analyze(text="ann@example.org", entities=[], nlp_artifacts=None) == ["hit"]
    assert calls == ["ann@example.org"]


def test_when_phonenumbers_punctuation_changes_then_prefilter_copy_is_updated() -> None:
    from phonenumbers import phonenumberutil

    from deid.detect.prefilter import PHONE_PUNCTUATION

    assert PHONE_PUNCTUATION == phonenumberutil._VALID_PUNCTUATION


@pytest.mark.parametrize(
    "text",
    ["see https://www.example.org/a", "EXAMPLE.COM", "a.b.co.uk", "x-ray.example.net:8080", "Www.Foo.Io"],
)
def test_when_presidio_url_pattern_matches_then_url_prefilter_lets_it_run(text: str) -> None:
    import regex
    from presidio_analyzer.predefined_recognizers import UrlRecognizer

    assert regex.search(UrlRecognizer.BASE_URL_REGEX, text, regex.IGNORECASE)
    assert PREFILTERS["HardenedUrlRecognizer"](text)
