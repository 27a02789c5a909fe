"""Progress display: a rich bar on a terminal, plain log lines every few seconds otherwise."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

logger = logging.getLogger(__name__)


class Progress:
    """Counts rows and characters; shows rows, rows/s and ETA.

    Args:
        total: total rows, when known (Parquet metadata), else ``None``.
        enabled: show anything at all.
        interval: seconds between log lines when stderr is not a terminal.
    """

    def __init__(self, total: int | None, *, enabled: bool = True, interval: float = 10.0) -> None:
        self.total = total
        self.enabled = enabled
        self.interval = interval
        self.rows = 0
        self.chars = 0
        self._bar: Any = None
        self._task: Any = None
        self._started = time.perf_counter()
        self._last_log = self._started

    def __enter__(self) -> Progress:
        self._started = self._last_log = time.perf_counter()
        if self.enabled and sys.stderr.isatty():
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn("rows"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]} rows/s"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                transient=False,
            )
            self._bar.start()
            self._task = self._bar.add_task("rows", total=self.total, rate="-")
        return self

    def advance(self, rows: int, chars: int) -> None:
        """Record ``rows`` more rows done."""
        self.rows += rows
        self.chars += chars
        elapsed = max(time.perf_counter() - self._started, 1e-9)
        rate = self.rows / elapsed
        if self._bar is not None:
            self._bar.update(self._task, advance=rows, rate=f"{rate:,.1f}")
        elif self.enabled and time.perf_counter() - self._last_log >= self.interval:
            self._last_log = time.perf_counter()
            if self.total:
                eta = (self.total - self.rows) / rate if rate else float("inf")
                logger.info("%d/%d rows (%.1f rows/s, ETA %.0f s)", self.rows, self.total, rate, eta)
            else:
                logger.info("%d rows (%.1f rows/s)", self.rows, rate)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
