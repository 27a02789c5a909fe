"""Shared fixtures of the NER tests: tiny models built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from deid.ner.testing import build_tiny_model


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random BERT token classifier (PERSON, LOCATION, DATE_TIME)."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="session")
def context_free_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model whose prediction for a token depends on that token only."""
    return build_tiny_model(tmp_path_factory.mktemp("context_free") / "model", context_free=True, seed=3)


@pytest.fixture(scope="session")
def tokenizer():
    """The base encoder's fast tokenizer."""
    from deid._offline import ensure_offline

    ensure_offline()
    from transformers import PreTrainedTokenizerFast

    from deid.ner.testing import base_tokenizer_dir

    return PreTrainedTokenizerFast.from_pretrained(str(base_tokenizer_dir()))
