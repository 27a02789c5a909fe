"""Span adjustments that make pseudonymized text read like the original with other people in it.

Detection finds values; a surrogate replaces each value on its own. Three things then read wrong:
a title outside a PERSON span ("Dr. " + "Jimenez") makes the surname look like a lone first name;
an address detected in pieces ("12 " + "Main Street" + ", " + "Boston") gets several unrelated
surrogates glued to a house number left behind; and those pieces leak the number. For the entity
types whose operator is ``pseudonymize``, :func:`coherent_spans` widens a PERSON span over a title
right before it, widens a street span over the house number right before it, and joins LOCATION
spans separated only by commas, spaces or a line break into one address, which
:func:`deid.transform.surrogates.surrogate` replaces as one address. Spans only grow, so nothing
that was to be removed is kept.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from deid.detect.spans import Span

_TITLE_BEFORE = re.compile(r"(?:\b(?:dr|mr|mrs|ms|miss|mx|prof|sir|dame|nurse)\.?\s+)$", re.IGNORECASE)
_HOUSE_NUMBER_BEFORE = re.compile(r"(?:\b\d{1,6}[A-Za-z]?\s+)$")
# Gaps inside one address: ", " / " " / a line break, at most a few characters.
_ADDRESS_GAP = re.compile(r"^[ \t]*,?[ \t]*\n?[ \t]*$")
_STREET_WORDS = re.compile(
    r"\b(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|way|court|ct|place|pl|"
    r"terrace|ter|parkway|pkwy|highway|hwy|circle|cir|square|sq|trail|trl)\b\.?",
    re.IGNORECASE,
)


def coherent_spans(text: str, spans: Sequence[Span], pseudonymized: set[str]) -> list[Span]:
    """``spans`` adjusted for readable surrogates; only types in ``pseudonymized`` are touched.

    Args:
        text: the original text.
        spans: sorted, non-overlapping spans (:func:`deid.detect.spans.merge_spans`).
        pseudonymized: entity types whose operator is ``pseudonymize``.

    Returns:
        Sorted, non-overlapping spans, each covering at least what it covered before.
    """
    out: list[Span] = []
    for span in spans:
        floor = out[-1].end if out else 0
        start = span.start
        if span.entity_type == "PERSON" and "PERSON" in pseudonymized:
            match = _TITLE_BEFORE.search(text, floor, start)
            if match and match.end() == start:
                start = match.start()
        elif span.entity_type == "LOCATION" and "LOCATION" in pseudonymized:
            if _STREET_WORDS.search(text, span.start, span.end):
                match = _HOUSE_NUMBER_BEFORE.search(text, floor, start)
                if match and match.end() == start:
                    start = match.start()
            previous = out[-1] if out else None
            if (
                previous is not None
                and previous.entity_type == "LOCATION"
                and _ADDRESS_GAP.match(text[previous.end : start])
            ):
                out[-1] = Span(
                    previous.start, span.end, "LOCATION", max(previous.score, span.score), previous.recognizer
                )
                continue
        out.append(
            span
            if start == span.start
            else Span(start, span.end, span.entity_type, span.score, span.recognizer)
        )
    return out
