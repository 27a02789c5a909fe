"""The ``deid classify`` and ``deid mlm`` commands, run through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from deid.cli import cli

FAST_SETFIT = ["--max-steps", "4", "--lr", "1e-3", "--param", "num_iterations=2"]


@pytest.fixture(scope="module")
def labelled_csv(tiny_corpus: tuple[list[str], list[str]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    texts, labels = tiny_corpus
    path = tmp_path_factory.mktemp("data") / "docs.csv"
    pd.DataFrame({"body": texts, "topic": labels}).to_csv(path, index=False)
    return path


def _run(args: list[str]) -> str:
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(
    "command",
    [
        ["classify", "train"],
        ["classify", "evaluate"],
        ["classify", "compare"],
        ["classify", "calibrate"],
        ["mlm", "adapt"],
    ],
)
def test_every_command_has_help_with_an_example(command: list[str]) -> None:
    output = _run([*command, "--help"])
    assert "Example: deid " in output


def test_when_training_then_evaluating_then_model_and_metrics_are_written(
    labelled_csv: Path, tiny_encoder: Path, tmp_path: Path
) -> None:
    model_dir = tmp_path / "model"
    output = _run(
        ["classify", "train", "--method", "setfit", "--data", str(labelled_csv), "--text-column", "body",
         "--label-column", "topic", "--out", str(model_dir), "--shots", "4", "--base", str(tiny_encoder),
         "--dev", str(labelled_csv), *FAST_SETFIT]
    )  # fmt: skip
    assert "trained setfit on 8 documents (medical, sport)" in output
    metrics = json.loads((model_dir / "metrics.json").read_text())
    assert metrics["train"]["class_counts"] == {"medical": 4, "sport": 4}
    assert metrics["train"]["shots"] == 4
    assert metrics["dev"]["n"] == 16
    meta = json.loads((model_dir / "deid_classifier.json").read_text())
    assert meta["params"]["max_steps"] == 4 and meta["params"]["num_iterations"] == 2

    out_json = tmp_path / "eval.json"
    output = _run(
        ["classify", "evaluate", str(model_dir), str(labelled_csv), "--text-column", "body", "--label-column",
         "topic", "--out", str(out_json), "--record", "holdout", "--about", "the training file again"]
    )  # fmt: skip
    assert "macro-F1" in output and "confusion matrix" in output
    evaluated = json.loads(out_json.read_text())
    assert evaluated["n"] == 16
    assert evaluated["method"] == "setfit"
    assert set(evaluated["per_class"]) == {"medical", "sport"}
    assert evaluated["accuracy"] == pytest.approx(metrics["dev"]["accuracy"])
    recorded = json.loads((model_dir / "metrics.json").read_text())
    assert recorded["holdout"]["n"] == 16 and recorded["train"]["n_examples"] == 8
    assert "| holdout | the training file again | 16 |" in (model_dir / "README.md").read_text()


def test_when_training_mlm_setfit_with_an_unlabelled_corpus_then_it_trains(
    labelled_csv: Path, tiny_encoder: Path, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(
        "".join(json.dumps({"body": f"an unlabelled document number {i}"}) + "\n" for i in range(20))
    )
    _run(
        ["classify", "train", "--method", "mlm-setfit", "--data", str(labelled_csv), "--text-column", "body",
         "--label-column", "topic", "--out", str(tmp_path / "m"), "--base", str(tiny_encoder), "--unlabelled",
         str(corpus), "--param", "mlm_max_steps=2", "--param", "mlm_head_warmup_steps=1", *FAST_SETFIT]
    )  # fmt: skip
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert metrics["train"]["unlabelled"] == "unlabelled corpus"


def test_when_comparing_then_table_and_json_have_a_row_per_method_and_budget(
    labelled_csv: Path, tiny_encoder: Path, tmp_path: Path
) -> None:
    out_json = tmp_path / "compare.json"
    output = _run(
        ["classify", "compare", "--data", str(labelled_csv), "--test", str(labelled_csv), "--text-column", "body",
         "--label-column", "topic", "--shots", "2,all", "--methods", "supervised,setfit", "--base",
         str(tiny_encoder), "--param", "supervised.max_steps=2", "--param", "setfit.max_steps=2", "--out",
         str(out_json)]
    )  # fmt: skip
    assert "macro-F1" in output and "train_s" in output
    rows = json.loads(out_json.read_text())["rows"]
    assert [(r["method"], r["shots"], r["n_train"]) for r in rows] == [
        ("supervised", 2, 4),
        ("setfit", 2, 4),
        ("supervised", "all", 16),
        ("setfit", "all", 16),
    ]
    assert all(0 <= r["macro_f1"] <= 1 and r["train_seconds"] >= 0 for r in rows)
    # The caps are stated: steps per row (both methods hit --param max_steps=2) and a caps footer.
    assert [r["steps"] for r in rows] == [2, 2, 2, 2]
    caps = json.loads(out_json.read_text())["caps"]
    assert caps[0] == "'all' = 16 of 16 labelled documents; test: 16 of 16"
    assert "setfit: 20 pairs per example, at most 2 contrastive steps" in caps[2]
    assert "supervised: 1 epoch(s), at least 20, at most 2 steps" in caps[1]
    assert "caps for CPU:" in output and caps[2] in output


def test_when_adapting_then_encoder_directory_is_written(
    labelled_csv: Path, tiny_encoder: Path, tmp_path: Path
) -> None:
    output = _run(
        ["mlm", "adapt", str(labelled_csv), "--text-column", "body", "--out", str(tmp_path / "enc"), "--base",
         str(tiny_encoder), "--max-steps", "2", "--head-warmup-steps", "1"]
    )  # fmt: skip
    assert "adapted on 16 texts" in output
    assert (tmp_path / "enc" / "model.safetensors").is_file()
    assert (tmp_path / "enc" / "modules.json").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["classify", "train", "--method", "svm", "--data", "x.csv", "--out", "m"],
            "unknown classifier method 'svm'",
        ),
        (
            [
                "classify",
                "train",
                "--method",
                "setfit",
                "--data",
                "{csv}",
                "--text-column",
                "text",
                "--out",
                "m",
            ],
            "column 'text'",
        ),
        (
            ["classify", "evaluate", "{tmp}", "{csv}", "--text-column", "body", "--label-column", "topic"],
            "not a deid classifier directory",
        ),
        (["classify", "compare", "--data", "{csv}", "--shots", "0"], "--shots"),
        (["mlm", "adapt", "{tmp}/missing.parquet", "--out", "{tmp}/enc"], "file not found"),
    ],
)
def test_when_input_is_wrong_then_one_line_error_and_exit_1(
    args: list[str], message: str, labelled_csv: Path, tmp_path: Path
) -> None:
    args = [a.format(csv=labelled_csv, tmp=tmp_path) for a in args]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_when_training_from_a_config_file_then_options_override_it(
    labelled_csv: Path, tiny_encoder: Path, tmp_path: Path
) -> None:
    config = tmp_path / "train.yaml"
    config.write_text(
        "method: supervised\ntext_column: body\nlabel_column: topic\nshots: 3\nseed: 1\n"
        "params: {min_steps: 2, lr: 0.001}\ndescription: hand-made topics\n"
    )
    out = tmp_path / "m"
    _run(["classify", "train", "--config", str(config), "--data", str(labelled_csv), "--out", str(out),
          "--base", str(tiny_encoder), "--shots", "2"])  # fmt: skip
    meta = json.loads((out / "deid_classifier.json").read_text())
    assert meta["method"] == "supervised"
    assert meta["params"]["min_steps"] == 2 and meta["params"]["seed"] == 1
    assert json.loads((out / "metrics.json").read_text())["train"]["n_examples"] == 4  # --shots 2 wins
    assert "hand-made topics" in (out / "README.md").read_text()


def test_when_config_has_an_unknown_key_then_config_error_names_it(
    tmp_path: Path, labelled_csv: Path
) -> None:
    config = tmp_path / "train.yaml"
    config.write_text("method: setfit\nparams: {epochz: 3}\n")
    result = CliRunner().invoke(
        cli,
        [
            "classify",
            "train",
            "--config",
            str(config),
            "--data",
            str(labelled_csv),
            "--out",
            str(tmp_path / "m"),
        ],
    )
    assert result.exit_code == 1
    assert "epochz" in result.output and "train.yaml" in result.output


@pytest.fixture(scope="module")
def team_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A team's own labels (business / personal / sensitive), 6 documents each."""
    rows = []
    for i in range(6):
        rows += [
            {"body": f"Quarterly sales review {i}: pipeline, pricing and targets.", "kind": "business"},
            {"body": f"Hi mum, dinner on Sunday {i}? I will bring the cake.", "kind": "personal"},
            {
                "body": f"Privileged legal advice {i} on the disciplinary hearing, SSN 536-22-87{i:02d}.",
                "kind": "sensitive",
            },
        ]
    path = tmp_path_factory.mktemp("team") / "team.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_when_training_with_a_label_map_then_evaluate_reports_scores_after_the_fail_safe(
    team_csv: Path, tiny_encoder: Path, tmp_path: Path
) -> None:
    model_dir = tmp_path / "router"
    output = _run(
        ["classify", "train", "--method", "frozen", "--data", str(team_csv), "--text-column", "body",
         "--label-column", "kind", "--out", str(model_dir), "--base", str(tiny_encoder),
         "--label-map", "business=internal,personal=confidential,sensitive=restricted"]
    )  # fmt: skip
    assert "(confidential, internal, restricted)" in output
    assert "fail-safe for restricted recall >= 0.9" in output
    meta = json.loads((model_dir / "deid_classifier.json").read_text())
    assert meta["label_map"]["sensitive"] == "restricted"
    out_json = tmp_path / "eval.json"
    output = _run(
        ["classify", "evaluate", str(model_dir), str(team_csv), "--text-column", "body", "--label-column", "kind",
         "--out", str(out_json)]
    )  # fmt: skip
    assert "after the fail-safe (calibrated" in output
    evaluated = json.loads(out_json.read_text())
    assert evaluated["per_class"]["restricted"]["support"] == 6  # the team's labels were mapped
    assert evaluated["routed"]["per_class"]["restricted"]["support"] == 6
    assert evaluated["routed"]["escalated"] == sum(evaluated["routed"]["escalations"].values())


