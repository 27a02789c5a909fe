"""One writer per output: a second run is refused naming the holder, stale locks are broken, --overwrite
never deletes an output another run holds."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from deid.errors import OutputError
from deid.io.fs import resolve
from deid.run.lock import LOCK_NAME, LockHolder, OutputLock, OutputLocked
from tests.conftest import REPO, SAMPLES, run_cli, write_config

COMMON = ["--text-column", "note", "--id-column", "id", "--workers", "1", "--no-progress"]


def _input(folder: Path, rows: int, shard_size: int) -> tuple[Path, Path]:
    source = folder / "in.parquet"
    pq.write_table(pq.read_table(SAMPLES / "notes.parquet").slice(0, rows).select(["id", "note"]), source)
    config = write_config(
        folder / "c.yaml",
        f"detection:\n  transformer: null\n  spacy_ner: 'off'\nrun:\n  shard_size: {shard_size}\n",
    )
    return source, config


@pytest.fixture(scope="module")
def job_input(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """60 sample rows; a patterns-only config with 20-row shards."""
    return _input(tmp_path_factory.mktemp("lock"), 60, 20)


@pytest.fixture(scope="module")
def long_input(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """300 sample rows in 1-row shards: a run that lasts long enough for a second run to meet it."""
    return _input(tmp_path_factory.mktemp("lock-long"), 300, 1)


def _start(source: Path, out: Path, config: Path, *extra: str) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "deid", "redact", str(source), str(out), *COMMON, "--config", str(config)]
    return subprocess.Popen([*args, *extra], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _redact(source: Path, out: Path, config: Path, *extra: str):  # type: ignore[no-untyped-def]
    return run_cli(["redact", str(source), str(out), *COMMON, "--config", str(config), *extra])


def _one_line_error(result) -> str:  # type: ignore[no-untyped-def]
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1, result.output
    return lines[0]


def _shards_done(out: Path) -> int:
    try:
        return len(json.loads((out / "_manifest.json").read_text())["shards"])
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return 0


@pytest.mark.slow
def test_when_a_run_holds_output_then_second_run_and_overwrite_are_refused_and_stale_lock_is_broken(
    long_input: tuple[Path, Path], tmp_path: Path
) -> None:
    source, config = long_input
    out = tmp_path / "out"
    first = _start(source, out, config)
    deadline = time.time() + 180
    while time.time() < deadline and first.poll() is None and _shards_done(out) < 2:
        time.sleep(0.02)
    assert first.poll() is None, "the first run ended before the second could start"
    try:
        holder = f"pid {first.pid} on host {socket.gethostname()} since "
        for extra in ([], ["--resume"], ["--overwrite"]):
            message = _one_line_error(_redact(source, out, config, *extra))
            assert message.startswith(f"Error: {out}: in use by another deid run ({holder}"), message
        assert (out / "_manifest.json").exists(), "--overwrite deleted an output another run holds"
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    done = _shards_done(out)
    assert 2 <= done < 300
    lock = json.loads((out / LOCK_NAME).read_text())
    assert lock["pid"] == first.pid  # the killed run's lock is left behind: stale
    result = _redact(source, out, config, "--resume")
    assert result.exit_code == 0, result.output
    assert not (out / LOCK_NAME).exists()
    report = json.loads((out / "_report.json").read_text())
    assert report["rows_out"] == 300 and report["shards_resumed"] == done
    assert sorted(p.name for p in out.iterdir() if p.name.startswith((".", "_"))) == [
        "_manifest.json",
        "_report.json",
    ]


def test_when_run_ends_or_fails_then_lock_is_released(job_input: tuple[Path, Path], tmp_path: Path) -> None:
    source, config = job_input
    out = tmp_path / "out"
    assert _redact(source, out, config).exit_code == 0
    assert not (out / LOCK_NAME).exists()
    message = _one_line_error(_redact(source, out, config))
    assert message.endswith("already exists: use --overwrite to replace it or --resume to continue it")
    assert not (out / LOCK_NAME).exists()
    assert _redact(source, out, config, "--overwrite").exit_code == 0
    assert not (out / LOCK_NAME).exists()


def test_when_lock_is_from_another_host_then_refused_unless_break_lock(
    job_input: tuple[Path, Path], tmp_path: Path
) -> None:
    source, config = job_input
    out = tmp_path / "out"
    out.mkdir()
    other = LockHolder("batch-node-7", 4242, "2026-12-01T23:00:00Z", "t0k3n")
    (out / LOCK_NAME).write_text(other.to_text())
    message = _one_line_error(_redact(source, out, config))
    assert message == (
        f"Error: {out}: in use by another deid run (pid 4242 on host batch-node-7 since 2026-12-01T23:00:00Z); "
        "if that run is dead, run again with --break-lock"
    )
    result = _redact(source, out, config, "--break-lock")
    assert result.exit_code == 0, result.output
    assert not (out / LOCK_NAME).exists()
    assert json.loads((out / "_report.json").read_text())["rows_out"] == 60


def test_when_lock_holder_is_dead_or_pid_reused_then_lock_is_stale(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    host = socket.gethostname()
    assert LockHolder(host, child.pid, "t", "x").is_dead()
    me = LockHolder.me()
    assert not me.is_dead()
    if me.pid_start is not None:  # Linux: a live pid with another start time is a reused pid
        assert LockHolder(host, me.pid, "t", "x", me.pid_start + 1).is_dead()
    assert not LockHolder("elsewhere", child.pid, "t", "x").is_dead()


def test_when_two_locks_race_then_one_wins_and_release_frees_it(tmp_path: Path) -> None:
    location = resolve(tmp_path / "out").join(LOCK_NAME)
    first = OutputLock(location, "out")
    first.acquire()
    with pytest.raises(OutputLocked, match=r"in use by another deid run \(pid \d+ on host"):
        OutputLock(location, "out").acquire()
    first.release()
    with OutputLock(location, "out"):
        assert (tmp_path / "out" / LOCK_NAME).exists()
    assert not (tmp_path / "out").exists()  # the lock made OUTPUT and nothing was written: removed
    assert issubclass(OutputLocked, OutputError)


def test_when_lock_file_is_empty_and_old_then_it_is_broken(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / LOCK_NAME).write_text("")
    old = time.time() - 60
    os.utime(out / LOCK_NAME, (old, old))
    with OutputLock(resolve(out).join(LOCK_NAME), "out") as lock:
        assert LockHolder.parse((out / LOCK_NAME).read_text()) == lock.holder
