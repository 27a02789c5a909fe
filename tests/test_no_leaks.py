"""No detected value in logs, errors, manifests or reports, at any verbosity, with failures provoked.

Known PII is seeded into a small input; every command runs at maximum verbosity (-vvv) in a
subprocess, including runs that fail on purpose, and everything printed or written (except the
files whose purpose is to hold text: part files and decrypted output) is searched for the seeded values.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, TEST_KEY, write_config

SECRETS = [
    "zelda.quixote@example.org",
    "(415) 555-0199",
    "536-22-8726",
    "4111 1111 1111 1111",
    "GB82 WEST 1234 5698 7654 32",
    "203.0.113.77",
    "Zelda Quixote",
]
TEXTS = [
    f"Patient {SECRETS[6]} called from {SECRETS[1]}; e-mail {SECRETS[0]}.",
    f"SSN {SECRETS[2]}, card {SECRETS[3]}, IBAN {SECRETS[4]}, login from {SECRETS[5]}.",
    f"Follow-up for {SECRETS[6]}: write to {SECRETS[0]}.",
]


def _deid(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "DEID_KEY": TEST_KEY, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "deid", "-vvv", *args],
        cwd=REPO,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _everything_written(root: Path, skip: set[Path]) -> str:
    chunks = []
    for path in sorted(root.rglob("*")):
        # Part files hold the transformed text: what survives there is detection recall, measured by
        # deid verify and the evaluation scripts, not a leak into logs or metadata.
        if path.name.startswith("part-"):
            continue
        if path.is_file() and path not in skip and not any(parent in skip for parent in path.parents):
            chunks.append(path.read_bytes().decode("utf-8", errors="replace"))
    return "\n".join(chunks)


@pytest.mark.slow
def test_when_every_command_runs_verbosely_and_fails_then_no_seeded_value_is_printed_or_written(
    tmp_path: Path,
) -> None:
    source = tmp_path / "in.jsonl"
    rows = [{"id": f"r{i}", "note": text} for i, text in enumerate(TEXTS)]
    rows.append({"id": "r0", "note": f"duplicate id row with {SECRETS[0]}"})  # rejected: duplicate id
    rows.append({"id": "r9", "note": [SECRETS[1]]})  # rejected: a list in the text column
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    gold = tmp_path / "gold.jsonl"
    gold_lines = []
    for row in rows[:3]:
        spans = [
            {"start": row["note"].index(v), "end": row["note"].index(v) + len(v), "label": "PII"}
            for v in SECRETS
            if v in row["note"]
        ]
        gold_lines.append(
            json.dumps({"id": row["id"], "column": "note", "text": row["note"], "spans": spans}) + "\n"
        )
    gold.write_text("".join(gold_lines))
    encrypt = write_config(tmp_path / "enc.yaml", "policy:\n  default: {operator: encrypt}\n")
    keep = write_config(tmp_path / "keep.yaml", "policy:\n  default: {operator: keep}\n")
    out = tmp_path / "out"
    runs = [
        _deid("redact", str(source), str(out / "red"), "--text-column", "note", "--id-column", "id", "--workers", "1", "--report"),
        _deid("redact", str(source), str(out / "pseudo"), "--text-column", "note", "--id-column", "id", "--config", str(REPO / "configs" / "pseudonymize.yaml"), "--workers", "1"),
        _deid("detect", str(source), str(out / "spans.jsonl"), "--text-column", "note", "--id-column", "id", "--workers", "1"),
        _deid("verify", str(source), str(out / "red"), "--text-column", "note", "--id-column", "id", "--gold", str(gold), "--max-leak", "1"),
        _deid("report", str(out / "red")),
        _deid("redact", str(source), str(out / "enc"), "--text-column", "note", "--id-column", "id", "--config", str(encrypt), "--workers", "1"),
        _deid("decrypt", str(out / "enc"), str(out / "restored"), "--text-column", "note"),
        _deid("recognizers"),
        # failures provoked: a missing column, a missing key, a leaking policy that verify rejects, a wrong key
        _deid("redact", str(source), str(out / "bad1"), "--text-column", "nope", "--id-column", "id"),
        _deid("redact", str(source), str(out / "bad2"), "--text-column", "note", "--config", str(encrypt), env={"DEID_KEY": ""}),
        _deid("redact", str(source), str(out / "kept"), "--text-column", "note", "--id-column", "id", "--config", str(keep), "--workers", "1"),
        _deid("verify", str(source), str(out / "kept"), "--text-column", "note", "--id-column", "id", "--gold", str(gold)),
        _deid("decrypt", str(out / "enc"), str(out / "wrongkey"), "--text-column", "note", env={"DEID_KEY": "another-key-9876543210-ZYXWVUTSRQPONMLKJIHGFEDCBA"}),
    ]  # fmt: skip
    assert [r.returncode for r in runs[:8]] == [0] * 8, [r.stderr[-500:] for r in runs[:8]]
    assert [r.returncode != 0 for r in (runs[8], runs[9], runs[11], runs[12])] == [True] * 4, (
        runs[11].stdout + runs[11].stderr[-800:]
    )
    printed = "\n".join(r.stdout + r.stderr for r in runs)
    # Files whose purpose is to hold text: the decrypted output, and the run whose policy keeps values.
    # The gold file and the input hold the values too, but they are the user's own, outside `out`.
    written = _everything_written(out, skip={out / "restored", out / "kept"})
    kept_metadata = "\n".join(p.read_text() for p in (out / "kept").glob("_*.json"))
    for secret in SECRETS:
        for part in {secret, secret.replace(" ", "")}:
            assert part not in printed, f"a seeded value was printed ({SECRETS.index(secret)})"
            assert part not in written, f"a seeded value was written ({SECRETS.index(secret)})"
            assert part not in kept_metadata
