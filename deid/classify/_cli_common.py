"""Helpers shared by the ``deid classify`` and ``deid mlm`` commands (click-side only)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from deid.errors import ConfigError, OutputError


def set_threads(threads: int | None) -> None:
    """Limit torch's intra-op threads (``None``: torch's default)."""
    if threads is not None:
        import torch

        torch.set_num_threads(threads)


def parse_params(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``("lr=1e-4", "store=full")`` -> ``{"lr": 0.0001, "store": "full"}`` (values parsed as YAML scalars)."""
    import yaml

    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--param expects KEY=VALUE, got {pair!r}")
        params[key.strip()] = yaml.safe_load(value) if value.strip() else None
    return params


def write_json(path: Path, data: Any, *, overwrite: bool = True) -> None:
    """Write JSON to a temporary name, then rename."""
    if path.exists() and not overwrite:
        raise OutputError(f"{path}: already exists")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".deid-tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


threads_option = click.option(
    "--threads", type=click.IntRange(min=1), default=None, help="Torch CPU threads (default: torch's choice)."
)
