"""Profile a table before redacting it: which columns hold free text, which hold one identifier per cell.

:func:`scan_table` streams the input once and keeps a seeded uniform sample of ``sample`` rows
(reservoir sampling: memory is bounded by the sample, not the table). It runs detection on every
string column of the sample and reads the column names and types as hints (``dob``, ``*_name``,
``email``, ``zip``, dates and timestamps). For each column it reports the type, the share of null
cells, the entity types found with the share of sampled cells holding each, and a verdict:

``free text``
    long cells with PII inside them (transform with ``text: true``);
``identifier``
    one value per cell, of one entity type (a whole-cell column policy);
``no PII found``
    neither.

Nothing in a :class:`ScanReport` holds a cell's value. :meth:`ScanReport.suggested_config` is a
configuration ``deid redact`` accepts (``--write-config``), to be reviewed before use.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from deid.errors import InputError

# Column-name hints: (pattern on the lower-cased name, entity type). First match wins.
NAME_HINTS: tuple[tuple[str, str], ...] = (
    (r"(^|_)(dob|birth_?date|date_of_birth|birthday|born)($|_)", "DATE_TIME"),
    (r"(^|_)(e_?mail|email_address)($|_)", "EMAIL_ADDRESS"),
    (r"(^|_)(ssn|social_security(_number)?)($|_)", "US_SSN"),
    (r"(^|_)(zip|zip_?code|postal_?code|postcode)($|_)", "ZIP"),
    (r"(^|_)(phone|telephone|tel|mobile|cell|fax|pager)($|_)", "PHONE_NUMBER"),
    (r"(^|_)(ip|ip_address|ipv4|ipv6)($|_)", "IP_ADDRESS"),
    (r"(^|_)(url|website|homepage)($|_)", "URL"),
    (r"(^|_)(age)($|_)", "AGE"),
    (
        r"(^|_)(mrn|medical_record(_number)?|record_number|patient_id|member_id|account(_number)?|"
        r"policy_number|license(_number)?|passport(_number)?|npi|health_plan(_id)?)($|_)",
        "ID",
    ),
    (r"(^|_)(name|first_?name|last_?name|surname|given_name|full_?name)$|_name$", "PERSON"),
    (r"(^|_)(address|street|city|county|town)($|_)", "LOCATION"),
    (r"(^|_)(date|admitted|discharged|visit|seen)(_at|_on|_date)?$|_(at|on|date|time)$", "DATE_TIME"),
)
# The operator a suggested config gives each entity type of a whole-cell column.
SUGGESTED_OPERATORS: dict[str, dict[str, Any]] = {
    "PERSON": {"operator": "pseudonymize"},
    "LOCATION": {"operator": "pseudonymize"},
    "ORGANIZATION": {"operator": "pseudonymize"},
    "EMAIL_ADDRESS": {"operator": "hash"},
    "PHONE_NUMBER": {"operator": "pseudonymize"},
    "DATE_TIME": {"operator": "date_shift"},
    "ID": {"operator": "encrypt"},
    "US_SSN": {"operator": "hash"},
    "ZIP": {"operator": "generalize", "keep": 3},
    "AGE": {"operator": "generalize", "kind": "age"},
    "CREDIT_CARD": {"operator": "mask", "keep_last": 4},
    "IBAN_CODE": {"operator": "hash"},
    "IP_ADDRESS": {"operator": "hash"},
    "URL": {"operator": "hash"},
}
# Safe Harbor (configs/hipaa-safe-harbor.yaml) allows no code derived from the identifier: no keyed operator.
SAFE_HARBOR_OPERATORS: dict[str, dict[str, Any]] = {
    "DATE_TIME": {"operator": "generalize", "kind": "year"},
    "ZIP": {"operator": "generalize", "keep": 3},
    "AGE": {"operator": "generalize", "kind": "age"},
}
SAFE_HARBOR_PROFILE = "hipaa-safe-harbor"
# A column is free text when its cells have this many words on average.
FREE_TEXT_WORDS = 6.0
# An entity is a column's identifier type when it covers the whole cell in at least this share of cells.
WHOLE_CELL_SHARE = 0.5
# Short multi-word cells are free text when this share of them holds PII (below: stray detections).
SHORT_TEXT_PII_SHARE = 0.1
# A name hint is confirmed when this share of cells has the shape of the hinted type.
HINT_SHAPE_SHARE = 0.8

_ZIP_SHAPE = re.compile(r"^\d{5}(?:-?\d{4})?$")
_ID_SHAPE = re.compile(r"^(?=.*\d)[A-Za-z0-9][A-Za-z0-9\-_/.]{2,31}$")


@dataclass
class ColumnProfile:
    """What the scan found in one column (counts and shares only, never a value).

    Attributes:
        name: column name.
        type: the column's type (Arrow type for Parquet, ``string`` for CSV, JSON kinds for JSONL).
        sampled: sampled cells.
        null_share: share of sampled cells that are null or empty.
        entities: entity type -> share of non-null sampled cells holding at least one span of it.
        whole_cell: entity type -> share of non-null sampled cells that are wholly one span of it.
        hint: the entity type the column's name or type suggests, or ``None``.
        verdict: ``free text``, ``identifier`` or ``no PII found``.
        entity: the identifier's entity type (``identifier`` verdicts).
        reason: why the verdict (``detected in 97% of cells``, ``name hint 'zip' and 100% ZIP-shaped``).
    """

    name: str
    type: str
    sampled: int = 0
    null_share: float = 0.0
    mean_words: float = 0.0
    entities: dict[str, float] = field(default_factory=dict)
    whole_cell: dict[str, float] = field(default_factory=dict)
    hint: str | None = None
    verdict: str = "no PII found"
    entity: str | None = None
    reason: str = ""

    @property
    def verdict_text(self) -> str:
        """The verdict as printed: ``identifier (PERSON)``."""
        return f"identifier ({self.entity})" if self.verdict == "identifier" else self.verdict

    def suggested_policy(
        self, subject_column: str | None, safe_harbor: bool = False
    ) -> dict[str, Any] | None:
        """The column entry a suggested config gets, or ``None`` (not named: kept as it is).

        With ``safe_harbor`` identifiers are dropped or generalised (no keyed operator) and columns
        without PII are named with ``keep`` (the Safe Harbor profile refuses unlisted columns).
        """
        if self.verdict == "free text":
            return {"text": True}
        if self.verdict != "identifier" or self.entity is None:
            return {"operator": "keep"} if safe_harbor else None
        if safe_harbor:
            return dict(SAFE_HARBOR_OPERATORS.get(self.entity, {"operator": "drop"}))
        entry = dict(SUGGESTED_OPERATORS.get(self.entity, {"operator": "hash"}))
        if entry["operator"] == "date_shift" and subject_column is None:
            entry = {"operator": "generalize", "kind": "year"}  # date_shift needs a subject column
        if entry["operator"] not in ("generalize",):
            entry = {"entity": self.entity, **entry}
        return entry


@dataclass
class ScanReport:
    """The result of :func:`scan_table`."""

    input: str
    format: str
    rows_read: int
    rows_sampled: int
    sample: int
    seed: int
    columns: list[ColumnProfile]
    id_column: str | None = None
    subject_column: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form (no values)."""
        return asdict(self)

    def column(self, name: str) -> ColumnProfile:
        """The profile of one column."""
        for profile in self.columns:
            if profile.name == name:
                return profile
        raise KeyError(name)

    def suggested_config(self, extends: str = "pseudonymize", safe_harbor: bool = False) -> dict[str, Any]:
        """A configuration for ``deid redact``: free-text columns, whole-cell policies, the rest kept.

        The id column is never transformed. Otherwise every column the scan found no PII in is left
        to ``unlisted_columns: keep`` (the run report re-checks it). With ``safe_harbor`` the config
        extends ``hipaa-safe-harbor`` and names every column (that profile refuses unlisted ones):
        dates become years, ZIP codes 3 digits, ages 90+ "90+", other identifiers are dropped
        (the subject column too, when the scan calls it an identifier), the rest is kept.
        """
        columns: dict[str, Any] = {}
        for profile in self.columns:
            if profile.name == self.id_column:
                if safe_harbor:
                    columns[profile.name] = {"operator": "keep"}
                continue
            entry = profile.suggested_policy(None if safe_harbor else self.subject_column, safe_harbor)
            if entry is not None:
                columns[profile.name] = entry
        if safe_harbor:
            return {"extends": SAFE_HARBOR_PROFILE, "columns": columns}
        return {"extends": extends, "columns": columns, "unlisted_columns": "keep"}

    def write_config(self, path: str | Path, **options: Any) -> Path:
        """Write :meth:`suggested_config` as commented YAML (see :func:`write_suggested_config`)."""
        return write_suggested_config(self, path, **options)

    def format_table(self) -> str:
        """The per-column table ``deid scan`` prints (no values)."""
        header = ("column", "type", "null", "entities (share of sampled cells)", "verdict")
        rows = [header]
        for p in self.columns:
            found = ", ".join(
                f"{e} {s:.0%}" for e, s in sorted(p.entities.items(), key=lambda kv: -kv[1])[:4]
            )
            rows.append((p.name, p.type, f"{p.null_share:.0%}", found or "-", p.verdict_text))
        widths = [max(len(str(r[i])) for r in rows) for i in range(len(header))]
        lines = ["  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)


def _name_hint(name: str) -> str | None:
    lowered = re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower().replace("-", "_").replace(" ", "_")
    for pattern, entity in NAME_HINTS:
        if re.search(pattern, lowered):
            return entity
    return None


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


def _shape_ok(entity: str, text: str) -> bool:
    from deid.transform.column_transform import CELL_VALIDATORS

    if entity == "ZIP":
        return bool(_ZIP_SHAPE.match(text))
    if entity == "ID":
        return bool(_ID_SHAPE.match(text))
    if entity in ("PERSON", "LOCATION"):
        return bool(re.fullmatch(r"[^\W\d_][\w.'\- ,]{1,80}", text)) and not any(c.isdigit() for c in text)
    validator = CELL_VALIDATORS.get(entity)
    return validator(text) if validator is not None else False


def _covers(span: Any, text: str) -> bool:
    """Whether a span is the whole cell (ignoring blanks and punctuation at the edges)."""
    core = text.strip().strip(".,;:")
    covered = text[span.start : span.end].strip().strip(".,;:")
    return len(covered) >= 0.8 * len(core)


def _reservoir(shards: Any, size: int, seed: int) -> tuple[list[dict[str, Any]], int]:
    """A uniform sample of ``size`` rows from a stream of shards (Algorithm R), and the rows read."""
    rng = random.Random(seed)
    kept: list[dict[str, Any]] = []
    seen = 0
    for shard in shards:
        for record in shard.to_records():
            seen += 1
            if len(kept) < size:
                kept.append(record)
            else:
                slot = rng.randrange(seen)
                if slot < size:
                    kept[slot] = record
    return kept, seen


def scan_table(
    source: str | Path | Any,
    *,
    sample: int = 500,
    seed: int = 0,
    config: Any = None,
    id_column: str | None = None,
    subject_column: str | None = None,
    input_format: str | None = None,
    delimiter: str = ",",
    detector: Any = None,
) -> ScanReport:
    """Profile the columns of a table: free text, whole-cell identifiers, or no PII.

    Args:
        source: a Parquet, CSV or JSONL file; or an in-memory table (pandas DataFrame, Arrow table,
            list of dicts).
        sample: rows sampled (seeded reservoir sample; memory is bounded by it).
        seed: sampling seed (same seed, same sample).
        config: a :class:`deid.config.DeidConfig` (its ``detection`` part is used); default: the
            default profile.
        id_column: the row id column (never suggested for transformation).
        subject_column: the subject column (date columns get ``date_shift`` only with one).
        input_format: ``parquet|csv|jsonl`` when the extension does not say.
        delimiter: CSV delimiter.
        detector: a ready :class:`deid.detect.engine.Detector` (saves the model load when scanning often).

    Returns:
        A :class:`ScanReport` (counts and shares, never a value).

    Raises:
        InputError: the input cannot be read.
    """
    if sample < 1:
        raise InputError(source, "--sample must be at least 1")
    records, rows_read, types, name, fmt = _sample_rows(source, sample, seed, input_format, delimiter)
    if detector is None:
        from deid.config import load_config
        from deid.detect.engine import Detector

        detector = Detector((config or load_config()).detection)
    profiles = [_profile(column, column_type, records, detector) for column, column_type in types.items()]
    for profile in profiles:
        if profile.name in (id_column,):
            profile.reason = (profile.reason + "; " if profile.reason else "") + "the id column"
    return ScanReport(
        input=name,
        format=fmt,
        rows_read=rows_read,
        rows_sampled=len(records),
        sample=sample,
        seed=seed,
        columns=profiles,
        id_column=id_column,
        subject_column=subject_column,
    )


def _sample_rows(
    source: Any, sample: int, seed: int, input_format: str | None, delimiter: str
) -> tuple[list[dict[str, Any]], int, dict[str, str], str, str]:
    """(sampled rows, rows read, column -> type name, input name, format)."""
    if isinstance(source, str | Path):
        from deid.io.readers import ReadOptions, detect_format, open_reader

        path = Path(source)
        fmt = detect_format(path, input_format)
        reader = open_reader(path, ReadOptions(text_columns=(), shard_size=10_000, delimiter=delimiter), fmt)
        records, seen = _reservoir(reader.shards(), sample, seed)
        schema = getattr(reader, "schema", None)
        if schema is None and fmt == "parquet":
            import pyarrow.parquet as pq

            schema = pq.read_schema(path)
        if schema is not None:
            types = {f.name: str(f.type) for f in schema}
        elif fmt == "csv":
            types = {c: "string" for c in reader.columns}
        else:
            types = _json_types(list(reader.columns), records)
        return records, seen, types, path.name, fmt
    table = _as_arrow(source)
    from deid.io.shard import Shard

    shards = (
        Shard(i, table=table.slice(start, 10_000)) for i, start in enumerate(range(0, table.num_rows, 10_000))
    )
    records, seen = _reservoir(shards, sample, seed)
    return records, seen, {f.name: str(f.type) for f in table.schema}, "<table>", "arrow"


def _as_arrow(source: Any) -> Any:
    """An Arrow table from a pandas DataFrame, an Arrow table or a list of dicts."""
    import pyarrow as pa

    if isinstance(source, pa.Table):
        return source
    if isinstance(source, list):
        return pa.Table.from_pylist(source)
    if type(source).__module__.startswith("pandas"):
        return pa.Table.from_pandas(source, preserve_index=False)
    raise TypeError(
        f"expected a file path, a pandas DataFrame, an Arrow table or a list of dicts, got {type(source).__name__}"
    )


def _json_types(columns: Sequence[str], records: list[dict[str, Any]]) -> dict[str, str]:
    types = {}
    for column in columns:
        kinds = {_type_name(r.get(column)) for r in records if r.get(column) is not None}
        types[column] = kinds.pop() if len(kinds) == 1 else ("null" if not kinds else "mixed")
    return types


def _profile(name: str, column_type: str, records: list[dict[str, Any]], detector: Any) -> ColumnProfile:
    values = [r.get(name) for r in records]
    present = [v for v in values if v is not None and not (isinstance(v, str) and not v.strip())]
    profile = ColumnProfile(name=name, type=column_type, sampled=len(values))
    profile.null_share = round(1 - len(present) / len(values), 4) if values else 0.0
    profile.hint = _name_hint(name)
    is_date_type = column_type.startswith(("date", "timestamp")) or (
        present and all(hasattr(v, "isoformat") for v in present)
    )
    if is_date_type:
        profile.hint = "DATE_TIME"
    if not present:
        profile.reason = "no values in the sample"
        return profile
    if is_date_type:
        profile.verdict, profile.entity = "identifier", "DATE_TIME"
        profile.reason = "a date/timestamp column (dates relating to a person are identifiers)"
        return profile
    texts = [v for v in present if isinstance(v, str)]
    if not texts:
        # Numbers and booleans: no detection; the name decides (an integer MRN or ZIP column).
        if profile.hint in ("ID", "ZIP", "AGE") and not any(isinstance(v, bool) for v in present):
            shaped = [
                v
                for v in present
                if _shape_ok(
                    profile.hint, f"{v:05d}" if profile.hint == "ZIP" and isinstance(v, int) else str(v)
                )
            ]
            if len(shaped) >= HINT_SHAPE_SHARE * len(present):
                profile.verdict, profile.entity = "identifier", profile.hint
                profile.reason = f"name hint and {len(shaped) / len(present):.0%} {profile.hint}-shaped"
        return profile
    spans = detector.detect(texts)
    holding: Counter[str] = Counter()
    whole: Counter[str] = Counter()
    any_pii = 0
    for text, found in zip(texts, spans, strict=True):
        any_pii += bool(found)
        holding.update({s.entity_type for s in found})
        if len(found) == 1 and _covers(found[0], text):
            whole[found[0].entity_type] += 1
    n = len(texts)
    profile.entities = {e: round(c / n, 4) for e, c in sorted(holding.items())}
    profile.whole_cell = {e: round(c / n, 4) for e, c in sorted(whole.items())}
    profile.mean_words = round(sum(len(t.split()) for t in texts) / n, 2)
    if profile.mean_words >= FREE_TEXT_WORDS:
        if holding:
            profile.verdict = "free text"
            profile.reason = f"{profile.mean_words:g} words per cell on average, PII inside"
        return profile
    if profile.hint is not None:
        shaped = sum(_shape_ok(profile.hint, t.strip()) for t in texts)
        found_share = holding.get(profile.hint, 0) / n
        if shaped >= HINT_SHAPE_SHARE * n or found_share >= WHOLE_CELL_SHARE:
            profile.verdict, profile.entity = "identifier", profile.hint
            profile.reason = (
                f"name hint, {shaped / n:.0%} {profile.hint}-shaped, detected in {found_share:.0%}"
            )
            return profile
    if whole:
        entity, count = whole.most_common(1)[0]
        if count >= WHOLE_CELL_SHARE * n:
            profile.verdict, profile.entity = "identifier", entity
            profile.reason = f"one {entity} per cell in {count / n:.0%} of cells"
            return profile
    if any_pii >= SHORT_TEXT_PII_SHARE * n and profile.mean_words >= 2:
        profile.verdict = "free text"
        profile.reason = f"short text with PII in {any_pii / n:.0%} of cells"
    return profile


def write_suggested_config(
    report: ScanReport,
    path: str | Path,
    *,
    extends: str = "pseudonymize",
    safe_harbor: bool = False,
    overwrite: bool = False,
) -> Path:
    """Write :meth:`ScanReport.suggested_config` as a commented YAML file ``deid redact`` accepts.

    Raises:
        OutputError: ``path`` exists and ``overwrite`` is false, or cannot be written.
    """
    import yaml

    from deid.errors import OutputError
    from deid.io.writers import commit_file, temp_name

    target = Path(path)
    if target.exists() and not overwrite:
        raise OutputError(f"{target}: already exists (use --overwrite to replace it)")
    run = f"deid redact {report.input} OUTPUT --config {target.name}"
    if report.id_column:
        run += f" --id-column {report.id_column}"
    if report.subject_column and not safe_harbor:
        run += f" --subject-column {report.subject_column}"
    lines = [
        f"# Suggested by 'deid scan' from {report.rows_sampled} sampled rows of {report.input} (seed {report.seed}).",
        "# Review it before use: a column the sample showed no PII in is kept as it is (unlisted_columns: keep),",
        "# and the run report warns about unlisted columns where detection finds PII.",
        f"# Run: {run}",
        "#",
    ]
    for profile in report.columns:
        lines.append(
            f"# {profile.name}: {profile.verdict_text}" + (f" ({profile.reason})" if profile.reason else "")
        )
    body = yaml.safe_dump(
        report.suggested_config(extends, safe_harbor=safe_harbor), sort_keys=False, default_flow_style=None
    )
    tmp = temp_name(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text("\n".join(lines) + "\n" + body, encoding="utf-8")
        commit_file(tmp, target)
    except OSError as exc:
        raise OutputError(f"{target}: cannot write ({exc.strerror or exc})") from None
    return target
