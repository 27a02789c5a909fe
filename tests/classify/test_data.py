"""Reading labelled files and stratified sampling."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from deid.classify.data import read_labelled, read_texts, sample_shots, stratified_split, stratified_subsample
from deid.errors import InputError

ROWS = [{"body": "first text", "tier": "public"}, {"body": "second, with comma", "tier": "restricted"}]


def _write(path: Path, kind: str) -> Path:
    frame = pd.DataFrame(ROWS)
    if kind == "parquet":
        frame.to_parquet(path)
    elif kind == "csv":
        frame.to_csv(path, index=False)
    elif kind == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    elif kind == "tsv":
        path.write_text("body\ttier\nfirst text\tpublic\nsecond, with comma\trestricted\n")
    return path


@pytest.mark.parametrize("kind", ["parquet", "csv", "jsonl", "tsv"])
def test_when_file_has_columns_then_texts_and_labels_are_read(tmp_path: Path, kind: str) -> None:
    data = read_labelled(_write(tmp_path / f"docs.{kind}", kind), "body", "tier")
    assert data.texts == ["first text", "second, with comma"]
    assert data.labels == ["public", "restricted"]


def test_when_file_has_no_extension_then_it_is_read_as_tsv(tmp_path: Path) -> None:
    path = tmp_path / "SMSCollection"
    path.write_text('Label\tSMS\nham\tsay "hi" to me\nspam\tWIN now\n')
    data = read_labelled(path, "SMS", "Label")
    assert data.texts == ['say "hi" to me', "WIN now"]  # quotes kept, not parsed


def test_when_file_is_missing_then_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        read_labelled(tmp_path / "nope.csv", "body", "tier")


@pytest.mark.parametrize("kind", ["parquet", "csv", "jsonl"])
def test_when_column_is_missing_then_input_error_names_it(tmp_path: Path, kind: str) -> None:
    path = _write(tmp_path / f"docs.{kind}", kind)
    with pytest.raises(InputError) as info:
        read_labelled(path, "text", "tier")
    assert info.value.column == "text"
    assert "columns: body, tier" in str(info.value)


def test_when_a_label_is_missing_then_input_error_gives_the_row(tmp_path: Path) -> None:
    path = tmp_path / "docs.csv"
    path.write_text("body,tier\na,x\nb,\n")
    with pytest.raises(InputError) as info:
        read_labelled(path, "body", "tier")
    assert info.value.row == 2


def test_when_reading_texts_then_empty_values_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "corpus.jsonl"
    path.write_text('{"text": "a"}\n{"text": null}\n{"text": "  "}\n{"text": "b"}\n')
    assert read_texts(path, "text") == ["a", "b"]


LABELS = ["a"] * 10 + ["b"] * 5 + ["c"] * 3


def test_when_sampling_shots_then_k_per_class_seeded_and_distinct() -> None:
    first = sample_shots(LABELS, 3, seed=1)
    assert Counter(LABELS[i] for i in first) == {"a": 3, "b": 3, "c": 3}
    assert len(set(first.tolist())) == 9
    assert np.array_equal(first, sample_shots(LABELS, 3, seed=1))
    assert not np.array_equal(np.sort(first), np.sort(sample_shots(LABELS, 3, seed=2)))


def test_when_a_class_has_fewer_than_k_then_all_of_it_is_taken() -> None:
    picked = sample_shots(LABELS, 4, seed=0)
    assert Counter(LABELS[i] for i in picked) == {"a": 4, "b": 4, "c": 3}


def test_when_shots_below_one_then_value_error() -> None:
    with pytest.raises(ValueError):
        sample_shots(LABELS, 0)


def test_when_subsampling_then_proportions_are_kept() -> None:
    labels = ["x"] * 80 + ["y"] * 20
    picked = stratified_subsample(labels, 50, seed=0)
    assert Counter(labels[i] for i in picked) == {"x": 40, "y": 10}
    assert len(stratified_subsample(labels, 500, seed=0)) == 100


def test_when_splitting_then_parts_are_disjoint_and_stratified() -> None:
    labels = ["x"] * 80 + ["y"] * 20
    train, test = stratified_split(labels, 0.25, seed=0)
    assert set(train.tolist()).isdisjoint(test.tolist())
    assert Counter(labels[i] for i in test) == {"x": 20, "y": 5}
