"""deid as a library: redact and scan tables in memory or on disk, detect spans, plug into Presidio.

Everything here is re-exported by ``deid`` lazily (``import deid`` stays light; the models load on
first use)::

    import deid

    detector = deid.Detector()                                  # the default profile
    spans = detector.detect(["Call Ann Lee at 617-555-0123"])   # [[Span(...), Span(...)]]

    result = deid.redact_table(frame, text_columns=["note"], config="configs/patterns-only.yaml")
    result.table                                                # a DataFrame like ``frame``
    deid.scan_table(frame).format_table()                       # per-column verdicts

For Presidio users, :func:`transformer_recognizer` returns deid's ``TransformerNerRecognizer``
over the shipped model, to add to an ``AnalyzerEngine``, and :func:`add_operators` /
:func:`operator_config` register and configure deid's keyed operators on an ``AnonymizerEngine``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from deid.config import DeidConfig, DetectionConfig, load_config
from deid.detect.engine import Detector as _EngineDetector
from deid.detect.spans import Span
from deid.scan import ScanReport, scan_table
from deid.transform.keys import SecretKey, load_key

__all__ = [
    "Detector",
    "ScanReport",
    "Span",
    "TableResult",
    "add_operators",
    "operator_config",
    "redact_table",
    "scan_table",
    "transformer_recognizer",
]

ConfigLike = DeidConfig | str | Path | None


def _config(config: ConfigLike) -> DeidConfig:
    if isinstance(config, DeidConfig):
        return config
    return load_config(config)


class Detector(_EngineDetector):
    """deid's detection pipeline (Presidio patterns, deid recognizers, the transformer NER model).

    Args:
        config: a :class:`~deid.config.DeidConfig`, its ``detection`` part, a YAML path, or ``None``
            for the default profile. Models load on the first :meth:`detect`.

    ``detect(texts)`` takes a list of strings, a pandas Series or an Arrow string array and returns,
    per text, non-overlapping :class:`~deid.detect.spans.Span` objects (start, end, entity_type,
    score, recognizer). Null cells give no spans.
    """

    def __init__(self, config: ConfigLike | DetectionConfig = None) -> None:
        detection = config if isinstance(config, DetectionConfig) else _config(config).detection
        super().__init__(detection)

    def detect(self, texts: Any) -> list[list[Span]]:
        """Detect PII in each text (see the class docstring)."""
        if hasattr(texts, "to_pylist"):
            texts = texts.to_pylist()
        elif hasattr(texts, "tolist"):
            texts = texts.tolist()
        values = list(texts)
        return super().detect([v if isinstance(v, str) else "" for v in values])


@dataclass
class TableResult:
    """What :func:`redact_table` returns for an in-memory table.

    Attributes:
        table: the transformed rows, of the input's kind (pandas DataFrame, Arrow table, list of dicts).
        rows_in: rows given.
        rejects: rejected rows: ``{"row", "id", "column", "reason"}`` (1-based row numbers; no content).
        entities: entity counts per text column.
        warnings: unlisted columns where detection found PII (names and counts only).
    """

    table: Any
    rows_in: int
    rejects: list[dict[str, Any]] = field(default_factory=list)
    entities: dict[str, dict[str, int]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def redact_table(
    source: Any,
    output: str | Path | None = None,
    *,
    text_columns: Sequence[str] = (),
    config: ConfigLike = None,
    id_column: str | None = None,
    subject_column: str | None = None,
    key: str | None = None,
    workers: int | None = 1,
    overwrite: bool = False,
) -> Any:
    """Detect and transform PII in a table: text columns and the config's column policies.

    Args:
        source: a pandas DataFrame, an Arrow table or a list of dicts (transformed in memory); or a
            Parquet/CSV/JSONL path (then ``output`` is required and a full job runs, as ``deid redact``).
        output: the output directory for a path ``source``.
        text_columns: free-text columns (added to the config's ``text: true`` columns).
        config: a :class:`~deid.config.DeidConfig`, a YAML path, or ``None`` (the default profile).
        id_column: row id column.
        subject_column: subject column for date shifting.
        key: the secret key for keyed operators; ``None`` reads ``$DEID_KEY`` / ``$DEID_KEY_FILE``.
        workers: processes for a path ``source`` (in-memory tables run in this process).
        overwrite: replace an existing ``output``.

    Returns:
        A :class:`TableResult` for an in-memory table; the :class:`deid.run.job.RunReport` for a path.

    Raises:
        deid.errors.DeidError: bad config, missing column, missing key, unreadable input...
    """
    cfg = _config(config)
    if isinstance(source, str | Path):
        if output is None:
            raise TypeError("redact_table(path, ...) needs an output directory")
        return _redact_file(
            Path(source), Path(output), cfg, text_columns, id_column, subject_column, key, workers, overwrite
        )
    return _redact_memory(source, cfg, text_columns, id_column, subject_column, key)


def _key(cfg: DeidConfig, key: str | None) -> SecretKey | None:
    if key is not None:
        return SecretKey(key)
    return load_key(cfg.key, required=cfg.needs_key())


def _redact_file(
    source: Path,
    output: Path,
    cfg: DeidConfig,
    text_columns: Sequence[str],
    id_column: str | None,
    subject_column: str | None,
    key: str | None,
    workers: int | None,
    overwrite: bool,
) -> Any:
    import os

    from deid.run.job import JobSpec, run_job

    spec = JobSpec(
        mode="redact",
        input=source,
        output=output,
        text_columns=tuple(text_columns),
        config=cfg,
        id_column=id_column,
        subject_column=subject_column,
        workers=workers,
        overwrite=overwrite,
        show_progress=False,
    )
    if key is None:
        return run_job(spec)
    # The job reads the key from the configured variable, as the CLI does; set it for this call only.
    previous = os.environ.get(cfg.key.env)
    os.environ[cfg.key.env] = key
    try:
        return run_job(spec)
    finally:
        if previous is None:
            del os.environ[cfg.key.env]
        else:
            os.environ[cfg.key.env] = previous


def _redact_memory(
    source: Any,
    cfg: DeidConfig,
    text_columns: Sequence[str],
    id_column: str | None,
    subject_column: str | None,
    key: str | None,
) -> TableResult:
    import pyarrow as pa

    from deid.errors import InputError
    from deid.io.shard import Shard
    from deid.run.job import _IdChecker
    from deid.run.task import (
        ShardProcessor,
        ShardTask,
        check_column_policies,
        config_text_columns,
        unlisted_warnings,
    )

    kind = "arrow" if isinstance(source, pa.Table) else ("list" if isinstance(source, list) else "pandas")
    if kind == "pandas" and not type(source).__module__.startswith("pandas"):
        raise TypeError(
            f"expected a pandas DataFrame, an Arrow table or a list of dicts, got {type(source).__name__}"
        )
    table = pa.Table.from_pandas(source, preserve_index=False) if kind == "pandas" else source
    spec = SimpleNamespace(
        mode="redact",
        config=cfg,
        text_columns=config_text_columns(cfg, tuple(text_columns)),
        id_column=id_column,
        subject_column=subject_column,
    )
    columns = list(table.column_names) if kind != "list" else list(dict.fromkeys(k for r in table for k in r))
    if not spec.text_columns and not any(not p.text for p in cfg.columns.values()):
        raise InputError(
            "<table>", "no text column given (text_columns=... or columns: {NAME: {text: true}})"
        )
    for name in [*spec.text_columns, *(c for c in (id_column, subject_column) if c)]:
        if name not in columns:
            raise InputError(
                "<table>", f"no column '{name}'; the columns are {', '.join(map(repr, columns[:20]))}"
            )
    reader = SimpleNamespace(columns=columns, schema=table.schema if kind != "list" else None)
    check_column_policies(spec, "<table>", reader)
    task = ShardTask(
        mode="redact",
        config=cfg,
        text_columns=spec.text_columns,
        id_column=id_column,
        subject_column=subject_column,
        parts_dir=Path("."),
        output_format="parquet",
        key=_key(cfg, key),
        input_name="<table>",
    )
    processor = ShardProcessor(task)
    ids = _IdChecker(id_column)
    size = cfg.run.shard_size
    total = len(table) if kind == "list" else table.num_rows
    pieces: list[Any] = []
    result = TableResult(table=None, rows_in=total)
    entries = []
    for index, start in enumerate(range(0, max(total, 1), size)):
        rows = list(range(start + 1, min(start + size, total) + 1))
        if kind == "list":
            shard = Shard(index, records=[dict(r) for r in table[start : start + size]], row_numbers=rows)
        else:
            shard = Shard(index, table=table.slice(start, size), row_numbers=rows)
        done = processor.transform(ids.check(shard))
        pieces.append(done.shard)
        result.rejects += [r.to_json() for r in done.result.rejects]
        for column, counts in done.result.entities.items():
            target = result.entities.setdefault(column, {})
            for entity, n in counts.items():
                target[entity] = target.get(entity, 0) + n
        entries.append(done.result.manifest_entry())
    _, result.warnings = unlisted_warnings(entries)
    if kind == "list":
        result.table = [record for piece in pieces for record in piece.to_records()]
    else:
        merged = pa.concat_tables([p.to_table() for p in pieces], promote_options="permissive")
        result.table = merged.to_pandas() if kind == "pandas" else merged
    return result


def transformer_recognizer(
    model: str | Path | None = None, config: ConfigLike = None, language: str = "en"
) -> Any:
    """deid's ``TransformerNerRecognizer`` over a model directory, for your own Presidio ``AnalyzerEngine``.

    Args:
        model: the model directory; default: the configured (shipped) model, ``models/deid-ner-minilm``.
        config: where the transformer settings come from (label map, batch size, precision, filters).
        language: Presidio language code.

    The recognizer works inside any ``AnalyzerEngine`` one text at a time; ``prime(texts)`` before
    analysing a batch predicts it at once (much faster), ``clear()`` afterwards.
    """
    cfg = _config(config)
    transformer = cfg.detection.transformer
    if transformer is None:
        from deid.config import TransformerNerConfig

        transformer = TransformerNerConfig(model="models/deid-ner-minilm")
    if model is not None:
        transformer = transformer.model_copy(update={"model": str(model)})
    detection = cfg.detection.model_copy(update={"transformer": transformer})
    return _EngineDetector(detection)._build_transformer(language)


def add_operators(engine: Any) -> Any:
    """Register deid's operators (``deid_hash``, ``deid_encrypt``, ``deid_pseudonymize``,
    ``deid_date_shift``, ``deid_mask``, ``deid_generalize``) on a Presidio ``AnonymizerEngine``; returns it."""
    from deid.transform.operators import OPERATORS

    for _, operator_class in OPERATORS.values():
        if operator_class is not None:
            engine.add_anonymizer(operator_class)
    return engine


def operator_config(
    operator: str,
    key: str | SecretKey | None = None,
    *,
    entity_type: str | None = None,
    subject: str | None = None,
    **params: Any,
) -> Any:
    """A Presidio ``OperatorConfig`` for one of deid's operators, with its derived sub-key.

    Args:
        operator: a policy name: ``hash``, ``encrypt``, ``pseudonymize``, ``date_shift``, ``mask``,
            ``generalize`` (or Presidio's ``replace``, ``redact``, ``keep``).
        key: the secret key (a string of 32+ characters or a :class:`SecretKey`) for keyed operators.
        entity_type: the type this config is for (``pseudonymize`` of DATE_TIME shifts dates, as in deid).
        subject: the subject whose offset ``date_shift`` uses.
        params: the operator's parameters as in a deid policy (``length``, ``max_days``, ``keep``...).

    The output equals what ``deid redact`` writes for the same value, key and entity type, so
    Presidio pipelines and deid jobs pseudonymize consistently.
    """
    from deid.config import PolicyConfig
    from deid.transform.policy import TextTransformer

    secret = SecretKey(key) if isinstance(key, str) else key
    policy = PolicyConfig.model_validate({"default": {"operator": operator, **params}})
    transformer = TextTransformer(policy, secret)
    transformer._build()
    if operator == "replace" and params.get("new_value") is None:
        from presidio_anonymizer.entities import OperatorConfig

        return OperatorConfig("replace", {})  # Presidio writes <ENTITY_TYPE>
    return transformer._operator_config(entity_type or "ENTITY", subject)
