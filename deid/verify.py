"""Verify a redacted output: re-detect PII in it and, given gold spans, measure what leaked.

``verify_run`` reads ORIGINAL (the input of a ``deid redact`` run) and REDACTED (its output
directory: every ``part-*`` file, recursively, in shard order), aligns their rows (by id when an id
column is given, else by order, skipping the rows the run rejected), and reports:

* **residual detections**: what the detector still finds in the redacted text, per column and
  entity type. Placeholders written by deid's operators (``<PERSON>``, ``<ENC:ID:...>``,
  ``<PERSON:3f9a0c1d2b4e5f60>``) are not PII: a span is residual only when some letter or digit of
  it lies outside every placeholder. Surrogates written by ``pseudonymize`` or ``date_shift`` look
  like PII and are counted: on such outputs use gold spans to measure leaks.
* **gold leaks** (with ``gold``): a gold value is leaked when its exact text still occurs in the
  redacted cell (outside placeholders). Reported as leaked characters / gold characters, leaked
  values per type and the number of leaking documents (gold lines), never the values.

The leak rate that ``max_leak`` gates is the gold rate when gold spans are given, else the share of
redacted text characters that lie inside residual detections. The report is written to
``REDACTED/_verify.json`` (atomically) and holds counts only.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import logging
import re
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from deid.errors import InputError

logger = logging.getLogger(__name__)

VERIFY_NAME = "_verify.json"
# What deid's operators write in place of a value: replace (<TYPE>), hash (<TYPE:hexdigest>) and
# encrypt (<ENC:TYPE:base64url>). A custom replace value or hash template is not recognised.
PLACEHOLDER_RE = re.compile(r"<ENC:[A-Z][A-Z0-9_]*:[A-Za-z0-9_-]+>|<[A-Z][A-Z0-9_]*(?::[0-9a-f]{8,64})?>")
# Rows re-detected per call of the detector (bounds memory; the detector batches spaCy over them).
BATCH_ROWS = 64
_PART_NUMBER = re.compile(r"part-(\d+)")


@dataclass
class GoldTypeCounts:
    """Gold values of one entity type and how many of them leaked."""

    values: int = 0
    chars: int = 0
    leaked_values: int = 0
    leaked_chars: int = 0


@dataclass
class GoldResult:
    """The gold-span leak check (counts only).

    Attributes:
        file: the gold file's name.
        documents: gold lines for the verified text columns.
        documents_matched: those whose row is in REDACTED.
        documents_unmatched: those whose row is not (unknown id, or rejected by the run).
        documents_text_mismatch: matched lines whose ``text`` differs from ORIGINAL's cell.
        values: gold spans checked; ``chars`` their characters.
        leaked_values: spans whose text still occurs in the redacted cell; ``leaked_chars`` theirs.
        leaking_documents: gold lines with at least one leaked value.
        leak_rate: ``leaked_chars / chars`` (0 when there is nothing to check).
        by_type: the same counts per entity type.
        labels: the gold labels checked (``None``: all).
    """

    file: str
    documents: int = 0
    documents_matched: int = 0
    documents_unmatched: int = 0
    documents_text_mismatch: int = 0
    values: int = 0
    chars: int = 0
    leaked_values: int = 0
    leaked_chars: int = 0
    leaking_documents: int = 0
    leak_rate: float = 0.0
    by_type: dict[str, GoldTypeCounts] = field(default_factory=dict)
    labels: list[str] | None = None


@dataclass
class VerifyReport:
    """What :func:`verify_run` found. Holds counts and digests, never a cell value.

    Attributes:
        original: ORIGINAL's file name; ``original_sha256`` its digest.
        original_matches_manifest: whether that digest is the run manifest's input digest
            (``None`` when REDACTED has no manifest).
        redacted: REDACTED's directory name; ``parts`` the part files read.
        text_columns, id_column: what was verified; ``aligned_by`` is ``id`` or ``order``.
        config_sha256: digest of the configuration whose detector re-detected.
        rows_original: rows read from ORIGINAL (rows its reader rejected are not counted).
        rows_rejected_in_run: rows listed in REDACTED's ``_rejects.jsonl``.
        rows_redacted: rows read from REDACTED; ``rows_aligned`` those matched to an ORIGINAL row.
        rows_missing: ORIGINAL rows neither in REDACTED nor rejected by the run.
        rows_unexpected: REDACTED rows without an ORIGINAL row (unknown or repeated id, extra rows).
        chars_checked: characters of redacted text re-detected.
        residual: residual detections per column and entity type.
        residual_chars: characters inside residual detections; ``residual_cells`` cells with any.
        residual_rate: ``residual_chars / chars_checked``.
        gold: the gold check, or ``None`` without gold spans.
        leak_metric: ``gold_chars`` or ``residual_chars``: which rate ``leak_rate`` is.
        max_leak: the gate; ``passed`` is ``leak_rate <= max_leak``.
    """

    original: str
    redacted: str
    text_columns: list[str]
    id_column: str | None
    aligned_by: str
    config_sha256: str
    original_sha256: str
    original_matches_manifest: bool | None
    parts: int = 0
    rows_original: int = 0
    rows_rejected_in_run: int = 0
    rows_redacted: int = 0
    rows_aligned: int = 0
    rows_missing: int = 0
    rows_unexpected: int = 0
    chars_checked: int = 0
    residual: dict[str, dict[str, int]] = field(default_factory=dict)
    residual_chars: int = 0
    residual_cells: int = 0
    residual_rate: float = 0.0
    gold: GoldResult | None = None
    leak_metric: str = "residual_chars"
    leak_rate: float = 0.0
    max_leak: float = 0.0
    passed: bool = True
    elapsed_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """The ``_verify.json`` form."""
        return asdict(self)


# --------------------------------------------------------------------------- placeholders


def placeholder_intervals(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of every operator placeholder in ``text``, sorted and disjoint."""
    return [m.span() for m in PLACEHOLDER_RE.finditer(text)]


