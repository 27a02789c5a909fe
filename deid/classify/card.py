"""The model card (README.md) written into every classifier directory."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

_METHOD_TEXT = {
    "supervised": "the encoder and a linear classification head fine-tuned together with cross-entropy",
    "setfit": "SetFit: contrastive fine-tuning of the sentence encoder on sampled same/different-class pairs, "
    "then a logistic-regression head on its embeddings",
    "mlm-supervised": "the encoder first adapted to unlabelled text with masked-language modelling, then "
    "fine-tuned with a classification head (cross-entropy)",
    "mlm-setfit": "the encoder first adapted to unlabelled text with masked-language modelling, then SetFit "
    "(contrastive pairs + logistic head)",
    "frozen": "logistic regression on the frozen encoder's whole-document embeddings (windows mean-pooled)",
    "tfidf": "logistic regression on TF-IDF of words and word pairs",
    "zero-shot": "cosine similarity between each document and a description of each class (the tier "
    "definitions); no encoder training",
    "pii-aware": "logistic regression on the frozen encoder's embeddings plus the detector's entity counts per type",
}


def render_model_card(meta: dict[str, Any], metrics: dict[str, Any], description: str | None) -> str:
    """Markdown model card from the saved metadata, metrics and a free-text training description."""
    weights = meta["weights"]
    if weights.get("format") == "delta":
        stored = (
            f"only the {weights['n_tensors']} of {weights['n_tensors_total']} encoder tensors that training changed "
            f"({weights['dtype']}), applied over the base encoder `{weights['base']}` (checked by fingerprint "
            f"`{weights['base_fingerprint'][:19]}...`)"
        )
    else:
        stored = "the full weights"
    train = metrics.get("train", {})
    lines = [
        f"# deid document classifier ({meta['method']})",
        "",
        f"Method: {_METHOD_TEXT.get(meta['method'], meta['method'])}.",
        "",
        f"Classes (column order of `predict_proba`): {', '.join(f'`{c}`' for c in meta['classes'])}.",
        "",
        "## Training data",
        "",
        description or "Not described by the trainer.",
        "",
        f"Examples: {train.get('n_examples')} ({_counts(train.get('class_counts'))}); "
        f"training time: {train.get('train_seconds')} s.",
        "",
        "## Evaluation",
        "",
    ]
    evaluated = [
        (name, m)
        for name, m in metrics.items()
        if name != "train" and isinstance(m, dict) and "macro_f1" in m
    ]
    if evaluated:
        lines += ["| split | data | documents | accuracy | macro-F1 |", "| --- | --- | --- | --- | --- |"]
        lines += [
            f"| {name} | {m.get('data', '')} | {m['n']} | {m['accuracy']:.4f} | {m['macro_f1']:.4f} |"
            for name, m in evaluated
        ]
        lines.append("")
        lines.append("Per-class precision/recall and confusion matrices: `metrics.json`.")
    else:
        lines.append(
            "No held-out evaluation was recorded. Run `deid classify evaluate` on your own labelled data."
        )
    lines += ["", *_calibration_lines(meta)]
    lines += [
        "",
        "## Usage",
        "",
        "```python",
        "from deid.classify import load_classifier",
        "model = load_classifier('path/to/this/directory')",
        "model.predict(['some document'])        # class names",
        "model.predict_proba(['some document'])  # columns in model.classes_ order",
        "```",
        "",
        "## Storage",
        "",
        f"Weights: {stored}. Parameters: `deid_classifier.json`.",
        "",
        "## Limitations",
        "",
        "A classifier is only as good as the labels it learnt from. Check it on documents from your own "
        "organisation before relying on it, and prefer a model trained on your own labels "
        "(`deid classify train`). Uncertain predictions fall back to a stricter tier (see Fail-safe).",
        "",
    ]
    return "\n".join(lines)


def _calibration_lines(meta: dict[str, Any]) -> list[str]:
    """The model card's section on label mapping, calibration and the fail-safe threshold."""
    lines = ["## Calibration and fail-safe", ""]
    label_map = meta.get("label_map")
    if label_map:
        lines += [
            "Label map (your label -> class trained as; `deid classify evaluate` applies it to gold labels): "
            + ", ".join(f"`{k}` -> `{v}`" for k, v in label_map.items())
            + ".",
            "",
        ]
    calibration = meta.get("calibration")
    if not calibration:
        lines.append(
            "Not calibrated: `deid route` falls back to the fixed rule (top probability below 0.6 -> one tier "
            "stricter). Calibrate with `deid classify calibrate MODEL HELD_OUT_DATA`."
        )
        return lines
    lines.append(
        f"Probabilities are temperature-scaled (T = {calibration['temperature']:.4f}), fitted on "
        f"{calibration['n']} documents ({calibration['data']}): log-loss {calibration['nll_before']:.4f} -> "
        f"{calibration['nll_after']:.4f}."
    )
    if calibration.get("bias"):
        lines += ["", f"Bias of this calibration: {calibration['bias']}"]
    fail_safe = meta.get("fail_safe")
    if not fail_safe:
        lines += ["", "No fail-safe threshold: the classes are not all tiers."]
        return lines
    goal, cv, threshold = fail_safe["goal"], fail_safe["cv"], fail_safe["threshold"]
    lines += [
        "",
        f"Goal: `{goal['tier']}` recall >= {goal['min_recall']} ({calibration['data']}), with as few escalations "
        "as that allows.",
        "",
        (
            f"Threshold: a document goes to `{goal['tier']}` when its probability of `{goal['tier']}` or a stricter "
            f"tier is at least {threshold:.4f}, whatever its most probable tier."
            if threshold is not None
            else "Threshold: none needed (the most probable tier alone met the goal)."
        ),
        "",
        "| on the calibration data | before the fail-safe | after |",
        "| --- | --- | --- |",
        f"| {goal['tier']} recall | {cv['recall_before']} | {cv['recall_after']} |",
        f"| macro-F1 | {cv['macro_f1_before']} | {cv['macro_f1_after']} |",
        f"| documents escalated | - | {cv['escalated']} of {cv['n']} |",
        "",
        "A tiers file that sets `min_confidence` overrides this threshold for every router.",
    ]
    return lines


def record_evaluation(model_dir: str | os.PathLike[str], name: str, metrics: dict[str, Any]) -> None:
    """Add an evaluation under ``name`` to a model directory's ``metrics.json`` and refresh its card.

    Raises:
        ConfigError: not a classifier directory, or ``name`` is ``train``.
    """
    from deid.classify.base import CARD_FILE, META_FILE, METRICS_FILE
    from deid.errors import ConfigError

    root = Path(model_dir)
    if name == "train":
        raise ConfigError("'train' is reserved for the training facts")
    if not (root / META_FILE).is_file():
        raise ConfigError(f"{root}: not a deid classifier directory (no {META_FILE})")
    meta = json.loads((root / META_FILE).read_text())
    metrics_path = root / METRICS_FILE
    all_metrics = json.loads(metrics_path.read_text()) if metrics_path.is_file() else {}
    all_metrics[name] = metrics
    for path, text in (
        (metrics_path, json.dumps(all_metrics, indent=2) + "\n"),
        (root / CARD_FILE, render_model_card(meta, all_metrics, meta.get("description"))),
    ):
        tmp = path.with_name(path.name + ".deid-tmp")
        tmp.write_text(text)
        os.replace(tmp, path)


def _counts(counts: dict[str, int] | None) -> str:
    if not counts:
        return "per-class counts unknown"
    return ", ".join(f"{k}: {v}" for k, v in counts.items())
