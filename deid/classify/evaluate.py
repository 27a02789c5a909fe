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
    model: DocumentClassifier, texts: Sequence[str], labels: Sequence[object]
) -> dict[str, Any]:
    """Predict ``texts`` and score against ``labels``.

    Metrics cover the labels that occur in the gold labels or the predictions (as scikit-learn's
    macro average does), ordered as ``model.classes_`` followed by any gold label the model does not
    know (those documents count as errors). Adds ``predict_seconds``.
    """
    started = time.perf_counter()
    predicted = model.predict(texts)
    seconds = time.perf_counter() - started
    seen = {str(y) for y in labels} | {str(y) for y in predicted}
    known = [str(c) for c in model.classes_ if str(c) in seen]
    extra = sorted(seen - set(known))
    metrics = classification_metrics(labels, predicted, labels=known + extra)
    metrics["predict_seconds"] = round(seconds, 2)
    return metrics


def format_metrics(metrics: dict[str, Any]) -> str:
    """A plain-text report: headline numbers, per-class table, confusion matrix."""
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
