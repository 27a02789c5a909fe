"""``deid route``: classify documents by sensitivity tier and partition them, without redacting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from deid.cli._common import domain_errors
from deid.cli._job_options import FORMATS, input_options, io_arguments, run_from_options


@click.command(
    epilog="Example: deid route samples/notes.parquet out/routed --text-column note --router models/deid-router-minilm"
)
@io_arguments("OUTPUT")
@input_options
@click.option(
    "--router", type=click.Path(path_type=Path), required=True, help="Sensitivity classifier directory."
)
@click.option(
    "--output-format", type=click.Choice(FORMATS), default=None, help="Output format (default: the input's)."
)
@domain_errors
def route(inputs: tuple[str, ...], output: str, **options: Any) -> None:
    """Add a sensitivity tier (and its probability) to every row of INPUT and partition OUTPUT by tier.

    The text columns are joined to form each document. The fail-safe moves an uncertain document to
    a stricter tier, never a laxer one: the router's calibrated threshold (chosen for a goal such as
    restricted recall >= 0.9 when it was trained), or the tiers file's min_confidence if set. The
    summary says how many documents were escalated, from which tier to which. Texts are not changed.
    """
    report = run_from_options("route", inputs, output, **options)
    tiers = ", ".join(f"{tier}: {n}" for tier, n in report.tiers.items())
    click.echo(f"{report.rows_out} rows routed to {output} ({tiers}; {report.rows_rejected} rejected)")
    click.echo(format_escalations(report.escalations, report.fail_safe))


def format_escalations(escalations: dict[str, int], rule: str | None) -> str:
    """One line: how many documents the fail-safe escalated, from which tier to which, and its rule."""
    total = sum(escalations.values())
    moves = ", ".join(f"{move.replace('->', ' -> ')}: {n}" for move, n in sorted(escalations.items()))
    return (
        f"fail-safe escalated {total} rows"
        + (f" ({moves})" if moves else "")
        + (f"; rule: {rule}" if rule else "")
    )
