"""The manifest's text: shard entries are encoded once, the bytes are those of ``write_json_atomic``."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from deid.io.writers import write_json_atomic
from deid.run.manifest import Manifest


def _entry(rng: random.Random, index: int) -> dict:
    return {
        "index": index,
        "rows_in": rng.randint(0, 9),
        "rows_out": rng.randint(0, 9),
        "rows_rejected": 0,
        "parts": [{"path": "part-é.jsonl", "sha256": "ab", "rows": [1, 2]}] * rng.randint(0, 2),
        "entities": {} if rng.random() < 0.5 else {"PERSON": {"count": 3}},
        "score_histogram": {"PERSON": [0, 1, 2]},
        "tiers": {},
    }


def test_manifest_text_equals_the_json_writer(tmp_path: Path) -> None:
    header = {
        "mode": "detect",
        "input": {"name": "notes ä.jsonl", "files": [{"size": 1}], "empty": {}},
        "models": {},
        "text_columns": [],
        "when": dt.date(2026, 1, 2),
        "key_fingerprint": None,
        "ratio": 1.5,
    }
    for seed in range(20):
        rng = random.Random(seed)
        manifest = Manifest(tmp_path / "m.json", dict(header))
        manifest.write()
        for _ in range(rng.randint(1, 8)):
            index = rng.randint(0, 5)
            manifest.add_shard(_entry(rng, index))
            if rng.random() < 0.3:  # an entry replaced (a resumed shard) is encoded again
                manifest.shards[index] = {**manifest.shards[index], "rows_in": 99}
            manifest.complete = rng.random() < 0.5
            manifest.write()
            write_json_atomic(tmp_path / "expected.json", manifest.payload())
            assert (tmp_path / "m.json").read_text(encoding="utf-8") == (
                tmp_path / "expected.json"
            ).read_text(encoding="utf-8")


def test_loaded_manifest_rewrites_the_same_bytes(tmp_path: Path) -> None:
    manifest = Manifest(tmp_path / "m.json", {"mode": "redact", "input": {"name": "x"}})
    for index in (2, 0, 1):
        manifest.add_shard(_entry(random.Random(index), index))
    before = (tmp_path / "m.json").read_bytes()
    loaded = Manifest.load(tmp_path / "m.json")
    loaded.write()
    assert (tmp_path / "m.json").read_bytes() == before
