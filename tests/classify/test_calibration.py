"""Calibration (temperature by cross-validation), the fail-safe threshold chosen from a goal, label maps."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from deid.classify.calibration import (
    FailSafeGoal,
    apply_temperature,
    choose_threshold,
    fit_temperature,
    route_with_threshold,
    stratified_folds,
)
from deid.classify.data import LabelledTexts
from deid.classify.train import apply_label_map, calibrate_saved_model, parse_label_map, train_classifier
from deid.errors import ConfigError

TIERS = ["public", "internal", "confidential", "restricted"]
CLASSES = ["confidential", "internal", "restricted"]  # sorted, as classes_ are


def test_when_probabilities_are_underconfident_then_fitted_temperature_sharpens_them() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=300)
    # Right 90% of the time, but always with a timid top probability of 0.4.
    predicted = np.where(rng.random(300) < 0.9, y, (y + 1) % 3)
    proba = np.full((300, 3), 0.3)
    proba[np.arange(300), predicted] = 0.4
    fitted = fit_temperature(proba, y)
    assert fitted["temperature"] < 0.5
    assert fitted["nll_after"] < fitted["nll_before"]
    sharpened = apply_temperature(proba, fitted["temperature"])
    assert (sharpened.argmax(axis=1) == predicted).all()
    assert sharpened.max(axis=1).min() > 0.6


def test_when_temperature_is_one_then_probabilities_are_unchanged() -> None:
    proba = np.array([[0.2, 0.8], [0.6, 0.4]])
    np.testing.assert_allclose(apply_temperature(proba, 1.0), proba)


def _scenario() -> tuple[np.ndarray, np.ndarray]:
    """Ten restricted documents, three of them predicted laxer with P(restricted) 0.45, 0.30, 0.05."""
    rows, y = [], []
    for _ in range(7):
        rows.append([0.1, 0.1, 0.8])
        y.append(2)
    for p in (0.45, 0.30, 0.05):
        rows.append([1 - p - 0.01, 0.01, p])
        y.append(2)
    for p in (0.40, 0.20, 0.10, 0.02):  # confidential documents with some restricted probability
        rows.append([1 - p - 0.01, 0.01, p])
        y.append(0)
    for _ in range(5):
        rows.append([0.05, 0.9, 0.05])
        y.append(1)
    return np.array(rows), np.array(y)


def test_when_goal_needs_escalation_then_the_largest_threshold_that_meets_it_is_chosen() -> None:
    proba, y = _scenario()
    chosen = choose_threshold(proba, y, CLASSES, TIERS, FailSafeGoal(tier="restricted", min_recall=0.9))
    # 7/10 found by the argmax; 9/10 needs the 0.45 and 0.30 documents: threshold 0.30
    assert chosen["threshold"] == pytest.approx(0.30)
    cv = chosen["cv"]
    assert cv["recall_before"] == pytest.approx(0.7) and cv["recall_after"] == pytest.approx(0.9)
    # escalated: the two restricted documents and the confidential one at 0.40 (nothing else)
    assert cv["escalated"] == 3
    routed, predicted = route_with_threshold(proba, CLASSES, TIERS, "restricted", chosen["threshold"])
    assert sum(r != p for r, p in zip(routed, predicted, strict=True)) == 3


@pytest.mark.parametrize(("recall", "expected"), [(0.7, None), (0.8, 0.45), (1.0, 0.05)])
def test_when_goal_is_stricter_then_threshold_is_lower(recall: float, expected: float | None) -> None:
    proba, y = _scenario()
    chosen = choose_threshold(proba, y, CLASSES, TIERS, FailSafeGoal(min_recall=recall))
    assert chosen["threshold"] == (None if expected is None else pytest.approx(expected))
    assert chosen["cv"]["recall_after"] >= recall - 1e-9


def test_when_routing_then_a_document_is_never_moved_to_a_laxer_tier() -> None:
    proba = np.array([[0.05, 0.05, 0.9], [0.2, 0.7, 0.1]])
    routed, predicted = route_with_threshold(proba, CLASSES, TIERS, "confidential", 0.95)
    assert routed == predicted == ["restricted", "internal"]
    routed, _ = route_with_threshold(proba, CLASSES, TIERS, "confidential", 0.25)
    assert routed == ["restricted", "confidential"]  # P(confidential or stricter) = 0.3 >= 0.25


def test_when_goal_tier_is_not_a_tier_then_value_error() -> None:
    proba, y = _scenario()
    with pytest.raises(ValueError, match="not a tier"):
        choose_threshold(proba, y, CLASSES, TIERS, FailSafeGoal(tier="secret"))


def test_when_a_class_has_fewer_members_than_folds_then_every_document_is_held_out_once() -> None:
    y = np.array([0, 0, 0, 0, 0, 1, 1, 2])
    folds = stratified_folds(y, 4, seed=0)
    held_out = np.sort(np.concatenate([test for _, test in folds]))
    np.testing.assert_array_equal(held_out, np.arange(len(y)))
    for train, test in folds:
        assert not set(train) & set(test)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("sensitive=restricted, business=internal", {"sensitive": "restricted", "business": "internal"}),
        ("", {}),
        (None, {}),
    ],
)
def test_when_label_map_is_parsed_then_pairs_are_returned(spec: str | None, expected: dict[str, str]) -> None:
    assert parse_label_map(spec) == expected


@pytest.mark.parametrize(
    ("spec", "message"), [("sensitive", "LABEL=CLASS"), ("a=b,a=c", "mapped twice"), ("=x", "LABEL")]
)
def test_when_label_map_is_malformed_then_config_error(spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_label_map(spec)


def test_when_label_map_names_a_label_absent_from_the_data_then_config_error() -> None:
    data = LabelledTexts(["a", "b"], ["business", "personal"])
    with pytest.raises(ConfigError, match="sensitiv"):
        apply_label_map(data, {"sensitiv": "restricted"})
    assert apply_label_map(data, {"business": "internal"}).labels == ["internal", "personal"]


def _team_data(n: int = 8) -> LabelledTexts:
    """A team's own labels: business / personal / sensitive."""
    texts, labels = [], []
    for i in range(n):
        texts += [
            f"Quarterly sales review meeting {i}: pipeline, pricing and targets for the region.",
            f"Hi mum, dinner on Sunday {i}? I will bring the cake and the kids.",
            f"Privileged legal advice {i}: the employee's disciplinary hearing and SSN 123-45-67{i:02d}.",
        ]
        labels += ["business", "personal", "sensitive"]
    return LabelledTexts(texts, labels)


