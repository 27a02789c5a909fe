"""Spark on a real standalone cluster: a master and two workers started with pyspark's own ``spark-class``
(loopback only, shared-secret authentication), the README's block (``deid spark pack`` then
``spark-submit --archives deid-env.tar.gz#env,deid-models.tar.gz#models ...``) run by bash, and the
output equal to the local backend's, file for file.

The test reads the block from README.md and changes only what this machine cannot take as written:
the master URL, the executor size (two 1-core workers), the path of ``spark_submit.py`` (the job
runs in a scratch directory, with the README's ``notes.parquet`` and ``configs/pseudonymize.yaml``
there) and ``--workers``. Executors run the packed environment's python and find the model in the
unpacked models archive; they refuse to run when its fingerprint differs from the driver's.
"""

from __future__ import annotations

import json
import os
import re
import secrets
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
pytest.importorskip("venv_pack")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs Java", allow_module_level=True)

pytestmark = [pytest.mark.spark, pytest.mark.slow]

ROWS = 20
SHARD_SIZE = 5
SPARK_HOME = Path(pyspark.__file__).resolve().parent
README_MARK = "<!-- spark-submit: tests/run/test_spark_cluster.py runs this block -->"
# What the test changes in the README's block (each must occur exactly once): the cluster's master,
# executors that fit a 1-core, 1 GB worker, the script by absolute path, as many workers as cores.
SUBSTITUTIONS = {
    "--master spark://spark-master:7077": "--master {master}",
    "spark.executor.cores=4": "spark.executor.cores=1",
    "spark.executor.memory=2g": "spark.executor.memory=512m",
    " deid/run/spark_submit.py ": " {script} ",
    "--workers 40": "--workers 2",
    "source .venv/bin/activate": "source {activate}",
}


def readme_block() -> str:
    """The bash block after the README's mark."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(re.escape(README_MARK) + r"\n```bash\n(.*?)\n```", text, re.S)
    assert match, "README.md: the spark-submit block and its mark are gone"
    return match.group(1)


def _spark_submit(block: str) -> str:
    return block[block.index("spark-submit") :]


def test_the_data_lake_section_shows_the_spark_sections_command() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    lake = text[text.index("## Reading from and writing to a data lake") :]
    command = _spark_submit(readme_block())
    uris = command.replace(
        "deid/run/spark_submit.py notes.parquet out/notes",
        "deid/run/spark_submit.py s3://corp-lake/notes/ s3://corp-lake/notes_deid/",
    )
    assert uris != command and uris in lake


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _clean_env() -> dict[str, str]:
    """This process's environment without Spark/PySpark settings (the cluster and the job set their own)
    and with Python's default of writing bytecode (the test looks for the executors' in the archive)."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYSPARK", "SPARK", "DEID_KEY")) and k != "PYTHONDONTWRITEBYTECODE"
    }


def _alive_workers(webui: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{webui}/json/", timeout=2) as response:
            return int(json.load(response).get("aliveworkers", 0))
    except OSError:
        return 0


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, Path, dict[str, str]]]:
    """A standalone master and two 1-core workers on 127.0.0.1 with a shared secret.

    Yields the master URL, the web UI port, the workers' root directory and the environment that
    holds the cluster's configuration (``SPARK_CONF_DIR``: ``spark.authenticate`` and its secret).
    """
    root = tmp_path_factory.mktemp("spark-cluster")
    conf = root / "conf"
    conf.mkdir()
    (conf / "spark-defaults.conf").write_text(
        f"spark.authenticate true\nspark.authenticate.secret {secrets.token_hex(16)}\n", encoding="utf-8"
    )
    env = _clean_env() | {
        "SPARK_HOME": str(SPARK_HOME),
        "SPARK_CONF_DIR": str(conf),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOCAL_DIRS": str(root / "local"),
        "SPARK_LOG_DIR": str(root / "logs"),
        "SPARK_NO_DAEMONIZE": "1",
    }
    spark_class = str(SPARK_HOME / "bin" / "spark-class")
    port, webui = _free_port(), _free_port()
    master_url = f"spark://127.0.0.1:{port}"
    logs: list[object] = []

    def start(name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = open(root / f"{name}.log", "wb")  # noqa: SIM115 - closed after the process ends
        logs.append(log)
        return subprocess.Popen(
            [spark_class, *args], env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True
        )

    processes = [
        start(
            "master",
            ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port)]
            + ["--webui-port", str(webui)],
        )
    ]
    for n in range(2):
        work = root / f"worker{n}"
        work.mkdir()
        processes.append(
            start(
                f"worker{n}",
                ["org.apache.spark.deploy.worker.Worker", master_url, "--host", "127.0.0.1"]
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
            )
        )
    try:
        deadline = time.time() + 300  # JVMs start slowly on a loaded machine
        while _alive_workers(webui) < 2:
            if time.time() > deadline or any(p.poll() is not None for p in processes):
                pytest.fail("the Spark cluster did not start: see " + str(root / "master.log"))
            time.sleep(1)
        yield master_url, webui, root, env
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
        for log in logs:
            log.close()  # type: ignore[attr-defined]
        # The unpacked environments (2.4 GB per executor) and fetched archives; the logs stay.
        for scratch in [root / "local", *root.glob("worker*/app-*")]:
            shutil.rmtree(scratch, ignore_errors=True)


