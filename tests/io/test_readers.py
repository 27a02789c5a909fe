"""Readers: formats, shards, and every kind of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from deid.errors import InputError
from deid.io.readers import ReadOptions, detect_format, open_reader

OPTS = ReadOptions(text_columns=("note",), id_column="id", shard_size=2)


def _rows(reader) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    out = []
    for shard in reader.shards():
        out.extend(zip(shard.row_numbers, shard.column("note"), strict=True))
    return out


def _rejects(reader) -> list[tuple[int, str, str | None]]:  # type: ignore[no-untyped-def]
    return [(r.row, r.reason, r.column) for shard in reader.shards() for r in shard.rejects]


@pytest.mark.parametrize(
    ("name", "override", "expected"),
    [
        ("a.parquet", None, "parquet"),
        ("a.csv", None, "csv"),
        ("a.jsonl", None, "jsonl"),
        ("a.txt", "csv", "csv"),
    ],
)
def test_when_extension_or_override_then_format(name: str, override: str | None, expected: str) -> None:
    assert detect_format(name, override) == expected


def test_when_extension_unknown_then_error() -> None:
    with pytest.raises(InputError, match="--input-format"):
        detect_format("data.txt")


def test_when_csv_has_quoted_newlines_then_rows_are_counted_as_rows(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text('id,note\n1,"line one\nline two"\n2,plain\n3,"x, y"\n', encoding="utf-8")
    assert _rows(open_reader(path, OPTS)) == [(1, "line one\nline two"), (2, "plain"), (3, "x, y")]


def test_when_shard_size_two_then_shards_of_two(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(
        "".join(json.dumps({"id": i, "note": f"n{i}"}) + "\n" for i in range(5)), encoding="utf-8"
    )
    sizes = [s.num_rows for s in open_reader(path, OPTS).shards()]
    assert sizes == [2, 2, 1]


def test_when_parquet_has_small_row_groups_then_shards_are_full(tmp_path: Path) -> None:
    path = tmp_path / "a.parquet"
    pq.write_table(
        pa.table({"id": list(range(7)), "note": [f"n{i}" for i in range(7)]}), path, row_group_size=3
    )
    shards = list(open_reader(path, ReadOptions(text_columns=("note",), shard_size=4)).shards())
    assert [s.num_rows for s in shards] == [4, 3]
    assert shards[1].row_numbers == [5, 6, 7]


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.csv", "file is empty"),
        (b"id,note\n", "header.csv", "no data rows"),
        (b"id;note\n1;hello\n", "semi.csv", "delimiter ';'"),
        (b"id,text\n1,hello\n", "wrong.csv", "no column 'note'"),
        (b'id,note\n1,"open quote\n2,x\n', "quote.csv", r"row 1.*unterminated quote"),
        (b"id,note\n1,a\n", "notparquet.parquet", "not a readable Parquet file"),
        (b"PAR1\x00\x00garbage", "trunc.parquet", "not a readable Parquet file"),
        (b"not json\n", "bad.jsonl", "not valid JSON"),
        (b"[1, 2]\n", "list.jsonl", "one JSON object per line"),
    ],
)
def test_when_file_is_bad_then_one_line_error_with_file(
    tmp_path: Path, content: bytes, name: str, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as info:
        reader = open_reader(path, OPTS)
        list(reader.shards())
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_when_file_missing_then_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        open_reader(tmp_path / "nope.csv", OPTS)


def test_when_csv_rows_ragged_or_invalid_utf8_then_rejected_with_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(b"id,note\n1,good\n2,too,many\n3,bad \xff byte\n\n4,fine\n")
    reader = open_reader(path, OPTS)
    assert _rows(reader) == [(1, "good"), (4, "fine")]
    assert _rejects(reader) == [(2, "expected 2 fields, found 3", None), (3, "invalid UTF-8", "note")]


def test_when_jsonl_line_broken_then_rejected_and_others_kept(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(
        b'{"id": 1, "note": "a"}\n{"id": 2, "note": \n"x"\n{"id": 3, "note": "\xff"}\n{"id": 4, "note": "d"}\n'
    )
    reader = open_reader(path, OPTS)
    assert [n for _, n in _rows(reader)] == ["a", "d"]
    assert [(r, reason.split(" (")[0]) for r, reason, _ in _rejects(reader)] == [
        (2, "invalid JSON"),
        (3, "not a JSON object"),
        (4, "invalid UTF-8"),
    ]


def test_when_parquet_text_column_not_string_then_error_names_column(tmp_path: Path) -> None:
    path = tmp_path / "a.parquet"
    pq.write_table(pa.table({"id": [1], "note": [42]}), path)
    with pytest.raises(InputError, match=r"column 'note': text column has type int64"):
        open_reader(path, OPTS)
