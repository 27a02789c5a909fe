"""The audit document of a redact run, built from its manifest, report, rejects and verify files.

Only the run's bookkeeping files are read (``_manifest.json``, ``_report.json``,
``_rejects.jsonl``, ``_verify.json``) plus the part files' bytes for their digests: no cell is ever
parsed, so the audit cannot hold an original value. Counts come from the manifest (the committed,
deterministic record); ``_report.json`` adds timings and is cross-checked against it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

from deid import __version__
from deid.errors import InputError
from deid.io.writers import sha256_file
from deid.run.job import REJECTS_NAME, REPORT_NAME
from deid.run.manifest import MANIFEST_NAME
from deid.run.task import SCORE_BINS, _reason_kind
from deid.verify import VERIFY_NAME

AUDIT_VERSION = 1
AUDIT_HTML_NAME = "_audit.html"
AUDIT_JSON_NAME = "_audit.json"


def _load_json(path: Path, *, required: bool) -> dict[str, Any] | None:
    if not path.is_file():
        if required:
            raise InputError(path.parent, f"no {path.name}: not the output directory of a deid run")
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InputError(path, "damaged JSON file") from None
    if not isinstance(data, dict):
        raise InputError(path, "expected a JSON object")
    return data


def _read_rejects(path: Path) -> tuple[int, dict[str, dict[str, int]]]:
    """Lines of ``_rejects.jsonl`` and their counts per reason kind and column (ids are not read out)."""
    if not path.is_file():
        return 0, {}
    lines = 0
    by_reason: dict[str, Counter[str]] = {}
    with open(path, encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
                reason, column = str(line["reason"]), line.get("column")
            except (json.JSONDecodeError, KeyError, TypeError):
                raise InputError(path, "damaged rejects line", row=number) from None
            lines += 1
            by_reason.setdefault(_reason_kind(reason), Counter())[
                column if column is not None else "(row)"
            ] += 1
    return lines, {reason: dict(sorted(c.items())) for reason, c in sorted(by_reason.items())}


def _add_nested(target: dict[str, dict[str, int]], source: dict[str, dict[str, int]]) -> None:
    for outer, counts in source.items():
        inner = target.setdefault(outer, {})
        for key, n in counts.items():
            inner[key] = inner.get(key, 0) + int(n)


def _sorted_nested(data: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    return {k: dict(sorted(v.items())) for k, v in sorted(data.items())}


def build_audit(run_dir: str | Path, *, check_digests: bool = True) -> dict[str, Any]:
    """The audit document (the ``_audit.json`` form) of a redact output directory.

    Args:
        run_dir: the OUTPUT directory of ``deid redact`` (or ``deid route``).
        check_digests: recompute each part file's sha256 and compare it with the manifest's.

    Returns:
        A JSON-ready dict: provenance (input, config, models, key fingerprint), part files,
        row counts, rejects, entity counts per column/type/tier, score histograms, throughput,
        the verify result when ``_verify.json`` is present, and the list of consistency checks.

    Raises:
        InputError: ``run_dir`` is not a deid output (no manifest) or a bookkeeping file is damaged.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError(run_dir, "not a directory: expected the output directory of 'deid redact'")
    manifest = _load_json(run_dir / MANIFEST_NAME, required=True)
    assert manifest is not None
    report = _load_json(run_dir / REPORT_NAME, required=False)
    verify = _load_json(run_dir / VERIFY_NAME, required=False)
    shards = sorted(manifest.get("shards", []), key=lambda s: int(s["index"]))

    rows = {"in": 0, "out": 0, "rejected": 0}
    reasons: Counter[str] = Counter()
    entities: dict[str, dict[str, int]] = {}
    by_tier: dict[str, dict[str, dict[str, int]]] = {}
    tiers: Counter[str] = Counter()
    nulls: Counter[str] = Counter()
    histogram: dict[str, list[int]] = {}
    chars = 0
    parts: list[dict[str, Any]] = []
    for shard in shards:
        rows["in"] += int(shard["rows_in"])
        rows["out"] += int(shard["rows_out"])
        rows["rejected"] += int(shard["rows_rejected"])
        reasons.update({k: int(v) for k, v in shard.get("rejected_by_reason", {}).items()})
        _add_nested(entities, shard.get("entities", {}))
        for tier, columns in shard.get("entities_by_tier", {}).items():
            _add_nested(by_tier.setdefault(tier, {}), columns)
        tiers.update({k: int(v) for k, v in shard.get("tiers", {}).items()})
        nulls.update({k: int(v) for k, v in shard.get("null_cells", {}).items()})
        for entity, bins in shard.get("score_histogram", {}).items():
            target = histogram.setdefault(entity, [0] * len(bins))
            for i, n in enumerate(bins):
                target[i] += int(n)
        chars += int(shard.get("chars", 0))
        for part in shard.get("parts", []):
            entry = {
                "shard": int(shard["index"]),
                "path": part["path"],
                "rows": int(part["rows"]),
                "sha256": part["sha256"],
            }
            if check_digests:
                path = run_dir / part["path"]
                entry["verified"] = path.is_file() and sha256_file(path) == part["sha256"]
            parts.append(entry)
    entities = _sorted_nested(entities)
    by_type: Counter[str] = Counter()
    for counts in entities.values():
        by_type.update(counts)
    reject_lines, rejects_by_column = _read_rejects(run_dir / REJECTS_NAME)

    timing = None
    throughput: list[dict[str, float]] = []
    if report is not None:
        timing = {
            key: report.get(key)
            for key in ("elapsed_s", "rows_per_s", "chars_per_s", "workers", "shards_total", "shards_resumed")
        }
        throughput = [{"t": float(p["t"]), "rows": int(p["rows"])} for p in report.get("throughput", [])]

    audit: dict[str, Any] = {
        "audit_version": AUDIT_VERSION,
        "generated_by": f"deid {__version__}",
        "generated_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "run_dir": run_dir.resolve().name,
        "run": {
            "mode": manifest.get("mode"),
            "deid_version": manifest.get("deid_version"),
            "complete": bool(manifest.get("complete")),
            "text_columns": manifest.get("text_columns", []),
            "id_column": manifest.get("id_column"),
            "subject_column": manifest.get("subject_column"),
            "output_format": manifest.get("output_format"),
            "shard_size": manifest.get("shard_size"),
            "shards": len(shards),
        },
        "input": manifest.get("input", {}),
        "config_sha256": manifest.get("config_sha256"),
        "profile": manifest.get("profile"),
        "models": manifest.get("models", {}),
        "router": manifest.get("router"),
        "key_fingerprint": manifest.get("key_fingerprint"),
        "parts": parts,
        "rows": rows,
        "rejected_by_reason": dict(sorted(reasons.items())),
        "rejects_by_reason_and_column": rejects_by_column,
        "entities": entities,
        "entities_by_type": dict(sorted(by_type.items())),
        "entities_total": sum(by_type.values()),
        "entities_by_tier": {tier: _sorted_nested(cols) for tier, cols in sorted(by_tier.items())},
        "tiers": dict(sorted(tiers.items())),
        "null_cells": dict(sorted(nulls.items())),
        "chars": chars,
        "score_bin_edges": [round(i / SCORE_BINS, 2) for i in range(SCORE_BINS + 1)],
        "score_histogram": dict(sorted(histogram.items())),
        "timing": timing,
        "throughput": throughput,
        "verify": _verify_summary(verify),
    }
    audit["checks"] = _checks(audit, report, reject_lines, check_digests)
    return audit


