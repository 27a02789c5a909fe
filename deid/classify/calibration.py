"""Calibrated probabilities and a fail-safe threshold chosen from a stated goal.

A router's raw top probability is a poor fail-safe signal: a logistic head trained on 16 examples
per class is regularised towards uniform probabilities, so with three or more classes its top
probability rarely clears a fixed 0.6 and every document is escalated. Instead:

1. **Calibrate** on the training labels by cross-validation: out-of-fold log-probabilities, and the
   temperature ``T`` that minimises their negative log-likelihood. ``predict_proba`` then returns
   ``softmax(log p / T)``; the most probable class never changes.
2. **Choose the threshold from a goal** (:class:`FailSafeGoal`, default: the ``restricted`` tier's
   recall at least 0.9): the largest threshold ``t`` for which, out of fold, routing a document to the
   goal tier whenever the probability of the goal tier *or a stricter one* is at least ``t`` reaches
   the recall. The largest such ``t`` escalates the fewest documents. Escalation only moves a
   document to a stricter tier, never to a laxer one.

Both are stored in the model directory (``deid_classifier.json``: ``calibration`` and ``fail_safe``)
and described on the model card.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

logger = logging.getLogger(__name__)

_EPS = 1e-12


class FailSafeGoal(BaseModel):
    """What the fail-safe must achieve in cross-validation: ``tier``'s recall >= ``min_recall``.

    Recall here counts a document of ``tier`` (or a stricter tier) as found when it is routed to
    ``tier`` or a stricter one.
    """

    model_config = ConfigDict(extra="forbid")

    tier: str = "restricted"
    min_recall: float = Field(0.9, gt=0.0, le=1.0)


def log_proba(proba: np.ndarray) -> np.ndarray:
    """``log(proba)`` clipped away from zero (temperature scaling works on these as logits)."""
    return np.log(np.clip(np.asarray(proba, dtype=np.float64), _EPS, 1.0))


def apply_temperature(proba: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(log(proba) / temperature)`` row by row; ``temperature == 1`` returns ``proba``."""
    proba = np.asarray(proba, dtype=np.float64)
    if temperature == 1.0 or proba.size == 0:
        return proba
    scores = log_proba(proba) / temperature
    scores -= scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    return exp / exp.sum(axis=1, keepdims=True)


def _nll(scores: np.ndarray, y: np.ndarray, temperature: float) -> float:
    z = scores / temperature
    z = z - z.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(z).sum(axis=1))
    return float(np.mean(log_norm - z[np.arange(len(y)), y]))


