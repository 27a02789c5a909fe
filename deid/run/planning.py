"""Shard planning: how many rows go into each shard, derived from the input's row count.

A job runs as a list of shards; a worker process takes one shard at a time. With a fixed
``run.shard_size`` of 1,000 rows, an input of 1,034 rows is one full shard and a 34-row one, so one
worker does nearly all the work while the others wait; the same happens to every input under
``workers x shard_size`` rows. Planning cuts small inputs into more, smaller shards:

    shard_size = min(run.shard_size, max(MIN_SHARD_ROWS, ceil(rows / TARGET_SHARDS)))

* ``rows`` is the input's row count: exact for Parquet (from the file footers), an upper bound for
  CSV and JSONL (the number of lines, header excluded; quoted line breaks and blank lines count).
  Lines are counted only until the plan is certain (``TARGET_SHARDS x run.shard_size`` lines: past
  that the configured size applies), at about 1 GB/s on a local file. On an object store a file is
  not read twice: past its first 8 MiB its lines are estimated from that prefix and the object's
  size (still a function of the data alone).
* ``TARGET_SHARDS`` (64) is enough shards to keep every core of a large machine busy and to bound
  the time one worker waits for the last shard of another to about 1/32 of the run on 2 cores.
* ``MIN_SHARD_ROWS`` (32) keeps per-shard costs (a part file, a manifest rewrite, a few
  forward passes of the transformer that are less full) small next to the work of a shard.
* ``run.shard_size`` stays the upper bound: large inputs are cut exactly as before, and memory
  still depends on the configured size only.

The plan depends on the input and the configuration only, never on ``--workers`` or on the
machine, so the same input and configuration give the same parts on any machine with any number
of workers, and ``--resume`` plans the same shards as the interrupted run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deid.errors import InputError

#: Shards a small input is cut into (before the per-shard minimum applies).
TARGET_SHARDS = 64
#: No planned shard is smaller than this (unless ``run.shard_size`` is).
MIN_SHARD_ROWS = 32
_CHUNK = 1 << 20
# Bytes of a remote (object-store) CSV/JSONL file read to estimate its lines.
_REMOTE_PREFIX = 8 << 20


@dataclass(frozen=True)
class ShardPlan:
    """The rows per shard a job uses, and why.

    Attributes:
        shard_size: rows per shard (the last shard may be shorter).
        configured: ``run.shard_size`` (the upper bound).
        rows: the input's row count (``exact``) or an upper bound of it (lines of CSV/JSONL).
        exact: whether ``rows`` is exact.
    """

    shard_size: int
    configured: int
    rows: int
    exact: bool

    @property
    def shards(self) -> int:
        """Shards the plan expects (at most this many when ``rows`` is an upper bound)."""
        return max(1, math.ceil(self.rows / self.shard_size))


def plan_shard_size(
    sources: Sequence[Any],
    input_format: str,
    configured: int,
    *,
    target_shards: int = TARGET_SHARDS,
    min_shard_rows: int = MIN_SHARD_ROWS,
) -> ShardPlan:
    """Plan the rows per shard of a job over ``sources``.

    Args:
        sources: the input files, in reading order: local paths, or objects with ``open_binary()``
            (and, for Parquet, ``open_random_access()``) such as :class:`deid.io.fs.Location`.
        input_format: ``parquet``, ``csv`` or ``jsonl``.
        configured: ``run.shard_size``, the largest shard allowed.
        target_shards: how many shards a small input is cut into.
        min_shard_rows: the smallest planned shard (unless ``configured`` is smaller).

    Returns:
        the plan; ``shard_size`` is ``min(configured, max(min_shard_rows, ceil(rows / target_shards)))``.

    Raises:
        InputError: a file cannot be read.
    """
    if configured < 1 or target_shards < 1 or min_shard_rows < 1:
        raise ValueError("shard sizes and the shard target must be positive")
    rows, exact = count_rows(sources, input_format, enough=target_shards * configured)
    wanted = max(min_shard_rows, math.ceil(rows / target_shards))
    return ShardPlan(shard_size=min(configured, wanted), configured=configured, rows=rows, exact=exact)


def count_rows(sources: Sequence[Any], input_format: str, *, enough: int | None = None) -> tuple[int, bool]:
    """The data rows of ``sources``: ``(count, exact)``.

    Parquet: the sum of the footers' row counts (exact, nothing but the footers is read).
    CSV: lines minus one header line per file; JSONL: lines (upper bounds: a quoted line break in a
    CSV cell and a blank line count as lines). A last line without a final newline counts. A remote
    file larger than 8 MiB is estimated from its first 8 MiB and its size.

    Args:
        sources: the files (see :func:`plan_shard_size`).
        input_format: ``parquet``, ``csv`` or ``jsonl``.
        enough: stop counting lines once this many are found (the count returned is then at least
            ``enough``).

    Raises:
        InputError: a file cannot be read.
        ValueError: unknown format.
    """
    if input_format == "parquet":
        return sum(_parquet_rows(source) for source in sources), True
    if input_format not in ("csv", "jsonl"):
        raise ValueError(f"unknown input format {input_format!r}")
    header = 1 if input_format == "csv" else 0
    total = 0
    for source in sources:
        left = None if enough is None else enough - total + header
        total += max(0, _lines(source, left) - header)
        if enough is not None and total >= enough:
            break
    return total, False


def _parquet_rows(source: Any) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        if isinstance(source, str | Path):
            return int(pq.read_metadata(source).num_rows)
        with source.open_random_access() as handle:
            return int(pq.ParquetFile(handle).metadata.num_rows)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(_name(source), f"not a readable Parquet file ({type(exc).__name__})") from None


def _lines(source: Any, enough: int | None = None) -> int:
    """Newlines in the file, plus one when the last line has none (an estimate past a remote prefix).

    Stops early once ``enough`` lines are counted.
    """
    local = isinstance(source, str | Path) or getattr(source, "is_local", False)
    count = 0
    read = 0
    last = b"\n"
    try:
        handle = open(source, "rb") if isinstance(source, str | Path) else source.open_binary()  # noqa: SIM115
        with handle:
            while chunk := handle.read(_CHUNK):
                count += chunk.count(b"\n")
                read += len(chunk)
                last = chunk[-1:]
                if enough is not None and count >= enough:
                    return count
                if not local and read >= _REMOTE_PREFIX:
                    size = int(source.info().size or read)
                    return max(count, math.ceil(count * size / read))
    except OSError as exc:
        raise InputError(_name(source), f"cannot be read ({exc.strerror or type(exc).__name__})") from None
    return count + (last != b"\n")


def _name(source: Any) -> str:
    return str(getattr(source, "uri", source))
