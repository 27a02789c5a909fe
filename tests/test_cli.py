"""Every command has help that ends with an example, answers fast, and is in the README."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from deid.cli import COMMANDS, SHORT_HELP
from tests.conftest import REPO, run_cli


def _all_commands() -> list[list[str]]:
    names: list[list[str]] = []
    for name, target in COMMANDS.items():
        if isinstance(target, dict):
            names.extend([name, sub] for sub in target)
        else:
            names.append([name])
    return names


@pytest.mark.parametrize("command", _all_commands(), ids=" ".join)
def test_when_help_asked_then_it_ends_with_an_example(command: list[str]) -> None:
    result = run_cli([*command, "--help"])
    assert result.exit_code == 0, result.output
    assert (
        "Example:" in result.output.strip().splitlines()[-1]
        or "Example:" in result.output.split("Options:")[-1]
    )
    assert " ".join(command) in SHORT_HELP


@pytest.mark.parametrize("command", _all_commands(), ids=" ".join)
def test_every_command_is_in_the_readme(command: list[str]) -> None:
    assert f"deid {' '.join(command)}" in (REPO / "README.md").read_text(encoding="utf-8")


def test_when_help_asked_then_it_answers_in_under_a_second() -> None:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "deid", "--help"], capture_output=True, text=True, check=True
    )
    elapsed = time.perf_counter() - started
    assert "redact" in result.stdout
    assert elapsed < 1.0, f"deid --help took {elapsed:.2f}s"
    heavy = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, deid.cli; deid.cli.cli.main(['redact', '--help'], standalone_mode=False); "
            "print(sorted(m for m in ('presidio_analyzer', 'torch', 'spacy', 'transformers') if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert heavy.stdout.strip().endswith("[]")
