"""Train a classifier from labelled documents and write its model directory."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from deid.classify.base import DocumentClassifier
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
    train = select_training_set(data, shots=shots, max_train=max_train, seed=seed)
    logger.info("training %s on %d documents", method, len(train))
    model.fit(train.texts, train.labels)
    metrics: dict[str, Any] = {"train": model.training_facts()}
    metrics["train"]["shots"] = shots
    if dev is not None:
        metrics["dev"] = {**evaluate_classifier(model, dev.texts, dev.labels), "data": dev_name or ""}
    if out_dir is not None:
        model.save(out_dir, overwrite=overwrite, metrics=metrics, description=description)
    return model, metrics
