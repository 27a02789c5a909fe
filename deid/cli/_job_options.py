"""Input options shared by ``redact``, ``detect`` (and later ``route``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

FORMATS = ["parquet", "csv", "jsonl"]


def io_arguments(output_metavar: str = "OUTPUT") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add the ``INPUT... OUTPUT`` arguments: one or more inputs (files, directories, globs, URIs), one output.

    Both stay strings: a URI such as ``s3://bucket/key`` must not be turned into a local path.
    """

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        func = click.argument("output", metavar=output_metavar)(func)
        return click.argument("inputs", metavar="INPUT...", nargs=-1, required=True)(func)

    return decorate


def input_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add the shared input/run options to a command."""
    options = [
        click.option(
            "--text-column",
            "text_columns",
            multiple=True,
            help="Free-text column to process (repeatable; or 'text: true' under 'columns' in the config).",
        ),
        click.option(
            "--id-column", default=None, help="Row id column (ids must be unique; default: row numbers)."
        ),
        click.option(
            "--config",
            "config_path",
            type=click.Path(dir_okay=False),
            default=None,
            help="YAML config (default: configs/default.yaml).",
        ),
        click.option(
            "--input-format",
            type=click.Choice(FORMATS),
            default=None,
            help="Override the format guessed from the extension.",
        ),
        click.option("--delimiter", default=",", show_default=True, help="CSV delimiter."),
        click.option(
            "--workers",
            type=click.IntRange(min=1),
            default=None,
            help="Worker processes (default: every core).",
        ),
        click.option(
            "--resume",
            is_flag=True,
            help="Continue an interrupted run in OUTPUT (committed shards are kept).",
        ),
        click.option(
            "--overwrite", is_flag=True, help="Replace an existing OUTPUT (never one another run holds)."
        ),
        click.option(
            "--break-lock",
            is_flag=True,
            help="Break OUTPUT's lock left by a run on another host that is known to be dead.",
        ),
        click.option("--no-progress", is_flag=True, help="No progress bar or progress log lines."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def redact_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add the options of ``deid redact`` beyond the input options (subject, output format, router)."""
    options = [
        click.option(
            "--subject-column",
            default=None,
            help="Subject column (e.g. patient id): dates shift per subject.",
        ),
        click.option(
            "--output-format",
            type=click.Choice(FORMATS),
            default=None,
            help="Output format (default: the input's).",
        ),
        click.option(
            "--router",
            type=click.Path(path_type=Path),
            default=None,
            help="Sensitivity classifier dir: adds a tier column, applies the tier's policy, partitions OUTPUT by tier.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def run_from_options(
    mode: str, inputs: str | Path | tuple[str, ...] | list[str], output: str | Path, **options: Any
) -> Any:
    """Build a :class:`deid.run.job.JobSpec` from a command's parsed options and run it.

    ``inputs`` are the INPUT arguments (one or several files, directories, globs or URIs).

    Returns:
        The :class:`deid.run.job.RunReport`.
    """
    from deid.config import load_config
    from deid.run.job import JobSpec, run_job

    backend = options.pop("backend", "local")
    spark_master = options.pop("spark_master", None)
    if spark_master and backend != "spark":
        raise click.UsageError("--spark-master needs --backend spark")
    if isinstance(inputs, tuple | list):
        inputs = inputs[0] if len(inputs) == 1 else list(inputs)
    spec = JobSpec(
        mode=mode,  # type: ignore[arg-type]
        input=inputs,
        output=str(output) if "://" in str(output) else Path(output),
        text_columns=tuple(options.pop("text_columns")),
        config=load_config(options.pop("config_path")),
        show_progress=not options.pop("no_progress"),
        **options,
    )
    if backend == "spark":
        from deid.run.spark import run_spark

        return run_spark(spec, master=spark_master)
    return run_job(spec)
