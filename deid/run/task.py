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

import pyarrow as pa

from deid.config import DeidConfig
from deid.detect.spans import Span
from deid.errors import InputError
from deid.io.shard import Reject, Shard
from deid.io.writers import EXTENSIONS, commit_file, sha256_file, temp_name, write_lines_atomic, write_rows
from deid.transform.keys import SecretKey

if TYPE_CHECKING:
    from deid.classify.tiers import TierTaxonomy

Mode = Literal["redact", "detect", "route"]
SCORE_BINS = 10
# Distinct values per unlisted string column and shard that detection samples for the run report's warning,
# in the first UNLISTED_SAMPLE_SHARDS shards only: the warning needs evidence, not a second pass over
# every unlisted column (on a small job cut into 32-row shards, that would detect every cell again).
UNLISTED_SAMPLE = 32
UNLISTED_SAMPLE_SHARDS = 4


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
    input_name: str = "input"

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
    escalations: dict[str, int] = field(default_factory=dict)
    unlisted_pii: dict[str, dict[str, int]] = field(default_factory=dict)
    unlisted_sampled: dict[str, int] = field(default_factory=dict)

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
            "escalations": self.escalations,
            "unlisted_pii": self.unlisted_pii,
            "unlisted_sampled": self.unlisted_sampled,
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
        self._columns: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {"task": self.task, "_detector": None, "_transformers": {}, "_router": None, "_columns": None}

    @property
    def column_transformer(self) -> Any:
        """The whole-cell column transformer (built on first use)."""
        if self._columns is None:
            from deid.transform.column_transform import ColumnTransformer

            self._columns = ColumnTransformer(dict(self.task.config.columns), self.task.key)
        return self._columns

    def listed_columns(self) -> set[str]:
        """Columns the job names: column policies, text, id and subject columns."""
        task = self.task
        names = {*task.config.columns, *task.text_columns}
        names.update(c for c in (task.id_column, task.subject_column) if c)
        return names

    def apply_columns(self, shard: Shard) -> Shard:
        """Transform whole-cell columns, drop ``drop`` and (``unlisted_columns: drop``) unlisted ones.

        A cell that is not a value of its column's entity rejects its row (``on_invalid: reject``)
        or stops the job (``on_invalid: error``) with the row and column, never the content.

        Raises:
            InputError: an invalid cell in a column whose ``on_invalid`` is ``error``.
        """
        from deid.transform.column_transform import replace_columns

        task = self.task
        present = _column_names(shard)
        drop = {n for n, p in task.config.columns.items() if p.operator == "drop"}
        if task.config.unlisted_columns == "drop":
            drop.update(c for c in present if c not in self.listed_columns())
        policies = {
            n: p
            for n, p in task.config.columns.items()
            if not p.text and p.operator != "drop" and n in present
        }
        if not policies and not drop & set(present):
            return shard
        subjects = (
            [_subject(v) for v in shard.column(task.subject_column)]
            if task.subject_column
            else [None] * shard.num_rows
        )
        ids = shard.column(task.id_column) if task.id_column else [None] * shard.num_rows
        updates: dict[str, tuple[list[Any], Any]] = {}
        bad: dict[int, Reject] = {}
        for name, policy in policies.items():
            arrow_type = shard.table.schema.field(name).type if shard.table is not None else None
            values, new_type, invalid = self.column_transformer.transform_column(
                name, shard.column(name), arrow_type, subjects
            )
            updates[name] = (values, new_type)
            for position, reason in sorted(invalid.items()):
                row = shard.row_numbers[position]
                if policy.on_invalid == "error":
                    raise InputError(task.input_name, reason.split(": ", 1)[1], row=row, column=name)
                bad.setdefault(position, Reject(row, reason, name, _safe_id(ids[position])))
        done = replace_columns(shard, updates, drop)
        return done.without_rows(set(bad), list(bad.values()))

    def check_unlisted(self, shard: Shard) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
        """Detect PII in a sample of each kept, unlisted string column (for the run report's warning).

        Returns:
            (column -> entity type -> sampled distinct values holding it, column -> values sampled).
        """
        listed = self.listed_columns()
        routing = {self.task.config.routing.column, f"{self.task.config.routing.column}_score"}
        samples: dict[str, list[str]] = {}
        for name in _column_names(shard):
            if name in listed or (self.task.router is not None and name in routing):
                continue
            column_type = shard.table.schema.field(name).type if shard.table is not None else None
            if column_type is not None and not (
                pa.types.is_string(column_type) or pa.types.is_large_string(column_type)
            ):
                continue
            # Distinct values: a repeated value tells nothing new and detection costs per text.
            values = (v for v in shard.column(name) if isinstance(v, str) and v.strip())
            cells = list(dict.fromkeys(values))[:UNLISTED_SAMPLE]
            if cells:
                samples[name] = cells
        if not samples:
            return {}, {}
        texts = [cell for cells in samples.values() for cell in cells]
        spans = iter(self.detector.detect(texts))
        found: dict[str, dict[str, int]] = {}
        for name, cells in samples.items():
            counts: Counter[str] = Counter()
            for _ in cells:
                counts.update({s.entity_type for s in next(spans)})
            if counts:
                found[name] = dict(sorted(counts.items()))
        return found, {name: len(cells) for name, cells in samples.items()}

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
        tiers, scores, _ = self.route_rows(shard)
        return tiers, scores

    def route_rows(self, shard: Shard) -> tuple[list[str | None], list[float | None], dict[str, int]]:
        """Tier and top probability per row, and the fail-safe's escalations ("from->to": rows)."""
        if self.router is None or self.task.tiers is None:
            return [None] * shard.num_rows, [None] * shard.num_rows, {}
        columns = [shard.column(name) for name in self.task.text_columns]
        documents = [
            "\n\n".join(v for v in values if isinstance(v, str)) for values in zip(*columns, strict=True)
        ]
        if not documents:
            return [], [], {}
        proba = self.router.predict_proba(documents)
        classes = [str(c) for c in self.router.classes_]
        routing = self.task.tiers.route(proba, classes, getattr(self.router, "fail_safe_", None))
        return list(routing.tiers), [round(float(p), 4) for p in proba.max(axis=1)], routing.escalations()

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
        # Ids and subjects as read: a column policy may transform the subject or id column itself.
        ids_by_row = (
            dict(zip(shard.row_numbers, shard.column(task.id_column), strict=True)) if task.id_column else {}
        )
        subjects_by_row = (
            dict(zip(shard.row_numbers, shard.column(task.subject_column), strict=True))
            if task.subject_column
            else {}
        )
        unlisted_pii: dict[str, dict[str, int]] = {}
        unlisted_sampled: dict[str, int] = {}
        if task.mode == "redact":
            shard = self.apply_columns(shard)
            if task.config.unlisted_columns == "keep" and shard.index < UNLISTED_SAMPLE_SHARDS:
                unlisted_pii, unlisted_sampled = self.check_unlisted(shard)
        tiers, tier_scores, escalations = self.route_rows(shard)
        ids = [ids_by_row[r] for r in shard.row_numbers] if task.id_column else list(shard.row_numbers)
        subjects = [subjects_by_row.get(r) for r in shard.row_numbers]
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
                escalations=escalations,
                entities_by_tier={
                    tier: {col: dict(sorted(c.items())) for col, c in cols.items()}
                    for tier, cols in sorted(by_tier.items())
                },
                unlisted_pii=unlisted_pii,
                unlisted_sampled=unlisted_sampled,
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
            # As Spark's partitionBy and Hive do, the tier lives in the directory name
            # (OUTPUT/<column>=<tier>/), not in the part files: readers of OUTPUT as a dataset
            # (pyarrow, pandas, Spark, deid) get it back as a column, and a copy in the parts would
            # clash with it.
            column = task.config.routing.column
            for tier in order:
                positions = [i for i, t in enumerate(tiers) if t == tier]
                if positions:
                    groups.append((tier, shard.select(positions).without_columns([column])))
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


