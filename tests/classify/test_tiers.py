"""The tier taxonomy file and the fail-safe rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from deid.classify.tiers import load_tiers
from deid.errors import ConfigError


def test_when_loading_the_shipped_file_then_four_ordered_tiers_and_no_override() -> None:
    taxonomy = load_tiers()
    assert taxonomy.names == ["public", "internal", "confidential", "restricted"]
    assert all(t.definition for t in taxonomy.tiers)
    assert taxonomy.min_confidence is None  # routers' calibrated fail-safes apply


def test_when_tier_is_strictest_then_stricter_is_itself() -> None:
    taxonomy = load_tiers()
    assert taxonomy.stricter("internal") == "confidential"
    assert taxonomy.stricter("restricted") == "restricted"


CLASSES = ["confidential", "internal", "public", "restricted"]
PROBA = np.array([[0.1, 0.7, 0.1, 0.1], [0.2, 0.5, 0.2, 0.1], [0.1, 0.1, 0.2, 0.6], [0.3, 0.2, 0.2, 0.3]])
CALIBRATED = {"goal": {"tier": "restricted", "min_recall": 0.9}, "threshold": 0.25, "cv": {}}


def test_when_router_is_not_calibrated_then_low_confidence_goes_to_the_stricter_neighbour() -> None:
    routing = load_tiers().route(PROBA, CLASSES)
    assert routing.tiers == ["internal", "confidential", "restricted", "restricted"]
    assert routing.predicted == ["internal", "internal", "restricted", "confidential"]
    assert routing.escalations() == {"confidential->restricted": 1, "internal->confidential": 1}
    assert "not calibrated" in routing.rule


def test_when_router_is_calibrated_then_its_threshold_escalates_only_to_the_goal_tier() -> None:
    routing = load_tiers().route(PROBA, CLASSES, CALIBRATED)
    # rows 0 and 1 have P(restricted) 0.1 < 0.25: unchanged, however unsure; row 3 has 0.3 >= 0.25
    assert routing.tiers == ["internal", "internal", "restricted", "restricted"]
    assert routing.escalations() == {"confidential->restricted": 1}
    assert "calibrated" in routing.rule


def test_when_taxonomy_sets_min_confidence_then_it_overrides_the_calibrated_threshold() -> None:
    taxonomy = load_tiers().model_copy(update={"min_confidence": 0.6})
    assert taxonomy.assign(PROBA, CLASSES, CALIBRATED) == [
        "internal",
        "confidential",
        "restricted",
        "restricted",
    ]
    assert "override" in taxonomy.route(PROBA, CLASSES, CALIBRATED).rule


def test_when_calibrated_goal_needs_no_escalation_then_most_probable_tier_stands() -> None:
    no_threshold = {**CALIBRATED, "threshold": None}
    routing = load_tiers().route(PROBA, CLASSES, no_threshold)
    assert routing.tiers == routing.predicted and routing.escalations() == {}


def test_when_router_class_is_not_a_tier_then_config_error() -> None:
    with pytest.raises(ConfigError, match="not tiers"):
        load_tiers().route(PROBA, ["a", "b", "c", "d"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tiers: []\nmin_confidence: 0.5\n", "tiers"),
        ("tiers: [{name: a, definition: x}]\nmin_confidence: 2\n", "min_confidence"),
        ("tiers: [{name: a, definition: x, colour: red}]\nmin_confidence: 0.5\n", "colour"),
        ("tiers: [{name: a, definition: x}, {name: a, definition: y}]\nmin_confidence: 0.5\n", "unique"),
    ],
)
def test_when_file_is_invalid_then_config_error_names_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "tiers.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_tiers(path)


def test_when_router_goal_tier_is_unknown_to_the_taxonomy_then_config_error() -> None:
    odd = {**CALIBRATED, "goal": {"tier": "secret", "min_recall": 0.9}}
    with pytest.raises(ConfigError, match="'secret', which is not a tier"):
        load_tiers().route(PROBA, CLASSES, odd)
