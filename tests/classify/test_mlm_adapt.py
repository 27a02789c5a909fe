"""MLM adaptation of the encoder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deid.errors import DeidError, OutputError
from deid.mlm.adapt import adapt_encoder


@pytest.fixture(scope="module")
def adapted(
    tiny_encoder: Path, tiny_corpus: tuple[list[str], list[str]], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    out = tmp_path_factory.mktemp("mlm") / "encoder"
    texts = tiny_corpus[0] * 3  # 48 texts: enough for a held-out share
    return adapt_encoder(
        texts, out, base=tiny_encoder, max_steps=3, head_warmup_steps=2, batch_size=8, seed=0
    )


def test_when_adapted_then_directory_records_the_run(adapted: Path) -> None:
    info = json.loads((adapted / "mlm_adapt.json").read_text())
    assert info["steps"] == 3
    assert info["head_warmup_steps"] == 2
    assert info["n_texts"] == 48
    assert info["eval_loss_final"] is not None
    assert info["base_fingerprint"].startswith("sha256:")
    assert "MLM-adapted encoder" in (adapted / "README.md").read_text()


def test_when_adapted_then_weights_changed_and_loadable_everywhere(adapted: Path, tiny_encoder: Path) -> None:
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers import AutoModel, AutoModelForMaskedLM, AutoModelForSequenceClassification

    before = AutoModel.from_pretrained(tiny_encoder).encoder.layer[0].attention.self.query.weight
    after = AutoModel.from_pretrained(adapted).encoder.layer[0].attention.self.query.weight
    assert not torch.equal(before, after)
    assert AutoModelForMaskedLM.from_pretrained(adapted).config.model_type == "bert"
    assert AutoModelForSequenceClassification.from_pretrained(adapted, num_labels=3).config.num_labels == 3
    assert SentenceTransformer(str(adapted), device="cpu").encode(["hello"]).shape == (1, 32)


def test_when_adapted_then_sequence_classifier_gets_the_base_pooler_not_a_random_one(
    adapted: Path, tiny_encoder: Path
) -> None:
    """BertForMaskedLM has no pooler; the classifier of mlm-supervised must not start from a random one."""
    import torch
    from transformers import AutoModel, AutoModelForSequenceClassification

    base_pooler = AutoModel.from_pretrained(tiny_encoder).pooler.dense.weight
    classifier = AutoModelForSequenceClassification.from_pretrained(adapted, num_labels=2)
    assert torch.equal(classifier.bert.pooler.dense.weight, base_pooler)
    assert torch.equal(AutoModel.from_pretrained(adapted).pooler.dense.weight, base_pooler)


def test_when_same_seed_then_same_weights(
    tiny_encoder: Path, tiny_corpus: tuple[list[str], list[str]], tmp_path: Path
) -> None:
    from safetensors.torch import load_file

    kwargs = {"base": tiny_encoder, "max_steps": 2, "head_warmup_steps": 1, "batch_size": 8, "seed": 1}
    a = load_file(str(adapt_encoder(tiny_corpus[0], tmp_path / "a", **kwargs) / "model.safetensors"))
    b = load_file(str(adapt_encoder(tiny_corpus[0], tmp_path / "b", **kwargs) / "model.safetensors"))
    assert all((a[k] == b[k]).all() for k in a)


def test_when_output_exists_then_output_error(adapted: Path, tiny_encoder: Path) -> None:
    with pytest.raises(OutputError):
        adapt_encoder(["some text here"], adapted, base=tiny_encoder)


def test_when_corpus_is_empty_then_deid_error(tmp_path: Path, tiny_encoder: Path) -> None:
    with pytest.raises(DeidError, match="no non-empty text"):
        adapt_encoder(["", "  "], tmp_path / "x", base=tiny_encoder)