def test_when_calibrating_from_the_cli_then_the_model_card_states_the_goal(
    team_csv: Path, tiny_encoder: Path, tmp_path: Path
) -> None:
    model_dir = tmp_path / "router"
    _run(
        ["classify", "train", "--method", "tfidf", "--data", str(team_csv), "--text-column", "body",
         "--label-column", "kind", "--out", str(model_dir), "--calibration", "none",
         "--label-map", "business=internal,personal=confidential,sensitive=restricted"]
    )  # fmt: skip
    output = _run(
        ["classify", "calibrate", str(model_dir), str(team_csv), "--text-column", "body", "--label-column", "kind",
         "--fail-safe-recall", "1.0"]
    )  # fmt: skip
    assert "calibrated (held-out: team.csv" in output
    card = (model_dir / "README.md").read_text()
    assert "Goal: `restricted` recall >= 1.0" in card


def test_when_comparing_tier_labels_then_rows_give_scores_after_the_fail_safe(
    team_csv: Path, tmp_path: Path
) -> None:
    out_json = tmp_path / "compare.json"
    output = _run(
        ["classify", "compare", "--data", str(team_csv), "--test", str(team_csv), "--text-column", "body",
         "--label-column", "kind", "--shots", "4", "--methods", "tfidf", "--out", str(out_json),
         "--label-map", "business=internal,personal=confidential,sensitive=restricted"]
    )  # fmt: skip
    assert "routed-F1" in output
    row = json.loads(out_json.read_text())["rows"][0]
    assert row["method"] == "tfidf" and 0 <= row["routed_macro_f1"] <= 1 and row["goal_recall"] is not None


