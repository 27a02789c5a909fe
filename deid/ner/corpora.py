"""Corpus readers shared by training and evaluation: CoNLL files as whole documents, tweet glue,
role-word filters, and document or patient selection (cross-validation folds by patient).

Training configs (``configs/ner/*.yaml``) and the evaluation suite (``eval/``) read the same data
through these functions, so a document that ``eval/splits.yaml`` holds out is held out the same way
in both (``tests/ner/test_held_out.py`` checks every shipped training config against it).
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from deid.ner.data import Document, map_labels, read_conll

DOCSTART = "-DOCSTART-"
_PATIENT = re.compile(r"^physionet-(\d+)-\d+$")


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
    fold_of = patient_fold_of(patients, k=k, seed=seed)
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


def patient_fold_of(patients: Sequence[int], *, k: int, seed: int) -> dict[int, int]:
    """The fold (0..k-1) of each patient: patients sorted, shuffled with ``seed``, dealt round-robin."""
    ordered = sorted(set(patients))
    random.Random(seed).shuffle(ordered)
    return {p: i % k for i, p in enumerate(ordered)}


def select_documents(
    docs: Sequence[Document],
    *,
    every: int,
    offset: int = 0,
    by: str = "document",
    seed: int | None = None,
    keep: str = "matching",
) -> list[Document]:
    """Keep every ``every``-th unit (or all the others): units are documents in file order, or patients.

    ``by="document"``: document ``i`` (0-based) matches when ``i % every == offset``.
    ``by="patient"``: patients are dealt into ``every`` folds as :func:`physionet_patient_folds` does
    (shuffled with ``seed``), and a note matches when its patient's fold is ``offset``.
    ``keep="rest"`` keeps the documents that do not match.
    """
    if by == "document":
        matches = [i % every == offset for i in range(len(docs))]
    elif by == "patient":
        fold_of = patient_fold_of([patient_id(d.id) for d in docs], k=every, seed=seed or 0)
        matches = [fold_of[patient_id(d.id)] == offset for d in docs]
    else:
        raise ValueError(f"unknown selection unit {by!r} (expected document or patient)")
    wanted = keep == "matching"
    return [d for d, m in zip(docs, matches, strict=True) if m == wanted]
