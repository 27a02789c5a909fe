"""``TransformerNerRecognizer``: deid's fine-tuned token classifier as a Presidio recognizer.

Presidio calls recognizers one text at a time. A transformer run that way wastes most of its time
on padding and per-call overhead, so this recognizer has a batched path: :meth:`prime` predicts a
whole batch of documents at once (length-bucketed, windowed) and caches the results; Presidio's
per-text :meth:`analyze` then reads the cache. Called without priming it still works, one text at
a time, so the recognizer can be dropped into any Presidio ``AnalyzerEngine``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

logger = logging.getLogger(__name__)


class TransformerNerRecognizer(EntityRecognizer):
    """Presidio recognizer over a token-classification model directory.

    Args:
        model: an object with ``labels`` (model entity labels) and ``predict(texts)`` returning,
            per text, spans with ``start``, ``end``, ``label`` and ``score``
            (:class:`deid.ner.inference.NerModel`).
        label_map: model label -> Presidio entity type; unmapped labels keep their own name.
        ignore_labels: model labels that are never reported.
        supported_language: Presidio language code.
        span_filter: an object with ``keep(text, start, end, entity_type)``; spans it rejects are
            dropped (:class:`deid.detect.model_filters.ModelSpanFilter`). None keeps every span.
    """

    NAME = "TransformerNerRecognizer"

    def __init__(
        self,
        model: Any,
        label_map: Mapping[str, str] | None = None,
        ignore_labels: Sequence[str] = (),
        supported_language: str = "en",
        span_filter: Any = None,
    ) -> None:
        self._model = model
        self._filter = span_filter
        self._label_map = dict(label_map or {})
        self._ignore = set(ignore_labels)
        entities = sorted(
            {self._label_map.get(label, label) for label in model.labels if label not in self._ignore}
        )
        self._cache: dict[str, list[RecognizerResult]] = {}
        super().__init__(
            supported_entities=entities,
            name=self.NAME,
            supported_language=supported_language,
            version=str(getattr(model, "model_id", "unknown")),
        )

    def load(self) -> None:
        """Nothing to load eagerly: the model loads on its first prediction."""

    def prime(self, texts: Sequence[str]) -> None:
        """Predict ``texts`` in batches and keep the results for the next :meth:`analyze` calls."""
        todo = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if not todo:
            return
        for text, spans in zip(todo, self._model.predict(todo), strict=True):
            self._cache[text] = self._to_results(text, spans)

    def clear(self) -> None:
        """Forget primed results (call after each batch to bound memory)."""
        self._cache.clear()

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """Presidio's per-text entry point: primed results when available, else a single prediction."""
        results = self._cache.get(text)
        if results is None:
            results = self._to_results(text, self._model.predict([text])[0])
        wanted = set(entities) if entities else None
        return [r for r in results if wanted is None or r.entity_type in wanted]

    def _to_results(self, text: str, spans: Sequence[Any]) -> list[RecognizerResult]:
        results = []
        for span in spans:
            if span.label in self._ignore:
                continue
            entity_type = self._label_map.get(span.label, span.label)
            if self._filter is not None and not self._filter.keep(text, span.start, span.end, entity_type):
                continue
            results.append(
                RecognizerResult(
                    entity_type=entity_type,
                    start=int(span.start),
                    end=int(span.end),
                    score=float(span.score),
                    analysis_explanation=None,
                    recognition_metadata={
                        RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                        RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                    },
                )
            )
        return results
