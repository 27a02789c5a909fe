"""Assemble the Presidio ``AnalyzerEngine`` from configuration and run it over batches of texts.

The engine is built lazily, on the first call to :meth:`Detector.detect`, so a ``Detector`` can be
pickled to a worker process (or a Spark executor) and builds its models there, once.

Per batch: spaCy runs once over all texts with ``nlp.pipe`` (its artefacts are handed to Presidio),
the transformer recognizer predicts all texts in length-bucketed batches, and then Presidio's
``analyze`` runs the pattern recognizers per text and combines the results. Finally per-entity
thresholds, the allow-list, the per-cent rule (:func:`_not_percentage`) and the merge rule of
:mod:`deid.detect.spans` apply.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from deid._offline import ensure_offline
from deid.config import DetectionConfig, resolve_path
from deid.detect.cleaning import clean_for_detection
from deid.detect.prefilter import add_context_gate, add_prefilter
from deid.detect.spans import Span, merge_spans
from deid.errors import ConfigError

logger = logging.getLogger(__name__)

# Pattern recognizers of deid that run beside Presidio's own.
DEFAULT_DEID_RECOGNIZERS = (
    "UsPhoneRecognizer",
    "PagerRecognizer",
    "RecordNumberRecognizer",
    "ShortYearRecognizer",
    "AgeRecognizer",
    "ZipCodeRecognizer",
    "NumericDateRecognizer",
    "TextDateRecognizer",
    "UsAddressRecognizer",
    "SocialHandleRecognizer",
)
# spaCy's OntoNotes labels -> Presidio entity types; the labels that are not personal data are ignored.
SPACY_ENTITY_MAPPING = {
    "PERSON": "PERSON",
    "GPE": "LOCATION",
    "LOC": "LOCATION",
    "FAC": "LOCATION",
    "ORG": "ORGANIZATION",
    "DATE": "DATE_TIME",
    "TIME": "DATE_TIME",
    "NORP": "NRP",
}
SPACY_LABELS_IGNORED = [
    "CARDINAL",
    "ORDINAL",
    "QUANTITY",
    "MONEY",
    "PERCENT",
    "WORK_OF_ART",
    "PRODUCT",
    "LAW",
    "LANGUAGE",
    "EVENT",
]


@dataclass(frozen=True)
class RecognizerInfo:
    """What ``deid recognizers`` lists for each active recognizer."""

    name: str
    entities: tuple[str, ...]
    source: str


class Detector:
    """Finds PII spans in texts with Presidio plus deid's recognizers.

    Args:
        config: the ``detection`` part of a :class:`deid.config.DeidConfig`.

    Example:
        >>> detector = Detector(load_config().detection)            # doctest: +SKIP
        >>> detector.detect(["Call Ann at 617-555-0123"])            # doctest: +SKIP
        [[Span(start=5, end=8, entity_type='PERSON', ...), Span(start=12, ...)]]
    """

    def __init__(self, config: DetectionConfig) -> None:
        self.config = config
        self._analyzer: Any = None
        self._transformer: Any = None

    @classmethod
    def from_config(cls, config: Any) -> Detector:
        """Build from a whole :class:`~deid.config.DeidConfig` or its ``detection`` part."""
        return cls(getattr(config, "detection", config))

    def __getstate__(self) -> dict[str, Any]:
        # Only the configuration travels to worker processes; engines are rebuilt there.
        return {"config": self.config, "_analyzer": None, "_transformer": None}

    # ------------------------------------------------------------------ assembly

    def _build(self) -> None:
        ensure_offline()
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import NerModelConfiguration
        from presidio_analyzer.predefined_recognizers import SpacyRecognizer

        from deid.detect.recognizers import DEID_RECOGNIZERS
        from deid.detect.recognizers.hardened import hardened_email_recognizer, hardened_url_recognizer
        from deid.detect.spacy_pipeline import LeanContextEnhancer, LeanSpacyNlpEngine

        cfg = self.config
        language = cfg.nlp.language
        if cfg.transformer is not None:
            self._transformer = self._build_transformer(language)
        covered = set(self._transformer.supported_entities) if self._transformer is not None else set()
        spacy_entities = cfg.spacy_ner_entities(covered)
        # Only spaCy's tokenizer (and its NER when it fills entity types): see spacy_pipeline.py.
        nlp_engine = LeanSpacyNlpEngine(
            cfg.nlp.model,
            language,
            NerModelConfiguration.from_dict(
                {
                    "model_to_presidio_entity_mapping": SPACY_ENTITY_MAPPING,
                    "labels_to_ignore": SPACY_LABELS_IGNORED,
                }
            ),
            keep_ner=bool(spacy_entities),
        )
        try:
            nlp_engine.load()
        except OSError as exc:
            raise ConfigError(
                f"detection.nlp.model: spaCy model '{cfg.nlp.model}' is not installed ({exc.__class__.__name__})"
            ) from None

        registry = RecognizerRegistry(supported_languages=[language])
        registry.load_predefined_recognizers(languages=[language], nlp_engine=nlp_engine)
        unknown = (
            set(cfg.disable_recognizers) - {r.name for r in registry.recognizers} - set(DEID_RECOGNIZERS)
        )
        if unknown:
            raise ConfigError(f"detection.disable_recognizers: unknown recognizer(s) {sorted(unknown)}")
        for name in cfg.disable_recognizers:
            if any(r.name == name for r in registry.recognizers):
                registry.remove_recognizer(name)
        # Same recognizers, patterns that stay linear on hostile input (see recognizers/hardened.py).
        for name, factory in (
            ("EmailRecognizer", hardened_email_recognizer),
            ("UrlRecognizer", hardened_url_recognizer),
        ):
            if any(r.name == name for r in registry.recognizers):
                registry.remove_recognizer(name)
                registry.add_recognizer(factory(language))
        registry.remove_recognizer("SpacyRecognizer")
        if spacy_entities:
            registry.add_recognizer(
                SpacyRecognizer(supported_language=language, supported_entities=spacy_entities)
            )
        for name in DEFAULT_DEID_RECOGNIZERS:
            if name not in cfg.disable_recognizers:
                registry.add_recognizer(DEID_RECOGNIZERS[name](language))
        for entity, words in cfg.context_words.items():
            for recognizer in registry.recognizers:
                if entity in recognizer.supported_entities:
                    recognizer.context = list(dict.fromkeys([*(recognizer.context or []), *words]))

        for recognizer in registry.recognizers:
            add_prefilter(recognizer)
            add_context_gate(recognizer, min(cfg.threshold_for(e) for e in recognizer.supported_entities))
        if self._transformer is not None:
            registry.add_recognizer(self._transformer)

        self._analyzer = AnalyzerEngine(
            registry=registry,
            nlp_engine=nlp_engine,
            context_aware_enhancer=LeanContextEnhancer(),
            supported_languages=[language],
            default_score_threshold=min([cfg.score_threshold, *cfg.thresholds.values()]),
        )

    def _build_transformer(self, language: str) -> Any:
        from deid.detect.transformer_recognizer import TransformerNerRecognizer
        from deid.ner.inference import NerModel

        tcfg = self.config.transformer
        assert tcfg is not None
        model_dir = resolve_path(tcfg.model)
        if not model_dir.is_dir():
            raise ConfigError(f"detection.transformer.model: model directory '{tcfg.model}' not found")
        model = NerModel(
            model_dir,
            batch_size=tcfg.batch_size,
            max_length=tcfg.max_length,
            stride=tcfg.stride,
            num_threads=tcfg.num_threads,
            precision=tcfg.precision,
        )
        span_filter = None
        if tcfg.filters:
            from deid.detect.model_filters import ModelSpanFilter

            span_filter = ModelSpanFilter()
        return TransformerNerRecognizer(
            model,
            label_map=tcfg.label_map,
            ignore_labels=tcfg.ignore_labels,
            supported_language=language,
            span_filter=span_filter,
        )

    @property
    def analyzer(self) -> Any:
        """The assembled Presidio ``AnalyzerEngine`` (built on first access)."""
        if self._analyzer is None:
            self._build()
        return self._analyzer

    def recognizers(self) -> list[RecognizerInfo]:
        """The active recognizers with their entity types and where they come from."""
        infos = []
        for recognizer in self.analyzer.registry.recognizers:
            module = type(recognizer).__module__
            if module.startswith("deid."):
                source = "deid"
            elif recognizer.name == "SpacyRecognizer":
                source = f"spaCy NER ({self.config.nlp.model})"
            else:
                source = "presidio"
            if recognizer is self._transformer:
                source = f"deid transformer ({self.config.transformer.model})"  # type: ignore[union-attr]
            infos.append(
                RecognizerInfo(recognizer.name, tuple(sorted(recognizer.supported_entities)), source)
            )
        return sorted(infos, key=lambda i: i.name)

    # ------------------------------------------------------------------ detection

    def detect(self, texts: Sequence[str]) -> list[list[Span]]:
        """Detect PII in each text.

        Args:
            texts: the documents (empty strings are fine).

        Returns:
            Per text, non-overlapping spans sorted by offset, after thresholds, allow-list and merging.
        """
        analyzer = self.analyzer
        cfg = self.config
        language = cfg.nlp.language
        originals = list(texts)
        cleaned = [clean_for_detection(t) for t in originals]
        texts = [c.text for c in cleaned]
        if self._transformer is not None:
            self._transformer.prime([t for t in texts if t.strip()])
        try:
            artifacts = [a for _, a in analyzer.nlp_engine.process_batch(texts, language, batch_size=64)]
            out: list[list[Span]] = []
            allow = set(cfg.allow_list)
            for text, cleaning, nlp_artifacts in zip(texts, cleaned, artifacts, strict=True):
                if not text.strip():
                    out.append([])
                    continue
                results = analyzer.analyze(
                    text,
                    language=language,
                    entities=cfg.entities,
                    nlp_artifacts=nlp_artifacts,
                    allow_list=cfg.allow_list or None,
                )
                spans = [
                    Span(
                        r.start,
                        r.end,
                        r.entity_type,
                        float(r.score),
                        str((r.recognition_metadata or {}).get("recognizer_name", "")),
                    )
                    for r in results
                    if r.score >= cfg.threshold_for(r.entity_type) and text[r.start : r.end] not in allow
                ]
                spans = merge_spans(_trim(_not_percentage(spans, text), text), text)
                out.append(cleaning.to_original(spans) if cleaning.removed else spans)
            return out
        finally:
            if self._transformer is not None:
                self._transformer.clear()


# A numeric "date" directly followed by a per-cent sign is a ventilator setting or a ratio
# ("CPAP/PSV 12/10/40%", "AC 600x16/5/40%"), never a date. Found on a cross-validation fold of the
# PhysioNet training patients (fold 1); all 48 such runs in the 40 training patients' notes are
# outside PHI spans.
_NUMERIC_DATE = re.compile(r"\d[\d/.-]*\d")
_PERCENT_AFTER = re.compile(r" ?%")


def _not_percentage(spans: list[Span], text: str) -> list[Span]:
    """Drop DATE_TIME spans made only of digits and date separators that a ``%`` follows."""
    return [
        span
        for span in spans
        if not (
            span.entity_type == "DATE_TIME"
            and _NUMERIC_DATE.fullmatch(text, span.start, span.end)
            and _PERCENT_AFTER.match(text, span.end)
        )
    ]


def _trim(spans: list[Span], text: str) -> list[Span]:
    """Trim whitespace and stray punctuation from span edges and split spans at line breaks.

    NER models sometimes run a name into the next line ("Jimenez\n\nSocial"); splitting keeps the
    document's layout while every piece is still transformed.
    """
    trimmed = []
    for span in spans:
        piece_start = span.start
        for piece_end in [*(i for i in range(span.start, span.end) if text[i] == "\n"), span.end]:
            start, end = piece_start, piece_end
            piece_start = piece_end + 1
            while start < end and text[start].isspace():
                start += 1
            while end > start and (text[end - 1].isspace() or text[end - 1] in ",;"):
                end -= 1
            if end > start:
                trimmed.append(Span(start, end, span.entity_type, span.score, span.recognizer))
    return trimmed
