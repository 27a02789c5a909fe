"""``deid detect``: find PII and write spans JSONL, without transforming anything."""

from __future__ import annotations

from typing import Any

import click

from deid.cli._common import domain_errors
from deid.cli._job_options import input_options, io_arguments, run_from_options


@click.command(
    epilog="Example: deid detect samples/notes.csv out/notes.spans.jsonl --text-column note --id-column id"
)
@io_arguments("OUTPUT.jsonl")
@input_options
@domain_errors
def detect(inputs: tuple[str, ...], output: str, **options: Any) -> None:
    """Detect PII in INPUT and write one JSON line per row and text column to OUTPUT.jsonl.

    Each line is {"id": ..., "column": ..., "spans": [{"start", "end", "label", "score", "recognizer"}]}
    with offsets into the original text; the text itself is not written.
    """
    report = run_from_options("detect", inputs, output, **options)
    found = sum(n for counts in report.entities.values() for n in counts.values())
    click.echo(f"{report.rows_out} rows, {found} spans written to {output} ({report.rows_rejected} rejected)")
