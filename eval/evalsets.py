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
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from deid.errors import ConfigError
from deid.ner.data import Document, map_labels, read_conll

SPLITS_FILE = Path(__file__).with_name("splits.yaml")
DOCSTART = "-DOCSTART-"
_PATIENT = re.compile(r"^physionet-(\d+)-\d+$")


def load_splits(path: str | Path = SPLITS_FILE) -> dict[str, Any]:
    """The split definitions (``eval/splits.yaml``)."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def glue_prefix_tokens(doc: Document, prefixes: str = "@#") -> Document:
    """Join a lone ``@`` or ``#`` token to the token after it, as the tweet had it (``@ bob`` -> ``@bob``).

    Tokenised tweets (Broad Twitter Corpus) split mentions and hashtags; deid meets them whole. Spans
    are moved with the text, and a prefix span followed by a span of the same label (BTC tags ``@``
    and the handle as two B- entities) becomes one span.
    """
    text = doc.text
    drop = {
        i + 1
        for i, ch in enumerate(text[:-2])
        if ch in prefixes
        and (i == 0 or text[i - 1].isspace())
        and text[i + 1] == " "
        and not text[i + 2].isspace()
    }
    if not drop:
        return doc
    new_index = []
    kept = 0
    for i in range(len(text) + 1):
        new_index.append(kept)
        kept += i < len(text) and i not in drop
    new_text = "".join(ch for i, ch in enumerate(text) if i not in drop)
    spans: list[tuple[int, int, str]] = []
    for start, end, label in sorted(doc.spans):
        s, e = new_index[start], new_index[end]
        if spans and spans[-1][1] == s and spans[-1][2] == label and new_text[spans[-1][0]] in prefixes:
            spans[-1] = (spans[-1][0], e, label)
        else:
            spans.append((s, e, label))
    return Document(doc.id, new_text, spans, doc.source)


def read_conll_documents(
    path: str | Path,
    *,
    label_map: Mapping[str, str | None] | None = None,
    name: str | None = None,
    glue: str = "",
) -> list[Document]:
    """Read a CoNLL file as documents (``-DOCSTART-`` separated; else one document per sentence).

    Args:
        path: the CoNLL file (token first, tag last on each line; BIO or IO tags).
        label_map: tag types to Presidio labels (None drops a type).
        name: document id prefix (default: the file's stem).
        glue: prefix characters to join to the next token (see :func:`glue_prefix_tokens`).

    Returns:
        Documents ``<name>-<n>`` (1-based) with spans in Python string offsets.
    """
    path = Path(path)
    name = name or path.stem
    sentences = list(read_conll(path, source=name))
    if glue:
        sentences = [glue_prefix_tokens(s, glue) for s in sentences]
    if not any(s.text.startswith(DOCSTART) for s in sentences):
        docs = [Document(f"{name}-{i}", s.text, s.spans, name) for i, s in enumerate(sentences, start=1)]
        return list(map_labels(docs, label_map)) if label_map is not None else docs
    docs: list[Document] = []
    texts: list[str] = []
    spans: list[tuple[int, int, str]] = []

    def flush() -> None:
        if texts:
            docs.append(Document(f"{name}-{len(docs) + 1}", "\n".join(texts), list(spans), name))
        texts.clear()
        spans.clear()

    for sentence in sentences:
        if sentence.text.startswith(DOCSTART):
            flush()
            continue
        offset = sum(len(t) + 1 for t in texts)
        texts.append(sentence.text)
        spans.extend((start + offset, end + offset, label) for start, end, label in sentence.spans)
    flush()
    return list(map_labels(docs, label_map)) if label_map is not None else docs


def drop_gold_words(docs: Sequence[Document], words: Sequence[str]) -> list[Document]:
    """Drop gold spans whose whole text, lower-cased, is one of ``words`` (role words, not personal data)."""
    banned = {w.lower() for w in words}
    return [
        Document(d.id, d.text, [s for s in d.spans if d.text[s[0] : s[1]].lower() not in banned], d.source)
        for d in docs
    ]


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


def patient_id(doc_id: str) -> int:
    """The patient number of a PhysioNet note id (``physionet-<patient>-<note>``)."""
    match = _PATIENT.match(doc_id)
    if not match:
        raise ValueError(f"not a PhysioNet note id: {doc_id!r}")
    return int(match.group(1))


@dataclass(frozen=True)
class Fold:
    """One cross-validation fold: decide on ``fit``, measure on ``validation`` (disjoint patients)."""

    index: int
    patients: tuple[int, ...]
    fit: tuple[Document, ...]
    validation: tuple[Document, ...]


def physionet_patient_folds(docs: Sequence[Document], *, k: int = 5, seed: int = 10) -> list[Fold]:
    """Split PhysioNet notes into ``k`` folds by patient (all notes of a patient in one fold).

    Patients are shuffled with ``seed`` and dealt round-robin, so folds differ in size by at most
    one patient; the result depends only on the set of patient ids, ``k`` and ``seed``.

    Raises:
        ValueError: fewer patients than folds, or an id that is not a PhysioNet note id.
    """
    patients = sorted({patient_id(d.id) for d in docs})
    if len(patients) < k or k < 2:
        raise ValueError(f"{len(patients)} patients cannot make {k} folds")
    random.Random(seed).shuffle(patients)
    fold_of = {p: i % k for i, p in enumerate(patients)}
    folds = []
    for index in range(k):
        members = tuple(sorted(p for p, f in fold_of.items() if f == index))
        folds.append(
            Fold(
                index,
                members,
                tuple(d for d in docs if fold_of[patient_id(d.id)] != index),
                tuple(d for d in docs if fold_of[patient_id(d.id)] == index),
            )
        )
    return folds


def subsample(docs: Sequence[Document], n: int | None, *, seed: int) -> list[Document]:
    """``n`` documents drawn without replacement with ``seed``, in their original order (all when None)."""
    if n is None or n >= len(docs):
        return list(docs)
    keep = sorted(random.Random(seed).sample(range(len(docs)), n))
    return [docs[i] for i in keep]
