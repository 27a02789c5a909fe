"""deid scan: verdicts per column on the shipped sample, no value printed, a config redact accepts."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from deid.config import load_config
from deid.detect.spans import Span
from deid.io.shard import Shard
from deid.scan import _reservoir, scan_table, write_suggested_config
from tests.conftest import REPO, SAMPLES, run_cli

EXPECTED_VERDICTS = {
    "id": "no PII found",
    "patient_id": "identifier (ID)",
    "created_at": "identifier (DATE_TIME)",
    "department": "no PII found",
    "priority": "no PII found",
    "note": "free text",
    "comment": "free text",
    "patient_name": "identifier (PERSON)",
    "dob": "identifier (DATE_TIME)",
    "email": "identifier (EMAIL_ADDRESS)",
    "phone": "identifier (PHONE_NUMBER)",
    "mrn": "identifier (ID)",
    "zip": "identifier (ZIP)",
}
STRUCTURED = ["patient_name", "email", "phone", "mrn", "zip"]


class RegexDetector:
    """A stand-in detector: e-mails and 3-3-4 phones by regex (unit tests need no model)."""

    def detect(self, texts: list[str]) -> list[list[Span]]:
        out = []
        for text in texts:
            spans = [
                Span(m.start(), m.end(), "EMAIL_ADDRESS", 1.0) for m in re.finditer(r"\S+@\S+\.\w+", text)
            ]
            spans += [
                Span(m.start(), m.end(), "PHONE_NUMBER", 0.9) for m in re.finditer(r"\d{3}-\d{3}-\d{4}", text)
            ]
            out.append(sorted(spans, key=lambda s: s.start))
        return out


def test_when_in_memory_table_scanned_then_verdicts_from_detection_names_and_types() -> None:
    frame = pd.DataFrame(
        {
            "contact": ["ann@corp.com", "bo@x.org", None, "cy@y.net"],
            "body": [
                "please call me at 617-555-0123 when you can",
                "nothing to see here at all today",
                "write to ann@corp.com about the invoice",
                "the weather was fine and the team was happy",
            ],
            "zip_code": ["02139", "94110", "10001", "60601"],
            "visit_date": [dt.date(2023, 1, d) for d in range(1, 5)],
            "score": [1, 2, 3, 4],
            "flag": [True, False, True, True],
        }
    )
    report = scan_table(frame, sample=10, detector=RegexDetector(), subject_column=None)
    verdicts = {p.name: p.verdict_text for p in report.columns}
    assert verdicts == {
        "contact": "identifier (EMAIL_ADDRESS)",
        "body": "free text",
        "zip_code": "identifier (ZIP)",
        "visit_date": "identifier (DATE_TIME)",
        "score": "no PII found",
        "flag": "no PII found",
    }
    contact = report.column("contact")
    assert contact.null_share == 0.25 and contact.entities == {"EMAIL_ADDRESS": 1.0}
    assert report.column("body").entities == {"EMAIL_ADDRESS": 0.25, "PHONE_NUMBER": 0.25}
    config = report.suggested_config()
    assert config["columns"]["visit_date"] == {"operator": "generalize", "kind": "year"}  # no subject column
    assert config["columns"]["body"] == {"text": True}
    assert "score" not in config["columns"]
    text = report.format_table() + json.dumps(report.to_json(), default=str)
    for value in ("ann@corp.com", "617-555-0123", "02139", "94110"):
        assert value not in text


def test_when_sampling_then_seeded_uniform_and_bounded() -> None:
    table = pa.table({"n": list(range(1000))})
    shards = lambda: (Shard(i, table=table.slice(i * 100, 100)) for i in range(10))  # noqa: E731
    first, seen = _reservoir(shards(), 50, seed=3)
    again, _ = _reservoir(shards(), 50, seed=3)
    other, _ = _reservoir(shards(), 50, seed=4)
    assert seen == 1000 and len(first) == 50 and first == again and first != other
    assert max(r["n"] for r in first) > 500  # not only the head of the table
    small, seen = _reservoir(shards(), 5000, seed=0)
    assert seen == len(small) == 1000


def test_when_sample_scanned_from_the_cli_then_verdicts_and_no_value_printed(tmp_path: Path) -> None:
    suggested = tmp_path / "suggested.yaml"
    args = [
        "scan",
        str(SAMPLES / "notes.parquet"),
        "--sample",
        "40",
        "--config",
        str(REPO / "configs/patterns-only.yaml"),
    ]
    args += ["--id-column", "id", "--subject-column", "patient_id", "--write-config", str(suggested)]
    args += ["--json", str(tmp_path / "scan.json")]
    result = run_cli(args)
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line for line in result.output.splitlines()[2:] if line.strip()}
    for column, verdict in EXPECTED_VERDICTS.items():
        assert rows[column].endswith(verdict), rows[column]
    scan = json.loads((tmp_path / "scan.json").read_text())
    assert {c["name"]: c["verdict"] for c in scan["columns"]}["zip"] == "identifier"
    sample = pd.read_parquet(SAMPLES / "notes.parquet")
    printed = result.output + (tmp_path / "scan.json").read_text() + suggested.read_text()
    for column in STRUCTURED:
        for value in sample[column].astype(str).head(40):
            assert value not in printed, column
    config = load_config(suggested)  # redact accepts it
    assert config.columns["patient_name"].operator == "pseudonymize"
    assert config.columns["dob"].operator == "date_shift"
    assert config.columns["zip"].spec.keep == 3
    assert config.columns["note"].text and "id" not in config.columns
    again = run_cli(args)
    assert again.exit_code != 0 and "already exists" in again.output


@pytest.mark.slow
def test_when_redacted_with_the_suggested_config_then_no_structured_identifier_left(
    tmp_path: Path, key_env: str, detector
) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "s.parquet"
    pq.write_table(pq.read_table(SAMPLES / "notes.parquet").slice(0, 30), source)
    report = scan_table(source, sample=30, detector=detector, id_column="id", subject_column="patient_id")
    assert {p.name: p.verdict_text for p in report.columns} == EXPECTED_VERDICTS
    config = write_suggested_config(report, tmp_path / "suggested.yaml")
    out = tmp_path / "out"
    args = ["redact", str(source), str(out), "--config", str(config), "--id-column", "id"]
    result = run_cli([*args, "--subject-column", "patient_id", "--workers", "1", "--no-progress"])
    assert result.exit_code == 0, result.output
    before = pd.read_parquet(source)
    after = pd.read_parquet(out)
    assert list(after["id"]) == list(before["id"])
    for old, new in zip(before.to_dict("records"), after.to_dict("records"), strict=True):
        cells = " | ".join(str(v) for v in new.values())
        for column in [*STRUCTURED, "patient_id"]:
            assert str(old[column]) not in cells, column
        dob = old["dob"]
        for written in (dob.isoformat(), dob.strftime("%d %b %Y"), f"{dob:%B} {dob.day}, {dob.year}"):
            assert written not in cells
        assert new["dob"] != dob and new["created_at"] != old["created_at"]
        assert re.fullmatch(r"\d{3}\*\*", new["zip"])
    report_json = json.loads((out / "_report.json").read_text())
    assert report_json["warnings"] == []


@pytest.mark.slow
def test_when_safe_harbor_config_suggested_then_redact_drops_or_generalizes_every_identifier(
    tmp_path: Path, no_key_env: None
) -> None:
    source = tmp_path / "s.parquet"
    pq.write_table(pq.read_table(SAMPLES / "notes.parquet").slice(0, 10), source)
    suggested = tmp_path / "sh.yaml"
    args = ["scan", str(source), "--config", str(REPO / "configs/patterns-only.yaml"), "--id-column", "id"]
    result = run_cli([*args, "--safe-harbor", "--write-config", str(suggested)])
    assert result.exit_code == 0, result.output
    config = load_config(suggested)
    assert config.unlisted_columns == "error" and not config.needs_key()
    out = tmp_path / "out"
    result = run_cli(
        ["redact", str(source), str(out), "--config", str(suggested), "--id-column", "id", "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    before = pd.read_parquet(source)
    after = pq.read_table(out)
    assert set(after.column_names) == {
        "id",
        "department",
        "priority",
        "note",
        "comment",
        "dob",
        "created_at",
        "zip",
    }
    assert after.column("dob").to_pylist() == [d.year for d in before["dob"]]
    assert after.column("created_at").to_pylist() == [2023] * 10
    assert all(re.fullmatch(r"\d{3}\*\*", z) for z in after.column("zip").to_pylist())
    for old, note in zip(before.to_dict("records"), after.column("note").to_pylist(), strict=True):
        for column in STRUCTURED:
            assert str(old[column]) not in note, column
        assert old["dob"].strftime("%d %b %Y") not in note


def test_when_csv_scanned_then_string_dates_and_ids_are_found_by_name_and_shape() -> None:
    config = load_config(REPO / "configs" / "patterns-only.yaml")
    report = scan_table(SAMPLES / "notes.csv", sample=25, seed=1, id_column="id", config=config)
    verdicts = {p.name: p.verdict_text for p in report.columns}
    assert {p.type for p in report.columns} == {"string"}
    for column in ("dob", "created_at", "mrn", "zip", "email", "patient_name"):
        assert verdicts[column] == EXPECTED_VERDICTS[column], column
    assert report.rows_read == 300 and report.rows_sampled == 25
    # no subject column: a date column cannot be shifted, so the suggestion keeps the year only
    assert report.suggested_config()["columns"]["dob"] == {"operator": "generalize", "kind": "year"}
