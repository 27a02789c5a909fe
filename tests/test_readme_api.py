"""The README's library API snippets run as written (detect, scan, redact_table, Presidio integration)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, TEST_KEY


def _snippets() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Library API\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_when_readme_read_then_the_api_section_has_its_snippets() -> None:
    blocks = _snippets()
    assert len(blocks) == 3
    joined = "\n".join(blocks)
    for call in ("deid.Detector(", "deid.scan_table(", "deid.redact_table(", "deid.transformer_recognizer()"):
        assert call in joined
    assert "add_recognizer" in joined and "deid.add_operators(" in joined


def test_when_deid_imported_then_the_api_is_lazy() -> None:
    code = "import sys, deid; print(sorted(m for m in ('deid.api', 'presidio_analyzer', 'torch') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "[]"
    assert {"Detector", "redact_table", "scan_table"} <= set(dir(__import__("deid")))


@pytest.mark.slow
def test_when_readme_api_snippets_run_then_they_succeed(tmp_path: Path) -> None:
    for name in ("samples", "configs"):
        (tmp_path / name).symlink_to(REPO / name)
    script = tmp_path / "snippets.py"
    script.write_text("\n\n".join(_snippets()), encoding="utf-8")
    env = {**os.environ, "DEID_KEY": TEST_KEY, "DEID_KEY_FILE": "", "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "identifier (EMAIL_ADDRESS)" in done.stdout
    assert "LOAD REPORT" not in done.stdout + done.stderr
    assert (tmp_path / "suggested.yaml").is_file() and (
        tmp_path / "out" / "api-demo" / "_manifest.json"
    ).is_file()
