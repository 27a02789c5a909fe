"""``deid classify calibrate``: calibrate a saved classifier on held-out labels and set its fail-safe."""

from __future__ import annotations

from pathlib import Path

import click

from deid.classify._cli_common import set_threads, threads_option
from deid.cli._common import domain_errors


@click.command(
    "calibrate",
    epilog="Example: deid classify calibrate models/my-router held_out.parquet --text-column text "
    "--label-column tier --fail-safe-recall 0.9",
)
@click.argument("model_dir", type=click.Path(path_type=Path))
@click.argument("data_path", type=click.Path(path_type=Path))
@click.option("--text-column", default="text", show_default=True)
@click.option("--label-column", default="label", show_default=True)
@click.option(
    "--fail-safe-tier", default="restricted", show_default=True, help="Tier whose recall is protected."
)
@click.option(
    "--fail-safe-recall",
    type=click.FloatRange(0.0, 1.0, min_open=True),
    default=0.9,
    show_default=True,
    help="Minimum recall of that tier on DATA_PATH; the threshold escalates as few documents as that allows.",
)
@click.option(
    "--tiers",
    "tiers_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Tiers YAML (default: configs/tiers.yaml).",
)
@threads_option
@domain_errors
def calibrate(
    model_dir: Path,
    data_path: Path,
    text_column: str,
    label_column: str,
    fail_safe_tier: str,
    fail_safe_recall: float,
    tiers_path: Path | None,
    threads: int | None,
) -> None:
    """Fit MODEL_DIR's temperature and fail-safe threshold on DATA_PATH, labelled documents it was NOT trained on.

    For routers whose training did not calibrate them (supervised methods, older routers). The model
    directory's deid_classifier.json and model card are rewritten; the weights are untouched.
    """
    from deid._offline import ensure_offline

    ensure_offline()
    from deid._quiet import quiet_libraries
    from deid.classify.calibration import FailSafeGoal
    from deid.classify.data import read_labelled
    from deid.classify.train import calibrate_saved_model
    from deid.cli.classify_train import describe_calibration

    set_threads(threads)
    data = read_labelled(data_path, text_column, label_column)
    with quiet_libraries():
        model = calibrate_saved_model(
            model_dir,
            data,
            goal=FailSafeGoal(tier=fail_safe_tier, min_recall=fail_safe_recall),
            tiers_path=tiers_path,
            data_name=data_path.name,
        )
    click.echo(describe_calibration(model.calibration_, model.fail_safe_))
