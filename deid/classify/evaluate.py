"""Metrics for document classifiers: accuracy, macro-F1, per-class precision/recall, confusion matrix."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from deid.classify.base import DocumentClassifier


def classification_metrics(
    y_true: Sequence[object], y_pred: Sequence[object], labels: Sequence[str] | None = None
) -> dict[str, Any]:
    """Score predictions against gold labels (all compared as strings).

    Args:
        y_true: gold labels.
        y_pred: predicted labels.
        labels: label order for the per-class table and the confusion matrix; default: the sorted
            union of gold and predicted labels. Macro-F1 averages over these labels.

    Returns:
        ``{"n", "accuracy", "macro_f1", "per_class": {label: {precision, recall, f1, support}},
        "confusion_matrix": {"labels": [...], "matrix": [[...]]}}``; matrix rows are gold labels,
        columns predictions. A label never predicted has precision 0 (not NaN).
    """
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    true = [str(y) for y in y_true]
    pred = [str(y) for y in y_pred]
    if len(true) != len(pred):
        raise ValueError(f"{len(true)} gold labels but {len(pred)} predictions")
    order = list(labels) if labels is not None else sorted(set(true) | set(pred))
    if not true:
        return {
            "n": 0,
            "accuracy": None,
            "macro_f1": None,
            "per_class": {},
            "confusion_matrix": {"labels": order, "matrix": []},
        }
    precision, recall, f1, support = precision_recall_fscore_support(
        true, pred, labels=order, average=None, zero_division=0
    )
    matrix = confusion_matrix(true, pred, labels=order)
    return {
        "n": len(true),
        "accuracy": round(float(accuracy_score(true, pred)), 6),
        "macro_f1": round(float(np.mean(f1)), 6),
        "per_class": {
            label: {
                "precision": round(float(p), 6),
                "recall": round(float(r), 6),
                "f1": round(float(f), 6),
                "support": int(s),
            }
            for label, p, r, f, s in zip(order, precision, recall, f1, support, strict=True)
        },
        "confusion_matrix": {"labels": order, "matrix": matrix.astype(int).tolist()},
    }


def evaluate_classifier(
    model: DocumentClassifier,
    texts: Sequence[str],
    labels: Sequence[object],
    *,
    tier_names: Sequence[str] | None = None,
    fail_safe: dict[str, Any] | None = None,
    min_confidence: float | None = None,
) -> dict[str, Any]:
    """Predict ``texts`` and score against ``labels``.

    Gold labels go through the model's label map first (a team's own labels). Metrics cover the
    labels that occur in the gold labels or the predictions (as scikit-learn's macro average does),
    ordered as ``model.classes_`` followed by any gold label the model does not know (those
    documents count as errors). Adds ``predict_seconds``.

    When ``tier_names`` is given and every class is a tier, adds ``routed``: the same metrics after
    the fail-safe (the model's own, or ``fail_safe`` / ``min_confidence`` if given, as
    :meth:`deid.classify.tiers.TierTaxonomy.route` applies them), the rule, and the escalations.
    """
    gold = [model.map_label(str(y)) for y in labels]
    started = time.perf_counter()
    proba = model.predict_proba(texts)
    seconds = time.perf_counter() - started
    predicted = [str(c) for c in model.classes_[np.argmax(proba, axis=1)]] if len(proba) else []
    seen = set(gold) | set(predicted)
    known = [str(c) for c in model.classes_ if str(c) in seen]
    extra = sorted(seen - set(known))
    metrics = classification_metrics(gold, predicted, labels=known + extra)
    metrics["predict_seconds"] = round(seconds, 2)
    classes = [str(c) for c in model.classes_]
    if tier_names is not None and set(classes) <= set(tier_names) and len(proba):
        from deid.classify.tiers import Tier, TierTaxonomy

        taxonomy = TierTaxonomy(
            tiers=[Tier(name=n, definition=n) for n in tier_names], min_confidence=min_confidence
        )
        routing = taxonomy.route(proba, classes, fail_safe if fail_safe is not None else model.fail_safe_)
        routed = classification_metrics(gold, routing.tiers, labels=known + extra)
        routed["rule"] = routing.rule
        routed["escalations"] = routing.escalations()
        routed["escalated"] = sum(routed["escalations"].values())
        metrics["routed"] = routed
    return metrics


def format_metrics(metrics: dict[str, Any]) -> str:
    """A plain-text report: headline numbers, per-class table, confusion matrix (and after the fail-safe)."""
    text = _format_block(metrics)
    routed = metrics.get("routed")
    if routed:
        moves = ", ".join(f"{k.replace('->', ' -> ')}: {v}" for k, v in routed["escalations"].items())
        text += (
            f"\n\nafter the fail-safe ({routed['rule']}): {routed['escalated']} documents escalated"
            + (f" ({moves})" if moves else "")
            + "\n"
            + _format_block(routed)
        )
    return text


def _format_block(metrics: dict[str, Any]) -> str:
    lines = [
        f"documents: {metrics['n']}  accuracy: {metrics['accuracy']:.4f}  macro-F1: {metrics['macro_f1']:.4f}",
        "",
    ]
    width = max([len("class")] + [len(k) for k in metrics["per_class"]])
    lines.append(f"{'class':<{width}}  precision  recall     f1  support")
    for label, row in metrics["per_class"].items():
        lines.append(
            f"{label:<{width}}  {row['precision']:9.4f}  {row['recall']:6.4f}  {row['f1']:.4f}  {row['support']:7d}"
        )
    cm = metrics["confusion_matrix"]
    lines += ["", "confusion matrix (rows: gold, columns: predicted)"]
    cell = max(5, *(len(str(v)) for row in cm["matrix"] for v in row)) if cm["matrix"] else 5
    lines.append(" " * width + "  " + " ".join(f"{i:>{cell}}" for i in range(len(cm["labels"]))))
    for i, (label, row) in enumerate(zip(cm["labels"], cm["matrix"], strict=True)):
        lines.append(f"{label:<{width}}  " + " ".join(f"{v:>{cell}}" for v in row) + f"   [{i}]")
    return "\n".join(lines)
