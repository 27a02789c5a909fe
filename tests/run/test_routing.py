"""Sensitivity routing in the job with the shipped default router: tiers, partitions, fail-safe, per-tier policy."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import REPO, SAMPLES, run_cli, write_config

ROUTER = REPO / "models" / "deid-router-minilm"
TIERS = ["public", "internal", "confidential", "restricted"]
OTHER_TEXTS = [
    "The city library will open a new reading room next spring, the council announced today.",
    "Our product FAQ: how do I reset the router? Hold the button for ten seconds.",
    "Agenda for the weekly team meeting: sprint planning, retrospective, lunch order.",
    "Reminder: the office kitchen will be cleaned on Friday, please take your mugs home.",
    "The draft supply contract sets the unit price at 14.20 and a penalty of 3% for late delivery.",
    "Quarterly revenue fell 4% against plan; the board will review the pricing strategy.",
]


@pytest.fixture(scope="module")
def mixed_input(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten sample notes (with identifiers) and six business texts of lower tiers."""
    notes = pq.read_table(SAMPLES / "notes.parquet").slice(0, 10).select(["id", "note"])
    others = pa.table({"id": [f"X{i}" for i in range(len(OTHER_TEXTS))], "note": OTHER_TEXTS})
    path = tmp_path_factory.mktemp("routing") / "mixed.parquet"
    pq.write_table(pa.concat_tables([notes, others]), path)
    return path