def _column_names(shard: Shard) -> list[str]:
    if shard.table is not None:
        return list(shard.table.column_names)
    return list(dict.fromkeys(k for record in shard.records or [] for k in record))


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


def config_text_columns(config: DeidConfig, text_columns: tuple[str, ...]) -> tuple[str, ...]:
    """``text_columns`` followed by the config's ``text: true`` columns not already among them."""
    extra = [n for n, p in config.columns.items() if p.text and n not in text_columns]
    return (*text_columns, *extra)


def with_config_text_columns(spec: Any) -> Any:
    """``spec`` (a :class:`deid.run.job.JobSpec`) with the config's ``text: true`` columns added."""
    import dataclasses

    merged = config_text_columns(spec.config, tuple(spec.text_columns))
    return spec if merged == tuple(spec.text_columns) else dataclasses.replace(spec, text_columns=merged)


def _input_schema(reader: Any) -> pa.Schema | None:
    """The Arrow schema of a Parquet input (``None`` for CSV, all strings, and JSONL, checked per cell)."""
    schema = getattr(reader, "schema", None)
    if isinstance(schema, pa.Schema) and len(schema):
        return schema
    files = getattr(reader, "files", None)
    if getattr(reader, "format", None) == "parquet" and files and hasattr(reader, "_reader"):
        first = getattr(reader._reader(files[0]), "schema", None)
        return first if isinstance(first, pa.Schema) else None
    return None


