"""The contract every document classifier follows, and the model directory layout they share.

scikit-learn style: ``__init__`` stores parameters (no model is loaded there), ``fit`` returns
``self``, learnt state ends in ``_``, ``classes_`` orders the columns of ``predict_proba``.

A model directory holds:

- ``deid_classifier.json``: format version, method name, parameters, classes, base encoder
  (name and weight fingerprint) and how the weights are stored (``delta`` over the base or ``full``);
- the method's weights (see each method);
- ``metrics.json``: training facts (examples per class, seconds) and evaluation metrics if any;
- ``README.md``: the model card.

``deid_classifier.json`` may also hold ``calibration`` (the temperature applied to every
``predict_proba``), ``fail_safe`` (the goal and the escalation threshold chosen for it, see
:mod:`deid.classify.calibration`) and ``label_map`` (the team's labels -> the classes trained on).
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

from deid.classify.calibration import FailSafeGoal, apply_temperature
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
    #: Whether :meth:`cross_val_proba` is cheap (head-only refits over features computed once);
    #: otherwise it retrains the whole method once per fold.
    cheap_cross_validation: ClassVar[bool] = False

    classes_: np.ndarray
    #: Set by :meth:`calibrate`: ``{"method": "temperature", "temperature": T, ...}``.
    calibration_: dict[str, Any] | None = None
    #: Set by :meth:`calibrate` when the classes are tiers: the goal and its threshold.
    fail_safe_: dict[str, Any] | None = None
    #: The team's label -> the class it was trained as (``deid classify train --label-map``).
    label_map_: dict[str, str] | None = None

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
        self.calibration_ = None
        self.fail_safe_ = None
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
    def _predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Uncalibrated class probabilities, columns in ``classes_`` order."""

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities, shape ``(len(texts), len(classes_))``, columns in ``classes_`` order.

        Calibrated (temperature-scaled) when :meth:`calibrate` has run; the most probable class is
        the same either way.
        """
        self._check_fitted()
        proba = self._predict_proba(texts)
        temperature = (self.calibration_ or {}).get("temperature", 1.0)
        return apply_temperature(proba, float(temperature))

    # ---- calibration ------------------------------------------------------------------------
    def cross_val_proba(self, texts: Sequence[str] | None, y: np.ndarray, n_folds: int) -> np.ndarray:
        """Out-of-fold uncalibrated probabilities of the training documents (columns: ``classes_``).

        The default retrains a copy of this classifier (same parameters) once per fold. Methods with
        a cheap route (features computed once, a head refitted per fold) override it and may use
        ``texts=None`` to mean "the documents of the last ``fit``".
        """
        if texts is None:
            raise DeidError(f"{self.method}: cross-validation needs the training texts")
        from deid.classify.calibration import stratified_folds

        texts = list(texts)
        seed = int(getattr(self, "seed", 0) or 0)
        out = np.zeros((len(texts), len(self.classes_)), dtype=np.float64)
        for fold, (train_idx, test_idx) in enumerate(stratified_folds(y, n_folds, seed)):
            logger.info("%s: calibration fold %d/%d", self.method, fold + 1, n_folds)
            clone = type(self)(**self._saved_params())
            clone.fit([texts[i] for i in train_idx], [str(self.classes_[y[i]]) for i in train_idx])
            proba = clone._predict_proba([texts[i] for i in test_idx])
            columns = [list(self.classes_).index(c) for c in clone.classes_]
            out[np.ix_(test_idx, columns)] = proba
        return out

    def calibrate(
        self,
        texts: Sequence[str] | None,
        labels: Sequence[object],
        *,
        goal: FailSafeGoal | None = None,
        tier_names: Sequence[str] | None = None,
        held_out: bool = False,
        max_folds: int = 5,
    ) -> dict[str, Any]:
        """Fit the temperature and choose the fail-safe threshold for ``goal``.

        Args:
            texts: the documents; with ``held_out=False`` the training documents (``None``: those of
                the last ``fit``, for methods that keep their features).
            labels: their labels (class names).
            goal: the fail-safe goal (default: restricted recall >= 0.9).
            tier_names: the tiers, least strict first (default: ``configs/tiers.yaml``). When the
                classes are not all tiers only the temperature is fitted.
            held_out: ``texts`` were not trained on: score them directly instead of cross-validating.
            max_folds: folds of the cross-validation (fewer when a class has fewer examples).

        Returns:
            ``{"calibration": ..., "fail_safe": ...}`` (also stored on the model and saved with it).

        Raises:
            DeidError: a label is not one of ``classes_``.
        """
        from deid.classify.calibration import choose_threshold, cv_folds, fit_temperature

        self._check_fitted()
        started = time.perf_counter()
        goal = goal or FailSafeGoal()
        index = {str(c): i for i, c in enumerate(self.classes_)}
        names = [self.map_label(str(y)) for y in labels]
        unknown = sorted(set(names) - set(index))
        if unknown:
            raise DeidError(f"labels {unknown} are not classes of this model ({', '.join(index)})")
        y = np.asarray([index[n] for n in names], dtype=np.int64)
        if held_out:
            if texts is None:
                raise DeidError("held-out calibration needs the texts")
            raw = self._predict_proba(list(texts))
            scheme = {"method": "temperature", "data": "held-out", "n": len(y)}
        else:
            folds = cv_folds(y, max_folds)
            self._cv_scheme = f"{folds}-fold cross-validation"
            self._cv_note = None
            raw = self.cross_val_proba(texts, y, folds)  # may describe a different scheme (and its bias)
            scheme = {"method": "temperature", "data": self._cv_scheme, "n": len(y)}
            if self._cv_note:
                scheme["bias"] = self._cv_note
        self.calibration_ = {**scheme, **fit_temperature(raw, y)}
        calibrated = apply_temperature(raw, self.calibration_["temperature"])
        if tier_names is None:
            from deid.classify.tiers import load_tiers

            tier_names = load_tiers().names
        not_tiers = sorted(set(map(str, self.classes_)) - set(tier_names))
        if not_tiers:
            self.fail_safe_ = None
            logger.info("classes %s are not tiers: calibrated, no fail-safe threshold", not_tiers)
        else:
            try:
                self.fail_safe_ = choose_threshold(
                    calibrated, y, list(map(str, self.classes_)), tier_names, goal
                )
            except ValueError as exc:
                logger.warning("no fail-safe threshold: %s", exc)
                self.fail_safe_ = None
        self.calibration_["seconds"] = round(time.perf_counter() - started, 2)
        return {"calibration": self.calibration_, "fail_safe": self.fail_safe_}

    def map_label(self, label: str) -> str:
        """A label as this model knows it (through ``label_map_``, if any)."""
        return (self.label_map_ or {}).get(label, label)

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
            "calibration": self.calibration_,
            "fail_safe": self.fail_safe_,
            "label_map": self.label_map_,
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
        model.calibration_ = meta.get("calibration")
        model.fail_safe_ = meta.get("fail_safe")
        model.label_map_ = meta.get("label_map")
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
