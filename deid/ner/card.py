"""The model card (README.md) written into every trained model directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deid.ner.config import NerTrainConfig
from deid.ner.metrics import ANY
from deid.ner.modeldir import ModelMeta


def _entity_rows(dev: dict[str, Any]) -> list[str]:
    rows = [
        "| type | gold | pred | P (overlap) | R (overlap) | F1 (overlap) | F1 (exact) |",
        "|---|---|---|---|---|---|---|",
    ]
    overlap, exact = dev["entity"]["overlap"], dev["entity"]["exact"]
    for t in sorted(overlap, key=lambda k: (k == ANY, k)):
        o, e = overlap[t], exact.get(t, {})
        rows.append(
            f"| {t} | {o['n_gold']} | {o['n_pred']} | {o['precision']:.3f} | {o['recall']:.3f} | {o['f1']:.3f} | {e.get('f1', 0):.3f} |"
        )
    return rows


def _dev_sets_text(config: NerTrainConfig) -> str:
    """The dev sets that tuned the decoding threshold, by name and files (with their selection)."""
    parts = []
    for dev in config.dev_sets:
        if not dev.tune_threshold:
            continue
        files = ", ".join(f"`{p}`" for p in dev.paths)
        sel = dev.select
        if sel is None:
            how = ""
        elif sel.by == "patient":
            how = f" (patients of fold {sel.offset} of {sel.every}, seed {sel.seed}{', the other folds' if sel.keep == 'rest' else ''})"
        else:
            how = f" ({'all but ' if sel.keep == 'rest' else ''}documents i with i % {sel.every} == {sel.offset})"
        parts.append(f"{dev.name}: {files}{how}")
    return "; ".join(parts) or "none"


def write_model_card(
    out_dir: Path,
    config: NerTrainConfig,
    meta: ModelMeta,
    metrics: dict[str, Any],
    config_path: str | None = None,
) -> Path:
    """Write ``README.md``: purpose, data, configuration, metrics and the base encoder it expects.

    Args:
        out_dir: the model directory.
        config: the training configuration.
        meta: the model's metadata (labels, base encoder, decoding threshold).
        metrics: the metrics written to ``metrics.json``.
        config_path: the configuration file, for the reproduce line.

    Returns:
        the card's path.
    """
    base = meta.base_encoder
    tc = config.training
    lines = [
        f"# {meta.name}",
        "",
        config.description or "Token classifier for personal data, trained with `deid ner train`.",
        "",
        "Load it with `deid.ner.inference.NerModel(path)`; use it through `deid detect` / `deid redact`.",
        "",
        "## Labels",
        "",
        ", ".join(meta.labels)
        + f" (BIO tags; a word is an entity when P(O) < {meta.decoding.o_threshold}, "
        + (
            "tuned on the dev sets)."
            if config.decoding.tune
            else "chosen on the dev sets through the whole pipeline: see `training_config.yaml`)."
        ),
        "",
        "## Base encoder",
        "",
    ]
    if base is not None:
        where = f"package `{base.package}`" if base.package else f"directory `{base.path}`"
        lines += [
            f"- {where}, weights file `model.safetensors`",
            f"- sha256 `{base.sha256}` (verified at load when tensors are borrowed)",
            f"- tensors read from the base encoder at load: {', '.join(f'`{n}`' for n in base.tensors_from_base) or 'none'}",
        ]
    lines += [
        f"- stored weights: {meta.weights_dtype}",
        "",
        "## Training data",
        "",
        "| source | kind | documents | windows | windows with entities | weight | spans |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, info in metrics.get("data", {}).items():
        spans = ", ".join(f"{k} {v}" for k, v in info["spans"].items())
        if info.get("unannotated"):
            spans += (
                f" (not annotated, left out of the loss where they appear: {', '.join(info['unannotated'])})"
            )
        lines.append(
            f"| {name} | {info['kind']} | {info['documents']} | {info['windows']} | {info['windows_with_entities']} | {info['weight']} | {spans} |"
        )
    lines += [
        "",
        "## Configuration",
        "",
        f"method {tc.method}, seed {tc.seed}, epochs {tc.epochs}, lr {tc.lr}, batch size {tc.batch_size}, "
        f"max length {tc.max_length}, stride {tc.stride}, entity loss weight {tc.entity_loss_weight}, "
        f"word embeddings {'frozen' if tc.freeze_word_embeddings else 'trained'}"
        + (
            f", case feature on (windows read as lower case {tc.case_lower_prob}, as upper case {tc.case_upper_prob})"
            if tc.case_feature
            else ""
        )
        + "; "
        f"{metrics.get('steps')} steps in {metrics.get('train_seconds', 0) / 60:.1f} min "
        f"(best dev checkpoint at step {metrics.get('best_step')}). Full configuration: `training_config.yaml`.",
        "",
        (
            f"Initialised from `{tc.init_from}` (a first training stage; its model card and metrics are in its output directory)."
            if tc.init_from
            else ""
        ),
        "",
        f"Reproduce: `deid ner train --config {config_path or '<config>.yaml'} --overwrite`",
        "",
    ]
    dev = metrics.get("dev")
    if dev:
        char = dev["char"]
        lines += [
            "## Dev metrics (model alone)",
            "",
            f"Dev set: {_dev_sets_text(config)}. Character level (label-agnostic, non-whitespace): "
            f"leak rate **{char['leak_rate']:.4f}** (share of gold PII characters uncovered), char precision "
            f"**{char['char_precision']:.4f}**; documents leaking {dev['documents']['leaking']}/{dev['documents']['with_gold']}.",
            "",
            *_entity_rows(dev),
            "",
        ]
    per_set = metrics.get("dev_sets")
    if per_set:
        lines += [
            "Every dev set (these chose the checkpoint: tuning data, not an evaluation):",
            "",
            "| dev set | leak | char precision |",
            "|---|---|---|",
            *(
                f"| {name} | {m['char']['leak_rate']:.4f} | {m['char']['char_precision']:.4f} |"
                for name, m in per_set.items()
            ),
            "",
        ]
    lines += [
        "## Limits",
        "",
        "English only. Trained on the sources above; expect lower recall on genres they do not cover. Phone "
        "numbers are learnt as well as matched by patterns; e-mails, IDs, URLs and ages are left to deid's "
        "pattern recognizers. The dev sets chose the checkpoint and the decoding threshold: their numbers "
        "are tuning data. Untouched numbers are the held-out sets of `make eval` (`eval/splits.yaml`), "
        "which no training config may read (`tests/eval/test_held_out_configs.py`).",
        "",
    ]
    path = Path(out_dir) / "README.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
