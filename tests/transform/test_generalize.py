"""Generalisation operators: ZIP prefixes (Safe Harbor's restricted list), years, 90+, bands."""

from __future__ import annotations

import datetime as dt

import pytest

from deid.transform.operators import OPERATORS
from deid.transform.operators.generalize import (
    RESTRICTED_ZIP3,
    GeneralizeOperator,
    generalize_age,
    generalize_band,
    generalize_value,
    generalize_year,
    generalize_zip,
)


@pytest.mark.parametrize(
    ("value", "keep", "expected"),
    [
        ("02139", 3, "021**"),
        ("02139-4307", 3, "021**"),
        ("021394307", 3, "021**"),
        (" 94110 ", 3, "941**"),
        ("94110", 2, "94***"),
        ("94110", 5, "94110"),
        (2139, 3, "021**"),  # an integer column lost the leading zero
        ("03601", 3, "000**"),
        ("82301", 3, "000**"),
        ("89301", 3, "000**"),
        ("03601", 4, "0360*"),  # the restricted list is about 3-digit prefixes only
    ],
)
def test_when_zip_generalized_then_prefix_kept(value: object, keep: int, expected: str) -> None:
    assert generalize_zip(value, keep) == expected


@pytest.mark.parametrize("prefix", sorted(RESTRICTED_ZIP3))
def test_when_zip_in_restricted_area_then_000(prefix: str) -> None:
    assert generalize_zip(prefix + "12") == "000**"


def test_when_restricted_list_read_then_it_is_safe_harbors_17_prefixes() -> None:
    assert len(RESTRICTED_ZIP3) == 17
    assert {"036", "059", "063", "102", "203", "556", "692", "790", "821"} <= RESTRICTED_ZIP3
    assert {"823", "830", "831", "878", "879", "884", "890", "893"} <= RESTRICTED_ZIP3


@pytest.mark.parametrize("value", ["n/a", "", "0213", "021399", "ABCDE", True, None, 123456, -5, 3.5])
def test_when_not_a_zip_then_none(value: object) -> None:
    assert generalize_zip(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("14 Feb 1992", 1992),
        ("3/14/2021", 2021),
        ("2021-03-14T08:00:00", 2021),
        ("05-17-76", 1976),
        ("March 14, 2021", 2021),
        (dt.date(1950, 7, 1), 1950),
        (dt.datetime(2023, 1, 2, 3, 4), 2023),
    ],
)
def test_when_date_generalized_then_year(value: object, expected: int) -> None:
    assert generalize_year(value) == expected


@pytest.mark.parametrize("value", ["n/a", "yesterday", "Jun 9", "12345678", 1992, True, None])
def test_when_no_year_then_none(value: object) -> None:
    assert generalize_year(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (89, "89"),
        (90, "90+"),
        (104, "90+"),
        (45.0, "45"),
        ("93", "90+"),
        ("93 year old", "90+ year old"),
        ("91 y/o", "90+ y/o"),
        ("age 88", "age 88"),
    ],
)
def test_when_age_generalized_then_over_89_is_90_plus(value: object, expected: str) -> None:
    assert generalize_age(value) == expected


@pytest.mark.parametrize("value", ["n/a", -3, True, None, [90]])
def test_when_not_an_age_then_none(value: object) -> None:
    assert generalize_age(value) is None


@pytest.mark.parametrize(
    ("value", "width", "expected"),
    [
        (37, 10, "30-39"),
        (30, 10, "30-39"),
        (0, 5, "0-4"),
        (-1, 10, "-10--1"),
        (3.7, 5, "[0, 5)"),
        ("52", 25, "50-74"),
        (12.5, 2.5, "[12.5, 15)"),
    ],
)
def test_when_number_generalized_then_band(value: object, width: float, expected: str) -> None:
    assert generalize_band(value, width) == expected


@pytest.mark.parametrize("value", ["n/a", True, None, float("nan")])
def test_when_not_a_number_then_no_band(value: object) -> None:
    assert generalize_band(value) is None


def test_when_unknown_kind_then_value_error() -> None:
    with pytest.raises(ValueError, match="unknown generalize kind"):
        generalize_value("x", "decade")


@pytest.mark.parametrize(
    ("entity", "text", "params", "expected"),
    [
        ("LOCATION", "02139", {"keep": 3}, "021**"),
        ("LOCATION", "Boston", {"kind": "zip"}, "<LOCATION>"),
        ("AGE", "93 year old", {}, "90+ year old"),
        ("DATE_TIME", "14 Feb 1992", {}, "1992"),
        ("DATE_TIME", "yesterday", {}, "<DATE_TIME>"),
    ],
)
def test_when_operator_applied_to_a_span_then_generalized_or_placeholder(
    entity: str, text: str, params: dict[str, object], expected: str
) -> None:
    assert GeneralizeOperator().operate(text, {"entity_type": entity, **params}) == expected


def test_when_registered_then_generalize_is_an_operator_name() -> None:
    assert OPERATORS["generalize"] == ("deid_generalize", GeneralizeOperator)
