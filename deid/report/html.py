"""The audit as one self-contained HTML page: inline CSS and inline SVG charts, no script, no link.

The page opens offline in any browser and prints cleanly. Every number shown comes from the audit
document (:func:`deid.report.audit.build_audit`); every string from the run (column names, reasons,
file names) is HTML-escaped. Tables carry ids (``entities``, ``parts``...) so that tools and tests
can read them back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from deid.report import charts

_CSS = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1d1d1f;
       margin: 0 auto; max-width: 980px; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 14px; margin: 16px 0 6px; }
p.meta, p.note { color: #555; margin: 4px 0; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f4f4f6; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.hash, code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; word-break: break-all; }
.ok { color: #1a7f37; font-weight: 600; }
.fail { color: #c62828; font-weight: 600; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 10px; color: #fff; font-weight: 600; }
.badge.ok { background: #1a7f37; color: #fff; } .badge.fail { background: #c62828; color: #fff; }
svg.chart { max-width: 100%; height: auto; display: block; margin: 6px 0 14px; }
details { margin: 6px 0; }
@media print { body { max-width: none; } h2 { break-after: avoid; } svg.chart, table { break-inside: avoid; } }
"""


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.6f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value):,}"
    return str(value)


def _cell(value: Any, kind: str = "") -> str:
    if kind == "hash":
        return f'<td class="hash">{escape(_fmt(value))}</td>'
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    css = ' class="num"' if numeric else ""
    return f"<td{css}>{escape(_fmt(value))}</td>"


