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
