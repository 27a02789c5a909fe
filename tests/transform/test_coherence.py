"""Readable pseudonyms: titles, addresses and e-mail addresses beside names."""

from __future__ import annotations

import re

import pytest

from deid.config import parse_config
from deid.detect.spans import Span
from deid.transform.coherence import coherent_spans
from deid.transform.keys import SecretKey
from deid.transform.policy import TextTransformer
from deid.transform.surrogates import email_name

KEY = SecretKey("unit-test-key-0123456789-abcdefghijklmnopqrstuvwxyz")


def _spans(text: str, *values: tuple[str, str]) -> list[Span]:
    return [Span(text.index(v), text.index(v) + len(v), label, 0.9, "test") for v, label in values]


def _pseudonymize(text: str, spans: list[Span], **policy: object) -> str:
    config = parse_config({"policy": {"default": {"operator": "pseudonymize"}, **policy}})
    return TextTransformer(config.policy, KEY).transform(text, spans)


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("Seen by Dr. Jimenez.", [("Jimenez", "PERSON")], [(8, 19, "PERSON")]),
        ("Call MRS Page", [("Page", "PERSON")], [(5, 13, "PERSON")]),
        ("Lives at 516 North Cheryl St now", [("North Cheryl St", "LOCATION")], [(9, 28, "LOCATION")]),
        (
            "12 Main Street, Boston, MA 02139.",
            [("Main Street", "LOCATION"), ("Boston", "LOCATION"), ("MA 02139", "LOCATION")],
            [(0, 32, "LOCATION")],
        ),
        ("Boston\nMA", [("Boston", "LOCATION"), ("MA", "LOCATION")], [(0, 9, "LOCATION")]),
    ],
)
def test_when_pseudonymized_then_spans_widen_to_whole_values(
    text: str, values: list[tuple[str, str]], expected: list[tuple[int, int, str]]
) -> None:
    out = coherent_spans(text, _spans(text, *values), {"PERSON", "LOCATION"})
    assert [(s.start, s.end, s.entity_type) for s in out] == expected


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("Dr. Jimenez", [("Jimenez", "PERSON")]),  # PERSON not pseudonymized: untouched
        ("Room 12 Boston", [("Boston", "LOCATION")]),  # no street word: the number is no house number
        ("Boston and Paris", [("Boston", "LOCATION"), ("Paris", "LOCATION")]),  # a word between: two places
        ("Drs Smith", [("Smith", "PERSON")]),  # not a title we know
    ],
)
def test_when_no_context_to_join_then_spans_unchanged(text: str, values: list[tuple[str, str]]) -> None:
    spans = _spans(text, *values)
    types = {"LOCATION"} if text.startswith("Dr. ") else {"PERSON", "LOCATION"}
    assert coherent_spans(text, spans, types) == spans


def test_when_surname_after_title_then_surrogate_is_a_surname_and_agrees_without_title() -> None:
    text = "Seen by Dr. Jimenez; later Jimenez called."
    out = _pseudonymize(text, _spans(text, ("Jimenez", "PERSON")) + [Span(27, 34, "PERSON", 0.9)])
    match = re.fullmatch(r"Seen by Dr\. (\w+); later (\w+) called\.", out)
    assert match, out
    assert match.group(1) == match.group(2) != "Jimenez"


def test_when_name_and_its_address_pseudonymized_then_they_agree() -> None:
    text = "From: John Smith <john.smith@acme.com>"
    out = _pseudonymize(
        text, _spans(text, ("John Smith", "PERSON"), ("john.smith@acme.com", "EMAIL_ADDRESS"))
    )
    match = re.fullmatch(r"From: (\w+) (\w+) <(\w+)\.(\w+)@example\.(com|org|net)>", out)
    assert match, out
    assert (match.group(3), match.group(4)) == (match.group(1).lower(), match.group(2).lower())
    assert "smith" not in out.lower()


def test_when_address_pseudonymized_then_one_address_and_no_number_left() -> None:
    text = "Lives at 516 North Cheryl Street, Boston, MA 02139 since May."
    spans = _spans(
        text, ("North Cheryl Street", "LOCATION"), ("Boston", "LOCATION"), ("MA 02139", "LOCATION")
    )
    out = _pseudonymize(text, spans)
    assert re.fullmatch(r"Lives at \d+ [^,]+, [^,]+, [A-Z]{2} \d{5} since May\.", out), out
    for original in ("516", "Cheryl", "Boston", "02139"):
        assert original not in out


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("john.smith@acme.com", ("john", ".", "smith")),
        ("Mary_Jones@x.org", ("Mary", "_", "Jones")),
        ("jsmith@acme.com", None),
        ("j.smith@acme.com", None),
        ("john.smith2@acme.com", None),
    ],
)
def test_when_email_local_part_is_a_name_then_parsed(
    value: str, expected: tuple[str, str, str] | None
) -> None:
    assert email_name(value) == expected
