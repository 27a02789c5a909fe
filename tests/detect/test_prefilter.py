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


def _counting_phone_recognizer(calls: list[str]) -> object:
    from presidio_analyzer.predefined_recognizers import PhoneRecognizer

    recognizer = PhoneRecognizer()
    analyze = recognizer.analyze

    def counted(text: str, entities: list[str], nlp_artifacts: object = None) -> list:
        calls.append(text)
        return analyze(text, entities, nlp_artifacts)

    recognizer.analyze = counted  # type: ignore[method-assign]
    return recognizer


def test_when_phone_threshold_above_its_score_then_texts_without_context_word_skip_it() -> None:
    from deid.detect.prefilter import add_context_gate

    calls: list[str] = []
    recognizer = _counting_phone_recognizer(calls)
    assert add_context_gate(recognizer, 0.5)
    assert recognizer.analyze("BP reading +49 30 1234 5678 today", ["PHONE_NUMBER"]) == []
    found = recognizer.analyze("Mobile: +49 30 1234 5678", ["PHONE_NUMBER"])  # upper case word
    assert [(r.start, r.end) for r in found] == [(8, 24)]
    assert calls == ["Mobile: +49 30 1234 5678"]


@pytest.mark.parametrize("threshold", [0.4, 0.3])
def test_when_phone_threshold_reachable_without_context_then_no_gate(threshold: float) -> None:
    from deid.detect.prefilter import add_context_gate

    calls: list[str] = []
    recognizer = _counting_phone_recognizer(calls)
    assert not add_context_gate(recognizer, threshold)
    assert recognizer.analyze("BP reading +49 30 1234 5678 today", ["PHONE_NUMBER"])
    assert len(calls) == 1


def test_when_other_recognizer_then_no_context_gate() -> None:
    from presidio_analyzer.predefined_recognizers import EmailRecognizer

    from deid.detect.prefilter import add_context_gate

    assert not add_context_gate(EmailRecognizer(), 0.9)


@pytest.mark.slow
def test_when_context_gate_on_then_detections_identical_to_ungated(monkeypatch: pytest.MonkeyPatch) -> None:
    """The gate only skips work: with and without it, the same spans (patterns-only profile)."""
    import deid.detect.engine as engine
    from deid.config import load_config

    texts = [
        "Phone: +44 20 7946 0958, ask for Ann.",
        "Call me on +44 20 7946 0958 tomorrow.",  # "call" is a spaCy stop word: no context, 0.4
        "BP 120/80, ref +44 20 7946 0958, seen today.",
        "Pager 617-555-0199; cell (617) 555-0123 / telephone 0176 12345678",
        "Lab range 3.5-5.0 mmol/L 4915212345678",
        "Her number is 030 1234567 and fax 030 7654321",
        "recall +1 212 555 0100 for follow-up",
        "",
    ]
    config = load_config("configs/patterns-only.yaml").detection
    gated = engine.Detector(config).detect(texts)
    monkeypatch.setattr(engine, "add_context_gate", lambda recognizer, threshold: False)
    ungated = engine.Detector(config).detect(texts)
    assert gated == ungated
    assert any(s.entity_type == "PHONE_NUMBER" for s in gated[0])
