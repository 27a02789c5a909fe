"""Fine-tune a token classifier for personal data and package it as a deid model directory.

:func:`train_model` is what ``deid ner train`` runs: it reads the configured sources, cuts documents into
overlapping windows, fine-tunes the base encoder (fully or with LoRA) with a class-weighted loss,
evaluates on dev during training with early stopping, tunes the decoding threshold on dev, and writes
the model directory (see :mod:`deid.ner.modeldir`) with a model card. Everything else the run produces
(log, dev predictions) goes under ``output.runs_dir``.
"""

from __future__ import annotations

import json
import logging
import math
import random
import re
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from deid.errors import ConfigError, OutputError
from deid.ner.align import (
    CASE_LOWER,
    CASE_MIXED,
    CASE_NONE,
    CASE_TITLE,
    CASE_UPPER,
    IGNORE_INDEX,
    N_CASE_IDS,
    encode_documents,
    plan_windows,
    token_labels,
    word_tags,
)
from deid.ner.config import DevConfig, NerTrainConfig, SourceConfig, _DocumentsSpec
from deid.ner.corpora import drop_gold_words, read_conll_documents, select_documents
from deid.ner.data import LABEL_MAPS, Document, map_labels, read_spans_jsonl
from deid.ner.decode import decode_words
from deid.ner.metrics import ANY, Scores, score_documents
from deid.ner.modeldir import (
    BASE_WEIGHTS_FILE,
    BaseEncoderRef,
    Decoding,
    ModelMeta,
    bio_labels,
    save_model_dir,
    sha256_file,
)

logger = logging.getLogger(__name__)

WORD_EMBEDDINGS = "bert.embeddings.word_embeddings.weight"
THRESHOLD_GRID = (
    0.05,
    0.1,
    0.15,
    0.2,
    0.25,
    0.3,
    0.4,
    0.5,
    0.6,
    0.7,
    0.75,
    0.8,
    0.85,
    0.9,
    0.93,
    0.95,
    0.97,
    0.98,
    0.99,
)


_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_ORDINAL = r"\d{1,2}(?:st|nd|rd|th)?"

#: What a date or a phone number looks like, for sources that do not annotate them (news, tweets,
#: filings): such words are left out of the loss rather than taught as ``O``, which would teach the
#: model to pass over the dates that clinical notes label. Loose on purpose: a false hit only drops a
#: word's ``O`` supervision.
UNANNOTATED_PATTERNS: dict[str, re.Pattern[str]] = {
    "DATE_TIME": re.compile(
        r"(?i)(?<![\w/])(?:"
        r"\d{1,4}[/.-]\d{1,2}(?:[/.-]\d{2,4})?"
        rf"|{_MONTH}(?:\s+{_ORDINAL})?(?:,?\s+\d{{4}})?"
        rf"|{_ORDINAL}\s+(?:of\s+)?{_MONTH}(?:,?\s+\d{{4}})?"
        r"|(?:1[6-9]|20)\d{2}s?"
        r"|(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?s?"
        r"|\d{1,2}:\d{2}(?:\s*[ap]\.?m\.?)?|\d{1,2}\s*[ap]\.?m\.?"
        r"|today|tomorrow|yesterday|tonight"
        r")(?![\w/])"
    ),
    "PHONE_NUMBER": re.compile(r"(?<![\w+])\+?\d[\d\s().-]{6,}\d(?!\w)"),
}


def unannotated_mask(doc: Document, patterns: Sequence[re.Pattern[str]]) -> bytearray:
    """Characters that match one of ``patterns`` and lie outside every gold span (1), else 0."""
    mask = bytearray(len(doc.text))
    for pattern in patterns:
        for match in pattern.finditer(doc.text):
            mask[match.start() : match.end()] = b"\x01" * (match.end() - match.start())
    for start, end, _ in doc.spans:
        mask[start:end] = bytes(end - start)
    return mask


@dataclass
class Example:
    """One training window: token ids with ``[CLS]``/``[SEP]`` and aligned labels."""

    input_ids: list[int]
    labels: list[int]
    has_entity: bool
    case_ids: list[int] | None = None


@dataclass
class TrainResult:
    """What a training run produced."""

    model_dir: Path
    run_dir: Path
    metrics: dict[str, Any]
    steps: int
    seconds: float
    history: list[dict[str, Any]] = field(default_factory=list)


def resolve_label_map(value: str | dict[str, str | None]) -> dict[str, str | None]:
    """Return a label map given by name (see :data:`deid.ner.data.LABEL_MAPS`) or inline.

    Raises:
        ConfigError: unknown name.
    """
    if isinstance(value, dict):
        return value
    if value not in LABEL_MAPS:
        raise ConfigError(f"unknown label_map '{value}' (known: {', '.join(sorted(LABEL_MAPS))})")
    return LABEL_MAPS[value]


