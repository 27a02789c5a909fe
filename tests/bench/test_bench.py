"""The benchmark's corpora and ratio arithmetic (the measurements themselves run in `make bench`)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

from corpora import (  # noqa: E402
    NOTES_MAX_CHARS,
    NOTES_MIN_CHARS,
    corpus_digest,
    long_documents,
    note_documents,
    read_documents,
)
from run_bench import compute_ratios  # noqa: E402


def test_when_long_corpus_built_then_same_texts_as_before_the_notes_corpus_existed() -> None:
    # digest of long_documents(3) at commit 7ca103f: refactoring must not move the long corpus
    assert corpus_digest(long_documents(3)) == "90cb96a4fdc84884"


def test_when_notes_corpus_built_then_note_length_deterministic_with_gold_inside() -> None:
    docs = note_documents(12)
    assert corpus_digest(docs) == corpus_digest(note_documents(12))
    for doc in docs:
        assert doc.id.startswith("n")
        assert NOTES_MIN_CHARS <= len(doc.text) <= NOTES_MAX_CHARS
        assert doc.spans and all(0 <= s < e <= len(doc.text) for s, e, _ in doc.spans)


def test_when_notes_file_given_then_its_first_documents_are_read(tmp_path: Path) -> None:
    path = tmp_path / "notes.jsonl"
    path.write_text(
        '{"id": 7, "text": "Seen by Ann.", "spans": [{"start": 8, "end": 11, "label": "PERSON"}]}\n'
        '{"id": 8, "text": "x", "spans": []}\n',
        encoding="utf-8",
    )
    docs = read_documents(path, 1)
    assert [(d.id, d.text, d.spans) for d in docs] == [("7", "Seen by Ann.", [(8, 11, "PERSON")])]


def test_when_whole_process_rows_then_p_over_a_uses_process_wall_times() -> None:
    rows = [
        {
            "setup": "a",
            "corpus": "notes",
            "docs": 1000,
            "startup_s": 4.0,
            "wall_s": 40.0,
            "process_s": 44.0,
            "docs_per_s": 25.0,
        },
        {
            "setup": "p",
            "corpus": "notes",
            "docs": 1000,
            "startup_s": None,
            "wall_s": 22.0,
            "process_s": 22.0,
            "docs_per_s": 1000 / 22,
        },
    ]
    ratios = {(r["name"], r["corpus"]): r["value"] for r in compute_ratios(rows, {"notes": 1000})}
    assert ratios[("p/a proc", "notes")] == pytest.approx(2.0)
