"""Cheap methods that train no encoder: features computed once, a logistic head (or none) on top.

They are the baselines that tell whether fine-tuning pays, and routers in their own right:

- ``frozen``: the pinned encoder's whole-document embeddings + logistic regression;
- ``tfidf``: TF-IDF of words and word pairs + logistic regression;
- ``zero-shot``: cosine similarity between a document and each class's description (the tier
  definitions of ``configs/tiers.yaml``); labels only name the classes and calibrate;
- ``pii-aware``: the ``frozen`` embedding plus the detector's entity counts per type (SSNs,
  cards, names, dates...), because a restricted document is defined by what it contains.

All of them cross-validate cheaply (the features are fixed, only the head is refitted per fold), so
``deid classify train`` calibrates them and chooses the fail-safe threshold in seconds.
Weights: ``head.npz`` (plain arrays, no pickle); ``tfidf`` adds ``vocabulary.json``. The encoder is
the pinned one (checked by fingerprint), never stored.
"""

from __future__ import annotations

import json
import logging
from abc import abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from deid._quiet import quiet_libraries
from deid.classify._embed import (
    embed_frozen,
    fit_logistic_head,
    head_cross_val_proba,
    head_proba,
    load_sentence_encoder,
)
from deid.classify.base import DocumentClassifier
from deid.classify.registry import register_method
from deid.errors import ConfigError, DeidError

logger = logging.getLogger(__name__)

_HEAD = "head.npz"
_VOCAB = "vocabulary.json"

#: Entity types counted by ``pii-aware`` (Presidio names), in feature order.
PII_FEATURE_TYPES = (
    "US_SSN",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_BANK_NUMBER",
    "US_PASSPORT",
    "US_DRIVER_LICENSE",
    "MEDICAL_LICENSE",
    "PHONE_NUMBER",
    "EMAIL_ADDRESS",
    "IP_ADDRESS",
    "URL",
    "PERSON",
    "LOCATION",
    "ORGANIZATION",
    "DATE_TIME",
    "AGE",
)


def _encoder_info(base: str | None) -> dict[str, Any]:
    from deid.mlm.encoder import PINNED_ENCODER, encoder_fingerprint, is_pinned, resolve_encoder

    path = resolve_encoder(base)
    return {
        "base": PINNED_ENCODER if is_pinned(base) else str(path),
        "base_fingerprint": encoder_fingerprint(path),
    }


class _HeadClassifier(DocumentClassifier):
    """Fixed features + a logistic head; subclasses define the features."""

    cheap_cross_validation = True
    head_c: float
    class_weight: str | None
    seed: int

    @abstractmethod
    def _features(self, texts: Sequence[str]) -> np.ndarray:
        """Feature matrix of ``texts`` (rows in order)."""

    def _prepare_features(self, texts: list[str], y: np.ndarray) -> None:
        """Hook: learn what the features need from the training texts (e.g. a vocabulary)."""

    def _fit(self, texts: list[str], y: np.ndarray) -> None:
        self._prepare_features(texts, y)
        features = self._features(texts)
        self.coef_, self.intercept_ = fit_logistic_head(
            features, y, c=self.head_c, seed=self.seed, class_weight=self.class_weight
        )
        self._train_features, self._train_y = features, y

    def _predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, len(self.classes_)))
        return head_proba(self._features([str(t) for t in texts]), self.coef_, self.intercept_)

    def cross_val_proba(self, texts: Sequence[str] | None, y: np.ndarray, n_folds: int) -> np.ndarray:
        """Out-of-fold probabilities: the head refitted per fold on features computed once."""
        if texts is None:
            if getattr(self, "_train_features", None) is None:
                raise DeidError(
                    f"{self.method}: cross-validation needs the training texts (model was loaded)"
                )
            features = self._train_features
        else:
            features = self._features([str(t) for t in texts])
        return head_cross_val_proba(
            features,
            y,
            len(self.classes_),
            n_folds,
            c=self.head_c,
            seed=self.seed,
            class_weight=self.class_weight,
        )

    def _save_head(self, path: Path) -> dict[str, Any]:
        np.savez(path / _HEAD, coef=self.coef_, intercept=self.intercept_)
        return {"format": "head", "head": _HEAD}

    def _load_head(self, path: Path, info: dict[str, Any]) -> None:
        with np.load(path / info["head"]) as head:
            self.coef_ = head["coef"]
            self.intercept_ = head["intercept"]


