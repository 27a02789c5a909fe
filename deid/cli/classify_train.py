"""``deid classify train``: train a document (sensitivity) classifier."""

from __future__ import annotations

from pathlib import Path

import click

from deid.classify._cli_common import parse_params, set_threads, threads_option
from deid.cli._common import domain_errors


@click.command(
    "train",
    epilog="Example: deid classify train --method setfit --data labelled.parquet --text-column text "
    "--label-column tier --shots 16 --out models/my-router",
)
@click.option(
    "--method",
    default=None,
    help="supervised | setfit | mlm-supervised | mlm-setfit | frozen | tfidf | zero-shot | pii-aware "
    "(mlm-*: adapt the encoder on unlabelled text first).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    help="YAML with method, params, shots, seed... (see configs/classify/); options override it.",
)
@click.option(
    "--data",
    "data_path",
    default=None,
    type=click.Path(path_type=Path),
    help="Labelled documents (Parquet/CSV/TSV/JSONL). Required except for zero-shot, which without "
    "data routes to every tier of the tiers file by its definition.",
)
@click.option("--text-column", default=None, help="Text column [default: text].")
@click.option("--label-column", default=None, help="Label column [default: label].")
@click.option(
    "--out", "out_dir", required=True, type=click.Path(path_type=Path), help="Model directory to write."
)
@click.option(
    "--shots",
    type=click.IntRange(min=1),
    default=None,
    help="Train on K examples per class (stratified, seeded).",
)
@click.option(
    "--max-train",
    type=click.IntRange(min=2),
    default=None,
    help="Otherwise cap the training set (stratified).",
)
@click.option("--seed", type=int, default=None, help="Seeds sampling and training [default: 0].")
@click.option(
    "--unlabelled",
    "unlabelled_path",
    type=click.Path(path_type=Path),
    default=None,
    help="mlm-*: unlabelled corpus (default: the training texts).",
)
@click.option(
    "--unlabelled-text-column", default=None, help="Text column of --unlabelled (default: --text-column)."
)
@click.option(
    "--dev",
    "dev_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Held-out labelled documents, evaluated into metrics.json.",
)
@click.option("--base", default=None, help="Base encoder directory (default: the pinned all-MiniLM-L6-v2).")
@click.option("--epochs", type=float, default=None, help="Training epochs (method default if unset).")
@click.option("--max-steps", type=click.IntRange(min=1), default=None, help="Cap on optimisation steps.")
@click.option("--lr", type=float, default=None, help="Learning rate of the encoder.")
@click.option("--batch-size", type=click.IntRange(min=1), default=None)
@click.option("--max-length", type=click.IntRange(min=8), default=None, help="Tokens per document.")
@click.option(
    "--param", "extra", multiple=True, metavar="KEY=VALUE", help="Any other method parameter (repeatable)."
)
@click.option(
    "--label-map",
    default=None,
    metavar="LABEL=CLASS,...",
    help="Train your labels as these classes (e.g. sensitive=restricted,business=internal); stored in "
    "the model directory, so your labels route without renaming data. Config key: label_map.",
)
@click.option(
    "--calibration",
    type=click.Choice(["auto", "cv", "none"]),
    default=None,
    help="Calibrate probabilities by cross-validation on the training labels: auto (where cheap: all "
    "but supervised/mlm-supervised), cv (always), none [default: auto].",
)
@click.option(
    "--fail-safe-tier",
    default=None,
    help="Tier whose recall the fail-safe threshold protects [default: restricted].",
)
@click.option(
    "--fail-safe-recall",
    type=click.FloatRange(0.0, 1.0, min_open=True),
    default=None,
    help="Minimum cross-validated recall of that tier; the threshold escalates as few documents as "
    "that allows [default: 0.9].",
)
@click.option(
    "--tiers",
    "tiers_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Tiers YAML (default: configs/tiers.yaml).",
)
@click.option("--description", default=None, help="What the training data is, for the model card.")
@click.option("--overwrite", is_flag=True, help="Replace an existing --out directory.")
@threads_option
@domain_errors
def train(
    method: str | None,
    config_path: Path | None,
    data_path: Path | None,
    text_column: str | None,
    label_column: str | None,
    out_dir: Path,
    shots: int | None,
    max_train: int | None,
    seed: int | None,
    unlabelled_path: Path | None,
    unlabelled_text_column: str | None,
    dev_path: Path | None,
    base: str | None,
    epochs: float | None,
    max_steps: int | None,
    lr: float | None,
    batch_size: int | None,
    max_length: int | None,
    extra: tuple[str, ...],
    label_map: str | None,
    calibration: str | None,
    fail_safe_tier: str | None,
    fail_safe_recall: float | None,
    tiers_path: Path | None,
    description: str | None,
    overwrite: bool,
    threads: int | None,
) -> None:
    """Train a sensitivity classifier and write its model directory (weights, model card, metrics.json).

    Methods: supervised, setfit, mlm-supervised, mlm-setfit, frozen, tfidf, zero-shot, pii-aware.
    After training, probabilities are calibrated by cross-validation on the training labels and,
    when the classes are tiers, the fail-safe threshold is chosen for the goal (default: restricted
    recall >= 0.9 with as few escalations as that allows); both are stored with the model.
    """
    from deid._offline import ensure_offline

    ensure_offline()
    from deid._quiet import quiet_libraries
    from deid.classify.calibration import FailSafeGoal
    from deid.classify.config import ClassifierTrainConfig, load_train_config
    from deid.classify.data import read_labelled, read_texts
    from deid.classify.evaluate import format_metrics
    from deid.classify.registry import get_method
    from deid.classify.train import parse_label_map, train_classifier
    from deid.errors import ConfigError

    set_threads(threads)
    if config_path is not None:
        config = load_train_config(config_path)
    elif method is not None:
        config = ClassifierTrainConfig(method=method)
    else:
        raise ConfigError("give --method or --config")
    method = method or config.method
    get_method(method)  # fail fast on a typo, before reading data
    text_column = text_column or config.text_column or "text"
    label_column = label_column or config.label_column or "label"
    shots = shots if shots is not None else config.shots
    max_train = max_train if max_train is not None else config.max_train
    seed = seed if seed is not None else (config.seed if config.seed is not None else 0)
    description = description or config.description
    params = {**(config.params if method == config.method else {}), **parse_params(extra)}
    for name, value in (
        ("base", base),
        ("epochs", epochs),
        ("max_steps", max_steps),
        ("lr", lr),
        ("batch_size", batch_size),
        ("max_length", max_length),
    ):
        if value is not None:
            params[name] = int(value) if name == "epochs" and method.endswith("setfit") else value
    labels_mapped = {**config.label_map, **parse_label_map(label_map)}
    goal = FailSafeGoal(
        tier=fail_safe_tier or config.fail_safe.tier,
        min_recall=fail_safe_recall if fail_safe_recall is not None else config.fail_safe.min_recall,
    )
    tiers_file = str(tiers_path) if tiers_path is not None else config.tiers
    if data_path is None:
        if method != "zero-shot":
            raise ConfigError(
                f"--data is required for method '{method}' (only zero-shot trains without labels)"
            )
        from deid.classify.registry import create_classifier

        with quiet_libraries():
            model = create_classifier(method, **{**params, "tiers": params.get("tiers", tiers_file)})
            model.from_descriptions()  # type: ignore[attr-defined]
            model.save(
                out_dir, overwrite=overwrite, description=description or "no labelled data: tier definitions"
            )
        click.echo(f"zero-shot router over {', '.join(map(str, model.classes_))} (no labels) -> {out_dir}")
        click.echo(describe_calibration(None, None))
        return
    data = read_labelled(data_path, text_column, label_column)
    unlabelled = (
        read_texts(unlabelled_path, unlabelled_text_column or text_column) if unlabelled_path else None
    )
    dev = read_labelled(dev_path, text_column, label_column) if dev_path else None
    if description is None:
        description = f"`{data_path.name}` (text column `{text_column}`, labels `{label_column}`)" + (
            f", {shots} examples per class (seed {seed})" if shots else ""
        )
    with quiet_libraries():
        model, metrics = train_classifier(
            method,
            data,
            out_dir,
            params=params,
            shots=shots,
            max_train=max_train,
            seed=seed,
            unlabelled=unlabelled,
            dev=dev,
            dev_name=dev_path.name if dev_path else None,
            description=description,
            overwrite=overwrite,
            label_map=labels_mapped or None,
            calibration=calibration or config.calibration,
            goal=goal,
            tiers_path=tiers_file,
        )
    facts = metrics["train"]
    click.echo(
        f"trained {method} on {facts['n_examples']} documents ({', '.join(map(str, model.classes_))}) "
        f"in {facts['train_seconds']:.1f}s -> {out_dir}"
    )
    click.echo(describe_calibration(model.calibration_, model.fail_safe_))
    if "dev" in metrics:
        click.echo(format_metrics(metrics["dev"]))


