"""The default router shipped in models/deid-router-minilm."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from deid.classify import load_classifier
from deid.classify.tiers import load_tiers

ROUTER = Path(__file__).resolve().parents[2] / "models" / "deid-router-minilm"


@pytest.fixture(scope="module")
def router():  # type: ignore[no-untyped-def]
    return load_classifier(ROUTER)


def test_when_loaded_then_classes_are_the_tier_names(router) -> None:  # type: ignore[no-untyped-def]
    assert sorted(router.classes_) == sorted(load_tiers().names)


def test_router_is_small_and_documented() -> None:
    size = sum(p.stat().st_size for p in ROUTER.rglob("*") if p.is_file())
    assert size < 50 * 1024 * 1024
    card = (ROUTER / "README.md").read_text()
    assert "synthetic" in card.lower()
    assert "train your own" in card.lower()
    metrics = json.loads((ROUTER / "metrics.json").read_text())
    assert metrics["dev"]["macro_f1"] > 0.8


def test_when_documents_are_obvious_then_router_routes_them(router) -> None:  # type: ignore[no-untyped-def]
    docs = [
        "Customer payment details\nCardholder: Jane Roe\nCard number: 4111 1111 1111 1111  Expires: 09/28  CVV: 123",
        "SERVICES AGREEMENT - CONFIDENTIAL\nClient shall pay Supplier $120,000 per year, net 30 days. "
        "Neither party shall disclose the terms of this agreement.",
    ]
    proba = router.predict_proba(docs)
    assert proba.shape == (2, 4)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert list(router.predict(docs)) == ["restricted", "confidential"]