class _EncoderFeatures:
    """Mixin: the pinned (or given) encoder's whole-document embeddings, encoder loaded on first use."""

    base: str | None
    max_length: int
    max_chunks: int

    def _encoder(self) -> Any:
        body = getattr(self, "_body", None)
        if body is None:
            from deid.mlm.encoder import resolve_encoder

            body = load_sentence_encoder(resolve_encoder(self.base), self.max_length)
            self._body = body
        return body

    def _embeddings(self, texts: Sequence[str]) -> np.ndarray:
        from deid.mlm.encoder import resolve_encoder

        return embed_frozen(
            self._encoder(),
            str(resolve_encoder(self.base)),
            texts,
            max_length=self.max_length,
            max_chunks=self.max_chunks,
        )

    def _check_encoder(self, info: dict[str, Any]) -> None:
        from deid.classify._weights import check_base

        check_base(info)


@register_method("frozen")
class FrozenEncoderClassifier(_EncoderFeatures, _HeadClassifier):
    """Logistic regression on the frozen encoder's whole-document embeddings.

    Args:
        base: encoder name or directory (``None``: the pinned all-MiniLM-L6-v2).
        max_length: tokens per window.
        max_chunks: windows per document (mean-pooled).
        head_c: inverse regularisation strength of the logistic head.
        class_weight: ``None`` or ``balanced`` (weights classes by inverse frequency).
        seed: seeds the head.
    """

    def __init__(
        self,
        base: str | None = None,
        *,
        max_length: int = 256,
        max_chunks: int = 8,
        head_c: float = 1.0,
        class_weight: str | None = None,
        seed: int = 0,
    ):
        self.base = base
        self.max_length = max_length
        self.max_chunks = max_chunks
        self.head_c = head_c
        self.class_weight = class_weight
        self.seed = seed

    def _features(self, texts: Sequence[str]) -> np.ndarray:
        return self._embeddings(texts)

    def _save_weights(self, path: Path) -> dict[str, Any]:
        return {**self._save_head(path), **_encoder_info(self.base)}

    def _load_weights(self, path: Path, info: dict[str, Any]) -> None:
        self._check_encoder(info)
        self._load_head(path, info)


@register_method("tfidf")
class TfidfClassifier(_HeadClassifier):
    """Logistic regression on TF-IDF of words and word n-grams (sublinear term frequency, L2-normalised).

    Args:
        ngram_max: longest word n-gram.
        min_df: a term must occur in at least this many training documents.
        max_features: keep the most frequent terms only.
        head_c: inverse regularisation strength of the logistic head.
        class_weight: ``None`` or ``balanced``.
        seed: seeds the head.
    """

    def __init__(
        self,
        *,
        ngram_max: int = 2,
        min_df: int = 1,
        max_features: int = 20000,
        head_c: float = 10.0,
        class_weight: str | None = None,
        seed: int = 0,
    ):
        self.ngram_max = ngram_max
        self.min_df = min_df
        self.max_features = max_features
        self.head_c = head_c
        self.class_weight = class_weight
        self.seed = seed

    def _prepare_features(self, texts: list[str], y: np.ndarray) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(
            ngram_range=(1, self.ngram_max),
            min_df=self.min_df,
            max_features=self.max_features,
            sublinear_tf=True,
        )
        vectorizer.fit(texts)
        self.vocabulary_ = {str(k): int(v) for k, v in vectorizer.vocabulary_.items()}
        self.idf_ = np.asarray(vectorizer.idf_, dtype=np.float64)
        self._counter = None

    def _features(self, texts: Sequence[str]) -> Any:
        from sklearn.feature_extraction.text import CountVectorizer
        from sklearn.preprocessing import normalize

        if getattr(self, "_counter", None) is None:
            self._counter = CountVectorizer(ngram_range=(1, self.ngram_max), vocabulary=self.vocabulary_)
        counts = self._counter.transform([str(t) for t in texts]).astype(np.float64)
        counts.data = 1.0 + np.log(counts.data)  # sublinear tf, as TfidfVectorizer(sublinear_tf=True)
        return normalize(counts.multiply(self.idf_).tocsr())

    def _save_weights(self, path: Path) -> dict[str, Any]:
        np.savez(path / _HEAD, coef=self.coef_, intercept=self.intercept_, idf=self.idf_)
        (path / _VOCAB).write_text(json.dumps(self.vocabulary_, ensure_ascii=False))
        return {"format": "head", "head": _HEAD, "vocabulary": _VOCAB}

    def _load_weights(self, path: Path, info: dict[str, Any]) -> None:
        with np.load(path / info["head"]) as head:
            self.coef_ = head["coef"]
            self.intercept_ = head["intercept"]
            self.idf_ = head["idf"]
        self.vocabulary_ = json.loads((path / info["vocabulary"]).read_text())
        self._counter = None


