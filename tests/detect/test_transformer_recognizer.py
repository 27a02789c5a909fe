"""TransformerNerRecognizer over a tiny model built in the fixture: plumbing, mapping, batching."""

from __future__ import annotations

from pathlib import Path

import pytest

from deid.config import parse_config
from deid.detect.engine import Detector
from deid.detect.transformer_recognizer import TransformerNerRecognizer


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from deid.ner.testing import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model", labels=("PER", "LOC"), seed=3)


@pytest.fixture(scope="module")
def ner_model(tiny_model_dir: Path):  # type: ignore[no-untyped-def]
    from deid.ner.inference import NerModel

    return NerModel(tiny_model_dir, batch_size=4, max_length=64, stride=8)


TEXTS = ["John Smith lives in Boston and works at Acme.", "", "Mary went to Paris on Monday.", "x " * 200]


def test_when_labels_mapped_then_presidio_entity_names(ner_model) -> None:  # type: ignore[no-untyped-def]
    recognizer = TransformerNerRecognizer(ner_model, label_map={"PER": "PERSON", "LOC": "LOCATION"})
    assert recognizer.supported_entities == ["LOCATION", "PERSON"]
    results = recognizer.analyze(TEXTS[0], entities=["PERSON", "LOCATION"])
    assert all(r.entity_type in {"PERSON", "LOCATION"} for r in results)


def test_when_primed_then_same_results_as_one_at_a_time(ner_model) -> None:  # type: ignore[no-untyped-def]
    recognizer = TransformerNerRecognizer(ner_model, label_map={"PER": "PERSON", "LOC": "LOCATION"})
    single = [[(r.entity_type, r.start, r.end) for r in recognizer.analyze(t, entities=[])] for t in TEXTS]
    recognizer.prime(TEXTS)
    primed = [[(r.entity_type, r.start, r.end) for r in recognizer.analyze(t, entities=[])] for t in TEXTS]
    recognizer.clear()
    assert primed == single
    for text, spans in zip(TEXTS, primed, strict=True):
        for _, start, end in spans:
            assert 0 <= start < end <= len(text)


def test_when_label_ignored_then_never_reported(ner_model) -> None:  # type: ignore[no-untyped-def]
    recognizer = TransformerNerRecognizer(ner_model, ignore_labels=["LOC"])
    assert recognizer.supported_entities == ["PER"]
    recognizer.prime(TEXTS)
    assert all(r.entity_type == "PER" for t in TEXTS for r in recognizer.analyze(t, entities=[]))


def test_when_configured_in_detector_then_runs_inside_presidio(tiny_model_dir: Path) -> None:
    config = parse_config(
        {
            "detection": {
                "transformer": {
                    "model": str(tiny_model_dir),
                    "label_map": {"PER": "PERSON", "LOC": "LOCATION"},
                },
                "score_threshold": 0.0,
            }
        }
    )
    detector = Detector(config.detection)
    names = {i.name: i for i in detector.recognizers()}
    assert "TransformerNerRecognizer" in names
    # spaCy's NER fills only the roles the transformer does not cover.
    assert names["SpacyRecognizer"].entities == ("DATE_TIME", "ORGANIZATION")
    assert names["TransformerNerRecognizer"].source.startswith("deid transformer")
    spans = detector.detect(TEXTS)
    assert len(spans) == len(TEXTS)
    assert spans[1] == []


def test_when_model_dir_missing_then_config_error(tmp_path: Path) -> None:
    from deid.errors import ConfigError

    config = parse_config({"detection": {"transformer": {"model": str(tmp_path / "nope")}}})
    with pytest.raises(ConfigError, match="not found"):
        Detector(config.detection).detect(["hello"])
