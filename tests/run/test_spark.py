"""The Spark backend writes exactly what the local backend writes (Spark local[2], 40 sample rows)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import REPO, SAMPLES, TEST_KEY, write_config

pytest.importorskip("pyspark")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs Java", allow_module_level=True)

pytestmark = pytest.mark.spark

SHARD_SIZE = 10
ROWS = 40
JOB_GROUP = "deid-test-spark"


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """A small local[2] session (no UI) shared by the Spark tests."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("deid-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "512m")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.fixture(scope="module")
def job_inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """40 sample rows (row 25 repeats row 3's id, so one row is rejected) and a keyed config, 10-row shards."""
    root = tmp_path_factory.mktemp("spark-inputs")
    table = pq.read_table(SAMPLES / "notes.parquet").slice(0, ROWS)
    ids = table.column("id").to_pylist()
    ids[24] = ids[2]
    table = table.set_column(table.column_names.index("id"), "id", pa.array(ids, pa.string()))
    data = root / "notes40.parquet"
    pq.write_table(table, data)
    policy = (REPO / "configs" / "pseudonymize.yaml").read_text(encoding="utf-8")
    config = write_config(root / "pseudo.yaml", policy + f"run:\n  shard_size: {SHARD_SIZE}\n")
    return data, config


def _spec(data: Path, config: Path, output: Path, **changes: object):  # type: ignore[no-untyped-def]
    from deid.config import load_config
    from deid.run.job import JobSpec

    settings: dict[str, object] = {"workers": 1, "show_progress": False, **changes}
    return JobSpec(
        mode="redact",
        input=data,
        output=output,
        text_columns=("note", "comment"),
        config=load_config(config),
        id_column="id",
        subject_column="patient_id",
        **settings,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def outputs(job_inputs: tuple[Path, Path], spark: object, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The same job run by the local backend (1 worker) and by Spark; their outputs and reports."""
    from deid.run.job import run_job
    from deid.run.spark import run_spark

    data, config = job_inputs
    root = tmp_path_factory.mktemp("spark-outputs")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DEID_KEY", TEST_KEY)
        env.delenv("DEID_KEY_FILE", raising=False)
        local_report = run_job(_spec(data, config, root / "local"))
        spark_report = run_spark(
            _spec(data, config, root / "spark", workers=None), spark=spark, job_group=JOB_GROUP
        )  # type: ignore[arg-type]
    return root / "local", root / "spark", local_report, spark_report


def _files(directory: Path) -> dict[str, bytes]:
    """Every output file except the report (which holds timings), by relative path."""
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and p.name != "_report.json"
    }


def test_when_run_in_spark_then_part_files_manifest_and_rejects_are_identical_to_local(outputs) -> None:  # type: ignore[no-untyped-def]
    local, spark_out, _, _ = outputs
    local_files, spark_files = _files(local), _files(spark_out)
    assert (
        sorted(spark_files)
        == sorted(local_files)
        == [
            "_manifest.json",
            "_rejects.jsonl",
            *(f"part-{i:05d}.parquet" for i in range(ROWS // SHARD_SIZE)),
        ]
    )
    for name, content in local_files.items():
        assert spark_files[name] == content, f"{name} differs between the Spark and local backends"
    manifest = json.loads(local_files["_manifest.json"])
    assert manifest["complete"] is True
    assert [s["index"] for s in manifest["shards"]] == [0, 1, 2, 3]
    assert manifest["totals"] == {"rows_in": ROWS, "rows_out": ROWS - 1, "rows_rejected": 1, "shards": 4}


def test_when_run_in_spark_then_rows_are_transformed_and_report_counts_match_local(outputs) -> None:  # type: ignore[no-untyped-def]
    local, spark_out, local_report, spark_report = outputs
    original = pq.read_table(SAMPLES / "notes.parquet").slice(0, ROWS).to_pylist()
    redacted = pq.read_table(spark_out).to_pylist()
    assert len(redacted) == ROWS - 1
    assert sum(a["note"] != b["note"] for a, b in zip(original[:24], redacted[:24], strict=True)) > 20
    assert [r["id"] for r in redacted] == [r["id"] for r in original[:24] + original[25:]]
    counts = (
        "rows_in",
        "rows_out",
        "rows_rejected",
        "rejected_by_reason",
        "entities",
        "null_cells",
        "score_histogram",
        "chars",
    )
    for name in counts:
        assert getattr(spark_report, name) == getattr(local_report, name), name
    assert spark_report.workers == 2  # local[2]: the executor cores
    assert json.loads((spark_out / "_report.json").read_text())["entities"] == local_report.entities


def test_when_run_in_spark_then_each_shard_is_one_spark_job(outputs, spark) -> None:  # type: ignore[no-untyped-def]
    jobs = spark.sparkContext.statusTracker().getJobIdsForGroup(JOB_GROUP)
    assert len(jobs) == ROWS // SHARD_SIZE


def test_when_spark_output_lost_a_shard_then_resume_in_spark_restores_it(
    outputs, job_inputs, spark, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from deid.run.spark import run_spark

    local, spark_out, _, _ = outputs
    data, config = job_inputs
    resumed = tmp_path / "resumed"
    shutil.copytree(spark_out, resumed)
    (resumed / "part-00002.parquet").unlink()
    (resumed / "_report.json").unlink()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DEID_KEY", TEST_KEY)
        env.delenv("DEID_KEY_FILE", raising=False)
        report = run_spark(_spec(data, config, resumed, resume=True, workers=2), spark=spark)  # type: ignore[arg-type]
    assert report.shards_resumed == 3
    assert _files(resumed) == _files(local)


def test_when_spark_submit_entry_point_runs_then_output_matches_local(
    outputs, job_inputs, spark, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from deid.run.spark_submit import main

    local, _, _, _ = outputs
    data, config = job_inputs
    out = tmp_path / "cli"
    args = [str(data), str(out), "--text-column", "note", "--text-column", "comment", "--id-column", "id"]
    args += ["--subject-column", "patient_id", "--config", str(config), "--no-progress"]
    result = CliRunner().invoke(
        main, args, catch_exceptions=False, env={"DEID_KEY": TEST_KEY, "DEID_KEY_FILE": None}
    )
    assert result.exit_code == 0, result.output
    assert "39 rows written" in result.output
    assert _files(out) == _files(local)
    assert spark.sparkContext._jsc is not None  # the shared session was used, not stopped


def test_when_key_missing_then_spark_run_fails_like_local(job_inputs, spark, tmp_path, no_key_env) -> None:  # type: ignore[no-untyped-def]
    from deid.errors import KeyError_
    from deid.run.spark import run_spark

    data, config = job_inputs
    with pytest.raises(KeyError_):
        run_spark(_spec(data, config, tmp_path / "out"), spark=spark)  # type: ignore[arg-type]
