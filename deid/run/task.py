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
from typing import TYPE_CHECKING, Any, Literal

from deid.config import DeidConfig
from deid.detect.spans import Span
from deid.io.shard import Reject, Shard
from deid.io.writers import EXTENSIONS, commit_file, sha256_file, temp_name, write_lines_atomic, write_rows
from deid.transform.keys import SecretKey

if TYPE_CHECKING:
    from deid.classify.tiers import TierTaxonomy

Mode = Literal["redact", "detect", "route"]
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
    router: Path | None = None
    tiers: TierTaxonomy | None = None

    def part_name(self, index: int) -> str:
        """File name of the part of shard ``index``."""
        extension = ".jsonl" if self.mode == "detect" else EXTENSIONS[self.output_format]
        return f"part-{index:05d}{extension}"

    def part_path(self, index: int, tier: str | None) -> Path:
        """Where the part of shard ``index`` (and ``tier``, when partitioning) goes."""
        if tier is not None and self.config.routing.partition:
            return self.parts_dir / f"{self.config.routing.column}={tier}" / self.part_name(index)
        return self.parts_dir / self.part_name(index)


@dataclass
class ShardResult:
    """What a processed shard reports back (no detected values)."""

    index: int
    first_row: int
    rows_in: int
    rows_out: int
    rejects: list[Reject]
    parts: list[dict[str, Any]]
    entities: dict[str, dict[str, int]]
    null_cells: dict[str, int]
    chars: int
    seconds: float
    score_histogram: dict[str, list[int]] = field(default_factory=dict)
    tiers: dict[str, int] = field(default_factory=dict)
    entities_by_tier: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)

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
            "parts": self.parts,
            "entities": self.entities,
            "tiers": self.tiers,
            "entities_by_tier": self.entities_by_tier,
            "null_cells": self.null_cells,
            "chars": self.chars,
            "score_histogram": self.score_histogram,
        }


def _reason_kind(reason: str) -> str:
    """The reason without its details, for counting ("expected 5 fields, found 3" -> "expected N fields")."""
    return reason.split(" (")[0].split(", found")[0]


@dataclass
class ProcessedShard:
    """A shard after :meth:`ShardProcessor.transform`: output rows, tiers, spans and the counts."""

    shard: Shard
    ids: list[Any]
    tiers: list[str | None]
    spans: dict[str, list[list[Span]]]
    result: ShardResult


