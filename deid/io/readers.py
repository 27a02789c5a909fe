"""Streaming readers for Parquet, CSV and JSONL, cut into shards of ``shard_size`` rows.

Memory: a reader holds one shard at a time (Parquet is read by record batches, CSV and JSONL
line by line), so peak memory depends on the shard size, not on the corpus size.

Row numbers are 1-based data-row numbers: the header of a CSV file is not counted, a CSV cell with
quoted line breaks still counts as one row, and JSONL rows are lines (blank lines excluded).
Problems confined to one row (ragged CSV rows, invalid UTF-8, invalid JSON, a list in a text
column) reject that row with a reason; problems with the whole file (missing column, wrong
format, unterminated quote, truncated Parquet) raise :class:`deid.errors.InputError`.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from deid.errors import InputError
from deid.io.fs import Location, resolve, store_errors
from deid.io.shard import Reject, Shard

FORMATS = ("parquet", "csv", "jsonl")
_EXTENSIONS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".tsv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}
_SURROGATE = re.compile("[\udc80-\udcff]")


def detect_format(path: str | Path, override: str | None = None) -> str:
    """The format of ``path``: ``override`` when given, else from the file extension.

    Raises:
        InputError: unknown extension and no override.
    """
    if override:
        if override not in FORMATS:
            raise InputError(path, f"unknown format '{override}' (expected one of {', '.join(FORMATS)})")
        return override
    suffixes = [s.lower() for s in Path(path).suffixes]
    for suffix in reversed(suffixes):
        if suffix in _EXTENSIONS:
            return _EXTENSIONS[suffix]
    raise InputError(path, "cannot tell the format from the extension: use --input-format parquet|csv|jsonl")


@dataclass(frozen=True)
class ReadOptions:
    """What to read and how.

    Attributes:
        text_columns: the free-text columns to process.
        id_column: the row identifier column, or ``None`` (row numbers serve as ids).
        subject_column: the subject column (e.g. patient id), or ``None``.
        shard_size: rows per shard.
        max_text_chars: longer text cells are rejected.
        delimiter: CSV delimiter.
    """

    text_columns: tuple[str, ...]
    id_column: str | None = None
    subject_column: str | None = None
    shard_size: int = 1000
    max_text_chars: int = 1_000_000
    delimiter: str = ","


class Reader:
    """Base class: validates one input file on construction, then yields shards.

    Args:
        source: the file (a local path, or a :class:`deid.io.fs.Location` on any store).
        options: columns and shard size.
        display: how errors name the file (default: the path or URI as given).
    """

    format: str = ""

    def __init__(
        self, source: Path | str | Location, options: ReadOptions, display: str | None = None
    ) -> None:
        self.source = source if isinstance(source, Location) else resolve(source)
        self.path = display or self.source.uri
        self.options = options
        from pyarrow.fs import FileType

        info = self.source.info()
        if info.type == FileType.NotFound:
            raise InputError(self.path, "file not found")
        if info.type == FileType.Directory:
            raise InputError(self.path, "is a directory, expected a file")
        if info.size == 0:
            raise InputError(self.path, "file is empty")
        self.size = int(info.size or 0)
        self.columns: list[str] = []

    def _check_columns(self, available: Sequence[str]) -> None:
        wanted = [*self.options.text_columns]
        for extra in (self.options.id_column, self.options.subject_column):
            if extra:
                wanted.append(extra)
        shown = ", ".join(repr(c) for c in list(available)[:20])
        for name in wanted:
            if name not in available:
                hint = ""
                if self.format == "csv" and len(available) == 1:
                    for delimiter in (";", "\t", "|"):
                        if delimiter in available[0]:
                            hint = f" (the header has one column: is the delimiter {delimiter!r}? use --delimiter)"
                raise InputError(self.path, f"no column '{name}'; the columns are {shown}{hint}")
        if len(set(available)) != len(available):
            raise InputError(self.path, "duplicate column names in the header")

    def shards(self) -> Iterator[Shard]:
        """Yield the input in shards of ``options.shard_size`` rows."""
        raise NotImplementedError


class ParquetReader(Reader):
    """Parquet by record batches."""

    format = "parquet"

    def __init__(
        self, source: Path | str | Location, options: ReadOptions, display: str | None = None
    ) -> None:
        super().__init__(source, options, display)
        path = self.path
        with self._open() as parquet:
            schema = parquet.schema_arrow
            self.num_rows = parquet.metadata.num_rows
        self.schema = schema
        self.columns = list(schema.names)
        self._check_columns(self.columns)
        for name in options.text_columns:
            column_type = schema.field(name).type
            if pa.types.is_dictionary(column_type):
                column_type = column_type.value_type
            if not (
                pa.types.is_string(column_type)
                or pa.types.is_large_string(column_type)
                or pa.types.is_null(column_type)
            ):
                raise InputError(
                    path, f"text column has type {column_type}, expected a string column", column=name
                )
        if self.num_rows == 0:
            raise InputError(path, "no data rows")

    def _open(self) -> pq.ParquetFile:
        try:
            if self.source.is_local:
                return pq.ParquetFile(self.source.path)
            with store_errors(self.source, "read"):
                handle = self.source.open_random_access()
            return pq.ParquetFile(handle)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(self.path, f"not a readable Parquet file ({_first_line(exc)})") from None

    def shards(self) -> Iterator[Shard]:
        """Yield shards; dictionary-encoded text columns are decoded to plain strings."""
        size = self.options.shard_size
        pending: list[pa.RecordBatch] = []
        pending_rows = 0
        next_row = 1
        index = 0
        parquet = self._open()
        try:
            for batch in parquet.iter_batches(batch_size=size):
                pending.append(batch)
                pending_rows += batch.num_rows
                while pending_rows >= size:
                    table = pa.Table.from_batches(pending)
                    head, rest = table.slice(0, size), table.slice(size)
                    yield self._shard(index, head, next_row)
                    index += 1
                    next_row += size
                    pending = rest.to_batches()
                    pending_rows = rest.num_rows
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(
                self.path, f"Parquet data cannot be read near row {next_row} ({_first_line(exc)})"
            ) from None
        finally:
            parquet.close()
        if pending_rows:
            yield self._shard(index, pa.Table.from_batches(pending), next_row)

    def _shard(self, index: int, table: pa.Table, first_row: int) -> Shard:
        for name in self.options.text_columns:
            column_type = table.schema.field(name).type
            if pa.types.is_dictionary(column_type):
                position = table.column_names.index(name)
                table = table.set_column(position, name, table.column(name).cast(column_type.value_type))
        table = table.combine_chunks()
        return Shard(index, table=table, row_numbers=list(range(first_row, first_row + table.num_rows)))


class CsvReader(Reader):
    """CSV with the standard library's parser: exact row numbers, every value read as a string."""

    format = "csv"

    def __init__(
        self, source: Path | str | Location, options: ReadOptions, display: str | None = None
    ) -> None:
        super().__init__(source, options, display)
        path = self.path
        if self.source.name.lower().endswith(".tsv") and options.delimiter == ",":
            options = ReadOptions(**{**options.__dict__, "delimiter": "\t"})
            self.options = options
        csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
        with self._open() as handle:
            reader = csv.reader(handle, delimiter=options.delimiter, strict=True)
            try:
                header = next(reader, None)
            except csv.Error as exc:
                raise InputError(path, f"cannot parse the header ({exc})", row=0) from None
        if not header or all(not h.strip() for h in header):
            raise InputError(path, "no header row")
        if any(_SURROGATE.search(h) for h in header):
            raise InputError(path, "the header is not valid UTF-8")
        self.columns = header
        self._check_columns(header)

    def _open(self) -> Any:
        return self.source.open_text(encoding="utf-8-sig", errors="surrogateescape", newline="")

    def shards(self) -> Iterator[Shard]:
        """Yield shards of string columns; ragged rows and invalid UTF-8 are rejected."""
        options = self.options
        columns = self.columns
        width = len(columns)
        size = options.shard_size
        index = 0
        row_number = 0
        values: list[list[str]] = []
        row_numbers: list[int] = []
        rejects: list[Reject] = []
        with self._open() as handle:
            reader = csv.reader(handle, delimiter=options.delimiter, strict=True)
            try:
                next(reader)
                for row in reader:
                    row_number += 1
                    if len(row) != width:
                        if not row or (len(row) == 1 and not row[0]):
                            row_number -= 1  # a blank line is not a row
                            continue
                        rejects.append(Reject(row_number, f"expected {width} fields, found {len(row)}"))
                    else:
                        bad = next(
                            (c for c, v in zip(columns, row, strict=True) if _SURROGATE.search(v)), None
                        )
                        if bad is not None:
                            rejects.append(Reject(row_number, "invalid UTF-8", bad))
                        else:
                            values.append(row)
                            row_numbers.append(row_number)
                    if len(values) + len(rejects) >= size:
                        yield self._shard(index, values, row_numbers, rejects)
                        index += 1
                        values, row_numbers, rejects = [], [], []
            except csv.Error as exc:
                raise InputError(
                    self.path, f"malformed CSV ({exc}; an unterminated quote?)", row=row_number + 1
                ) from None
        if values or rejects:
            yield self._shard(index, values, row_numbers, rejects)
        elif index == 0:
            raise InputError(self.path, "no data rows (header only)")

    def _shard(
        self, index: int, values: list[list[str]], row_numbers: list[int], rejects: list[Reject]
    ) -> Shard:
        arrays = {
            name: pa.array([row[i] for row in values], type=pa.string())
            for i, name in enumerate(self.columns)
        }
        return Shard(index, table=pa.table(arrays), row_numbers=row_numbers, rejects=rejects)


