"""The per-shard function every backend runs: validate, detect, transform, write one part file.

Nothing here knows which backend calls it. A :class:`ShardProcessor` builds its engines lazily,
once per process, and can be pickled to worker processes or Spark executors.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from deid.config import DeidConfig
from deid.detect.spans import Span
from deid.io.shard import Reject, Shard
from deid.io.writers import EXTENSIONS, commit_file, sha256_file, temp_name, write_lines_atomic, write_rows
from deid.transform.keys import SecretKey

Mode = Literal["redact", "detect"]
SCORE_BINS = 10


@dataclass(frozen=True)
class ShardTask:
    """Everything a worker needs besides the shard itself."""

    mode: Mode
    config: DeidConfig
    text_columns: tuple[str, ...]
    id_column: str | None
    subject_column: str | None
    parts_dir: Path
    output_format: str
    key: SecretKey | None = None
    delimiter: str = ","

    def part_name(self, index: int) -> str:
        """File name of the part of shard ``index``."""
        extension = ".jsonl" if self.mode == "detect" else EXTENSIONS[self.output_format]
        return f"part-{index:05d}{extension}"


@dataclass
class ShardResult:
    """What a processed shard reports back (no detected values)."""

    index: int
    first_row: int
    rows_in: int
    rows_out: int
    rejects: list[Reject]
    part: str
    sha256: str
    entities: dict[str, dict[str, int]]
    null_cells: dict[str, int]
    chars: int
    seconds: float
    score_histogram: dict[str, list[int]] = field(default_factory=dict)

    def manifest_entry(self) -> dict[str, Any]:
        """The deterministic part of the result (no timings), as recorded in the manifest."""
        reasons = Counter(_reason_kind(r.reason) for r in self.rejects)
        return {
            "index": self.index,
            "first_row": self.first_row,
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "rows_rejected": len(self.rejects),
            "rejected_by_reason": dict(sorted(reasons.items())),
            "part": self.part,
            "sha256": self.sha256,
            "entities": self.entities,
            "null_cells": self.null_cells,
            "chars": self.chars,
            "score_histogram": self.score_histogram,
        }


def _reason_kind(reason: str) -> str:
    """The reason without its details, for counting ("expected 5 fields, found 3" -> "expected N fields")."""
    return reason.split(" (")[0].split(", found")[0]


class ShardProcessor:
    """Processes shards with engines built once per process.

    Args:
        task: the job-wide settings.
    """

    def __init__(self, task: ShardTask) -> None:
        self.task = task
        self._detector: Any = None
        self._transformer: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {"task": self.task, "_detector": None, "_transformer": None}

    def _engines(self) -> tuple[Any, Any]:
        if self._detector is None:
            from deid.detect.engine import Detector

            self._detector = Detector(self.task.config.detection)
            if self.task.mode == "redact":
                from deid.transform.policy import TextTransformer

                self._transformer = TextTransformer(self.task.config.policy, self.task.key)
        return self._detector, self._transformer

    def warm_up(self) -> None:
        """Build the engines now (workers call this at start so the first shard is not slow)."""
        detector, _ = self._engines()
        detector.detect(["warm up"])

    def validate(self, shard: Shard) -> Shard:
        """Reject rows whose text cells cannot be processed (wrong type, too long)."""
        limit = self.task.config.run.max_text_chars
        bad: dict[int, Reject] = {}
        ids = shard.column(self.task.id_column) if self.task.id_column else [None] * shard.num_rows
        for name in self.task.text_columns:
            for position, value in enumerate(shard.column(name)):
                if position in bad or value is None:
                    continue
                reason = None
                if not isinstance(value, str):
                    reason = f"text cell holds a {_json_type(value)}, expected a string"
                elif len(value) > limit:
                    reason = f"text longer than {limit} characters"
                if reason:
                    bad[position] = Reject(shard.row_numbers[position], reason, name, _safe_id(ids[position]))
        return shard.without_rows(set(bad), list(bad.values()))

    def process(self, shard: Shard) -> ShardResult:
        """Validate, detect, transform and commit one shard's part file."""
        started = time.perf_counter()
        task = self.task
        shard = self.validate(shard)
        detector, transformer = self._engines()
        ids = shard.column(task.id_column) if task.id_column else list(shard.row_numbers)
        subjects = shard.column(task.subject_column) if task.subject_column else [None] * shard.num_rows
        entities: dict[str, dict[str, int]] = {}
        nulls: dict[str, int] = {}
        histogram: dict[str, list[int]] = {}
        chars = 0
        updates: dict[str, list[Any]] = {}
        spans_by_column: dict[str, list[list[Span]]] = {}
        for name in task.text_columns:
            values = shard.column(name)
            nulls[name] = sum(v is None for v in values)
            texts = [v if isinstance(v, str) else "" for v in values]
            chars += sum(len(t) for t in texts)
            spans = detector.detect(texts)
            spans_by_column[name] = spans
            counts: Counter[str] = Counter(s.entity_type for row in spans for s in row)
            entities[name] = dict(sorted(counts.items()))
            for row in spans:
                for span in row:
                    bins = histogram.setdefault(span.entity_type, [0] * SCORE_BINS)
                    bins[min(int(span.score * SCORE_BINS), SCORE_BINS - 1)] += 1
            if task.mode == "redact":
                updates[name] = [
                    None if value is None else transformer.transform(text, row, _subject(subject))
                    for value, text, row, subject in zip(values, texts, spans, subjects, strict=True)
                ]
        part = task.parts_dir / task.part_name(shard.index)
        if task.mode == "redact":
            tmp = temp_name(part)
            write_rows(shard.with_columns(updates), task.output_format, tmp, delimiter=task.delimiter)
            commit_file(tmp, part)
        else:
            lines = []
            for position, row_id in enumerate(ids):
                for name in task.text_columns:
                    record = {"id": _safe_id(row_id), "column": name}
                    record["spans"] = [s.to_json() for s in spans_by_column[name][position]]
                    lines.append(json.dumps(record, ensure_ascii=False, default=str))
            write_lines_atomic(part, lines)
        return ShardResult(
            index=shard.index,
            first_row=shard.first_row,
            rows_in=shard.rows_in,
            rows_out=shard.num_rows,
            rejects=shard.rejects,
            part=part.name,
            sha256=sha256_file(part),
            entities=entities,
            null_cells=nulls,
            chars=chars,
            seconds=time.perf_counter() - started,
            score_histogram=dict(sorted(histogram.items())),
        )


def _subject(value: Any) -> str | None:
    return None if value is None else str(value)


def _safe_id(value: Any) -> Any:
    """Ids are written as given when they are JSON scalars, else as text."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__
