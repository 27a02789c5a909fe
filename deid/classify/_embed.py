"""Shared pieces of the embedding-based methods: whole-document embeddings and a logistic head.

Long documents are read whole: a document is cut into windows of ``max_length`` tokens (at most
``max_chunks`` of them, the rest is dropped and counted), each window is embedded, and the
document's embedding is the mean of its windows' embeddings, L2-normalised.

The logistic head is stored as plain arrays (``coef``, ``intercept``; no pickle) and applied as
scikit-learn's ``LogisticRegression.predict_proba`` does (sigmoid for two classes, softmax otherwise).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)


_CACHE: contextvars.ContextVar[dict[tuple[Any, ...], np.ndarray] | None] = contextvars.ContextVar(
    "deid_classify_embedding_cache", default=None
)


@contextlib.contextmanager
def shared_frozen_embeddings() -> Iterator[None]:
    """Within the block, methods over the same *frozen* encoder share document embeddings.

    ``deid classify compare`` trains ``frozen``, ``pii-aware`` and ``zero-shot`` on the same samples
    and scores them on the same test set; each would otherwise embed every document again.
    """
    token = _CACHE.set({})
    try:
        yield
    finally:
        _CACHE.reset(token)


def embed_frozen(
    body: Any, key: str, texts: Sequence[str], *, max_length: int, max_chunks: int
) -> np.ndarray:
    """:func:`embed_documents` through the cache of :func:`shared_frozen_embeddings` when one is open.

    ``key`` names the (unchanging) encoder, e.g. its directory.
    """
    cache = _CACHE.get()
    if cache is None:
        return embed_documents(body, texts, max_length=max_length, max_chunks=max_chunks)
    keys = [(key, max_length, max_chunks, str(t)) for t in texts]
    missing = list(dict.fromkeys(k for k in keys if k not in cache))
    if missing:
        vectors = embed_documents(body, [k[3] for k in missing], max_length=max_length, max_chunks=max_chunks)
        cache.update(zip(missing, vectors, strict=True))
    if not keys:
        return embed_documents(body, [], max_length=max_length, max_chunks=max_chunks)
    return np.stack([cache[k] for k in keys])


def load_sentence_encoder(path: str | Path, max_length: int) -> Any:
    """A ``SentenceTransformer`` on the CPU, quietly loaded, in eval mode."""
    from deid._offline import ensure_offline
    from deid._quiet import quiet_libraries

    ensure_offline()
    with quiet_libraries():
        from sentence_transformers import SentenceTransformer

        body = SentenceTransformer(str(path), device="cpu")
    body.max_seq_length = max_length
    body.eval()
    return body


def chunk_documents(
    tokenizer: Any, texts: Sequence[str], max_length: int, max_chunks: int
) -> tuple[list[str], np.ndarray]:
    """Cut each text into windows of at most ``max_length - 2`` tokens (room for [CLS] and [SEP]).

    Returns:
        ``(chunks, owner)``: the window texts (character slices of the originals) and, per window,
        the index of its document. Every document has at least one window (an empty text one
        empty window).
    """
    width = max(1, max_length - 2)
    chunks: list[str] = []
    owner: list[int] = []
    truncated = 0
    from deid._quiet import quiet_libraries

    with quiet_libraries():  # "sequence longer than the model's maximum": expected, we cut it here
        encoded = tokenizer(
            [str(t) for t in texts], add_special_tokens=False, return_offsets_mapping=True, truncation=False
        )
    for doc, (text, offsets) in enumerate(zip(texts, encoded["offset_mapping"], strict=True)):
        text = str(text)
        if len(offsets) <= width:
            chunks.append(text)
            owner.append(doc)
            continue
        starts = list(range(0, len(offsets), width))
        if len(starts) > max_chunks:
            truncated += 1
            starts = starts[:max_chunks]
        for start in starts:
            end = min(start + width, len(offsets)) - 1
            chunks.append(text[offsets[start][0] : offsets[end][1]])
            owner.append(doc)
    if truncated:
        logger.info("%d documents longer than %d windows were cut", truncated, max_chunks)
    return chunks, np.asarray(owner, dtype=np.int64)


def embed_documents(
    body: Any, texts: Sequence[str], *, max_length: int, max_chunks: int = 8, batch_size: int = 32
) -> np.ndarray:
    """Whole-document sentence embeddings: the mean of the window embeddings, L2-normalised.

    Args:
        body: a ``SentenceTransformer``.
        texts: the documents.
        max_length: tokens per window.
        max_chunks: windows per document at most (``1``: the first ``max_length`` tokens only).
        batch_size: windows per forward pass.

    Returns:
        ``(len(texts), dim)`` float64 array.
    """
    import torch

    if len(texts) == 0:
        return np.zeros((0, body.get_sentence_embedding_dimension() or 0))
    chunks, owner = chunk_documents(body.tokenizer, texts, max_length, max_chunks)
    # Sorting by length keeps padding (and so wasted compute) small within a batch.
    order = np.argsort([len(c) for c in chunks], kind="stable")
    with torch.inference_mode():
        sorted_vectors = body.encode(
            [chunks[i] for i in order],
            batch_size=batch_size,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
    vectors = np.empty_like(sorted_vectors, dtype=np.float64)
    vectors[order] = sorted_vectors
    out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float64)
    np.add.at(out, owner, vectors)
    out /= np.bincount(owner, minlength=len(texts))[:, None]
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms > 0, norms, 1.0)


def fit_logistic_head(
    x: np.ndarray, y: np.ndarray, *, c: float, seed: int, class_weight: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Fit scikit-learn's logistic regression; return ``(coef, intercept)`` as float64 arrays."""
    from sklearn.linear_model import LogisticRegression

    head = LogisticRegression(C=c, max_iter=2000, random_state=seed, class_weight=class_weight)
    head.fit(x, y)
    return np.asarray(head.coef_, dtype=np.float64), np.asarray(head.intercept_, dtype=np.float64)


def head_proba(x: np.ndarray, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    """Probabilities of a logistic head stored as arrays (scikit-learn's binary/multinomial rule)."""
    scores = x @ coef.T + intercept
    if coef.shape[0] == 1:  # binary: scikit-learn's single decision function
        positive = 1.0 / (1.0 + np.exp(-scores[:, 0]))
        return np.column_stack([1.0 - positive, positive])
    scores = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    return exp / exp.sum(axis=1, keepdims=True)


def head_cross_val_proba(
    x: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    n_folds: int,
    *,
    c: float,
    seed: int,
    class_weight: str | None = None,
) -> np.ndarray:
    """Out-of-fold probabilities of a logistic head refitted per fold on fixed features."""
    from deid.classify.calibration import stratified_folds

    out = np.zeros((len(y), n_classes), dtype=np.float64)
    for train_idx, test_idx in stratified_folds(y, n_folds, seed):
        present = np.unique(y[train_idx])
        if len(present) < 2:
            out[np.ix_(test_idx, present)] = 1.0
            continue
        remap = {int(c_): i for i, c_ in enumerate(present)}
        coef, intercept = fit_logistic_head(
            x[train_idx],
            np.asarray([remap[int(v)] for v in y[train_idx]]),
            c=c,
            seed=seed,
            class_weight=class_weight,
        )
        out[np.ix_(test_idx, present)] = head_proba(x[test_idx], coef, intercept)
    return out