def test_when_training_with_a_label_map_then_the_router_learns_tiers_and_remembers_the_map(
    tiny_encoder: Path, tmp_path: Path
) -> None:
    from deid.classify import load_classifier
    from deid.classify.evaluate import evaluate_classifier

    label_map = {"business": "internal", "personal": "confidential", "sensitive": "restricted"}
    model, metrics = train_classifier(
        "frozen",
        _team_data(),
        tmp_path / "router",
        params={"base": str(tiny_encoder)},
        label_map=label_map,
        dev=_team_data(3),
        dev_name="team dev",
    )
    assert list(model.classes_) == ["confidential", "internal", "restricted"]
    meta = json.loads((tmp_path / "router" / "deid_classifier.json").read_text())
    assert meta["label_map"] == label_map
    assert meta["calibration"]["data"].endswith("fold cross-validation")
    assert meta["fail_safe"]["goal"] == {"tier": "restricted", "min_recall": 0.9}
    assert meta["fail_safe"]["cv"]["recall_after"] >= 0.9
    card = (tmp_path / "router" / "README.md").read_text()
    assert "`sensitive` -> `restricted`" in card and "Goal: `restricted` recall >= 0.9" in card
    assert "routed" in metrics["dev"]  # the team's dev labels were mapped, classes are tiers
    loaded = load_classifier(tmp_path / "router")
    scored = evaluate_classifier(loaded, _team_data(2).texts, _team_data(2).labels, tier_names=TIERS)
    assert set(scored["per_class"]) == {"confidential", "internal", "restricted"}  # gold mapped too
    assert scored["routed"]["per_class"]["restricted"]["support"] == 2


def test_when_calibrating_a_saved_model_on_held_out_data_then_its_directory_is_updated(
    tiny_encoder: Path, tmp_path: Path
) -> None:
    label_map = {"business": "internal", "personal": "confidential", "sensitive": "restricted"}
    train_classifier(
        "frozen",
        _team_data(),
        tmp_path / "router",
        params={"base": str(tiny_encoder)},
        label_map=label_map,
        calibration="none",
    )
    meta = json.loads((tmp_path / "router" / "deid_classifier.json").read_text())
    assert meta["calibration"] is None and meta["fail_safe"] is None
    assert "Not calibrated" in (tmp_path / "router" / "README.md").read_text()
    calibrate_saved_model(
        tmp_path / "router", _team_data(4), goal=FailSafeGoal(min_recall=1.0), data_name="held.csv"
    )
    meta = json.loads((tmp_path / "router" / "deid_classifier.json").read_text())
    assert meta["calibration"]["data"] == "held-out: held.csv"
    assert meta["fail_safe"]["goal"]["min_recall"] == 1.0
    assert meta["fail_safe"]["cv"]["recall_after"] == 1.0
    assert "held-out: held.csv" in (tmp_path / "router" / "README.md").read_text()
