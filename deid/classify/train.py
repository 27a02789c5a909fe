"""Train a classifier from labelled documents and write its model directory."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from deid.classify.base import DocumentClassifier
from deid.classify.calibration import FailSafeGoal
from deid.classify.data import LabelledTexts, sample_shots, stratified_subsample
from deid.classify.evaluate import evaluate_classifier
from deid.classify.registry import create_classifier
from deid.errors import ConfigError

logger = logging.getLogger(__name__)

#: Methods that adapt the encoder on an unlabelled corpus first.
MLM_METHODS = frozenset({"mlm-supervised", "mlm-setfit"})


def select_training_set(
    data: LabelledTexts, *, shots: int | None = None, max_train: int | None = None, seed: int = 0
) -> LabelledTexts:
    """Pick the examples to train on: ``shots`` per class (stratified, seeded) or a stratified
    subsample of at most ``max_train`` (``None``: everything)."""
    if shots is not None:
        return data.subset(sample_shots(data.labels, shots, seed))
    if max_train is not None and len(data) > max_train:
        logger.info("training on a stratified %d of %d examples (max_train)", max_train, len(data))
        return data.subset(stratified_subsample(data.labels, max_train, seed))
    return data


def parse_label_map(spec: str | None) -> dict[str, str]:
    """``"sensitive=restricted, business=internal"`` -> ``{"sensitive": "restricted", "business": "internal"}``.

    Raises:
        ConfigError: an entry without ``=`` or with an empty side, or a label mapped twice.
    """
    out: dict[str, str] = {}
    for part in (spec or "").split(","):
        if not part.strip():
            continue
        label, sep, target = part.partition("=")
        label, target = label.strip(), target.strip()
        if not sep or not label or not target:
            raise ConfigError(f"--label-map expects LABEL=CLASS[,LABEL=CLASS...], got {part.strip()!r}")
        if label in out:
            raise ConfigError(f"--label-map: label {label!r} is mapped twice")
        out[label] = target
    return out


def apply_label_map(data: LabelledTexts, label_map: dict[str, str] | None) -> LabelledTexts:
    """``data`` with each label replaced by ``label_map[label]`` (labels not in the map are kept).

    Raises:
        ConfigError: a label of the map does not occur in the data (a typo would silently do nothing).
    """
    if not label_map:
        return data
    missing = sorted(set(label_map) - set(data.labels))
    if missing:
        raise ConfigError(
            f"label map: {', '.join(missing)} not among the data's labels ({', '.join(sorted(set(data.labels)))})"
        )
    return LabelledTexts(list(data.texts), [label_map.get(y, y) for y in data.labels])


def calibrate_after_fit(
    model: DocumentClassifier,
    data: LabelledTexts,
    *,
    calibration: str = "auto",
    goal: FailSafeGoal | None = None,
    tier_names: Sequence[str] | None = None,
) -> dict[str, Any] | None:
    """Calibrate a freshly fitted ``model`` on its training set by cross-validation.

    Args:
        model: fitted on ``data`` (labels already mapped).
        data: the training set.
        calibration: ``auto`` (only where cross-validation is cheap: every method but ``supervised``
            and ``mlm-supervised``, which would retrain once per fold), ``cv`` (always) or ``none``.
        goal: the fail-safe goal.
        tier_names: the tiers, least strict first (default: ``configs/tiers.yaml``).

    Returns:
        The calibration and fail-safe (as stored on the model), or ``None`` when not calibrated.
    """
    if calibration not in ("auto", "cv", "none"):
        raise ConfigError(f"calibration must be auto, cv or none, got {calibration!r}")
    if calibration == "none" or (calibration == "auto" and not model.cheap_cross_validation):
        if calibration == "auto":
            logger.info(
                "%s: cross-validation would retrain once per fold; not calibrated (use calibration=cv, "
                "or `deid classify calibrate` with held-out labels)",
                model.method,
            )
        return None
    texts = None if model.cheap_cross_validation else data.texts
    return model.calibrate(texts, data.labels, goal=goal, tier_names=tier_names)


def train_classifier(
    method: str,
    data: LabelledTexts,
    out_dir: str | os.PathLike[str] | None = None,
    *,
    params: dict[str, Any] | None = None,
    shots: int | None = None,
    max_train: int | None = None,
    seed: int = 0,
    unlabelled: Sequence[str] | None = None,
    dev: LabelledTexts | None = None,
    dev_name: str | None = None,
    description: str | None = None,
    overwrite: bool = False,
    label_map: dict[str, str] | None = None,
    calibration: str = "auto",
    goal: FailSafeGoal | None = None,
    tiers_path: str | os.PathLike[str] | None = None,
) -> tuple[DocumentClassifier, dict[str, Any]]:
    """Train ``method`` on ``data`` and (if ``out_dir``) save the model directory.

    Args:
        method: a registered method name (``supervised``, ``setfit``, ``mlm-supervised``, ``mlm-setfit``).
        data: labelled documents.
        out_dir: where to save; ``None`` to only return the model.
        params: method parameters (see each class); ``seed`` is added unless given.
        shots: train on this many examples per class (stratified, seeded).
        max_train: otherwise cap the training set (stratified subsample).
        seed: seeds sampling and training.
        unlabelled: corpus for MLM adaptation (``mlm-*`` only; default: the training texts).
        dev: held-out documents to evaluate on; the result goes to ``metrics.json`` as ``dev``.
        dev_name: what ``dev`` is (a file name), for the model card.
        description: what the data is, for the model card.
        overwrite: replace an existing ``out_dir``.
        label_map: the team's label -> the class to train it as (e.g. a tier name); stored in the
            model directory and applied to gold labels by ``deid classify evaluate``.
        calibration: ``auto``, ``cv`` or ``none`` (see :func:`calibrate_after_fit`).
        goal: the fail-safe goal (default: restricted recall >= 0.9 in cross-validation).
        tiers_path: the tiers YAML (default: ``configs/tiers.yaml``).

    Returns:
        The fitted model and its metrics (``train`` facts, ``dev`` if given).

    Raises:
        ConfigError: unknown method/parameter, or ``unlabelled`` given to a non-MLM method.
    """
    params = dict(params or {})
    params.setdefault("seed", seed)
    if unlabelled is not None:
        if method not in MLM_METHODS:
            raise ConfigError(
                f"an unlabelled corpus is only used by {', '.join(sorted(MLM_METHODS))}, not '{method}'"
            )
        params["unlabelled"] = list(unlabelled)
    if out_dir is not None and Path(out_dir).exists() and not overwrite:
        from deid.errors import OutputError

        raise OutputError(f"{out_dir}: already exists (use --overwrite)")
    model = create_classifier(method, **params)
    data = apply_label_map(data, label_map)
    train = select_training_set(data, shots=shots, max_train=max_train, seed=seed)
    logger.info("training %s on %d documents", method, len(train))
    model.fit(train.texts, train.labels)
    model.label_map_ = dict(label_map) if label_map else None
    from deid.classify.tiers import load_tiers

    tier_names = load_tiers(tiers_path).names
    calibrate_after_fit(model, train, calibration=calibration, goal=goal, tier_names=tier_names)
    metrics: dict[str, Any] = {"train": model.training_facts()}
    metrics["train"]["shots"] = shots
    if dev is not None:
        dev = apply_label_map(dev, {k: v for k, v in (label_map or {}).items() if k in set(dev.labels)})
        metrics["dev"] = {
            **evaluate_classifier(model, dev.texts, dev.labels, tier_names=tier_names),
            "data": dev_name or "",
        }
    if out_dir is not None:
        model.save(out_dir, overwrite=overwrite, metrics=metrics, description=description)
    return model, metrics


def calibrate_saved_model(
    model_dir: str | os.PathLike[str],
    data: LabelledTexts,
    *,
    goal: FailSafeGoal | None = None,
    tiers_path: str | os.PathLike[str] | None = None,
    data_name: str | None = None,
) -> DocumentClassifier:
    """Calibrate a saved model on held-out labelled documents and store the result in its directory.

    The documents must not have been trained on: they are scored directly (no cross-validation),
    so this also serves methods whose cross-validation would retrain (``supervised``) and routers
    trained before calibration existed. Rewrites ``deid_classifier.json`` (``calibration``,
    ``fail_safe``) and the model card; the weights are untouched.

    Raises:
        ConfigError: not a classifier directory; a label that is not a class of the model.
    """
    import json

    from deid.classify.base import CARD_FILE, META_FILE, METRICS_FILE
    from deid.classify.card import render_model_card
    from deid.classify.registry import load_classifier
    from deid.classify.tiers import load_tiers

    root = Path(model_dir)
    model = load_classifier(root)
    result = model.calibrate(
        data.texts, data.labels, goal=goal, tier_names=load_tiers(tiers_path).names, held_out=True
    )
    if data_name:
        result["calibration"]["data"] = f"held-out: {data_name}"
    meta = json.loads((root / META_FILE).read_text())
    meta["calibration"], meta["fail_safe"] = result["calibration"], result["fail_safe"]
    metrics_path = root / METRICS_FILE
    metrics = json.loads(metrics_path.read_text()) if metrics_path.is_file() else {}
    for path, text in (
        (root / META_FILE, json.dumps(meta, indent=2, default=str) + "\n"),
        (root / CARD_FILE, render_model_card(meta, metrics, meta.get("description"))),
    ):
        tmp = path.with_name(path.name + ".deid-tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    return model
