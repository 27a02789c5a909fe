"""Hostile and broken inputs through the real CLI, and regex-adversarial texts through the detector.

Every input either stops the job with one line naming the file (and the row or column where one
applies) and exit status 1, or runs with the bad rows rejected for a stated reason; when the job
ran, ``rows_in = rows_out + rows_rejected`` in ``_report.json``. The small files live in
``tests/data/bad/`` (written by ``make_bad.py``); the big ones are made here in ``tmp_path``.

Texts built to make regular expressions or spaCy's tokenizer backtrack must finish in bounded time.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import multiprocessing
import resource
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from tests.conftest import REPO, run_cli, write_config

BAD = REPO / "tests" / "data" / "bad"
PATTERNS_ONLY = REPO / "configs" / "patterns-only.yaml"
PHONE = "617-555-0123"


# --------------------------------------------------------------------------- helpers


def _redact(
    path: Path, out: Path, *extra: str, config: Path = PATTERNS_ONLY, text: tuple[str, ...] = ("note",)
) -> Any:
    columns = [arg for name in text for arg in ("--text-column", name)]
    args = [
        "redact",
        str(path),
        str(out),
        *columns,
        "--config",
        str(config),
        "--workers",
        "1",
        "--no-progress",
    ]
    return run_cli([*args, *extra])


def _error(result: Any, path: Path) -> str:
    """The one-line error of a job that stopped; checks status 1 and that it names the file."""
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1, result.output
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"Error: {path}"), lines[0]
    return lines[0]


def _report(result: Any, out: Path) -> dict[str, Any]:
    """``_report.json`` of a job that ran, after checking the row balance and the parts' row count."""
    assert result.exit_code == 0, result.output
    report = json.loads((out / "_report.json").read_text(encoding="utf-8"))
    assert report["rows_in"] == report["rows_out"] + report["rows_rejected"]
    assert len(_rows(out)) == report["rows_out"]
    return report


def _rejects(out: Path) -> list[tuple[int, str | None, str]]:
    path = out / "_rejects.jsonl"
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [(r["row"], r["column"], r["reason"]) for r in lines]


def _rows(out: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for part in sorted(out.glob("part-*")):
        if part.suffix == ".parquet":
            rows += pq.read_table(part).to_pylist()
        elif part.suffix == ".csv":
            rows += list(csv.DictReader(io.StringIO(part.read_text(encoding="utf-8"), newline="")))
        else:
            rows += [json.loads(line) for line in part.read_text(encoding="utf-8").splitlines()]
    return rows


# --------------------------------------------------------------------------- the committed files


def test_committed_bad_files_are_what_make_bad_writes(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_bad", BAD / "make_bad.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.main(tmp_path)
    assert written
    for path in written:
        assert path.read_bytes() == (BAD / path.name).read_bytes(), (
            f"{path.name}: run tests/data/bad/make_bad.py"
        )
        assert path.stat().st_size < 8_000


# --------------------------------------------------------------------------- whole-file problems


def test_when_file_is_empty_then_one_line_error(tmp_path: Path) -> None:
    message = _error(_redact(BAD / "empty.csv", tmp_path / "out"), BAD / "empty.csv")
    assert message.endswith("file is empty")
    assert not (tmp_path / "out").exists()


def test_when_header_only_then_one_line_error(tmp_path: Path) -> None:
    message = _error(
        _redact(BAD / "header_only.csv", tmp_path / "out", "--id-column", "id"), BAD / "header_only.csv"
    )
    assert message.endswith("no data rows (header only)")


def test_when_delimiter_is_wrong_then_error_suggests_it_and_the_right_one_works(tmp_path: Path) -> None:
    path = BAD / "wrong_delimiter.csv"
    message = _error(_redact(path, tmp_path / "a", "--id-column", "id"), path)
    assert "no column 'note'" in message and "is the delimiter ';'? use --delimiter" in message
    result = _redact(path, tmp_path / "b", "--id-column", "id", "--delimiter", ";")
    assert _report(result, tmp_path / "b")["rows_out"] == 2
    assert PHONE not in (tmp_path / "b" / "part-00000.csv").read_text(encoding="utf-8")


def test_when_quote_is_left_open_then_error_names_the_row(tmp_path: Path) -> None:
    message = _error(
        _redact(BAD / "open_quote.csv", tmp_path / "out", "--id-column", "id"), BAD / "open_quote.csv"
    )
    assert message.startswith(f"Error: {BAD / 'open_quote.csv'}, row 2: malformed CSV")
    assert "unterminated quote" in message


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("truncated.parquet", "not a readable Parquet file (Parquet magic bytes not found"),
        ("not_parquet.parquet", "not a readable Parquet file"),
        ("corrupt_page.parquet", "Parquet data cannot be read near row 1"),
    ],
)
def test_when_parquet_is_truncated_or_corrupt_then_one_line_error(
    tmp_path: Path, name: str, message: str
) -> None:
    assert message in _error(_redact(BAD / name, tmp_path / "out", "--id-column", "id"), BAD / name)


