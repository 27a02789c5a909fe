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
}
METHODS = list(FAST)


@pytest.fixture(scope="module")
def fitted(tiny_encoder: Path, tiny_corpus: tuple[list[str], list[str]]) -> dict[str, DocumentClassifier]:
    texts, labels = tiny_corpus
    return {
        m: create_classifier(m, base=str(tiny_encoder), seed=0, **FAST[m]).fit(texts, labels) for m in METHODS
    }


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


def test_when_labels_are_integers_then_classes_are_strings(
    tiny_encoder: Path, tiny_corpus: tuple[list[str], list[str]]
) -> None:
    texts, labels = tiny_corpus
    model = create_classifier("setfit", base=str(tiny_encoder), **FAST["setfit"]).fit(
        texts, [int(y == "sport") for y in labels]
    )
    assert list(model.classes_) == ["0", "1"]
