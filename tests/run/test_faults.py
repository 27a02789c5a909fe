"""Faults: kills at many points, signals, failing shards, unwritable outputs. Nothing half-written survives."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from deid.run.task import ShardProcessor
from tests.conftest import REPO, SAMPLES, run_cli, write_config

COMMON = [
    "--text-column",
    "note",
    "--text-column",
    "comment",
    "--id-column",
    "id",
    "--workers",
    "1",
    "--no-progress",
]


@pytest.fixture(scope="module")
def job_input(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """60 sample rows and a patterns-only config with 3-row shards (20 shards)."""
    folder = tmp_path_factory.mktemp("faults")
    source = folder / "in.parquet"
    pq.write_table(pq.read_table(SAMPLES / "notes.parquet").slice(0, 60), source)
    config = write_config(
        folder / "c.yaml",
        f"detection:\n  transformer: null\n  spacy_ner: 'off'\nrun:\n  shard_size: 3\n# {REPO}\n",
    )
    return source, config


@pytest.fixture(scope="module")
def clean_run(job_input: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    source, config = job_input
    out = tmp_path_factory.mktemp("clean") / "out"
    assert run_cli(["redact", str(source), str(out), *COMMON, "--config", str(config)]).exit_code == 0
    return out


def _start(source: Path, out: Path, config: Path, *extra: str) -> subprocess.Popen[bytes]:
    args = [
        sys.executable,
        "-m",
        "deid",
        "redact",
        str(source),
        str(out),
        *COMMON,
        "--config",
        str(config),
        *extra,
    ]
    return subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _shards_done(out: Path) -> int:
    try:
        return len(json.loads((out / "_manifest.json").read_text())["shards"])
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return 0


def _wait_for(out: Path, shards: int, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline and process.poll() is None and _shards_done(out) < shards:
        time.sleep(0.01)


def _same_output(clean: Path, other: Path) -> None:
    names = sorted(p.name for p in clean.iterdir() if p.name != "_report.json")
    assert names == sorted(p.name for p in other.iterdir() if p.name != "_report.json")
    for name in names:
        assert (clean / name).read_bytes() == (other / name).read_bytes(), name


@pytest.mark.slow
def test_when_killed_at_20_random_points_and_resumed_then_output_equals_clean_run(
    job_input: tuple[Path, Path], clean_run: Path, tmp_path: Path
) -> None:
    source, config = job_input
    out = tmp_path / "out"
    rng = random.Random(20261127)
    kills = 0
    while kills < 20:
        process = _start(source, out, config, *(["--resume"] if out.exists() else []))
        target = _shards_done(out) + rng.randint(0, 1)
        _wait_for(out, target, process)
        time.sleep(rng.uniform(0, 0.05))  # kill anywhere: between shards, mid-shard, mid-commit
        if process.poll() is not None:  # it finished before the kill: start over to keep killing
            assert process.returncode == 0, process.stderr.read().decode()  # type: ignore[union-attr]
            break
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills += 1
        assert not list(out.glob("part-*.deid-tmp*"))  # temporary names are never parts
    assert kills >= 10, "too few kills landed before the job finished"
    assert (
        run_cli(["redact", str(source), str(out), *COMMON, "--config", str(config), "--resume"]).exit_code
        == 0
    )
    _same_output(clean_run, out)
    ids = pq.read_table(out).column("id").to_pylist()
    assert ids == pq.read_table(source).column("id").to_pylist()  # none duplicated, none missing, in order


def _spawned_workers(parent: int) -> list[int]:
    """PIDs of the pool's worker processes under ``parent`` (multiprocessing spawn children)."""
    workers = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and b"spawn_main" in cmdline:
            workers.append(int(entry.name))
    return workers


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc to find the workers")
def test_when_a_worker_process_dies_mid_job_then_clear_error_nothing_partial_and_resume_completes(
    job_input: tuple[Path, Path], clean_run: Path, tmp_path: Path
) -> None:
    """SIGKILL one of two worker processes (as the OOM killer would) while shards are in flight."""
    source, config = job_input
    out = tmp_path / "out"
    process = _start(source, out, config, "--workers", "2")
    _wait_for(out, 2, process)
    workers = _spawned_workers(process.pid)
    assert process.poll() is None and workers, "the job ended before a worker could be killed"
    os.kill(workers[0], signal.SIGKILL)
    _, stderr = process.communicate(timeout=120)
    message = stderr.decode()
    assert process.returncode != 0
    assert "a worker process died while processing shard" in message and "--resume" in message
    assert "Traceback" not in message
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["complete"] is False
    listed = {part["path"] for shard in manifest["shards"] for part in shard["parts"]}
    assert {p.name for p in out.glob("part-*")} == listed  # every part on disk was committed and listed
    assert (
        run_cli(["redact", str(source), str(out), *COMMON, "--config", str(config), "--resume"]).exit_code
        == 0
    )
    assert not list(out.glob(".*.deid-tmp-*"))
    _same_output(clean_run, out)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_when_interrupted_then_exit_nonzero_says_how_to_resume_and_resume_completes(
    job_input: tuple[Path, Path], clean_run: Path, tmp_path: Path, signum: int
) -> None:
    source, config = job_input
    out = tmp_path / "out"
    process = _start(source, out, config)
    _wait_for(out, 2, process)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode != 0
    assert "--resume" in stderr.decode() and "Traceback" not in stderr.decode()
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["complete"] is False
    assert (
        run_cli(["redact", str(source), str(out), *COMMON, "--config", str(config), "--resume"]).exit_code
        == 0
    )
    _same_output(clean_run, out)


