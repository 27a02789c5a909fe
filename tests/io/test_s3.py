"""s3:// input and output against a real S3-compatible server (moto's standalone server on 127.0.0.1).

The endpoint reaches deid through the standard ``AWS_ENDPOINT_URL`` variable, as it reaches boto3 and
pyarrow, so the same commands work against a real bucket. Redact, kill, resume and read back all go
through ``s3://``; missing credentials and buckets give one line naming the store and the variable.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from tests.conftest import REPO, SAMPLES, run_cli, write_config

pytest.importorskip("moto")
boto3 = pytest.importorskip("boto3")

SECRET = "s3cr3t-Never-Printed-0123456789"
BUCKET = "lake"
ROWS = 60
COMMON = ["--text-column", "note", "--id-column", "id", "--workers", "1", "--no-progress"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    """moto's S3-compatible server, on a free port of 127.0.0.1 only."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("the S3 server did not start")
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture
def s3_env(s3_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """Standard AWS variables pointing at the local server (no profile files, no instance metadata)."""
    env = {
        "AWS_ENDPOINT_URL": s3_server,
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
    }
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3")
    if BUCKET not in [b["Name"] for b in client.list_buckets().get("Buckets", [])]:
        client.create_bucket(Bucket=BUCKET)
    return env


@pytest.fixture(scope="module")
def local_input(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """60 sample rows as a Hive-partitioned dataset (two dates) and a patterns-only config, 3-row shards."""
    root = tmp_path_factory.mktemp("s3-input")
    table = pq.read_table(SAMPLES / "notes.parquet").slice(0, ROWS).select(["id", "note"])
    for name, part in (("date=2026-11-30", table.slice(0, 40)), ("date=2026-12-01", table.slice(40))):
        (root / "in" / name).mkdir(parents=True)
        pq.write_table(part, root / "in" / name / "part-00000.parquet")
    config = write_config(
        root / "c.yaml", "detection:\n  transformer: null\n  spacy_ner: 'off'\nrun:\n  shard_size: 3\n"
    )
    return root / "in", config


def _s3() -> pafs.S3FileSystem:
    scheme, host = os.environ["AWS_ENDPOINT_URL"].split("://")
    return pafs.S3FileSystem(endpoint_override=host, scheme=scheme, region="us-east-1")


def _upload(local: Path, prefix: str) -> str:
    fs = _s3()
    for path in sorted(local.rglob("*")):
        if path.is_file():
            with fs.open_output_stream(f"{BUCKET}/{prefix}/{path.relative_to(local).as_posix()}") as out:
                out.write(path.read_bytes())
    return f"s3://{BUCKET}/{prefix}"


def _objects(prefix: str) -> dict[str, bytes]:
    fs = _s3()
    infos = fs.get_file_info(pafs.FileSelector(f"{BUCKET}/{prefix}", recursive=True, allow_not_found=True))
    found = {}
    for info in infos:
        if info.type == pafs.FileType.File:
            with fs.open_input_stream(info.path) as handle:
                found[info.path[len(f"{BUCKET}/{prefix}/") :]] = bytes(handle.read())
    return found


def _redact(inputs: str, output: str, config: Path, *extra: str) -> Any:
    return run_cli(["redact", inputs, output, *COMMON, "--config", str(config), *extra], env=None)


def _parts(files: dict[str, bytes]) -> dict[str, bytes]:
    return {k: v for k, v in files.items() if k.startswith("part-")}


def test_when_input_and_output_are_s3_then_output_reads_back_and_equals_the_local_run(
    s3_env: dict[str, str], local_input: tuple[Path, Path], tmp_path: Path
) -> None:
    folder, config = local_input
    source = _upload(folder, "in-roundtrip")
    result = _redact(source, f"s3://{BUCKET}/out-roundtrip", config)
    assert result.exit_code == 0, result.output
    table = ds.dataset(f"{BUCKET}/out-roundtrip", filesystem=_s3(), format="parquet").to_table()
    original = pq.read_table(SAMPLES / "notes.parquet").slice(0, ROWS)
    assert table.column("id").to_pylist() == original.column("id").to_pylist()
    assert table.column("date").to_pylist() == ["2026-11-30"] * 40 + ["2026-12-01"] * 20
    notes = table.column("note").to_pylist()
    assert sum(a != b for a, b in zip(notes, original.column("note").to_pylist(), strict=True)) > 40
    stored = _objects("out-roundtrip")
    manifest = json.loads(stored["_manifest.json"])
    assert manifest["complete"] is True and manifest["totals"]["rows_out"] == ROWS
    assert [f["path"] for f in manifest["input"]["files"]] == [
        "date=2026-11-30/part-00000.parquet",
        "date=2026-12-01/part-00000.parquet",
    ]
    assert "_report.json" in stored and "_deid.lock" not in stored
    assert not any(name.startswith("_rejects/") for name in stored)
    assert all(len(f["etag"]) >= 32 and "sha256" not in f for f in manifest["input"]["files"])
    local = tmp_path / "local"
    assert _redact(str(folder), str(local), config).exit_code == 0
    assert _parts(stored) == {p.name: p.read_bytes() for p in local.glob("part-*")}
    # A changed input object (new ETag) is not resumed into the same output.
    table = pq.read_table(folder / "date=2026-12-01" / "part-00000.parquet").slice(1)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    with _s3().open_output_stream(f"{BUCKET}/in-roundtrip/date=2026-12-01/part-00000.parquet") as out:
        out.write(sink.getvalue().to_pybytes())
    resumed = _redact(source, f"s3://{BUCKET}/out-roundtrip", config, "--resume")
    assert resumed.exit_code == 1 and "cannot resume: the input differs" in resumed.output, resumed.output
    assert f"s3://{BUCKET}/out-roundtrip/_manifest.json" in resumed.output


@pytest.mark.slow
def test_when_s3_run_is_killed_then_no_partial_part_is_visible_and_resume_completes_it(
    s3_env: dict[str, str], local_input: tuple[Path, Path]
) -> None:
    folder, config = local_input
    source = _upload(folder, "in-kill")
    clean = f"s3://{BUCKET}/out-clean"
    assert _redact(source, clean, config).exit_code == 0
    crashed = f"s3://{BUCKET}/out-crashed"
    args = [sys.executable, "-m", "deid", "redact", source, crashed, *COMMON, "--config", str(config)]
    process = subprocess.Popen(args, cwd=REPO, env={**os.environ, **s3_env}, stderr=subprocess.DEVNULL)
    deadline = time.time() + 180
    done = 0
    while time.time() < deadline and process.poll() is None and done < 3:
        time.sleep(0.05)
        manifest = _objects("out-crashed").get("_manifest.json")
        try:
            done = len(json.loads(manifest)["shards"]) if manifest else 0
        except json.JSONDecodeError:
            # moto (unlike S3) can serve an object while an overwrite of it is being stored: poll again.
            continue
    process.send_signal(signal.SIGKILL)
    process.wait()
    stored = _objects("out-crashed")
    manifest = json.loads(stored["_manifest.json"])
    assert manifest["complete"] is False and 3 <= len(manifest["shards"]) < 20, "the kill came too late"
    assert "_deid.lock" in stored  # left by the killed run: stale, broken by the resume below
    for name, data in _parts(stored).items():  # every visible part is complete
        assert pq.read_table(pa.BufferReader(data)).num_rows > 0, name
    second = _redact(source, crashed, config)
    assert second.exit_code == 1 and "already exists" in second.output
    resumed = _redact(source, crashed, config, "--resume")
    assert resumed.exit_code == 0, resumed.output
    after = _objects("out-crashed")
    assert _parts(after) == _parts(_objects("out-clean"))
    final = json.loads(after["_manifest.json"])
    assert final["complete"] is True and "_deid.lock" not in after
    expected = json.loads(_objects("out-clean")["_manifest.json"])
    assert final["shards"] == expected["shards"]


def test_when_bucket_is_missing_then_one_line_error_naming_store_and_variable(
    s3_env: dict[str, str], local_input: tuple[Path, Path], tmp_path: Path
) -> None:
    folder, config = local_input
    for inputs, output in (
        ("s3://no-such-bucket/in", str(tmp_path / "out")),
        (str(folder), "s3://no-such-bucket/out"),
    ):
        result = _redact(inputs, output, config)
        lines = result.output.strip().splitlines()
        assert result.exit_code == 1 and len(lines) == 1, result.output
        assert lines[0].startswith("Error: s3://no-such-bucket/"), lines[0]
        assert "bucket" in lines[0] and "AWS_ACCESS_KEY_ID" in lines[0] and "AWS_ENDPOINT_URL" in lines[0]
        assert SECRET not in result.output and "Traceback" not in result.output


def test_when_credentials_are_missing_then_one_line_error_naming_the_variables(
    s3_env: dict[str, str], local_input: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder, config = local_input
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    result = _redact(f"s3://{BUCKET}/in", str(tmp_path / "out"), config)
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: s3://{BUCKET}/in: no AWS credentials found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
        "or AWS_PROFILE (AWS_ENDPOINT_URL for an S3-compatible server)"
    )


def test_when_an_s3_part_is_not_parquet_then_error_names_the_object(
    s3_env: dict[str, str], local_input: tuple[Path, Path], tmp_path: Path
) -> None:
    folder, config = local_input
    source = _upload(folder, "in-bad")
    with _s3().open_output_stream(f"{BUCKET}/in-bad/date=2026-12-02/part-00000.parquet") as out:
        out.write(b"not parquet")
    result = _redact(source, str(tmp_path / "out"), config)
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1, result.output
    assert lines[0].startswith(
        f"Error: {source}/date=2026-12-02/part-00000.parquet: not a readable Parquet file"
    ), lines[0]


def test_when_another_run_holds_the_s3_output_then_refused_naming_it(
    s3_env: dict[str, str], local_input: tuple[Path, Path]
) -> None:
    from deid.run.lock import LockHolder

    folder, config = local_input
    holder = LockHolder.me()  # this test process: alive, so its lock is not stale
    with _s3().open_output_stream(f"{BUCKET}/out-held/_deid.lock") as out:
        out.write(holder.to_text().encode())
    for extra in ([], ["--resume"], ["--overwrite"]):
        result = _redact(str(folder), f"s3://{BUCKET}/out-held", config, *extra)
        assert result.exit_code == 1, result.output
        assert result.output.strip() == (
            f"Error: s3://{BUCKET}/out-held: in use by another deid run ({holder.describe()})"
        )
    assert list(_objects("out-held")) == ["_deid.lock"]
