"""The merge rule of deid.detect.spans."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deid.detect.spans import Span, merge_spans


@pytest.mark.parametrize(
    ("spans", "expected"),
    [
        pytest.param([], [], id="when_no_spans_then_none"),
        pytest.param(
            [Span(0, 5, "PERSON", 0.9, "a"), Span(10, 12, "LOCATION", 0.8, "b")],
            [Span(0, 5, "PERSON", 0.9, "a"), Span(10, 12, "LOCATION", 0.8, "b")],
            id="when_disjoint_then_kept",
        ),
        pytest.param(
            [
                Span(0, 22, "EMAIL_ADDRESS", 1.0, "e"),
                Span(0, 7, "URL", 0.5, "u"),
                Span(11, 22, "URL", 0.5, "u"),
            ],
            [Span(0, 22, "EMAIL_ADDRESS", 1.0, "e")],
            id="when_url_inside_email_then_email_wins",
        ),
        pytest.param(
            [
                Span(3, 10, "DATE_TIME", 0.85, "SpacyRecognizer"),
                Span(0, 14, "PHONE_NUMBER", 0.75, "UsPhoneRecognizer"),
            ],
            [Span(0, 14, "PHONE_NUMBER", 0.75, "UsPhoneRecognizer")],
            id="when_confident_pattern_overlaps_ner_then_pattern_type_wins",
        ),
        pytest.param(
            [
                Span(0, 9, "DATE_TIME", 0.99, "TransformerNerRecognizer"),
                Span(0, 9, "PHONE_NUMBER", 0.4, "PhoneRecognizer"),
            ],
            [Span(0, 9, "DATE_TIME", 0.99, "TransformerNerRecognizer")],
            id="when_weak_pattern_overlaps_ner_then_higher_score_wins",
        ),
        pytest.param(
            [
                Span(0, 9, "PHONE_NUMBER", 0.4, "PhoneRecognizer"),
                Span(0, 9, "DATE_TIME", 0.6, "NumericDateRecognizer"),
            ],
            [Span(0, 9, "DATE_TIME", 0.6, "NumericDateRecognizer")],
            id="when_two_patterns_overlap_then_higher_score_wins",
        ),
        pytest.param(
            [Span(0, 9, "PHONE_NUMBER", 0.6, "a"), Span(0, 9, "DATE_TIME", 0.6, "b")],
            [Span(0, 9, "PHONE_NUMBER", 0.6, "a")],
            id="when_scores_tie_then_structured_type_wins",
        ),
        pytest.param(
            [Span(0, 6, "PERSON", 0.6, "a"), Span(4, 12, "LOCATION", 0.9, "b")],
            [Span(0, 12, "LOCATION", 0.9, "b")],
            id="when_partial_overlap_then_union_with_best_type",
        ),
        pytest.param(
            [Span(5, 5, "PERSON", 0.9, "a")],
            [],
            id="when_empty_span_then_dropped",
        ),
    ],
)
def test_merge_spans(spans: list[Span], expected: list[Span]) -> None:
    assert merge_spans(spans) == expected


def test_when_same_type_separated_by_space_then_joined() -> None:
    text = "Dr John Smith came"
    spans = [Span(3, 7, "PERSON", 0.8, "m"), Span(8, 13, "PERSON", 0.9, "m")]
    assert merge_spans(spans, text) == [Span(3, 13, "PERSON", 0.9, "m")]


def test_when_same_type_separated_by_newline_then_kept_apart() -> None:
    text = "John\nSmith"
    spans = [Span(0, 4, "PERSON", 0.8, "m"), Span(5, 10, "PERSON", 0.9, "m")]
    assert len(merge_spans(spans, text)) == 2


def test_when_input_order_changes_then_result_is_the_same() -> None:
    spans = [
        Span(0, 6, "PERSON", 0.7, "a"),
        Span(2, 9, "ORGANIZATION", 0.7, "b"),
        Span(20, 25, "URL", 0.5, "c"),
    ]
    assert merge_spans(spans) == merge_spans(list(reversed(spans)))


@st.composite
def _spans(draw: st.DrawFn) -> tuple[str, list[Span]]:
    text = draw(st.text(alphabet="ab \n", min_size=1, max_size=60))
    n = len(text)
    items = []
    for _ in range(draw(st.integers(0, 8))):
        start = draw(st.integers(0, n))
        end = draw(st.integers(start, n))
        items.append(
            Span(start, end, draw(st.sampled_from(["PERSON", "URL", "DATE_TIME"])), draw(st.floats(0, 1)))
        )
    return text, items


@given(_spans())
def test_when_any_spans_then_merged_are_disjoint_sorted_and_cover_every_input(
    case: tuple[str, list[Span]],
) -> None:
    text, spans = case
    merged = merge_spans(spans, text)
    for left, right in zip(merged, merged[1:], strict=False):
        assert left.end <= right.start
    covered = {i for s in merged for i in range(s.start, s.end)}
    for span in spans:
        assert set(range(span.start, span.end)) <= covered