def read_spec(config: NerTrainConfig, spec: _DocumentsSpec, *, source: str) -> list[Document]:
    """Read the labelled documents a source or dev set names: each file read, selected, labels mapped,
    role words dropped.

    CoNLL files are read as whole documents where ``-DOCSTART-`` lines separate them, else one document
    per sentence (:func:`deid.ner.corpora.read_conll_documents`).
    """
    label_map = resolve_label_map(spec.label_map)
    docs: list[Document] = []
    for relative in spec.paths:
        path = config.resolve_data_path(relative)
        if spec.kind == "spans_jsonl":
            part = list(read_spans_jsonl(path, source=source))
        else:
            part = read_conll_documents(path, glue=spec.glue)
            part = [Document(d.id, d.text, d.spans, source) for d in part]
        if spec.select is not None:
            sel = spec.select
            part = select_documents(
                part, every=sel.every, offset=sel.offset, by=sel.by, seed=sel.seed, keep=sel.keep
            )
        part = list(map_labels(part, label_map))
        docs += drop_gold_words(part, spec.drop_words) if spec.drop_words else part
    return docs


def load_source(config: NerTrainConfig, source: SourceConfig) -> list[Document]:
    """Read one configured source and map its labels."""
    if source.kind == "synth":
        try:
            from deid.ner.synth import generate_documents
        except ImportError as exc:
            raise ConfigError(
                f"source '{source.name}': the synthetic generator is not available ({exc})"
            ) from None
        docs = [
            Document(
                str(record["id"]),
                record["text"],
                [(int(s["start"]), int(s["end"]), str(s["label"])) for s in record["spans"]],
                source.name,
            )
            for record in generate_documents(source.n, seed=source.seed, styles=source.styles)
        ]
        return list(map_labels(docs, resolve_label_map(source.label_map)))
    return read_spec(config, source, source=source.name)


def load_dev_sets(
    config: NerTrainConfig, trained_texts: set[str] | None = None
) -> list[tuple[DevConfig, list[Document]]]:
    """Each configured dev set with its documents (at most ``max_docs`` of them).

    A dev document whose text a training source also holds is left out: corpora repeat posts (WNUT-17
    train has 22 repeated tweets in every tenth post), and a repeat would be scored on what the model
    was trained on. ``trained_texts`` are the training sources' texts (read here when not given; the
    synthetic sources are never dev data).
    """
    if trained_texts is None:
        trained_texts = {d.text for s in config.sources if s.kind != "synth" for d in load_source(config, s)}
    out = []
    for dev in config.dev_sets:
        docs = read_spec(config, dev, source=dev.name)
        unseen = [d for d in docs if d.text not in trained_texts]
        if len(unseen) < len(docs):
            logger.info(
                "dev %s: %d documents also in training data left out", dev.name, len(docs) - len(unseen)
            )
        out.append((dev, unseen[: dev.max_docs]))
    return out


def tuning_positions(dev_sets: list[tuple[DevConfig, list[Document]]]) -> list[int]:
    """Positions, in the dev sets' documents laid end to end, of those whose set tunes the threshold."""
    out: list[int] = []
    first = 0
    for dev, docs in dev_sets:
        if dev.tune_threshold:
            out += range(first, first + len(docs))
        first += len(docs)
    return out


def score_per_set(
    dev_sets: list[tuple[DevConfig, list[Document]]], predictions: list[list[tuple[int, int, str]]]
) -> list[Scores]:
    """Scores of each dev set, given predictions for their documents laid end to end."""
    out, first = [], 0
    for _, docs in dev_sets:
        last = first + len(docs)
        out.append(score_documents([d.text for d in docs], [d.spans for d in docs], predictions[first:last]))
        first = last
    return out


def _probs_at(word_probs: Any, positions: list[int]) -> Any:
    """The :class:`deid.ner.inference.WordProbs` of the documents at ``positions``."""
    from deid.ner.inference import WordProbs

    return WordProbs(
        [word_probs.encoded[i] for i in positions], [word_probs.word_probs[i] for i in positions]
    )


