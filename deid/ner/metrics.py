"""Entity-level and character-level scores of predicted spans against gold spans.

Entity level: a gold span is found (recall) when a predicted span of the same type matches it; a
predicted span is correct (precision) when it matches a gold span of the same type. "exact" needs equal
boundaries, "overlap" any shared character. The type ``ANY`` ignores types.

Character level (label-agnostic, non-whitespace characters only, so that a span's inner spaces or a
trailing newline do not move the numbers): the leak rate is the share of gold characters that no
predicted span covers; char precision is the share of predicted characters that lie in some gold span.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

Spans = Sequence[tuple[int, int, str]]
ANY = "ANY"


@dataclass
class PRF:
    """Counts and scores for one entity type and one matching mode."""

    tp_gold: int = 0
    n_gold: int = 0
    tp_pred: int = 0
    n_pred: int = 0

    @property
    def precision(self) -> float:
        """Matched predictions / predictions (1.0 when there are none)."""
        return self.tp_pred / self.n_pred if self.n_pred else 1.0

    @property
    def recall(self) -> float:
        """Matched gold spans / gold spans (1.0 when there are none)."""
        return self.tp_gold / self.n_gold if self.n_gold else 1.0

    def f_beta(self, beta: float) -> float:
        """F-beta of precision and recall."""
        p, r = self.precision, self.recall
        b2 = beta * beta
        return (1 + b2) * p * r / (b2 * p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        """Counts plus precision, recall, F1 and F2."""
        return {
            **asdict(self),
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f_beta(1.0),
            "f2": self.f_beta(2.0),
        }


@dataclass
class Scores:
    """All scores of one evaluation."""

    entity: dict[str, dict[str, PRF]] = field(default_factory=dict)  # mode -> type -> PRF
    gold_chars: int = 0
    leaked_chars: int = 0
    pred_chars: int = 0
    pred_chars_in_gold: int = 0
    n_docs: int = 0
    docs_with_gold: int = 0
    docs_leaking: int = 0

    @property
    def leak_rate(self) -> float:
        """Share of gold (non-whitespace) characters covered by no predicted span."""
        return self.leaked_chars / self.gold_chars if self.gold_chars else 0.0

    @property
    def char_recall(self) -> float:
        """1 - leak rate."""
        return 1.0 - self.leak_rate

    @property
    def char_precision(self) -> float:
        """Share of predicted (non-whitespace) characters inside gold spans."""
        return self.pred_chars_in_gold / self.pred_chars if self.pred_chars else 1.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "char": {
                "leak_rate": self.leak_rate,
                "char_recall": self.char_recall,
                "char_precision": self.char_precision,
                "gold_chars": self.gold_chars,
                "leaked_chars": self.leaked_chars,
                "pred_chars": self.pred_chars,
                "pred_chars_in_gold": self.pred_chars_in_gold,
            },
            "documents": {"n": self.n_docs, "with_gold": self.docs_with_gold, "leaking": self.docs_leaking},
            "entity": {
                mode: {t: prf.as_dict() for t, prf in sorted(table.items())}
                for mode, table in self.entity.items()
            },
        }


def _mask(text: str, spans: Spans) -> list[bool]:
    covered = [False] * len(text)
    for start, end, _ in spans:
        for i in range(max(start, 0), min(end, len(text))):
            covered[i] = True
    return covered


def _matches(a: tuple[int, int, str], b: tuple[int, int, str], mode: str, typed: bool) -> bool:
    if typed and a[2] != b[2]:
        return False
    if mode == "exact":
        return a[0] == b[0] and a[1] == b[1]
    return a[0] < b[1] and b[0] < a[1]


def score_documents(texts: Sequence[str], gold: Sequence[Spans], pred: Sequence[Spans]) -> Scores:
    """Score predictions against gold for a corpus.

    Args:
        texts: the documents.
        gold: gold ``(start, end, label)`` spans per document.
        pred: predicted ``(start, end, label)`` spans per document.

    Returns:
        :class:`Scores` with entity-level tables for modes "exact" and "overlap" (types plus ``ANY``)
        and the character-level numbers.
    """
    if not len(texts) == len(gold) == len(pred):
        raise ValueError("texts, gold and pred must have the same length")
    scores = Scores(entity={"exact": defaultdict(PRF), "overlap": defaultdict(PRF)})  # type: ignore[dict-item]
    for text, g_spans, p_spans in zip(texts, gold, pred, strict=True):
        g_spans = sorted(set(g_spans))
        p_spans = sorted(set(p_spans))
        scores.n_docs += 1
        for mode in ("exact", "overlap"):
            table = scores.entity[mode]
            for typed, key_of in ((True, lambda s: s[2]), (False, lambda s: ANY)):
                for g in g_spans:
                    prf = table[key_of(g)]
                    prf.n_gold += 1
                    prf.tp_gold += any(_matches(g, p, mode, typed) for p in p_spans)
                for p in p_spans:
                    prf = table[key_of(p)]
                    prf.n_pred += 1
                    prf.tp_pred += any(_matches(g, p, mode, typed) for g in g_spans)
        gold_mask = _mask(text, g_spans)
        pred_mask = _mask(text, p_spans)
        leaked = 0
        for ch, is_gold, is_pred in zip(text, gold_mask, pred_mask, strict=True):
            if ch.isspace():
                continue
            if is_gold:
                scores.gold_chars += 1
                leaked += not is_pred
            if is_pred:
                scores.pred_chars += 1
                scores.pred_chars_in_gold += is_gold
        scores.leaked_chars += leaked
        scores.docs_with_gold += any(gold_mask)
        scores.docs_leaking += leaked > 0
    scores.entity = {mode: dict(table) for mode, table in scores.entity.items()}
    return scores


def format_table(scores: Scores, *, title: str = "") -> str:
    """Render scores as a plain-text table (per type, overlap and exact, then the character numbers)."""
    lines = [title] if title else []
    header = f"{'type':<14}{'gold':>6}{'pred':>6} | {'P':>6}{'R':>6}{'F1':>6}{'F2':>6} (overlap) | {'P':>6}{'R':>6}{'F1':>6}{'F2':>6} (exact)"
    lines += [header, "-" * len(header)]
    overlap, exact = scores.entity["overlap"], scores.entity["exact"]
    types = sorted(t for t in overlap if t != ANY) + ([ANY] if ANY in overlap else [])
    for t in types:
        o, e = overlap[t], exact.get(t, PRF())
        lines.append(
            f"{t:<14}{o.n_gold:>6}{o.n_pred:>6} | {o.precision:>6.3f}{o.recall:>6.3f}{o.f_beta(1):>6.3f}{o.f_beta(2):>6.3f}"
            f"           | {e.precision:>6.3f}{e.recall:>6.3f}{e.f_beta(1):>6.3f}{e.f_beta(2):>6.3f}"
        )
    lines.append("")
    lines.append(
        f"chars: leak rate {scores.leak_rate:.4f} ({scores.leaked_chars}/{scores.gold_chars} gold chars uncovered), "
        f"char precision {scores.char_precision:.4f}; documents leaking {scores.docs_leaking}/{scores.docs_with_gold} "
        f"(of {scores.n_docs})"
    )
    return "\n".join(lines)
