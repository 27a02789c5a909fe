"""The evaluation suite's data: held-out and decision parts, patient folds, subsampling.

The split definitions live in ``eval/splits.yaml`` (read by :func:`load_splits`); this module turns
them into :class:`deid.ner.data.Document` lists with Presidio labels.

- :func:`physionet_patient_folds`: cross-validation folds of the PhysioNet training notes by patient
  (deterministic), the protocol for deciding thresholds, filters, lexicon words and checkpoints.
- :func:`general_ner_documents`: ``general_ner/`` by genre, its held-out part or the rest (the
  "decision" part, the only part future training and tuning may read).
- :func:`read_conll_documents`: CoNLL files whose ``-DOCSTART-`` lines separate documents (wikigold,
  SEC filings) read as whole documents, sentences joined by newlines; files without them give one
  document per sentence (tweets).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from deid.errors import ConfigError
from deid.ner.corpora import (  # noqa: F401  (re-exported: the suite's readers live in deid)
    DOCSTART,
    Fold,
    drop_gold_words,
    glue_prefix_tokens,
    patient_id,
    physionet_patient_folds,
    read_conll_documents,
)
from deid.ner.data import Document

SPLITS_FILE = Path(__file__).with_name("splits.yaml")


def load_splits(path: str | Path = SPLITS_FILE) -> dict[str, Any]:
    """The split definitions (``eval/splits.yaml``)."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def _select(docs: list[Document], entry: Mapping[str, Any], held_out: bool) -> list[Document]:
    every, offset = entry.get("every"), entry.get("offset", 0)
    if not every:
        return docs if held_out else []
    return [d for i, d in enumerate(docs) if (i % every == offset) == held_out]


def general_ner_documents(data_dir: str | Path, *, part: str = "held_out") -> dict[str, list[Document]]:
    """``general_ner`` documents by genre.

    Args:
        data_dir: the data directory (holds ``general_ner/``).
        part: ``held_out`` (what ``eval/splits.yaml`` holds out) or ``decision`` (every other
            document of the same genres: the only part that training or tuning may read).

    Returns:
        ``{genre: documents}`` with PERSON, LOCATION and ORGANIZATION spans (MISC and the role words
        of ``not_personal`` in ``eval/splits.yaml`` dropped).
    """
    if part not in ("held_out", "decision"):
        raise ConfigError(f"unknown part {part!r} (expected held_out or decision)")
    splits = load_splits()["general_ner"]
    label_map = splits["label_map"]
    not_personal = splits.get("not_personal", [])
    glue_of = splits.get("glue", {})
    folder = Path(data_dir) / "general_ner"
    held = {entry["file"]: entry for entry in splits["held_out"]}
    out: dict[str, list[Document]] = {}
    if part == "held_out":
        for file, entry in held.items():
            glue = glue_of.get(Path(file).stem.split("_")[0], "")
            docs = read_conll_documents(Path(data_dir) / file, label_map=label_map, glue=glue)
            out[entry["genre"]] = drop_gold_words(_select(docs, entry, held_out=True), not_personal)
        return out
    genre_of = {Path(file).stem.split("_")[0]: entry["genre"] for file, entry in held.items()}
    for path in sorted(folder.glob("*.conll")):
        relative = f"general_ner/{path.name}"
        entry = held.get(relative, {})
        glue = glue_of.get(path.stem.split("_")[0], "")
        docs = read_conll_documents(path, label_map=label_map, glue=glue)
        docs = _select(docs, entry, held_out=False) if entry else docs
        if docs:
            out.setdefault(genre_of.get(path.stem.split("_")[0], path.stem), []).extend(
                drop_gold_words(docs, not_personal)
            )
    return out


def subsample(docs: Sequence[Document], n: int | None, *, seed: int) -> list[Document]:
    """``n`` documents drawn without replacement with ``seed``, in their original order (all when None)."""
    if n is None or n >= len(docs):
        return list(docs)
    keep = sorted(random.Random(seed).sample(range(len(docs)), n))
    return [docs[i] for i in keep]