def test_when_training_a_transformer_then_no_load_report_reaches_the_console(
    labelled_csv: Path, tiny_encoder: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    output = _run(
        ["classify", "train", "--method", "supervised", "--data", str(labelled_csv), "--text-column", "body",
         "--label-column", "topic", "--out", str(tmp_path / "m"), "--base", str(tiny_encoder), "--shots", "2",
         "--param", "min_steps=1"]
    )  # fmt: skip
    console = output + "".join(capfd.readouterr())
    assert "LOAD REPORT" not in console and "Loading weights" not in console
    assert "trained supervised" in output


@pytest.mark.parametrize("name", ["router", "setfit-16shot", "frozen-16shot"])
def test_shipped_training_configs_validate(name: str) -> None:
    from deid.classify.config import load_train_config

    config = load_train_config(Path(__file__).resolve().parents[2] / "configs" / "classify" / f"{name}.yaml")
    assert config.fail_safe.tier == "restricted"


def test_when_config_has_a_label_map_then_training_uses_and_stores_it(
    team_csv: Path, tiny_encoder: Path, tmp_path: Path
) -> None:
    config = tmp_path / "train.yaml"
    config.write_text(
        "method: frozen\ntext_column: body\nlabel_column: kind\n"
        "label_map: {business: internal, personal: confidential, sensitive: restricted}\n"
        "fail_safe: {tier: restricted, min_recall: 1.0}\n"
    )
    out = tmp_path / "m"
    _run(["classify", "train", "--config", str(config), "--data", str(team_csv), "--out", str(out),
          "--base", str(tiny_encoder)])  # fmt: skip
    meta = json.loads((out / "deid_classifier.json").read_text())
    assert meta["classes"] == ["confidential", "internal", "restricted"]
    assert meta["label_map"]["personal"] == "confidential"
    assert meta["fail_safe"]["goal"]["min_recall"] == 1.0


def test_when_training_zero_shot_without_data_then_it_routes_to_every_tier(
    tiny_encoder: Path, tmp_path: Path
) -> None:
    from deid.classify import load_classifier

    out = tmp_path / "zs"
    output = _run(
        ["classify", "train", "--method", "zero-shot", "--out", str(out), "--base", str(tiny_encoder)]
    )
    assert "(no labels)" in output
    model = load_classifier(out)
    assert list(model.classes_) == ["confidential", "internal", "public", "restricted"]
    assert model.predict_proba(["a contract with prices"]).shape == (1, 4)
    result = CliRunner().invoke(
        cli, ["classify", "train", "--method", "frozen", "--out", str(tmp_path / "f")]
    )
    assert result.exit_code == 1 and "--data is required" in result.output
