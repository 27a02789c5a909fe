"""Fixtures for the classifier tests: a tiny random BERT encoder and a tiny labelled corpus."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from deid._offline import ensure_offline

ensure_offline()


@pytest.fixture(scope="session", autouse=True)
def _torch_threads() -> None:
    import torch

    torch.set_num_threads(2)


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer, 32-wide random BERT with the pinned tokenizer, loadable by AutoModel* and SentenceTransformer."""
    from transformers import AutoTokenizer, BertConfig, BertModel, set_seed

    from deid.mlm.encoder import resolve_encoder

    set_seed(0)
    path = tmp_path_factory.mktemp("tiny-bert")
    base = resolve_encoder(None)
    config = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(path)
    AutoTokenizer.from_pretrained(base).save_pretrained(path)
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]
    (path / "modules.json").write_text(json.dumps(modules))
    (path / "1_Pooling").mkdir()
    (path / "1_Pooling" / "config.json").write_text(
        json.dumps({"word_embedding_dimension": 32, "pooling_mode_mean_tokens": True})
    )
    shutil.copy2(base / "sentence_bert_config.json", path / "sentence_bert_config.json")
    return path


# Two well-separated topics, so that even a tiny model can learn something in a few steps.
_SPORT = [
    "the team won the football match in the final minute",
    "a great goal by the striker in the second half",
    "the coach praised the players after the game",
    "fans cheered as the home team scored again",
    "the league season ends with a cup final",
    "the goalkeeper saved a penalty in the match",
    "basketball players trained hard before the game",
    "the tennis final went to five sets",
]
_MEDICAL = [
    "the patient was given antibiotics for the infection",
    "blood pressure was stable after the surgery",
    "the doctor prescribed medication for the pain",
    "nurse checked the patient's temperature overnight",
    "the clinic reported fewer flu cases this week",
    "an x-ray showed a fracture of the left arm",
    "the patient was discharged from hospital today",
    "the physician recommended a follow up scan",
]


@pytest.fixture(scope="session")
def tiny_corpus() -> tuple[list[str], list[str]]:
    """16 short documents, 8 per class ('sport', 'medical'), interleaved."""
    texts: list[str] = []
    labels: list[str] = []
    for sport, medical in zip(_SPORT, _MEDICAL, strict=True):
        texts += [sport, medical]
        labels += ["sport", "medical"]
    return texts, labels