def _table(
    table_id: str, header: Sequence[str], rows: Iterable[Sequence[Any]], kinds: Sequence[str] = ()
) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = "".join(_cell(v, kinds[i] if i < len(kinds) else "") for i, v in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    if not body:
        return f'<p class="note" id="{escape(table_id)}">None.</p>'
    return (
        f'<table id="{escape(table_id)}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    )


def _chart(svg: str | None) -> str:
    return svg or ""


def _provenance(audit: dict[str, Any]) -> str:
    run = audit["run"]
    source = audit["input"]
    rows: list[tuple[str, Any, str]] = [
        ("input file", source.get("name"), ""),
        ("input format", source.get("format"), ""),
        ("input bytes", source.get("bytes"), ""),
        ("input sha256", source.get("sha256"), "hash"),
        ("config profile", audit.get("profile") or "not recorded", ""),
        ("config sha256", audit.get("config_sha256"), "hash"),
        ("key fingerprint", audit.get("key_fingerprint") or "none (no keyed operator)", "hash"),
    ]
    for name, model in sorted(audit.get("models", {}).items()):
        rows.append((f"model: {name}", model, "hash"))
    if audit.get("router"):
        rows.append(("router", audit["router"], "hash"))
    rows += [
        ("mode", run.get("mode"), ""),
        ("deid version", run.get("deid_version"), ""),
        ("text columns", ", ".join(run.get("text_columns") or []), ""),
        ("id column", run.get("id_column"), ""),
        ("subject column", run.get("subject_column"), ""),
        ("output format", run.get("output_format"), ""),
        ("shard size", run.get("shard_size"), ""),
        ("shards", run.get("shards"), ""),
    ]
    body = "".join(f"<tr><th>{escape(label)}</th>{_cell(value, kind)}</tr>" for label, value, kind in rows)
    return f'<table id="provenance"><tbody>{body}</tbody></table>'


def _checks(audit: dict[str, Any]) -> str:
    rows = []
    for check in audit["checks"]:
        css = "ok" if check["ok"] else "fail"
        rows.append(
            f'<tr><td>{escape(check["name"])}</td><td class="{css}">{"pass" if check["ok"] else "FAIL"}</td>'
            f"<td>{escape(str(check['detail']))}</td></tr>"
        )
    return (
        '<table id="checks"><thead><tr><th>check</th><th>result</th><th>detail</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _verify(audit: dict[str, Any]) -> str:
    verify = audit.get("verify")
    if verify is None:
        return '<p class="note" id="verify-none">No <code>_verify.json</code> in the run directory: run <code>deid verify</code> to add it.</p>'
    parts = [
        _table(
            "verify",
            ["metric", "value"],
            [
                ("passed", verify.get("passed")),
                ("leak metric", verify.get("leak_metric")),
                ("leak rate", verify.get("leak_rate")),
                ("max leak", verify.get("max_leak")),
                ("rows aligned", verify.get("rows_aligned")),
                ("aligned by", verify.get("aligned_by")),
                ("rows missing", verify.get("rows_missing")),
                ("rows unexpected", verify.get("rows_unexpected")),
                ("original is the run's input", verify.get("original_matches_manifest")),
                (
                    "residual detections",
                    sum(n for c in (verify.get("residual") or {}).values() for n in c.values()),
                ),
                ("residual characters", verify.get("residual_chars")),
                ("characters checked", verify.get("chars_checked")),
                ("verify config sha256", verify.get("config_sha256")),
            ],
        )
    ]
    residual = [
        (c, t, n)
        for c, counts in sorted((verify.get("residual") or {}).items())
        for t, n in sorted(counts.items())
    ]
    parts.append("<h3>Residual detections in the redacted text</h3>")
    parts.append(_table("verify-residual", ["column", "entity type", "residual"], residual))
    gold = verify.get("gold")
    if gold:
        parts.append("<h3>Gold values still present in the redacted text</h3>")
        parts.append(
            _table(
                "verify-gold-summary",
                ["metric", "value"],
                [
                    ("gold file", gold.get("file")),
                    ("documents matched", gold.get("documents_matched")),
                    ("documents unmatched", gold.get("documents_unmatched")),
                    ("documents with other text", gold.get("documents_text_mismatch")),
                    ("values", gold.get("values")),
                    ("leaked values", gold.get("leaked_values")),
                    ("characters", gold.get("chars")),
                    ("leaked characters", gold.get("leaked_chars")),
                    ("leaking documents", gold.get("leaking_documents")),
                ],
            )
        )
        by_type = gold.get("by_type") or {}
        parts.append(
            _table(
                "verify-gold",
                ["gold label", "values", "leaked values", "characters", "leaked characters"],
                [
                    (k, v["values"], v["leaked_values"], v["chars"], v["leaked_chars"])
                    for k, v in sorted(by_type.items())
                ],
            )
        )
        parts.append(_chart(charts.leak_chart("leaks", "Gold values and leaked values per label", by_type)))
    return "".join(parts)


def render_html(audit: dict[str, Any]) -> str:
    """The audit document as a standalone HTML page (inline CSS and SVG; no script, no external resource)."""
    rows = audit["rows"]
    ok = all(c["ok"] for c in audit["checks"])
    title = f"deid audit: {audit['input'].get('name', '')}"
    edges = audit["score_bin_edges"]
    bins = [f"{a:.1f}–{b:.1f}" for a, b in zip(edges[:-1], edges[1:], strict=True)]
    entity_rows = [(c, t, n) for c, counts in audit["entities"].items() for t, n in counts.items()]
    tier_rows = [
        (tier, c, t, n)
        for tier, cols in audit["entities_by_tier"].items()
        for c, counts in cols.items()
        for t, n in counts.items()
    ]
    tier_totals: dict[str, dict[str, int]] = {}
    for tier, cols in audit["entities_by_tier"].items():
        for counts in cols.values():
            for entity, n in counts.items():
                tier_totals.setdefault(tier, {})[entity] = tier_totals.setdefault(tier, {}).get(entity, 0) + n
    timing = audit.get("timing") or {}
    sections = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">Run directory <code>{escape(audit["run_dir"])}</code> · generated {escape(audit["generated_at"])} '
        f"by {escape(audit['generated_by'])} · "
        f'<span class="badge {"ok" if ok else "fail"}" id="status">{"all checks pass" if ok else "some checks FAIL"}</span></p>',
        '<p class="note">This report holds counts, digests and fingerprints only. It is built from the run\'s '
        "manifest, report, rejects and verify files; it never contains a value of the input.</p>",
        '<h2 id="s-checks">Checks</h2>',
        _checks(audit),
        '<h2 id="s-provenance">Provenance</h2>',
        _provenance(audit),
        '<h2 id="s-rows">Rows</h2>',
        _table(
            "rows",
            ["rows in", "rows out", "rows rejected", "characters"],
            [(rows["in"], rows["out"], rows["rejected"], audit["chars"])],
        ),
        _table("null-cells", ["text column", "null cells"], list(audit["null_cells"].items())),
        "<h3>Rejected rows by reason</h3>",
        _table("rejects", ["reason", "rows"], list(audit["rejected_by_reason"].items())),
        _chart(charts.bar_chart("rejects", "Rejected rows by reason", audit["rejected_by_reason"], "rows")),
        _table(
            "rejects-by-column",
            ["reason", "column", "rows"],
            [(r, c, n) for r, cols in audit["rejects_by_reason_and_column"].items() for c, n in cols.items()],
        )
        if audit["rejects_by_reason_and_column"]
        else "",
        '<h2 id="s-entities">Entities transformed</h2>',
        f'<p class="meta">{audit["entities_total"]:,} entities in {len(audit["entities"])} text column(s).</p>',
        _chart(charts.grouped_bar_chart("entities", "Entities per type and text column", audit["entities"])),
        _table("entities", ["text column", "entity type", "entities"], entity_rows),
        _table("entity-types", ["entity type", "entities"], list(audit["entities_by_type"].items())),
    ]
    if audit["entities_by_tier"] or audit["tiers"]:
        sections += [
            "<h3>Per sensitivity tier</h3>",
            _table("tiers", ["tier", "rows"], list(audit["tiers"].items())),
            _chart(charts.grouped_bar_chart("tiers", "Entities per type and tier", tier_totals)),
            _table("entities-by-tier", ["tier", "text column", "entity type", "entities"], tier_rows),
        ]
    sections += [
        '<h2 id="s-scores">Detection scores</h2>',
        _chart(
            charts.histogram_grid(
                "scores", "Score histograms per entity type", audit["score_histogram"], edges
            )
        ),
        _table(
            "histograms",
            ["entity type", *bins, "total"],
            [(entity, *counts, sum(counts)) for entity, counts in audit["score_histogram"].items()],
        ),
        '<h2 id="s-throughput">Throughput</h2>',
        _chart(charts.throughput_chart("throughput", "Rows processed over time", audit["throughput"])),
        _table("timing", ["metric", "value"], [(k.replace("_", " "), v) for k, v in timing.items()]),
        '<h2 id="s-verify">Verification</h2>',
        _verify(audit),
        '<h2 id="s-parts">Output part files</h2>',
        _table(
            "parts",
            ["shard", "path", "rows", "sha256", "digest verified"],
            [(p["shard"], p["path"], p["rows"], p["sha256"], p.get("verified")) for p in audit["parts"]],
            kinds=("", "", "", "hash", ""),
        ),
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>\n<body>\n"
        + "\n".join(sections)
        + "\n</body></html>\n"
    )
