"""SetFit: contrastive fine-tuning of the sentence encoder on sampled pairs, then a logistic head.

Training uses the SetFit library (``setfit.Trainer``). Prediction needs only sentence-transformers
and numpy: the head is stored as plain arrays (``head.npz``: ``coef``, ``intercept``) rather than a
pickle, and applied as scikit-learn's ``LogisticRegression.predict_proba`` does (sigmoid for two
classes, softmax otherwise).

Weights: ``head.npz`` and either ``body.safetensors`` (the encoder tensors that differ from the
pinned encoder) or ``body/`` (a full SentenceTransformer directory).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

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

_BODY = "body.safetensors"
_HEAD = "head.npz"


@register_method("setfit")
class SetFitClassifier(DocumentClassifier):
    """SetFit few-shot classifier over a sentence encoder.

    Args:
        base: encoder name or directory (``None``: the pinned all-MiniLM-L6-v2).
        num_iterations: pairs drawn per training example and per epoch (SetFit's ``num_iterations``;
            pairs = 2 x iterations x examples).
        epochs: epochs of contrastive training.
        max_steps: cap on contrastive steps (``None``: no cap). With thousands of examples the pair
            count grows linearly; on a CPU cap it (``deid classify compare`` uses 20).
        lr: learning rate of the encoder during contrastive training.
        batch_size: pairs per step.
        max_length: tokens per document embedded (256: the sentence encoder sees most of a post or
            note; at 64 tokens, 16-shot macro-F1 on four newsgroups was 0.79, at 256 0.92).
        head_c: inverse regularisation strength of the logistic head.
        train_embeddings: also train the word-embedding matrix (off: smaller delta on disk).
        seed: seeds pair sampling and training.
        store: ``auto`` (delta over the pinned encoder when it is the base, else full), ``delta`` or ``full``.
        weights_dtype: ``float32`` or ``float16`` on disk.
    """

    def __init__(
        self,
        base: str | None = None,
        *,
        num_iterations: int = 20,
        epochs: int = 1,
        max_steps: int | None = None,
        lr: float = 2e-5,
        batch_size: int = 16,
        max_length: int = 256,
        head_c: float = 1.0,
        train_embeddings: bool = False,
        seed: int = 0,
        store: str = "auto",
        weights_dtype: str = "float32",
    ):
        self.base = base
        self.num_iterations = num_iterations
        self.epochs = epochs
        self.max_steps = max_steps
        self.lr = lr
        self.batch_size = batch_size
        self.max_length = max_length
        self.head_c = head_c
        self.train_embeddings = train_embeddings
        self.seed = seed
        self.store = store
        self.weights_dtype = weights_dtype

    def _prepare_encoder(self, texts: list[str]) -> tuple[Path, str | None]:
        """The encoder to start from, and the base name to record if weights are stored as a delta over it."""
        return resolve_encoder(self.base), PINNED_ENCODER if is_pinned(self.base) else str(self.base)

    def _release_encoder(self, path: Path) -> None:
        """Hook to delete a temporary encoder once training no longer needs it."""

    def _fit(self, texts: list[str], y: np.ndarray) -> None:
        from deid._offline import ensure_offline

        ensure_offline()
        from datasets import Dataset
        from setfit import SetFitModel, Trainer, TrainingArguments
        from transformers.trainer_callback import ProgressCallback

        encoder, delta_base = self._prepare_encoder(texts)
        try:
            model = SetFitModel.from_pretrained(
                str(encoder), head_params={"C": self.head_c, "max_iter": 1000, "random_state": self.seed}
            )
        finally:
            self._release_encoder(encoder)
        body = model.model_body
        body.max_seq_length = self.max_length
        transformer = body[0].auto_model
        self._delta_base = choose_store(self.store, delta_base)
        self._reference = snapshot(transformer) if self._delta_base is not None else None
        if not self.train_embeddings:
            transformer.get_input_embeddings().weight.requires_grad_(False)

        workdir = tempfile.mkdtemp(prefix="deid-setfit-")
        try:
            args = TrainingArguments(
                output_dir=workdir,
                batch_size=self.batch_size,
                num_epochs=self.epochs,
                max_steps=-1 if self.max_steps is None else self.max_steps,
                num_iterations=self.num_iterations,
                body_learning_rate=self.lr,
                max_length=self.max_length,
                seed=self.seed,
                save_strategy="no",
                report_to="none",
                logging_strategy="no",
                logging_first_step=False,
                show_progress_bar=False,
            )
            dataset = Dataset.from_dict({"text": texts, "label": y.tolist()})
            trainer = Trainer(model=model, args=args, train_dataset=dataset)
            # SetFit ignores show_progress_bar for the contrastive phase, whose progress callback
            # also prints the loss dictionaries to stdout; the CLI's stdout is for results.
            trainer.remove_callback(ProgressCallback)
            trainer.train()
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        head = model.model_head
        self.body_ = body
        self.coef_ = np.asarray(head.coef_, dtype=np.float64)
        self.intercept_ = np.asarray(head.intercept_, dtype=np.float64)
        body.eval()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Sentence embeddings from the (fine-tuned) encoder."""
        self._check_fitted()
        return np.asarray(
            self.body_.encode(
                [str(t) for t in texts], batch_size=64, convert_to_numpy=True, show_progress_bar=False
            ),
            dtype=np.float64,
        )

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Logistic-head probabilities of the embeddings, columns in ``classes_`` order."""
        if len(texts) == 0:
            return np.zeros((0, len(self.classes_)))
        scores = self.embed(texts) @ self.coef_.T + self.intercept_
        if self.coef_.shape[0] == 1:  # binary: scikit-learn's single decision function
            positive = 1.0 / (1.0 + np.exp(-scores[:, 0]))
            return np.column_stack([1.0 - positive, positive])
        scores = scores - scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    def _save_weights(self, path: Path) -> dict[str, Any]:
        np.savez(path / _HEAD, coef=self.coef_, intercept=self.intercept_)
        reference = getattr(self, "_reference", None)
        if reference is None:
            # A self-contained SentenceTransformer directory (weights, config, tokenizer, pooling).
            self.body_.save(str(path / "body"))
            info: dict[str, Any] = {"format": "full", "dir": "body"}
        else:
            info = save_module_weights(
                self.body_[0].auto_model,
                path,
                _BODY,
                reference=reference,
                base=getattr(self, "_delta_base", None),
                dtype=self.weights_dtype,
            )
        info["head"] = _HEAD
        return info

    def _load_weights(self, path: Path, info: dict[str, Any]) -> None:
        from deid._offline import ensure_offline

        ensure_offline()
        from sentence_transformers import SentenceTransformer

        if info["format"] == "delta":
            body = SentenceTransformer(str(check_base(info)), device="cpu")
            self._reference = snapshot(body[0].auto_model)
            self._delta_base = info["base"]
            load_module_weights(body[0].auto_model, path, info)
        else:
            body = SentenceTransformer(str(path / info["dir"]), device="cpu")
            self._reference = None
        body.max_seq_length = self.max_length
        body.eval()
        self.body_ = body
        with np.load(path / info["head"]) as head:
            self.coef_ = head["coef"]
            self.intercept_ = head["intercept"]
