"""deid spark pack: the venv and the config's models as spark-submit --archives, on a tiny venv.

The environment archive is unpacked elsewhere and its python imports deid from the archive (not from
this checkout), which is what an executor does with ``--archives deid-env.tar.gz#env``.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from deid.config import load_config
from deid.errors import ConfigError, DeidError, OutputError
from deid.run.spark_pack import ENV_ARCHIVE, MODELS_ARCHIVE, config_models, pack_environment, pack_for_spark
from tests.conftest import REPO, run_cli, write_config

pytest.importorskip("venv_pack")

MODEL = REPO / "models" / "deid-ner-minilm"


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pip-less venv with deid installed in editable mode (as setup.sh does) and a pyspark wheel's files."""
    root = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    site = next(root.glob("lib/python3*/site-packages"))
    (site / "__editable__.deid-0.1.0.pth").write_text(
        f"import sys; sys.path.insert(0, {str(REPO)!r})\n", encoding="utf-8"
    )
    (site / "__editable___deid_0_1_0_finder.py").write_text("# mapping to the checkout\n", encoding="utf-8")
    (site / "__pycache__").mkdir()
    (site / "__pycache__" / "__editable___deid_0_1_0_finder.cpython-311.pyc").write_bytes(b"\0")
    (site / "pyspark").mkdir()
    (site / "pyspark" / "__init__.py").write_text("", encoding="utf-8")
    info = site / "pyspark-4.0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: pyspark\nVersion: 4.0.1\n", encoding="utf-8")
    (info / "RECORD").write_text(
        "pyspark/__init__.py,,\npyspark-4.0.1.dist-info/METADATA,,\npyspark-4.0.1.dist-info/RECORD,,\n"
        "../../../bin/pyspark,,\n",
        encoding="utf-8",
    )
    (root / "bin" / "pyspark").write_text(f"#!{root}/bin/python\nprint('spark')\n", encoding="utf-8")
    (site / "helper_mod.py").write_text("VALUE = 42\n", encoding="utf-8")
    (root / "bin" / "helper").write_text(f"#!{root}/bin/python\nimport helper_mod\n", encoding="utf-8")
    return root


def _members(archive: Path) -> set[str]:
    with tarfile.open(archive) as tar:
        return set(tar.getnames())


def test_when_an_editable_venv_is_packed_then_the_unpacked_env_imports_deid_from_the_archive(
    venv: Path, tmp_path: Path
) -> None:
    archive = pack_environment(tmp_path / ENV_ARCHIVE, prefix=venv)

    names = _members(archive)
    site = next(n for n in names if n.endswith("site-packages/helper_mod.py")).rsplit("/", 1)[0]
    assert f"{site}/deid/__init__.py" in names and f"{site}/deid/run/spark.py" in names
    assert f"{site}/deid/detect/data/first_names.txt" in names or any(
        n.startswith(f"{site}/deid/detect/data/") for n in names
    )
    assert not any("__pycache__" in n for n in names if n.startswith(f"{site}/deid/"))
    assert not any("__editable__" in n for n in names)
    assert not any(n.startswith(f"{site}/pyspark") for n in names) and "bin/pyspark" not in names
    assert "bin/python" in names and "pyvenv.cfg" in names
    assert not list(tmp_path.glob(".*partial*"))

    # An executor's view: the archive unpacked under another name, somewhere else.
    unpacked = tmp_path / "executor" / "env"
    unpacked.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="tar")
    shebang = (unpacked / "bin" / "helper").read_text(encoding="utf-8").splitlines()[0]
    assert shebang == "#!/usr/bin/env python"
    probe = subprocess.run(
        [
            str(unpacked / "bin" / "python"),
            "-c",
            "import deid, helper_mod, sys; print(deid.__file__); print(sys.prefix)",
        ],
        cwd=tmp_path / "executor",
        capture_output=True,
        text=True,
        check=True,
    )
    deid_file, prefix = probe.stdout.split()
    assert Path(deid_file).is_relative_to(unpacked), deid_file
    assert Path(prefix) == unpacked


def test_when_the_nodes_have_python_elsewhere_then_python_prefix_relinks_the_interpreter(
    venv: Path, tmp_path: Path
) -> None:
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    archive = pack_environment(tmp_path / ENV_ARCHIVE, prefix=venv, python_prefix="/opt/base/")
    with tarfile.open(archive) as tar:
        links = {m.name: m.linkname for m in tar.getmembers() if m.issym()}
        config = tar.extractfile("pyvenv.cfg")
        assert config is not None
        home = [line for line in config.read().decode().splitlines() if line.startswith("home")]
    assert links[f"bin/{version}"] == f"/opt/base/bin/{version}"
    assert home == ["home = /opt/base/bin"]

    with pytest.raises(DeidError, match="absolute"):
        pack_environment(tmp_path / "other.tar.gz", prefix=venv, python_prefix="relative/python")
    assert not (tmp_path / "other.tar.gz").exists() and not list(tmp_path.glob(".*partial*"))


