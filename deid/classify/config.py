"""Typed training configuration for ``deid classify train --config FILE`` (YAML)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from deid.classify.calibration import FailSafeGoal
from deid.errors import ConfigError


class ClassifierTrainConfig(BaseModel):
    """What to train: the method, its parameters and how to sample the labels.

    Options given on the command line override the file.
    """

    model_config = ConfigDict(extra="forbid")

    method: str
    params: dict[str, Any] = Field(default_factory=dict)
    text_column: str | None = None
    label_column: str | None = None
    shots: int | None = Field(default=None, ge=1)
    max_train: int | None = Field(default=None, ge=2)
    seed: int | None = None
    description: str | None = None
    label_map: dict[str, str] = Field(
        default_factory=dict, description="the team's label -> class to train as (e.g. sensitive: restricted)"
    )
    calibration: Literal["auto", "cv", "none"] = Field(
        "auto", description="cross-validated calibration: auto (where cheap), cv (always) or none"
    )
    fail_safe: FailSafeGoal = Field(
        default_factory=FailSafeGoal, description="goal the escalation threshold is chosen for"
    )
    tiers: str | None = Field(None, description="tiers YAML (default: configs/tiers.yaml)")


def load_train_config(path: str | os.PathLike[str]) -> ClassifierTrainConfig:
    """Read and validate a training YAML file.

    Raises:
        ConfigError: missing file, invalid YAML, unknown key or wrong value (file, key, expectation),
            or a parameter the method does not have.
    """
    import yaml

    from deid.classify.registry import get_method

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: file not found")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML ({exc})") from exc
    try:
        config = ClassifierTrainConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ConfigError(f"{path}: {where}: {first['msg']}") from None
    allowed = get_method(config.method).param_names()
    unknown = sorted(set(config.params) - set(allowed))
    if unknown:
        raise ConfigError(
            f"{path}: params: method '{config.method}' has no {', '.join(unknown)} (parameters: {', '.join(allowed)})"
        )
    return config
