"""Configuration loading and validation errors."""

from __future__ import annotations

from pathlib import Path

import pytest

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
        "hash",
        "keep",
        "mask",
        "pseudonymize",
        "redact",
        "replace",
    ]
