"""deid: de-identification of free-text corpora for batch jobs and compliance pipelines.

The library API (:mod:`deid.api`) is imported on first use, so ``import deid`` and ``deid --help``
stay fast::

    import deid

    deid.Detector().detect(["Call Ann Lee at 617-555-0123"])
    deid.redact_table(frame, text_columns=["note"])         # a pandas DataFrame, Arrow table or list of dicts
    deid.scan_table("notes.parquet").format_table()
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# name -> module, imported on first attribute access (PEP 562).
_LAZY = {
    "Detector": "deid.api",
    "ScanReport": "deid.api",
    "Span": "deid.api",
    "TableResult": "deid.api",
    "add_operators": "deid.api",
    "operator_config": "deid.api",
    "redact_table": "deid.api",
    "scan_table": "deid.api",
    "transformer_recognizer": "deid.api",
}

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'deid' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
