"""``deid detect``: find PII and write spans JSONL, without transforming anything."""

from __future__ import annotations

from pathlib import Path

import click

from deid.cli._common import domain_errors
from deid.cli._job_options import input_options


@click.command(
    epilog="Example: deid detect samples/notes.csv out/notes.spans.jsonl --text-column note --id-column id"
)
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.argument("output", metavar="OUTPUT.jsonl", type=click.Path(path_type=Path))
@input_options
@domain_errors
def detect(
    input_path: Path,
    output: Path,
    text_columns: tuple[str, ...],
    id_column: str | None,
    config_path: str | None,
    input_format: str | None,
    delimiter: str,
    workers: int | None,
    resume: bool,
    overwrite: bool,
    no_progress: bool,
) -> None:
    """Detect PII in INPUT and write one JSON line per row and text column to OUTPUT.jsonl.

    Each line is {"id": ..., "column": ..., "spans": [{"start", "end", "label", "score", "recognizer"}]}
    with offsets into the original text; the text itself is not written.
    """
    from deid.config import load_config
    from deid.run.job import JobSpec, run_job

    report = run_job(
        JobSpec(
            mode="detect",
            input=input_path,
            output=output,
            text_columns=tuple(text_columns),
            config=load_config(config_path),
            id_column=id_column,
            input_format=input_format,
            workers=workers,
            resume=resume,
            overwrite=overwrite,
            delimiter=delimiter,
            show_progress=not no_progress,
        )
    )
    found = sum(n for counts in report.entities.values() for n in counts.values())
    click.echo(f"{report.rows_out} rows, {found} spans written to {output} ({report.rows_rejected} rejected)")
