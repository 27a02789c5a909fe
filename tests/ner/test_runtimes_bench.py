"""bench/runtimes.py: the runtime comparison runs and prints one scored row per runtime."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, SAMPLES


@pytest.mark.slow
def test_runtime_comparison_prints_speed_and_accuracy_per_runtime(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join((SAMPLES / "notes.gold.jsonl").read_text().splitlines(keepends=True)[:5]))
    spec = importlib.util.spec_from_file_location("deid_bench_runtimes", REPO / "bench" / "runtimes.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    runtimes = ["torch-fp32", "torch-int8"]
    if importlib.util.find_spec("onnxruntime") is not None:
        runtimes.append("ort-fp32")
    assert (
        module.main(["--only", ",".join(runtimes), "--docs", "3", "--gold", str(gold), "--threads", "1"]) == 0
    )
    out = capsys.readouterr().out
    rows = {
        line.split()[0]: line.split()
        for line in out.splitlines()
        if line.split()[:1] and line.split()[0] in runtimes
    }
    assert set(rows) == set(runtimes)
    assert rows["torch-fp32"][4] == "1.00x" and rows["torch-fp32"][6] == "+0.00"
    for row in rows.values():
        assert 0.0 < float(row[5]) <= 1.0  # entity F1 of the model on the gold sample
        assert 0.0 <= float(row[7]) < 0.5  # leak
    if "ort-fp32" in rows:  # same weights, same windows: an exported model scores like torch fp32
        assert abs(float(rows["ort-fp32"][5]) - float(rows["torch-fp32"][5])) < 0.01
