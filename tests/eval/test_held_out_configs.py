"""No shipped NER training config reads what eval/splits.yaml holds out, for training or for its dev sets."""

from __future__ import annotations

from pathlib import Path

import pytest
from evalsets import general_ner_documents, load_splits

from deid.ner.config import load_train_config, resolve_data_dir
from deid.ner.data import read_documents
from deid.ner.train import load_dev_sets, load_source

REPO = Path(__file__).resolve().parents[2]
CONFIGS = sorted(p for p in (REPO / "configs" / "ner").rglob("*.yaml") if "\nsources:" in p.read_text())
DATA = resolve_data_dir(None, base=REPO / "pyproject.toml")
needs_data = pytest.mark.skipif(
    not (DATA / "general_ner").is_dir(), reason=f"the development data is not at {DATA}"
)


@pytest.fixture(scope="module")
def held_out_texts() -> set[str]:
    splits = load_splits()
    texts = {d.text for docs in general_ner_documents(DATA, part="held_out").values() for d in docs}
    texts |= {d.text for d in read_documents(DATA / splits["physionet"]["held_out"])}
    texts |= {d.text for d in read_documents(DATA / splits["wnut17"]["held_out"], fmt="conll")}
    return texts


@needs_data
@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: str(p.relative_to(REPO)))
def test_when_a_shipped_config_is_read_then_no_held_out_document_is_in_it(
    path: Path, held_out_texts: set[str]
) -> None:
    config = load_train_config(path)
    for source in config.sources:
        if source.kind == "synth":
            continue
        docs = load_source(config, source)
        assert docs, f"{source.name}: no documents"
        # short texts repeat across corpora ("RT", "Thank you"): only longer texts count as the same document
        leaked = [d.id for d in docs if d.text in held_out_texts and len(d.text.split()) > 3]
        assert not leaked, f"{path.name}: source {source.name} reads held-out documents {leaked[:3]}"
    for dev, docs in load_dev_sets(config):
        held = [d.id for d in docs if d.text in held_out_texts and len(d.text.split()) > 3]
        assert not held, f"{path.name}: dev set {dev.name} reads held-out documents {held[:3]}"


@needs_data
def test_when_the_default_config_is_read_then_its_dev_sets_are_not_trained_on() -> None:
    config = load_train_config(REPO / "configs" / "ner" / "default.yaml")
    trained = {d.text for s in config.sources if s.kind != "synth" for d in load_source(config, s)}
    for dev, docs in load_dev_sets(config):
        assert docs, f"dev set {dev.name} is empty"
        overlap = [d.id for d in docs if d.text in trained and len(d.text.split()) > 3]
        assert not overlap, f"dev set {dev.name} is also training data: {overlap[:3]}"


@needs_data
def test_when_the_suite_builds_the_dev_split_then_it_is_the_training_configs_dev_sets(
    held_out_texts: set[str],
) -> None:
    from run_eval import build_sets

    sets = build_sets(DATA, split="dev")
    assert [s.name for s in sets] == [
        d.name for d in load_train_config(REPO / "configs/ner/default.yaml").dev_sets
    ]
    assert all(s.docs for s in sets)
    assert not [d.id for s in sets for d in s.docs if d.text in held_out_texts and len(d.text.split()) > 3]
