"""The one contract every classifier method follows (fit, predict, predict_proba, save, load).

Runs each method on a tiny random BERT for a handful of steps: the point is the contract, not accuracy.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from deid.classify import DocumentClassifier, NotFittedError, create_classifier, load_classifier
from deid.errors import ConfigError, DeidError, OutputError

# Few steps and a high learning rate so that the tiny model's outputs move.
FAST = {
    "supervised": {"lr": 1e-3, "min_steps": 8, "epochs": 1},
    "setfit": {"lr": 1e-3, "num_iterations": 2, "max_steps": 8},
    "mlm-supervised": {
        "lr": 1e-3,
        "min_steps": 4,
        "epochs": 1,
        "mlm_max_steps": 2,
        "mlm_head_warmup_steps": 2,
    },
    "mlm-setfit": {
        "lr": 1e-3,
        "num_iterations": 1,
        "max_steps": 4,
        "mlm_max_steps": 2,
        "mlm_head_warmup_steps": 2,
    },
    "frozen": {},
    "tfidf": {},
    "zero-shot": {"prototype_weight": 0.5},
    "pii-aware": {},
}
METHODS = list(FAST)


def make(method: str, tiny_encoder: Path, **params: object) -> DocumentClassifier:
    """A classifier over the tiny encoder (methods without an encoder take no ``base``)."""
    from deid.classify import get_method

    if "base" in get_method(method).param_names():
        params["base"] = str(tiny_encoder)
    return create_classifier(method, **{**FAST[method], **params})


@pytest.fixture(scope="module")
def fitted(tiny_encoder: Path, tiny_corpus: tuple[list[str], list[str]]) -> dict[str, DocumentClassifier]:
    texts, labels = tiny_corpus
    return {m: make(m, tiny_encoder, seed=0).fit(texts, labels) for m in METHODS}


@pytest.mark.parametrize("method", METHODS)
def test_when_fitted_then_classes_and_state_are_set(
    fitted: dict[str, DocumentClassifier], method: str
) -> None:
    model = fitted[method]
    assert list(model.classes_) == ["medical", "sport"]
    assert model.n_train_ == 16
    assert model.class_counts_ == {"medical": 8, "sport": 8}
    assert model.train_seconds_ >= 0


@pytest.mark.parametrize("method", METHODS)
def test_when_predicting_then_probabilities_align_with_classes(
    fitted: dict[str, DocumentClassifier], method: str, tiny_corpus: tuple[list[str], list[str]]
) -> None:
    model = fitted[method]
    texts = tiny_corpus[0][:5]
    proba = model.predict_proba(texts)
    assert proba.shape == (5, 2)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert ((proba >= 0) & (proba <= 1)).all()
    predicted = model.predict(texts)
    assert list(predicted) == [model.classes_[i] for i in proba.argmax(axis=1)]


@pytest.mark.parametrize("method", METHODS)
def test_when_saved_and_loaded_then_probabilities_are_equal(
    fitted: dict[str, DocumentClassifier],
    method: str,
    tmp_path: Path,
    tiny_corpus: tuple[list[str], list[str]],
) -> None:
    model = fitted[method]
    out = model.save(
        tmp_path / "model", metrics={"dev": {"n": 1, "accuracy": 1.0, "macro_f1": 1.0}}, description="tiny"
    )
    loaded = load_classifier(out)
    assert type(loaded) is type(model)
    assert list(loaded.classes_) == list(model.classes_)
    texts = tiny_corpus[0]
    np.testing.assert_allclose(loaded.predict_proba(texts), model.predict_proba(texts), atol=1e-6)
    meta = json.loads((out / "deid_classifier.json").read_text())
    assert meta["method"] == method
    assert "unlabelled" not in meta["params"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["train"]["n_examples"] == 16
    assert metrics["dev"]["macro_f1"] == 1.0
    card = (out / "README.md").read_text()
    assert f"({method})" in card
    assert "tiny" in card
    assert not list(tmp_path.glob("*.deid-tmp"))


@pytest.mark.parametrize("method", ["supervised", "setfit"])
def test_when_store_is_delta_then_only_changed_tensors_are_saved_and_reload_matches(
    tiny_encoder: Path, tiny_corpus: tuple[list[str], list[str]], tmp_path: Path, method: str
) -> None:
    texts, labels = tiny_corpus
    model = create_classifier(method, base=str(tiny_encoder), store="delta", **FAST[method]).fit(
        texts, labels
    )
    out = model.save(tmp_path / "delta")
    weights = json.loads((out / "deid_classifier.json").read_text())["weights"]
    assert weights["format"] == "delta"
    assert weights["n_tensors"] < weights["n_tensors_total"]  # frozen word embeddings at least
    np.testing.assert_allclose(
        load_classifier(out).predict_proba(texts), model.predict_proba(texts), atol=1e-6
    )


def test_when_store_is_delta_for_an_mlm_method_then_config_error(
    tiny_encoder: Path, tiny_corpus: tuple[list[str], list[str]]
) -> None:
    model = create_classifier(
        "mlm-supervised", base=str(tiny_encoder), store="delta", **FAST["mlm-supervised"]
    )
    with pytest.raises(ConfigError, match="stable base"):
        model.fit(*tiny_corpus)


def test_when_loading_with_a_subclass_of_another_method_then_config_error(
    fitted: dict[str, DocumentClassifier], tmp_path: Path
) -> None:
    from deid.classify.supervised import SupervisedClassifier

    out = fitted["setfit"].save(tmp_path / "m")
    with pytest.raises(ConfigError, match="'setfit' classifier"):
        SupervisedClassifier.load(out)


def test_when_output_exists_then_save_refuses_unless_overwrite(
    fitted: dict[str, DocumentClassifier], tmp_path: Path
) -> None:
    (tmp_path / "m").mkdir()
    with pytest.raises(OutputError):
        fitted["setfit"].save(tmp_path / "m")
    fitted["setfit"].save(tmp_path / "m", overwrite=True)
    assert (tmp_path / "m" / "deid_classifier.json").is_file()


@pytest.mark.parametrize("method", METHODS)
def test_when_not_fitted_then_predict_raises(method: str) -> None:
    with pytest.raises(NotFittedError):
        create_classifier(method).predict_proba(["x"])


def test_when_only_one_class_then_fit_refuses(tiny_encoder: Path) -> None:
    with pytest.raises(DeidError, match="two classes"):
        create_classifier("supervised", base=str(tiny_encoder)).fit(["a", "b"], ["x", "x"])


@pytest.mark.parametrize("method", METHODS)
def test_when_calibrated_then_temperature_is_saved_and_probabilities_keep_their_argmax(
    fitted: dict[str, DocumentClassifier],
    method: str,
    tmp_path: Path,
    tiny_corpus: tuple[list[str], list[str]],
) -> None:
    import copy

    texts, labels = tiny_corpus
    model = copy.copy(fitted[method])
    raw = model.predict_proba(texts)
    cheap = model.cheap_cross_validation
    if not cheap and method != "supervised":  # retraining per fold: supervised covers it
        pytest.skip("retraining cross-validation is covered by supervised")
    result = model.calibrate(None if cheap else texts, labels, max_folds=2)
    assert result["calibration"]["method"] == "temperature" and result["calibration"]["n"] == 16
    assert result["fail_safe"] is None  # sport/medical are not tiers
    calibrated = model.predict_proba(texts)
    assert np.allclose(calibrated.sum(axis=1), 1.0)
    assert (calibrated.argmax(axis=1) == raw.argmax(axis=1)).all()
    loaded = load_classifier(model.save(tmp_path / "m"))
    assert loaded.calibration_ == model.calibration_
    np.testing.assert_allclose(loaded.predict_proba(texts), calibrated, atol=1e-6)


def test_when_zero_shot_has_no_labels_then_it_routes_from_tier_definitions(tiny_encoder: Path) -> None:
    from deid.classify.feature_methods import ZeroShotClassifier

    model = ZeroShotClassifier(base=str(tiny_encoder)).from_descriptions()
    assert list(model.classes_) == sorted(["public", "internal", "confidential", "restricted"])
    proba = model.predict_proba(["Patient SSN 123-45-6789, diagnosis: diabetes", "Press release"])
    assert proba.shape == (2, 4) and np.allclose(proba.sum(axis=1), 1.0)


def test_when_documents_are_longer_than_a_window_then_every_window_is_read(tiny_encoder: Path) -> None:
    from deid.classify._embed import chunk_documents, embed_documents, load_sentence_encoder

    body = load_sentence_encoder(tiny_encoder, 16)
    long_text = " ".join(f"word{i}" for i in range(60))
    chunks, owner = chunk_documents(body.tokenizer, ["short text", long_text], 16, max_chunks=50)
    assert owner[0] == 0 and (owner[1:] == 1).all() and len(chunks) > 3
    assert "word59" in chunks[-1] and "word0" in chunks[1]
    whole = embed_documents(body, [long_text], max_length=16, max_chunks=50)
    first = embed_documents(body, [long_text], max_length=16, max_chunks=1)
    assert whole.shape == first.shape and not np.allclose(whole, first)


def test_when_pii_aware_then_entity_counts_are_features(tiny_encoder: Path) -> None:
    model = make("pii-aware", tiny_encoder)
    counts = model.entity_counts(["SSN: 536-22-8726, e-mail ann@example.com", "nothing here"])  # type: ignore[attr-defined]
    from deid.classify.feature_methods import PII_FEATURE_TYPES

    ssn, email = PII_FEATURE_TYPES.index("US_SSN"), PII_FEATURE_TYPES.index("EMAIL_ADDRESS")
    assert counts[0, ssn] == 1 and counts[0, email] == 1 and counts[1].sum() == 0


def test_when_labels_are_integers_then_classes_are_strings(
    tiny_encoder: Path, tiny_corpus: tuple[list[str], list[str]]
) -> None:
    texts, labels = tiny_corpus
    model = create_classifier("setfit", base=str(tiny_encoder), **FAST["setfit"]).fit(
        texts, [int(y == "sport") for y in labels]
    )
    assert list(model.classes_) == ["0", "1"]


@pytest.mark.parametrize("mode", ["refit", "head"])
def test_when_setfit_cross_validates_then_every_document_gets_out_of_fold_probabilities(
    tiny_encoder: Path, tiny_corpus: tuple[list[str], list[str]], mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    texts, labels = tiny_corpus
    model = make("setfit", tiny_encoder, calibration_cv=mode).fit(texts, labels)
    y = np.asarray([list(model.classes_).index(label) for label in labels])
    with caplog.at_level(logging.INFO, logger="deid.classify.setfit_method"):
        oof = model.cross_val_proba(None, y, 4)
    assert oof.shape == (16, 2) and np.allclose(oof.sum(axis=1), 1.0)
    refitted = any("calibration fold" in r.getMessage() for r in caplog.records)
    assert refitted == (mode == "refit")


@pytest.mark.parametrize(("mode", "bias"), [("refit", "leans pessimistic"), ("head", "optimistic")])
def test_when_setfit_is_calibrated_then_the_card_states_the_bias_of_its_cross_validation(
    tiny_encoder: Path, tiny_corpus: tuple[list[str], list[str]], tmp_path: Path, mode: str, bias: str
) -> None:
    texts, labels = tiny_corpus
    model = make("setfit", tiny_encoder, calibration_cv=mode).fit(texts, labels)
    model.calibrate(None, labels)
    assert model.calibration_ is not None and model.calibration_["bias"].startswith(bias)
    card = (model.save(tmp_path / "m") / "README.md").read_text()
    assert f"Bias of this calibration: {bias}" in card
