"""Supervised fine-tuning: the encoder and a classification head trained together (cross-entropy).

Weights: ``classifier.safetensors`` (full, or the tensors that differ from the pinned encoder),
``config.json`` (the transformers config with the label maps) and the tokenizer files.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from deid._quiet import quiet_libraries
from deid.classify._weights import (
    check_base,
    choose_store,
    load_module_weights,
    save_module_weights,
    snapshot,
)
from deid.classify.base import DocumentClassifier
from deid.classify.registry import register_method
from deid.mlm.encoder import PINNED_ENCODER, is_pinned, resolve_encoder

logger = logging.getLogger(__name__)

_WEIGHTS = "classifier.safetensors"


def freeze_word_embeddings(model: Any) -> None:
    """Stop gradients to the input word-embedding matrix (most of a small encoder's weights)."""
    model.get_input_embeddings().weight.requires_grad_(False)


@register_method("supervised")
class SupervisedClassifier(DocumentClassifier):
    """Encoder + linear head fine-tuned end to end with cross-entropy (``AutoModelForSequenceClassification``).

    Args:
        base: encoder name or directory (``None``: the pinned all-MiniLM-L6-v2).
        epochs: passes over the training set.
        min_steps: at least this many optimisation steps (few-shot sets are tiny: 64 examples are
            4 steps per epoch), i.e. more epochs when the set is small.
        max_steps: at most this many steps (``None``: no cap).
        lr: peak learning rate (linear warm-up then decay).
        batch_size: examples per step.
        max_length: tokens per window; training reads each document's first window.
        max_chunks: windows per document at prediction; their logits are averaged, so a long
            document is read whole (up to ``max_chunks x max_length`` tokens).
        warmup_ratio: share of steps spent warming up.
        weight_decay: AdamW weight decay.
        train_embeddings: also train the word-embedding matrix (off: fewer weights to store, and a
            regulariser for small sets).
        seed: seeds the head initialisation, shuffling and dropout.
        store: ``auto`` (delta over the pinned encoder when it is the base, else full), ``delta`` or ``full``.
        weights_dtype: ``float32`` or ``float16`` on disk.
    """

    def __init__(
        self,
        base: str | None = None,
        *,
        epochs: float = 3,
        min_steps: int = 60,
        max_steps: int | None = None,
        lr: float = 5e-5,
        batch_size: int = 16,
        max_length: int = 128,
        max_chunks: int = 8,
        warmup_ratio: float = 0.1,
        weight_decay: float = 0.01,
        train_embeddings: bool = False,
        seed: int = 0,
        store: str = "auto",
        weights_dtype: str = "float32",
    ):
        self.base = base
        self.epochs = epochs
        self.min_steps = min_steps
        self.max_steps = max_steps
        self.lr = lr
        self.batch_size = batch_size
        self.max_length = max_length
        self.max_chunks = max_chunks
        self.warmup_ratio = warmup_ratio
        self.weight_decay = weight_decay
        self.train_embeddings = train_embeddings
        self.seed = seed
        self.store = store
        self.weights_dtype = weights_dtype

    # The MLM variant overrides this to adapt the encoder first.
    def _prepare_encoder(self, texts: list[str]) -> tuple[Path, str | None]:
        """The encoder to start from, and the base name to record if weights are stored as a delta over it."""
        return resolve_encoder(self.base), PINNED_ENCODER if is_pinned(self.base) else str(self.base)

    def _release_encoder(self, path: Path) -> None:
        """Hook to delete a temporary encoder once training no longer needs it."""

    def _fit(self, texts: list[str], y: np.ndarray) -> None:
        from deid._offline import ensure_offline

        ensure_offline()
        import torch
        from transformers import (
            AutoModelForSequenceClassification,
            AutoTokenizer,
            get_linear_schedule_with_warmup,
            set_seed,
        )

        encoder, delta_base = self._prepare_encoder(texts)
        try:
            set_seed(self.seed)
            n_classes = len(self.classes_)
            with quiet_libraries():
                self.tokenizer_ = AutoTokenizer.from_pretrained(encoder)
                model = AutoModelForSequenceClassification.from_pretrained(
                    encoder,
                    num_labels=n_classes,
                    id2label=dict(enumerate(str(c) for c in self.classes_)),
                    label2id={str(c): i for i, c in enumerate(self.classes_)},
                )
        finally:
            self._release_encoder(encoder)
        self._delta_base = choose_store(self.store, delta_base)
        self._reference = snapshot(model) if self._delta_base is not None else None
        if not self.train_embeddings:
            freeze_word_embeddings(model)

        steps_per_epoch = math.ceil(len(texts) / self.batch_size)
        total = max(self.min_steps, math.ceil(steps_per_epoch * self.epochs))
        if self.max_steps is not None:
            total = min(total, self.max_steps)
        params = [p for p in model.parameters() if p.requires_grad]
        decay = [p for p in params if p.ndim > 1]
        no_decay = [p for p in params if p.ndim <= 1]
        optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": self.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
            lr=self.lr,
        )
        schedule = get_linear_schedule_with_warmup(optimizer, int(total * self.warmup_ratio), total)
        generator = torch.Generator().manual_seed(self.seed)
        labels = torch.as_tensor(y)
        logger.info("supervised: %d examples, %d classes, %d steps", len(texts), n_classes, total)
        model.train()
        step, losses = 0, []
        while step < total:
            for batch_idx in torch.randperm(len(texts), generator=generator).split(self.batch_size):
                if step >= total:
                    break
                batch = self.tokenizer_(
                    [texts[i] for i in batch_idx.tolist()],
                    truncation=True,
                    max_length=self.max_length,
                    padding=True,
                    return_tensors="pt",
                )
                loss = model(**batch, labels=labels[batch_idx]).loss
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                optimizer.step()
                schedule.step()
                optimizer.zero_grad(set_to_none=True)
                losses.append(loss.item())
                step += 1
                if step % 50 == 0 or step == total:
                    recent = losses[-50:]
                    logger.info("supervised step %d/%d loss %.4f", step, total, sum(recent) / len(recent))
        model.eval()
        self.model_ = model
        self.steps_ = total

    def _predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Softmax over the mean of the head's logits over each document's windows, batched."""
        self._check_fitted()
        import torch

        from deid.classify._embed import chunk_documents

        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, len(self.classes_)), dtype=np.float64)
        chunks, owner = chunk_documents(self.tokenizer_, texts, self.max_length, self.max_chunks)
        order = np.argsort([len(c) for c in chunks], kind="stable")
        logits = np.zeros((len(chunks), len(self.classes_)), dtype=np.float64)
        batch_size = max(self.batch_size, 32)
        with torch.inference_mode():
            for start in range(0, len(chunks), batch_size):
                picked = order[start : start + batch_size]
                batch = self.tokenizer_(
                    [chunks[i] for i in picked],
                    truncation=True,
                    max_length=self.max_length,
                    padding=True,
                    return_tensors="pt",
                )
                logits[picked] = self.model_(**batch).logits.float().numpy()
        pooled = np.zeros((len(texts), logits.shape[1]), dtype=np.float64)
        np.add.at(pooled, owner, logits)
        pooled /= np.bincount(owner, minlength=len(texts))[:, None]
        pooled -= pooled.max(axis=1, keepdims=True)
        exp = np.exp(pooled)
        return exp / exp.sum(axis=1, keepdims=True)

    def _save_weights(self, path: Path) -> dict[str, Any]:
        self.model_.config.save_pretrained(path)
        self.tokenizer_.save_pretrained(path)
        reference = getattr(self, "_reference", None)
        return save_module_weights(
            self.model_,
            path,
            _WEIGHTS,
            reference=reference,
            base=getattr(self, "_delta_base", None),
            dtype=self.weights_dtype,
        )

    def _load_weights(self, path: Path, info: dict[str, Any]) -> None:
        from deid._offline import ensure_offline

        ensure_offline()
        from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

        with quiet_libraries():
            config = AutoConfig.from_pretrained(path)
            self.tokenizer_ = AutoTokenizer.from_pretrained(path)
            if info["format"] == "delta":
                base_path = check_base(info)
                model = AutoModelForSequenceClassification.from_pretrained(base_path, config=config)
                self._reference = snapshot(model)
                self._delta_base = info["base"]
            else:
                model = AutoModelForSequenceClassification.from_config(config)
                self._reference = None
        load_module_weights(model, path, info)
        model.eval()
        self.model_ = model