class ShardProcessor:
    """Processes shards with engines built once per process.

    Args:
        task: the job-wide settings.
    """

    def __init__(self, task: ShardTask) -> None:
        self.task = task
        self._detector: Any = None
        self._transformers: dict[str | None, Any] = {}
        self._router: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {"task": self.task, "_detector": None, "_transformers": {}, "_router": None}

    @property
    def detector(self) -> Any:
        """The detection engine (built on first use, once per process)."""
        if self._detector is None:
            from deid.detect.engine import Detector

            self._detector = Detector(self.task.config.detection)
        return self._detector

    def transformer(self, tier: str | None) -> Any:
        """The text transformer of ``tier``'s policy (built on first use)."""
        if tier not in self._transformers:
            from deid.transform.policy import TextTransformer

            self._transformers[tier] = TextTransformer(self.task.config.policy_for_tier(tier), self.task.key)
        return self._transformers[tier]

    @property
    def router(self) -> Any:
        """The sensitivity classifier, or ``None`` without routing."""
        if self._router is None and self.task.router is not None:
            from deid.classify import load_classifier

            self._router = load_classifier(self.task.router)
        return self._router

    def warm_up(self) -> None:
        """Build the engines now (workers call this at start so the first shard is not slow)."""
        if self.task.mode != "route":
            self.detector.detect(["warm up"])
        if self.router is not None:
            self.router.predict_proba(["warm up"])

    def classify(self, shard: Shard) -> tuple[list[str | None], list[float | None]]:
        """Tier and top probability per row (``None`` without a router)."""
        if self.router is None or self.task.tiers is None:
            return [None] * shard.num_rows, [None] * shard.num_rows
        columns = [shard.column(name) for name in self.task.text_columns]
        documents = [
            "\n\n".join(v for v in values if isinstance(v, str)) for values in zip(*columns, strict=True)
        ]
        if not documents:
            return [], []
        proba = self.router.predict_proba(documents)
        tiers = self.task.tiers.assign(proba, [str(c) for c in self.router.classes_])
        return list(tiers), [round(float(p), 4) for p in proba.max(axis=1)]

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
                    reason = f"text cell holds {_json_type(value)}, expected a string"
                elif len(value) > limit:
                    reason = f"text longer than {limit} characters"
                if reason:
                    bad[position] = Reject(shard.row_numbers[position], reason, name, _safe_id(ids[position]))
        return shard.without_rows(set(bad), list(bad.values()))

    def transform(self, shard: Shard) -> ProcessedShard:
        """Validate, classify, detect and transform a shard in memory (no file is written).

        This is the function every backend runs; :meth:`process` adds the commit of part files.
        """
        task = self.task
        shard = self.validate(shard)
        tiers, tier_scores = self.classify(shard)
        ids = shard.column(task.id_column) if task.id_column else list(shard.row_numbers)
        subjects = shard.column(task.subject_column) if task.subject_column else [None] * shard.num_rows
        entities: dict[str, dict[str, int]] = {}
        by_tier: dict[str, dict[str, Counter[str]]] = {}
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
            if task.mode == "route":
                continue
            spans = self.detector.detect(texts)
            spans_by_column[name] = spans
            counts: Counter[str] = Counter()
            for row, tier in zip(spans, tiers, strict=True):
                kinds = [s.entity_type for s in row]
                counts.update(kinds)
                if tier is not None:
                    by_tier.setdefault(tier, {}).setdefault(name, Counter()).update(kinds)
                for span in row:
                    bins = histogram.setdefault(span.entity_type, [0] * SCORE_BINS)
                    bins[min(int(span.score * SCORE_BINS), SCORE_BINS - 1)] += 1
            entities[name] = dict(sorted(counts.items()))
            if task.mode == "redact":
                updates[name] = [
                    None if value is None else self.transformer(tier).transform(text, row, _subject(subject))
                    for value, text, row, subject, tier in zip(
                        values, texts, spans, subjects, tiers, strict=True
                    )
                ]
        if task.router is not None and task.mode != "detect":
            column = task.config.routing.column
            updates[column] = tiers
            updates[f"{column}_score"] = tier_scores
        return ProcessedShard(
            shard=shard.with_columns(updates) if updates else shard,
            ids=ids,
            tiers=tiers,
            spans=spans_by_column,
            result=ShardResult(
                index=shard.index,
                first_row=shard.first_row,
                rows_in=shard.rows_in,
                rows_out=shard.num_rows,
                rejects=shard.rejects,
                parts=[],
                entities=entities,
                null_cells=nulls,
                chars=chars,
                seconds=0.0,
                score_histogram=dict(sorted(histogram.items())),
                tiers=dict(sorted(Counter(t for t in tiers if t is not None).items())),
                entities_by_tier={
                    tier: {col: dict(sorted(c.items())) for col, c in cols.items()}
                    for tier, cols in sorted(by_tier.items())
                },
            ),
        )

    def process(self, shard: Shard) -> ShardResult:
        """Transform one shard and commit its part file(s); the result lists them with their digests."""
        started = time.perf_counter()
        result = self.commit(self.transform(shard))
        result.seconds = time.perf_counter() - started
        return result

    def commit(self, done: ProcessedShard) -> ShardResult:
        """Write a transformed shard's part file(s) atomically and return its result with their digests."""
        if self.task.mode == "detect":
            done.result.parts = [self._write_spans(done.shard.index, done.ids, done.spans)]
        else:
            done.result.parts = self._write_rows(done.shard, done.tiers)
        return done.result

    def _write_rows(self, shard: Shard, tiers: list[str | None]) -> list[dict[str, Any]]:
        task = self.task
        if task.router is None or not task.config.routing.partition:
            groups: list[tuple[str | None, Shard]] = [(None, shard)]
        else:
            order = task.tiers.names if task.tiers is not None else sorted({t for t in tiers if t})
            groups = []
            for tier in order:
                positions = [i for i, t in enumerate(tiers) if t == tier]
                if positions:
                    groups.append((tier, shard.select(positions)))
        parts = []
        for tier, rows in groups:
            path = task.part_path(shard.index, tier)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = temp_name(path)
            write_rows(
                rows,
                task.output_format,
                tmp,
                delimiter=task.delimiter,
                escape_formulas=task.config.run.csv_formulas == "escape",
            )
            commit_file(tmp, path)
            parts.append(_part_entry(path, task.parts_dir, rows.num_rows))
        return parts

    def _write_spans(
        self, index: int, ids: list[Any], spans_by_column: dict[str, list[list[Span]]]
    ) -> dict[str, Any]:
        lines = []
        for position, row_id in enumerate(ids):
            for name in self.task.text_columns:
                record = {"id": _safe_id(row_id), "column": name}
                record["spans"] = [s.to_json() for s in spans_by_column[name][position]]
                lines.append(json.dumps(record, ensure_ascii=False, default=str))
        path = self.task.part_path(index, None)
        write_lines_atomic(path, lines)
        return _part_entry(path, self.task.parts_dir, len(ids))


def _part_entry(path: Path, root: Path, rows: int) -> dict[str, Any]:
    return {"path": path.relative_to(root).as_posix(), "rows": rows, "sha256": sha256_file(path)}


def _subject(value: Any) -> str | None:
    return None if value is None else str(value)


def _safe_id(value: Any) -> Any:
    """Ids are written as given when they are JSON scalars, else as text."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _json_type(value: Any) -> str:
    """The kind of a non-string cell, with its article ("a number", "an object")."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"
