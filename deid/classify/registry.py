"""Classifier methods by name, so that configuration and the CLI can name them.

Built-in methods register themselves when their module is imported; :func:`get_method` imports
them on first use (the modules import torch/transformers only inside their methods).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from deid.errors import ConfigError

if TYPE_CHECKING:
    from deid.classify.base import DocumentClassifier

_METHODS: dict[str, type[DocumentClassifier]] = {}
_BUILTIN_MODULES = (
    "deid.classify.supervised",
    "deid.classify.setfit_method",
    "deid.classify.mlm_methods",
    "deid.classify.feature_methods",
)

C = TypeVar("C", bound="type[DocumentClassifier]")


def register_method(name: str) -> Callable[[C], C]:
    """Class decorator: register a :class:`DocumentClassifier` subclass under ``name``."""

    def decorate(cls: C) -> C:
        existing = _METHODS.get(name)
        if existing is not None and existing is not cls:
            raise ValueError(f"classifier method '{name}' is already registered by {existing.__qualname__}")
        cls.method = name
        _METHODS[name] = cls
        return cls

    return decorate


def _load_builtins() -> None:
    for module in _BUILTIN_MODULES:
        importlib.import_module(module)


def available_methods() -> list[str]:
    """Registered method names, sorted."""
    _load_builtins()
    return sorted(_METHODS)


def get_method(name: str) -> type[DocumentClassifier]:
    """The classifier class registered as ``name``.

    Raises:
        ConfigError: no such method.
    """
    _load_builtins()
    try:
        return _METHODS[name]
    except KeyError:
        raise ConfigError(
            f"unknown classifier method '{name}' (known: {', '.join(sorted(_METHODS))})"
        ) from None


def create_classifier(name: str, **params: Any) -> DocumentClassifier:
    """Build an unfitted classifier of method ``name`` with ``params``.

    Raises:
        ConfigError: unknown method or parameter.
    """
    cls = get_method(name)
    allowed = cls.param_names()
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ConfigError(
            f"method '{name}' has no parameter {', '.join(unknown)} (parameters: {', '.join(allowed)})"
        )
    return cls(**params)


def load_classifier(path: str | os.PathLike[str]) -> DocumentClassifier:
    """Load any classifier directory written by ``DocumentClassifier.save`` (dispatches on its method)."""
    from deid.classify.base import DocumentClassifier

    return DocumentClassifier.load(path)
