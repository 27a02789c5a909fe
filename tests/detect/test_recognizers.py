"""deid's pattern recognizers and the assembled default detector: positive and negative cases."""

from __future__ import annotations

import pytest

from deid.detect.engine import DEFAULT_DEID_RECOGNIZERS
from deid.detect.recognizers import DEID_RECOGNIZERS


def _found(detector, text: str) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(s.entity_type, text[s.start : s.end]) for s in detector.detect([text])[0]]


@pytest.mark.parametrize(
    ("text", "entity", "value"),
    [
        ("Carol Buckley (201/324/1423) called", "PHONE_NUMBER", "201/324/1423"),
        ("cell 617.555.0123 after 5", "PHONE_NUMBER", "617.555.0123"),
        ("call +1 617 555 0123 today", "PHONE_NUMBER", "+1 617 555 0123"),
        ("home phone (617) 555-0123", "PHONE_NUMBER", "(617) 555-0123"),
        ("Pager: #54321 Time", "PHONE_NUMBER", "54321"),
        ("PG 33445 if needed", "PHONE_NUMBER", "33445"),
        ("MRN 4821937 admitted", "ID", "4821937"),
        ("Member ID: XJH704919389", "ID", "XJH704919389"),
        ("s/p CABG '84 and MI", "DATE_TIME", "'84"),
        ("A 93 year old woman", "AGE", "93"),
        ("pt is 91 y/o", "AGE", "91"),
        ("aged 95", "AGE", "95"),
        ("Salt Lake City, UT 84101", "LOCATION", "84101"),
        ("Zip: 96348", "LOCATION", "96348"),
        ("born 05-17-76 in", "DATE_TIME", "05-17-76"),
        ("seen 12/10/40, 50% better", "DATE_TIME", "12/10/40"),  # the per-cent rule needs % right after
        ("DOB: 14 Feb 1992", "DATE_TIME", "14 Feb 1992"),
        ("seen March 14, 2021 by", "DATE_TIME", "March 14, 2021"),
        ("meeting set for Jun 9 with", "DATE_TIME", "Jun 9"),
        ("mail ann.lee@example.org now", "EMAIL_ADDRESS", "ann.lee@example.org"),
        ("card 4111 1111 1111 1111 on file", "CREDIT_CARD", "4111 1111 1111 1111"),
        ("IBAN GB82 WEST 1234 5698 7654 32", "IBAN_CODE", "GB82 WEST 1234 5698 7654 32"),
        ("host 192.168.10.42 down", "IP_ADDRESS", "192.168.10.42"),
        ("see https://intranet.example.com/u/ann", "URL", "https://intranet.example.com/u/ann"),
        ("visit shop-ann.com for", "URL", "shop-ann.com"),
        ("portal link www.love-vargas.biz/share/8ff79b669f.", "URL", "www.love-vargas.biz/share/8ff79b669f."),
        ("VISIT ANNSHOP.COM FOR", "URL", "ANNSHOP.COM"),
        ("at news.bbc.co.uk today", "URL", "news.bbc.co.uk"),
        ("see www.kowalski.pl now", "URL", "www.kowalski.pl"),
        ("see kowalski.pl/o/ann now", "URL", "kowalski.pl/o/ann"),
        ("SSN 536-22-8726 on form", "US_SSN", "536-22-8726"),
    ],
)
def test_when_value_present_then_found(detector, text: str, entity: str, value: str) -> None:  # type: ignore[no-untyped-def]
    found = _found(detector, text)
    assert any(v == value or (value in v and e == entity) for e, v in found), found
    assert any(e == entity for e, v in found if value in v), found


@pytest.mark.parametrize(
    ("text", "entity"),
    [
        ("BP 120/80 HR 88 K 4.2", "DATE_TIME"),
        ("LAB 27-41/14 stable", "DATE_TIME"),
        ("heparin 5000 units q8h x3 days", "PHONE_NUMBER"),
        ("age of onset unknown, dose 5 mg", "AGE"),
        ("weight 80 kg, 10 years ago", "AGE"),
        ("a 45 year old man", "AGE"),
        ("BP 147-162/60-70 stable", "PHONE_NUMBER"),
        ("see A.fi for details", "URL"),
        ("ratio 2/3 of the dose", "DATE_TIME"),
        ("you may 2 times a day take it", "DATE_TIME"),
        ("Write to ann.lee@example.org", "URL"),
        ("PEEP...TV 500 settings", "URL"),
        ("secretion white thick.Plan to draw ABG", "URL"),  # a missing space, not a host
        ("TOL MEDS.RESP STATUS IMPROVED", "URL"),
        ("MADE AT 5:30PM.TEAM AWARE", "URL"),
        ("nsr,no ectopy.to follow", "URL"),
        ("by hosp.chapl. and family", "URL"),
        ("lot number 12345678 expired", "US_BANK_NUMBER"),
        ("patient in ICU room 12", "UK_NHS"),
        ("Currently on CPAP/PSV 12/10/40% drawing volumes", "DATE_TIME"),  # ventilator settings
        ("Pt. on ac 550x12/5/50% during procedure", "DATE_TIME"),
        ("SETTINGS 10/5/65 %-100%, tolerated", "DATE_TIME"),
    ],
)
def test_when_value_absent_then_not_reported(detector, text: str, entity: str) -> None:  # type: ignore[no-untyped-def]
    assert entity not in [e for e, _ in _found(detector, text)]


def test_when_text_empty_then_no_spans(detector) -> None:  # type: ignore[no-untyped-def]
    assert detector.detect(["", "   ", "\n"]) == [[], [], []]


def test_when_allow_listed_then_not_reported() -> None:
    from deid.config import parse_config
    from deid.detect.engine import Detector

    config = parse_config({"detection": {"allow_list": ["help@example.org"]}})
    spans = Detector(config.detection).detect(["write to help@example.org or ann@example.org"])[0]
    assert [s.start for s in spans if s.entity_type == "EMAIL_ADDRESS"] == [29]


def test_registered_recognizer_names_do_not_disappear() -> None:
    assert sorted(DEID_RECOGNIZERS) == sorted(
        [
            "AgeRecognizer",
            "NumericDateRecognizer",
            "PagerRecognizer",
            "RecordNumberRecognizer",
            "ShortYearRecognizer",
            "SocialHandleRecognizer",
            "TextDateRecognizer",
            "UsAddressRecognizer",
            "UsPhoneRecognizer",
            "ZipCodeRecognizer",
        ]
    )
    assert set(DEFAULT_DEID_RECOGNIZERS) <= set(DEID_RECOGNIZERS)


def test_when_listing_recognizers_then_sources_are_named(detector) -> None:  # type: ignore[no-untyped-def]
    infos = {i.name: i for i in detector.recognizers()}
    assert infos["EmailRecognizer"].source == "presidio"
    assert infos["UsPhoneRecognizer"].source == "deid"
    assert "NhsRecognizer" not in infos and "UsLicenseRecognizer" not in infos
