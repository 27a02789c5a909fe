"""``deid scan``: profile a table's columns (free text, whole-cell identifiers, no PII) before redacting."""

from __future__ import annotations

import json
from pathlib import Path

import click

from deid.cli._common import domain_errors


@click.command(
    epilog=(
        "Example: deid scan samples/notes.parquet --id-column id --subject-column patient_id "
        "--write-config suggested.yaml"
    )
)
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("--sample", type=click.IntRange(min=1), default=500, show_default=True, help="Rows sampled.")
@click.option("--seed", type=int, default=0, show_default=True, help="Sampling seed.")
@click.option(
    "--config", "config_path", type=click.Path(dir_okay=False), default=None, help="YAML config (detection)."
)
@click.option("--id-column", default=None, help="Row id column (never suggested for transformation).")
@click.option(
    "--subject-column", default=None, help="Subject column (date columns get date_shift only with one)."
)
@click.option(
    "--input-format",
    type=click.Choice(["parquet", "csv", "jsonl"]),
    default=None,
    help="Override the format guessed from the extension.",
)
@click.option("--delimiter", default=",", show_default=True, help="CSV delimiter.")
@click.option(
    "--write-config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write a suggested config (columns: policies) for 'deid redact --config'.",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the scan as JSON.",
)
@click.option(
    "--safe-harbor",
    is_flag=True,
    help="Suggest a config over configs/hipaa-safe-harbor.yaml: identifiers dropped or generalised, every column named.",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing --write-config / --json file.")
@domain_errors
def scan(
    input_path: Path,
    sample: int,
    seed: int,
    config_path: str | None,
    id_column: str | None,
    subject_column: str | None,
    input_format: str | None,
    delimiter: str,
    write_config: Path | None,
    json_path: Path | None,
    safe_harbor: bool,
    overwrite: bool,
) -> None:
    """Profile INPUT's columns from a seeded sample and print one row per column.

    For each column: its type, the share of null cells, the entity types detection finds with the
    share of sampled cells holding each, and a verdict (free text, identifier of one type, or no PII
    found). Column names and types are hints (dob, *_name, email, zip, dates). No cell value is
    ever printed or written. --write-config writes a reviewed-before-use config for 'deid redact'.
    """
    from deid.config import load_config
    from deid.errors import OutputError
    from deid.scan import scan_table, write_suggested_config

    config = load_config(config_path)
    report = scan_table(
        input_path,
        sample=sample,
        seed=seed,
        config=config,
        id_column=id_column,
        subject_column=subject_column,
        input_format=input_format,
        delimiter=delimiter,
    )
    click.echo(report.format_table())
    found = sum(p.verdict != "no PII found" for p in report.columns)
    click.echo(
        f"\n{report.rows_sampled} of {report.rows_read} rows sampled; {found} of {len(report.columns)} columns hold PII"
    )
    if json_path is not None:
        if json_path.exists() and not overwrite:
            raise OutputError(f"{json_path}: already exists (use --overwrite to replace it)")
        json_path.write_text(json.dumps(report.to_json(), indent=2) + "\n", encoding="utf-8")
    if write_config is not None:
        extends = str(Path(config_path).resolve()) if config_path else "pseudonymize"
        path = write_suggested_config(
            report, write_config, extends=extends, safe_harbor=safe_harbor, overwrite=overwrite
        )
        click.echo(f"suggested config written to {path} (review it, then: deid redact ... --config {path})")
