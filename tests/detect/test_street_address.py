"""UsAddressRecognizer: whole street addresses and city/state/ZIP lines as one LOCATION span."""

from __future__ import annotations

import pytest

from deid.detect.recognizers.street_address import UsAddressRecognizer


@pytest.fixture(scope="module")
def recognizer() -> UsAddressRecognizer:
    return UsAddressRecognizer()


def _found(recognizer: UsAddressRecognizer, text: str) -> list[str]:
    results = sorted(recognizer.analyze(text, ["LOCATION"], None), key=lambda r: r.start)
    return [text[r.start : r.end] for r in results]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # street, unit, city, state code and ZIP+4 on one line: one span
        (
            "the office on 300 Main St. Suite 200, Springfield, IL 62704-1234.",
            ["300 Main St. Suite 200, Springfield, IL 62704-1234"],
        ),
        # full state name
        (
            "premises located at 8975 Aaron Drive, Simonhaven, Maryland 50412 (the",
            ["8975 Aaron Drive, Simonhaven, Maryland 50412"],
        ),
        # upper-case record
        (
            "ADDR=17023 PHILIP AVENUE, LAKE DANIEL, MD 12835|TEL",
            ["17023 PHILIP AVENUE, LAKE DANIEL, MD 12835"],
        ),
        # ordinal street name and a #unit
        ("lives at 42 West 5th Street #4B in town", ["42 West 5th Street #4B"]),
        ("mail it to 7 N. Oak Blvd today", ["7 N. Oak Blvd"]),
        # an address block: the line break ends the span, the city line is its own span
        (
            "Ship to:\n1185 Emily Rd Apt. 69\nNorth Ashleyfurt, MD 49653\n",
            ["1185 Emily Rd Apt. 69", "North Ashleyfurt, MD 49653"],
        ),
        # a city line alone, and a ZIP after a state name
        ("Boston, MA 02115", ["Boston, MA 02115"]),
        ("moved to Maryland 20850 last year", ["20850"]),
        ("1234 Elm Street", ["1234 Elm Street"]),
        # USPS suffixes beyond the common ones, in Title case
        (
            "Address: 011 Kayla Ridge, West Melissashire, UT 96348",
            ["011 Kayla Ridge, West Melissashire, UT 96348"],
        ),
    ],
)
def test_when_an_address_is_present_then_it_is_one_span(
    recognizer: UsAddressRecognizer, text: str, expected: list[str]
) -> None:
    assert _found(recognizer, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "walked 20 ft in the hall way today",  # function words are not street names
        "GIVEN 2 UNITS FFP IN THE AM",
        "BP 120/80 on 3 L NC St",  # one-letter words are not street names
        "ENDO=BS COVER W 4U REG SQ @ 0200",  # SQ: subcutaneous, not Square
        "Total 2 Sq",
        "4 LARGE THICK LIQ GREEN STOOLS",  # upper-case USPS words (GREEN) are not suffixes
        "DOPA FOR MAP>60 AS WELL AS IVF",
        "HR 103 SR TO ST",  # upper-case abbreviations are clinical words (sinus tachycardia, chest tube)
        "2 MEDIASTINAL CT",
        "5 Mg Po Rd",
        "the patient is in MD office",  # a state code without a ZIP
        "Boston MA",
        "value 1.5 Main St",  # a decimal is not a house number
        "Springfield, IL 627",  # not a ZIP code
    ],
)
def test_when_no_address_is_present_then_nothing_is_found(recognizer: UsAddressRecognizer, text: str) -> None:
    assert _found(recognizer, text) == []


def test_when_the_detector_runs_then_address_pieces_merge_into_one_location(detector) -> None:  # type: ignore[no-untyped-def]
    text = "Please send the forms to 300 Main St. Suite 200, Springfield, IL 62704 by Friday."
    spans = detector.detect([text])[0]
    values = [(s.entity_type, text[s.start : s.end]) for s in spans]
    assert ("LOCATION", "300 Main St. Suite 200, Springfield, IL 62704") in values
