"""The method registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from deid.classify import (
    DocumentClassifier,
    available_methods,
    create_classifier,
    get_method,
    load_classifier,
)
from deid.errors import ConfigError


def test_registered_method_names_snapshot() -> None:
    # A method disappearing from this list breaks configurations that name it.
    assert available_methods() == [
        "frozen",
        "mlm-setfit",
        "mlm-supervised",
        "pii-aware",
        "setfit",
        "supervised",
        "tfidf",
        "zero-shot",
    ]


@pytest.mark.parametrize(
    "name",
    ["supervised", "setfit", "mlm-supervised", "mlm-setfit", "frozen", "tfidf", "zero-shot", "pii-aware"],
)
def test_when_method_is_known_then_its_class_carries_the_name(name: str) -> None:
    cls = get_method(name)
    assert issubclass(cls, DocumentClassifier)
    assert cls.method == name
    assert "seed" in cls.param_names()


def test_when_method_is_unknown_then_config_error_lists_known() -> None:
    with pytest.raises(ConfigError, match="known: frozen, mlm-setfit"):
        get_method("svm")


def test_when_parameter_is_unknown_then_config_error_lists_parameters() -> None:
    with pytest.raises(ConfigError, match="no parameter learning_rate"):
        create_classifier("setfit", learning_rate=1.0)


def test_when_constructed_then_parameters_are_stored_and_nothing_is_loaded() -> None:
    model = create_classifier("supervised", lr=1e-3, seed=7)
    assert model.get_params()["lr"] == 1e-3
    assert not hasattr(model, "model_")
    assert not hasattr(model, "classes_")


def test_when_directory_is_not_a_classifier_then_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a deid classifier"):
        load_classifier(tmp_path)
