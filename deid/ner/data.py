"""Readers for labelled NER data (spans JSONL, CoNLL/BIO) and label maps to Presidio entity types."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from deid.errors import InputError

logger = logging.getLogger(__name__)

#: PhysioNet deid gold labels -> Presidio entity types (OTHER is dropped).
PHYSIONET_TO_PRESIDIO: dict[str, str | None] = {
    "DATE": "DATE_TIME",
    "PHONE": "PHONE_NUMBER",
    "PERSON": "PERSON",
    "LOCATION": "LOCATION",
    "AGE": "AGE",
    "OTHER": None,
}

#: WNUT-17 labels -> Presidio entity types (the other types are not personal data here).
WNUT_TO_PRESIDIO: dict[str, str | None] = {
    "person": "PERSON",
    "location": "LOCATION",
    "corporation": "ORGANIZATION",
    "group": None,
    "product": None,
    "creative-work": None,
}

#: CoNLL-2003-style PER/LOC/ORG/MISC tags (``general_ner/``: wikigold, Broad Twitter Corpus, SEC
#: filings) -> Presidio entity types; MISC (nationalities, events, works) is not personal data here.
CONLL_TO_PRESIDIO: dict[str, str | None] = {
    "PER": "PERSON",
    "LOC": "LOCATION",
    "ORG": "ORGANIZATION",
    "MISC": None,
}

#: Named label maps usable from configuration and the command line.
LABEL_MAPS: dict[str, dict[str, str | None]] = {
    "physionet": PHYSIONET_TO_PRESIDIO,
    "wnut": WNUT_TO_PRESIDIO,
    "conll": CONLL_TO_PRESIDIO,
    "identity": {},
}


@dataclass
class Document:
    """A text with gold spans ``(start, end, label)``; offsets are Python string indices."""

    id: str
    text: str
    spans: list[tuple[int, int, str]] = field(default_factory=list)
    source: str = ""


def map_labels(docs: Iterable[Document], label_map: Mapping[str, str | None] | None) -> Iterator[Document]:
    """Rename span labels through ``label_map``; labels mapped to None are dropped, absent ones kept.

    Duplicate spans (same start, end, label after mapping) are removed.
    """
    for doc in docs:
        spans: set[tuple[int, int, str]] = set()
        for start, end, label in doc.spans:
            target = label_map.get(label, label) if label_map else label
            if target is not None:
                spans.add((start, end, target))
        yield Document(doc.id, doc.text, sorted(spans), doc.source)


def read_spans_jsonl(path: str | Path, *, source: str = "") -> Iterator[Document]:
    """Read spans JSONL (``{"id", "text", "spans": [{"start", "end", "label"}]}`` per line).

    Raises:
        InputError: a line is not JSON, lacks ``text``, or has a span outside the text.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                text = record["text"]
                spans = [
                    (int(s["start"]), int(s["end"]), str(s.get("label") or s["entity_type"]))
                    for s in record.get("spans", [])
                ]
            except (ValueError, KeyError, TypeError) as exc:
                raise InputError(
                    path, f"not a spans JSONL record ({type(exc).__name__}: {exc})", row=number
                ) from None
            for start, end, _ in spans:
                if not 0 <= start <= end <= len(text):
                    raise InputError(
                        path, f"span [{start}, {end}) outside a text of length {len(text)}", row=number
                    )
            yield Document(str(record.get("id", number)), text, spans, source or path.stem)


def read_predictions_jsonl(path: str | Path) -> dict[str, list[tuple[int, int, str]]]:
    """Read predicted spans JSONL (``text`` optional) into ``{id: [(start, end, label)]}``."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    out: dict[str, list[tuple[int, int, str]]] = {}
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                out[str(record["id"])] = [
                    (int(s["start"]), int(s["end"]), str(s.get("label") or s.get("entity_type")))
                    for s in record.get("spans", [])
                ]
            except (ValueError, KeyError, TypeError) as exc:
                raise InputError(
                    path, f"not a spans JSONL record ({type(exc).__name__})", row=number
                ) from None
    return out


def read_conll(path: str | Path, *, source: str = "") -> Iterator[Document]:
    """Read a CoNLL/BIO file (token, whitespace, tag; blank line between sentences).

    Tokens are joined with single spaces; ``I-`` after ``O`` or after another type starts a new span.

    Raises:
        InputError: a line has no tag or a tag is not BIO.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    name = source or path.stem
    tokens: list[tuple[str, str]] = []
    count = 0

    def flush() -> Document:
        nonlocal count
        count += 1
        text_parts: list[str] = []
        spans: list[tuple[int, int, str]] = []
        offset = 0
        current: list = []  # [start, end, label]
        for token, tag in tokens:
            start = offset
            end = start + len(token)
            text_parts.append(token)
            offset = end + 1
            if tag == "O":
                current = []
                continue
            prefix, label = tag[:1], tag[2:]
            if prefix == "B" or not current or current[2] != label:
                current = [start, end, label]
                spans.append(current)  # type: ignore[arg-type]
            else:
                current[1] = end
        return Document(f"{name}-{count}", " ".join(text_parts), [tuple(s) for s in spans], name)  # type: ignore[misc]

    with open(path, encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip("\n")
            if not line.strip():
                if tokens:
                    yield flush()
                    tokens = []
                continue
            parts = line.split("\t") if "\t" in line else line.split()
            if len(parts) < 2:
                raise InputError(path, "expected 'token<TAB>tag'", row=number)
            token, tag = parts[0], parts[-1].strip()
            if tag != "O" and not (tag[:2] in ("B-", "I-") and len(tag) > 2):
                raise InputError(path, f"tag '{tag}' is not BIO", row=number)
            tokens.append((token.strip() or "_", tag))
    if tokens:
        yield flush()


def read_documents(path: str | Path, *, fmt: str = "auto", source: str = "") -> list[Document]:
    """Read spans JSONL or CoNLL, by ``fmt`` ("jsonl", "conll") or by file extension when "auto"."""
    path = Path(path)
    if fmt == "auto":
        fmt = "jsonl" if path.suffix.lower() in (".jsonl", ".json", ".ndjson") else "conll"
    if fmt == "jsonl":
        return list(read_spans_jsonl(path, source=source))
    if fmt == "conll":
        return list(read_conll(path, source=source))
    raise InputError(path, f"unknown format '{fmt}' (expected jsonl or conll)")