def check_column_policies(spec: Any, source: Any, reader: Any) -> None:
    """Refuse column policies that cannot run, before any shard is processed.

    Args:
        spec: the :class:`deid.run.job.JobSpec`.
        source: the input as named in errors.
        reader: the opened input (its ``columns`` and, for Parquet, its schema).

    Raises:
        ConfigError: a policy names a missing column, an operator cannot apply to the column's type,
            ``date_shift`` without a subject column, a text column that also has a whole-cell policy,
            or an unlisted column under ``unlisted_columns: error``.
    """
    config = spec.config
    if spec.mode != "redact":
        return
    # Imported only here: column_transform pulls in Presidio (and with it transformers), seconds of
    # start-up that a detect job's parent process, which never transforms a cell, need not pay.
    from deid.errors import ConfigError
    from deid.transform.column_transform import check_column_type

    columns = list(reader.columns)
    schema = _input_schema(reader) if config.columns else None
    shown = ", ".join(repr(c) for c in columns[:20])
    for name, policy in config.columns.items():
        if name not in columns:
            raise ConfigError(f"columns.{name}: {source} has no column '{name}'; the columns are {shown}")
        if policy.text:
            continue
        if name in spec.text_columns:
            raise ConfigError(f"columns.{name}: '{name}' is also given as --text-column; choose one")
        date_shift = policy.operator == "date_shift" or (
            policy.operator == "pseudonymize" and policy.entity_for(name) in ("DATE_TIME", "DATE")
        )
        if date_shift and spec.subject_column is None:
            raise ConfigError(
                f"columns.{name}: date_shift needs a subject column (--subject-column, e.g. patient_id) so that "
                "each subject's dates move by one offset"
            )
        if schema is not None:
            problem = check_column_type(name, policy, schema.field(name).type)
            if problem:
                raise ConfigError(problem)
    if config.unlisted_columns == "error":
        listed = {
            *config.columns,
            *spec.text_columns,
            *(c for c in (spec.id_column, spec.subject_column) if c),
        }
        unlisted = [c for c in columns if c not in listed]
        if unlisted:
            raise ConfigError(
                f"unlisted_columns: error: {source} has columns the config does not name: "
                f"{', '.join(repr(c) for c in unlisted[:20])} (add them to 'columns' or set unlisted_columns)"
            )


def unlisted_warnings(entries: list[dict[str, Any]]) -> tuple[dict[str, dict[str, int]], list[str]]:
    """Sum the shards' unlisted-column samples; one warning per unlisted column where PII was found.

    Returns:
        (column -> entity type -> sampled values holding it, warnings that name no value).
    """
    found: dict[str, dict[str, int]] = {}
    sampled: Counter[str] = Counter()
    for entry in entries:
        sampled.update(entry.get("unlisted_sampled", {}))
        for column, counts in entry.get("unlisted_pii", {}).items():
            target = found.setdefault(column, {})
            for entity, n in counts.items():
                target[entity] = target.get(entity, 0) + n
    warnings = []
    for column in sorted(found):
        kinds = ", ".join(
            f"{entity} in {n}/{sampled[column]}"
            for entity, n in sorted(found[column].items(), key=lambda kv: -kv[1])
        )
        warnings.append(
            f"column '{column}' is not in the config's columns and was kept as it is, but detection found "
            f"PII in the sampled values ({kinds}): name it under 'columns' (deid scan suggests a policy)"
        )
    return {c: dict(sorted(v.items())) for c, v in sorted(found.items())}, warnings