def describe_calibration(calibration: dict[str, object] | None, fail_safe: dict[str, object] | None) -> str:
    """One or two lines on the calibration and the fail-safe threshold (for the console)."""
    if calibration is None:
        return "not calibrated: routing falls back to min_confidence 0.6 (see `deid classify calibrate`)"
    line = (
        f"calibrated ({calibration['data']}, {calibration['seconds']}s): temperature {calibration['temperature']:.3f}, "
        f"log-loss {calibration['nll_before']:.3f} -> {calibration['nll_after']:.3f}"
    )
    if not fail_safe:
        return line + "\nno fail-safe threshold (the classes are not all tiers)"
    goal, cv = fail_safe["goal"], fail_safe["cv"]
    assert isinstance(goal, dict) and isinstance(cv, dict)
    threshold = fail_safe["threshold"]
    rule = "no escalation needed" if threshold is None else f"threshold {threshold:.4f}"
    return line + (
        f"\nfail-safe for {goal['tier']} recall >= {goal['min_recall']}: {rule}; in cross-validation "
        f"recall {cv['recall_before']} -> {cv['recall_after']}, {cv['escalated']} of {cv['n']} escalated, "
        f"macro-F1 {cv['macro_f1_before']} -> {cv['macro_f1_after']}"
    )
