"""deid.ner.config: where training data paths resolve (no machine path in the shipped configs)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from deid.ner.config import DATA_DIR_ENV, load_train_config, resolve_data_dir

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted((REPO / "configs" / "ner").rglob("*.yaml"))


def _write_config(directory: Path, **extra: object) -> Path:
    config = {
        "name": "t",
        "labels": ["PERSON"],
        "sources": [{"name": "notes", "kind": "spans_jsonl", "path": "notes/train.jsonl"}],
        "output": {"dir": "runs/t"},
        **extra,
    }
    path = directory / "configs" / "ner" / "t.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """A fake checkout: pyproject.toml at its root, the data beside it in shared/data."""
    root = tmp_path / "checkout"
    root.mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    return root


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_when_reading_a_shipped_ner_config_then_it_names_no_absolute_path(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert "/work/" not in text
    data_dir = yaml.safe_load(text).get("data_dir")
    assert data_dir is None or not Path(data_dir).is_absolute()


def test_when_no_env_then_relative_data_dir_is_under_the_repository_root(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    monkeypatch.chdir(repo.parent)  # the current directory must not matter
    config = load_train_config(_write_config(repo, data_dir="../shared/data"))
    expected = (repo / ".." / "shared" / "data" / "notes" / "train.jsonl").resolve()
    assert config.resolve_data_path("notes/train.jsonl").resolve() == expected


def test_when_data_dir_is_absent_then_the_default_is_the_repositorys_sibling_shared_data(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    config = load_train_config(_write_config(repo))
    assert config.resolve_data_path("x.jsonl").resolve() == (repo.parent / "shared" / "data" / "x.jsonl")


def test_when_env_is_set_then_it_overrides_data_dir(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "elsewhere"))
    config = load_train_config(_write_config(repo, data_dir="../shared/data"))
    assert config.resolve_data_path("a/b.conll") == tmp_path / "elsewhere" / "a" / "b.conll"


def test_when_a_source_path_is_absolute_then_it_is_kept(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, "/somewhere")
    config = load_train_config(_write_config(repo))
    absolute = str(repo / "mine.jsonl")
    assert config.resolve_data_path(absolute) == Path(absolute)


def test_when_the_shipped_default_config_loads_then_its_data_resolves_beside_the_checkout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    config = load_train_config(REPO / "configs" / "ner" / "default.yaml")
    resolved = config.resolve_data_path(config.sources[0].path or "")
    assert resolved.resolve() == (REPO.parent / "shared" / "data" / config.sources[0].path).resolve()


def test_when_no_repository_is_found_then_relative_is_under_the_base_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    assert resolve_data_dir("data", base=tmp_path) == tmp_path.resolve() / "data"
