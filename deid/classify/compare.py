"""Train several methods on one split at several label budgets and compare them."""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from deid.classify.data import LabelledTexts, stratified_subsample
from deid.classify.evaluate import evaluate_classifier
from deid.classify.registry import create_classifier, get_method
from deid.classify.train import MLM_METHODS, calibrate_after_fit, select_training_set

logger = logging.getLogger(__name__)

#: CPU-modest defaults used by ``deid classify compare`` (override per method with ``params``).
#: On 2 CPU cores shared with other jobs one MiniLM training step over 16 documents of 64 tokens
#: takes several seconds, so supervised runs one epoch (at least 20 steps, at most 125: one epoch of
#: 2,000 labels) and SetFit 20 pairs per example, at most 80 contrastive steps of 16 pairs (all the
#: pairs of 16 shots x 2 classes; with 20 steps SetFit at 16 shots trailed supervised on 2,000 SMS
#: by 7 macro-F1 points, with 80 by 0.7); the logistic head always sees every label. Give more
#: steps where there is more compute.
COMPARE_DEFAULTS: dict[str, dict[str, Any]] = {
    "supervised": {"epochs": 1, "min_steps": 20, "max_steps": 125},
    "setfit": {"num_iterations": 20, "max_steps": 80},
    "mlm-supervised": {"epochs": 1, "min_steps": 20, "max_steps": 125},
    "mlm-setfit": {"num_iterations": 20, "max_steps": 80},
}

#: Every method, cheapest first (the default of ``deid classify compare --methods``).
ALL_METHODS = (
    "tfidf",
    "zero-shot",
    "frozen",
    "pii-aware",
    "setfit",
    "supervised",
    "mlm-setfit",
    "mlm-supervised",
)


def parse_shots(spec: str) -> list[int | None]:
    """``"8,16,all"`` -> ``[8, 16, None]`` (``None``: all labels, up to ``max_train``)."""
    out: list[int | None] = []
    for part in spec.split(","):
        part = part.strip().lower()
        if not part:
            continue
        if part == "all":
            out.append(None)
        elif part.isdigit() and int(part) > 0:
            out.append(int(part))
        else:
            raise ValueError(f"shots must be positive integers or 'all', got {part!r}")
    return out


