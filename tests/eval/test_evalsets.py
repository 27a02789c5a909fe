"""eval/evalsets.py: CoNLL documents, the held-out/decision parts of general_ner, patient folds."""

from __future__ import annotations

from pathlib import Path

import pytest
from evalsets import (
    general_ner_documents,
    load_splits,
    patient_id,
    physionet_patient_folds,
    read_conll_documents,
    subsample,
)

from deid.ner.data import Document

LABELS = {"PER": "PERSON", "LOC": "LOCATION", "ORG": "ORGANIZATION", "MISC": None}


def _wikigold(n_articles: int) -> str:
    parts = []
    for i in range(n_articles):
        parts.append(f"-DOCSTART- O\n\nArticle{i} I-MISC\nby O\nAnn I-PER\nLee I-PER\n\nin O\nOslo I-LOC\n\n")
    return "".join(parts)


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "general_ner"
    folder.mkdir()
    (folder / "wikigold.conll").write_text(_wikigold(8), encoding="utf-8")
    (folder / "btc_h.conll").write_text("@\tB-PER\nbob\tB-PER\nhi\tO\n\nAcme\tB-ORG\n\n", encoding="utf-8")
    (folder / "btc_a.conll").write_text("at\tO\nParis\tB-LOC\n\n", encoding="utf-8")
    (folder / "sec_filings_test.conll").write_text(
        "-DOCSTART- -X- O O\n\nBank NNP - I-ORG\nof IN - I-ORG\nX NNP - I-ORG\n\n", encoding="utf-8"
    )
    (folder / "sec_filings_train.conll").write_text(
        "-DOCSTART- -X- O O\n\nJohn NNP - I-PER\n\n", encoding="utf-8"
    )
    return tmp_path


def test_when_a_file_has_docstart_lines_then_sentences_join_into_documents(data_dir: Path) -> None:
    docs = read_conll_documents(data_dir / "general_ner" / "wikigold.conll", label_map=LABELS)
    assert len(docs) == 8
    doc = docs[0]
    assert doc.text == "Article0 by Ann Lee\nin Oslo"
    assert [(doc.text[s:e], label) for s, e, label in doc.spans] == [
        ("Ann Lee", "PERSON"),
        ("Oslo", "LOCATION"),
    ]


def test_when_a_file_has_no_docstart_then_each_sentence_is_a_document(data_dir: Path) -> None:
    docs = read_conll_documents(data_dir / "general_ner" / "btc_h.conll", label_map=LABELS)
    assert [d.text for d in docs] == ["@ bob hi", "Acme"]
    assert docs[1].spans == [(0, 4, "ORGANIZATION")]


def test_when_splitting_general_ner_then_held_out_and_decision_parts_are_disjoint(data_dir: Path) -> None:
    held = general_ner_documents(data_dir, part="held_out")
    decision = general_ner_documents(data_dir, part="decision")
    assert sorted(held) == ["sec_filings", "tweets", "wikipedia"]
    # every fourth article (0-based index 3 and 7) is held out, the rest is decision data
    assert [d.text.split()[0] for d in held["wikipedia"]] == ["Article3", "Article7"]
    assert len(decision["wikipedia"]) == 6
    held_texts = {d.text for docs in held.values() for d in docs}
    assert not held_texts & {d.text for docs in decision.values() for d in docs}
    assert [d.text for d in decision["tweets"]] == ["at Paris"]  # btc_a only; btc_h is held out
    assert [d.text for d in decision["sec_filings"]] == ["John"]


def test_when_the_split_file_is_read_then_it_holds_out_the_physionet_dev_patients() -> None:
    splits = load_splits()
    assert splits["physionet"]["held_out"].endswith("physionet_dev.jsonl")
    assert splits["physionet"]["decision"].endswith("physionet_train.jsonl")


