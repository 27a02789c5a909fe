"""``deid verify``: re-detect PII in a redacted output and gate on the leak rate."""

from __future__ import annotations

from pathlib import Path

import click

from deid.cli._common import domain_errors
from deid.cli._job_options import FORMATS


@click.command(
    # \b keeps the example on one line (click would break it inside "--max-leak").
    epilog=(
        "\b\nExample: deid verify samples/notes.parquet out/notes --text-column note --id-column id "
        "--gold samples/notes.gold.jsonl --max-leak 0.01"
    )
)
@click.argument("original", metavar="ORIGINAL", type=click.Path(path_type=Path))
@click.argument("redacted", metavar="REDACTED", type=click.Path(path_type=Path))
@click.option(
    "--text-column", "text_columns", multiple=True, required=True, help="Text column to verify (repeatable)."
)
@click.option(
    "--id-column",
    default=None,
    help="Align rows by this id column (default: by order) and match gold ids to it.",
)
@click.option(
    "--gold",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Gold spans JSONL (with text): measure leaked gold values.",
)
@click.option(
    "--gold-label",
    "gold_labels",
    multiple=True,
    help="Check only this gold label (repeatable; default: all).",
)
@click.option(
    "--max-leak",
    type=click.FloatRange(0.0, 1.0),
    default=0.0,
    show_default=True,
    help="Exit with status 1 when the leak rate (gold characters, or residual characters without --gold) exceeds this.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="YAML config whose detection re-detects (default: configs/default.yaml).",
)
@click.option(
    "--input-format",
    type=click.Choice(FORMATS),
    default=None,
    help="ORIGINAL's format (default: from the extension).",
)
@click.option(
    "--delimiter", default=",", show_default=True, help="CSV delimiter of ORIGINAL and of CSV parts."
)
@domain_errors
def verify(
    original: Path,
    redacted: Path,
    text_columns: tuple[str, ...],
    id_column: str | None,
    gold: Path | None,
    gold_labels: tuple[str, ...],
    max_leak: float,
    config_path: str | None,
    input_format: str | None,
    delimiter: str,
) -> None:
    """Verify REDACTED (the output directory of 'deid redact ORIGINAL ...') against ORIGINAL.

    Re-detects PII in every part file of REDACTED and reports residual detections per column and
    entity type (operator placeholders such as <PERSON> are not counted). With --gold, a gold value
    leaks when its exact text still occurs in the redacted cell; the report gives leaked characters,
    leaked values per type and leaking documents, never a value. Writes REDACTED/_verify.json and
    exits with status 1 when the leak rate exceeds --max-leak, so that a pipeline can gate on it.
    """
    from deid.verify import VERIFY_NAME, format_report, verify_run

    report = verify_run(
        original,
        redacted,
        text_columns=text_columns,
        id_column=id_column,
        gold=gold,
        gold_labels=gold_labels or None,
        max_leak=max_leak,
        config=config_path,
        input_format=input_format,
        delimiter=delimiter,
    )
    click.echo(format_report(report))
    click.echo(f"wrote {redacted / VERIFY_NAME}")
    if not report.passed:
        raise click.ClickException(
            f"leak rate {report.leak_rate:.4%} ({report.leak_metric}) exceeds --max-leak {max_leak:.4%}"
        )
