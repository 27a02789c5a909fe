"""``deid report``: the audit HTML and its JSON twin agree with the manifest and hold no value.

One real, tiny ``deid redact`` run (patterns only, 17 rows in shards of 5, two of them rejected)
is verified against the gold spans and reported once per module; the tests read what was written.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from deid.cli.report import report as report_command
from deid.report import build_audit, render_html, write_report
from deid.verify import verify_run
from tests.conftest import REPO, SAMPLES, run_cli, write_config

CONFIG = """
detection:
  transformer: null
  spacy_ner: "off"
  thresholds: {US_BANK_NUMBER: 0.5, US_PASSPORT: 0.5}
policy:
  default: {operator: replace}
run: {shard_size: 5, max_text_chars: 2000}
"""


class _Tables(HTMLParser):
    """Collects every ``<table id=...>`` of a page as rows of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = dict(attrs).get("id") or ""
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _tables(page: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(page)
    return parser.tables


def _body(table: list[list[str]]) -> list[list[str]]:
    """Data rows without the header, numbers without thousands separators."""
    return [[re.sub(r"(?<=\d),(?=\d{3})", "", cell) for cell in row] for row in table[1:]]


def _manifest_sums(run: Path) -> dict[str, Any]:
    """Totals recomputed here from the manifest, independently of deid.report."""
    manifest = json.loads((run / "_manifest.json").read_text(encoding="utf-8"))
    sums: dict[str, Any] = {
        "in": 0,
        "out": 0,
        "rejected": 0,
        "reasons": Counter(),
        "entities": Counter(),
        "hist": {},
    }
    sums["parts"] = []
    for shard in manifest["shards"]:
        sums["in"] += shard["rows_in"]
        sums["out"] += shard["rows_out"]
        sums["rejected"] += shard["rows_rejected"]
        sums["reasons"].update(shard["rejected_by_reason"])
        for column, counts in shard["entities"].items():
            for entity, n in counts.items():
                sums["entities"][(column, entity)] += n
        for entity, bins in shard["score_histogram"].items():
            old = sums["hist"].get(entity, [0] * len(bins))
            sums["hist"][entity] = [a + b for a, b in zip(old, bins, strict=True)]
        sums["parts"] += [(shard["index"], p["path"], p["rows"], p["sha256"]) for p in shard["parts"]]
    sums["manifest"] = manifest
    return sums


@pytest.fixture(scope="module")
def small_input(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """15 sample rows, plus a row repeating the first id and a row whose note is too long."""
    table = pq.read_table(SAMPLES / "notes.parquet").slice(0, 15)
    rows = table.to_pylist()
    duplicate = dict(rows[0], note="A second row with id N0001.")
    long = dict(rows[1], id="LONG", note=rows[1]["note"] * 10)
    path = tmp_path_factory.mktemp("report-in") / "small.parquet"
    pq.write_table(pa.Table.from_pylist([*rows, duplicate, long], schema=table.schema), path)
    return path


@pytest.fixture(scope="module")
def run_dir(small_input: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The redact output of ``small_input``, verified against the gold spans, then reported."""
    base = tmp_path_factory.mktemp("report-run")
    config = write_config(base / "config.yaml", CONFIG)
    out = base / "out"
    args = ["redact", str(small_input), str(out), "--text-column", "note", "--text-column", "comment"]
    result = run_cli([*args, "--id-column", "id", "--config", str(config), "--workers", "1", "--no-progress"])
    assert result.exit_code == 0, result.output
    verify_run(
        small_input,
        out,
        text_columns=["note", "comment"],
        id_column="id",
        gold=SAMPLES / "notes.gold.jsonl",
        max_leak=1.0,
        config=config,
    )
    write_report(out)
    return out


@pytest.fixture(scope="module")
def page(run_dir: Path) -> str:
    """The HTML report."""
    return (run_dir / "_audit.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def audit(run_dir: Path) -> dict[str, Any]:
    """The JSON twin."""
    return json.loads((run_dir / "_audit.json").read_text(encoding="utf-8"))


def test_when_report_written_then_html_is_one_self_contained_file_with_charts(page: str) -> None:
    lowered = page.lower()
    for forbidden in ("<script", "<link", "<iframe", "<img", "<object", "<embed", "src=", "@import"):
        assert forbidden not in lowered, forbidden
    # References inside the SVGs are to elements of the page itself.
    assert all(ref.startswith("#") for ref in re.findall(r'href="([^"]*)"', page))
    assert all(ref.startswith("#") for ref in re.findall(r"url\(([^)]*)\)", page))
    # The only URLs are XML namespace names, which a browser never fetches.
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) <= {
        "http://www.w3.org/2000/svg",
        "http://www.w3.org/1999/xlink",
    }
    charts = set(re.findall(r'<svg [^>]*id="chart-([a-z]+)"', page))
    assert charts == {"rejects", "entities", "scores", "throughput", "leaks"}
    assert page.count("<svg") == len(charts)


def test_when_report_written_then_json_numbers_match_the_manifest(
    run_dir: Path, audit: dict[str, Any]
) -> None:
    sums = _manifest_sums(run_dir)
    manifest = sums["manifest"]
    assert audit["rows"] == {"in": 17, "out": 15, "rejected": 2}
    assert (audit["rows"]["in"], audit["rows"]["out"], audit["rows"]["rejected"]) == (
        sums["in"],
        sums["out"],
        sums["rejected"],
    )
    assert (
        audit["rejected_by_reason"]
        == dict(sums["reasons"])
        == {"duplicate id": 1, "text longer than 2000 characters": 1}
    )
    flat = {(c, t): n for c, counts in audit["entities"].items() for t, n in counts.items()}
    assert flat == dict(sums["entities"])
    assert audit["entities_total"] == sum(sums["entities"].values())
    assert audit["score_histogram"] == sums["hist"]
    assert all(len(bins) == 10 for bins in audit["score_histogram"].values())
    assert audit["score_bin_edges"] == [i / 10 for i in range(11)]
    assert [(p["shard"], p["path"], p["rows"], p["sha256"]) for p in audit["parts"]] == sums["parts"]
    assert all(p["verified"] for p in audit["parts"]) and len(audit["parts"]) == 4
    assert audit["input"] == manifest["input"]
    assert (audit["config_sha256"], audit["key_fingerprint"], audit["models"]) == (
        manifest["config_sha256"],
        manifest["key_fingerprint"],
        manifest["models"],
    )
    report = json.loads((run_dir / "_report.json").read_text(encoding="utf-8"))
    assert audit["throughput"] == report["throughput"] and len(audit["throughput"]) == 4
    assert audit["timing"]["elapsed_s"] == report["elapsed_s"]
    assert audit["rejects_by_reason_and_column"] == {
        "duplicate id": {"id": 1},
        "text longer than 2000 characters": {"note": 1},
    }
    assert all(check["ok"] for check in audit["checks"]), audit["checks"]


def test_when_report_written_then_html_tables_match_the_manifest(
    run_dir: Path, page: str, audit: dict[str, Any]
) -> None:
    sums = _manifest_sums(run_dir)
    tables = _tables(page)
    assert _body(tables["rows"]) == [
        [str(sums["in"]), str(sums["out"]), str(sums["rejected"]), str(audit["chars"])]
    ]
    assert sorted(map(tuple, _body(tables["entities"]))) == sorted(
        (c, t, str(n)) for (c, t), n in sums["entities"].items()
    )
    assert {r[0]: r[1] for r in _body(tables["rejects"])} == {k: str(v) for k, v in sums["reasons"].items()}
    histograms = {row[0]: [int(v) for v in row[1:]] for row in _body(tables["histograms"])}
    assert histograms == {k: [*v, sum(v)] for k, v in sums["hist"].items()}
    assert [tuple(r[:4]) for r in _body(tables["parts"])] == [
        (str(i), p, str(n), h) for i, p, n, h in sums["parts"]
    ]
    provenance = {row[0]: row[1] for row in tables["provenance"]}
    manifest = sums["manifest"]
    assert provenance["input sha256"] == manifest["input"]["sha256"]
    assert provenance["input file"] == manifest["input"]["name"]
    assert provenance["config sha256"] == manifest["config_sha256"]
    assert provenance["model: spacy"] == manifest["models"]["spacy"]
    assert provenance["key fingerprint"].startswith("none")
    gold = audit["verify"]["gold"]
    assert {r[0]: tuple(int(v) for v in r[1:]) for r in _body(tables["verify-gold"])} == {
        k: (v["values"], v["leaked_values"], v["chars"], v["leaked_chars"])
        for k, v in gold["by_type"].items()
    }
    assert all(row[1] == "pass" for row in _body(tables["checks"]))


def test_when_report_written_then_no_original_value_is_in_it(
    small_input: Path, page: str, run_dir: Path
) -> None:
    ids = set(pq.read_table(small_input).column("id").to_pylist())
    values = set()
    for line in (SAMPLES / "notes.gold.jsonl").read_text(encoding="utf-8").splitlines():
        doc = json.loads(line)
        if doc["id"] in ids:
            values |= {doc["text"][s["start"] : s["end"]] for s in doc["spans"]}
    values = {v for v in values if len(v) >= 6}
    assert len(values) > 100
    audit_json = (run_dir / "_audit.json").read_text(encoding="utf-8")
    leaked = sorted(v for v in values if v in page or v in audit_json)
    assert not leaked, f"{len(leaked)} original values appear in the report"


def test_when_run_has_tiers_then_counts_per_tier_are_shown(run_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "tiered"
    shutil.copytree(run_dir, copy)
    manifest = json.loads((copy / "_manifest.json").read_text(encoding="utf-8"))
    for shard in manifest["shards"]:
        shard["entities_by_tier"] = {"internal": shard["entities"]}
        shard["tiers"] = {"internal": shard["rows_out"]}
    (copy / "_manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    audit = build_audit(copy)
    assert audit["tiers"] == {"internal": 15}
    assert audit["entities_by_tier"] == {"internal": audit["entities"]}
    tables = _tables(render_html(audit))
    rows = sorted(map(tuple, _body(tables["entities-by-tier"])))
    assert rows == sorted(
        ("internal", c, t, str(n)) for c, counts in audit["entities"].items() for t, n in counts.items()
    )
    assert _body(tables["tiers"]) == [["internal", "15"]]


def test_when_part_file_altered_then_digest_check_fails_and_strict_exits_1(
    run_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "altered"
    shutil.copytree(run_dir, copy)
    part = copy / "part-00001.parquet"
    part.write_bytes(part.read_bytes() + b"\0")
    result = CliRunner().invoke(report_command, [str(copy), "--strict"], catch_exceptions=False)
    assert result.exit_code == 1
    assert "part digests" in result.output and "part-00001.parquet" in result.output
    audit = json.loads((copy / "_audit.json").read_text(encoding="utf-8"))
    assert [c["name"] for c in audit["checks"] if not c["ok"]] == ["part digests"]
    assert [p["verified"] for p in audit["parts"]] == [True, False, True, True]


def test_when_run_is_unfinished_then_checks_say_so_and_the_page_still_renders(
    run_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "killed"
    shutil.copytree(run_dir, copy)
    manifest = json.loads((copy / "_manifest.json").read_text(encoding="utf-8"))
    manifest["complete"] = False
    manifest["shards"] = manifest["shards"][:2]
    (copy / "_manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    for name in ("_report.json", "_rejects.jsonl", "_verify.json", "_audit.html", "_audit.json"):
        (copy / name).unlink()
    audit = write_report(copy).audit
    failed = {c["name"] for c in audit["checks"] if not c["ok"]}
    assert failed == {"run complete", "report matches manifest"}
    assert audit["rows"] == {"in": 10, "out": 10, "rejected": 0} and audit["timing"] is None
    page = (copy / "_audit.html").read_text(encoding="utf-8")
    assert "some checks FAIL" in page and 'id="chart-throughput"' not in page and 'id="verify-none"' in page


def test_when_out_is_a_json_name_then_error(run_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        report_command, [str(run_dir), "--out", str(tmp_path / "a.json")], catch_exceptions=False
    )
    assert result.exit_code == 1 and "name the HTML file" in result.output


def test_when_out_given_then_html_and_json_twin_go_there(run_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "audit" / "notes.html"
    result = CliRunner().invoke(report_command, [str(run_dir), "--out", str(target)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert target.is_file() and target.with_suffix(".json").is_file()
    assert "17 rows in, 15 out, 2 rejected" in result.output
    assert not list(target.parent.glob(".*deid-tmp*"))


def test_when_not_a_run_dir_then_one_line_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(report_command, [str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 1
    assert f"{tmp_path}: no _manifest.json" in result.output and len(result.output.strip().splitlines()) == 1


def test_when_names_hold_markup_then_they_are_escaped(audit: dict[str, Any]) -> None:
    hostile = json.loads(json.dumps(audit))
    hostile["entities"] = {"<script>alert(1)</script>": {"$x^2$ & <b>": 3}}
    hostile["rejected_by_reason"] = {"</table><img src=x>": 1}
    page = render_html(hostile)
    assert "<script>" not in page and "<img" not in page and "</table><img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium package")
def test_when_opened_in_headless_chromium_then_it_renders(run_dir: Path, tmp_path: Path) -> None:
    html = (run_dir / "_audit.html").resolve()
    flags = [
        "chromium",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [*flags, "--dump-dom", html.as_uri()], capture_output=True, text=True, timeout=120, check=True
    )
    assert 'id="entities"' in dom.stdout and dom.stdout.count("<svg") == 5
    assert "all checks pass" in dom.stdout
    shot = tmp_path / "report.png"
    subprocess.run(
        [*flags, "--window-size=1000,2400", f"--screenshot={shot}", html.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_report_module_never_reads_part_contents() -> None:
    # The audit is built from bookkeeping files only; parts are hashed as bytes, never parsed.
    source = (REPO / "deid" / "report" / "audit.py").read_text(encoding="utf-8")
    assert "read_table" not in source and "open_reader" not in source and "pandas" not in source
