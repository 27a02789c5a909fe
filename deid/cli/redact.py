"""``deid redact``: detect and transform PII in the text columns of a table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from deid.cli._common import domain_errors
from deid.cli._job_options import input_options, io_arguments, redact_options, run_from_options


@click.command(
    epilog=(
        "Example: deid redact samples/notes.parquet out/notes --text-column note --text-column comment "
        "--id-column id --subject-column patient_id"
    )
)
@io_arguments("OUTPUT")
@input_options
@redact_options
@click.option(
    "--backend",
    type=click.Choice(["local", "spark"]),
    default="local",
    show_default=True,
    help="Where shards are processed: local worker processes, or Spark executors (needs Java and pyspark).",
)
@click.option(
    "--spark-master",
    default=None,
    help="Spark master for --backend spark (default local[*]; e.g. spark://host:7077, yarn).",
)
@click.option("--report", "write_audit", is_flag=True, help="Also write OUTPUT/_audit.html and _audit.json.")
@domain_errors
def redact(inputs: tuple[str, ...], output: str, write_audit: bool, **options: Any) -> None:
    """Redact or pseudonymize PII in INPUT's text columns and write OUTPUT (a directory of parts).

    Every other column, its type and the row order are kept. The policy in the config picks the
    operator per entity type; keyed operators read the key from $DEID_KEY or the configured key
    file. With --router each row gets a sensitivity tier (config: routing), the tier's policy, and
    its partition OUTPUT/sensitivity=<tier>/. OUTPUT also holds _manifest.json, _report.json and,
    if any row was rejected, _rejects.jsonl.
    """
    if write_audit and "://" in output:
        raise click.UsageError("--report needs a local OUTPUT: run 'deid report' on a local copy of it")
    report = run_from_options("redact", inputs, output, **options)
    found = sum(n for counts in report.entities.values() for n in counts.values())
    click.echo(
        f"{report.rows_out} rows written to {output} ({report.rows_rejected} rejected, {found} entities transformed, "
        f"{report.rows_per_s:.1f} rows/s)"
    )
    if report.fail_safe is not None:
        from deid.cli.route import format_escalations

        click.echo(format_escalations(report.escalations, report.fail_safe))
    if write_audit:
        from deid.report import write_report

        click.echo(f"audit report: {write_report(Path(output)).html_path}")
