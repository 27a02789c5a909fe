"""Inputs that are datasets: directories, globs, Hive partitions, several arguments, deid's own output.

Each form is redacted through the CLI and the written parts are read back; each bad dataset stops
with one line naming the part (and the column where one applies).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from deid.errors import InputError
from deid.io.dataset import _glob_regex, open_dataset
from deid.io.readers import ReadOptions
from tests.conftest import REPO, run_cli

PATTERNS_ONLY = REPO / "configs" / "patterns-only.yaml"
PHONE = "617-555-0123"
OPTIONS = ReadOptions(text_columns=("note",), id_column="id", shard_size=2)


def _table(ids: list[int], start: int = 0) -> pa.Table:
    return pa.table(
        {
            "id": pa.array([str(i) for i in ids]),
            "note": pa.array([f"call {PHONE} about case {i}" for i in ids]),
        }
    )


def _redact(inputs: list[Path | str], out: Path | str, *extra: str) -> Any:
    args = ["redact", *map(str, inputs), str(out), "--text-column", "note", "--id-column", "id"]
    args += ["--config", str(PATTERNS_ONLY), "--workers", "1", "--no-progress", *extra]
    return run_cli(args)


def _read(out: Path) -> pa.Table:
    """OUTPUT read back as pyarrow reads a dataset (underscore files skipped, partitions as columns)."""
    return ds.dataset(out, format="parquet", partitioning="hive").to_table()


def _error(result: Any) -> str:
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1, result.output
    return lines[0]


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    """A Hive-partitioned table as Spark writes it: two dates, two parts in one, _SUCCESS and .crc files."""
    root = tmp_path / "lake" / "notes"
    (root / "date=2026-11-30").mkdir(parents=True)
    (root / "date=2026-12-01").mkdir(parents=True)
    pq.write_table(_table([1, 2, 3]), root / "date=2026-11-30" / "part-00000.parquet")
    pq.write_table(_table([4]), root / "date=2026-11-30" / "part-00001.parquet")
    pq.write_table(_table([5, 6]), root / "date=2026-12-01" / "part-00000.parquet")
    (root / "_SUCCESS").write_bytes(b"")
    (root / "date=2026-11-30" / ".part-00000.parquet.crc").write_bytes(b"crc")
    (root / "_temporary").mkdir()
    (root / "_temporary" / "part-9.parquet").write_bytes(b"half written")
    return root


def test_when_input_is_a_hive_partitioned_directory_then_parts_in_path_order_and_partition_column(
    lake: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = _redact([lake], out)
    assert result.exit_code == 0, result.output
    table = _read(out)
    assert table.column("id").to_pylist() == ["1", "2", "3", "4", "5", "6"]
    assert table.column("date").to_pylist() == ["2026-11-30"] * 4 + ["2026-12-01"] * 2
    assert all(PHONE not in n and "<PHONE_NUMBER>" in n for n in table.column("note").to_pylist())
    manifest = json.loads((out / "_manifest.json").read_text())
    files = manifest["input"]["files"]
    assert [f["path"] for f in files] == [
        "date=2026-11-30/part-00000.parquet",
        "date=2026-11-30/part-00001.parquet",
        "date=2026-12-01/part-00000.parquet",
    ]
    assert all(len(f["sha256"]) == 64 and f["bytes"] > 0 for f in files)
    assert manifest["totals"]["rows_in"] == 6


def test_when_deid_output_is_the_input_then_it_reads_back_including_routed_partitions(
    lake: Path, tmp_path: Path
) -> None:
    first = tmp_path / "first"
    assert _redact([lake], first).exit_code == 0
    # A routed output's layout: OUTPUT/sensitivity=<tier>/part-*.parquet beside deid's _ files.
    routed = tmp_path / "routed"
    for tier, ids in (("high", [1, 2]), ("low", [3])):
        (routed / f"sensitivity={tier}").mkdir(parents=True)
        pq.write_table(_table(ids), routed / f"sensitivity={tier}" / "part-00000.parquet")
    (routed / "_manifest.json").write_text("{}")
    (routed / "_rejects").mkdir()
    for source, expected in ((first, 6), (routed, 3)):
        out = tmp_path / f"again-{source.name}"
        result = _redact([source], out)
        assert result.exit_code == 0, result.output
        assert _read(out).num_rows == expected
    assert _read(tmp_path / "again-routed").column("sensitivity").to_pylist() == ["high", "high", "low"]


def test_when_input_is_a_glob_or_several_arguments_then_all_matching_parts_are_read(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    for day, ids in (("2026-11-29", [1]), ("2026-11-30", [2, 3]), ("2026-12-01", [4])):
        (exports / f"notes-{day}.csv").write_text(
            "id,note\n" + "".join(f"{i},call {PHONE}\n" for i in ids), encoding="utf-8"
        )
    out = tmp_path / "out"
    result = _redact([f"{exports}/notes-2026-11-*.csv"], out)
    assert result.exit_code == 0, result.output
    rows = [line for part in sorted(out.glob("part-*.csv")) for line in part.read_text().splitlines()[1:]]
    assert [r.split(",")[0] for r in rows] == ["1", "2", "3"]
    assert not any(PHONE in r for r in rows)
    both = tmp_path / "both"
    result = _redact([exports / "notes-2026-12-01.csv", f"{exports}/notes-2026-11-29.*"], both)
    assert result.exit_code == 0, result.output
    assert json.loads((both / "_report.json").read_text())["rows_out"] == 2


def test_when_parts_repeat_an_id_then_the_reject_names_both_files(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    pq.write_table(_table([1, 2]), folder / "a.parquet")
    pq.write_table(_table([2, 3]), folder / "b.parquet")
    out = tmp_path / "out"
    assert _redact([folder], out).exit_code == 0
    rejects = [json.loads(line) for line in (out / "_rejects.jsonl").read_text().splitlines()]
    assert rejects == [
        {
            "row": 1,
            "id": "2",
            "column": "id",
            "reason": f"duplicate id (first seen at {folder}/a.parquet, row 2)",
            "file": f"{folder}/b.parquet",
        }
    ]


def test_when_a_part_changes_then_resume_refuses(lake: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert _redact([lake], out).exit_code == 0
    pq.write_table(_table([5, 7]), lake / "date=2026-12-01" / "part-00000.parquet")
    message = _error(_redact([lake], out, "--resume"))
    assert "cannot resume: the input differs" in message


def test_when_shards_are_planned_twice_then_they_are_the_same(lake: Path) -> None:
    def cut() -> list[tuple[int, list[str]]]:
        reader = open_dataset([lake], OPTIONS)
        return [(s.index, s.column("id")) for s in reader.shards()]

    assert cut() == cut() == [(0, ["1", "2"]), (1, ["3"]), (2, ["4"]), (3, ["5", "6"])]


# --------------------------------------------------------------------------- bad datasets


def test_when_glob_matches_nothing_then_one_line_error(tmp_path: Path) -> None:
    pattern = f"{tmp_path}/missing-*.csv"
    assert _error(_redact([pattern], tmp_path / "out")) == (
        f"Error: {pattern}: no file matches this pattern (hidden and _ files are skipped)"
    )


def test_when_directory_mixes_formats_then_error_names_the_files(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    pq.write_table(_table([1]), folder / "a.parquet")
    (folder / "b.csv").write_text("id,note\n2,x\n", encoding="utf-8")
    message = _error(_redact([folder], tmp_path / "out"))
    assert message == (
        f"Error: {folder}/b.csv: is csv, but {folder}/a.parquet is parquet: a dataset holds parts of one "
        "format (mixed formats)"
    )


def test_when_a_part_lacks_the_text_column_then_error_names_part_and_column(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    pq.write_table(_table([1]), folder / "a.parquet")
    pq.write_table(pa.table({"id": ["2"], "text": ["x"]}), folder / "b.parquet")
    message = _error(_redact([folder], tmp_path / "out"))
    assert message.startswith(f"Error: {folder}/b.parquet: no column 'note'")


def test_when_a_column_changes_type_between_parts_then_error_names_part_and_column(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    pq.write_table(_table([1]), folder / "a.parquet")
    pq.write_table(pa.table({"id": pa.array([2]), "note": ["x"]}), folder / "b.parquet")
    message = _error(_redact([folder], tmp_path / "out"))
    assert message == (
        f"Error: {folder}/b.parquet, column 'id': type int64 here, string in {folder}/a.parquet: "
        "the parts' schemas differ"
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_when_a_part_is_unreadable_then_error_names_it(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text("id,note\n1,x\n", encoding="utf-8")
    (folder / "b.csv").write_text("id,note\n2,y\n", encoding="utf-8")
    (folder / "b.csv").chmod(0)
    message = _error(_redact([folder], tmp_path / "out"))
    assert message == f"Error: {folder}/b.csv: cannot be read (Permission denied)"


def test_when_a_parquet_part_is_not_parquet_then_error_names_it(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    pq.write_table(_table([1]), folder / "a.parquet")
    (folder / "b.parquet").write_bytes(b"not parquet at all")
    message = _error(_redact([folder], tmp_path / "out"))
    assert message.startswith(f"Error: {folder}/b.parquet: not a readable Parquet file")


def test_when_directory_holds_only_underscore_files_then_error(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "_SUCCESS").write_bytes(b"")
    with pytest.raises(InputError, match="no data file in this directory"):
        open_dataset([tmp_path / "in"], OPTIONS)


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("*.csv", "a.csv", True),
        ("*.csv", "d/a.csv", False),
        ("**/*.csv", "d/e/a.csv", True),
        ("**/*.csv", "a.csv", True),
        ("date=2026-1?-*/part-*", "date=2026-11-30/part-0.parquet", True),
        ("[ab].csv", "c.csv", False),
    ],
)
def test_glob_semantics(pattern: str, path: str, matches: bool) -> None:
    assert bool(_glob_regex(pattern).match(path)) is matches


def test_when_input_and_output_are_file_uris_then_they_read_and_write_like_paths(
    lake: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = _redact([f"file://{lake}"], f"file://{out}")
    assert result.exit_code == 0, result.output
    assert _read(out).column("id").to_pylist() == ["1", "2", "3", "4", "5", "6"]
    assert not (out / "_deid.lock").exists()


def test_when_output_is_inside_the_input_directory_then_error(lake: Path) -> None:
    out = lake / "redacted"
    message = _error(_redact([lake], out))
    assert message == f"Error: {out}: the output must not be inside an input directory ({lake})"
    assert not out.exists()


@pytest.mark.slow
def test_when_route_output_is_redacted_then_the_commands_chain(tmp_path: Path) -> None:
    """``deid route`` writes OUTPUT/sensitivity=<tier>/ (the tier only in the directory name); ``deid redact`` reads it."""
    source = tmp_path / "notes.parquet"
    pq.write_table(
        pq.read_table(REPO / "samples" / "notes.parquet").slice(0, 8).select(["id", "note"]), source
    )
    routed = tmp_path / "routed"
    args = ["route", str(source), str(routed), "--text-column", "note", "--id-column", "id"]
    args += ["--router", str(REPO / "models" / "deid-router-minilm"), "--workers", "1", "--no-progress"]
    result = run_cli(args)
    assert result.exit_code == 0, result.output
    assert list(routed.glob("sensitivity=*/part-*.parquet"))
    out = tmp_path / "redacted"
    result = _redact([routed], out)
    assert result.exit_code == 0, result.output
    table = _read(out)
    original = pq.read_table(source)
    assert sorted(table.column("id").to_pylist()) == sorted(original.column("id").to_pylist())
    # The tier lives in the directory name only (Hive style): read back as a column, by deid as by pyarrow.
    before = ds.dataset(routed, format="parquet", partitioning="hive").to_table()
    assert "sensitivity" not in ds.dataset(routed, format="parquet").schema.names
    assert [str(t) for t in table.column("sensitivity").to_pylist()] == [
        str(t) for t in before.column("sensitivity").to_pylist()
    ]
    assert table.column("note").to_pylist() != before.column("note").to_pylist()
