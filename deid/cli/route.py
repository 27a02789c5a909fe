"""``deid route``: classify documents by sensitivity tier and partition them, without redacting."""

from __future__ import annotations

from pathlib import Path

import click

from deid.cli._common import domain_errors
from deid.cli._job_options import FORMATS, input_options


@click.command(
    epilog="Example: deid route samples/notes.parquet out/routed --text-column note --router models/deid-router-minilm"
)
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.argument("output", metavar="OUTPUT", type=click.Path(path_type=Path))
@input_options
@click.option(
    "--router", type=click.Path(path_type=Path), required=True, help="Sensitivity classifier directory."
)
@click.option(
    "--output-format", type=click.Choice(FORMATS), default=None, help="Output format (default: the input's)."
)
@domain_errors
def route(
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
    router: Path,
    output_format: str | None,
) -> None:
    """Add a sensitivity tier (and its probability) to every row of INPUT and partition OUTPUT by tier.

    The text columns are joined to form each document. Below the taxonomy's min_confidence a
    document goes to the next stricter tier, never a laxer one. Texts are not changed.
    """
    from deid.config import load_config
    from deid.run.job import JobSpec, run_job

    report = run_job(
        JobSpec(
            mode="route",
            input=input_path,
            output=output,
            text_columns=tuple(text_columns),
            config=load_config(config_path),
            id_column=id_column,
            input_format=input_format,
            output_format=output_format,
            workers=workers,
            resume=resume,
            overwrite=overwrite,
            delimiter=delimiter,
            show_progress=not no_progress,
            router=router,
        )
    )
    tiers = ", ".join(f"{tier}: {n}" for tier, n in report.tiers.items())
    click.echo(f"{report.rows_out} rows routed to {output} ({tiers}; {report.rows_rejected} rejected)")