def outside_placeholders(text: str, start: int, end: int, intervals: Sequence[tuple[int, int]]) -> str:
    """The characters of ``text[start:end]`` that lie outside every placeholder interval."""
    pieces = []
    position = start
    first = max(0, bisect.bisect_right(intervals, (start, start)) - 1)
    for p_start, p_end in intervals[first:]:
        if p_start >= end:
            break
        if p_end <= position:
            continue
        if p_start > position:
            pieces.append(text[position:p_start])
        position = max(position, p_end)
    if position < end:
        pieces.append(text[position:end])
    return "".join(pieces)


def is_residual(text: str, start: int, end: int, intervals: Sequence[tuple[int, int]]) -> bool:
    """Whether a detected span holds a letter or digit outside the placeholders."""
    return any(c.isalnum() for c in outside_placeholders(text, start, end, intervals))


def occurs_outside_placeholders(value: str, text: str, intervals: Sequence[tuple[int, int]]) -> bool:
    """Whether ``value`` occurs in ``text`` at least once not wholly inside a placeholder."""
    position = text.find(value)
    while position != -1:
        end = position + len(value)
        if not any(p_start <= position and end <= p_end for p_start, p_end in intervals):
            return True
        position = text.find(value, position + 1)
    return False


# --------------------------------------------------------------------------- inputs


def part_files(redacted: Path) -> list[Path]:
    """REDACTED's ``part-*`` files, recursively, in shard order (``part-100000`` after ``part-99999``).

    Raises:
        InputError: REDACTED is not a directory or holds no part file.
    """
    if not redacted.is_dir():
        raise InputError(redacted, "not a directory: REDACTED is the output directory of 'deid redact'")
    parts = [p for p in redacted.rglob("part-*") if p.is_file()]
    if not parts:
        raise InputError(redacted, "no part-* files: is this the output directory of 'deid redact'?")

    def order(path: Path) -> tuple[str, int, str]:
        relative = path.relative_to(redacted)
        match = _PART_NUMBER.match(path.name)
        return (relative.parent.as_posix(), int(match.group(1)) if match else -1, path.name)

    return sorted(parts, key=order)