def make_examples(
    tokenizer: Any,
    docs: list[Document],
    labels: list[str],
    max_length: int,
    stride: int,
    *,
    case: bool = False,
    unannotated: Sequence[str] = (),
) -> list[Example]:
    """Cut documents into labelled windows (with each token's word shape when ``case``).

    Words of spans whose label the model does not have are left out of the loss rather than taught as
    ``O`` (another source may label that type; patterns may cover it), and so are words outside the
    gold spans that look like a label the source does not annotate (``unannotated``, see
    :data:`UNANNOTATED_PATTERNS`).
    """
    patterns = [UNANNOTATED_PATTERNS[label] for label in unannotated]
    tags = bio_labels(labels)
    tag2id = {tag: i for i, tag in enumerate(tags)}
    known = set(labels)
    cls_id, sep_id = tokenizer.cls_token_id, tokenizer.sep_token_id
    examples = []
    for doc, enc in zip(docs, encode_documents(tokenizer, [d.text for d in docs], case=case), strict=True):
        if not enc.input_ids:
            continue
        tag_ids = word_tags(enc.words, doc.spans, tag2id)
        per_token = token_labels(len(enc.input_ids), enc.words, tag_ids)
        unknown = [(s, e, lab) for s, e, lab in doc.spans if lab not in known]
        if unknown:
            for word in enc.words:
                if any(s < word.end and word.start < e for s, e, _ in unknown):
                    per_token[word.first_token] = IGNORE_INDEX
        if patterns:
            mask = unannotated_mask(doc, patterns)
            for word in enc.words:
                if any(mask[word.start : word.end]):
                    per_token[word.first_token] = IGNORE_INDEX
        for window in plan_windows(len(enc.input_ids), max_length - 2, stride):
            window_labels = per_token[window.start : window.end]
            examples.append(
                Example(
                    [cls_id, *enc.input_ids[window.start : window.end], sep_id],
                    [IGNORE_INDEX, *window_labels, IGNORE_INDEX],
                    any(label > 0 for label in window_labels),
                    None
                    if enc.case_ids is None
                    else [CASE_NONE, *enc.case_ids[window.start : window.end], CASE_NONE],
                )
            )
    return examples