@pytest.fixture(scope="module")
def routed(mixed_input: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("routed") / "out"
    args = ["redact", str(mixed_input), str(out), "--text-column", "note", "--id-column", "id"]
    result = run_cli([*args, "--router", str(ROUTER), "--workers", "1", "--no-progress"])
    assert result.exit_code == 0, result.output
    return out


def _partitions(out: Path) -> dict[str, pa.Table]:
    """The routed output read as a dataset, as pandas and Spark read it, split by tier.

    The tier comes from the ``sensitivity=<tier>`` directories: the parts do not repeat it.
    """
    for part in out.glob("sensitivity=*/part-*"):
        assert "sensitivity" not in pq.read_schema(part).names, part
    table = pq.read_table(out)
    tiers = [str(t) for t in table.column("sensitivity").to_pylist()]
    table = table.set_column(table.column_names.index("sensitivity"), "sensitivity", pa.array(tiers))
    return {tier: table.filter(pa.array([t == tier for t in tiers])) for tier in sorted(set(tiers))}


def test_when_routed_then_every_row_lands_in_exactly_one_tier_partition(
    routed: Path, mixed_input: Path
) -> None:
    partitions = _partitions(routed)
    assert set(partitions) <= set(TIERS) and "restricted" in partitions
    ids = [i for table in partitions.values() for i in table.column("id").to_pylist()]
    assert sorted(ids) == sorted(pq.read_table(mixed_input).column("id").to_pylist())
    for tier, table in partitions.items():
        assert set(table.column("sensitivity").to_pylist()) == {tier}
        scores = table.column("sensitivity_score").to_pylist()
        assert all(0.0 < s <= 1.0 for s in scores)
    report = json.loads((routed / "_report.json").read_text())
    assert report["tiers"] == {tier: table.num_rows for tier, table in partitions.items()}
    assert set(report["entities_by_tier"]) <= set(partitions)


def test_when_tier_is_restricted_then_its_policy_redacts_values_entirely(
    routed: Path, mixed_input: Path
) -> None:
    partitions = _partitions(routed)
    original = dict(zip(*pq.read_table(mixed_input).select(["id", "note"]).to_pydict().values(), strict=True))
    for row in partitions["restricted"].to_pylist():
        assert "<" not in row["note"] or "<" in original[row["id"]]  # redact leaves no <TYPE> placeholder
        assert len(row["note"]) < len(original[row["id"]])
    for tier, table in partitions.items():
        if tier != "restricted":
            for row in table.to_pylist():
                assert row["note"] == original[row["id"]] or "<" in row["note"]  # replace policy: <TYPE>


def test_when_confidence_below_threshold_then_document_goes_to_the_stricter_tier(
    tmp_path: Path, mixed_input: Path
) -> None:
    tiers = yaml_tiers(tmp_path, min_confidence=1.0)
    config = write_config(tmp_path / "c.yaml", f"routing:\n  tiers: {tiers}\n")
    out = tmp_path / "out"
    args = ["route", str(mixed_input), str(out), "--text-column", "note", "--id-column", "id"]
    assert run_cli([*args, "--router", str(ROUTER), "--config", str(config), "--workers", "1"]).exit_code == 0
    from deid.classify import load_classifier

    router = load_classifier(ROUTER)
    texts = pq.read_table(mixed_input).column("note").to_pylist()
    ids = pq.read_table(mixed_input).column("id").to_pylist()
    predicted = [str(router.classes_[i]) for i in np.asarray(router.predict_proba(texts)).argmax(axis=1)]
    stricter = {t: TIERS[min(TIERS.index(t) + 1, len(TIERS) - 1)] for t in TIERS}
    got = {row["id"]: row["sensitivity"] for table in _partitions(out).values() for row in table.to_pylist()}
    assert got == {i: stricter[p] for i, p in zip(ids, predicted, strict=True)}


def test_when_router_is_not_calibrated_then_the_report_counts_the_fallback_escalations(
    routed: Path, mixed_input: Path
) -> None:
    from deid.classify import load_classifier

    router = load_classifier(ROUTER)
    assert router.fail_safe_ is None  # the shipped demonstration router is not calibrated
    proba = np.asarray(router.predict_proba(pq.read_table(mixed_input).column("note").to_pylist()))
    low = proba.max(axis=1) < 0.6
    top = [str(router.classes_[i]) for i in proba.argmax(axis=1)]
    expected: dict[str, int] = {}
    for is_low, tier in zip(low, top, strict=True):
        if is_low and tier != "restricted":
            move = f"{tier}->{TIERS[TIERS.index(tier) + 1]}"
            expected[move] = expected.get(move, 0) + 1
    report = json.loads((routed / "_report.json").read_text())
    assert report["escalations"] == expected
    assert report["fail_safe"] == "min_confidence 0.6 (router not calibrated)"


@pytest.fixture(scope="module")
def calibrated_router(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A TF-IDF router trained (and calibrated by cross-validation) on synthetic tier documents."""
    from deid.classify.synth_tiers import generate_tier_documents
    from deid.classify.train import train_classifier

    out = tmp_path_factory.mktemp("router") / "tfidf"
    train_classifier("tfidf", generate_tier_documents(12, seed=3), out)
    return out


def test_when_router_is_calibrated_then_route_reports_its_rule_and_escalations(
    tmp_path: Path, mixed_input: Path, calibrated_router: Path
) -> None:
    from deid.classify import load_classifier

    out = tmp_path / "out"
    args = ["route", str(mixed_input), str(out), "--text-column", "note", "--id-column", "id"]
    result = run_cli([*args, "--router", str(calibrated_router), "--workers", "1"])
    assert result.exit_code == 0, result.output
    router = load_classifier(calibrated_router)
    assert router.fail_safe_ is not None and router.fail_safe_["goal"]["tier"] == "restricted"
    report = json.loads((out / "_report.json").read_text())
    assert report["fail_safe"].startswith("calibrated")
    texts = pq.read_table(mixed_input).column("note").to_pylist()
    proba = np.asarray(router.predict_proba(texts))
    top = [str(router.classes_[i]) for i in proba.argmax(axis=1)]
    got = {row["id"]: row["sensitivity"] for table in _partitions(out).values() for row in table.to_pylist()}
    ids = pq.read_table(mixed_input).column("id").to_pylist()
    moved = sum(got[i] != t for i, t in zip(ids, top, strict=True))
    assert sum(report["escalations"].values()) == moved
    assert all(move.endswith("->restricted") for move in report["escalations"])
    assert f"fail-safe escalated {moved} rows" in result.output


def test_when_routing_only_then_texts_are_unchanged(
    tmp_path: Path, mixed_input: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    args = ["route", str(mixed_input), str(out), "--text-column", "note", "--id-column", "id"]
    result = run_cli([*args, "--router", str(ROUTER), "--workers", "1"])
    assert result.exit_code == 0 and "rows routed" in result.output
    assert "fail-safe escalated" in result.output and "router not calibrated" in result.output
    console = result.output + "".join(capfd.readouterr())
    assert "LOAD REPORT" not in console and "Token indices" not in console  # library noise stays off
    original = dict(zip(*pq.read_table(mixed_input).select(["id", "note"]).to_pydict().values(), strict=True))
    for table in _partitions(out).values():
        for row in table.to_pylist():
            assert row["note"] == original[row["id"]]


def test_when_router_missing_then_clear_error(tmp_path: Path, mixed_input: Path) -> None:
    result = run_cli(
        ["route", str(mixed_input), str(tmp_path / "o"), "--text-column", "note", "--router", str(tmp_path)]
    )
    assert result.exit_code == 1 and "router model directory not found" in result.output


def test_when_tier_policy_names_unknown_tier_then_config_error(tmp_path: Path, mixed_input: Path) -> None:
    config = write_config(
        tmp_path / "c.yaml", "routing:\n  policies:\n    secret:\n      default: {operator: redact}\n"
    )
    args = ["redact", str(mixed_input), str(tmp_path / "o"), "--text-column", "note", "--router", str(ROUTER)]
    result = run_cli([*args, "--config", str(config)])
    assert result.exit_code == 1 and "routing.policies" in result.output


def yaml_tiers(tmp_path: Path, *, min_confidence: float) -> Path:
    """A copy of the shipped taxonomy with another fail-safe threshold."""
    import yaml

    data = yaml.safe_load((REPO / "configs" / "tiers.yaml").read_text())
    data["min_confidence"] = min_confidence
    path = tmp_path / "tiers.yaml"
    path.write_text(yaml.safe_dump(data))
    return path
