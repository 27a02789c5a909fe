"""The span: the only value that passes from detection to transformation.

Merge rule (deterministic, leak-safe): spans that overlap are merged into one span covering their
union, because dropping the loser of an overlap could leave part of a value in clear text. The
merged span takes the entity type, score and recognizer of its best member: a confident pattern
finding (score >= 0.5) before a statistical NER model's (such a pattern fires on explicit evidence:
"age 93", "Zip: 96348", a Luhn-valid card; a weak one such as a bare number that libphonenumber
accepts competes on score like an NER finding), then the highest score, then a structured type (e-mail, phone,
card, IBAN, SSN, IP, URL, identifiers) before a linguistic one, then the longest, then entity type
name, then recognizer name. Spans of the same entity type separated only
by spaces or tabs (``John`` ``Smith``) are joined as well, so that a name is transformed as one value.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Span:
    """A detected entity: ``text[start:end]`` is of type ``entity_type``.

    Attributes:
        start: start offset (Python string index, inclusive).
        end: end offset (exclusive).
        entity_type: a Presidio entity type name (PERSON, EMAIL_ADDRESS, ...).
        score: confidence in [0, 1].
        recognizer: name of the recognizer that found it.
    """

    start: int
    end: int
    entity_type: str
    score: float
    recognizer: str = ""

    def to_json(self) -> dict[str, object]:
        """The spans-JSONL form (no text value)."""
        return {
            "start": self.start,
            "end": self.end,
            "label": self.entity_type,
            "score": round(float(self.score), 4),
            "recognizer": self.recognizer,
        }


STRUCTURED_TYPES = frozenset(
    {
        "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "IP_ADDRESS", "URL", "ID",
        "US_PASSPORT", "US_DRIVER_LICENSE", "US_BANK_NUMBER", "US_ITIN", "MEDICAL_LICENSE", "MAC_ADDRESS",
        "UUID", "CRYPTO", "UK_NHS",
    }
)  # fmt: skip


NER_RECOGNIZERS = frozenset({"SpacyRecognizer", "TransformerNerRecognizer"})


CONFIDENT_PATTERN_SCORE = 0.5


def _rank(span: Span) -> tuple[int, float, int, int, str, str]:
    # Sorted ascending, the best span comes first.
    statistical = 1 if span.recognizer in NER_RECOGNIZERS or span.score < CONFIDENT_PATTERN_SCORE else 0
    linguistic = 0 if span.entity_type in STRUCTURED_TYPES else 1
    return (statistical, -span.score, linguistic, -(span.end - span.start), span.entity_type, span.recognizer)


def merge_spans(spans: Iterable[Span], text: str | None = None) -> list[Span]:
    """Merge overlapping spans (and same-type spans separated by blanks) deterministically.

    Args:
        spans: candidate spans, in any order, possibly overlapping.
        text: the document; needed to join same-type spans separated by blanks. Without it only
            overlapping spans are merged.

    Returns:
        Non-overlapping spans sorted by start offset.
    """
    ordered = sorted((s for s in spans if s.end > s.start), key=lambda s: (s.start, s.end))
    groups: list[list[Span]] = []
    group_end = -1
    for span in ordered:
        if groups and span.start < group_end:
            groups[-1].append(span)
            group_end = max(group_end, span.end)
        else:
            groups.append([span])
            group_end = span.end
    merged = [_merge_group(group) for group in groups]
    if text is None or not merged:
        return merged
    return _join_blank_separated(merged, text)


def _merge_group(group: Sequence[Span]) -> Span:
    if len(group) == 1:
        return group[0]
    best = min(group, key=_rank)
    start = min(s.start for s in group)
    end = max(s.end for s in group)
    return Span(start, end, best.entity_type, best.score, best.recognizer)


def _join_blank_separated(spans: list[Span], text: str) -> list[Span]:
    out = [spans[0]]
    for span in spans[1:]:
        last = out[-1]
        gap = text[last.end : span.start]
        if span.entity_type == last.entity_type and gap.strip(" \t") == "" and len(gap) <= 3:
            out[-1] = Span(
                last.start, span.end, last.entity_type, max(last.score, span.score), last.recognizer
            )
        else:
            out.append(span)
    return out
