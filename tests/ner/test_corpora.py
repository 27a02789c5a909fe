"""deid/ner/corpora.py: document and patient selection; training configs read CoNLL documents whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from deid.errors import ConfigError
from deid.ner.config import load_train_config
from deid.ner.corpora import physionet_patient_folds, select_documents
from deid.ner.data import Document
from deid.ner.train import load_dev_sets, load_source


def _notes(patients: int, per_patient: int = 2) -> list[Document]:
    return [
        Document(f"physionet-{p}-{n}", f"note {p}.{n}", [])
        for p in range(1, patients + 1)
        for n in range(1, per_patient + 1)
    ]


def test_when_selecting_every_fourth_document_then_the_rest_is_the_complement() -> None:
    docs = [Document(str(i), f"t{i}", []) for i in range(10)]
    picked = select_documents(docs, every=4, offset=3)
    rest = select_documents(docs, every=4, offset=3, keep="rest")
    assert [d.id for d in picked] == ["3", "7"]
    assert sorted(d.id for d in picked + rest) == sorted(d.id for d in docs)


def test_when_selecting_by_patient_then_it_matches_the_evaluation_folds() -> None:
    notes = _notes(12)
    folds = physionet_patient_folds(notes, k=5, seed=10)
    for fold in folds:
        dev = select_documents(notes, every=5, offset=fold.index, by="patient", seed=10)
        fit = select_documents(notes, every=5, offset=fold.index, by="patient", seed=10, keep="rest")
        assert [d.id for d in dev] == [d.id for d in fold.validation]
        assert [d.id for d in fit] == [d.id for d in fold.fit]


def _config(tmp_path: Path, body: str) -> Path:
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "wiki.conll").write_text(
        "".join(
            f"-DOCSTART- O\n\nArticle{i} O\nby O\nAnn B-PER\nLee I-PER\n\nBank B-ORG\n\n" for i in range(4)
        ),
        encoding="utf-8",
    )
    path = tmp_path / "c.yaml"
    path.write_text(
        f"name: t\ndata_dir: {tmp_path / 'data'}\nlabels: [PERSON, ORGANIZATION]\noutput: {{dir: {tmp_path / 'o'}}}\n"
        + body,
        encoding="utf-8",
    )
    return path


def test_when_a_source_selects_conll_documents_then_whole_articles_are_read_and_role_words_dropped(
    tmp_path: Path,
) -> None:
    config = load_train_config(
        _config(
            tmp_path,
            "sources:\n  - {name: wiki, kind: conll, path: wiki.conll, label_map: conll, drop_words: [bank],"
            " select: {every: 4, offset: 3, keep: rest}}\n"
            "dev:\n  - {name: d, kind: conll, path: wiki.conll, label_map: conll, select: {every: 4, offset: 3}}\n",
        )
    )
    docs = load_source(config, config.sources[0])
    assert [d.text.split("\n")[0] for d in docs] == [
        "Article0 by Ann Lee",
        "Article1 by Ann Lee",
        "Article2 by Ann Lee",
    ]
    assert all([d.text[s:e] for s, e, _ in d.spans] == ["Ann Lee"] for d in docs)
    [(dev, dev_docs)] = load_dev_sets(config)
    assert dev.name == "d" and [d.text.split("\n")[0] for d in dev_docs] == ["Article3 by Ann Lee"]
    assert [lab for _, _, lab in dev_docs[0].spans] == ["PERSON", "ORGANIZATION"]


def test_when_set_names_a_list_index_then_that_item_changes_and_a_bad_index_is_a_config_error(
    tmp_path: Path,
) -> None:
    path = _config(tmp_path, "sources:\n  - {name: wiki, kind: conll, path: wiki.conll, weight: 1.0}\n")
    assert load_train_config(path, {"sources.0.weight": 0.25}).sources[0].weight == 0.25
    with pytest.raises(ConfigError, match="not an index"):
        load_train_config(path, {"sources.3.weight": 0.25})
