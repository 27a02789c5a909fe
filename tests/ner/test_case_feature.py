"""The case feature: word shapes through the token-type embeddings of an uncased encoder."""

from __future__ import annotations

import json
import random
import shutil

import pytest
import torch
import yaml
from click.testing import CliRunner

from deid.cli import cli
from deid.ner.align import (
    CASE_LOWER,
    CASE_MIXED,
    CASE_NONE,
    CASE_TITLE,
    CASE_UPPER,
    N_CASE_IDS,
    encode_documents,
    word_case,
)
from deid.ner.inference import NerModel
from deid.ner.modeldir import META_FILE, ModelLoadError, read_meta
from deid.ner.testing import base_tokenizer_dir
from deid.ner.train import Example, add_case_embeddings, augment_case, collate


@pytest.mark.parametrize(
    ("word", "shape"),
    [
        ("apple", CASE_LOWER),
        ("Apple", CASE_TITLE),
        ("APPLE", CASE_UPPER),
        ("I", CASE_TITLE),
        ("Émile", CASE_TITLE),
        ("ÉMILE", CASE_UPPER),
        ("McDonald", CASE_MIXED),
        ("iPhone", CASE_MIXED),
        ("2020", CASE_NONE),
        ("-", CASE_NONE),
        ("東京", CASE_NONE),
        ("x2", CASE_LOWER),
    ],
)
def test_word_shapes(word, shape):
    assert word_case(word) == shape


def test_when_encoding_with_case_then_every_sub_token_carries_its_words_shape():
    from transformers import PreTrainedTokenizerFast

    tokenizer = PreTrainedTokenizerFast.from_pretrained(str(base_tokenizer_dir()))
    text = "Seen by DR. Kowalczyk at ACME on 3/4."
    (enc,) = encode_documents(tokenizer, [text], case=True)
    (plain,) = encode_documents(tokenizer, [text])
    assert plain.case_ids is None and plain.input_ids == enc.input_ids
    assert enc.case_ids is not None and len(enc.case_ids) == len(enc.input_ids)
    by_word = {text[w.start : w.end]: w for w in enc.words}
    # "kowalczyk" is cut into several pieces: all of them are title case
    first = by_word["Kowalczyk"].first_token
    pieces = [
        i
        for i, (s, e) in enumerate(enc.offsets)
        if by_word["Kowalczyk"].start <= s < by_word["Kowalczyk"].end
    ]
    assert len(pieces) > 1 and pieces[0] == first
    assert {enc.case_ids[i] for i in pieces} == {CASE_TITLE}
    assert enc.case_ids[by_word["ACME"].first_token] == CASE_UPPER
    assert enc.case_ids[by_word["by"].first_token] == CASE_LOWER
    assert enc.case_ids[by_word["3"].first_token] == CASE_NONE


def test_augmentation_reads_a_window_as_lower_or_upper_case_and_keeps_no_letter_tokens():
    shapes = [CASE_NONE, CASE_TITLE, CASE_LOWER, CASE_UPPER, CASE_MIXED, CASE_NONE]
    assert augment_case(shapes, random.Random(0), 1.0, 0.0) == [
        0,
        CASE_LOWER,
        CASE_LOWER,
        CASE_LOWER,
        CASE_LOWER,
        0,
    ]
    assert augment_case(shapes, random.Random(0), 0.0, 1.0) == [
        0,
        CASE_UPPER,
        CASE_UPPER,
        CASE_UPPER,
        CASE_UPPER,
        0,
    ]
    assert augment_case(shapes, random.Random(0), 0.0, 0.0) == shapes
    rng = random.Random(3)
    outcomes = [tuple(augment_case(shapes, rng, 0.3, 0.2)) for _ in range(2000)]
    lower = sum(o[1] == CASE_LOWER for o in outcomes) / len(outcomes)
    upper = sum(o[1] == CASE_UPPER for o in outcomes) / len(outcomes)
    assert 0.26 < lower < 0.34 and 0.16 < upper < 0.24


