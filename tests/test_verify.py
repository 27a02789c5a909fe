"""``deid verify``: residual detections, gold leaks, row alignment and the exit-code gate.

A real tiny ``deid redact`` run (patterns only) of 15 sample rows plus a duplicate-id row (rejected
by the run) is made once per module; a second run with the ``keep`` operator provokes leaks.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from deid.cli import COMMANDS
from deid.cli.verify import verify as verify_command
from deid.errors import InputError
from deid.verify import (
    VERIFY_NAME,
    is_residual,
    occurs_outside_placeholders,
    part_files,
    placeholder_intervals,
    verify_run,
)
from tests.conftest import REPO, SAMPLES, run_cli, write_config

PATTERNS_ONLY = REPO / "configs" / "patterns-only.yaml"
PATTERN_TYPES = ["EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE", "IP_ADDRESS", "URL"]
GOLD = SAMPLES / "notes.gold.jsonl"
KEEP = """
detection:
  transformer: null
  spacy_ner: "off"
policy:
  default: {operator: keep}
"""


def _verify_cli(args: list[str]) -> Any:
    return CliRunner().invoke(verify_command, args, catch_exceptions=False)


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """15 sample rows with a repeat of the first id inserted as row 6 (the run rejects it)."""
    table = pq.read_table(SAMPLES / "notes.parquet").slice(0, 15)
    rows = table.to_pylist()
    rows.insert(5, dict(rows[0], note="Repeated id: call 617-555-0199."))
    path = tmp_path_factory.mktemp("verify-in") / "notes15.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), path)
    return path


def _redact(original: Path, out: Path, config: Path) -> Path:
    args = [
        "redact",
        str(original),
        str(out),
        "--text-column",
        "note",
        "--text-column",
        "comment",
        "--id-column",
        "id",
    ]
    result = run_cli([*args, "--config", str(config), "--workers", "1", "--no-progress"])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def redacted(original: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The patterns-only redact output of ``original``."""
    return _redact(original, tmp_path_factory.mktemp("verify-run") / "out", PATTERNS_ONLY)


