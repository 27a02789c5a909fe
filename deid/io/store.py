"""An output directory on an object store (S3, GCS, Azure, HDFS), written through a local staging directory.

Object stores have no rename, so deid's local commit (write a temporary file, rename it) does not
apply. Instead:

- every file (part, rejects part, manifest, report) is written completely to a local staging
  directory first, then uploaded in one ``PUT``; an object store makes an object visible only when
  its upload completes, so a part in OUTPUT is always complete, and a run killed mid-upload leaves
  nothing under that name;
- a shard's part is uploaded before the manifest that lists it, and the manifest is uploaded after
  every shard: the manifest is the commit record. ``--resume`` trusts the parts it lists that
  exist, and redoes the others.

What a reader of a half-finished output sees: complete ``part-NNNNN`` files of the shards done so
far (in no particular order of completion), ``_manifest.json`` with ``"complete": false``, and
``_rejects/part-NNNNN.jsonl`` files; ``_report.json`` and ``_rejects.jsonl`` appear only at the
end, after which ``_manifest.json`` says ``"complete": true``. A pipeline should wait for
``"complete": true`` (or for deid's exit status) before reading OUTPUT.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from deid.io.fs import Location, store_errors, walk


class StagedOutput:
    """OUTPUT on a store, with a local staging directory for the files on their way there.

    Args:
        location: the output directory on the store.
    """

    def __init__(self, location: Location) -> None:
        self.location = location
        self.staging = Path(tempfile.mkdtemp(prefix="deid-stage-"))

    def files(self) -> list[str]:
        """Every file under OUTPUT, as paths relative to it."""
        prefix = self.location.path.rstrip("/") + "/"
        return sorted(
            info.path[len(prefix) :] for info in walk(self.location) if info.path.startswith(prefix)
        )

    def exists(self, relative: str) -> bool:
        """Whether OUTPUT holds the file ``relative``."""
        from pyarrow.fs import FileType

        return self.location.join(relative).info().type == FileType.File

    def download(self, relative: str) -> Path | None:
        """Copy ``relative`` into the staging directory; its local path, or ``None`` if it is not there."""
        if not self.exists(relative):
            return None
        source = self.location.join(relative)
        target = self.staging / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        with store_errors(source, "read"), source.filesystem.open_input_stream(source.path) as handle:
            target.write_bytes(bytes(handle.read()))
        return target

    def download_dir(self, relative: str) -> None:
        """Copy every file under ``relative/`` into the staging directory."""
        for name in self.files():
            if name.startswith(relative.rstrip("/") + "/"):
                self.download(name)

    def upload(self, relative: str, *, keep_local: bool = False) -> None:
        """Upload the staged file ``relative`` to OUTPUT in one write (visible only when complete)."""
        source = self.staging / relative
        data = source.read_bytes()
        target = self.location.join(relative)
        with store_errors(target, "write"), target.filesystem.open_output_stream(target.path) as handle:
            handle.write(data)
        if not keep_local:
            source.unlink()

    def delete(self, relative: str) -> None:
        """Delete one file of OUTPUT (no error if it is not there)."""
        if self.exists(relative):
            target = self.location.join(relative)
            with store_errors(target, "delete"):
                target.filesystem.delete_file(target.path)

    def clear(self, keep: str) -> None:
        """Delete every file of OUTPUT except ``keep`` (the lock this run holds)."""
        for name in self.files():
            if name != keep:
                self.delete(name)

    def close(self) -> None:
        """Remove the staging directory."""
        shutil.rmtree(self.staging, ignore_errors=True)
