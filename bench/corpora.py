"""Deterministic benchmark corpora with exact gold spans, built from deid's synthetic generator.

* **short**: one- or two-sentence documents (chat lines, form fields, sentences of notes and
  e-mails). Each is cut from a synthetic document of a rotating style at sentence boundaries that
  never fall inside a gold span; the spans inside the cut are kept with shifted offsets.
* **long**: clinical-note-length documents (1,500-4,000 characters): several synthetic clinical
  notes, nursing notes and forms about the same patient, joined by blank lines.
* **notes**: the "small job": documents of 560-1,160 characters (about 860), built like **long**.

The same sizes and seeds always give the same texts (see :func:`corpus_digest`).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

SHORT_SEED = 5101
LONG_SEED = 5202
LONG_MIN_CHARS = 1500
MIN_SHORT_CHARS = 20
LONG_MAX_CHARS = 4000
NOTES_SEED = 5303
NOTES_MIN_CHARS = 560
NOTES_MAX_CHARS = 1160
# Styles the long documents are assembled from, with their weights.
LONG_PART_STYLES = (("clinical_note", 0.55), ("nursing_note", 0.3), ("form", 0.15))

# A sentence ends at a line break, or at . ! ? followed by blanks, unless the word before the stop is
# a title or a usual abbreviation ("Dr. Hardy", "approx. 3 days").
_BOUNDARY = re.compile(r"\n+|(?<=[.!?])[ \t]+")
_ABBREVIATIONS = frozenset(
    {"dr", "mr", "mrs", "ms", "st", "pt", "pts", "jr", "sr", "no", "approx", "vs", "e.g", "i.e", "dept"}
)


@dataclass
class Document:
    """A benchmark document: its text and gold ``(start, end, label)`` spans (end exclusive)."""

    id: str
    text: str
    spans: list[tuple[int, int, str]] = field(default_factory=list)


def _sentences(text: str, spans: Sequence[tuple[int, int, str]]) -> list[tuple[int, int]]:
    """Character ranges of the sentences of ``text`` (stripped), never cutting a gold span."""
    inside = [False] * len(text)
    for start, end, _ in spans:
        for i in range(start, end):
            inside[i] = True
    cuts = [0]
    for match in _BOUNDARY.finditer(text):
        start, end = match.span()
        if any(inside[start:end]):
            continue
        word = text[:start].rsplit(None, 1)[-1] if text[:start].strip() else ""
        if not match.group().startswith("\n") and word.rstrip(".!?").lower() in _ABBREVIATIONS:
            continue
        cuts += [start, end]
    cuts.append(len(text))
    ranges = []
    for start, end in zip(cuts[::2], cuts[1::2], strict=True):
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end - start >= 3:
            ranges.append((start, end))
    return ranges


def _cut(doc_id: str, text: str, spans: Sequence[tuple[int, int, str]], start: int, end: int) -> Document:
    kept = [(s - start, e - start, label) for s, e, label in spans if s >= start and e <= end]
    return Document(doc_id, text[start:end], kept)


def _spans_of(doc: dict) -> list[tuple[int, int, str]]:
    return [(int(s["start"]), int(s["end"]), str(s["label"])) for s in doc["spans"]]


def short_documents(n: int, seed: int = SHORT_SEED) -> list[Document]:
    """``n`` documents of one or two sentences (styles in turn; about 3 in 4 have gold spans).

    Args:
        n: number of documents.
        seed: generator seed.
    """
    from deid.ner.synth import generate_documents

    rng = random.Random(seed)
    out: list[Document] = []
    # A few spare sources in case a source document has no usable sentence.
    # broad=False: the corpus stays what earlier bench rows were measured on.
    for source in generate_documents(n + n // 10 + 10, seed=seed, broad=False):
        if len(out) == n:
            break
        spans = _spans_of(source)
        sentences = _sentences(source["text"], spans)
        if not sentences:
            continue
        first = rng.randrange(len(sentences))
        last = min(first + rng.choice((0, 1)), len(sentences) - 1)
        if sentences[last][1] - sentences[first][0] < MIN_SHORT_CHARS and last + 1 < len(sentences):
            last += 1  # a lone heading ("Description:") takes the next sentence with it
        out.append(_cut(f"s{len(out):06d}", source["text"], spans, sentences[first][0], sentences[last][1]))
    if len(out) < n:  # pragma: no cover - the generator always yields sentences
        raise RuntimeError(f"could only build {len(out)} short documents")
    return out


def long_documents(n: int, seed: int = LONG_SEED) -> list[Document]:
    """``n`` documents of 1,500-4,000 characters: notes about one patient joined by blank lines.

    Args:
        n: number of documents.
        seed: generator seed.
    """
    return _assembled_documents(n, seed, LONG_MIN_CHARS, LONG_MAX_CHARS, "l")


def note_documents(n: int, seed: int = NOTES_SEED) -> list[Document]:
    """``n`` clinical-note-length documents of 560-1,160 characters (about 860 on average).

    The "small job" of the benchmark: what a new user times first (a daily extract of notes).
    Built like :func:`long_documents`, with a shorter target length.

    Args:
        n: number of documents.
        seed: generator seed.
    """
    return _assembled_documents(n, seed, NOTES_MIN_CHARS, NOTES_MAX_CHARS, "n")


def _assembled_documents(n: int, seed: int, min_chars: int, max_chars: int, prefix: str) -> list[Document]:
    """Documents of ``min_chars``-``max_chars``: synthetic notes about one patient joined by blank lines."""
    from deid.ner.synth import SyntheticGenerator

    rng = random.Random(seed)
    gen = SyntheticGenerator(seed=seed)
    styles = [s for s, _ in LONG_PART_STYLES]
    weights = [w for _, w in LONG_PART_STYLES]
    out: list[Document] = []
    for i in range(n):
        target = rng.randint(min_chars, max_chars)
        patient = gen.new_person()
        text = ""
        spans: list[tuple[int, int, str]] = []
        style = "clinical_note"
        while len(text) < target:
            part = gen.document(style, patient=patient)
            offset = len(text) + (2 if text else 0)
            if offset + len(part["text"]) > max_chars:
                if len(text) >= min_chars:
                    break
                style = "nursing_note"  # the shortest style always fits below the minimum
                continue
            text = (text + "\n\n" if text else "") + part["text"]
            spans += [(s + offset, e + offset, label) for s, e, label in _spans_of(part)]
            style = rng.choices(styles, weights)[0]
        out.append(Document(f"{prefix}{i:05d}", text, spans))
    return out


def read_documents(path: str | Path, n: int) -> list[Document]:
    """The first ``n`` documents of a spans-JSONL file (``{"id", "text", "spans": [{start, end, label}]}``)."""
    out: list[Document] = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if len(out) == n:
                break
            if line.strip():
                row = json.loads(line)
                out.append(Document(str(row["id"]), row["text"], _spans_of(row)))
    return out


def corpus_digest(docs: Sequence[Document]) -> str:
    """A short sha256 of the texts and spans (to check that two runs measured the same corpus)."""
    digest = hashlib.sha256()
    for doc in docs:
        digest.update(doc.text.encode("utf-8"))
        digest.update(repr(doc.spans).encode())
    return digest.hexdigest()[:16]


def iter_stats(docs: Sequence[Document]) -> Iterator[tuple[str, float]]:
    """Summary numbers of a corpus: documents, characters, mean/min/max length, gold spans."""
    lengths = [len(d.text) for d in docs]
    yield "documents", len(docs)
    yield "chars", sum(lengths)
    yield "mean_chars", round(sum(lengths) / max(len(lengths), 1), 1)
    yield "min_chars", min(lengths, default=0)
    yield "max_chars", max(lengths, default=0)
    yield "gold_spans", sum(len(d.spans) for d in docs)
    yield "docs_with_gold", sum(bool(d.spans) for d in docs)
