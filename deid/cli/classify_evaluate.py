"""``deid classify evaluate``: score a classifier on labelled documents."""

from __future__ import annotations

from pathlib import Path

import click

from deid.classify._cli_common import set_threads, threads_option, write_json
from deid.cli._common import domain_errors


@click.command(
    "evaluate",
    epilog="Example: deid classify evaluate models/deid-router-minilm test.parquet --text-column text "
    "--label-column tier --out metrics.json",
)
@click.argument("model_dir", type=click.Path(path_type=Path))
@click.argument("data_path", type=click.Path(path_type=Path))
@click.option("--text-column", default="text", show_default=True)
@click.option("--label-column", default="label", show_default=True)
@click.option(
    "--out", "out_path", type=click.Path(path_type=Path), default=None, help="Also write the metrics as JSON."
)
@click.option(
    "--record",
    default=None,
    metavar="NAME",
    help="Also store the metrics in the model's metrics.json under NAME and refresh its model card.",
)
@click.option("--about", default=None, help="What DATA_PATH is, for the model card (default: its file name).")
@click.option(
    "--tiers",
    "tiers_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Tiers YAML for the after-fail-safe scores (default: configs/tiers.yaml).",
)
@threads_option
@domain_errors
def evaluate(
    model_dir: Path,
    data_path: Path,
    text_column: str,
    label_column: str,
    out_path: Path | None,
    record: str | None,
    about: str | None,
    tiers_path: Path | None,
    threads: int | None,
) -> None:
    """Accuracy, macro-F1, per-class precision/recall and the confusion matrix of MODEL_DIR on DATA_PATH.

    Gold labels go through the model's label map. When the classes are tiers, the same scores are
    also given after the fail-safe that `deid route` applies (the router's calibrated threshold, or
    the tiers file's min_confidence), with the number of escalated documents.
    """
    from deid._offline import ensure_offline

    ensure_offline()
    from deid._quiet import quiet_libraries
    from deid.classify.data import read_labelled
    from deid.classify.evaluate import evaluate_classifier, format_metrics
    from deid.classify.registry import load_classifier
    from deid.classify.tiers import load_tiers

    set_threads(threads)
    taxonomy = load_tiers(tiers_path)
    data = read_labelled(data_path, text_column, label_column)
    with quiet_libraries():
        model = load_classifier(model_dir)
        metrics = evaluate_classifier(
            model, data.texts, data.labels, tier_names=taxonomy.names, min_confidence=taxonomy.min_confidence
        )
    metrics["model"] = str(model_dir)
    metrics["method"] = model.method
    metrics["data"] = str(data_path)
    click.echo(format_metrics(metrics))
    if out_path is not None:
        write_json(out_path, metrics)
    if record is not None:
        from deid.classify.card import record_evaluation

        record_evaluation(model_dir, record, {**metrics, "data": about or data_path.name})
