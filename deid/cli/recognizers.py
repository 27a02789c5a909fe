"""``deid recognizers``: what the configured detection runs."""

from __future__ import annotations

import click

from deid.cli._common import domain_errors


@click.command(epilog="Example: deid recognizers --config configs/default.yaml")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None, help="YAML config.")
@domain_errors
def recognizers(config_path: str | None) -> None:
    """List the active recognizers with their entity types, sources and thresholds."""
    from deid.config import load_config
    from deid.detect.engine import Detector

    config = load_config(config_path)
    detector = Detector(config.detection)
    rows = detector.recognizers()
    width = max(len(r.name) for r in rows)
    click.echo(f"{'recognizer':<{width}}  source / entity types (min score)")
    for info in rows:
        types = ", ".join(f"{e} ({config.detection.threshold_for(e):.2f})" for e in info.entities)
        click.echo(f"{info.name:<{width}}  {info.source}: {types}")
