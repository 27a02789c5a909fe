"""Audit report of a redact run: ``_audit.json`` and a self-contained ``_audit.html`` with charts.

Example:
    >>> from deid.report import write_report                   # doctest: +SKIP
    >>> written = write_report("out/notes")                     # doctest: +SKIP
    >>> written.html_path, written.audit["rows"]                # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deid.report.audit import AUDIT_HTML_NAME, AUDIT_JSON_NAME, build_audit

__all__ = [
    "AUDIT_HTML_NAME",
    "AUDIT_JSON_NAME",
    "WrittenReport",
    "build_audit",
    "render_html",
    "write_report",
]


@dataclass(frozen=True)
class WrittenReport:
    """What :func:`write_report` wrote: the two paths and the audit document itself."""

    html_path: Path
    json_path: Path
    audit: dict[str, Any]

    @property
    def failed_checks(self) -> list[dict[str, Any]]:
        """The consistency checks that did not pass."""
        return [c for c in self.audit["checks"] if not c["ok"]]


def render_html(audit: dict[str, Any]) -> str:
    """The audit as an HTML page (see :func:`deid.report.html.render_html`)."""
    from deid.report.html import render_html as render

    return render(audit)


def write_report(
    run_dir: str | Path, out: str | Path | None = None, *, check_digests: bool = True
) -> WrittenReport:
    """Write the audit of ``run_dir`` as HTML and as its JSON twin, atomically.

    Args:
        run_dir: the output directory of ``deid redact``.
        out: the HTML file; default ``RUN_DIR/_audit.html``. The JSON twin goes beside it with the
            suffix ``.json`` (``_audit.json`` by default).
        check_digests: recompute the part files' sha256 (see :func:`build_audit`).

    Returns:
        The paths written and the audit document.

    Raises:
        InputError: ``run_dir`` is not a deid output.
        OutputError: the files cannot be written.
    """
    from deid.errors import OutputError
    from deid.io.writers import commit_file, temp_name, write_json_atomic

    run_dir = Path(run_dir)
    audit = build_audit(run_dir, check_digests=check_digests)
    html_path = Path(out) if out is not None else run_dir / AUDIT_HTML_NAME
    json_path = html_path.with_suffix(".json")
    if json_path == html_path:
        raise OutputError(f"{html_path}: name the HTML file (its JSON twin takes the .json suffix)")
    page = render_html(audit)
    try:
        html_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_name(html_path)
        tmp.write_text(page, encoding="utf-8")
        commit_file(tmp, html_path)
        write_json_atomic(json_path, audit)
    except OSError as exc:
        raise OutputError(f"{html_path}: cannot write the report ({exc.strerror or exc})") from None
    return WrittenReport(html_path, json_path, audit)
