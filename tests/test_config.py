"""Configuration loading and validation errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from deid.config import DeidConfig, load_config, parse_config
from deid.errors import ConfigError
from deid.transform.operators import OPERATORS
from tests.conftest import REPO, write_config


def test_when_default_config_loaded_then_needs_no_key() -> None:
    config = load_config(REPO / "configs" / "default.yaml")
    assert not config.policy.needs_key()
    assert config.policy.operator_for("PERSON").operator == "replace"


@pytest.mark.parametrize("path", sorted((REPO / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_when_shipped_config_loaded_then_valid(path: Path) -> None:
    if path.name == "tiers.yaml":
        pytest.skip("tiers.yaml is the routing taxonomy, validated by deid.classify")
    assert isinstance(load_config(path), DeidConfig)


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("detection:\n  score_treshold: 0.5\n", r"detection\.score_treshold: unknown key"),
        ("policy:\n  default: {operator: shred}\n", r"policy\.default"),
        ("detection:\n  thresholds: {PERSON: 1.5}\n", r"detection\.thresholds"),
        ("run:\n  shard_size: 0\n", r"run\.shard_size"),
        ("policy:\n  entities:\n    PERSON: {operator: mask, masking_char: '**'}\n", r"masking_char"),
        ("- a\n- b\n", "expected a mapping"),
        ("detection: [unclosed\n", r"invalid YAML \(line"),
        ("detection:\n  transformer: {model: m, max_length: 64, stride: 40}\n", "stride"),
    ],
)
def test_when_config_invalid_then_error_names_file_and_key(
    tmp_path: Path, yaml_text: str, message: str
) -> None:
    path = write_config(tmp_path / "bad.yaml", yaml_text)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_when_config_file_missing_then_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")


def test_when_keyed_operator_configured_then_key_needed() -> None:
    config = parse_config({"policy": {"entities": {"PERSON": {"operator": "pseudonymize"}}}})
    assert config.policy.needs_key()


def test_when_config_changes_then_digest_changes() -> None:
    assert parse_config({}).digest() != parse_config({"run": {"shard_size": 7}}).digest()
    assert parse_config({}).digest() == DeidConfig().digest()


def test_registered_operator_names_do_not_disappear() -> None:
    assert sorted(OPERATORS) == [
        "date_shift",
        "encrypt",
        "generalize",
        "hash",
        "keep",
        "mask",
        "pseudonymize",
        "redact",
        "replace",
    ]


# --------------------------------------------------------------------------- layering over profiles


def test_when_profile_states_only_policy_then_default_detection_applies(tmp_path: Path) -> None:
    path = write_config(tmp_path / "mine.yaml", "policy:\n  default: {operator: redact}\n")
    config = load_config(path)
    default = load_config(REPO / "configs" / "default.yaml")
    assert config.detection == default.detection
    assert config.detection.transformer is not None
    assert config.policy.default.operator == "redact"
    assert config.profile == "mine (extends default)"


def test_when_shipped_pseudonymize_profile_loaded_then_it_runs_the_shipped_model() -> None:
    config = load_config(REPO / "configs" / "pseudonymize.yaml")
    assert config.detection.transformer is not None
    assert config.detection.transformer.model == "models/deid-ner-minilm"
    assert config.detection.thresholds["PHONE_NUMBER"] == 0.5  # merged from the default profile


def test_when_transformer_null_then_model_off(tmp_path: Path) -> None:
    path = write_config(tmp_path / "off.yaml", "detection:\n  transformer: null\n")
    assert load_config(path).detection.transformer is None


def test_when_layer_changes_one_transformer_key_then_others_kept(tmp_path: Path) -> None:
    path = write_config(tmp_path / "small.yaml", "detection:\n  transformer: {batch_size: 8}\n")
    transformer = load_config(path).detection.transformer
    assert transformer is not None and transformer.batch_size == 8
    assert transformer.model == "models/deid-ner-minilm"


def test_when_operator_spec_layered_then_it_replaces_the_whole_spec(tmp_path: Path) -> None:
    write_config(tmp_path / "base.yaml", "policy:\n  default: {operator: mask, keep_last: 4}\n")
    top = write_config(tmp_path / "top.yaml", "extends: base.yaml\npolicy:\n  default: {operator: hash}\n")
    config = load_config(top)
    assert config.policy.default.operator == "hash"
    assert config.profile == "top (extends base < default)"


def test_when_extends_null_then_builtin_defaults(tmp_path: Path) -> None:
    path = write_config(tmp_path / "bare.yaml", "extends: null\nrun: {shard_size: 5}\n")
    config = load_config(path)
    assert config.detection.transformer is None
    assert config.run.shard_size == 5


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"a.yaml": "extends: b.yaml\n", "b.yaml": "extends: a.yaml\n"}, "cycle"),
        ({"a.yaml": "extends: no-such-profile\n"}, "profile 'no-such-profile' not found"),
        ({"a.yaml": "extends: [x]\n"}, "expected a profile name"),
    ],
)
def test_when_extends_invalid_then_one_line_error(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    for name, text in files.items():
        write_config(tmp_path / name, text)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(tmp_path / "a.yaml")
    assert "\n" not in str(info.value)


def test_when_unknown_key_in_base_layer_then_error_names_that_file(tmp_path: Path) -> None:
    write_config(tmp_path / "base.yaml", "detection:\n  treshold: 0.3\n")
    top = write_config(tmp_path / "top.yaml", "extends: base.yaml\nrun: {shard_size: 10}\n")
    with pytest.raises(ConfigError, match=r"base\.yaml: detection\.treshold: unknown key"):
        load_config(top)


def test_when_config_shown_then_each_set_value_names_its_file(tmp_path: Path) -> None:
    from deid.config import load_layered_config, render_effective_config

    path = write_config(tmp_path / "mine.yaml", "run: {shard_size: 7}\n")
    text = render_effective_config(load_layered_config(path))
    assert "model: models/deid-ner-minilm  # configs/default.yaml" in text
    assert f"shard_size: 7  # {path}" in text
    assert "csv_formulas: escape\n" in text  # a built-in default: no source
    # The printed YAML is itself a complete configuration with the same digest.
    assert parse_config(yaml.safe_load(text)).digest() == load_config(path).digest()


def test_profile_name_is_not_part_of_the_digest(tmp_path: Path) -> None:
    path = write_config(tmp_path / "same.yaml", "")
    assert load_config(path).digest() == load_config(REPO / "configs" / "default.yaml").digest()


def test_when_demo_profile_loaded_then_it_names_every_sample_column() -> None:
    import pyarrow.parquet as pq

    config = load_config(REPO / "samples" / "demo.yaml")
    assert config.detection.transformer is not None  # layered over the default profile
    named = set(config.columns)
    columns = set(pq.read_schema(REPO / "samples" / "notes.parquet").names)
    # the id and two non-identifying columns stay as they are; every other column is named
    assert columns - named == {"id", "department", "priority"}
