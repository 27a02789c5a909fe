"""A leak gate per shipped profile: every profile meant to remove personal data detects as well as the default.

Each config in ``configs/`` redacts the shipped sample (note and comment columns, with a test key),
then ``deid verify`` measures the share of gold characters that survive. A profile may leak at most
the default profile's rate plus half a point. ``patterns-only.yaml`` says in its header that it leaks
names and places; for it the gate is that no value of a pattern type survives.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, SAMPLES, TEST_KEY, run_cli

PROFILES = sorted(p for p in (REPO / "configs").glob("*.yaml") if p.name != "tiers.yaml")
PATTERN_TYPES = ["EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE", "IP_ADDRESS", "URL"]
MARGIN = 0.005  # half a percentage point of gold characters


def _redact_and_verify(profile: Path, out: Path) -> dict[str, Any]:
    columns = ["--text-column", "note", "--text-column", "comment", "--id-column", "id"]
    env = {"DEID_KEY": TEST_KEY, "DEID_KEY_FILE": ""}
    result = run_cli(
        ["redact", str(SAMPLES / "notes.parquet"), str(out), *columns, "--subject-column", "patient_id"]
        + ["--config", str(profile)],
        env=env,
    )
    assert result.exit_code == 0, result.output
    result = run_cli(
        ["verify", str(SAMPLES / "notes.parquet"), str(out), *columns]
        + ["--gold", str(SAMPLES / "notes.gold.jsonl"), "--max-leak", "1"],
        env=env,
    )
    assert result.exit_code == 0, result.output
    return json.loads((out / "_verify.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def default_leak(tmp_path_factory: pytest.TempPathFactory) -> float:
    report = _redact_and_verify(REPO / "configs" / "default.yaml", tmp_path_factory.mktemp("default") / "out")
    return float(report["leak_rate"])


@pytest.mark.slow
@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.stem)
def test_when_shipped_profile_redacts_the_sample_then_it_leaks_no_more_than_the_default(
    profile: Path, default_leak: float, tmp_path: Path
) -> None:
    header = profile.read_text(encoding="utf-8").split("\n", 8)
    report = _redact_and_verify(profile, tmp_path / "out")
    if profile.name == "patterns-only.yaml":
        assert any("LEAKS NAMES" in line for line in header), "patterns-only must say that it leaks names"
        by_type = report["gold"]["by_type"]
        for entity_type in PATTERN_TYPES:
            assert by_type[entity_type]["leaked_values"] == 0, entity_type
        return
    assert report["leak_rate"] <= default_leak + MARGIN, (profile.name, report["leak_rate"], default_leak)
