"""The tier taxonomy file and the fail-safe rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from deid.classify.tiers import load_tiers
from deid.errors import ConfigError


def test_when_loading_the_shipped_file_then_four_ordered_tiers_and_threshold() -> None:
    taxonomy = load_tiers()
    assert taxonomy.names == ["public", "internal", "confidential", "restricted"]
    assert all(t.definition for t in taxonomy.tiers)
    assert taxonomy.min_confidence == 0.6


def test_when_tier_is_strictest_then_stricter_is_itself() -> None:
    taxonomy = load_tiers()
    assert taxonomy.stricter("internal") == "confidential"
    assert taxonomy.stricter("restricted") == "restricted"


def test_when_confidence_is_low_then_the_stricter_neighbour_is_assigned() -> None:
    taxonomy = load_tiers()
    classes = ["confidential", "internal", "public", "restricted"]
    proba = np.array([[0.1, 0.7, 0.1, 0.1], [0.2, 0.5, 0.2, 0.1], [0.1, 0.1, 0.2, 0.6], [0.3, 0.2, 0.2, 0.3]])
    assert taxonomy.assign(proba, classes) == ["internal", "confidential", "restricted", "restricted"]


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
