"""Batched inference of a deid NER model over many documents.

:class:`NerModel` is what the Presidio recognizer (``deid.detect.transformer_recognizer``) calls. Its
constructor only stores parameters, so it pickles cheaply to worker processes; the weights load on the
first :meth:`NerModel.predict`.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deid.ner.align import N_CASE_IDS, Encoded, Window, encode_documents, plan_windows
from deid.ner.decode import decode_words
from deid.ner.modeldir import ModelLoadError, ModelMeta, bio_labels, load_state_dict, read_meta

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NerSpan:
    """An entity found by the model.

    Attributes:
        start: character offset into the original text.
        end: character offset after the entity (exclusive).
        label: the model's entity label, without BIO prefix (e.g. ``PERSON``).
        score: confidence in ``[0, 1]``: mean over the span's words of ``1 - P(O) / (2 * o_threshold)``,
            so 0.5 at the model's tuned decision threshold and 1 when ``P(O) = 0``.
    """

    start: int
    end: int
    label: str
    score: float


class NerModel:
    """A token-classification model over documents of any length.

    Args:
        model_dir: a deid NER model directory (see :mod:`deid.ner.modeldir`).
        batch_size: windows per forward pass.
        max_length: tokens per window including ``[CLS]``/``[SEP]`` (capped by the model's positions).
        stride: overlap in tokens between consecutive windows of a long document.
        num_threads: torch intra-op threads to use; None leaves torch's setting alone.
        o_threshold: overrides the decoding threshold stored in the model directory.

    Example:
        >>> model = NerModel("models/deid-ner-minilm")
        >>> model.predict(["Seen by Dr. Smith on 3/4."])  # doctest: +SKIP
        [[NerSpan(start=12, end=17, label='PERSON', score=0.98), ...]]
    """

    def __init__(
        self,
        model_dir: str | Path,
        *,
        batch_size: int = 32,
        max_length: int = 256,
        stride: int = 32,
        num_threads: int | None = None,
        o_threshold: float | None = None,
        precision: str = "fp32",
    ):
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
        self.model_dir = Path(model_dir)
        self.precision = precision
        self.batch_size = batch_size
        self.max_length = max_length
        self.stride = stride
        self.num_threads = num_threads
        self.o_threshold = o_threshold
        self._loaded: tuple[Any, Any, ModelMeta] | None = None
        self._meta: ModelMeta | None = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_loaded"] = None
        state["_lock"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"NerModel({str(self.model_dir)!r}, batch_size={self.batch_size}, max_length={self.max_length}, "
            f"precision={self.precision!r})"
        )

    @property
    def meta(self) -> ModelMeta:
        """The model's ``deid_model.json`` (read without loading the weights)."""
        if self._meta is None:
            self._meta = read_meta(self.model_dir)
        return self._meta

    @property
    def labels(self) -> list[str]:
        """Entity labels the model predicts (no ``O``, no BIO prefix)."""
        return list(self.meta.labels)

    @property
    def name(self) -> str:
        """The model's name from its metadata."""
        return self.meta.name

    @classmethod
    def from_loaded(cls, tokenizer: Any, model: Any, meta: ModelMeta, **kwargs: Any) -> NerModel:
        """Wrap an in-memory tokenizer and ``BertForTokenClassification`` (used during training)."""
        instance = cls(Path("<memory>"), **kwargs)
        instance._meta = meta
        instance._loaded = (tokenizer, model, meta)
        return instance

    def load(self) -> NerModel:
        """Load tokenizer and weights now (otherwise done on first predict). Returns self.

        Raises:
            ModelLoadError: the directory is malformed or the base encoder does not match.
        """
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    tokenizer, model, meta = _load(self.model_dir, self.meta)
                    model, precision = apply_precision(model, self.precision)
                    logger.info("NER model %s runs in %s", meta.name, precision)
                    self._loaded = (tokenizer, model, meta)
        return self

    def predict(self, texts: Sequence[str]) -> list[list[NerSpan]]:
        """Find entities in many documents at once.

        Windows of all documents are sorted by length and run in batches with dynamic padding.

        Args:
            texts: documents; empty or whitespace-only ones get ``[]``.

        Returns:
            for each document, its spans sorted by start, with offsets into that document.
        """
        probs = self.predict_word_probs(texts)
        meta = self.meta
        threshold = meta.decoding.o_threshold if self.o_threshold is None else self.o_threshold
        out: list[list[NerSpan]] = []
        for encoded, word_probs in zip(probs.encoded, probs.word_probs, strict=True):
            if encoded is None:
                out.append([])
                continue
            spans = decode_words(
                encoded.words,
                word_probs,
                meta.labels,
                o_threshold=threshold,
                min_score=meta.decoding.min_score,
                text=encoded.text,
            )
            out.append([NerSpan(s, e, label, score) for s, e, label, score in spans])
        return out

    def predict_word_probs(self, texts: Sequence[str]) -> WordProbs:
        """Return per-word tag probabilities (used for threshold tuning and by :meth:`predict`)."""
        import torch

        self.load()
        assert self._loaded is not None
        tokenizer, model, meta = self._loaded
        if self.num_threads is not None:
            torch.set_num_threads(self.num_threads)
        max_positions = int(model.config.max_position_embeddings)
        max_length = min(self.max_length, max_positions)
        content = max_length - 2
        stride = min(self.stride, content - 1)
        keep = [i for i, text in enumerate(texts) if text and not text.isspace()]
        use_case = meta.case_feature
        encoded_kept = encode_documents(tokenizer, [texts[i] for i in keep], case=use_case)
        encoded: list[Encoded | None] = [None] * len(texts)
        for i, enc in zip(keep, encoded_kept, strict=True):
            encoded[i] = enc
        n_tags = len(bio_labels(meta.labels))
        token_probs: list[np.ndarray | None] = [
            None if enc is None else np.zeros((len(enc.input_ids), n_tags), dtype=np.float32)
            for enc in encoded
        ]
        jobs: list[tuple[int, Window]] = [
            (doc, window)
            for doc, enc in enumerate(encoded)
            if enc is not None and enc.input_ids
            for window in plan_windows(len(enc.input_ids), content, stride)
        ]
        jobs.sort(key=lambda job: job[1].end - job[1].start)
        cls_id, sep_id, pad_id = tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id
        ranges = plan_batches([w.end - w.start + 2 for _, w in jobs], self.batch_size)
        with torch.inference_mode():
            for first, last in ranges:
                batch = jobs[first:last]
                width = max(w.end - w.start for _, w in batch) + 2
                ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                shapes = torch.zeros((len(batch), width), dtype=torch.long) if use_case else None
                for row, (doc, w) in enumerate(batch):
                    enc = encoded[doc]
                    assert enc is not None
                    seq = [cls_id, *enc.input_ids[w.start : w.end], sep_id]
                    ids[row, : len(seq)] = torch.tensor(seq)
                    mask[row, : len(seq)] = 1
                    if shapes is not None:  # [CLS] and [SEP] keep shape 0 (no cased letter)
                        assert enc.case_ids is not None
                        shapes[row, 1 : len(seq) - 1] = torch.tensor(enc.case_ids[w.start : w.end])
                extra = {} if shapes is None else {"token_type_ids": shapes}
                logits = model(input_ids=ids, attention_mask=mask, **extra).logits
                batch_probs = torch.softmax(logits.float(), dim=-1).numpy()
                for row, (doc, w) in enumerate(batch):
                    target = token_probs[doc]
                    assert target is not None
                    lo, hi = w.own_start - w.start + 1, w.own_end - w.start + 1
                    target[w.own_start : w.own_end] = batch_probs[row, lo:hi]
        word_probs: list[np.ndarray | None] = []
        for enc, tp in zip(encoded, token_probs, strict=True):
            if enc is None or tp is None:
                word_probs.append(None)
            else:
                word_probs.append(tp[[word.first_token for word in enc.words]])
        return WordProbs(encoded, word_probs)


#: The fixed cost of one forward pass (Python and kernel launches of 6 layers), in tokens of
#: computation: about 10 ms for MiniLM-L6 in bf16 on one CPU thread, where a token costs about
#: 0.15 ms (best of 5 per shape, 1x4 to 32x256). Batches are cut where the padding they would
#: carry costs more than a new pass.
PASS_OVERHEAD_TOKENS = 64


def plan_batches(
    widths: Sequence[int], max_rows: int, overhead_tokens: int = PASS_OVERHEAD_TOKENS
) -> list[tuple[int, int]]:
    """Cut rows sorted by width into batches that waste the least computation on padding.

    A batch costs ``rows x widest row + overhead_tokens`` token-computations; the batches are the
    contiguous ranges of ``widths`` that minimise the total (dynamic programming over at most
    ``max_rows`` rows per batch). Rows of very different widths thus go to different batches even
    when fewer than ``max_rows`` are left, as in the small shards of a small input.

    Args:
        widths: row widths in tokens, in ascending order.
        max_rows: most rows per batch.
        overhead_tokens: the fixed cost of a forward pass, in tokens.

    Returns:
        ``(first, last)`` ranges (``last`` exclusive) covering ``widths`` in order.
    """
    n = len(widths)
    if any(b < a for a, b in zip(widths, widths[1:], strict=False)):
        raise ValueError("widths must be sorted in ascending order")
    best = [0.0] + [math.inf] * n  # best[j]: least cost of the first j rows
    cut = [0] * (n + 1)
    for last in range(1, n + 1):
        width = widths[last - 1]  # the widest row of any batch ending here
        for first in range(max(0, last - max_rows), last):
            cost = best[first] + (last - first) * width + overhead_tokens
            if cost < best[last]:
                best[last], cut[last] = cost, first
    ranges: list[tuple[int, int]] = []
    last = n
    while last > 0:
        ranges.append((cut[last], last))
        last = cut[last]
    return ranges[::-1]


@dataclass
class WordProbs:
    """Per-document words and their tag probabilities (None for skipped documents)."""

    encoded: list[Encoded | None]
    word_probs: list[np.ndarray | None]


PRECISIONS = ("auto", "fp32", "bf16", "int8")


def native_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 natively (AVX512-BF16 or AMX, through oneDNN)."""
    import torch

    try:
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # pragma: no cover - torch without the probe
        return False


def resolve_precision(precision: str) -> str:
    """``auto`` -> ``bf16`` on a CPU with native bfloat16, else ``fp32``; other values unchanged.

    Without native support bf16 is emulated (slower, per oneDNN; not measured here), so ``auto``
    never picks it there.
    """
    if precision != "auto":
        return precision
    return "bf16" if native_bf16() else "fp32"


def quantize_int8(model: Any) -> Any:
    """``model`` with every ``nn.Linear`` replaced by a dynamically quantized int8 one (in place).

    Weights are quantized per output channel (per-tensor scales cost the default model twice as
    much recall); activations are quantized per batch at run time, so a text's probabilities depend
    slightly on the texts batched with it (the fp32 path does not). Embeddings and layer norms stay
    fp32. Uses torch's eager dynamic quantization, which ships with the pinned torch.
    """
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao deprecation notices; the API is present in the pin
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        return quantize_dynamic(model, {torch.nn.Linear: per_channel_dynamic_qconfig}, inplace=True)


def apply_precision(model: Any, precision: str) -> tuple[Any, str]:
    """``model`` (fp32) converted to ``precision`` once resolved, and the resolved precision."""
    resolved = resolve_precision(precision)
    if resolved == "int8":
        model = quantize_int8(model)
    elif resolved == "bf16":
        import torch

        model = model.to(dtype=torch.bfloat16)
    return model, resolved


def _load(model_dir: Path, meta: ModelMeta) -> tuple[Any, Any, ModelMeta]:
    from deid._offline import ensure_offline

    ensure_offline()
    from transformers import BertConfig, BertForTokenClassification, PreTrainedTokenizerFast

    try:
        config = BertConfig.from_json_file(str(model_dir / "config.json"))
        tokenizer = PreTrainedTokenizerFast.from_pretrained(str(model_dir))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{model_dir}: cannot read config or tokenizer ({exc})") from exc
    expected = bio_labels(meta.labels)
    if [config.id2label[i] for i in range(len(expected))] != expected or config.num_labels != len(expected):
        raise ModelLoadError(f"{model_dir}: config.json labels do not match {META_FILE_NAME}")
    if meta.case_feature and config.type_vocab_size < N_CASE_IDS:
        raise ModelLoadError(
            f"{model_dir}: {META_FILE_NAME} asks for the case feature but config.json has "
            f"type_vocab_size {config.type_vocab_size} (needs {N_CASE_IDS})"
        )
    with _no_init_weights():
        # Every parameter is overwritten by the state dict below (a missing one is an error), so the
        # random initialisation of the constructor (about 0.2 s a worker) is skipped.
        model = BertForTokenClassification(config)
    state = load_state_dict(model_dir, meta)
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [name for name in missing if not name.endswith("position_ids")]
    if missing or unexpected:
        raise ModelLoadError(
            f"{model_dir}: weights do not match config (missing {missing[:3]}, unexpected {unexpected[:3]})"
        )
    model.eval()
    logger.info("loaded NER model %s (%d labels)", meta.name, len(meta.labels))
    return tokenizer, model, meta


def _no_init_weights() -> Any:
    """transformers' context that skips weight initialisation (a no-op context where it is absent)."""
    try:
        from transformers.initialization import no_init_weights
    except ImportError:  # pragma: no cover - other transformers versions
        import contextlib

        return contextlib.nullcontext()
    return no_init_weights()


META_FILE_NAME = "deid_model.json"
