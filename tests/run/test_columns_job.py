"""Column policies through ``deid redact``: output read back, bad input, unlisted columns, consistency."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import SAMPLES, run_cli, write_config

PATTERNS = "extends: patterns-only\n"
COLUMNS = """
columns:
  patient_name: {entity: PERSON, operator: pseudonymize}
  email:        {entity: EMAIL_ADDRESS, operator: hash}
  dob:          {entity: DATE_TIME, operator: date_shift}
  mrn:          {entity: ID, operator: encrypt}
  zip:          {operator: generalize, keep: 3}
  comment:      {text: true}
  phone:        {operator: drop}
"""


def _table() -> pa.Table:
    return pa.table(
        {
            "id": ["r1", "r2", "r3"],
            "patient_id": ["p1", "p1", "p2"],
            "patient_name": ["Zelda Quixote", "Zelda Quixote", "Ann Lee"],
            "email": ["zelda.q@example.org", "zelda.q@example.org", "ann.lee@corp.com"],
            "dob": pa.array([dt.date(1950, 3, 4), dt.date(1950, 3, 4), dt.date(1980, 1, 2)], pa.date32()),
            "seen_at": pa.array(
                [dt.datetime(2023, 5, 1, 8, 30), dt.datetime(2023, 6, 1, 9), None], pa.timestamp("s")
            ),
            "mrn": pa.array([2379926, 2379926, 1234567], pa.int64()),
            "zip": ["02139", "02139", "03601"],
            "phone": ["617-555-0199", "617-555-0199", None],
            "flag": [True, False, True],
            "contact": ["zelda.q@example.org", "call 617-555-0199", "ann.lee@corp.com"],
            "note": ["Mail zelda.q@example.org, MRN: 2379926, born 1950-03-04", "seen", "MRN: 1234567"],
            "comment": [None, "call 617-555-0199", "ok"],
        }
    )


@pytest.fixture
def table_path(tmp_path: Path) -> Path:
    path = tmp_path / "t.parquet"
    pq.write_table(_table(), path)
    return path


def _redact(source: Path, out: Path, config: Path, *extra: str):  # type: ignore[no-untyped-def]
    args = ["redact", str(source), str(out), "--id-column", "id", "--config", str(config)]
    return run_cli([*args, "--workers", "1", "--no-progress", *extra])


def test_when_columns_configured_then_every_structured_value_is_transformed_and_types_kept(
    tmp_path: Path, table_path: Path, key_env: str
) -> None:
    policy = "policy:\n  entities:\n    ID: {operator: encrypt}\n    EMAIL_ADDRESS: {operator: hash}\n"
    policy += "    DATE_TIME: {operator: date_shift}\n"
    extra = "  note: {text: true}\n  patient_id: {entity: ID, operator: encrypt}\n"  # the subject itself too
    config = write_config(tmp_path / "c.yaml", PATTERNS + policy + COLUMNS + extra)
    out = tmp_path / "out"
    result = _redact(table_path, out, config, "--subject-column", "patient_id")
    assert result.exit_code == 0, result.output
    back = pq.read_table(out)
    original = _table()
    assert "phone" not in back.column_names
    assert back.schema.field("dob").type == pa.date32()
    assert pa.types.is_timestamp(back.schema.field("seen_at").type)  # Parquet stores seconds as ms
    assert back.column("seen_at").to_pylist() == original.column("seen_at").to_pylist()  # unlisted: kept
    assert back.schema.field("mrn").type == pa.string()
    assert back.column("zip").to_pylist() == ["021**", "021**", "000**"]
    rows = back.to_pylist()
    for column in ("patient_name", "email", "dob", "mrn"):
        before = original.column(column).to_pylist()
        after = [r[column] for r in rows]
        assert all(a != b for a, b in zip(after, before, strict=True)), column
        assert after[0] == after[1] and after[0] != after[2], column  # one value, one output
    # The same subject's dates keep their interval; the note's MRN got the column's token.
    assert rows[0]["note"].endswith(f"MRN: {rows[0]['mrn']}, born {rows[0]['dob'].isoformat()}")
    assert rows[0]["patient_id"].startswith("<ENC:ID:") and rows[0]["patient_id"] == rows[1]["patient_id"]
    assert rows[2]["note"] == f"MRN: {rows[2]['mrn']}"
    assert rows[0]["note"].startswith(f"Mail {rows[0]['email']}, ")
    secret_values = ["Zelda Quixote", "zelda.q@example.org", "2379926", "02139", "617-555-0199"]
    for row in rows:
        for column, value in row.items():
            if column == "contact":
                continue  # unlisted and kept on purpose (see the warning test)
            assert not any(s in str(value) for s in secret_values), column
    report = json.loads((out / "_report.json").read_text())
    assert report["rows_in"] == 3 == report["rows_out"] + report["rows_rejected"]


def test_when_unlisted_column_holds_pii_then_report_warns_without_values(
    tmp_path: Path, table_path: Path, key_env: str
) -> None:
    config = write_config(tmp_path / "c.yaml", PATTERNS)
    out = tmp_path / "out"
    result = _redact(table_path, out, config, "--text-column", "note")
    assert result.exit_code == 0, result.output
    report = json.loads((out / "_report.json").read_text())
    assert "contact" in report["unlisted_pii"]
    assert report["unlisted_pii"]["contact"]["EMAIL_ADDRESS"] == 2
    assert "email" in report["unlisted_pii"]  # every unlisted string column is sampled
    assert any("'contact'" in w and "EMAIL_ADDRESS in 2/3" in w for w in report["warnings"])
    text = json.dumps(report)
    for value in ("zelda.q@example.org", "617-555-0199", "Zelda"):
        assert value not in text
    assert pd.read_parquet(out)["contact"].tolist() == _table().column("contact").to_pylist()


def test_when_unlisted_columns_drop_then_only_named_columns_remain(
    tmp_path: Path, table_path: Path, key_env: str
) -> None:
    config = write_config(
        tmp_path / "c.yaml",
        PATTERNS + "unlisted_columns: drop\ncolumns:\n  zip: {operator: generalize, keep: 3}\n",
    )
    out = tmp_path / "out"
    result = _redact(table_path, out, config, "--text-column", "note", "--subject-column", "patient_id")
    assert result.exit_code == 0, result.output
    assert pq.read_table(out).column_names == ["id", "patient_id", "zip", "note"]


@pytest.mark.parametrize(
    ("config_text", "extra", "message"),
    [
        ("columns:\n  ward: {operator: drop}\n", [], "columns.ward: .*has no column 'ward'"),
        (
            "columns:\n  flag: {operator: generalize}\n",
            [],
            "columns.flag: generalize \\(zip\\) cannot apply to a bool column",
        ),
        ("columns:\n  dob: {operator: date_shift}\n", [], "columns.dob: date_shift needs a subject column"),
        ("unlisted_columns: error\n", [], "unlisted_columns: error: .* 'patient_name'"),
        ("columns:\n  note: {operator: hash}\n", [], "columns.note: 'note' is also given as --text-column"),
    ],
)
def test_when_column_policy_cannot_run_then_one_line_error(
    tmp_path: Path, table_path: Path, key_env: str, config_text: str, extra: list[str], message: str
) -> None:
    config = write_config(tmp_path / "c.yaml", PATTERNS + config_text)
    out = tmp_path / "out"
    result = _redact(table_path, out, config, "--text-column", "note", *extra)
    assert result.exit_code != 0
    error = result.output.strip().splitlines()[-1]
    assert pytest.importorskip("re").search(message, error), error
    assert not out.exists()


def _bad_cells(tmp_path: Path) -> Path:
    path = tmp_path / "bad.jsonl"
    rows = [
        {"id": "a", "email": "ann@corp.com", "zip": "02139", "note": "x"},
        {"id": "b", "email": "n/a", "zip": "02139", "note": "y"},
        {"id": "c", "email": "bo@corp.com", "zip": True, "note": "z"},
        {"id": "d", "email": None, "zip": 2139, "note": "w"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_when_cells_are_not_the_declared_entity_then_counted_rejects(tmp_path: Path, key_env: str) -> None:
    config = write_config(
        tmp_path / "c.yaml",
        PATTERNS
        + "columns:\n  email: {entity: EMAIL_ADDRESS, operator: hash}\n  zip: {operator: generalize, keep: 3}\n",
    )
    out = tmp_path / "out"
    result = _redact(_bad_cells(tmp_path), out, config, "--text-column", "note")
    assert result.exit_code == 0, result.output
    report = json.loads((out / "_report.json").read_text())
    assert (report["rows_in"], report["rows_out"], report["rows_rejected"]) == (4, 2, 2)
    rejects = [json.loads(line) for line in (out / "_rejects.jsonl").read_text().splitlines()]
    assert [(r["row"], r["id"], r["column"]) for r in rejects] == [(2, "b", "email"), (3, "c", "zip")]
    assert "EMAIL_ADDRESS" in rejects[0]["reason"] and "n/a" not in rejects[0]["reason"]
    assert "a boolean" in rejects[1]["reason"]
    written = [json.loads(line) for line in next(out.glob("part-*.jsonl")).read_text().splitlines()]
    assert [(r["id"], r["zip"], r["email"] is None) for r in written] == [
        ("a", "021**", False),
        ("d", "021**", True),
    ]


def test_when_on_invalid_error_then_one_line_error_with_row_and_column(tmp_path: Path, key_env: str) -> None:
    config = write_config(
        tmp_path / "c.yaml",
        PATTERNS + "columns:\n  email: {entity: EMAIL_ADDRESS, operator: hash, on_invalid: error}\n",
    )
    result = _redact(_bad_cells(tmp_path), tmp_path / "out", config, "--text-column", "note")
    assert result.exit_code != 0
    error = result.output.strip().splitlines()[-1]
    assert "row 2, column 'email'" in error and "EMAIL_ADDRESS" in error and "n/a" not in error


# ---------------------------------------------------------------- the shipped sample with the model


@pytest.mark.slow
def test_when_sample_name_and_dob_in_columns_and_note_then_same_pseudonym_and_shift(
    tmp_path: Path, key_env: str
) -> None:
    source = tmp_path / "s.parquet"
    pq.write_table(pq.read_table(SAMPLES / "notes.parquet").slice(0, 12), source)
    config = write_config(tmp_path / "c.yaml", "extends: pseudonymize\n" + COLUMNS)
    out = tmp_path / "out"
    result = _redact(source, out, config, "--text-column", "note", "--subject-column", "patient_id")
    assert result.exit_code == 0, result.output
    before = pd.read_parquet(source)
    after = pd.read_parquet(out)
    names = dates = 0
    for old, new in zip(before.itertuples(), after.itertuples(), strict=True):
        assert new.patient_name != old.patient_name
        if old.patient_name in old.note:
            names += 1
            assert new.patient_name in new.note
            assert old.patient_name not in new.note
        written = old.dob.strftime("%d %b %Y").lstrip("0")
        if written in old.note:
            dates += 1
            assert new.dob.strftime("%d %b %Y").lstrip("0") in new.note
    assert names >= 3 and dates >= 1


def test_when_csv_columns_transformed_then_text_dates_keep_their_format(tmp_path: Path, key_env: str) -> None:
    frame = pd.read_csv(SAMPLES / "notes.csv", dtype=str, keep_default_na=False).head(6)
    source = tmp_path / "s.csv"
    frame.to_csv(source, index=False)
    config = write_config(
        tmp_path / "c.yaml", PATTERNS + COLUMNS.replace("  comment:      {text: true}\n", "")
    )
    out = tmp_path / "out"
    result = _redact(source, out, config, "--text-column", "note", "--subject-column", "patient_id")
    assert result.exit_code == 0, result.output
    back = pd.read_csv(next(out.glob("part-*.csv")), dtype=str, keep_default_na=False)
    assert "phone" not in back.columns
    for old, new in zip(frame.itertuples(), back.itertuples(), strict=True):
        assert new.dob != old.dob and dt.date.fromisoformat(new.dob)  # still an ISO date, moved
        assert new.zip == old.zip[:3] + "**" or new.zip == "000**"
        assert new.mrn.startswith("<ENC:ID:") and new.email.startswith("<EMAIL_ADDRESS:")
        assert new.patient_name != old.patient_name
