"""The redact and detect jobs end to end through the CLI, reading what they wrote."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import REPO, SAMPLES, run_cli, write_config

PATTERN_TYPES = {"EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE", "IP_ADDRESS", "URL"}


def _gold() -> dict[tuple[str, str], dict]:
    lines = (SAMPLES / "notes.gold.jsonl").read_text(encoding="utf-8").splitlines()
    return {(d["id"], d["column"]): d for d in map(json.loads, lines)}


@pytest.fixture(scope="module")
def full_sample_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole shipped sample redacted once with the default config."""
    out = tmp_path_factory.mktemp("full") / "out"
    args = [
        "redact",
        str(SAMPLES / "notes.parquet"),
        str(out),
        "--text-column",
        "note",
        "--text-column",
        "comment",
    ]
    result = run_cli([*args, "--id-column", "id", "--workers", "1", "--no-progress"])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def small_parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 30 sample rows as Parquet (fast jobs)."""
    path = tmp_path_factory.mktemp("small") / "small.parquet"
    pq.write_table(pq.read_table(SAMPLES / "notes.parquet").slice(0, 30), path)
    return path


def test_when_sample_redacted_then_every_pattern_type_gold_value_is_gone(full_sample_run: Path) -> None:
    out = pd.read_parquet(full_sample_run).set_index("id")
    checked = 0
    for (row_id, column), doc in _gold().items():
        redacted = out.loc[row_id, column]
        for span in doc["spans"]:
            if span["label"] in PATTERN_TYPES:
                value = doc["text"][span["start"] : span["end"]]
                assert value not in redacted, f"{span['label']} survived in row {row_id} column {column}"
                checked += 1
    assert checked > 500


def test_when_sample_redacted_then_other_columns_types_and_order_kept(full_sample_run: Path) -> None:
    original = pq.read_table(SAMPLES / "notes.parquet")
    redacted = pq.read_table(full_sample_run)
    assert redacted.schema.equals(original.schema, check_metadata=False)
    for name in ["id", "patient_id", "created_at", "department", "priority"]:
        assert redacted.column(name).equals(original.column(name))
    assert redacted.column("comment").null_count == original.column("comment").null_count


def test_when_sample_redacted_then_manifest_and_report_hold_counts_not_values(full_sample_run: Path) -> None:
    manifest = json.loads((full_sample_run / "_manifest.json").read_text())
    report = json.loads((full_sample_run / "_report.json").read_text())
    assert manifest["complete"] is True
    # 300 rows under run.shard_size 1000: planned into 10 shards of 32 rows (deid/run/planning.py)
    assert manifest["totals"] == {"rows_in": 300, "rows_out": 300, "rows_rejected": 0, "shards": 10}
    assert report["rows_in"] == report["rows_out"] + report["rows_rejected"] == 300
    assert report["entities"]["note"]["EMAIL_ADDRESS"] > 100
    everything = (full_sample_run / "_manifest.json").read_text() + (
        full_sample_run / "_report.json"
    ).read_text()
    for doc in _gold().values():
        for span in doc["spans"]:
            value = doc["text"][span["start"] : span["end"]]
            if len(value) >= 6:
                assert value not in everything


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_when_csv_or_jsonl_then_same_format_and_rows_back(tmp_path: Path, fmt: str) -> None:
    frame = pd.read_csv(SAMPLES / "notes.csv", dtype=str, keep_default_na=False).head(12)
    source = tmp_path / f"in.{fmt}"
    if fmt == "csv":
        frame.to_csv(source, index=False)
    else:
        frame.to_json(source, orient="records", lines=True, force_ascii=False)
    out = tmp_path / "out"
    result = run_cli(
        ["redact", str(source), str(out), "--text-column", "note", "--id-column", "id", "--workers", "1"]
    )
    assert result.exit_code == 0, result.output
    part = out / f"part-00000.{fmt}"
    back = (
        pd.read_csv(part, dtype=str, keep_default_na=False)
        if fmt == "csv"
        else pd.read_json(part, lines=True, dtype=False)
    )
    assert list(back.columns) == list(frame.columns)
    assert list(back["id"]) == list(frame["id"])
    assert list(back["department"]) == list(frame["department"])
    assert (back["note"] != frame["note"]).all()


def test_when_output_format_given_then_converted(tmp_path: Path, small_parquet: Path) -> None:
    out = tmp_path / "out"
    args = [
        "redact",
        str(small_parquet),
        str(out),
        "--text-column",
        "note",
        "--output-format",
        "csv",
        "--workers",
        "1",
    ]
    assert run_cli(args).exit_code == 0
    assert len(pd.read_csv(out / "part-00000.csv")) == 30


def test_when_output_exists_then_error_unless_overwrite(tmp_path: Path, small_parquet: Path) -> None:
    out = tmp_path / "out"
    args = [
        "redact",
        str(small_parquet),
        str(out),
        "--text-column",
        "note",
        "--workers",
        "1",
        "--no-progress",
    ]
    assert run_cli(args).exit_code == 0
    again = run_cli(args)
    assert again.exit_code == 1 and "already exists" in again.output
    assert run_cli([*args, "--overwrite"]).exit_code == 0


def test_when_overwrite_targets_a_foreign_directory_then_refused(tmp_path: Path, small_parquet: Path) -> None:
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.txt").write_text("keep me")
    result = run_cli(["redact", str(small_parquet), str(out), "--text-column", "note", "--overwrite"])
    assert result.exit_code == 1 and "not a deid output" in result.output
    assert (out / "thesis.txt").read_text() == "keep me"


def test_when_detect_then_one_line_per_row_with_ids_and_valid_offsets(
    tmp_path: Path, small_parquet: Path
) -> None:
    out = tmp_path / "spans.jsonl"
    args = [
        "detect",
        str(small_parquet),
        str(out),
        "--text-column",
        "note",
        "--id-column",
        "id",
        "--workers",
        "1",
    ]
    assert run_cli(args).exit_code == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    table = pq.read_table(small_parquet).to_pydict()
    assert [d["id"] for d in lines] == table["id"]
    for doc, text in zip(lines, table["note"], strict=True):
        assert "text" not in doc
        for span in doc["spans"]:
            assert 0 <= span["start"] < span["end"] <= len(text)
    assert Path(str(out) + ".manifest.json").is_file() and not Path(str(out) + ".deid-parts").exists()


def test_when_pseudonymizing_then_consistent_across_rows_and_workers(
    tmp_path: Path, small_parquet: Path, key_env: str
) -> None:
    config = write_config(
        tmp_path / "p.yaml",
        "policy:\n  default: {operator: pseudonymize}\n  entities:\n    DATE_TIME: {operator: date_shift}\nrun:\n  shard_size: 8\n",
    )
    outs = {}
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        args = ["redact", str(small_parquet), str(out), "--text-column", "note", "--id-column", "id"]
        args += [
            "--subject-column",
            "patient_id",
            "--config",
            str(config),
            "--workers",
            str(workers),
            "--no-progress",
        ]
        assert run_cli(args).exit_code == 0
        outs[workers] = out
    parts = sorted(p.name for p in outs[1].glob("part-*"))
    assert len(parts) == 4
    for name in parts:
        assert (outs[1] / name).read_bytes() == (outs[2] / name).read_bytes()
    manifest = json.loads((outs[2] / "_manifest.json").read_text())
    assert manifest["key_fingerprint"].startswith("hmac-sha256:")
    assert key_env not in (outs[2] / "_manifest.json").read_text()


def test_when_keyed_policy_without_key_then_clear_error(
    tmp_path: Path, small_parquet: Path, no_key_env: None
) -> None:
    config = write_config(tmp_path / "p.yaml", "policy:\n  default: {operator: hash}\n")
    result = run_cli(
        ["redact", str(small_parquet), str(tmp_path / "o"), "--text-column", "note", "--config", str(config)]
    )
    assert result.exit_code == 1 and "DEID_KEY" in result.output
    assert not (tmp_path / "o").exists()


def test_when_encrypted_then_decrypt_restores_original(
    tmp_path: Path, small_parquet: Path, key_env: str
) -> None:
    config = write_config(tmp_path / "e.yaml", "policy:\n  default: {operator: encrypt}\n")
    out, restored = tmp_path / "enc", tmp_path / "dec"
    args = [
        "redact",
        str(small_parquet),
        str(out),
        "--text-column",
        "note",
        "--config",
        str(config),
        "--workers",
        "1",
    ]
    assert run_cli(args).exit_code == 0
    result = run_cli(["decrypt", str(out), str(restored), "--text-column", "note"])
    assert result.exit_code == 0, result.output
    assert pq.read_table(restored).column("note").equals(pq.read_table(small_parquet).column("note"))


def test_when_bad_rows_then_rejected_with_reason_and_counts_add_up(tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    source.write_bytes(
        b"id,note\n1,Call 617-555-0123\n1,duplicate id\n2,too,many,fields\n3,bad \xff\n,no id\n4,Mail ann@example.org\n"
    )
    out = tmp_path / "out"
    result = run_cli(
        ["redact", str(source), str(out), "--text-column", "note", "--id-column", "id", "--workers", "1"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "_report.json").read_text())
    assert (report["rows_in"], report["rows_out"], report["rows_rejected"]) == (6, 2, 4)
    rejects = [json.loads(line) for line in (out / "_rejects.jsonl").read_text().splitlines()]
    assert [(r["row"], r["reason"].split(" (")[0]) for r in rejects] == [
        (2, "duplicate id"),
        (3, "expected 2 fields, found 4"),
        (4, "invalid UTF-8"),
        (5, "missing id"),
    ]
    assert "\xff" not in (out / "_rejects.jsonl").read_text(errors="replace")
    back = pd.read_csv(out / "part-00000.csv", dtype=str)
    assert list(back["id"]) == ["1", "4"] and "617-555-0123" not in back["note"][0]


def test_when_jsonl_text_cell_not_a_string_then_rejected(tmp_path: Path) -> None:
    source = tmp_path / "a.jsonl"
    rows = [{"id": 1, "note": "ok"}, {"id": 2, "note": 42}, {"id": 3, "note": ["a"]}, {"id": 4, "note": None}]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out"
    assert (
        run_cli(["redact", str(source), str(out), "--text-column", "note", "--id-column", "id"]).exit_code
        == 0
    )
    back = [json.loads(line) for line in (out / "part-00000.jsonl").read_text().splitlines()]
    assert back == [{"id": 1, "note": "ok"}, {"id": 4, "note": None}]
    reasons = [json.loads(line)["reason"] for line in (out / "_rejects.jsonl").read_text().splitlines()]
    assert reasons == [
        "text cell holds a number, expected a string",
        "text cell holds a list, expected a string",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--text-column", "nope"], "no column 'nope'"),
        (["--text-column", "note", "--id-column", "nope"], "no column 'nope'"),
        (["--text-column", "priority"], "text column has type int64"),
    ],
)
def test_when_columns_wrong_then_one_line_error(
    tmp_path: Path, small_parquet: Path, args: list[str], message: str
) -> None:
    result = run_cli(["redact", str(small_parquet), str(tmp_path / "o"), *args])
    assert result.exit_code == 1
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def _deid(*args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "deid", *args],
        cwd=REPO,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )


def test_when_killed_and_resumed_then_output_identical_to_clean_run(tmp_path: Path) -> None:
    table = pq.read_table(SAMPLES / "notes.parquet").slice(0, 60)
    source = tmp_path / "in.parquet"
    pq.write_table(table, source)
    config = write_config(tmp_path / "c.yaml", "run:\n  shard_size: 5\n")
    common = [
        "--text-column",
        "note",
        "--text-column",
        "comment",
        "--id-column",
        "id",
        "--config",
        str(config),
    ]
    common += ["--workers", "1", "--no-progress"]
    clean, crashed = tmp_path / "clean", tmp_path / "crashed"
    assert run_cli(["redact", str(source), str(clean), *common]).exit_code == 0

    process = _deid("redact", str(source), str(crashed), *common)
    manifest = crashed / "_manifest.json"
    deadline = time.time() + 120
    while time.time() < deadline:
        if manifest.exists() and len(json.loads(manifest.read_text())["shards"]) >= 3:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done = len(json.loads(manifest.read_text())["shards"])
    assert 3 <= done < 12, "the kill came too late to test resuming"

    result = run_cli(["redact", str(source), str(crashed), *common, "--resume"])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in clean.iterdir() if p.name != "_report.json")
    assert names == sorted(p.name for p in crashed.iterdir() if p.name != "_report.json")
    for name in names:
        assert (clean / name).read_bytes() == (crashed / name).read_bytes(), name
    assert json.loads((crashed / "_report.json").read_text())["shards_resumed"] == done


def test_when_resuming_with_other_config_then_refused(tmp_path: Path, small_parquet: Path) -> None:
    out = tmp_path / "out"
    assert (
        run_cli(["redact", str(small_parquet), str(out), "--text-column", "note", "--workers", "1"]).exit_code
        == 0
    )
    other = write_config(tmp_path / "o.yaml", "run:\n  shard_size: 3\n")
    result = run_cli(
        ["redact", str(small_parquet), str(out), "--text-column", "note", "--config", str(other), "--resume"]
    )
    assert result.exit_code == 1 and "cannot resume" in result.output


def test_when_input_is_empty_parquet_then_error(tmp_path: Path) -> None:
    source = tmp_path / "empty.parquet"
    pq.write_table(pa.table({"id": pa.array([], pa.string()), "note": pa.array([], pa.string())}), source)
    result = run_cli(["redact", str(source), str(tmp_path / "o"), "--text-column", "note"])
    assert result.exit_code == 1 and "no data rows" in result.output


def test_when_sample_redacted_with_patterns_only_then_output_matches_golden_file(tmp_path: Path) -> None:
    """Golden end-to-end redaction (patterns only, so it does not move when the model is retrained).

    Regenerate after an intended change with:
    deid redact tests/data/golden/input.parquet OUT --text-column note --text-column comment --id-column id
    --config configs/patterns-only.yaml --output-format jsonl  (then copy OUT/part-00000.jsonl)
    """
    golden = REPO / "tests" / "data" / "golden"
    out = tmp_path / "out"
    args = [
        "redact",
        str(golden / "input.parquet"),
        str(out),
        "--text-column",
        "note",
        "--text-column",
        "comment",
    ]
    args += [
        "--id-column",
        "id",
        "--config",
        str(REPO / "configs" / "patterns-only.yaml"),
        "--output-format",
        "jsonl",
    ]
    assert run_cli([*args, "--workers", "1", "--no-progress"]).exit_code == 0
    assert (out / "part-00000.jsonl").read_text() == (golden / "expected.patterns-only.jsonl").read_text()