@pytest.mark.skipif(
    not Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}").exists()
    or sys.base_prefix == "/usr",
    reason="needs this Python version under /usr as well, besides the venv's base",
)
def test_when_python_prefix_names_another_python_then_the_unpacked_env_runs_on_it(
    venv: Path, tmp_path: Path
) -> None:
    archive = pack_environment(tmp_path / ENV_ARCHIVE, prefix=venv, python_prefix="/usr")
    unpacked = tmp_path / "node" / "env"
    unpacked.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="tar")
    probe = subprocess.run(
        [str(unpacked / "bin" / "python"), "-c", "import deid, sys; print(sys.base_prefix, deid.__file__)"],
        cwd=tmp_path / "node",
        capture_output=True,
        text=True,
        check=True,
    )
    base, deid_file = probe.stdout.split()
    assert base == "/usr" and Path(deid_file).is_relative_to(unpacked)


def test_when_another_package_is_editable_then_packing_stops_naming_it(venv: Path, tmp_path: Path) -> None:
    site = next(venv.glob("lib/python3*/site-packages"))
    hook = site / "__editable__.mylib-2.0.pth"
    hook.write_text("import x\n", encoding="utf-8")
    try:
        with pytest.raises(DeidError, match="'mylib' is installed in editable mode"):
            pack_environment(tmp_path / ENV_ARCHIVE, prefix=venv)
    finally:
        hook.unlink()
    assert not list(tmp_path.iterdir())


def test_when_the_prefix_is_not_a_venv_then_packing_stops(tmp_path: Path) -> None:
    with pytest.raises(DeidError, match="not a virtual environment.*conda-pack"):
        pack_environment(tmp_path / ENV_ARCHIVE, prefix=tmp_path)


def test_when_the_config_names_a_model_then_it_is_packed_under_its_name(tmp_path: Path) -> None:
    config = load_config(
        write_config(tmp_path / "c.yaml", "detection:\n  transformer:\n    model: models/deid-ner-minilm\n")
    )
    models, absolute = config_models(config)
    assert models == {"models/deid-ner-minilm": MODEL} and absolute == []


@pytest.mark.parametrize(
    ("value", "message"),
    [("ner-model", "not under models/"), ("models/missing-model", "not found")],
)
def test_when_a_model_path_cannot_be_shipped_then_the_config_is_refused(
    tmp_path: Path, value: str, message: str
) -> None:
    config = load_config(
        write_config(tmp_path / "c.yaml", f"detection:\n  transformer:\n    model: {value}\n")
    )
    with pytest.raises(ConfigError, match=message):
        config_models(config)


def test_when_deid_spark_pack_runs_then_it_writes_both_archives_and_prints_the_archives_flag(
    venv: Path, tmp_path: Path
) -> None:
    out = tmp_path / "archives"
    absolute = load_config(
        write_config(tmp_path / "abs.yaml", f"detection:\n  transformer:\n    model: {MODEL}\n")
    )
    assert config_models(absolute) == ({}, [str(MODEL)])

    config = write_config(tmp_path / "c.yaml", "extends: pseudonymize\n")
    helper = "lib/python3*/site-packages/helper_mod.py"
    result = run_cli(
        ["spark", "pack", "-o", str(out), "--config", str(config), "--venv", str(venv), "--exclude", helper]
    )
    assert result.exit_code == 0, result.output
    env_names = _members(out / ENV_ARCHIVE)
    assert not any(n.endswith("helper_mod.py") for n in env_names) and "bin/helper" in env_names
    assert f"--archives {out / ENV_ARCHIVE}#env,{out / MODELS_ARCHIVE}#models" in result.output
    models = _members(out / MODELS_ARCHIVE)
    assert models == {
        f"deid-ner-minilm/{p.relative_to(MODEL).as_posix()}" for p in MODEL.rglob("*") if p.is_file()
    }
    with tarfile.open(out / MODELS_ARCHIVE) as tar:
        member = tar.extractfile("deid-ner-minilm/config.json")
        assert member is not None and member.read() == (MODEL / "config.json").read_bytes()

    before = (out / ENV_ARCHIVE).read_bytes()
    again = run_cli(["spark", "pack", "-o", str(out), "--config", str(config), "--venv", str(venv)])
    assert again.exit_code != 0 and "already exists (use --overwrite" in again.output
    assert (out / ENV_ARCHIVE).read_bytes() == before


def test_when_an_archive_exists_then_nothing_is_written_without_overwrite(venv: Path, tmp_path: Path) -> None:
    (tmp_path / MODELS_ARCHIVE).write_bytes(b"keep me")
    with pytest.raises(OutputError, match="already exists"):
        pack_for_spark(tmp_path, load_config(), prefix=venv)
    assert (tmp_path / MODELS_ARCHIVE).read_bytes() == b"keep me"
    assert not (tmp_path / ENV_ARCHIVE).exists()
