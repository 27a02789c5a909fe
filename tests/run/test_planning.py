"""Shard planning: shard size from the input's row count, independent of workers and machine."""

from __future__ import annotations

import io
import json
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from deid.errors import InputError
from deid.run.planning import MIN_SHARD_ROWS, TARGET_SHARDS, count_rows, plan_shard_size
from tests.conftest import SAMPLES, run_cli, write_config

PATTERNS_ONLY = "detection:\n  transformer: null\n  spacy_ner: 'off'\n"


def _parquet(path: Path, rows: int, row_group: int | None = None) -> Path:
    table = pa.table({"id": [f"r{i}" for i in range(rows)], "note": [f"note {i}" for i in range(rows)]})
    pq.write_table(table, path, row_group_size=row_group)
    return path


@pytest.mark.parametrize(
    ("rows", "configured", "expected"),
    [
        (1, 1000, MIN_SHARD_ROWS),  # tiny input: one shard of the minimum size
        (30, 8, 8),  # a configured size below the minimum wins
        (1_034, 1000, MIN_SHARD_ROWS),  # the 1,034 notes: 33 shards, not 1,000 + 34
        (10_000, 1000, 157),  # ceil(10,000 / 64)
        (64_000, 1000, 1000),  # large inputs: the configured size, as before
        (1_000_000, 1000, 1000),
    ],
)
def test_when_rows_known_then_shard_size_follows_the_rule(
    tmp_path: Path, rows: int, configured: int, expected: int
) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(b"id,note\n" + b"1,x\n" * rows)
    plan = plan_shard_size([path], "csv", configured)
    assert plan.shard_size == expected
    assert plan.shard_size == min(configured, max(MIN_SHARD_ROWS, -(-rows // TARGET_SHARDS)))
    assert not plan.exact
    if rows < TARGET_SHARDS * configured:
        assert plan.rows == rows and plan.shards == -(-rows // expected)
    else:  # counting stops once the configured size is certain
        assert TARGET_SHARDS * configured <= plan.rows <= rows


def test_when_parquet_then_rows_exact_from_footers_of_every_file(tmp_path: Path) -> None:
    files = [_parquet(tmp_path / "a.parquet", 70, row_group=16), _parquet(tmp_path / "b.parquet", 5)]
    assert count_rows(files, "parquet") == (75, True)


@pytest.mark.parametrize(
    ("content", "fmt", "expected"),
    [
        (b"id,note\n1,a\n2,b\n", "csv", 2),
        (b"id,note\n1,a\n2,b", "csv", 2),  # no final newline
        (b"id,note\n", "csv", 0),
        (b'{"id": 1}\n{"id": 2}\n{"id": 3}', "jsonl", 3),
        (b'id,note\n1,"two\nlines"\n', "csv", 2),  # an upper bound: a quoted line break counts
    ],
)
def test_when_text_format_then_lines_counted(tmp_path: Path, content: bytes, fmt: str, expected: int) -> None:
    path = tmp_path / f"in.{fmt}"
    path.write_bytes(content)
    assert count_rows([path, path], fmt) == (2 * expected, False)


class _RemoteFile:
    """A stand-in for an object-store location (deid.io.fs.Location): not local, sized, streamed."""

    is_local = False
    uri = "s3://bucket/notes.jsonl"

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.read_bytes = 0

    def open_binary(self) -> io.BufferedReader:
        outer = self

        class Counting(io.BytesIO):
            def read(self, size: int | None = -1) -> bytes:
                chunk = super().read(size)
                outer.read_bytes += len(chunk)
                return chunk

        return io.BufferedReader(Counting(self.data))

    def info(self) -> SimpleNamespace:
        return SimpleNamespace(size=len(self.data))


def test_when_remote_file_is_large_then_lines_estimated_from_a_prefix_not_read_twice() -> None:
    line = b'{"id": 1, "note": "' + b"x" * 980 + b'"}\n'  # 1,000 bytes
    remote = _RemoteFile(line * 20_000)  # 20 MB, 20,000 rows
    rows, exact = count_rows([remote], "jsonl")
    assert not exact and abs(rows - 20_000) <= 20  # an estimate from the first 8 MiB
    assert remote.read_bytes <= 9 << 20
    small = _RemoteFile(line * 10)
    assert count_rows([small], "jsonl") == (10, False)


def test_when_enough_lines_counted_then_counting_stops(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"{}\n" * 300_000)
    rows, _ = count_rows([path, path], "jsonl", enough=1_000)
    assert 1_000 <= rows <= 300_000  # the second file is not read (nor the rest of a longer first one)


def test_when_file_unreadable_then_input_error_names_it(tmp_path: Path) -> None:
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet at all")
    with pytest.raises(InputError, match="bad.parquet"):
        count_rows([bad], "parquet")
    with pytest.raises(ValueError, match="unknown input format"):
        count_rows([bad], "xlsx")


def test_when_small_input_then_split_into_planned_shards_identical_for_any_workers(tmp_path: Path) -> None:
    """200 rows under the default run.shard_size (1000): 7 shards of 32, same bytes with 1 or 2 workers."""
    source = tmp_path / "in.parquet"
    pq.write_table(pq.read_table(SAMPLES / "notes.parquet").slice(0, 200), source)
    config = write_config(tmp_path / "c.yaml", PATTERNS_ONLY)
    outs = {}
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        args = ["redact", str(source), str(out), "--text-column", "note", "--id-column", "id"]
        result = run_cli([*args, "--config", str(config), "--workers", str(workers), "--no-progress"])
        assert result.exit_code == 0, result.output
        outs[workers] = out
    parts = sorted(p.name for p in outs[1].glob("part-*"))
    assert len(parts) == 7
    assert [len(pq.read_table(outs[1] / name)) for name in parts] == [32] * 6 + [8]
    for name in parts:
        assert (outs[1] / name).read_bytes() == (outs[2] / name).read_bytes()
    manifest = json.loads((outs[2] / "_manifest.json").read_text())
    assert manifest["shard_size"] == 32 and len(manifest["shards"]) == 7
    # --resume plans the same shards: the header matches and nothing is redone
    again = run_cli(
        [
            "redact",
            str(source),
            str(outs[1]),
            "--text-column",
            "note",
            "--id-column",
            "id",
            "--config",
            str(config),
            "--workers",
            "1",
            "--resume",
            "--no-progress",
        ]
    )
    assert again.exit_code == 0, again.output
    assert sorted(p.name for p in outs[1].glob("part-*")) == parts