def class_descriptions(
    classes: Sequence[str], descriptions: dict[str, str] | None, tiers_path: str | None
) -> list[str]:
    """What each class is, in words: ``descriptions[c]``, else the tier's definition, else its name.

    A name such as ``rec.autos`` or ``sensitive_hr`` is spelt out (``rec autos``, ``sensitive hr``).
    """
    from deid.classify.tiers import load_tiers

    definitions = {t.name: t.definition for t in load_tiers(tiers_path).tiers}
    out = []
    for name in classes:
        text = (descriptions or {}).get(name) or definitions.get(name)
        spelt = name.replace(".", " ").replace("_", " ").replace("-", " ")
        out.append(f"{spelt}: {text}" if text else spelt)
    return out


@register_method("zero-shot")
class ZeroShotClassifier(_EncoderFeatures, DocumentClassifier):
    """Routes by similarity between a document and each class's description; needs no labels.

    The classes are the training labels (or :meth:`from_descriptions`); a class's description is
    ``descriptions[class]``, else its tier definition from ``tiers`` (``configs/tiers.yaml``), else
    its name. Probabilities are ``softmax(scale x cosine)``. With ``prototype_weight > 0`` the
    labelled documents pull each class's prototype towards their mean embedding (few-shot starting
    from zero-shot).

    Args:
        base: encoder name or directory (``None``: the pinned all-MiniLM-L6-v2).
        tiers: the tiers YAML holding the definitions (``None``: ``configs/tiers.yaml``).
        descriptions: class name -> description, overriding the tier definitions.
        scale: inverse temperature of the softmax over cosines (calibration refines it).
        prototype_weight: 0 = pure zero-shot; 1 = class means of the labelled documents only.
        max_length: tokens per window.
        max_chunks: windows per document (mean-pooled).
        seed: unused by the method (kept for a uniform interface).
    """

    cheap_cross_validation = True

    def __init__(
        self,
        base: str | None = None,
        *,
        tiers: str | None = None,
        descriptions: dict[str, str] | None = None,
        scale: float = 20.0,
        prototype_weight: float = 0.0,
        max_length: int = 256,
        max_chunks: int = 8,
        seed: int = 0,
    ):
        self.base = base
        self.tiers = tiers
        self.descriptions = descriptions
        self.scale = scale
        self.prototype_weight = prototype_weight
        self.max_length = max_length
        self.max_chunks = max_chunks
        self.seed = seed

    def from_descriptions(self, classes: Sequence[str] | None = None) -> ZeroShotClassifier:
        """Fit without any labelled document: ``classes`` (default: every tier) from their descriptions."""
        from deid.classify.tiers import load_tiers

        names = list(classes) if classes is not None else load_tiers(self.tiers).names
        if len(names) < 2:
            raise DeidError(f"need at least two classes, got {names}")
        self.classes_ = np.asarray(sorted(names), dtype=object)
        self.calibration_ = None
        self.fail_safe_ = None
        self.prototypes_ = self._description_embeddings()
        self.n_train_, self.class_counts_, self.train_seconds_ = 0, {c: 0 for c in self.classes_}, 0.0
        return self

    def _description_embeddings(self) -> np.ndarray:
        texts = class_descriptions([str(c) for c in self.classes_], self.descriptions, self.tiers)
        return self._embeddings(texts)

    def _prototypes(self, described: np.ndarray, features: np.ndarray, y: np.ndarray) -> np.ndarray:
        w = float(self.prototype_weight)
        if w <= 0:
            return described
        out = described.copy()
        for k in range(len(described)):
            members = features[y == k]
            if len(members):
                out[k] = (1 - w) * described[k] + w * members.mean(axis=0)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def _fit(self, texts: list[str], y: np.ndarray) -> None:
        if not 0.0 <= self.prototype_weight <= 1.0:
            raise ConfigError(f"prototype_weight must be between 0 and 1, got {self.prototype_weight}")
        self._described = self._description_embeddings()
        self._train_features = self._embeddings(texts) if texts else np.zeros((0, self._described.shape[1]))
        self._train_y = y
        self.prototypes_ = self._prototypes(self._described, self._train_features, y)

    def _scores_to_proba(self, features: np.ndarray, prototypes: np.ndarray) -> np.ndarray:
        scores = self.scale * (features @ prototypes.T)
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    def _predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, len(self.classes_)))
        return self._scores_to_proba(self._embeddings([str(t) for t in texts]), self.prototypes_)

    def cross_val_proba(self, texts: Sequence[str] | None, y: np.ndarray, n_folds: int) -> np.ndarray:
        """Out-of-fold probabilities (pure zero-shot never saw the labels: its own predictions)."""
        from deid.classify.calibration import stratified_folds

        if texts is None:
            if getattr(self, "_train_features", None) is None:
                raise DeidError("zero-shot: cross-validation needs the training texts (model was loaded)")
            features, described = self._train_features, self._described
        else:
            features, described = self._embeddings([str(t) for t in texts]), self.prototypes_
            if self.prototype_weight > 0:
                described = getattr(self, "_described", None)
                if described is None:
                    described = self._description_embeddings()
        if self.prototype_weight <= 0:
            return self._scores_to_proba(features, described)
        out = np.zeros((len(y), len(self.classes_)))
        for train_idx, test_idx in stratified_folds(y, n_folds, self.seed):
            prototypes = self._prototypes(described, features[train_idx], y[train_idx])
            out[test_idx] = self._scores_to_proba(features[test_idx], prototypes)
        return out

    def _save_weights(self, path: Path) -> dict[str, Any]:
        np.savez(path / _HEAD, prototypes=self.prototypes_)
        return {"format": "prototypes", "head": _HEAD, **_encoder_info(self.base)}

    def _load_weights(self, path: Path, info: dict[str, Any]) -> None:
        self._check_encoder(info)
        with np.load(path / info["head"]) as head:
            self.prototypes_ = head["prototypes"]


