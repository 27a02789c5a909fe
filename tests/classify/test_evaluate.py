"""Metrics on hand-checked cases."""

from __future__ import annotations

import numpy as np
import pytest

from deid.classify.evaluate import classification_metrics, evaluate_classifier, format_metrics


def test_when_predictions_are_perfect_then_all_scores_are_one() -> None:
    m = classification_metrics(["a", "b", "a"], ["a", "b", "a"])
    assert m["accuracy"] == 1.0
    assert m["macro_f1"] == 1.0
    assert m["confusion_matrix"] == {"labels": ["a", "b"], "matrix": [[2, 0], [0, 1]]}


def test_when_hand_checked_case_then_scores_match() -> None:
    # gold a a a b b c ; pred a a b b c c
    # a: P=2/2 R=2/3 F1=0.8 ; b: P=1/2 R=1/2 F1=0.5 ; c: P=1/2 R=1/1 F1=2/3
    m = classification_metrics(list("aaabbc"), list("aabbcc"))
    assert m["accuracy"] == pytest.approx(4 / 6, abs=1e-6)
    assert m["per_class"]["a"] == {
        "precision": 1.0,
        "recall": pytest.approx(2 / 3, abs=1e-6),
        "f1": 0.8,
        "support": 3,
    }
    assert m["per_class"]["b"]["f1"] == 0.5
    assert m["per_class"]["c"]["precision"] == 0.5
    assert m["per_class"]["c"]["recall"] == 1.0
    assert m["macro_f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3, abs=1e-6)
    assert m["confusion_matrix"]["matrix"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]


def test_when_a_class_is_never_predicted_then_its_precision_is_zero_not_nan() -> None:
    m = classification_metrics(["a", "b"], ["a", "a"])
    assert m["per_class"]["b"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert m["macro_f1"] == pytest.approx((2 / 3 + 0) / 2, abs=1e-6)


def test_when_labels_are_given_then_they_order_the_matrix() -> None:
    m = classification_metrics(["x", "y"], ["y", "y"], labels=["y", "x"])
    assert m["confusion_matrix"] == {"labels": ["y", "x"], "matrix": [[1, 0], [1, 0]]}


class _Fixed:
    """A stand-in classifier that always predicts 'a'."""

    classes_ = np.asarray(["a", "b"], dtype=object)
    fail_safe_ = None

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return np.tile([0.9, 0.1], (len(texts), 1))

    def map_label(self, label: str) -> str:
        return label


def test_when_gold_has_a_label_the_model_lacks_then_it_counts_as_error() -> None:
    m = evaluate_classifier(_Fixed(), ["t1", "t2", "t3"], ["a", "b", "zzz"])  # type: ignore[arg-type]
    assert m["confusion_matrix"]["labels"] == ["a", "b", "zzz"]
    assert m["accuracy"] == pytest.approx(1 / 3, abs=1e-6)
    assert "macro-F1" in format_metrics(m)
