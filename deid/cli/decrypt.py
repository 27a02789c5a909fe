"""``deid decrypt``: reverse the ``encrypt`` operator."""

from __future__ import annotations

from pathlib import Path

import click

from deid.cli._common import domain_errors
from deid.cli._job_options import FORMATS


@click.command(epilog="Example: DEID_KEY_FILE=~/.deid/key deid decrypt out/notes restored --text-column note")
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.argument("output", metavar="OUTPUT", type=click.Path(path_type=Path))
@click.option(
    "--text-column", "text_columns", multiple=True, required=True, help="Column holding tokens (repeatable)."
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="YAML config (for the key settings).",
)
@click.option(
    "--input-format",
    type=click.Choice(FORMATS),
    default=None,
    help="Override the format guessed from the extension.",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing OUTPUT.")
@domain_errors
def decrypt(
    input_path: Path,
    output: Path,
    text_columns: tuple[str, ...],
    config_path: str | None,
    input_format: str | None,
    overwrite: bool,
) -> None:
    """Restore the original values of <ENC:...> tokens in INPUT (a redact output directory or a file).

    Needs the key the data was encrypted with. Tokens that fail authentication (other key,
    tampered text) are left as they are and counted.
    """
    from deid.config import load_config
    from deid.transform.decrypt import decrypt_table

    config = load_config(config_path)
    stats = decrypt_table(
        input_path, output, tuple(text_columns), config.key, input_format=input_format, overwrite=overwrite
    )
    click.echo(
        f"{stats.rows} rows, {stats.decrypted} values decrypted, {stats.failed} tokens not decrypted -> {output}"
    )
    if stats.failed:
        raise SystemExit(1)
