"""Format-preserving date shifting."""

from __future__ import annotations

import pytest

from deid.transform.dates import shift_date_text


@pytest.mark.parametrize(
    ("value", "days", "expected"),
    [
        ("3/14/2021", 10, "3/24/2021"),
        ("03/04/21", 10, "03/14/21"),
        ("7/22", 10, "8/1"),
        ("14 Mar 2021", 10, "24 Mar 2021"),
        ("March 14, 2021", -300, "May 18, 2020"),
        ("2021-03-14T08:00", 10, "2021-03-24T08:00"),
        ("JULY 4TH, 1999", 10, "JULY 14TH, 1999"),
        ("1992", -300, "1991"),
        ("1992", 30, "1993"),  # a bare year always moves: kept, it would identify
        ("1992", -800, "1990"),
        ("'84", -300, "'83"),
        ("'99", 5, "'00"),
        ("Sept 3 2020", 10, "Sep 13 2020"),
        ("31/12/2020", 1, "1/1/2021"),
        ("2021-04-14", -10, "2021-04-04"),  # ISO keeps two-digit months and days
        ("1927-04-24", 10, "1927-05-04"),
        ("03/14/2021", -10, "03/04/2021"),  # one padded part: the writer pads both
        ("12/14/2021", -10, "12/4/2021"),
    ],
)
def test_when_date_parseable_then_shifted_in_its_format(value: str, days: int, expected: str) -> None:
    assert shift_date_text(value, days) == expected


@pytest.mark.parametrize("value", ["tomorrow", "q4h", "2 weeks", "13/13/2020", "Feb 30"])
def test_when_not_a_date_then_none(value: str) -> None:
    assert shift_date_text(value, 5) is None