def test_when_a_shard_raises_then_job_fails_cleanly_and_resume_finishes(
    job_input: tuple[Path, Path], clean_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, config = job_input
    original = ShardProcessor.transform

    def flaky(self: ShardProcessor, shard):  # type: ignore[no-untyped-def]
        if shard.index == 4:
            raise RuntimeError("simulated failure with a secret 617-555-0123")
        return original(self, shard)

    monkeypatch.setattr(ShardProcessor, "transform", flaky)
    out = tmp_path / "out"
    result = run_cli(["redact", str(source), str(out), *COMMON, "--config", str(config)])
    assert result.exit_code == 1
    assert "shard 4 failed (RuntimeError)" in result.output and "--resume" in result.output
    assert "617-555-0123" not in result.output
    assert not (out / "part-00004.parquet").exists() and _shards_done(out) == 4
    monkeypatch.setattr(ShardProcessor, "transform", original)
    assert (
        run_cli(["redact", str(source), str(out), *COMMON, "--config", str(config), "--resume"]).exit_code
        == 0
    )
    _same_output(clean_run, out)


def test_when_disk_fills_while_writing_then_clean_error_and_no_partial_part(
    job_input: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    import deid.run.task as task_module

    source, config = job_input
    before = source.read_bytes()
    real_write = task_module.write_rows
    calls = {"n": 0}

    def full_disk(shard, fmt, path, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            path.write_bytes(b"half a part")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(shard, fmt, path, **kwargs)

    monkeypatch.setattr(task_module, "write_rows", full_disk)
    out = tmp_path / "out"
    result = run_cli(["redact", str(source), str(out), *COMMON, "--config", str(config)])
    assert (
        result.exit_code == 1 and "No space left on device" in result.output and "--resume" in result.output
    )
    assert sorted(p.name for p in out.glob("part-*")) == ["part-00000.parquet", "part-00001.parquet"]
    assert json.loads((out / "_manifest.json").read_text())["complete"] is False
    assert source.read_bytes() == before


@pytest.mark.parametrize("where", ["under_a_file", "in_proc"])
def test_when_output_cannot_be_created_then_one_line_error(
    job_input: tuple[Path, Path], tmp_path: Path, where: str
) -> None:
    source, config = job_input
    if where == "under_a_file":
        blocker = tmp_path / "file"
        blocker.write_text("x")
        out = blocker / "out"
    else:
        out = Path("/proc/deid-cannot-write-here")
    result = run_cli(["redact", str(source), str(out), *COMMON, "--config", str(config)])
    assert result.exit_code == 1 and "cannot create the output" in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc to find the workers")
def test_when_the_pool_breaks_before_the_next_submit_then_the_same_clear_error(
    job_input: tuple[Path, Path], tmp_path: Path
) -> None:
    """A worker that dies while the runner is reading the next shard breaks ``submit`` itself, not a future."""
    import pyarrow as pa

    from deid.config import load_config
    from deid.errors import DeidError
    from deid.io.shard import Shard
    from deid.run.local import run_local
    from deid.run.task import ShardTask

    source, config = job_input
    table = pq.read_table(source).slice(0, 3)
    task = ShardTask(
        mode="redact",
        config=load_config(config),
        text_columns=("note", "comment"),
        id_column="id",
        subject_column=None,
        parts_dir=tmp_path,
        output_format="parquet",
    )
    results = []

    def shards():
        for index in range(8):
            if index == 4:  # the runner has 4 shards in flight and asks for the fifth: kill a worker now
                workers = _spawned_workers(os.getpid())
                assert workers, "no worker process to kill"
                os.kill(workers[0], signal.SIGKILL)
                deadline = time.time() + 30
                while time.time() < deadline and workers[0] in _spawned_workers(os.getpid()):
                    time.sleep(0.05)
                time.sleep(1.0)  # the pool's manager thread marks the pool broken
            yield Shard(index=index, table=pa.Table.from_batches(table.to_batches()), row_numbers=[1, 2, 3])

    with pytest.raises(DeidError, match="a worker process died while processing shard") as caught:
        run_local(shards(), task, 2, results.append)
    assert "--resume" in str(caught.value)
