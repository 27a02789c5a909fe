"""Turn per-word tag probabilities into character spans."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from deid.ner.align import Word

#: Labels whose spans are completed over touching numeric pieces ("8" "/" "84" -> "8/84").
NUMERIC_LABELS = frozenset({"DATE_TIME", "PHONE_NUMBER"})
_NUMERIC_PIECE = re.compile(r"[0-9/\-]+")


def decode_words(
    words: Sequence[Word],
    probs: np.ndarray,
    labels: Sequence[str],
    *,
    o_threshold: float = 0.5,
    min_score: float = 0.0,
    text: str = "",
) -> list[tuple[int, int, str, float]]:
    """Decode BIO probabilities of words into ``(start, end, label, score)`` character spans.

    A word is inside an entity when ``P(O) < o_threshold``; its type is the label with the largest
    ``P(B-x) + P(I-x)``. Consecutive entity words of one type form a span unless the later one is more
    likely ``B-`` than ``I-``. A span runs from its first word's start to its last word's end.

    A span's score is the mean over its words of ``1 - P(O) / (2 * o_threshold)``: 0.5 at the decision
    threshold, 1 when ``P(O) = 0``. Scores are thus comparable across models whatever threshold was tuned,
    and a downstream score threshold below 0.5 keeps every span the model decided on.

    Two repairs follow from how the tokenizer splits words at punctuation: words that touch (no character
    between them) and get the same type stay in one span even when the later one looks like ``B-``
    (``O'Rourke``), and given ``text``, a date or phone span grows over touching numeric pieces
    (``/`` alone in ``8/84`` becomes ``8/84``) so that a half-found number does not leak its other half.

    Args:
        words: the document's words, in order.
        probs: array ``(len(words), 1 + 2 * len(labels))`` in the tag order of
            :func:`deid.ner.modeldir.bio_labels`.
        labels: entity labels.
        o_threshold: see above; lower means fewer, surer spans.
        min_score: drop spans scoring below this.
        text: the document (only needed for the numeric completion).

    Returns:
        spans sorted by start.
    """
    if len(words) == 0:
        return []
    p_o = probs[:, 0]
    p_b = probs[:, 1::2]
    p_i = probs[:, 2::2]
    types = np.argmax(p_b + p_i, axis=1)
    runs: list[list[int]] = []  # [first word, last word, type]
    scores: list[list[float]] = []
    for w, word in enumerate(words):
        if p_o[w] >= o_threshold:
            continue
        t = int(types[w])
        previous = runs[-1] if runs else None
        continues = previous is not None and previous[1] == w - 1 and previous[2] == t
        if continues and p_b[w, t] > p_i[w, t] and words[w - 1].end != word.start:
            continues = False
        if continues:
            assert previous is not None
            previous[1] = w
            scores[-1].append(_score(p_o[w], o_threshold))
        else:
            runs.append([w, w, t])
            scores.append([_score(p_o[w], o_threshold)])
    if text:
        taken = {w for first, last, _ in runs for w in range(first, last + 1)}
        for run in runs:
            if labels[run[2]] not in NUMERIC_LABELS:
                continue
            while (
                run[0] > 0 and run[0] - 1 not in taken and _touching_number(words, run[0] - 1, run[0], text)
            ):
                run[0] -= 1
                taken.add(run[0])
            while (
                run[1] + 1 < len(words)
                and run[1] + 1 not in taken
                and _touching_number(words, run[1] + 1, run[1], text)
            ):
                run[1] += 1
                taken.add(run[1])
    spans: list[tuple[int, int, str, float]] = []
    for (first, last, t), run_scores in zip(runs, scores, strict=True):
        score = sum(run_scores) / len(run_scores)
        if score >= min_score:
            spans.append((words[first].start, words[last].end, labels[t], float(score)))
    return spans


def _touching_number(words: Sequence[Word], new: int, neighbour: int, text: str) -> bool:
    """Whether word ``new`` touches word ``neighbour`` and is a numeric piece (digits, ``/``, ``-``)."""
    left, right = sorted((new, neighbour))
    if words[left].end != words[right].start:
        return False
    return bool(_NUMERIC_PIECE.fullmatch(text[words[new].start : words[new].end]))


def _score(p_o: float, o_threshold: float) -> float:
    return min(1.0, max(0.0, 1.0 - float(p_o) / (2.0 * o_threshold)))
