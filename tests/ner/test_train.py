"""Training a few steps on a tiny fixture model, packaging, base-encoder hash checks, and the CLI."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml
from click.testing import CliRunner

from deid.cli import cli
from deid.errors import ConfigError
from deid.ner.config import load_train_config
from deid.ner.inference import NerModel
from deid.ner.modeldir import META_FILE, ModelLoadError, read_meta, sha256_file

NAMES = ["Anna Berg", "Tom Reyes", "Li Wei", "Omar Haddad"]
CITIES = ["Boston", "Leeds", "Lyon", "Quito"]


def _write_jsonl(path, n, first=0):
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(first, first + n):
            name, city = NAMES[i % 4], CITIES[(i // 4) % 4]
            prefix = f"Pt seen today. Spoke with {name}"
            text = f"{prefix} from {city} on 3/{i % 28 + 1}/2020. BP 120/80."
            spans = [
                {"start": len("Pt seen today. Spoke with "), "end": len(prefix), "label": "PERSON"},
                {"start": len(prefix) + 6, "end": len(prefix) + 6 + len(city), "label": "LOCATION"},
                {"start": text.index(" on ") + 4, "end": text.index(". BP"), "label": "DATE"},
            ]
            handle.write(json.dumps({"id": f"d{i}", "text": text, "spans": spans}) + "\n")
    return path


@pytest.fixture()
def train_setup(tmp_path, tiny_model_dir):
    """A copy of the tiny model as base encoder, data files, and a training config."""
    base = tmp_path / "base"
    shutil.copytree(tiny_model_dir, base)
    data = tmp_path / "data"
    data.mkdir()
    _write_jsonl(data / "train.jsonl", 24)
    _write_jsonl(data / "dev.jsonl", 6, first=100)  # other dates: no dev text is a training text
    (data / "train.conll").write_text(
        "Meet\tO\nAnna\tB-person\nin\tO\nLyon\tB-location\n\n", encoding="utf-8"
    )
    config = {
        "name": "test-ner",
        "data_dir": str(data),
        "base_encoder": {"path": str(base)},
        "labels": ["PERSON", "LOCATION", "DATE_TIME"],
        "sources": [
            {
                "name": "notes",
                "kind": "spans_jsonl",
                "path": "train.jsonl",
                "label_map": "physionet",
                "weight": 1.0,
            },
            {"name": "tweets", "kind": "conll", "path": "train.conll", "label_map": "wnut", "weight": 2.0},
        ],
        "dev": {"path": "dev.jsonl", "label_map": "physionet"},
        "training": {
            "max_steps": 4,
            "batch_size": 8,
            "max_length": 32,
            "stride": 8,
            "eval_every_steps": 2,
            "lr": 1e-3,
        },
        "output": {"dir": str(tmp_path / "model"), "runs_dir": str(tmp_path / "runs"), "dtype": "float16"},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path, tmp_path, base


def test_when_training_a_few_steps_then_a_loadable_model_dir_is_written(train_setup):
    config_path, tmp_path, base = train_setup
    result = CliRunner().invoke(cli, ["ner", "train", "--config", str(config_path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = tmp_path / "model"
    for name in (
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        META_FILE,
        "README.md",
        "metrics.json",
        "training_config.yaml",
    ):
        assert (out / name).is_file(), name
    meta = read_meta(out)
    assert meta.weights_dtype == "float16"
    assert meta.base_encoder is not None and meta.base_encoder.sha256 == sha256_file(
        base / "model.safetensors"
    )
    assert meta.base_encoder.tensors_from_base  # frozen word embeddings are borrowed, not stored
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["steps"] == 4 and "leak_rate" in metrics["dev"]["char"]
    assert metrics["data"]["tweets"]["windows"] == 1
    assert meta.base_encoder.sha256 in (out / "README.md").read_text()
    spans = NerModel(out).predict(["Spoke with Anna Berg from Lyon."])
    assert len(spans) == 1


def test_when_the_base_encoder_changes_then_loading_fails(train_setup):
    config_path, tmp_path, base = train_setup
    CliRunner().invoke(cli, ["ner", "train", "--config", str(config_path)], catch_exceptions=False)
    again = CliRunner().invoke(cli, ["ner", "train", "--config", str(config_path)])
    assert again.exit_code == 1 and "--overwrite" in again.output
    with open(base / "model.safetensors", "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ModelLoadError, match="sha256"):
        NerModel(tmp_path / "model").predict(["Anna"])


@pytest.mark.parametrize(
    "change, message",
    [
        ({"labels": "PERSON"}, "labels"),
        ({"training": {"stride": 40, "max_length": 32}}, "stride"),
        ({"unknown_key": 1}, "unknown_key"),
        ({"sources": [{"name": "x", "kind": "conll"}]}, "needs a path"),
    ],
)
def test_when_config_is_invalid_then_config_error_names_the_key(train_setup, change, message):
    config_path, _, _ = train_setup
    raw = yaml.safe_load(config_path.read_text())
    raw.update(change)
    config_path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match=message):
        load_train_config(config_path)


def test_when_cli_config_is_invalid_then_one_line_error_and_exit_1(train_setup):
    config_path, _, _ = train_setup
    result = CliRunner().invoke(
        cli, ["ner", "train", "--config", str(config_path), "--set", "training.lr=-1"]
    )
    assert result.exit_code == 1
    assert "training.lr" in result.output


def test_when_evaluating_a_model_from_the_cli_then_json_scores_are_written(train_setup, tiny_model_dir):
    _, tmp_path, _ = train_setup
    out = tmp_path / "scores.json"
    preds = tmp_path / "preds.jsonl"
    result = CliRunner().invoke(
        cli,
        [
            "ner",
            "evaluate",
            str(tiny_model_dir),
            str(tmp_path / "data" / "dev.jsonl"),
            "--out",
            str(out),
            "--predictions-out",
            str(preds),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "leak rate" in result.output
    scores = json.loads(out.read_text())
    assert scores["documents"]["n"] == 6
    assert set(scores["entity"]["overlap"]) >= {"PERSON", "LOCATION", "DATE_TIME", "ANY"}
    # the written predictions evaluate to the same numbers
    again = tmp_path / "again.json"
    CliRunner().invoke(
        cli,
        ["ner", "evaluate", str(preds), str(tmp_path / "data" / "dev.jsonl"), "--out", str(again)],
        catch_exceptions=False,
    )
    assert json.loads(again.read_text())["char"] == scores["char"]


def test_when_the_predictor_is_unknown_then_exit_1(train_setup):
    _, tmp_path, _ = train_setup
    result = CliRunner().invoke(cli, ["ner", "evaluate", "nonsense", str(tmp_path / "data" / "dev.jsonl")])
    assert result.exit_code == 1 and "not a model directory" in result.output


def test_when_training_with_lora_then_the_head_learns_and_adapters_are_merged(train_setup):
    config_path, tmp_path, base = train_setup
    from safetensors.torch import load_file

    result = CliRunner().invoke(
        cli,
        [
            "ner",
            "train",
            "--config",
            str(config_path),
            "--set",
            "training.method=lora",
            "--set",
            "training.lora.r=2",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    trained = load_file(str(tmp_path / "model" / "model.safetensors"))
    assert not any("lora" in name for name in trained)
    original = load_file(str(base / "model.safetensors"))
    assert not trained["classifier.weight"].float().allclose(original["classifier.weight"].float(), atol=1e-4)
    assert NerModel(tmp_path / "model").predict(["Anna Berg from Lyon"])


def test_when_the_evaluation_output_exists_then_overwrite_is_needed(train_setup, tiny_model_dir):
    _, tmp_path, _ = train_setup
    out = tmp_path / "scores.json"
    out.write_text("{}")
    args = ["ner", "evaluate", str(tiny_model_dir), str(tmp_path / "data" / "dev.jsonl"), "--out", str(out)]
    refused = CliRunner().invoke(cli, args)
    assert refused.exit_code == 1 and "--overwrite" in refused.output
    assert CliRunner().invoke(cli, [*args, "--overwrite"], catch_exceptions=False).exit_code == 0
    assert "char" in json.loads(out.read_text())


def test_when_init_from_names_a_first_stage_config_then_it_is_trained_first(train_setup):
    config_path, tmp_path, _ = train_setup
    stage1 = yaml.safe_load(config_path.read_text())
    stage1["output"]["dir"] = str(tmp_path / "stage1")
    stage1["training"]["max_steps"] = 2
    stage1_path = tmp_path / "stage1.yaml"
    stage1_path.write_text(yaml.safe_dump(stage1))
    result = CliRunner().invoke(
        cli,
        ["ner", "train", "--config", str(config_path), "--set", f"training.init_from={stage1_path}"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert read_meta(tmp_path / "stage1").name == "test-ner"
    assert (
        read_meta(tmp_path / "model").base_encoder.sha256
        == read_meta(tmp_path / "stage1").base_encoder.sha256
    )
    with pytest.raises(ConfigError, match="init_from"):
        from deid.ner.train import train_model

        bad = load_train_config(config_path, {"training.init_from": str(tmp_path / "nowhere")})
        bad = bad.model_copy(update={"output": bad.output.model_copy(update={"dir": str(tmp_path / "x")})})
        train_model(bad)


def test_when_decoding_is_retuned_then_metadata_and_metrics_are_rewritten(train_setup):
    config_path, tmp_path, _ = train_setup
    from deid.ner.train import retune_decoding

    CliRunner().invoke(cli, ["ner", "train", "--config", str(config_path)], catch_exceptions=False)
    config = load_train_config(config_path)
    metrics = retune_decoding(tmp_path / "model", config)
    assert read_meta(tmp_path / "model").decoding.o_threshold == metrics["o_threshold"]
    assert json.loads((tmp_path / "model" / "metrics.json").read_text())["dev"] == metrics["dev"]


def test_when_a_dev_document_repeats_a_training_text_then_the_dev_set_leaves_it_out(train_setup):
    from deid.ner.train import load_dev_sets

    config_path, tmp_path, _ = train_setup
    config = load_train_config(config_path)
    ((_, before),) = load_dev_sets(config)
    assert len(before) == 6
    train_text = (tmp_path / "data" / "train.jsonl").read_text().splitlines()[3]
    dev_path = tmp_path / "data" / "dev.jsonl"
    dev_path.write_text(dev_path.read_text() + train_text + "\n", encoding="utf-8")
    ((_, after),) = load_dev_sets(config)
    assert len(after) == 6 and json.loads(train_text)["text"] not in {d.text for d in after}