def fit_temperature(proba: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """The temperature that minimises the negative log-likelihood of out-of-fold ``proba``.

    Args:
        proba: ``(n, k)`` out-of-fold probabilities.
        y: ``(n,)`` class indices.

    Returns:
        ``{"temperature", "nll_before", "nll_after"}`` (temperature searched in [0.05, 20]).
    """
    from scipy.optimize import minimize_scalar

    scores = log_proba(proba)
    y = np.asarray(y, dtype=np.int64)
    result = minimize_scalar(
        lambda log_t: _nll(scores, y, float(np.exp(log_t))),
        bounds=(np.log(0.05), np.log(20.0)),
        method="bounded",
    )
    temperature = float(np.exp(result.x))
    return {
        "temperature": round(temperature, 6),
        "nll_before": round(_nll(scores, y, 1.0), 6),
        "nll_after": round(_nll(scores, y, temperature), 6),
    }


def stricter_mask(classes: Sequence[str], tier_names: Sequence[str], tier: str) -> np.ndarray:
    """Boolean mask over ``classes``: the class is ``tier`` or a stricter tier.

    Raises:
        ValueError: ``tier`` is not a tier name.
    """
    if tier not in tier_names:
        raise ValueError(f"goal tier '{tier}' is not a tier ({', '.join(tier_names)})")
    rank = {name: i for i, name in enumerate(tier_names)}
    return np.asarray([rank.get(str(c), -1) >= rank[tier] for c in classes], dtype=bool)


def route_with_threshold(
    proba: np.ndarray,
    classes: Sequence[str],
    tier_names: Sequence[str],
    tier: str,
    threshold: float | None,
) -> tuple[list[str], list[str]]:
    """Route with the calibrated fail-safe.

    Each document goes to its most probable class; when that is laxer than ``tier`` and the summed
    probability of ``tier`` and every stricter class is at least ``threshold``, it goes to ``tier``.

    Returns:
        ``(routed, predicted)``: tier per document after and before the fail-safe.
    """
    classes = [str(c) for c in classes]
    proba = np.asarray(proba, dtype=np.float64)
    predicted = [classes[i] for i in proba.argmax(axis=1)] if len(proba) else []
    if threshold is None:
        return list(predicted), predicted
    mask = stricter_mask(classes, tier_names, tier)
    rank = {name: i for i, name in enumerate(tier_names)}
    risk = proba[:, mask].sum(axis=1) if len(proba) else np.zeros(0)
    routed = [
        tier if rank.get(p, -1) < rank[tier] and r >= threshold else p
        for p, r in zip(predicted, risk, strict=True)
    ]
    return routed, predicted


def choose_threshold(
    proba: np.ndarray,
    y: np.ndarray,
    classes: Sequence[str],
    tier_names: Sequence[str],
    goal: FailSafeGoal,
) -> dict[str, Any]:
    """The largest threshold that meets ``goal`` on out-of-fold ``proba``, and what it does there.

    Args:
        proba: ``(n, k)`` calibrated out-of-fold probabilities.
        y: ``(n,)`` gold class indices into ``classes``.
        classes: the classifier's classes (tier names).
        tier_names: all tiers, least strict first.
        goal: the goal tier and its minimum recall.

    Returns:
        ``{"threshold", "goal", "cv": {...}}``; ``threshold`` is ``None`` when the most probable
        class alone meets the goal (nothing needs escalating). ``cv`` holds the recall before and
        after, the number and share of escalated documents and macro-F1 before and after.

    Raises:
        ValueError: the goal tier is not a tier, or no class is the goal tier or stricter.
    """
    from deid.classify.evaluate import classification_metrics

    classes = [str(c) for c in classes]
    mask = stricter_mask(classes, tier_names, goal.tier)
    if not mask.any():
        raise ValueError(f"no class is '{goal.tier}' or stricter (classes: {', '.join(classes)})")
    proba = np.asarray(proba, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    risk = proba[:, mask].sum(axis=1)
    gold_risky = mask[y]
    predicted_risky = mask[proba.argmax(axis=1)]
    n_gold = int(gold_risky.sum())
    threshold: float | None = None
    if n_gold:
        needed = int(np.ceil(goal.min_recall * n_gold - 1e-9)) - int((gold_risky & predicted_risky).sum())
        if needed > 0:
            missed = np.sort(risk[gold_risky & ~predicted_risky])[::-1]
            threshold = float(missed[needed - 1])
    gold = [classes[i] for i in y]
    routed, predicted = route_with_threshold(proba, classes, tier_names, goal.tier, threshold)
    routed_risky = np.asarray([r in {c for c, m in zip(classes, mask, strict=True) if m} for r in routed])
    escalated = sum(r != p for r, p in zip(routed, predicted, strict=True))
    cv = {
        "n": len(y),
        "n_goal_tier": n_gold,
        "recall_before": round(float((gold_risky & predicted_risky).sum() / n_gold), 6) if n_gold else None,
        "recall_after": round(float((gold_risky & routed_risky).sum() / n_gold), 6) if n_gold else None,
        "escalated": escalated,
        "escalated_share": round(escalated / len(y), 6) if len(y) else 0.0,
        "macro_f1_before": classification_metrics(gold, predicted, labels=classes)["macro_f1"],
        "macro_f1_after": classification_metrics(gold, routed, labels=classes)["macro_f1"],
    }
    return {
        "threshold": None if threshold is None else round(threshold, 6),
        "goal": goal.model_dump(),
        "cv": cv,
    }


def cv_folds(y: np.ndarray, max_folds: int = 5) -> int:
    """Folds for stratified cross-validation: at most ``max_folds``, at most the smallest class size."""
    counts = np.bincount(np.asarray(y, dtype=np.int64))
    counts = counts[counts > 0]
    return int(max(2, min(max_folds, counts.min()))) if len(counts) else 2


def stratified_folds(y: np.ndarray, n_folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(train_idx, test_idx)`` pairs of a seeded stratified k-fold split.

    Classes with fewer members than folds put each member in its own fold (those folds then lack
    the class in training; the method still has to predict it).
    """
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(y, dtype=np.int64)
    n_folds = max(2, min(n_folds, len(y)))
    counts = np.bincount(y)
    if counts[counts > 0].min() >= n_folds:
        splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
        return [(tr, te) for tr, te in splitter.split(np.zeros(len(y)), y)]
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(y), dtype=np.int64)
    for cls in np.unique(y):
        members = np.flatnonzero(y == cls)
        rng.shuffle(members)
        fold_of[members] = np.arange(len(members)) % n_folds
    return [(np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)) for f in range(n_folds)]
