"""The parent process of a multi-worker job stays light: its workers load the detection stack.

Every second the parent spends importing Presidio, spaCy, torch or transformers before it hands out
the first shard is a second of one-core time at the start of every job (about 3 s on the bench
machine, 15% of the small job's wall time).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# pyarrow.dataset (0.3 s, with pandas) lists directories of parts; a single input file needs none of it.
HEAVY = (
    "presidio_analyzer",
    "presidio_anonymizer",
    "spacy",
    "torch",
    "transformers",
    "pyarrow.dataset",
    "pandas",
)

PARENT = """
import json, sys
from deid.config import load_config
from deid.run.job import JobSpec, run_job

class Handed(Exception):
    pass

def backend(shards, task, workers, on_result):
    first = next(iter(shards))
    loaded = [name for name in {heavy!r} if name in sys.modules]
    print(json.dumps({{"rows": first.num_rows, "loaded": loaded}}))
    raise Handed

spec = JobSpec(mode="detect", input=sys.argv[1], output=sys.argv[2], text_columns=("text",),
               config=load_config(None), id_column="id", workers=2, show_progress=False)
try:
    run_job(spec, backend=backend)
except Handed:
    pass
"""


@pytest.mark.slow
def test_when_detect_job_hands_out_shards_then_parent_has_not_loaded_detection_libraries(
    tmp_path: Path,
) -> None:
    source = tmp_path / "notes.jsonl"
    source.write_text("".join(json.dumps({"id": i, "text": f"note {i}"}) + "\n" for i in range(40)))
    done = subprocess.run(
        [sys.executable, "-c", PARENT.format(heavy=HEAVY), str(source), str(tmp_path / "out.jsonl")],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["rows"] == 32  # the first planned shard reached the backend
    assert seen["loaded"] == []