def _id_key(value: Any) -> str:
    """Ids compare as text, so that an integer id read back from CSV output still matches."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return json.dumps(value, default=str)


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


@dataclass
class _GoldDoc:
    text: str
    spans: list[tuple[int, int, str]]


def load_gold(
    path: Path, text_columns: Sequence[str], labels: Sequence[str] | None = None
) -> dict[tuple[str, str], _GoldDoc]:
    """Gold lines ``{"id", "column", "text", "spans": [{"start", "end", "label"}]}`` keyed by (id, column).

    Lines for other columns are skipped; with ``labels`` only those labels are kept.

    Raises:
        InputError: unreadable file, invalid line (naming the line), or offsets outside the text.
    """
    if not path.is_file():
        raise InputError(path, "gold file not found")
    wanted = set(labels) if labels else None
    gold: dict[tuple[str, str], _GoldDoc] = {}
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                line = json.loads(raw.decode("utf-8"))
                column = str(line.get("column", text_columns[0] if len(text_columns) == 1 else ""))
                text = line["text"]
                spans = [(int(s["start"]), int(s["end"]), str(s["label"])) for s in line["spans"]]
                key = (_id_key(line["id"]), column)
            except (
                UnicodeDecodeError,
                json.JSONDecodeError,
                KeyError,
                TypeError,
                ValueError,
                AttributeError,
            ):
                raise InputError(
                    path,
                    'expected {"id", "column", "text", "spans": [{"start", "end", "label"}]}',
                    row=number,
                ) from None
            if not isinstance(text, str):
                raise InputError(path, "'text' must be a string", row=number)
            if any(not 0 <= s < e <= len(text) for s, e, _ in spans):
                raise InputError(path, "a span lies outside its text", row=number)
            if column not in text_columns:
                continue
            if key in gold:
                raise InputError(path, "a second line for the same id and column", row=number)
            gold[key] = _GoldDoc(text, [s for s in spans if wanted is None or s[2] in wanted])
    return gold


def _read_rejected_rows(redacted: Path) -> set[int]:
    path = redacted / "_rejects.jsonl"
    rows: set[int] = set()
    if path.is_file():
        for raw in path.read_text(encoding="utf-8").splitlines():
            if raw.strip():
                rows.add(int(json.loads(raw)["row"]))
    return rows


def _manifest_input_sha256(redacted: Path) -> str | None:
    path = redacted / "_manifest.json"
    if not path.is_file():
        return None
    try:
        return str(json.loads(path.read_text(encoding="utf-8"))["input"]["sha256"])
    except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError):
        return None


# What the readers say about a file without data rows: a part whose rows were all rejected is one.
_NO_ROWS = ("file is empty", "no data rows", "no data rows (header only)")


def _rows(
    path: Path, options: Any, input_format: str | None, *, part: bool = False
) -> Iterator[tuple[int, Any, list[Any]]]:
    """(row number, id, text cells) of every row a reader keeps; an empty ``part`` has none."""
    from deid.io.readers import open_reader

    try:
        reader = open_reader(path, options, input_format)
        for shard in reader.shards():
            ids = shard.column(options.id_column) if options.id_column else [None] * shard.num_rows
            columns = [shard.column(name) for name in options.text_columns]
            for position, row_number in enumerate(shard.row_numbers):
                yield row_number, ids[position], [column[position] for column in columns]
    except InputError as exc:
        if not (part and exc.reason in _NO_ROWS):
            raise


# --------------------------------------------------------------------------- the check


class _Accumulator:
    """Collects aligned rows, re-detects them in batches and counts residuals and gold leaks."""

    def __init__(
        self,
        detector: Any,
        text_columns: Sequence[str],
        gold: dict[tuple[str, str], _GoldDoc] | None,
        report: VerifyReport,
    ) -> None:
        self.detector = detector
        self.text_columns = list(text_columns)
        self.gold = gold
        self.report = report
        self.pending: list[tuple[str, list[Any]]] = []
        self.residual: dict[str, Counter[str]] = {name: Counter() for name in text_columns}
        self.seen_gold: set[tuple[str, str]] = set()

    def add(self, key: str, cells: list[Any]) -> None:
        """Queue one aligned row (its key and text cells); re-detect when a batch is full."""
        self.pending.append((key, cells))
        if len(self.pending) >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        """Re-detect the queued rows, column by column, and count residuals and gold leaks."""
        if not self.pending:
            return
        report = self.report
        for index, name in enumerate(self.text_columns):
            texts = [cells[index] if isinstance(cells[index], str) else "" for _, cells in self.pending]
            spans_per_text = self.detector.detect(texts)
            for (key, _), text, spans in zip(self.pending, texts, spans_per_text, strict=True):
                report.chars_checked += len(text)
                intervals = placeholder_intervals(text)
                residual = [s for s in spans if is_residual(text, s.start, s.end, intervals)]
                if residual:
                    report.residual_cells += 1
                    report.residual_chars += sum(s.end - s.start for s in residual)
                    self.residual[name].update(s.entity_type for s in residual)
                if self.gold is not None and (key, name) in self.gold:
                    self._check_gold(self.gold[(key, name)], text, intervals)
                    self.seen_gold.add((key, name))
        self.pending = []

    def _check_gold(self, doc: _GoldDoc, redacted: str, intervals: list[tuple[int, int]]) -> None:
        """Count the gold values of ``doc`` and those still present in its redacted cell."""
        gold = self.report.gold
        assert gold is not None
        gold.documents_matched += 1
        leaking = False
        for start, end, label in doc.spans:
            value = doc.text[start:end]
            if not value.strip():
                continue
            counts = gold.by_type.setdefault(label, GoldTypeCounts())
            counts.values += 1
            counts.chars += len(value)
            if occurs_outside_placeholders(value, redacted, intervals):
                counts.leaked_values += 1
                counts.leaked_chars += len(value)
                leaking = True
        gold.leaking_documents += leaking


def verify_run(
    original: str | Path,
    redacted: str | Path,
    *,
    text_columns: Sequence[str],
    id_column: str | None = None,
    gold: str | Path | None = None,
    gold_labels: Sequence[str] | None = None,
    max_leak: float = 0.0,
    config: Any = None,
    input_format: str | None = None,
    delimiter: str = ",",
    write: bool = True,
    detector: Any = None,
) -> VerifyReport:
    """Re-detect PII in a redacted output and measure leaks against gold spans.

    Args:
        original: the input file of the redact run.
        redacted: the run's output directory.
        text_columns: the text columns to verify.
        id_column: align rows by this column (else by order) and match gold ``id`` against it
            (else against the 1-based row number).
        gold: spans JSONL with ``text``, as ``samples/notes.gold.jsonl``.
        gold_labels: check only these gold labels (``None``: all).
        max_leak: the leak rate above which the verification fails.
        config: a :class:`deid.config.DeidConfig`, a YAML path, or ``None`` for the default
            configuration; its ``detection`` part re-detects.
        input_format: ORIGINAL's format (``None``: from the extension); parts go by their own.
        delimiter: CSV delimiter of ORIGINAL and of CSV parts.
        write: write ``REDACTED/_verify.json``.
        detector: a ready :class:`deid.detect.engine.Detector` to use instead of building one.

    Returns:
        The report; ``report.passed`` is ``leak_rate <= max_leak``.

    Raises:
        InputError: unreadable input, no part files, gold lines that do not parse, a partitioned
            output without ``id_column``, or outputs that do not come from ORIGINAL at all.
        ConfigError: invalid configuration.
    """
    from deid.config import DeidConfig, load_config
    from deid.io.readers import ReadOptions
    from deid.io.writers import sha256_file, write_json_atomic

    started = time.perf_counter()
    original = Path(original)
    redacted = Path(redacted)
    if not text_columns:
        raise InputError(original, "no text column given (use --text-column)")
    if not 0.0 <= max_leak <= 1.0:
        raise InputError(redacted, f"max leak must be between 0 and 1, got {max_leak}")
    cfg = config if isinstance(config, DeidConfig) else load_config(config)
    parts = part_files(redacted)
    partitioned = any(p.parent != redacted for p in parts)
    if partitioned and id_column is None:
        raise InputError(
            redacted, "the output is partitioned (by tier): rows can only be aligned with --id-column"
        )
    if not original.is_file():
        raise InputError(original, "file not found")

    original_sha = sha256_file(original)
    manifest_sha = _manifest_input_sha256(redacted)
    report = VerifyReport(
        original=original.name,
        redacted=redacted.name,
        text_columns=list(text_columns),
        id_column=id_column,
        aligned_by="id" if id_column else "order",
        config_sha256=cfg.digest(),
        original_sha256=original_sha,
        original_matches_manifest=None if manifest_sha is None else manifest_sha == original_sha,
        parts=len(parts),
        max_leak=max_leak,
    )
    if report.original_matches_manifest is False:
        logger.warning(
            "%s: its sha256 differs from the input digest in %s/_manifest.json", original, redacted
        )
    gold_docs = load_gold(Path(gold), text_columns, gold_labels) if gold is not None else None
    if gold is not None:
        report.gold = GoldResult(file=Path(gold).name, labels=sorted(gold_labels) if gold_labels else None)
        report.gold.documents = len(gold_docs or {})
    rejected = _read_rejected_rows(redacted)
    report.rows_rejected_in_run = len(rejected)

    # Pass 1: ORIGINAL's rows that the output should hold, in order (text digests only for gold rows).
    options = ReadOptions(
        text_columns=tuple(text_columns), id_column=id_column, shard_size=1000, delimiter=delimiter
    )
    expected: dict[str, int] = {}
    gold_digests: dict[tuple[str, str], bytes] = {}
    for row_number, row_id, cells in _rows(original, options, input_format):
        report.rows_original += 1
        if row_number in rejected:
            continue
        key = _id_key(row_id) if id_column else str(row_number)
        expected.setdefault(key, row_number)
        if gold_docs is not None:
            for name, cell in zip(text_columns, cells, strict=True):
                if (key, name) in gold_docs and isinstance(cell, str):
                    gold_digests[(key, name)] = _digest(cell)
    order = list(expected) if id_column is None else []

    # Pass 2: REDACTED, re-detected in batches.
    if detector is None:
        from deid.detect.engine import Detector

        detector = Detector(cfg.detection)
    accumulator = _Accumulator(detector, text_columns, gold_docs, report)
    aligned: set[str] = set()
    position = 0
    for part in parts:
        for _, row_id, cells in _rows(part, options, None, part=True):
            report.rows_redacted += 1
            if id_column is None:
                key = order[position] if position < len(order) else None
                position += 1
            else:
                key = _id_key(row_id)
                if key not in expected or key in aligned:
                    key = None
            if key is None:
                report.rows_unexpected += 1
                continue
            aligned.add(key)
            accumulator.add(key, cells)
    accumulator.flush()
    report.rows_aligned = len(aligned)
    report.rows_missing = len(expected) - len(aligned)
    if report.rows_redacted and not report.rows_aligned:
        raise InputError(
            redacted, f"no row matches a row of {original.name}: is this the output of that input?"
        )

    report.residual = {name: dict(sorted(c.items())) for name, c in accumulator.residual.items()}
    report.residual_rate = (
        round(report.residual_chars / report.chars_checked, 6) if report.chars_checked else 0.0
    )
    if report.gold is not None and gold_docs is not None:
        result = report.gold
        result.documents_unmatched = result.documents - len(accumulator.seen_gold)
        result.documents_text_mismatch = sum(
            1
            for key in accumulator.seen_gold
            if key in gold_digests and gold_digests[key] != _digest(gold_docs[key].text)
        )
        result.by_type = dict(sorted(result.by_type.items()))
        result.values = sum(c.values for c in result.by_type.values())
        result.chars = sum(c.chars for c in result.by_type.values())
        result.leaked_values = sum(c.leaked_values for c in result.by_type.values())
        result.leaked_chars = sum(c.leaked_chars for c in result.by_type.values())
        result.leak_rate = round(result.leaked_chars / result.chars, 6) if result.chars else 0.0
        if result.documents_text_mismatch:
            logger.warning(
                "%d gold line(s) do not match the text of %s", result.documents_text_mismatch, original
            )
        report.leak_metric = "gold_chars"
        report.leak_rate = result.leak_rate
    else:
        report.leak_metric = "residual_chars"
        report.leak_rate = report.residual_rate
    report.passed = report.leak_rate <= max_leak
    report.elapsed_s = round(time.perf_counter() - started, 3)
    if write:
        write_json_atomic(redacted / VERIFY_NAME, report.to_json())
    return report


def format_report(report: VerifyReport) -> str:
    """The table ``deid verify`` prints (counts only)."""
    lines = [
        f"rows: {report.rows_aligned} aligned by {report.aligned_by} of {report.rows_redacted} in {report.redacted} "
        f"({report.rows_missing} missing, {report.rows_unexpected} unexpected, "
        f"{report.rows_rejected_in_run} rejected by the run)",
    ]
    if report.original_matches_manifest is False:
        lines.append(f"warning: {report.original} is not the input recorded in the run's manifest")
    rows = [(c, t, n) for c, counts in report.residual.items() for t, n in counts.items()]
    lines.append(
        f"residual detections: {sum(n for *_, n in rows)} in {report.residual_cells} cell(s), "
        f"{report.residual_chars} of {report.chars_checked} characters ({report.residual_rate:.4%})"
    )
    if rows:
        lines.append(_table(["column", "entity type", "residual"], [[c, t, str(n)] for c, t, n in rows]))
    gold = report.gold
    if gold is not None:
        lines.append(
            f"gold leaks: {gold.leaked_chars} of {gold.chars} characters ({gold.leak_rate:.4%}), "
            f"{gold.leaked_values} of {gold.values} values, {gold.leaking_documents} leaking document(s) "
            f"of {gold.documents_matched} matched ({gold.documents_unmatched} unmatched"
            + (f", {gold.documents_text_mismatch} with other text" if gold.documents_text_mismatch else "")
            + ")"
        )
        table = [
            [label, str(c.values), str(c.leaked_values), str(c.chars), str(c.leaked_chars)]
            for label, c in gold.by_type.items()
        ]
        if table:
            lines.append(_table(["gold label", "values", "leaked", "chars", "leaked chars"], table))
    verdict = "PASS" if report.passed else "FAIL"
    relation = "<=" if report.passed else ">"
    lines.append(
        f"leak rate {report.leak_rate:.4%} ({report.leak_metric}) {relation} max {report.max_leak:.4%}: {verdict}"
    )
    return "\n".join(lines)


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    numeric = [all(r[i].isdigit() for r in rows) for i in range(len(header))]
    out = []
    for row in [header, *rows]:
        cells = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(row, widths, numeric, strict=True)]
        out.append("  " + "  ".join(cells).rstrip())
    return "\n".join(out)