def compare_methods(
    train: LabelledTexts,
    test: LabelledTexts,
    *,
    methods: Sequence[str],
    shots: Sequence[int | None],
    seed: int = 0,
    max_train: int = 2000,
    max_test: int | None = 2000,
    unlabelled: Sequence[str] | None = None,
    max_unlabelled: int = 2000,
    mlm_params: dict[str, Any] | None = None,
    params: dict[str, dict[str, Any]] | None = None,
    base: str | None = None,
    tier_names: Sequence[str] | None = None,
    calibration: str = "auto",
) -> list[dict[str, Any]]:
    """Train every method at every label budget on the same samples and score them on ``test``.

    The samples for a budget are the same for all methods (same seed). MLM methods share one
    encoder adapted once on ``unlabelled`` (default: the training texts, at most ``max_unlabelled``);
    its time is reported as ``adapt_seconds``, separately from ``train_seconds``.

    Args:
        train: the labelled pool to sample training sets from.
        test: held-out documents (stratified subsample of ``max_test`` if larger).
        methods: registered method names.
        shots: examples per class; ``None`` = all (stratified cap at ``max_train``).
        seed: seeds sampling and training.
        max_train: cap on the "all" training set, to keep CPU runs in minutes.
        max_test: cap on the test set.
        unlabelled: MLM corpus.
        max_unlabelled: cap on the MLM corpus.
        mlm_params: keyword arguments for :func:`deid.mlm.adapt.adapt_encoder`.
        params: per-method parameter overrides (merged over ``COMPARE_DEFAULTS``).
        base: base encoder for all methods (``None``: the pinned one).
        tier_names: the tiers, least strict first; when every label is a tier, each method is
            calibrated after fitting (its time counts as training time) and rows also give the
            scores after its fail-safe. Otherwise nothing is calibrated.
        calibration: ``auto``, ``cv`` or ``none`` (see :func:`deid.classify.train.calibrate_after_fit`).

    Returns:
        One row per (method, shots): method, shots, n_train, macro_f1, accuracy, train_seconds
        (fit + calibration), calibrate_seconds, steps (optimisation steps of the fine-tuned methods:
        SetFit's contrastive steps, supervised's), adapt_seconds, predict_seconds, routed_macro_f1,
        goal_recall and escalated (on ``test`` after the fail-safe, tiers only), cv_goal_recall and
        threshold (the fail-safe chosen in cross-validation), metrics (full evaluation).
    """
    from deid.classify._embed import shared_frozen_embeddings

    for method in methods:
        get_method(method)
    if max_test is not None and len(test) > max_test:
        test = test.subset(stratified_subsample(test.labels, max_test, seed))
    rows: list[dict[str, Any]] = []
    adapted: Path | None = None
    adapt_seconds = None
    tmp_root = Path(tempfile.mkdtemp(prefix="deid-compare-"))
    routed_scores = tier_names is not None and set(train.labels) | set(test.labels) <= set(tier_names)
    with contextlib.ExitStack() as stack:
        stack.enter_context(shared_frozen_embeddings())
        stack.callback(shutil.rmtree, tmp_root, True)
        if any(m in MLM_METHODS for m in methods):
            from deid.mlm.adapt import adapt_encoder

            corpus = list(unlabelled) if unlabelled is not None else list(train.texts)
            if len(corpus) > max_unlabelled:
                import numpy as np

                pick = np.random.default_rng(seed).choice(len(corpus), size=max_unlabelled, replace=False)
                corpus = [corpus[i] for i in sorted(pick)]
            started = time.perf_counter()
            adapted = adapt_encoder(
                corpus, tmp_root / "mlm-encoder", base=base, seed=seed, **(mlm_params or {})
            )
            adapt_seconds = round(time.perf_counter() - started, 1)
            logger.info("MLM adaptation on %d texts took %.0fs", len(corpus), adapt_seconds)
        for budget in shots:
            sample = select_training_set(train, shots=budget, max_train=max_train, seed=seed)
            for method in methods:
                method_params = {
                    **COMPARE_DEFAULTS.get(method, {}),
                    **(params or {}).get(method, {}),
                    "seed": seed,
                }
                if method in MLM_METHODS:
                    method_params["adapted_encoder"] = str(adapted)
                    method_params.setdefault("base", base)
                elif base is not None:
                    method_params.setdefault("base", base)
                model = create_classifier(method, **method_params)
                logger.info("compare: %s, shots=%s, %d examples", method, budget or "all", len(sample))
                model.fit(sample.texts, sample.labels)
                # Calibration only changes what the fail-safe does: without tiers it is skipped.
                calibrate_after_fit(
                    model,
                    sample,
                    calibration=calibration if routed_scores else "none",
                    tier_names=tier_names,
                )
                calibrate_seconds = (model.calibration_ or {}).get("seconds", 0.0)
                metrics = evaluate_classifier(
                    model, test.texts, test.labels, tier_names=tier_names if routed_scores else None
                )
                routed = metrics.get("routed")
                goal = (model.fail_safe_ or {}).get("goal", {}).get("tier")
                rows.append(
                    {
                        "method": method,
                        "shots": "all" if budget is None else budget,
                        "n_train": len(sample),
                        "macro_f1": metrics["macro_f1"],
                        "accuracy": metrics["accuracy"],
                        "train_seconds": round(model.train_seconds_ + calibrate_seconds, 2),
                        "calibrate_seconds": calibrate_seconds,
                        "steps": getattr(model, "steps_", None),
                        "adapt_seconds": adapt_seconds if method in MLM_METHODS else None,
                        "predict_seconds": metrics["predict_seconds"],
                        "routed_macro_f1": routed["macro_f1"] if routed else None,
                        "goal_recall": (
                            routed["per_class"].get(goal, {}).get("recall") if routed and goal else None
                        ),
                        "escalated": routed["escalated"] if routed else None,
                        "cv_goal_recall": ((model.fail_safe_ or {}).get("cv") or {}).get("recall_after"),
                        "threshold": (model.fail_safe_ or {}).get("threshold"),
                        "metrics": metrics,
                    }
                )
                logger.info(
                    "compare: %s shots=%s macro-F1 %.4f, trained in %.1fs",
                    method,
                    budget or "all",
                    metrics["macro_f1"],
                    rows[-1]["train_seconds"],
                )
                del model
    return rows


