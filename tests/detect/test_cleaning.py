"""The cleaned copy recognizers see, and the mapping of spans back to the original text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from deid.detect.cleaning import clean_for_detection
from deid.detect.spans import Span


def test_when_nul_inside_number_then_removed_and_span_maps_back_over_it() -> None:
    original = "call 617\x00-555-0123 now"
    cleaned = clean_for_detection(original)
    assert cleaned.text == "call 617-555-0123 now"
    (span,) = cleaned.to_original([Span(5, 17, "PHONE_NUMBER", 1.0)])
    assert original[span.start : span.end] == "617\x00-555-0123"


def test_when_control_char_follows_a_letter_then_it_becomes_a_space() -> None:
    assert clean_for_detection("call\x00617-555-0123").text == "call 617-555-0123"


def test_when_punctuation_run_is_long_then_blanked_with_same_length() -> None:
    text = "a" + "=" * 100 + "b"
    cleaned = clean_for_detection(text)
    assert cleaned.text == "a" + " " * 100 + "b" and cleaned.removed == ()


@given(st.text(alphabet="ab1-\x00\x07 =", max_size=40), st.data())
def test_when_any_span_on_cleaned_text_then_mapped_span_covers_the_same_characters(
    text: str, data: st.DataObject
) -> None:
    cleaned = clean_for_detection(text)
    if not cleaned.text:
        return
    start = data.draw(st.integers(0, len(cleaned.text) - 1))
    end = data.draw(st.integers(start + 1, len(cleaned.text)))
    (span,) = cleaned.to_original([Span(start, end, "ID", 1.0)])
    kept = "".join(c for c in text[span.start : span.end] if c not in "\x00\x07")
    assert kept == cleaned.text[start:end].replace(" ", "") or kept.replace(" ", "") == cleaned.text[
        start:end
    ].replace(" ", "")
