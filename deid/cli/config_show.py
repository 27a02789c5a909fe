"""``deid config show``: the effective configuration after layering, with the source of each value."""

from __future__ import annotations

import click

from deid.cli._common import domain_errors


@click.command(epilog="Example: deid config show --config configs/pseudonymize.yaml")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="YAML config (default: configs/default.yaml).",
)
@domain_errors
def show(config_path: str | None) -> None:
    """Print the effective configuration as YAML, after merging the file over the profiles it extends.

    Each value that a file set ends with a comment naming that file; values without one are deid's
    built-in defaults. The output is itself a complete configuration (``extends: null`` semantics).
    """
    from deid.config import load_layered_config, render_effective_config

    click.echo(render_effective_config(load_layered_config(config_path)), nl=False)