def describe_caps(
    methods: Sequence[str],
    *,
    n_pool: int,
    n_test: int,
    max_train: int,
    max_test: int | None,
    params: dict[str, dict[str, Any]] | None = None,
    max_unlabelled: int | None = None,
    mlm_params: dict[str, Any] | None = None,
) -> list[str]:
    """What ``compare`` capped for CPU, one line per kind of cap (printed under the table).

    Args:
        methods: the compared methods.
        n_pool: labelled documents in the training pool.
        n_test: documents in the test file (before ``max_test``).
        max_train: cap on the "all" budget.
        max_test: cap on the test set.
        params: the per-method overrides (``--param``), merged over :data:`COMPARE_DEFAULTS`.
        max_unlabelled: cap on the MLM corpus.
        mlm_params: the MLM adaptation's parameters (``max_steps``, ``head_warmup_steps``).
    """
    lines = [
        f"'all' = {min(n_pool, max_train)} of {n_pool} labelled documents"
        + (" (stratified, --max-train)" if n_pool > max_train else "")
        + f"; test: {n_test if max_test is None else min(n_test, max_test)} of {n_test}"
        + (" (stratified, --max-test)" if max_test is not None and n_test > max_test else "")
    ]
    for method in methods:
        merged = {**COMPARE_DEFAULTS.get(method, {}), **(params or {}).get(method, {})}
        if method.endswith("setfit"):
            steps = merged.get("max_steps")
            lines.append(
                f"{method}: {merged.get('num_iterations', 20)} pairs per example, "
                + ("no cap on contrastive steps" if steps is None else f"at most {steps} contrastive steps")
                + " (column steps); the logistic head sees every label"
            )
        elif method.endswith("supervised"):
            lines.append(
                f"{method}: {merged.get('epochs', 1)} epoch(s), at least {merged.get('min_steps', 60)}"
                + ("" if merged.get("max_steps") is None else f", at most {merged['max_steps']}")
                + " steps (column steps)"
            )
    if any(m in MLM_METHODS for m in methods):
        mlm = mlm_params or {}
        lines.append(
            f"MLM adaptation (once, shared by mlm-*): {mlm.get('head_warmup_steps', 100)} head-only + "
            f"{mlm.get('max_steps', 60)} steps on at most {max_unlabelled} texts"
        )
    lines.append("override: --param METHOD.KEY=VALUE (e.g. setfit.max_steps=500), --max-train, --max-test")
    return lines


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """The comparison as a fixed-width text table (routed columns only when the labels are tiers)."""
    routed = any(r.get("routed_macro_f1") is not None for r in rows)
    header = (
        f"{'method':<15} {'shots':>5} {'n_train':>7} {'macro-F1':>8} {'accuracy':>8} {'train_s':>8} "
        f"{'steps':>5} {'adapt_s':>8}"
    )
    if routed:
        header += f" {'routed-F1':>9} {'goal-rec':>8} {'escalated':>9}"
    lines = [header, "-" * len(header)]
    for r in rows:
        adapt = "" if r["adapt_seconds"] is None else f"{r['adapt_seconds']:.0f}"
        line = (
            f"{r['method']:<15} {r['shots']!s:>5} {r['n_train']:>7} {r['macro_f1']:>8.4f} {r['accuracy']:>8.4f} "
            f"{r['train_seconds']:>8.1f} {'' if r.get('steps') is None else r['steps']:>5} {adapt:>8}"
        )
        if routed:
            f1, recall = r.get("routed_macro_f1"), r.get("goal_recall")
            line += (
                f" {'' if f1 is None else f'{f1:.4f}':>9} {'' if recall is None else f'{recall:.4f}':>8}"
                f" {'' if r.get('escalated') is None else r['escalated']:>9}"
            )
        lines.append(line)
    return "\n".join(lines)
