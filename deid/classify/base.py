"""The contract every document classifier follows, and the model directory layout they share.

scikit-learn style: ``__init__`` stores parameters (no model is loaded there), ``fit`` returns
``self``, learnt state ends in ``_``, ``classes_`` orders the columns of ``predict_proba``.

A model directory holds:

- ``deid_classifier.json``: format version, method name, parameters, classes, base encoder
  (name and weight fingerprint) and how the weights are stored (``delta`` over the base or ``full``);
- the method's weights (see each method);
- ``metrics.json``: training facts (examples per class, seconds) and evaluation metrics if any;
- ``README.md``: the model card.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import shutil
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from deid.errors import ConfigError, DeidError, OutputError

logger = logging.getLogger(__name__)

META_FILE = "deid_classifier.json"
METRICS_FILE = "metrics.json"
CARD_FILE = "README.md"
FORMAT_VERSION = 1


class NotFittedError(DeidError):
    """A classifier was used before ``fit`` or ``load``."""


class DocumentClassifier(ABC):
    """Base class of the document (sensitivity) classifiers.

    Subclasses set ``method`` (the registry name), implement ``_fit``, ``predict_proba``,
    ``_save_weights`` and ``_load_weights``, and list in ``_unsaved_params`` any constructor
    parameter that holds data rather than configuration.
    """

    method: ClassVar[str]
    _unsaved_params: ClassVar[frozenset[str]] = frozenset()

    classes_: np.ndarray

    # ---- parameters -------------------------------------------------------------------------
    @classmethod
    def param_names(cls) -> list[str]:
        """Names of the constructor parameters."""
        signature = inspect.signature(cls.__init__)
        return [name for name in signature.parameters if name != "self"]

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters as stored on the instance."""
        return {name: getattr(self, name) for name in self.param_names()}

    def _saved_params(self) -> dict[str, Any]:
        return {k: v for k, v in self.get_params().items() if k not in self._unsaved_params}

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self._saved_params().items())
        return f"{type(self).__name__}({shown})"

    # ---- fit / predict ----------------------------------------------------------------------
    def fit(self, texts: Sequence[str], labels: Sequence[object]) -> Self:
        """Learn from ``texts`` and their ``labels`` (converted to strings).

        Returns:
            ``self``, with ``classes_`` (sorted label names), ``n_train_``, ``class_counts_`` and
            ``train_seconds_`` set.

        Raises:
            DeidError: fewer than two classes, or texts and labels differ in length.
        """
        texts = [str(t) for t in texts]
        labels = [str(y) for y in labels]
        if len(texts) != len(labels):
            raise DeidError(f"{len(texts)} texts but {len(labels)} labels")
        classes = sorted(set(labels))
        if len(classes) < 2:
            raise DeidError(f"need at least two classes to train, got {classes}")
        self.classes_ = np.asarray(classes, dtype=object)
        index = {c: i for i, c in enumerate(classes)}
        y = np.asarray([index[label] for label in labels], dtype=np.int64)
        started = time.perf_counter()
        self._fit(texts, y)
        self.train_seconds_ = round(time.perf_counter() - started, 2)
        self.n_train_ = len(texts)
        self.class_counts_ = {c: int((y == i).sum()) for i, c in enumerate(classes)}
        return self

    @abstractmethod
    def _fit(self, texts: list[str], y: np.ndarray) -> None:
        """Train on texts and integer labels (indices into ``classes_``)."""

    @abstractmethod
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities, shape ``(len(texts), len(classes_))``, columns in ``classes_`` order."""

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """The most probable class name of each text."""
        proba = self.predict_proba(texts)
        return self.classes_[np.argmax(proba, axis=1)]

    def _check_fitted(self) -> None:
        if not hasattr(self, "classes_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted: call fit() or load() first")

    # ---- persistence ------------------------------------------------------------------------
    def save(
        self,
        path: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        metrics: dict[str, Any] | None = None,
        description: str | None = None,
    ) -> Path:
        """Write the model directory (to a temporary name, then renamed).

        Args:
            path: the directory to create.
            overwrite: replace an existing directory.
            metrics: evaluation results to store in ``metrics.json`` and the model card (a ``train``
                entry is merged into the training facts).
            description: what the model was trained on, for the model card.

        Returns:
            ``path``.

        Raises:
            OutputError: ``path`` exists and ``overwrite`` is false.
            NotFittedError: the classifier is not fitted.
        """
        self._check_fitted()
        out = Path(path)
        if out.exists() and not overwrite:
            raise OutputError(f"{out}: already exists (use --overwrite)")
        tmp = out.with_name(out.name + ".deid-tmp")
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        weights = self._save_weights(tmp)
        from deid import __version__

        meta = {
            "format_version": FORMAT_VERSION,
            "method": self.method,
            "classes": [str(c) for c in self.classes_],
            "params": self._saved_params(),
            "weights": weights,
            "description": description,
            "deid_version": __version__,
        }
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2, default=str) + "\n")
        metrics = dict(metrics or {})
        all_metrics = {"train": {**self.training_facts(), **metrics.pop("train", {})}, **metrics}
        (tmp / METRICS_FILE).write_text(json.dumps(all_metrics, indent=2) + "\n")
        from deid.classify.card import render_model_card

        (tmp / CARD_FILE).write_text(render_model_card(meta, all_metrics, description))
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
        return out

    def training_facts(self) -> dict[str, Any]:
        """Examples, examples per class and seconds of the last ``fit`` (as far as known)."""
        return {
            "n_examples": getattr(self, "n_train_", None),
            "class_counts": getattr(self, "class_counts_", None),
            "train_seconds": getattr(self, "train_seconds_", None),
        }

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> DocumentClassifier:
        """Load a model directory written by ``save``.

        Called on the base class (or via :func:`deid.classify.load_classifier`) it dispatches on
        the saved method; called on a subclass it also checks the method matches.

        Raises:
            ConfigError: not a classifier directory, unknown method or format, wrong subclass.
        """
        from deid.classify.registry import get_method

        root = Path(path)
        meta_path = root / META_FILE
        if not meta_path.is_file():
            raise ConfigError(f"{root}: not a deid classifier directory (no {META_FILE})")
        try:
            meta = json.loads(meta_path.read_text())
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{meta_path}: invalid JSON ({exc.msg})") from exc
        if meta.get("format_version") != FORMAT_VERSION:
            raise ConfigError(f"{meta_path}: unsupported format_version {meta.get('format_version')!r}")
        method_cls = get_method(meta["method"])
        if cls is not DocumentClassifier and not issubclass(method_cls, cls):
            raise ConfigError(
                f"{root}: holds a '{meta['method']}' classifier, not '{getattr(cls, 'method', cls.__name__)}'"
            )
        known = set(method_cls.param_names())
        params = {k: v for k, v in meta.get("params", {}).items() if k in known}
        model = method_cls(**params)
        model.classes_ = np.asarray(meta["classes"], dtype=object)
        model._load_weights(root, meta["weights"])
        metrics_path = root / METRICS_FILE
        if metrics_path.is_file():
            facts = json.loads(metrics_path.read_text()).get("train", {})
            model.n_train_ = facts.get("n_examples")
            model.class_counts_ = facts.get("class_counts")
            model.train_seconds_ = facts.get("train_seconds")
        return model

    @abstractmethod
    def _save_weights(self, path: Path) -> dict[str, Any]:
        """Write the weights into ``path``; return a JSON description passed back to ``_load_weights``."""

    @abstractmethod
    def _load_weights(self, path: Path, info: dict[str, Any]) -> None:
        """Restore the learnt state from ``path``."""
