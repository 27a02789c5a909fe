"""Document (sensitivity) classifiers: supervised, SetFit and MLM-adapted, one fit/predict contract.

>>> from deid.classify import create_classifier, load_classifier
>>> model = create_classifier("setfit", seed=0).fit(texts, labels)        # doctest: +SKIP
>>> model.save("models/my-router"); load_classifier("models/my-router")   # doctest: +SKIP

Importing this package is cheap: torch, transformers and SetFit load only when a model trains or loads.
"""

from deid.classify.base import DocumentClassifier, NotFittedError
from deid.classify.data import LabelledTexts, read_labelled, read_texts, sample_shots
from deid.classify.evaluate import classification_metrics, evaluate_classifier
from deid.classify.registry import (
    available_methods,
    create_classifier,
    get_method,
    load_classifier,
    register_method,
)

__all__ = [
    "DocumentClassifier",
    "LabelledTexts",
    "NotFittedError",
    "available_methods",
    "classification_metrics",
    "create_classifier",
    "evaluate_classifier",
    "get_method",
    "load_classifier",
    "read_labelled",
    "read_texts",
    "register_method",
    "sample_shots",
]
