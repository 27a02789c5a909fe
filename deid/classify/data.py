"""Reading labelled documents and drawing stratified samples from them."""

from __future__ import annotations

import csv
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deid.errors import InputError

logger = logging.getLogger(__name__)

_TSV_SUFFIXES = {".tsv", ".tab", ".txt", ""}


@dataclass(frozen=True)
class LabelledTexts:
    """Documents and their labels (labels are strings)."""

    texts: list[str]
    labels: list[str]

    def subset(self, indices: Sequence[int] | np.ndarray) -> LabelledTexts:
        """The documents at ``indices``, in that order."""
        return LabelledTexts([self.texts[i] for i in indices], [self.labels[i] for i in indices])

    def __len__(self) -> int:
        return len(self.texts)


def read_table(path: str | os.PathLike[str], columns: Sequence[str]):  # type: ignore[no-untyped-def]
    """Read ``columns`` of a Parquet, CSV, TSV or JSONL file into a DataFrame, chosen by extension.

    Files ending in ``.tsv``/``.tab``/``.txt`` or with no extension are read as tab-separated with a
    header line and no quoting (the SMS Spam Collection's layout).

    Raises:
        InputError: the file is missing, unreadable, or lacks one of ``columns``.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            available = pq.read_schema(path).names
            _check_columns(path, columns, available)
            return pd.read_parquet(path, columns=list(dict.fromkeys(columns)))
        if suffix == ".csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        elif suffix in {".jsonl", ".ndjson", ".json"}:
            frame = pd.read_json(path, lines=suffix != ".json" or _looks_like_lines(path), dtype=False)
        elif suffix in _TSV_SUFFIXES:
            frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, quoting=csv.QUOTE_NONE)
        else:
            raise InputError(path, f"unsupported file type '{suffix}' (use .parquet, .csv, .tsv or .jsonl)")
    except InputError:
        raise
    except Exception as exc:  # pandas/pyarrow raise many types for malformed files
        raise InputError(path, f"cannot read file ({type(exc).__name__})") from exc
    _check_columns(path, columns, list(frame.columns))
    return frame[list(dict.fromkeys(columns))]


def _looks_like_lines(path: Path) -> bool:
    with path.open("rb") as fh:
        return not fh.read(1).lstrip().startswith(b"[")


def _check_columns(path: Path, wanted: Sequence[str], available: Sequence[object]) -> None:
    names = [str(c) for c in available]
    for column in wanted:
        if column not in names:
            raise InputError(path, f"no such column (columns: {', '.join(names)})", column=column)


def read_labelled(path: str | os.PathLike[str], text_column: str, label_column: str) -> LabelledTexts:
    """Read documents and their labels; missing text becomes ``""``, labels become strings.

    Raises:
        InputError: missing file or column, or a row without a label (1-based row number).
    """
    frame = read_table(path, [text_column, label_column])
    labels = frame[label_column]
    missing = labels.isna() | (labels.astype(str).str.strip() == "")
    if missing.any():
        row = int(np.flatnonzero(missing.to_numpy())[0]) + 1
        raise InputError(path, "missing label", row=row, column=label_column)
    texts = frame[text_column].fillna("").astype(str).tolist()
    return LabelledTexts(texts, labels.astype(str).tolist())


def read_texts(path: str | os.PathLike[str], text_column: str) -> list[str]:
    """Read one text column (missing values dropped)."""
    frame = read_table(path, [text_column])
    return [t for t in frame[text_column].dropna().astype(str).tolist() if t.strip()]


def sample_shots(labels: Sequence[str], shots: int, seed: int = 0) -> np.ndarray:
    """Indices of ``shots`` examples per class, drawn without replacement, seeded.

    A class with fewer than ``shots`` examples contributes all it has (logged). The result is
    shuffled so that classes are interleaved. The same labels, shots and seed give the same indices.

    Raises:
        ValueError: ``shots`` < 1.
    """
    if shots < 1:
        raise ValueError("shots must be >= 1")
    rng = np.random.default_rng(seed)
    labels_arr = np.asarray(labels)
    chosen: list[np.ndarray] = []
    for label in sorted(set(labels_arr.tolist())):
        members = np.flatnonzero(labels_arr == label)
        if len(members) < shots:
            logger.warning(
                "class %r has only %d examples (< %d shots): taking all", label, len(members), shots
            )
        chosen.append(rng.choice(members, size=min(shots, len(members)), replace=False))
    picked = np.concatenate(chosen)
    return rng.permutation(picked)


def stratified_subsample(labels: Sequence[str], n: int, seed: int = 0) -> np.ndarray:
    """Indices of at most ``n`` examples keeping the class proportions (all indices if ``n`` >= len)."""
    if n >= len(labels):
        return np.random.default_rng(seed).permutation(len(labels))
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(labels))
    picked, _ = train_test_split(idx, train_size=n, stratify=np.asarray(labels), random_state=seed)
    return np.asarray(picked)


def stratified_split(
    labels: Sequence[str], test_fraction: float, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Stratified train/test index split, seeded."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(labels))
    train, test = train_test_split(
        idx, test_size=test_fraction, stratify=np.asarray(labels), random_state=seed
    )
    return np.asarray(train), np.asarray(test)
