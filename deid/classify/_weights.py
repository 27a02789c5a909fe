"""Saving module weights either in full or as the tensors that differ from the base encoder.

A fine-tuned classifier over the pinned encoder need not ship the encoder again: the base is an
installed package, so we store only the tensors training changed (frozen word embeddings, the largest
tensor, never change) and re-apply them over the base at load time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deid.errors import ConfigError
from deid.mlm.encoder import PINNED_ENCODER, encoder_fingerprint, is_pinned, resolve_encoder

_DTYPES = ("float32", "float16")


def choose_store(store: str, delta_base: str | None) -> str | None:
    """Decide how to store weights: return the base to record for a delta, or ``None`` for full.

    Args:
        store: ``auto`` (delta only over the pinned encoder), ``delta`` or ``full``.
        delta_base: the encoder training started from, if it can serve as a delta base (the pinned
            encoder's name or a model directory), else ``None`` (e.g. a temporary adapted encoder).

    Raises:
        ConfigError: unknown ``store``, or ``delta`` asked where no stable base exists.
    """
    if store == "full":
        return None
    if store == "auto":
        return delta_base if delta_base is not None and is_pinned(delta_base) else None
    if store == "delta":
        if delta_base is None:
            raise ConfigError("store='delta' needs a stable base encoder (not a temporary MLM-adapted one)")
        return delta_base
    raise ConfigError(f"store must be auto, delta or full, got {store!r}")


def snapshot(module: Any) -> dict[str, Any]:
    """A detached copy of ``module``'s state dict (the reference for a later delta)."""
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def save_module_weights(
    module: Any,
    path: Path,
    filename: str,
    *,
    reference: dict[str, Any] | None,
    base: str | None,
    dtype: str = "float32",
) -> dict[str, Any]:
    """Write ``module``'s weights to ``path/filename`` (safetensors).

    Args:
        module: a torch module.
        path: the model directory.
        filename: file name inside it.
        reference: the state dict of the module as loaded from ``base``; ``None`` stores everything.
        base: the encoder the reference came from (name or directory), recorded for loading.
        dtype: ``float32`` or ``float16`` for floating-point tensors.

    Returns:
        A description (format, file, dtype, base, fingerprint, tensors) for :func:`load_module_weights`.
    """
    import torch
    from safetensors.torch import save_file

    if dtype not in _DTYPES:
        raise ConfigError(f"weights dtype must be one of {_DTYPES}, got {dtype!r}")
    target = getattr(torch, dtype)
    state = module.state_dict()
    tensors: dict[str, Any] = {}
    for key, value in state.items():
        if reference is not None and key in reference and torch.equal(value, reference[key]):
            continue
        value = value.detach()
        if value.is_floating_point():
            value = value.to(target)
        tensors[key] = value.contiguous().clone()
    save_file(tensors, str(path / filename))
    info: dict[str, Any] = {
        "format": "full" if reference is None else "delta",
        "file": filename,
        "dtype": dtype,
        "n_tensors": len(tensors),
        "n_tensors_total": len(state),
    }
    if reference is not None:
        base_path = resolve_encoder(base)
        info["base"] = PINNED_ENCODER if is_pinned(base) else str(base_path)
        info["base_fingerprint"] = encoder_fingerprint(base_path)
    return info


def check_base(info: dict[str, Any]) -> Path:
    """Resolve the base encoder a delta was saved over and check its fingerprint.

    Raises:
        ConfigError: the base is missing or its weights differ from the ones the delta was made on.
    """
    base_path = resolve_encoder(info.get("base"))
    expected = info.get("base_fingerprint")
    if expected and encoder_fingerprint(base_path) != expected:
        raise ConfigError(
            f"base encoder {info.get('base')!r} at {base_path} differs from the one this model was trained on"
        )
    return base_path


def load_module_weights(module: Any, path: Path, info: dict[str, Any]) -> None:
    """Load weights written by :func:`save_module_weights` into ``module`` (already built).

    For a delta the module must already hold the base weights; every stored tensor must match a key.
    """
    from safetensors.torch import load_file

    tensors = load_file(str(path / info["file"]))
    result = module.load_state_dict(tensors, strict=info["format"] == "full")
    if result.unexpected_keys:
        raise ConfigError(f"{path}: weights do not fit the model (unexpected {result.unexpected_keys[:3]})")
