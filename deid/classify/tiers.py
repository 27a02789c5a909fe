"""The sensitivity-tier taxonomy (``configs/tiers.yaml``) and the fail-safe rule that uses it."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from deid.errors import ConfigError

DEFAULT_TIERS_PATH = Path(__file__).resolve().parents[2] / "configs" / "tiers.yaml"


class Tier(BaseModel):
    """One tier: its name and what belongs in it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    definition: str = Field(min_length=1)


class TierTaxonomy(BaseModel):
    """Tiers ordered from least to most strict, and the confidence below which to go one stricter."""

    model_config = ConfigDict(extra="forbid")

    tiers: list[Tier] = Field(min_length=1)
    min_confidence: float = Field(ge=0.0, le=1.0)

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

    def assign(self, proba: np.ndarray, classes: Sequence[str]) -> list[str]:
        """Tier per document from a router's probabilities, applying the fail-safe.

        Args:
            proba: ``(n, len(classes))`` probabilities (``predict_proba``).
            classes: the router's ``classes_`` (must all be tier names).

        Returns:
            The most probable tier, or the next stricter one where its probability < ``min_confidence``.
        """
        unknown = sorted(set(map(str, classes)) - set(self.names))
        if unknown:
            raise ConfigError(f"router classes {unknown} are not tiers ({', '.join(self.names)})")
        proba = np.asarray(proba)
        best = proba.argmax(axis=1)
        out = []
        for row, idx in zip(proba, best, strict=True):
            tier = str(classes[idx])
            out.append(tier if row[idx] >= self.min_confidence else self.stricter(tier))
        return out


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