def test_collate_pads_shapes_with_zero_and_leaves_them_out_without_the_feature():
    batch = [
        Example([101, 5, 102], [-100, 1, -100], True, [0, 2, 0]),
        Example([101, 102], [-100, -100], False, [0, 0]),
    ]
    out = collate(batch, 0)
    assert out["token_type_ids"].tolist() == [[0, 2, 0], [0, 0, 0]]
    plain = collate([Example([101, 5, 102], [-100, 1, -100], True)], 0)
    assert plain["token_type_ids"] is None


def test_new_case_rows_start_as_the_base_segment_row_so_the_untrained_model_is_unchanged(tiny_model_dir):
    from transformers import BertForTokenClassification

    model = BertForTokenClassification.from_pretrained(str(tiny_model_dir)).eval()
    ids = torch.tensor([[101, 2000, 3000, 4000, 102]])
    before = model(input_ids=ids).logits
    add_case_embeddings(model)
    assert model.config.type_vocab_size == N_CASE_IDS
    shapes = torch.tensor([[0, 1, 2, 3, 4]])
    after = model(input_ids=ids, token_type_ids=shapes).logits
    assert torch.allclose(before, after, atol=1e-6)


def _train_config(tmp_path, tiny_model_dir, case_feature):
    base = tmp_path / "base"
    if not base.exists():
        shutil.copytree(tiny_model_dir, base)
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    rows = []
    for i in range(16):
        name = ["Anna Berg", "Tom Reyes"][i % 2]
        text = f"Spoke with {name} about apple pie on day {i}."
        rows.append(
            {"id": f"d{i}", "text": text, "spans": [{"start": 11, "end": 11 + len(name), "label": "PERSON"}]}
        )
    (data / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[:12]), encoding="utf-8")
    (data / "dev.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[12:]), encoding="utf-8")
    config = {
        "name": "case-test",
        "data_dir": str(data),
        "base_encoder": {"path": str(base)},
        "labels": ["PERSON"],
        "sources": [
            {"name": "notes", "kind": "spans_jsonl", "path": "train.jsonl", "label_map": "physionet"}
        ],
        "dev": {"path": "dev.jsonl", "label_map": "physionet"},
        "training": {
            "max_steps": 6,
            "batch_size": 8,
            "max_length": 32,
            "stride": 8,
            "eval_every_steps": 3,
            "lr": 5e-3,
            "case_feature": case_feature,
        },
        "output": {"dir": str(tmp_path / f"model-{case_feature}"), "runs_dir": str(tmp_path / "runs")},
    }
    path = tmp_path / f"config-{case_feature}.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path, tmp_path / f"model-{case_feature}"


def test_when_trained_with_the_case_feature_then_the_model_dir_says_so_and_case_changes_its_probabilities(
    tmp_path, tiny_model_dir
):
    config, out = _train_config(tmp_path, tiny_model_dir, True)
    result = CliRunner().invoke(cli, ["ner", "train", "--config", str(config)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    meta = read_meta(out)
    assert meta.case_feature and meta.format_version == 2
    assert json.loads((out / "config.json").read_text())["type_vocab_size"] == N_CASE_IDS
    assert (
        "case feature on (windows read as lower case 0.15, as upper case 0.05)"
        in (out / "README.md").read_text()
    )
    model = NerModel(out)
    title, lower = model.predict_word_probs(
        ["Spoke with Anna Berg today.", "spoke with anna berg today."]
    ).word_probs
    # same uncased token ids; only the shapes differ
    assert not torch.allclose(torch.tensor(title), torch.tensor(lower))


def test_when_trained_without_the_case_feature_then_format_1_and_case_is_ignored(tmp_path, tiny_model_dir):
    config, out = _train_config(tmp_path, tiny_model_dir, False)
    result = CliRunner().invoke(cli, ["ner", "train", "--config", str(config)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    meta = read_meta(out)
    assert not meta.case_feature and meta.format_version == 1
    assert "case_feature" in json.loads((out / META_FILE).read_text())
    title, lower = (
        NerModel(out)
        .predict_word_probs(["Spoke with Anna Berg today.", "spoke with anna berg today."])
        .word_probs
    )
    assert torch.allclose(torch.tensor(title), torch.tensor(lower))


def test_when_meta_asks_for_case_but_config_has_two_segment_rows_then_loading_fails(tmp_path, tiny_model_dir):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, broken)
    meta = json.loads((broken / META_FILE).read_text())
    meta["case_feature"] = True
    meta["format_version"] = 2
    (broken / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(ModelLoadError, match="type_vocab_size 2"):
        NerModel(broken).load()


def test_when_a_model_dir_predates_the_case_feature_then_it_reads_as_off(tmp_path, tiny_model_dir):
    old = tmp_path / "old"
    shutil.copytree(tiny_model_dir, old)
    meta = json.loads((old / META_FILE).read_text())
    meta.pop("case_feature", None)
    (old / META_FILE).write_text(json.dumps(meta))
    assert read_meta(old).case_feature is False


def test_when_the_case_feature_is_asked_with_lora_then_config_error(tmp_path, tiny_model_dir):
    config, _ = _train_config(tmp_path, tiny_model_dir, True)
    data = yaml.safe_load(config.read_text())
    data["training"]["method"] = "lora"
    config.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(cli, ["ner", "train", "--config", str(config)])
    assert result.exit_code == 1 and "case_feature needs method: full" in result.output


def test_when_a_source_does_not_annotate_dates_then_date_words_outside_gold_leave_the_loss():
    from transformers import PreTrainedTokenizerFast

    from deid.ner.align import IGNORE_INDEX
    from deid.ner.data import Document
    from deid.ner.train import make_examples

    tokenizer = PreTrainedTokenizerFast.from_pretrained(str(base_tokenizer_dir()))
    text = "Anna Berg joined Acme on March 4, 2019 and left in May; call 617-555-0199."
    doc = Document("d", text, [(0, 9, "PERSON"), (17, 21, "ORGANIZATION")])
    labels = ["PERSON", "ORGANIZATION", "DATE_TIME", "PHONE_NUMBER"]
    (plain,) = make_examples(tokenizer, [doc], labels, 64, 8)
    (masked,) = make_examples(tokenizer, [doc], labels, 64, 8, unannotated=["DATE_TIME", "PHONE_NUMBER"])
    (dates_only,) = make_examples(tokenizer, [doc], labels, 64, 8, unannotated=["DATE_TIME"])
    ignored = [i for i, (a, b) in enumerate(zip(plain.labels, masked.labels, strict=True)) if a != b]
    assert all(plain.labels[i] == 0 and masked.labels[i] == IGNORE_INDEX for i in ignored)
    (enc,) = encode_documents(tokenizer, [text])
    word_at = {w.first_token + 1: text[w.start : w.end] for w in enc.words}  # +1: [CLS]
    words = {word_at[i] for i in ignored}
    assert words == {"March", "4", ",", "2019", "May", "617", "-", "555", "0199"}
    # gold spans keep their labels
    assert masked.labels[1] == plain.labels[1] > 0
    assert {
        word_at[i] for i, lab in enumerate(dates_only.labels) if lab == IGNORE_INDEX and i in word_at
    } == {"March", "4", ",", "2019", "May"}


def test_when_unannotated_names_a_label_without_a_pattern_then_config_error(tmp_path, tiny_model_dir):
    config, _ = _train_config(tmp_path, tiny_model_dir, False)
    data = yaml.safe_load(config.read_text())
    data["sources"][0]["unannotated"] = ["PERSON"]
    config.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(cli, ["ner", "train", "--config", str(config)])
    assert result.exit_code == 1 and "unannotated" in result.output
