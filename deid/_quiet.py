"""Keep library chatter off the console while models load and train.

transformers prints a "Loading weights" progress bar and a LOAD REPORT table (missing/unexpected
keys, e.g. a classification head that training is about to initialise) on every ``from_pretrained``;
sentence-transformers, SetFit and datasets add their own bars and warnings. None of it is for the
user of ``deid``: our own progress and results are. :func:`quiet_libraries` silences them for the
duration of a block and restores the previous settings afterwards (it is re-entrant).
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Callable, Iterator

#: Loggers of libraries whose INFO/WARNING output is noise for a deid user.
_NOISY_LOGGERS = (
    "transformers",
    "sentence_transformers",
    "setfit",
    "datasets",
    "huggingface_hub",
    "safetensors",
    "accelerate",
    "presidio-analyzer",
)

#: Library warnings that say nothing actionable for a deid user.
_NOISY_WARNINGS = (
    (FutureWarning, r".*"),
    (DeprecationWarning, r".*"),
    (UserWarning, r".*(TypedStorage|was not found in model|weights of .* were not initialized).*"),
)


@contextlib.contextmanager
def quiet_libraries() -> Iterator[None]:
    """Silence transformers' load reports and progress bars and known library warnings in a block.

    Our own loggers (``deid.*``) and progress bars are untouched.
    """
    saved_levels = {name: logging.getLogger(name).level for name in _NOISY_LOGGERS}
    saved_env = os.environ.get("HF_HUB_DISABLE_PROGRESS_BARS")
    restore_bars = _disable_transformers_bars()
    try:
        for name in _NOISY_LOGGERS:
            logging.getLogger(name).setLevel(logging.ERROR)
        os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
        with warnings.catch_warnings():
            for category, message in _NOISY_WARNINGS:
                warnings.filterwarnings("ignore", message=message, category=category, module=r"(?!deid)")
            yield
    finally:
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)
        if saved_env is None:
            os.environ.pop("HF_HUB_DISABLE_PROGRESS_BARS", None)
        else:
            os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = saved_env
        restore_bars()


def _disable_transformers_bars() -> Callable[[], None]:
    """Turn transformers' own progress bars and verbosity down; return a callable that restores them."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # pragma: no cover - transformers is a dependency
        return lambda: None
    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()

    def restore() -> None:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()

    return restore