def _verify_summary(verify: dict[str, Any] | None) -> dict[str, Any] | None:
    """The counts of ``_verify.json`` that the audit shows (it holds nothing else)."""
    if verify is None:
        return None
    keys = (
        "passed",
        "leak_metric",
        "leak_rate",
        "max_leak",
        "aligned_by",
        "rows_aligned",
        "rows_missing",
        "rows_unexpected",
        "rows_redacted",
        "original_matches_manifest",
        "config_sha256",
        "residual",
        "residual_chars",
        "residual_cells",
        "residual_rate",
        "chars_checked",
    )
    summary = {key: verify.get(key) for key in keys}
    gold = verify.get("gold")
    if gold:
        summary["gold"] = {
            key: gold.get(key)
            for key in (
                "file",
                "labels",
                "documents_matched",
                "documents_unmatched",
                "documents_text_mismatch",
                "values",
                "chars",
                "leaked_values",
                "leaked_chars",
                "leak_rate",
                "leaking_documents",
                "by_type",
            )
        }
    else:
        summary["gold"] = None
    return summary


def _checks(
    audit: dict[str, Any], report: dict[str, Any] | None, reject_lines: int, digests: bool
) -> list[dict[str, Any]]:
    """Consistency checks a reviewer can rely on, each ``{"name", "ok", "detail"}``."""
    rows = audit["rows"]
    checks = [
        {
            "name": "run complete",
            "ok": audit["run"]["complete"],
            "detail": "the manifest marks the run complete"
            if audit["run"]["complete"]
            else "the run is unfinished",
        },
        {
            "name": "rows balance",
            "ok": rows["in"] == rows["out"] + rows["rejected"],
            "detail": f"rows in {rows['in']} = rows out {rows['out']} + rows rejected {rows['rejected']}",
        },
        {
            "name": "part rows",
            "ok": sum(p["rows"] for p in audit["parts"]) == rows["out"],
            "detail": f"the part files hold {sum(p['rows'] for p in audit['parts'])} rows",
        },
        {
            "name": "rejects file",
            "ok": reject_lines == rows["rejected"],
            "detail": f"{REJECTS_NAME} lists {reject_lines} rows",
        },
    ]
    if digests:
        bad = [p["path"] for p in audit["parts"] if not p.get("verified")]
        checks.append(
            {
                "name": "part digests",
                "ok": not bad,
                "detail": "every part file matches its sha256 in the manifest"
                if not bad
                else f"{len(bad)} part file(s) missing or changed: {', '.join(bad[:5])}",
            }
        )
    if report is None:
        checks.append({"name": "report matches manifest", "ok": False, "detail": f"no {REPORT_NAME}"})
    else:
        differs = [
            name
            for name, ours, theirs in (
                ("rows_in", rows["in"], report.get("rows_in")),
                ("rows_out", rows["out"], report.get("rows_out")),
                ("rows_rejected", rows["rejected"], report.get("rows_rejected")),
                ("rejected_by_reason", audit["rejected_by_reason"], report.get("rejected_by_reason")),
                ("entities", audit["entities"], _sorted_nested(report.get("entities", {}))),
                (
                    "score_histogram",
                    audit["score_histogram"],
                    dict(sorted(report.get("score_histogram", {}).items())),
                ),
                ("input_sha256", audit["input"].get("sha256"), report.get("input_sha256")),
                ("config_sha256", audit["config_sha256"], report.get("config_sha256")),
                ("key_fingerprint", audit["key_fingerprint"], report.get("key_fingerprint")),
            )
            if ours != theirs
        ]
        checks.append(
            {
                "name": "report matches manifest",
                "ok": not differs,
                "detail": f"{REPORT_NAME} agrees with {MANIFEST_NAME}"
                if not differs
                else f"differs: {', '.join(differs)}",
            }
        )
    verify = audit["verify"]
    if verify is not None:
        checks.append(
            {
                "name": "verify",
                "ok": bool(verify.get("passed")) and verify.get("original_matches_manifest") is not False,
                "detail": f"leak rate {verify.get('leak_rate')} ({verify.get('leak_metric')}), max {verify.get('max_leak')}"
                + (
                    ", ORIGINAL is not the run's input"
                    if verify.get("original_matches_manifest") is False
                    else ""
                ),
            }
        )
    return checks