@pytest.fixture(scope="module")
def job_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The README's working directory: notes.parquet (20 sample rows), configs/pseudonymize.yaml (the
    shipped profile in 5-row shards, so that both workers get shards) and a key in ~/.deid/key."""
    root = tmp_path_factory.mktemp("spark-job")
    pq.write_table(pq.read_table(SAMPLES / "notes.parquet").slice(0, ROWS), root / "notes.parquet")
    (root / "configs").mkdir()
    write_config(
        root / "configs" / "pseudonymize.yaml",
        f"extends: {REPO / 'configs' / 'pseudonymize.yaml'}\nrun:\n  shard_size: {SHARD_SIZE}\n",
    )
    (root / "home").mkdir()
    result = run_cli(["keygen", str(root / "home" / ".deid" / "key")])
    assert result.exit_code == 0, result.output
    yield root
    for archive in root.glob("deid-*.tar.gz"):
        archive.unlink()


def _files(directory: Path) -> dict[str, bytes]:
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and p.name not in ("_report.json", "_deid.lock")
    }


def test_when_the_readme_spark_submit_runs_on_a_standalone_cluster_then_output_equals_the_local_backend(
    cluster: tuple[str, int, Path, dict[str, str]], job_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    master_url, webui, workers_root, cluster_env = cluster
    block = readme_block()
    for old in SUBSTITUTIONS:
        assert block.count(old) == 1, f"README's spark-submit block: {old!r} should occur once"
    script = block
    for old, new in SUBSTITUTIONS.items():
        script = script.replace(
            old,
            new.format(
                master=master_url,
                script=REPO / "deid" / "run" / "spark_submit.py",
                activate=Path(sys.prefix) / "bin" / "activate",
            ),
        )
    env = cluster_env | {"HOME": str(job_dir / "home")}
    env.pop("SPARK_HOME")  # the venv's spark-submit finds its own, as after 'source .venv/bin/activate'

    started, wall = time.perf_counter(), time.time()
    run = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=job_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    elapsed = time.perf_counter() - started
    assert run.returncode == 0, (run.stdout[-2000:], run.stderr[-4000:])
    out = job_dir / "out" / "notes"
    assert f"{ROWS} rows written to out/notes" in run.stdout, run.stdout
    assert "--archives" in run.stdout and (job_dir / "deid-env.tar.gz").is_file()
    packed = (job_dir / "deid-env.tar.gz").stat().st_mtime - wall
    print(
        f"README block on the 2-worker standalone cluster: {elapsed:.1f} s "
        f"(deid spark pack {packed:.1f} s, spark-submit {elapsed - packed:.1f} s)"
    )

    # Both executors ran tasks from the unpacked archives.
    executors = sorted(p for p in workers_root.glob("worker*/app-*/*") if p.is_dir())
    assert len(executors) == 2, executors
    for executor in executors:
        assert (executor / "env" / "bin" / "python").exists(), sorted(p.name for p in executor.iterdir())
        assert (executor / "models" / "deid-ner-minilm" / "model.safetensors").is_file()
        # The archive's deid has no bytecode until a python imports it from there: the executor's did.
        assert list(executor.glob("env/lib/python3*/site-packages/deid/run/__pycache__/spark.*.pyc")), (
            executor
        )

    # The same command with the local backend, from the same directory (same relative paths).
    monkeypatch.chdir(job_dir)
    monkeypatch.delenv("DEID_KEY", raising=False)  # the key is the job's ~/.deid/key, as for the cluster
    local = job_dir / "local"
    result = run_cli(
        ["redact", "notes.parquet", "local", "--text-column", "note", "--id-column", "id"]
        + ["--config", "configs/pseudonymize.yaml", "--workers", "1", "--no-progress"],
        env={"DEID_KEY_FILE": str(job_dir / "home" / ".deid" / "key")},
    )
    assert result.exit_code == 0, result.output

    local_files, cluster_files = _files(local), _files(out)
    assert sorted(cluster_files) == sorted(local_files)
    assert len([n for n in local_files if n.startswith("part-")]) == ROWS // SHARD_SIZE
    for name, content in local_files.items():
        assert cluster_files[name] == content, f"{name} differs between the cluster and the local backend"
    assert pq.read_table(out).to_pylist() == pq.read_table(local).to_pylist()
    report = json.loads((out / "_report.json").read_text())
    assert report["workers"] == 2 and report["rows_out"] == ROWS

    with urllib.request.urlopen(f"http://127.0.0.1:{webui}/json/", timeout=5) as response:
        state = json.load(response)
    apps = state.get("completedapps", []) + state.get("activeapps", [])
    assert any(app.get("name") == "deid" or "spark_submit" in app.get("name", "") for app in apps), apps
