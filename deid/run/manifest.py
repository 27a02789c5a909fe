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
from deid.io.writers import json_default, write_text_atomic

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
        # Each shard entry's JSON text, encoded once: the manifest is rewritten after every shard, and
        # re-encoding every entry each time (the pure-Python encoder, because of the indentation) cost
        # the parent process time that grew with the square of the number of shards.
        self._encoded: dict[int, tuple[dict[str, Any], str]] = {}

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
        """Record a committed shard and rewrite the manifest.

        An entry is encoded once, when first written: replace an entry (a new dict), never change
        one in place.
        """
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
        write_text_atomic(self.path, self.text())
        if self.on_write is not None:
            self.on_write(self.path)

    def payload(self) -> dict[str, Any]:
        """The manifest as a JSON object."""
        payload = dict(self.header)
        payload["shards"] = [self.shards[i] for i in sorted(self.shards)]
        payload["totals"] = self.totals()
        payload["complete"] = self.complete
        return payload

    def text(self) -> str:
        """The file's text: ``json.dumps(self.payload(), indent=2, sort_keys=True)`` plus a newline,
        with each shard entry encoded only once."""
        payload = self.payload()
        items = []
        for key in sorted(payload):
            if key == "shards":
                entries = [self._entry_text(i) for i in sorted(self.shards)]
                value = "[\n" + ",\n".join(entries) + "\n  ]" if entries else "[]"
            else:
                value = _dumps(payload[key]).replace("\n", "\n  ")
            items.append(f"  {_dumps(key)}: {value}")
        return "{\n" + ",\n".join(items) + "\n}\n" if items else "{}\n"

    def _entry_text(self, index: int) -> str:
        entry = self.shards[index]
        cached = self._encoded.get(index)
        if cached is None or cached[0] is not entry:
            # Two levels deep (the manifest object, its "shards" list): four spaces before every line.
            cached = (entry, "    " + _dumps(entry).replace("\n", "\n    "))
            self._encoded[index] = cached
        return cached[1]


def _dumps(value: Any) -> str:
    # The encoding write_json_atomic uses (JSON strings never hold a raw line break, so re-indenting
    # the lines of a nested value is exact).
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=json_default)


def base_header(**fields: Any) -> dict[str, Any]:
    """The manifest header with deid's version."""
    return {"deid_version": __version__, **fields}
