"""Readers of labelled data and label maps."""

from __future__ import annotations

import json

import pytest

from deid.errors import InputError
from deid.ner.data import (
    PHYSIONET_TO_PRESIDIO,
    WNUT_TO_PRESIDIO,
    Document,
    map_labels,
    read_conll,
    read_documents,
)

CONLL = "Meet\tO\nJohn\tB-person\nSmith\tI-person\nin\tO\nNew\tB-location\nYork\tI-location\n\nApple\tB-corporation\nrocks\tO\nIphone\tB-product\n"


def test_when_reading_conll_then_tokens_are_joined_and_spans_point_at_them(tmp_path):
    path = tmp_path / "x.conll"
    path.write_text(CONLL, encoding="utf-8")
    docs = list(read_conll(path))
    assert [d.text for d in docs] == ["Meet John Smith in New York", "Apple rocks Iphone"]
    first = docs[0]
    assert [(first.text[s:e], label) for s, e, label in first.spans] == [
        ("John Smith", "person"),
        ("New York", "location"),
    ]


@pytest.mark.parametrize(
    "label_map, expected",
    [
        (WNUT_TO_PRESIDIO, [["PERSON", "LOCATION"], ["ORGANIZATION"]]),
        (None, [["person", "location"], ["corporation", "product"]]),
    ],
)
def test_when_mapping_wnut_labels_then_others_are_dropped(tmp_path, label_map, expected):
    path = tmp_path / "x.conll"
    path.write_text(CONLL, encoding="utf-8")
    docs = list(map_labels(read_conll(path), label_map))
    assert [[label for _, _, label in d.spans] for d in docs] == expected


def test_when_mapping_physionet_labels_then_presidio_names_and_duplicates_removed():
    doc = Document(
        "1",
        "x" * 20,
        [(0, 4, "DATE"), (0, 4, "DATE"), (5, 9, "PHONE"), (10, 12, "OTHER"), (13, 15, "PERSON")],
    )
    (mapped,) = map_labels([doc], PHYSIONET_TO_PRESIDIO)
    assert mapped.spans == [(0, 4, "DATE_TIME"), (5, 9, "PHONE_NUMBER"), (13, 15, "PERSON")]


@pytest.mark.parametrize(
    "line, message",
    [
        ("not json", "not a spans JSONL record"),
        (json.dumps({"id": 1, "spans": []}), "not a spans JSONL record"),
        (
            json.dumps({"id": 1, "text": "abc", "spans": [{"start": 2, "end": 9, "label": "PERSON"}]}),
            "outside a text",
        ),
    ],
)
def test_when_jsonl_is_malformed_then_input_error_names_the_row(tmp_path, line, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"id": 0, "text": "ok", "spans": []}) + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=f"row 2: .*{message}"):
        read_documents(path)


@pytest.mark.parametrize("content", ["word\n", "word\tX-foo\n"])
def test_when_conll_is_malformed_then_input_error(tmp_path, content):
    path = tmp_path / "bad.conll"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match="row 1"):
        read_documents(path)


def test_when_file_is_missing_then_input_error(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_documents(tmp_path / "missing.jsonl")
