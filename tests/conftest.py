"""Shared fixtures: the sample corpus, a default detector, a key, a CLI runner."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from deid._offline import ensure_offline

ensure_offline()

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
TEST_KEY = "k3y-for-tests-only-0123456789-abcdefghijKLMNOP"


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """The shipped sample corpus."""
    return SAMPLES


@pytest.fixture(scope="session")
def detector():  # type: ignore[no-untyped-def]
    """A Detector with the default configuration (built once: Presidio + spaCy take seconds)."""
    from deid.config import load_config
    from deid.detect.engine import Detector

    return Detector(load_config().detection)


@pytest.fixture
def key_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """DEID_KEY set to a test key."""
    monkeypatch.setenv("DEID_KEY", TEST_KEY)
    monkeypatch.delenv("DEID_KEY_FILE", raising=False)
    yield TEST_KEY


@pytest.fixture
def no_key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No key in the environment."""
    monkeypatch.delenv("DEID_KEY", raising=False)
    monkeypatch.delenv("DEID_KEY_FILE", raising=False)


def write_config(path: Path, text: str) -> Path:
    """Write a YAML config file and return its path."""
    path.write_text(text, encoding="utf-8")
    return path


def run_cli(args: list[str], env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """Invoke ``deid`` in-process with click's runner (exceptions propagate)."""
    from click.testing import CliRunner

    from deid.cli import cli

    runner = CliRunner()
    merged = {k: v for k, v in os.environ.items() if k.startswith("DEID_")}
    merged.update(env or {})
    return runner.invoke(cli, args, catch_exceptions=False, env=merged)