@pytest.fixture(scope="module")
def kept(original: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run whose policy keeps every value (everything leaks)."""
    base = tmp_path_factory.mktemp("verify-keep")
    return _redact(original, base / "out", write_config(base / "keep.yaml", KEEP))


@pytest.fixture(scope="module")
def detector():  # type: ignore[no-untyped-def]
    """A patterns-only detector shared by the library-level tests."""
    from deid.config import load_config
    from deid.detect.engine import Detector

    return Detector(load_config(PATTERNS_ONLY).detection)


def _gold_values(ids: set[str], labels: list[str]) -> set[str]:
    values = set()
    for line in GOLD.read_text(encoding="utf-8").splitlines():
        doc = json.loads(line)
        if doc["id"] in ids:
            values |= {doc["text"][s["start"] : s["end"]] for s in doc["spans"] if s["label"] in labels}
    return values


def test_when_gold_checked_then_pattern_types_do_not_leak(
    original: Path, redacted: Path, detector: Any
) -> None:
    report = verify_run(
        original,
        redacted,
        text_columns=["note", "comment"],
        id_column="id",
        gold=GOLD,
        max_leak=1.0,
        config=PATTERNS_ONLY,
        detector=detector,
    )
    assert report.gold is not None
    assert (
        report.rows_aligned,
        report.rows_missing,
        report.rows_unexpected,
        report.rows_rejected_in_run,
    ) == (15, 0, 0, 1)
    assert report.original_matches_manifest is True
    for label in PATTERN_TYPES:
        counts = report.gold.by_type[label]
        assert counts.values > 0, label
        assert (counts.leaked_values, counts.leaked_chars) == (0, 0), label
    # Patterns find no names: PERSON leaks, so the overall gold rate is above zero.
    assert report.gold.by_type["PERSON"].leaked_values > 0 and report.leak_rate > 0
    assert report.leak_metric == "gold_chars" and report.passed


def test_when_gold_labels_are_the_pattern_types_then_cli_passes(original: Path, redacted: Path) -> None:
    labels = [arg for label in PATTERN_TYPES for arg in ("--gold-label", label)]
    result = _verify_cli(
        [
            str(original),
            str(redacted),
            "--text-column",
            "note",
            "--text-column",
            "comment",
            "--id-column",
            "id",
            "--gold",
            str(GOLD),
            *labels,
            "--config",
            str(PATTERNS_ONLY),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "leak rate 0.0000% (gold_chars) <= max 0.0000%: PASS" in result.output
    saved = json.loads((redacted / VERIFY_NAME).read_text(encoding="utf-8"))
    assert saved["passed"] is True and saved["gold"]["labels"] == sorted(PATTERN_TYPES)
    assert saved["gold"]["leaked_values"] == 0 and saved["gold"]["values"] > 50
    assert not list(redacted.glob(".*deid-tmp*"))


def test_when_values_are_kept_then_leaks_are_reported_without_values_and_exit_is_1(
    original: Path, kept: Path
) -> None:
    args = [
        str(original),
        str(kept),
        "--text-column",
        "note",
        "--text-column",
        "comment",
        "--id-column",
        "id",
    ]
    result = _verify_cli([*args, "--gold", str(GOLD), "--config", str(PATTERNS_ONLY)])
    assert result.exit_code == 1
    assert "FAIL" in result.output and "exceeds --max-leak" in result.output.strip().splitlines()[-1]
    saved = json.loads((kept / VERIFY_NAME).read_text(encoding="utf-8"))
    assert saved["passed"] is False and saved["leak_rate"] > 0.9
    for label in PATTERN_TYPES:
        by_type = saved["gold"]["by_type"][label]
        assert by_type["leaked_values"] == by_type["values"] > 0, label
    assert saved["gold"]["leaking_documents"] > 10
    # Neither the printed table nor _verify.json holds a value.
    ids = set(pq.read_table(original).column("id").to_pylist())
    values = {v for v in _gold_values(ids, [*PATTERN_TYPES, "PERSON"]) if len(v) >= 5}
    text = result.output + (kept / VERIFY_NAME).read_text(encoding="utf-8")
    assert values and not [v for v in values if v in text]


def test_when_values_are_kept_then_residual_detections_fail_the_gate_without_gold(
    original: Path, kept: Path
) -> None:
    args = [
        str(original),
        str(kept),
        "--text-column",
        "note",
        "--text-column",
        "comment",
        "--id-column",
        "id",
    ]
    result = _verify_cli([*args, "--config", str(PATTERNS_ONLY), "--max-leak", "0.01"])
    assert result.exit_code == 1
    saved = json.loads((kept / VERIFY_NAME).read_text(encoding="utf-8"))
    assert saved["leak_metric"] == "residual_chars" and saved["residual_rate"] > 0.01
    assert saved["residual"]["note"]["EMAIL_ADDRESS"] > 5


def test_when_redacted_with_placeholders_then_no_residual_pattern_entity(
    original: Path, redacted: Path, detector: Any
) -> None:
    report = verify_run(
        original,
        redacted,
        text_columns=["note", "comment"],
        id_column="id",
        config=PATTERNS_ONLY,
        detector=detector,
        write=False,
    )
    residual = {t for counts in report.residual.values() for t in counts}
    assert not residual & set(PATTERN_TYPES)
    assert report.chars_checked > 5000


def test_when_aligned_by_order_then_rejected_rows_are_skipped_and_results_agree(
    original: Path, kept: Path, detector: Any
) -> None:
    common = {
        "text_columns": ["note", "comment"],
        "config": PATTERNS_ONLY,
        "detector": detector,
        "write": False,
    }
    by_id = verify_run(original, kept, id_column="id", **common)
    by_order = verify_run(original, kept, **common)
    assert by_order.aligned_by == "order"
    assert (by_order.rows_aligned, by_order.rows_missing, by_order.rows_unexpected) == (15, 0, 0)
    assert (by_order.residual, by_order.chars_checked) == (by_id.residual, by_id.chars_checked)


def test_when_a_part_is_missing_then_rows_are_missing(
    original: Path, redacted: Path, tmp_path: Path, detector: Any
) -> None:
    copy = tmp_path / "out"
    shutil.copytree(redacted, copy)
    table = pq.read_table(copy / "part-00000.parquet")
    pq.write_table(table.slice(0, 10), copy / "part-00000.parquet")
    report = verify_run(original, copy, text_columns=["note"], id_column="id", detector=detector, write=False)
    assert (report.rows_aligned, report.rows_missing, report.rows_unexpected) == (10, 5, 0)


def test_when_redacted_is_not_from_original_then_error(redacted: Path, tmp_path: Path, detector: Any) -> None:
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"id": ["x1", "x2"], "note": ["a", "b"], "comment": [None, None]}), other)
    with pytest.raises(InputError, match="no row matches a row of other.parquet"):
        verify_run(other, redacted, text_columns=["note"], id_column="id", detector=detector, write=False)


def test_when_partitioned_output_without_id_column_then_one_line_error(
    redacted: Path, tmp_path: Path, original: Path
) -> None:
    copy = tmp_path / "out"
    shutil.copytree(redacted, copy)
    (copy / "sensitivity=internal").mkdir()
    (copy / "part-00000.parquet").rename(copy / "sensitivity=internal" / "part-00000.parquet")
    result = _verify_cli([str(original), str(copy), "--text-column", "note"])
    assert result.exit_code == 1
    assert "partitioned" in result.output and "--id-column" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_when_gold_line_is_broken_then_error_names_the_line(
    original: Path, redacted: Path, tmp_path: Path
) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text(
        '{"id": "N0001", "column": "note", "text": "abc", "spans": []}\n{"id": "N0002"}\n', encoding="utf-8"
    )
    result = _verify_cli(
        [str(original), str(redacted), "--text-column", "note", "--id-column", "id", "--gold", str(gold)]
    )
    assert result.exit_code == 1
    assert f"{gold}, row 2:" in result.output


def test_when_redacted_is_not_a_run_then_error(original: Path, tmp_path: Path) -> None:
    result = _verify_cli([str(original), str(tmp_path), "--text-column", "note"])
    assert result.exit_code == 1 and "no part-* files" in result.output


@pytest.mark.parametrize(
    ("text", "start", "end", "residual"),
    [
        ("Dear <PERSON>,", 5, 13, False),
        ("Dear <PERSON> Smith,", 5, 19, True),
        ("key <ENC:ID:AbC-_09xyz>", 4, 23, False),
        ("ssn <US_SSN:3f9a0c1d2b4e5f60> ok", 12, 28, False),
        ("ssn <US_SSN:3f9a0c1d2b4e5f60> ok", 4, 32, True),
        ("<DATE_TIME> <DATE_TIME>", 0, 23, False),
        ("call 617-555-0123", 5, 17, True),
        ("<not a placeholder>", 0, 19, True),
    ],
)
def test_when_span_lies_in_placeholders_then_it_is_not_residual(
    text: str, start: int, end: int, residual: bool
) -> None:
    assert is_residual(text, start, end, placeholder_intervals(text)) is residual


@pytest.mark.parametrize(
    ("value", "text", "leaked"),
    [
        ("3f9a", "<US_SSN:3f9a0c1d2b4e5f60>", False),
        ("3f9a", "<US_SSN:3f9a0c1d2b4e5f60> and 3f9a", True),
        ("PERSON", "Dear <PERSON>", False),
        ("Ann Lee", "Dear Ann Lee", True),
        ("Ann Lee", "Dear <PERSON>", False),
    ],
)
def test_when_gold_value_only_inside_placeholders_then_not_leaked(
    value: str, text: str, leaked: bool
) -> None:
    assert occurs_outside_placeholders(value, text, placeholder_intervals(text)) is leaked


def test_when_parts_pass_99999_then_shard_order_is_kept(tmp_path: Path) -> None:
    for name in (
        "part-100000.csv",
        "part-99999.csv",
        "part-00002.csv",
        "_report.json",
        ".part-00003.csv.deid-tmp-1",
    ):
        (tmp_path / name).write_text("x", encoding="utf-8")
    assert [p.name for p in part_files(tmp_path)] == ["part-00002.csv", "part-99999.csv", "part-100000.csv"]


@pytest.mark.skipif("verify" not in COMMANDS, reason="'verify' not registered in deid.cli yet")
def test_when_registered_then_deid_verify_runs(original: Path, redacted: Path) -> None:
    args = ["verify", str(original), str(redacted), "--text-column", "note", "--config", str(PATTERNS_ONLY)]
    result = run_cli([*args, "--id-column", "id"])
    assert result.exit_code == 0, result.output
