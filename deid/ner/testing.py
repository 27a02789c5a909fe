"""Helpers for tests: a tiny randomly initialised model in the real model-directory layout."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from deid.ner.modeldir import BaseEncoderRef, ModelMeta, bio_labels, save_model_dir


def base_tokenizer_dir() -> Path:
    """Return the pinned base encoder's directory (it holds the tokenizer files)."""
    return BaseEncoderRef().model_dir()


def build_tiny_model(
    out_dir: Path,
    labels: Sequence[str] = ("PERSON", "LOCATION", "DATE_TIME"),
    seed: int = 0,
    *,
    max_positions: int = 512,
    context_free: bool = False,
) -> Path:
    """Write a tiny random BERT token classifier (2 layers, hidden 32) that :class:`NerModel` loads.

    It uses the base encoder's tokenizer and stores all of its weights (nothing borrowed from the base
    encoder), so it needs no hash check. Its predictions are random but deterministic for a seed.

    Args:
        out_dir: directory to write (created).
        labels: entity labels.
        seed: torch seed for the initial weights.
        max_positions: position embeddings (the longest window it accepts).
        context_free: no transformer layers and zero position embeddings, so that each token's
            prediction depends on that token alone; windowing must then not change any prediction.

    Returns:
        ``out_dir``.
    """
    from deid._offline import ensure_offline

    ensure_offline()
    import torch
    from transformers import BertConfig, BertForTokenClassification

    tags = bio_labels(list(labels))
    config = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=0 if context_free else 2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=max_positions,
        num_labels=len(tags),
        id2label=dict(enumerate(tags)),
        label2id={tag: i for i, tag in enumerate(tags)},
    )
    torch.manual_seed(seed)
    model = BertForTokenClassification(config)
    if context_free:
        with torch.no_grad():
            model.bert.embeddings.position_embeddings.weight.zero_()
            # a larger head makes confident, varied predictions from token identity alone
            model.classifier.weight.mul_(10.0)
    meta = ModelMeta(name="tiny-test-model", labels=list(labels), base_encoder=None, max_length=max_positions)
    return save_model_dir(Path(out_dir), model, base_tokenizer_dir(), meta, dtype="float32")