@register_method("pii-aware")
class PiiAwareClassifier(_EncoderFeatures, _HeadClassifier):
    """``frozen`` plus the detector's entity counts per type as features.

    Each document gets ``pii_weight x log(1 + count)`` for every type in ``PII_FEATURE_TYPES``,
    beside its embedding. Detection reads the first ``detect_max_chars`` characters.

    Args:
        base: encoder name or directory (``None``: the pinned all-MiniLM-L6-v2).
        detector: ``patterns`` (Presidio's and deid's pattern recognizers, no NER model: fast) or
            ``ner`` (also spaCy's named entities: PERSON, LOCATION, ORGANIZATION, DATE_TIME).
        pii_weight: scale of the count features against the unit-length embedding.
        detect_max_chars: characters of each document the detector reads.
        max_length: tokens per window.
        max_chunks: windows per document (mean-pooled).
        head_c: inverse regularisation strength of the logistic head.
        class_weight: ``None`` or ``balanced``.
        seed: seeds the head.
    """

    def __init__(
        self,
        base: str | None = None,
        *,
        detector: str = "patterns",
        pii_weight: float = 0.5,
        detect_max_chars: int = 5000,
        max_length: int = 256,
        max_chunks: int = 8,
        head_c: float = 1.0,
        class_weight: str | None = None,
        seed: int = 0,
    ):
        self.base = base
        self.detector = detector
        self.pii_weight = pii_weight
        self.detect_max_chars = detect_max_chars
        self.max_length = max_length
        self.max_chunks = max_chunks
        self.head_c = head_c
        self.class_weight = class_weight
        self.seed = seed

    def _detector(self) -> Any:
        engine = getattr(self, "_engine", None)
        if engine is None:
            if self.detector not in ("patterns", "ner"):
                raise ConfigError(f"pii-aware: detector must be 'patterns' or 'ner', got {self.detector!r}")
            from deid.config import DetectionConfig
            from deid.detect.engine import Detector

            engine = Detector(DetectionConfig(spacy_ner="off" if self.detector == "patterns" else "on"))
            self._engine = engine
        return engine

    def entity_counts(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), len(PII_FEATURE_TYPES))`` entity counts found by the detector."""
        detector = self._detector()
        column = {t: i for i, t in enumerate(PII_FEATURE_TYPES)}
        out = np.zeros((len(texts), len(PII_FEATURE_TYPES)))
        batch = 64
        for start in range(0, len(texts), batch):
            part = [str(t)[: self.detect_max_chars] for t in texts[start : start + batch]]
            with quiet_libraries():  # Presidio logs every recognizer it skips when it builds
                found = detector.detect(part)
            for row, spans in enumerate(found, start=start):
                for span in spans:
                    if span.entity_type in column:
                        out[row, column[span.entity_type]] += 1
        return out

    def _features(self, texts: Sequence[str]) -> np.ndarray:
        counts = self.entity_counts(texts)
        return np.hstack([self._embeddings(texts), self.pii_weight * np.log1p(counts)])

    def _save_weights(self, path: Path) -> dict[str, Any]:
        return {**self._save_head(path), "entity_types": list(PII_FEATURE_TYPES), **_encoder_info(self.base)}

    def _load_weights(self, path: Path, info: dict[str, Any]) -> None:
        if info.get("entity_types") != list(PII_FEATURE_TYPES):
            raise ConfigError(f"{path}: entity types of this model differ from this version of deid")
        self._check_encoder(info)
        self._load_head(path, info)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_engine", None)
        state.pop("_body", None)
        return state
