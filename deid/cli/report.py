"""``deid report``: the audit of a redact run as self-contained HTML plus a JSON twin."""

from __future__ import annotations

from pathlib import Path

import click

from deid.cli._common import domain_errors


@click.command(epilog="Example: deid report out/notes --out audit/notes.html")
@click.argument("run_dir", metavar="RUN_DIR", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="HTML file to write (default: RUN_DIR/_audit.html); the JSON twin goes beside it as .json.",
)
@click.option("--no-digest-check", is_flag=True, help="Do not recompute the part files' sha256.")
@click.option("--strict", is_flag=True, help="Exit with status 1 when a consistency check fails.")
@domain_errors
def report(run_dir: Path, out: Path | None, no_digest_check: bool, strict: bool) -> None:
    """Write the audit report of RUN_DIR (the output directory of 'deid redact').

    One HTML file that opens offline (inline charts, no script) and its JSON twin for compliance
    reviewers: input name and digest, part digests, config profile and digest, model ids, key fingerprint, rows
    in/out/rejected, entity counts per column, type and tier, score histograms, throughput, rejected
    rows by reason and, when RUN_DIR holds _verify.json, the verify result. It is built from the
    run's manifest, report, rejects and verify files only and never contains a value of the input.
    """
    from deid.report import write_report

    written = write_report(run_dir, out, check_digests=not no_digest_check)
    audit = written.audit
    rows = audit["rows"]
    click.echo(f"wrote {written.html_path} and {written.json_path}")
    click.echo(
        f"{rows['in']} rows in, {rows['out']} out, {rows['rejected']} rejected; "
        f"{audit['entities_total']} entities; {len(audit['parts'])} part file(s); "
        f"profile {audit.get('profile') or 'not recorded'}"
    )
    for check in written.failed_checks:
        click.echo(f"check failed: {check['name']}: {check['detail']}", err=True)
    if strict and written.failed_checks:
        raise click.ClickException(f"{len(written.failed_checks)} consistency check(s) failed")
