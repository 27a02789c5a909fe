"""SocialHandleRecognizer: @handles as PERSON, not e-mail addresses or clinical rates."""

from __future__ import annotations

import pytest

from deid.detect.recognizers.social_handle import SocialHandleRecognizer


@pytest.fixture(scope="module")
def recognizer() -> SocialHandleRecognizer:
    return SocialHandleRecognizer()


def _found(recognizer: SocialHandleRecognizer, text: str) -> list[str]:
    results = sorted(recognizer.analyze(text, ["PERSON"], None), key=lambda r: r.start)
    return [text[r.start : r.end] for r in results]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("thanks @jsmith for the tip", ["@jsmith"]),
        ("@Acme_Support my order is late", ["@Acme_Support"]),
        ("RT @bob_99: great game (cc @Ann)", ["@bob_99", "@Ann"]),
        ("@_hidden", ["@_hidden"]),
    ],
)
def test_when_a_text_mentions_a_handle_then_the_whole_handle_is_found(
    recognizer: SocialHandleRecognizer, text: str, expected: list[str]
) -> None:
    assert _found(recognizer, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "write to ann.lee@example.org today",  # e-mail address
        "IVF @75CC/HR, heparin @1000u",  # clinical rates and doses
        "meet @ 5pm",  # "at"
        "see @example.com",  # a domain, not a handle
        "a@b",
        "@SUM(1)",  # a spreadsheet function, not an account
    ],
)
def test_when_an_at_sign_is_not_a_handle_then_nothing_is_found(
    recognizer: SocialHandleRecognizer, text: str
) -> None:
    assert _found(recognizer, text) == []
