"""What the recognizers see: a cleaned copy of each text, with spans mapped back to the original.

* Control characters (C0 other than tab, newline and carriage return; DEL) are removed: a NUL
  inside ``617\\x00-555-0123`` would otherwise hide the number from every recognizer. Spans found
  in the cleaned text are mapped back to original offsets and cover the removed characters too.
* Runs of 64 or more identical non-alphanumeric characters (``=====``, ``*****``) are replaced by
  spaces of the same length: spaCy's tokenizer is quadratic on them, and they hold no PII.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from deid.detect.spans import Span

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LONG_RUN = re.compile(r"([^\w\s])\1{63,}")


@dataclass(frozen=True)
class CleanedText:
    """A text prepared for detection.

    Attributes:
        text: what the recognizers see.
        removed: original offsets of the removed characters (empty: offsets are unchanged).
    """

    text: str
    removed: tuple[int, ...] = ()

    def to_original(self, spans: list[Span]) -> list[Span]:
        """Map spans on :attr:`text` back to offsets in the original text."""
        if not self.removed:
            return spans
        kept = _kept_positions(len(self.text), self.removed)
        out = []
        for span in spans:
            start = kept[span.start]
            end = kept[span.end - 1] + 1
            out.append(Span(start, end, span.entity_type, span.score, span.recognizer))
        return out


def _kept_positions(length: int, removed: tuple[int, ...]) -> list[int]:
    positions = []
    gone = set(removed)
    index = 0
    while len(positions) < length:
        if index not in gone:
            positions.append(index)
        index += 1
    return positions


def clean_for_detection(text: str) -> CleanedText:
    """The cleaned copy of ``text`` (the same object's content when nothing needs cleaning)."""
    removed: list[int] = []
    if _CONTROL.search(text):
        pieces = []
        last = 0
        for match in _CONTROL.finditer(text):
            position = match.start()
            pieces.append(text[last:position])
            before = text[position - 1] if position else " "
            if before.isalpha() or before.isspace():
                pieces.append(" ")
            else:
                removed.append(position)
            last = position + 1
        pieces.append(text[last:])
        text = "".join(pieces)
    if _LONG_RUN.search(text):
        text = _LONG_RUN.sub(lambda m: " " * len(m.group(0)), text)
    return CleanedText(text, tuple(removed))
