"""The sensitivity-tier taxonomy (``configs/tiers.yaml``) and the fail-safe rule that uses it.

The fail-safe never lowers a tier. Which rule applies, in order:

1. ``min_confidence`` set in the taxonomy (an override): below it, a document goes one tier
   stricter than its most probable tier.
2. The router carries a calibrated fail-safe (``fail_safe`` in its model directory, chosen from a
   goal such as "restricted recall >= 0.9 in cross-validation"): a document whose probability of
   the goal tier or stricter reaches the stored threshold goes to the goal tier.
3. Otherwise (an uncalibrated router): rule 1 with ``DEFAULT_MIN_CONFIDENCE`` (0.6), and a warning
   that names ``deid classify calibrate``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from deid.errors import ConfigError

logger = logging.getLogger(__name__)

DEFAULT_TIERS_PATH = Path(__file__).resolve().parents[2] / "configs" / "tiers.yaml"
#: The one-step rule's threshold for routers without a calibrated fail-safe.
DEFAULT_MIN_CONFIDENCE = 0.6


@dataclass(frozen=True)
class Routing:
    """Tiers per document after the fail-safe, the tiers before it, and the rule that applied."""

    tiers: list[str]
    predicted: list[str]
    rule: str

    def escalations(self) -> dict[str, int]:
        """``{"internal->restricted": n, ...}``: documents moved by the fail-safe, by from/to tier."""
        counts: dict[str, int] = {}
        for before, after in zip(self.predicted, self.tiers, strict=True):
            if before != after:
                key = f"{before}->{after}"
                counts[key] = counts.get(key, 0) + 1
        return dict(sorted(counts.items()))


class Tier(BaseModel):
    """One tier: its name and what belongs in it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    definition: str = Field(min_length=1)


class TierTaxonomy(BaseModel):
    """Tiers ordered from least to most strict, and optionally a fixed confidence below which to go
    one stricter (an override of the router's calibrated fail-safe)."""

    model_config = ConfigDict(extra="forbid")

    tiers: list[Tier] = Field(min_length=1)
    min_confidence: float | None = Field(None, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _unique_names(self) -> TierTaxonomy:
        names = [t.name for t in self.tiers]
        if len(set(names)) != len(names):
            raise ValueError(f"tier names must be unique, got {names}")
        return self

    @property
    def names(self) -> list[str]:
        """Tier names, least strict first."""
        return [t.name for t in self.tiers]

    def stricter(self, name: str) -> str:
        """The next stricter tier (the strictest tier maps to itself)."""
        names = self.names
        if name not in names:
            raise ConfigError(f"unknown tier '{name}' (tiers: {', '.join(names)})")
        return names[min(names.index(name) + 1, len(names) - 1)]

    def assign(
        self, proba: np.ndarray, classes: Sequence[str], fail_safe: dict[str, Any] | None = None
    ) -> list[str]:
        """Tier per document from a router's probabilities, applying the fail-safe (see :meth:`route`)."""
        return self.route(proba, classes, fail_safe).tiers

    def route(
        self, proba: np.ndarray, classes: Sequence[str], fail_safe: dict[str, Any] | None = None
    ) -> Routing:
        """Tier per document, before and after the fail-safe.

        Args:
            proba: ``(n, len(classes))`` probabilities (``predict_proba``).
            classes: the router's ``classes_`` (must all be tier names).
            fail_safe: the router's calibrated fail-safe (``model.fail_safe_``), used unless this
                taxonomy sets ``min_confidence``.

        Returns:
            A :class:`Routing`; its ``rule`` says which fail-safe applied.

        Raises:
            ConfigError: a class is not a tier.
        """
        from deid.classify.calibration import route_with_threshold

        classes = [str(c) for c in classes]
        unknown = sorted(set(classes) - set(self.names))
        if unknown:
            raise ConfigError(f"router classes {unknown} are not tiers ({', '.join(self.names)})")
        proba = np.asarray(proba)
        if self.min_confidence is None and fail_safe and fail_safe.get("goal"):
            goal = fail_safe["goal"]
            threshold = fail_safe.get("threshold")
            if goal["tier"] not in self.names:
                raise ConfigError(
                    f"the router's fail-safe protects tier '{goal['tier']}', which is not a tier here "
                    f"({', '.join(self.names)}); set min_confidence in the tiers file or recalibrate"
                )
            routed, predicted = route_with_threshold(proba, classes, self.names, goal["tier"], threshold)
            rule = (
                f"calibrated: {goal['tier']} when P({goal['tier']} or stricter) >= {threshold} "
                f"(goal: {goal['tier']} recall >= {goal['min_recall']})"
                if threshold is not None
                else f"calibrated: no escalation needed (goal: {goal['tier']} recall >= {goal['min_recall']})"
            )
            return Routing(routed, predicted, rule)
        threshold = self.min_confidence if self.min_confidence is not None else DEFAULT_MIN_CONFIDENCE
        rule = (
            f"min_confidence {threshold} (taxonomy override)"
            if self.min_confidence is not None
            else f"min_confidence {threshold} (router not calibrated)"
        )
        predicted, routed = [], []
        for row, idx in zip(proba, proba.argmax(axis=1), strict=True):
            tier = classes[idx]
            predicted.append(tier)
            routed.append(tier if row[idx] >= threshold else self.stricter(tier))
        return Routing(routed, predicted, rule)


def load_tiers(path: str | os.PathLike[str] | None = None) -> TierTaxonomy:
    """Read and validate a tiers YAML file (default: ``configs/tiers.yaml``).

    Raises:
        ConfigError: missing file, invalid YAML, or a wrong key/value (with the key and what was expected).
    """
    import yaml

    path = Path(path) if path is not None else DEFAULT_TIERS_PATH
    if not path.is_file():
        raise ConfigError(f"{path}: file not found")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML ({exc})") from exc
    try:
        return TierTaxonomy.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ConfigError(f"{path}: {where}: {first['msg']}") from None


def fail_safe_rule(router_dir: str | os.PathLike[str], taxonomy: TierTaxonomy) -> str:
    """Which fail-safe a job with this router and taxonomy applies, in words (for the run report).

    Reads only the router's ``deid_classifier.json``. Logs a warning when the router carries no
    calibrated fail-safe and the taxonomy sets no ``min_confidence``: the fixed default applies.
    """
    import json

    from deid.classify.base import META_FILE

    meta_path = Path(router_dir) / META_FILE
    try:
        fail_safe = json.loads(meta_path.read_text()).get("fail_safe")
    except (OSError, json.JSONDecodeError):
        fail_safe = None
    if taxonomy.min_confidence is not None:
        return f"min_confidence {taxonomy.min_confidence} (taxonomy override)"
    if fail_safe and fail_safe.get("goal"):
        goal, threshold = fail_safe["goal"], fail_safe.get("threshold")
        goal_text = f"goal: {goal['tier']} recall >= {goal['min_recall']} in cross-validation"
        if threshold is None:
            return f"calibrated, no escalation needed ({goal_text})"
        return f"calibrated: {goal['tier']} when P({goal['tier']} or stricter) >= {threshold} ({goal_text})"
    logger.warning(
        "router %s has no calibrated fail-safe: documents below %.2f confidence go one tier stricter "
        "(calibrate it with `deid classify calibrate`, or set min_confidence in the tiers file)",
        router_dir,
        DEFAULT_MIN_CONFIDENCE,
    )
    return f"min_confidence {DEFAULT_MIN_CONFIDENCE} (router not calibrated)"
