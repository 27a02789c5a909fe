"""``deid keygen``: create a key file."""

from __future__ import annotations

import os
from pathlib import Path

import click

from deid.cli._common import domain_errors


@click.command(epilog="Example: deid keygen ~/.deid/key && export DEID_KEY_FILE=~/.deid/key")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace an existing key file (old pseudonyms can then not be reproduced).",
)
@domain_errors
def keygen(path: Path, overwrite: bool) -> None:
    """Write a new random key to PATH, readable only by you (mode 0600). The key is never printed."""
    from deid.errors import OutputError
    from deid.transform.keys import SecretKey, generate_key

    if path.exists() and not overwrite:
        raise OutputError(f"{path}: already exists (use --overwrite to replace it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    key = generate_key()
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    os.replace(tmp, path)
    click.echo(f"key written to {path} (fingerprint {SecretKey(key).fingerprint})")
