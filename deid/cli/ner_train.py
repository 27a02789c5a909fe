"""``deid ner train``: fine-tune a token classifier from a YAML config."""

from __future__ import annotations

import click

from deid.cli._common import domain_errors


def _parse_override(value: str) -> tuple[str, object]:
    import yaml

    key, sep, raw = value.partition("=")
    if not sep or not key:
        raise click.BadParameter(f"expected KEY=VALUE, got '{value}'", param_hint="--set")
    return key.strip(), yaml.safe_load(raw)


@click.command(
    "train",
    epilog="Example: deid ner train --config configs/ner/default.yaml --overwrite",
)
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Training YAML (see configs/ner/).",
)
@click.option(
    "--set", "overrides", multiple=True, help="Override a config key, e.g. training.epochs=2 (repeatable)."
)
@click.option(
    "--output",
    "output_dir",
    type=click.Path(file_okay=False),
    help="Write the model here instead of output.dir.",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing model directory.")
@domain_errors
def train(config_path: str, overrides: tuple[str, ...], output_dir: str | None, overwrite: bool) -> None:
    """Fine-tune a token classifier for personal data and write a model directory.

    The model directory gets weights, label maps, the resolved config, dev metrics and a model card;
    the log and other run files go under output.runs_dir.
    """
    import yaml

    from deid.ner.config import load_train_config
    from deid.ner.train import train_model

    parsed = dict(_parse_override(value) for value in overrides)
    if output_dir:
        parsed["output.dir"] = output_dir
    config = load_train_config(config_path, parsed)
    config_text = yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
    result = train_model(config, config_text=config_text, config_path=config_path, overwrite=overwrite)
    dev = result.metrics.get("dev")
    summary = f"model written to {result.model_dir} ({result.steps} steps, {result.seconds / 60:.1f} min)"
    if dev:
        summary += f"; dev leak rate {dev['char']['leak_rate']:.4f}, char precision {dev['char']['char_precision']:.4f}"
    click.echo(summary)
