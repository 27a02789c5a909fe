"""Reverse the ``encrypt`` operator over a table or a redact output directory."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from deid.config import KeyConfig
from deid.errors import InputError, OutputError
from deid.io.readers import ReadOptions, detect_format, open_reader
from deid.io.writers import commit_file, temp_name, write_rows
from deid.transform.keys import load_key
from deid.transform.operators.encrypt import decrypt_text


@dataclass
class DecryptStats:
    """Counts of a decrypt run."""

    rows: int = 0
    decrypted: int = 0
    failed: int = 0


def decrypt_table(
    source: Path,
    output: Path,
    text_columns: tuple[str, ...],
    key_config: KeyConfig,
    *,
    input_format: str | None = None,
    overwrite: bool = False,
) -> DecryptStats:
    """Decrypt tokens in ``text_columns`` of ``source`` (a file or a directory of part files).

    Writes the same layout to ``output``: a directory of parts for a directory, else one file.

    Raises:
        KeyError_: no key; InputError / OutputError as for a job.
    """
    key = load_key(key_config, required=True)
    assert key is not None
    subkey = key.derive("encrypt")
    if source.is_dir():
        parts = sorted(p for p in source.rglob("part-*") if p.is_file())
        if not parts:
            raise InputError(source, "no part files in this directory")
        targets = [(p, output / p.relative_to(source)) for p in parts]
    else:
        targets = [(source, output)]
    if output.exists():
        if not overwrite:
            raise OutputError(f"{output}: already exists (use --overwrite to replace it)")
        if output.is_dir():
            shutil.rmtree(output)
        else:
            output.unlink()
    if source.is_dir():
        output.mkdir(parents=True)
    stats = DecryptStats()
    for part, target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        fmt = detect_format(part, input_format)
        reader = open_reader(part, ReadOptions(text_columns=text_columns, shard_size=10_000), fmt)
        tmp = temp_name(target)
        chunks = []
        for shard in reader.shards():
            updates = {}
            for column in text_columns:
                values = []
                for value in shard.column(column):
                    if isinstance(value, str):
                        value, done, failed = decrypt_text(subkey, value)
                        stats.decrypted += done
                        stats.failed += failed
                    values.append(value)
                updates[column] = values
            stats.rows += shard.num_rows
            chunks.append(shard.with_columns(updates))
        merged = chunks[0]
        if len(chunks) > 1:
            import pyarrow as pa

            if merged.table is not None:
                merged = type(merged)(0, table=pa.concat_tables([c.table for c in chunks]))
            else:
                merged = type(merged)(0, records=[r for c in chunks for r in (c.records or [])])
        write_rows(merged, fmt, tmp)
        commit_file(tmp, target)
    return stats
