"""Part-file writers. Each part is written to a temporary name and renamed when complete."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from deid.errors import OutputError
from deid.io.shard import Shard

EXTENSIONS = {"parquet": ".parquet", "csv": ".csv", "jsonl": ".jsonl"}


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    raise TypeError(f"cannot write a {type(value).__name__} as JSON")


#: ``default=`` of every JSON file deid writes (dates as ISO text, decimals as text, bytes as UTF-8).
json_default = _json_default

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def escape_formula(value: str) -> str:
    """``value`` with a leading ``'`` when a spreadsheet would evaluate it as a formula (CSV injection).

    A cell is neutralised when it starts with ``= + - @``, a tab or a carriage return (OWASP's list)
    and is not a plain number, so ``-2`` stays ``-2`` but ``-2+3`` and ``=cmd|...`` gain the quote.
    """
    if value.startswith(FORMULA_TRIGGERS) and not _is_number(value):
        return "'" + value
    return value


def _csv_value(value: Any, escape_formulas: bool = False) -> str:
    if isinstance(value, str):
        return escape_formula(value) if escape_formulas else value
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=_json_default)
    return str(value)


def write_rows(
    shard: Shard, fmt: str, path: Path, *, delimiter: str = ",", escape_formulas: bool = False
) -> None:
    """Write the shard's rows to ``path`` in ``fmt`` (no atomicity: see :func:`commit_file`).

    ``escape_formulas`` neutralises formula-like text cells in CSV output (see :func:`escape_formula`).
    """
    if fmt == "parquet":
        pq.write_table(shard.to_table(), path, compression="zstd")
    elif fmt == "csv":
        with open(path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter=delimiter, lineterminator="\n")
            if shard.table is not None:
                table = shard.table
                writer.writerow(table.column_names)
                columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
                for row in zip(*columns, strict=True):
                    writer.writerow([_csv_value(v, escape_formulas) for v in row])
            else:
                records = shard.to_records()
                names = list(dict.fromkeys(k for r in records for k in r))
                writer.writerow(names)
                for record in records:
                    writer.writerow([_csv_value(record.get(n), escape_formulas) for n in names])
    elif fmt == "jsonl":
        with open(path, "w", encoding="utf-8") as handle:
            for record in shard.to_records():
                handle.write(json.dumps(record, ensure_ascii=False, default=_json_default) + "\n")
    else:  # pragma: no cover - formats are validated before
        raise OutputError(f"unknown output format {fmt}")


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, streamed."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def temp_name(final: Path) -> Path:
    """The temporary name a file is written under before its commit."""
    return final.with_name(f".{final.name}.deid-tmp-{os.getpid()}")


def commit_file(tmp: Path, final: Path) -> None:
    """Flush ``tmp`` to disk and rename it to ``final`` atomically."""
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, final)


def write_json_atomic(path: Path, payload: Any) -> None:
    """Write JSON to ``path`` through a temporary file and an atomic rename."""
    tmp = temp_name(path)
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=2, sort_keys=True, ensure_ascii=False, default=_json_default)
        handle.write("\n")
    commit_file(tmp, path)


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file and an atomic rename."""
    tmp = temp_name(path)
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
    commit_file(tmp, path)


def write_lines_atomic(path: Path, lines: list[str]) -> None:
    """Write text lines through a temporary file and an atomic rename."""
    tmp = temp_name(path)
    with open(tmp, "w", encoding="utf-8") as handle:
        for line in lines:
            handle.write(line + "\n")
    commit_file(tmp, path)
