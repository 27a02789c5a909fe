"""Spark on a real standalone cluster: a master and two workers started with pyspark's own ``spark-class``
(loopback only), the README's ``spark-submit`` command against it, and the output equal to the local
backend's, file for file.

The workers run on this machine, so they use the driver's Python environment by path instead of the
``--archives deid-env.tar.gz#env`` of the README (packing the whole virtual environment would take
longer than the test); everything else is the documented command.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import REPO, SAMPLES, run_cli, write_config

pyspark = pytest.importorskip("pyspark")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs Java", allow_module_level=True)

pytestmark = [pytest.mark.spark, pytest.mark.slow]

ROWS = 20
SHARD_SIZE = 5
SPARK_HOME = Path(pyspark.__file__).resolve().parent
COLUMNS = ["--text-column", "note", "--text-column", "comment", "--id-column", "id"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _spark_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYSPARK_GATEWAY")}
    env.update(
        SPARK_HOME=str(SPARK_HOME),
        SPARK_LOCAL_IP="127.0.0.1",
        SPARK_LOCAL_DIRS=str(root / "local"),
        SPARK_LOG_DIR=str(root / "logs"),
        PYSPARK_PYTHON=sys.executable,
        PYSPARK_DRIVER_PYTHON=sys.executable,
        SPARK_NO_DAEMONIZE="1",
    )
    return env


def _alive_workers(webui: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{webui}/json/", timeout=2) as response:
            return int(json.load(response).get("aliveworkers", 0))
    except OSError:
        return 0


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, dict[str, str]]]:
    """A standalone master and two 1-core workers on 127.0.0.1; yields the master URL, web UI port, env."""
    root = tmp_path_factory.mktemp("spark-cluster")
    env = _spark_env(root)
    spark_class = str(SPARK_HOME / "bin" / "spark-class")
    port, webui = _free_port(), _free_port()
    master_url = f"spark://127.0.0.1:{port}"
    processes = [
        subprocess.Popen(
            [spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port)]
            + ["--webui-port", str(webui)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(root / "master.log", "wb"),  # noqa: SIM115 - closed with the process
            start_new_session=True,
        )
    ]
    for n in range(2):
        work = root / f"worker{n}"
        work.mkdir()
        processes.append(
            subprocess.Popen(
                [spark_class, "org.apache.spark.deploy.worker.Worker", master_url, "--host", "127.0.0.1"]
                + [
                    "--cores",
                    "1",
                    "--memory",
                    "1g",
                    "--webui-port",
                    str(_free_port()),
                    "--work-dir",
                    str(work),
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=open(root / f"worker{n}.log", "wb"),  # noqa: SIM115 - closed with the process
                start_new_session=True,
            )
        )
    try:
        deadline = time.time() + 180
        while _alive_workers(webui) < 2:
            if time.time() > deadline or any(p.poll() is not None for p in processes):
                pytest.fail("the Spark cluster did not start: see " + str(root / "master.log"))
            time.sleep(1)
        yield master_url, webui, env
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture(scope="module")
def job_input(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """20 sample rows in two Parquet parts (a directory input) and a patterns-only config, 5-row shards."""
    root = tmp_path_factory.mktemp("spark-cluster-input")
    table = pq.read_table(SAMPLES / "notes.parquet").slice(0, ROWS)
    (root / "in").mkdir()
    pq.write_table(table.slice(0, 12), root / "in" / "part-00000.parquet")
    pq.write_table(table.slice(12), root / "in" / "part-00001.parquet")
    patterns = (REPO / "configs" / "patterns-only.yaml").read_text(encoding="utf-8")
    config = write_config(root / "c.yaml", patterns + f"\nrun:\n  shard_size: {SHARD_SIZE}\n")
    return root / "in", config


def _files(directory: Path) -> dict[str, bytes]:
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and p.name != "_report.json"
    }


def test_when_spark_submit_runs_on_a_standalone_cluster_then_output_equals_the_local_backend(
    cluster: tuple[str, int, dict[str, str]], job_input: tuple[Path, Path], tmp_path: Path
) -> None:
    master_url, webui, env = cluster
    source, config = job_input
    local = tmp_path / "local"
    result = run_cli(["redact", str(source), str(local), *COLUMNS, "--config", str(config), "--workers", "1"])
    assert result.exit_code == 0, result.output

    out = tmp_path / "cluster"
    command = [
        str(SPARK_HOME / "bin" / "spark-submit"),
        "--master",
        master_url,
        "--deploy-mode",
        "client",
        "--conf",
        "spark.executor.cores=1",
        "--conf",
        "spark.task.cpus=1",
        "--conf",
        "spark.executor.memory=512m",
        "--conf",
        "spark.ui.enabled=false",
        "deid/run/spark_submit.py",
        str(source),
        str(out),
        *COLUMNS,
        "--config",
        str(config),
        "--workers",
        "2",
        "--no-progress",
    ]
    started = time.perf_counter()
    run = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - started
    assert run.returncode == 0, run.stderr[-3000:]
    assert f"{ROWS} rows written to {out}" in run.stdout, run.stdout
    print(f"spark-submit on the 2-worker standalone cluster: {elapsed:.1f} s")

    local_files, cluster_files = _files(local), _files(out)
    assert sorted(cluster_files) == sorted(local_files)
    # Shards never span parts: 12 rows make 5+5+2, the other 8 make 5+3.
    assert len([n for n in local_files if n.startswith("part-")]) == 5
    for name, content in local_files.items():
        assert cluster_files[name] == content, f"{name} differs between the cluster and the local backend"
    assert pq.read_table(out).to_pylist() == pq.read_table(local).to_pylist()
    report = json.loads((out / "_report.json").read_text())
    assert report["workers"] == 2 and report["rows_out"] == ROWS

    with urllib.request.urlopen(f"http://127.0.0.1:{webui}/json/", timeout=5) as response:
        state = json.load(response)
    apps = state.get("completedapps", []) + state.get("activeapps", [])
    assert any(app.get("name") == "deid" or "spark_submit" in app.get("name", "") for app in apps), apps