class JsonlReader(Reader):
    """JSON Lines: one object per line; JSON types are kept as they are."""

    format = "jsonl"

    def __init__(
        self, source: Path | str | Location, options: ReadOptions, display: str | None = None
    ) -> None:
        super().__init__(source, options, display)
        path = self.path
        seen: list[str] = []
        with self.source.open_binary() as handle:
            for raw in handle:
                if not raw.strip():
                    continue
                try:
                    first = json.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    raise InputError(
                        path, "the first line is not valid JSON: is this a JSONL file?", row=1
                    ) from None
                if not isinstance(first, dict):
                    raise InputError(path, "expected one JSON object per line", row=1)
                seen = list(first)
                break
        if not seen:
            raise InputError(path, "no data rows")
        self.columns = seen
        # Later lines may lack keys; only the first line's keys are checked here.
        self._check_columns(seen)

    def shards(self) -> Iterator[Shard]:
        """Yield shards of dicts; lines that are not JSON objects are rejected."""
        size = self.options.shard_size
        index = 0
        row_number = 0
        records: list[dict[str, Any]] = []
        row_numbers: list[int] = []
        rejects: list[Reject] = []
        with self.source.open_binary() as handle:
            for raw in handle:
                if not raw.strip():
                    continue
                row_number += 1
                try:
                    record = json.loads(raw.decode("utf-8"))
                except UnicodeDecodeError:
                    rejects.append(Reject(row_number, "invalid UTF-8"))
                    record = None
                except json.JSONDecodeError as exc:
                    rejects.append(Reject(row_number, f"invalid JSON ({exc.msg} at character {exc.pos})"))
                    record = None
                else:
                    if not isinstance(record, dict):
                        rejects.append(Reject(row_number, "not a JSON object"))
                        record = None
                if record is not None:
                    records.append(record)
                    row_numbers.append(row_number)
                if len(records) + len(rejects) >= size:
                    yield Shard(index, records=records, row_numbers=row_numbers, rejects=rejects)
                    index += 1
                    records, row_numbers, rejects = [], [], []
        if records or rejects:
            yield Shard(index, records=records, row_numbers=row_numbers, rejects=rejects)


_READERS: dict[str, type[Reader]] = {"parquet": ParquetReader, "csv": CsvReader, "jsonl": JsonlReader}


def open_reader(
    path: str | Path | Location,
    options: ReadOptions,
    input_format: str | None = None,
    display: str | None = None,
) -> Reader:
    """Open and validate one input file (see :func:`deid.io.dataset.open_dataset` for directories and globs).

    Args:
        path: the input file: a local path, a URI or a :class:`deid.io.fs.Location`.
        options: columns and shard size.
        input_format: ``parquet``, ``csv`` or ``jsonl``; ``None`` guesses from the extension.
        display: how errors name the file (default: as given).

    Raises:
        InputError: the file is missing, empty, of another format, or lacks a column.
    """
    location = path if isinstance(path, Location) else resolve(path)
    given = location.uri if isinstance(path, Location) else str(path)
    fmt = detect_format(given, input_format)
    return _READERS[fmt](location, options, display or given)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