def _notes(patients: range, per_patient: int = 3) -> list[Document]:
    return [Document(f"physionet-{p}-{n}", "x", []) for p in patients for n in range(1, per_patient + 1)]


def test_when_folding_by_patient_then_no_patient_is_in_two_folds() -> None:
    docs = _notes(range(1, 41))
    folds = physionet_patient_folds(docs, k=5, seed=10)
    seen: set[int] = set()
    for fold in folds:
        validation = {patient_id(d.id) for d in fold.validation}
        fit = {patient_id(d.id) for d in fold.fit}
        assert validation == set(fold.patients)
        assert not validation & fit
        assert not validation & seen
        seen |= validation
        assert len(fold.fit) + len(fold.validation) == len(docs)
    assert seen == set(range(1, 41))
    assert {len(f.patients) for f in folds} == {8}


def test_when_folding_twice_then_the_folds_are_the_same_whatever_the_note_order() -> None:
    docs = _notes(range(1, 41))
    a = physionet_patient_folds(docs, k=5, seed=10)
    b = physionet_patient_folds(list(reversed(docs)), k=5, seed=10)
    assert [f.patients for f in a] == [f.patients for f in b]
    assert [f.patients for f in a] != [f.patients for f in physionet_patient_folds(docs, k=5, seed=11)]


@pytest.mark.parametrize("bad", ["note-1", "physionet-x-1", "physionet-3"])
def test_when_an_id_is_not_a_physionet_note_then_patient_id_raises(bad: str) -> None:
    with pytest.raises(ValueError, match="not a PhysioNet note id"):
        patient_id(bad)


def test_when_there_are_fewer_patients_than_folds_then_folding_raises() -> None:
    with pytest.raises(ValueError, match="cannot make 5 folds"):
        physionet_patient_folds(_notes(range(1, 4)), k=5)


def test_when_subsampling_then_the_draw_is_fixed_and_keeps_order() -> None:
    docs = _notes(range(1, 11), per_patient=1)
    picked = subsample(docs, 4, seed=1)
    assert picked == subsample(docs, 4, seed=1)
    assert [docs.index(d) for d in picked] == sorted(docs.index(d) for d in picked)
    assert subsample(docs, None, seed=1) == docs


@pytest.mark.parametrize(
    ("text", "spans", "glued", "glued_spans"),
    [
        ("@ bob hi", [(0, 1, "PERSON"), (2, 5, "PERSON")], "@bob hi", [(0, 4, "PERSON")]),
        ("hi @ bob", [(5, 8, "PERSON")], "hi @bob", [(4, 7, "PERSON")]),
        ("# Paris now", [(2, 7, "LOCATION")], "#Paris now", [(1, 6, "LOCATION")]),
        (
            "a @ b",
            [(0, 1, "ORGANIZATION"), (4, 5, "PERSON")],
            "a @b",
            [(0, 1, "ORGANIZATION"), (3, 4, "PERSON")],
        ),
        ("x@ y", [(3, 4, "PERSON")], "x@ y", [(3, 4, "PERSON")]),  # not a lone token: unchanged
        ("5 @ 6", [], "5 @6", []),
    ],
)
def test_when_gluing_prefix_tokens_then_text_and_spans_move_together(
    text: str, spans: list, glued: str, glued_spans: list
) -> None:
    from evalsets import glue_prefix_tokens

    doc = glue_prefix_tokens(Document("d", text, spans))
    assert (doc.text, doc.spans) == (glued, glued_spans)


def test_when_a_gold_span_is_a_role_word_then_it_is_dropped() -> None:
    from evalsets import drop_gold_words

    doc = Document(
        "d",
        "The Borrower met Ann at Union Bank",
        [(4, 12, "PERSON"), (17, 20, "PERSON"), (24, 34, "ORGANIZATION")],
    )
    assert drop_gold_words([doc], ["borrower", "bank"])[0].spans == [
        (17, 20, "PERSON"),
        (24, 34, "ORGANIZATION"),
    ]
