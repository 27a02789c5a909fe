"""The run manifest: what was read, how, with which models and key, and which shards are committed.

It is rewritten atomically after every committed shard, so after a crash it lists exactly the
shards whose part files are complete. It holds no timings (those go to ``report.json``): a run
that was killed and resumed ends with the same manifest as an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from deid import __version__
from deid.config import DeidConfig, resolve_path
from deid.errors import OutputError
from deid.io.writers import write_json_atomic

# Names start with "_" so that Spark, pandas and pyarrow skip them when reading OUTPUT as a dataset.
MANIFEST_NAME = "_manifest.json"
# Header fields that must match for --resume to continue a run.
RESUME_KEYS = (
    "mode",
    "input",
    "config_sha256",
    "key_fingerprint",
    "text_columns",
    "id_column",
    "subject_column",
    "output_format",
    "shard_size",
    "models",
    "router",
)


def model_ids(config: DeidConfig) -> dict[str, str]:
    """Identifiers of the models a configuration uses, without loading them."""
    ids: dict[str, str] = {}
    spacy_model = config.detection.nlp.model
    try:
        ids["spacy"] = f"{spacy_model}=={metadata.version(spacy_model.replace('_', '-'))}"
    except metadata.PackageNotFoundError:
        ids["spacy"] = spacy_model
    transformer = config.detection.transformer
    if transformer is not None:
        ids["transformer"] = model_fingerprint(resolve_path(transformer.model))
    return ids


def model_fingerprint(model_dir: Path) -> str:
    """``name@sha256-prefix`` over the model directory's metadata and weight files' digests."""
    digest = hashlib.sha256()
    if model_dir.is_dir():
        for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
            digest.update(path.relative_to(model_dir).as_posix().encode())
            with open(path, "rb") as handle:
                while block := handle.read(1 << 20):
                    digest.update(block)
    return f"{model_dir.name}@{digest.hexdigest()[:16]}"


class Manifest:
    """A run's manifest file.

    Args:
        path: where it lives (``OUTPUT/manifest.json``; a local staging copy for an object-store output).
        header: the run-wide fields (input digest, config digest, ...).
        on_write: called with ``path`` after every write (uploads the staging copy to the store, where the
            manifest is the commit record).
        display: how messages name it (default: ``path``).
    """

    def __init__(
        self,
        path: Path,
        header: dict[str, Any],
        on_write: Callable[[Path], None] | None = None,
        display: str | None = None,
    ) -> None:
        self.path = path
        self.on_write = on_write
        self.display = display or str(path)
        self.header = header
        self.shards: dict[int, dict[str, Any]] = {}
        self.complete = False

    @classmethod
    def load(cls, path: Path) -> Manifest:
        """Read an existing manifest.

        Raises:
            OutputError: missing or unreadable.
        """
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise OutputError(
                f"{path}: no manifest to resume from (use --overwrite to start again)"
            ) from None
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise OutputError(f"{path}: the manifest is damaged (use --overwrite to start again)") from None
        manifest = cls(path, {k: v for k, v in data.items() if k not in ("shards", "complete", "totals")})
        manifest.shards = {int(s["index"]): s for s in data.get("shards", [])}
        manifest.complete = bool(data.get("complete"))
        return manifest

    def check_resumable(self, header: dict[str, Any]) -> None:
        """Raise unless ``header`` describes the same run (same input, config, key, columns)."""
        for key in RESUME_KEYS:
            if self.header.get(key) != header.get(key):
                label = key.replace("_", " ")
                raise OutputError(
                    f"{self.display}: cannot resume: the {label} differs from the interrupted run's "
                    "(use --overwrite to start again)"
                )

    def add_shard(self, entry: dict[str, Any]) -> None:
        """Record a committed shard and rewrite the manifest."""
        self.shards[int(entry["index"])] = entry
        self.write()

    def totals(self) -> dict[str, Any]:
        """Row counts over the committed shards."""
        entries = self.shards.values()
        return {
            "rows_in": sum(e["rows_in"] for e in entries),
            "rows_out": sum(e["rows_out"] for e in entries),
            "rows_rejected": sum(e["rows_rejected"] for e in entries),
            "shards": len(self.shards),
        }

    def write(self) -> None:
        """Atomically rewrite the file."""
        payload = dict(self.header)
        payload["shards"] = [self.shards[i] for i in sorted(self.shards)]
        payload["totals"] = self.totals()
        payload["complete"] = self.complete
        write_json_atomic(self.path, payload)
        if self.on_write is not None:
            self.on_write(self.path)


def base_header(**fields: Any) -> dict[str, Any]:
    """The manifest header with deid's version."""
    return {"deid_version": __version__, **fields}