@pytest.mark.parametrize(
    ("column", "arrow_type"),
    [("note_struct", "struct<text: string>"), ("note_list", "list<element: string>")],
)
def test_when_nested_column_is_the_text_column_then_error_names_column_and_type(
    tmp_path: Path, column: str, arrow_type: str
) -> None:
    path = BAD / "nested.parquet"
    message = _error(_redact(path, tmp_path / "out", "--id-column", "id", text=(column,)), path)
    assert (
        message
        == f"Error: {path}, column '{column}': text column has type {arrow_type}, expected a string column"
    )


# --------------------------------------------------------------------------- row-level problems


def test_when_rows_are_ragged_then_they_are_rejected_with_the_field_count(tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = _report(_redact(BAD / "ragged.csv", out, "--id-column", "id"), out)
    assert (report["rows_in"], report["rows_out"], report["rows_rejected"]) == (5, 3, 2)
    assert _rejects(out) == [(2, None, "expected 3 fields, found 4"), (4, None, "expected 3 fields, found 2")]
    assert [r["id"] for r in _rows(out)] == ["1", "3", "5"]


def test_when_csv_cell_is_invalid_utf8_then_row_is_rejected_with_its_column(tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = _report(_redact(BAD / "invalid_utf8.csv", out, "--id-column", "id"), out)
    assert report["rejected_by_reason"] == {"invalid UTF-8": 1}
    assert _rejects(out) == [(2, "note", "invalid UTF-8")]


def test_when_jsonl_line_is_invalid_utf8_then_row_is_rejected(tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = _report(_redact(BAD / "invalid_utf8.jsonl", out, "--id-column", "id"), out)
    assert (report["rows_in"], report["rows_out"]) == (3, 2)
    assert _rejects(out) == [(2, None, "invalid UTF-8")]


@pytest.mark.parametrize("name", ["nul_bytes.csv", "nul_bytes.jsonl"])
def test_when_cells_hold_nul_bytes_then_they_pass_through_and_pii_beside_them_is_found(
    tmp_path: Path, name: str
) -> None:
    out = tmp_path / "out"
    report = _report(_redact(BAD / name, out, "--id-column", "id"), out)
    assert report["rows_rejected"] == 0 and report["entities"]["note"]["PHONE_NUMBER"] == 1
    rows = _rows(out)
    assert rows[0]["note"].startswith("call") and "\x00" in rows[0]["note"] and PHONE not in rows[0]["note"]


def test_when_nul_splits_a_phone_number_then_it_does_not_survive(tmp_path: Path) -> None:
    path = tmp_path / "split.csv"
    path.write_bytes(b"id,note\n1,call 617\x00-555-0123 now\n2,plain\n")
    out = tmp_path / "out"
    report = _report(_redact(path, out, "--id-column", "id"), out)
    kept = [row["note"].replace("\x00", "") for row in _rows(out)]
    assert report["rows_rejected"] == 0 and not any(PHONE in note for note in kept)


def test_when_cell_is_10_mb_then_row_is_rejected_as_too_long(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(f"id,note\n1,call {PHONE}\n2,")
        handle.write("x" * 10_000_000)
        handle.write("\n3,write to ann@example.com\n")
    config = write_config(
        tmp_path / "c.yaml", "detection: {spacy_ner: 'off'}\nrun: {max_text_chars: 1000000}\n"
    )
    out = tmp_path / "out"
    report = _report(_redact(path, out, "--id-column", "id", config=config), out)
    assert report["rejected_by_reason"] == {"text longer than 1000000 characters": 1}
    assert _rejects(out) == [(2, "note", "text longer than 1000000 characters")]
    assert [r["id"] for r in _rows(out)] == ["1", "3"]


def test_when_max_text_chars_exceeds_what_spacy_allows_then_config_error(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text(f"id,note\n1,call {PHONE}\n", encoding="utf-8")
    config = write_config(tmp_path / "c.yaml", "run: {max_text_chars: 2000000}\n")
    result = _redact(path, tmp_path / "out", "--id-column", "id", config=config)
    assert result.exit_code == 1
    assert "run.max_text_chars" in result.output and str(config) in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("char", ["a", "7"], ids=["letters", "digits"])
def test_when_line_has_200k_chars_without_spaces_then_job_finishes_in_bounded_time(
    tmp_path: Path, char: str
) -> None:
    path = tmp_path / "long.csv"
    path.write_text(f"id,note\n1,{char * 200_000}\n2,call {PHONE}\n", encoding="utf-8")
    out = tmp_path / "out"
    started = time.perf_counter()
    result = _redact(path, out, "--id-column", "id")
    elapsed = time.perf_counter() - started
    report = _report(result, out)
    assert elapsed < 30, f"{elapsed:.1f}s"
    assert report["rows_out"] == 2 and report["entities"]["note"] == {"PHONE_NUMBER": 1}
    assert _rows(out)[0]["note"] == char * 200_000


def test_when_text_column_holds_null_number_list_object_bool_then_rows_are_rejected_or_kept_null(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    report = _report(_redact(BAD / "json_types.jsonl", out, "--id-column", "id"), out)
    assert (report["rows_in"], report["rows_out"], report["rows_rejected"]) == (8, 4, 4)
    assert [(row, column, reason.split(",")[0]) for row, column, reason in _rejects(out)] == [
        (3, "note", "text cell holds a number"),
        (4, "note", "text cell holds a list"),
        (5, "note", "text cell holds an object"),
        (6, "note", "text cell holds a boolean"),
    ]
    rows = {r["id"]: r.get("note") for r in _rows(out)}
    assert rows == {1: "call <PHONE_NUMBER>", 2: None, 7: None, 8: "write <EMAIL_ADDRESS>"}
    assert report["null_cells"] == {"note": 2}


def test_when_ids_repeat_or_are_missing_then_rows_are_rejected_naming_the_first(tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = _report(_redact(BAD / "duplicate_ids.csv", out, "--id-column", "id"), out)
    assert report["rejected_by_reason"] == {"duplicate id": 3, "missing id": 1}
    assert _rejects(out) == [
        (3, "id", "duplicate id (first seen at row 1)"),
        (5, "id", "duplicate id (first seen at row 2)"),
        (6, "id", "missing id"),
        (7, "id", "duplicate id (first seen at row 1)"),
    ]
    assert [r["id"] for r in _rows(out)] == ["1", "2", "3"]


def test_when_parquet_has_struct_list_and_map_columns_then_they_pass_through_unchanged(
    tmp_path: Path,
) -> None:
    path = BAD / "nested.parquet"
    out = tmp_path / "out"
    report = _report(_redact(path, out, "--id-column", "id"), out)
    assert report["rows_out"] == 3
    original = pq.read_table(path)
    written = pq.read_table(out / "part-00000.parquet")
    assert written.schema == original.schema
    for name in ("id", "meta", "codes", "attrs", "note_struct", "note_list"):
        assert written.column(name).equals(original.column(name)), name
    assert written.column("note").to_pylist() == ["call <PHONE_NUMBER>", None, "write <EMAIL_ADDRESS>"]


def test_when_csv_cells_look_like_formulas_then_csv_output_neutralises_them(tmp_path: Path) -> None:
    """A spreadsheet opening the redacted CSV must not run ``=cmd|' /C calc'!A0``: such cells gain a
    leading ``'`` (OWASP's CSV-injection advice); plain numbers such as ``-2`` are left alone."""
    out = tmp_path / "out"
    report = _report(_redact(BAD / "formula.csv", out, "--id-column", "id"), out)
    assert report["rows_rejected"] == 0
    rows = _rows(out)
    assert [r["note"] for r in rows] == [
        "'=cmd|' /C calc'!A0",
        "'+1+1",
        "'@SUM(1)",
        "'=1+1 then call <PHONE_NUMBER>",
    ]
    assert [r["dept"] for r in rows] == ['\'=HYPERLINK("http://example.com","x")', "ER", "'-2+3", "'\tTAB"]
    assert [r["id"] for r in rows] == ["1", "2", "3", "4"]


def test_when_formula_escaping_is_off_or_output_is_not_csv_then_cells_are_written_verbatim(
    tmp_path: Path,
) -> None:
    """``run.csv_formulas: keep`` writes CSV cells unchanged; Parquet output is never altered."""
    config = tmp_path / "keep.yaml"
    config.write_text(
        PATTERNS_ONLY.read_text(encoding="utf-8") + "\nrun:\n  csv_formulas: keep\n", encoding="utf-8"
    )
    verbatim = ["=cmd|' /C calc'!A0", "+1+1", "@SUM(1)", "=1+1 then call <PHONE_NUMBER>"]
    out = tmp_path / "keep"
    _report(_redact(BAD / "formula.csv", out, "--id-column", "id", config=config), out)
    assert [r["note"] for r in _rows(out)] == verbatim
    out = tmp_path / "parquet"
    _report(_redact(BAD / "formula.csv", out, "--id-column", "id", "--output-format", "parquet"), out)
    assert [r["note"] for r in _rows(out)] == verbatim
    assert [r["dept"] for r in _rows(out)][2:] == ["-2+3", "\tTAB"]


def test_escape_formula_leaves_numbers_and_plain_text_alone() -> None:
    from deid.io.writers import escape_formula

    assert escape_formula("-2") == "-2"
    assert escape_formula("+1.5e3") == "+1.5e3"
    assert escape_formula("plain = text") == "plain = text"
    assert escape_formula("") == ""
    assert escape_formula("-") == "'-"
    assert escape_formula("\rx") == "'\rx"


# --------------------------------------------------------------------------- regex-adversarial texts

CPU_BOUND_S = 5


@pytest.fixture(scope="module")
def patterns_detector():  # type: ignore[no-untyped-def]
    """A built patterns-only detector (spaCy tokens, Presidio and deid pattern recognizers)."""
    from deid.config import load_config
    from deid.detect.engine import Detector

    detector = Detector(load_config(PATTERNS_ONLY).detection)
    detector.detect([f"warm up {PHONE}"])
    return detector


def _detect_cpu_seconds(detector: Any, text: str) -> float | None:
    """CPU seconds ``detector.detect([text])`` takes in a forked child; ``None`` past the bound.

    The child gets a CPU-time limit, so a runaway case costs the bound, not its full run time;
    CPU time rather than wall time keeps the bound meaningful on a busy machine.
    """
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)

    def child() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (CPU_BOUND_S + 1, CPU_BOUND_S + 3))
        started = time.process_time()
        detector.detect([text])
        sender.send(time.process_time() - started)

    process = context.Process(target=child, daemon=True)
    process.start()
    sender.close()
    try:
        if receiver.poll(20 * CPU_BOUND_S):
            return float(receiver.recv())
        return None
    except EOFError:  # killed by SIGXCPU
        return None
    finally:
        process.kill()
        process.join()


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("1 " * 5_000, id="digits-spaces"),
        pytest.param("1234 " * 2_000, id="digit-groups"),
        pytest.param("1-" * 5_000, id="1-1-1-1"),
        pytest.param("(617) 555-" * 1_000, id="phone-prefixes"),
        pytest.param("a@" * 5_000, id="a@a@a@"),
        pytest.param("a" * 10_000 + "@", id="long-local-part"),
        pytest.param("1:" * 5_000, id="colons"),
        pytest.param("http://" + "a" * 50_000, id="http-50k-letters"),
        pytest.param("http://" + "7" * 50_000, id="http-50k-digits"),
        pytest.param("-" * 10_000, id="dashes"),
        pytest.param("." * 10_000, id="dots"),
        pytest.param("1." * 5_000, id="1.1.1.1"),
        pytest.param("a." * 5_000 + "@", id="a.a.a@"),
        pytest.param("=" * 10_000, id="equals-run"),
    ],
)
def test_when_text_is_regex_adversarial_then_detection_takes_bounded_time(
    patterns_detector: Any, text: str
) -> None:
    seconds = _detect_cpu_seconds(patterns_detector, text)
    assert seconds is not None, f"no result within {CPU_BOUND_S} CPU seconds for {len(text):,} characters"
    assert seconds < CPU_BOUND_S