def sample_epoch(
    pools: list[tuple[list[Example], float, float | None]],
    rng: random.Random,
    empty_keep: float,
    batch_size: int,
) -> list[list[Example]]:
    """Draw one epoch's batches: each pool ``weight`` times (fractions sampled), windows without entities
    kept with probability ``empty_keep`` (or the pool's own, when it has one), batches formed from
    length-sorted chunks and shuffled."""
    chosen: list[Example] = []
    for pool, weight, own_keep in pools:
        keep = empty_keep if own_keep is None else own_keep
        whole, fraction = int(weight), weight - int(weight)
        picked = pool * whole + [ex for ex in pool if rng.random() < fraction]
        chosen += [ex for ex in picked if ex.has_entity or rng.random() < keep]
    rng.shuffle(chosen)
    batches = []
    chunk = batch_size * 32
    for first in range(0, len(chosen), chunk):
        part = sorted(chosen[first : first + chunk], key=lambda ex: len(ex.input_ids))
        batches += [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    return batches


#: Case augmentation: a window read as if all lower case, or all upper case (the shapes change, the
#: uncased token ids do not), so that a case-feature model still finds names in "i met john smith" and
#: in upper-case notes.
_AS_LOWER = {CASE_TITLE: CASE_LOWER, CASE_UPPER: CASE_LOWER, CASE_MIXED: CASE_LOWER}
_AS_UPPER = {CASE_LOWER: CASE_UPPER, CASE_TITLE: CASE_UPPER, CASE_MIXED: CASE_UPPER}


def augment_case(shapes: list[int], rng: random.Random, lower_prob: float, upper_prob: float) -> list[int]:
    """The window's shapes, or (with these probabilities) those of its all-lower or all-upper reading."""
    draw = rng.random()
    if draw < lower_prob:
        return [_AS_LOWER.get(shape, shape) for shape in shapes]
    if draw < lower_prob + upper_prob:
        return [_AS_UPPER.get(shape, shape) for shape in shapes]
    return shapes


def collate(
    batch: list[Example],
    pad_id: int,
    *,
    rng: random.Random | None = None,
    case_lower_prob: float = 0.0,
    case_upper_prob: float = 0.0,
) -> dict[str, Any]:
    """Pad a batch to its longest window; ``token_type_ids`` carries the word shapes when the examples
    have them (augmented with ``rng`` when given)."""
    import torch

    width = max(len(ex.input_ids) for ex in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE_INDEX, dtype=torch.long)
    with_case = batch[0].case_ids is not None
    shapes = torch.zeros((len(batch), width), dtype=torch.long) if with_case else None
    for row, ex in enumerate(batch):
        n = len(ex.input_ids)
        ids[row, :n] = torch.tensor(ex.input_ids)
        mask[row, :n] = 1
        labels[row, :n] = torch.tensor(ex.labels)
        if shapes is not None:
            assert ex.case_ids is not None
            row_shapes = ex.case_ids
            if rng is not None:
                row_shapes = augment_case(row_shapes, rng, case_lower_prob, case_upper_prob)
            shapes[row, :n] = torch.tensor(row_shapes)
    return {"input_ids": ids, "attention_mask": mask, "labels": labels, "token_type_ids": shapes}


def select_value(scores: Scores, metric: str) -> float:
    """The dev number early stopping maximises."""
    if metric == "entity_f1":
        return scores.entity["overlap"][ANY].f_beta(1.0) if ANY in scores.entity["overlap"] else 0.0
    p, r = scores.char_precision, scores.char_recall
    b2 = 1.0 if metric == "char_f1" else 4.0
    return (1 + b2) * p * r / (b2 * p + r) if p + r else 0.0


def decode_all(word_probs: Any, labels: list[str], threshold: float) -> list[list[tuple[int, int, str]]]:
    """Decode :class:`deid.ner.inference.WordProbs` at one threshold into ``(start, end, label)`` lists."""
    out = []
    for enc, probs in zip(word_probs.encoded, word_probs.word_probs, strict=True):
        if enc is None:
            out.append([])
        else:
            out.append(
                [
                    (s, e, lab)
                    for s, e, lab, _ in decode_words(
                        enc.words, probs, labels, o_threshold=threshold, text=enc.text
                    )
                ]
            )
    return out


def tune_threshold(
    word_probs: Any, docs: list[Document], labels: list[str], min_precision: float
) -> tuple[float, list[dict[str, float]]]:
    """Pick the threshold with the highest char recall whose char precision is >= ``min_precision``
    (highest char F2 when none reaches it). Returns the threshold and the sweep."""
    texts, gold = [d.text for d in docs], [d.spans for d in docs]
    sweep = []
    for threshold in THRESHOLD_GRID:
        scores = score_documents(texts, gold, decode_all(word_probs, labels, threshold))
        sweep.append(
            {
                "o_threshold": threshold,
                "char_recall": scores.char_recall,
                "char_precision": scores.char_precision,
                "entity_f1": select_value(scores, "entity_f1"),
                "char_f2": select_value(scores, "char_f2"),
            }
        )
    ok = [row for row in sweep if row["char_precision"] >= min_precision]
    best = max(ok, key=lambda row: row["char_recall"]) if ok else max(sweep, key=lambda row: row["char_f2"])
    return best["o_threshold"], sweep


def _build_model(config: NerTrainConfig, base_dir: Path, tags: list[str]) -> Any:
    from transformers import BertForTokenClassification

    from deid._quiet import quiet_libraries

    # The load report's "newly initialised classifier" and the weight-loading bar are expected noise.
    with quiet_libraries():
        model = BertForTokenClassification.from_pretrained(
            str(base_dir),
            num_labels=len(tags),
            id2label=dict(enumerate(tags)),
            label2id={t: i for i, t in enumerate(tags)},
            ignore_mismatched_sizes=True,
        )
    if config.training.case_feature:
        add_case_embeddings(model)
    return model


def add_case_embeddings(model: Any) -> None:
    """Give the encoder one token-type embedding per word shape, each starting as the base encoder's
    segment-A row, so the untrained model computes exactly what the base did."""
    import torch

    embeddings = model.bert.embeddings
    old = embeddings.token_type_embeddings
    new = torch.nn.Embedding(N_CASE_IDS, old.embedding_dim)
    with torch.no_grad():
        new.weight.copy_(old.weight[0].expand(N_CASE_IDS, -1))
    embeddings.token_type_embeddings = new
    model.config.type_vocab_size = N_CASE_IDS


def _base_tensor_name(base_file: Path, model_name: str) -> str | None:
    from safetensors import safe_open

    with safe_open(str(base_file), "pt") as handle:
        keys = set(handle.keys())
    for candidate in (model_name, model_name.removeprefix("bert.")):
        if candidate in keys:
            return candidate
    return None


def train_model(
    config: NerTrainConfig,
    *,
    config_text: str | None = None,
    config_path: str | None = None,
    overwrite: bool = False,
    progress: Callable[[str], None] | None = None,
) -> TrainResult:
    """Train, tune and package a model as configured.

    Args:
        config: the validated configuration.
        config_text: the resolved configuration as YAML, stored in the model directory.
        config_path: the configuration file, named in the model card.
        overwrite: replace an existing output directory (otherwise that is an error, checked first).
        progress: called with one line per logging step (the CLI prints them); logging is used too.

    Returns:
        :class:`TrainResult` with the model directory and dev metrics.

    Raises:
        ConfigError: a source cannot be read, or the base encoder is missing.
        OutputError: the output directory exists and ``overwrite`` is false.
    """
    from deid._offline import ensure_offline

    ensure_offline()
    import torch
    from transformers import PreTrainedTokenizerFast

    def say(line: str) -> None:
        if progress is not None:
            progress(line)
        else:
            logger.info(line)

    final_dir = Path(config.output.dir)
    if final_dir.exists() and not overwrite:
        raise OutputError(f"{final_dir} exists; pass --overwrite to replace it")
    started = time.monotonic()
    tc = config.training
    if tc.num_threads:
        torch.set_num_threads(tc.num_threads)
    random.seed(tc.seed)
    np.random.seed(tc.seed)
    torch.manual_seed(tc.seed)
    rng = random.Random(tc.seed)

    base_ref = BaseEncoderRef(package=config.base_encoder.package, path=config.base_encoder.path)
    try:
        base_dir = base_ref.model_dir()
    except Exception as exc:  # ModelLoadError is a DeidError, but say what the config asked for
        raise ConfigError(f"base_encoder: {exc}") from None
    base_file = base_dir / BASE_WEIGHTS_FILE
    base_ref.sha256 = sha256_file(base_file)
    tokenizer = PreTrainedTokenizerFast.from_pretrained(str(base_dir))
    labels = list(config.labels)
    tags = bio_labels(labels)

    run_dir = Path(config.output.runs_dir) / config.name
    run_dir.mkdir(parents=True, exist_ok=True)

    pools: list[tuple[list[Example], float, float | None]] = []
    data_summary: dict[str, Any] = {}
    trained_texts: set[str] = set()
    for source in config.sources:
        docs = load_source(config, source)
        if source.kind != "synth":
            trained_texts.update(d.text for d in docs)
        examples = make_examples(
            tokenizer,
            docs,
            labels,
            tc.max_length,
            tc.stride,
            case=tc.case_feature,
            unannotated=[label for label in source.unannotated if label in labels],
        )
        counts: dict[str, int] = {}
        for doc in docs:
            for _, _, lab in doc.spans:
                counts[lab] = counts.get(lab, 0) + 1
        data_summary[source.name] = {
            "kind": source.kind,
            "path": source.path,
            "n": source.n if source.kind == "synth" else None,
            "weight": source.weight,
            "empty_window_keep": source.empty_window_keep,
            "unannotated": list(source.unannotated),
            "documents": len(docs),
            "windows": len(examples),
            "windows_with_entities": sum(ex.has_entity for ex in examples),
            "spans": dict(sorted(counts.items())),
        }
        say(f"source {source.name}: {len(docs)} documents, {len(examples)} windows, spans {counts}")
        pools.append((examples, source.weight, source.empty_window_keep))

    dev_sets = load_dev_sets(config, trained_texts)
    dev_docs = [doc for _, docs in dev_sets for doc in docs]
    for dev, docs in dev_sets:
        say(f"dev {dev.name}: {len(docs)} documents")
    tune_index = tuning_positions(dev_sets)
    tune_docs = [dev_docs[i] for i in tune_index]

    model = _build_model(config, base_dir, tags)
    if tc.init_from:
        init_dir = _resolve_init(tc.init_from, say)
        _init_weights(model, init_dir, labels, base_ref.sha256)
        say(f"initialised from {init_dir}")
    tensors_from_base: dict[str, str] = {}
    if tc.method == "lora" or tc.freeze_word_embeddings:
        # frozen embeddings are not stored in the model dir but read from the (hash-checked) base
        base_name = _base_tensor_name(base_file, WORD_EMBEDDINGS)
        if base_name is None:
            raise ConfigError(f"base encoder {base_file} has no word embeddings tensor to borrow")
        model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
        tensors_from_base[WORD_EMBEDDINGS] = base_name
    if tc.method == "lora":
        model = _wrap_lora(model, tc)
    base_ref.tensors_from_base = tensors_from_base

    head_params = [p for n, p in model.named_parameters() if p.requires_grad and "classifier" in n]
    body = [(n, p) for n, p in model.named_parameters() if p.requires_grad and "classifier" not in n]
    groups = [
        {"params": [p for n, p in body if p.ndim > 1], "weight_decay": tc.weight_decay, "lr": tc.lr},
        {"params": [p for n, p in body if p.ndim <= 1], "weight_decay": 0.0, "lr": tc.lr},
        {"params": head_params, "weight_decay": 0.0, "lr": tc.head_lr or tc.lr},
    ]
    optimizer = torch.optim.AdamW([g for g in groups if g["params"]])
    expected_per_epoch = len(sample_epoch(pools, random.Random(tc.seed), tc.empty_window_keep, tc.batch_size))
    total_steps = max(1, math.ceil(expected_per_epoch * tc.epochs))
    if tc.max_steps is not None:
        total_steps = min(total_steps, tc.max_steps)
    warmup = int(total_steps * tc.warmup_ratio)

    def lr_factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)
    class_weights = torch.full((len(tags),), tc.entity_loss_weight)
    class_weights[0] = 1.0
    loss_fn = torch.nn.CrossEntropyLoss(weight=class_weights, ignore_index=IGNORE_INDEX)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    use_bf16 = tc.precision == "bf16" or (tc.precision == "auto" and _native_bf16())
    say(f"precision: {'bfloat16 autocast (weights and optimiser stay float32)' if use_bf16 else 'float32'}")
    say(
        f"training {config.name}: method {tc.method}, {trainable / 1e6:.1f}M trainable parameters, "
        f"{expected_per_epoch} steps/epoch, {total_steps} steps, batch {tc.batch_size}, max_length {tc.max_length}"
    )

    meta = ModelMeta(
        name=config.name,
        labels=labels,
        base_encoder=base_ref,
        decoding=Decoding(o_threshold=config.decoding.o_threshold),
        max_length=tc.max_length,
        case_feature=tc.case_feature,
    )

    def evaluate_dev() -> tuple[list[Scores], Any]:
        """Score each dev set at the configured threshold; returns the scores and every word's probabilities."""
        from deid.ner.inference import NerModel

        model.eval()
        try:
            ner = NerModel.from_loaded(
                tokenizer, model, meta, batch_size=32, max_length=tc.max_length, stride=tc.stride
            )
            word_probs = ner.predict_word_probs([d.text for d in dev_docs])
        finally:
            model.train()
        return score_per_set(
            dev_sets, decode_all(word_probs, labels, config.decoding.o_threshold)
        ), word_probs

    history: list[dict[str, Any]] = []
    best_value, best_state, best_step, bad_evals = -1.0, None, 0, 0
    step, stop = 0, False
    model.train()
    loss_sum, loss_n, tick = 0.0, 0, time.monotonic()
    epoch = 0
    while not stop:
        epoch += 1
        for batch in sample_epoch(pools, rng, tc.empty_window_keep, tc.batch_size):
            inputs = collate(
                batch,
                tokenizer.pad_token_id,
                rng=rng,
                case_lower_prob=tc.case_lower_prob,
                case_upper_prob=tc.case_upper_prob,
            )
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=use_bf16):
                logits = model(
                    input_ids=inputs["input_ids"],
                    attention_mask=inputs["attention_mask"],
                    token_type_ids=inputs["token_type_ids"],
                ).logits
            loss = loss_fn(logits.float().reshape(-1, logits.shape[-1]), inputs["labels"].reshape(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            loss_sum, loss_n = loss_sum + float(loss.detach()), loss_n + 1
            if step % 10 == 0 or step == total_steps:
                elapsed = time.monotonic() - started
                rate = (time.monotonic() - tick) / loss_n
                say(
                    f"epoch {epoch} step {step}/{total_steps} loss {loss_sum / loss_n:.4f} "
                    f"{rate:.2f}s/step elapsed {elapsed / 60:.1f}min eta {(total_steps - step) * rate / 60:.1f}min"
                )
                loss_sum, loss_n, tick = 0.0, 0, time.monotonic()
            out_of_time = tc.max_minutes is not None and (time.monotonic() - started) / 60 >= tc.max_minutes
            last = step >= total_steps or out_of_time
            if dev_docs and (step % tc.eval_every_steps == 0 or last):
                set_scores, _ = evaluate_dev()
                # each dev set counts once, whatever its size
                value = sum(select_value(sc, tc.select_metric) for sc in set_scores) / len(set_scores)
                row: dict[str, Any] = {
                    "step": step,
                    "epoch": epoch,
                    tc.select_metric: value,
                    "char_recall": sum(sc.char_recall for sc in set_scores) / len(set_scores),
                    "char_precision": sum(sc.char_precision for sc in set_scores) / len(set_scores),
                    "minutes": (time.monotonic() - started) / 60,
                }
                if len(set_scores) > 1:
                    row["sets"] = {
                        dev.name: {
                            tc.select_metric: select_value(sc, tc.select_metric),
                            "char_recall": sc.char_recall,
                            "char_precision": sc.char_precision,
                        }
                        for (dev, _), sc in zip(dev_sets, set_scores, strict=True)
                    }
                history.append(row)
                say(
                    f"dev step {step}: {tc.select_metric} {value:.4f} char recall {row['char_recall']:.4f} "
                    f"char precision {row['char_precision']:.4f}"
                    + "".join(
                        f" | {dev.name} {select_value(sc, tc.select_metric):.3f}"
                        for (dev, _), sc in zip(dev_sets, set_scores, strict=True)
                    )
                )
                if value > best_value:
                    best_value, best_step, bad_evals = value, step, 0
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                else:
                    bad_evals += 1
                    if bad_evals >= tc.patience:
                        say(f"early stopping at step {step}: no dev improvement in {bad_evals} evaluations")
                        stop = True
                        break
            if last:
                if out_of_time:
                    say(f"stopping at step {step}: max_minutes {tc.max_minutes} reached")
                stop = True
                break
    train_seconds = time.monotonic() - started
    if best_state is not None:
        model.load_state_dict(best_state)
        say(f"restored best dev checkpoint from step {best_step} ({tc.select_metric} {best_value:.4f})")
    model.eval()
    if config.training.method == "lora":
        model = model.merge_and_unload()

    sweep: list[dict[str, float]] = []
    threshold = config.decoding.o_threshold
    if tune_docs and config.decoding.tune:
        _, word_probs = evaluate_dev()
        threshold, sweep = tune_threshold(
            _probs_at(word_probs, tune_index), tune_docs, labels, config.decoding.min_char_precision
        )
        say(
            f"decoding threshold P(O) < {threshold} (tuned on dev for char precision >= {config.decoding.min_char_precision})"
        )
    meta.decoding = Decoding(o_threshold=threshold)

    # written under a temporary name and renamed when complete
    out_dir = final_dir.with_name(final_dir.name + ".deid-tmp")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    save_model_dir(out_dir, model, base_dir, meta, dtype=config.output.dtype)
    if config_text is not None:
        (out_dir / "training_config.yaml").write_text(config_text, encoding="utf-8")

    metrics: dict[str, Any] = {
        "name": config.name,
        "train_seconds": round(train_seconds, 1),
        "steps": step,
        "best_step": best_step,
        "o_threshold": threshold,
        "threshold_sweep": sweep,
        "history": history,
        "data": data_summary,
    }
    if dev_docs:
        from deid.ner.inference import NerModel

        shipped = NerModel(out_dir, max_length=tc.max_length, stride=tc.stride)
        found = [
            [(s.start, s.end, s.label) for s in doc] for doc in shipped.predict([d.text for d in dev_docs])
        ]
        scored_index = tune_index or list(range(len(dev_docs)))
        scored = [dev_docs[i] for i in scored_index]
        texts, gold = [d.text for d in scored], [d.spans for d in scored]
        stored = score_documents(texts, gold, [found[i] for i in scored_index])
        if len(dev_sets) > 1:
            metrics["dev_sets"] = {
                dev.name: sc.as_dict()
                for (dev, _), sc in zip(dev_sets, score_per_set(dev_sets, found), strict=True)
            }
        model.eval()
        memory = NerModel.from_loaded(tokenizer, model, meta, max_length=tc.max_length, stride=tc.stride)
        full = score_documents(
            texts, gold, [[(s.start, s.end, s.label) for s in doc] for doc in memory.predict(texts)]
        )
        metrics["dev"] = stored.as_dict()
        metrics["dev_float32_weights"] = {
            "char": full.as_dict()["char"],
            "entity_overlap_any": full.entity["overlap"][ANY].as_dict(),
        }
        say(
            f"dev (stored {config.output.dtype} model): leak rate {stored.leak_rate:.4f} char precision "
            f"{stored.char_precision:.4f}; float32 in memory: leak rate {full.leak_rate:.4f} "
            f"char precision {full.char_precision:.4f}"
        )
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    from deid.ner.card import write_model_card

    write_model_card(out_dir, config, meta, metrics, config_path)
    if final_dir.exists():
        shutil.rmtree(final_dir)
    out_dir.rename(final_dir)
    out_dir = final_dir
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    say(f"wrote {out_dir} in {(time.monotonic() - started) / 60:.1f} min")
    return TrainResult(out_dir, run_dir, metrics, step, train_seconds, history)


def _native_bf16() -> bool:
    from deid.ner.inference import native_bf16

    return native_bf16()


def _resolve_init(init_from: str, say: Callable[[str], None]) -> Path:
    """A model directory to start from; a YAML config is trained first when its model is missing."""
    path = Path(init_from)
    if path.suffix.lower() in (".yaml", ".yml"):
        from deid.ner.config import load_train_config

        first = load_train_config(path)
        target = Path(first.output.dir)
        if not (target / "deid_model.json").is_file():
            say(f"training the first stage {path} into {target}")
            import yaml

            train_model(
                first,
                config_text=yaml.safe_dump(first.model_dump(mode="json"), sort_keys=False),
                config_path=str(path),
            )
        return target
    if not path.is_dir():
        raise ConfigError(f"training.init_from: {init_from} is neither a model directory nor a training YAML")
    return path


def _init_weights(model: Any, init_dir: Path, labels: list[str], base_sha256: str) -> None:
    from deid.ner.modeldir import load_state_dict, read_meta

    meta = read_meta(init_dir)
    if list(meta.labels) != labels:
        raise ConfigError(f"training.init_from: {init_dir} has labels {meta.labels}, this config {labels}")
    if meta.base_encoder is not None and meta.base_encoder.sha256 != base_sha256:
        raise ConfigError(f"training.init_from: {init_dir} was trained on another base encoder")
    missing, unexpected = model.load_state_dict(load_state_dict(init_dir, meta), strict=False)
    missing = [name for name in missing if not name.endswith("position_ids")]
    if missing or unexpected:
        raise ConfigError(f"training.init_from: {init_dir} does not match the model (missing {missing[:3]})")


def _wrap_lora(model: Any, tc: Any) -> Any:
    # The classifier head is new and randomly initialised: it must be trained in full
    # (modules_to_save). Without it LoRA only adapts features feeding a frozen random projection and
    # the model learns nothing, whatever the learning rate.
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError:
        raise ConfigError("training.method 'lora' needs the 'peft' package (pip install peft)") from None
    lora = LoraConfig(
        r=tc.lora.r,
        lora_alpha=tc.lora.alpha,
        lora_dropout=tc.lora.dropout,
        target_modules=tc.lora.target_modules,
        modules_to_save=["classifier"],
        bias="none",
    )
    return get_peft_model(model, lora)


def retune_decoding(
    model_dir: str | Path, config: NerTrainConfig, *, config_path: str | None = None
) -> dict[str, Any]:
    """Tune the decoding threshold of a trained model directory on the config's dev set again and
    rewrite ``deid_model.json``, ``metrics.json`` (dev numbers, sweep) and the model card.

    Use it after changing the decoding code, without training again.

    Returns:
        the updated metrics.

    Raises:
        ConfigError: the config has no dev set.
    """
    from deid.ner.inference import NerModel
    from deid.ner.modeldir import META_FILE, read_meta

    dev_sets = load_dev_sets(config)
    all_docs = [doc for _, found in dev_sets for doc in found]
    positions = tuning_positions(dev_sets)
    docs = [all_docs[i] for i in positions]
    if not docs:
        raise ConfigError("retuning needs a dev set (with tune_threshold) in the config")
    model_dir = Path(model_dir)
    meta = read_meta(model_dir)
    tc = config.training
    model = NerModel(model_dir, max_length=tc.max_length, stride=tc.stride)
    labels = list(meta.labels)
    all_probs = model.predict_word_probs([d.text for d in all_docs])  # every dev document, once
    word_probs = _probs_at(all_probs, positions)
    threshold, sweep = tune_threshold(word_probs, docs, labels, config.decoding.min_char_precision)
    if not config.decoding.tune:  # a threshold chosen elsewhere (e.g. on the whole pipeline): keep it
        threshold = config.decoding.o_threshold
    meta.decoding = Decoding(o_threshold=threshold, min_score=meta.decoding.min_score)
    (model_dir / META_FILE).write_text(meta.to_json(), encoding="utf-8")
    scores = score_documents(
        [d.text for d in docs], [d.spans for d in docs], decode_all(word_probs, labels, threshold)
    )
    per_set = {}
    if len(dev_sets) > 1:
        set_scores = score_per_set(dev_sets, decode_all(all_probs, labels, threshold))
        per_set = {dev.name: sc.as_dict() for (dev, _), sc in zip(dev_sets, set_scores, strict=True)}
    metrics_path = model_dir / "metrics.json"
    metrics = json.loads(metrics_path.read_text(encoding="utf-8")) if metrics_path.is_file() else {}
    metrics.update({"o_threshold": threshold, "threshold_sweep": sweep, "dev": scores.as_dict()})
    if per_set:
        metrics["dev_sets"] = per_set
    metrics_path.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    from deid.ner.card import write_model_card

    write_model_card(model_dir, config, meta, metrics, config_path)
    return metrics
