"""One writer per output: a lock file that a run creates atomically and removes when it ends.

The lock (``OUTPUT/_deid.lock`` for a directory output, ``OUTPUT.deid-lock`` beside a file output)
holds the holder's host, pid, process start time and run start time, as JSON. Creating it is
atomic: a local lock is created with ``O_CREAT | O_EXCL`` (the call fails when the name exists, so
two runs never both succeed; a lock that stays empty or unreadable for 10 s is one whose writer died
while writing it, and is stale); on S3 it is a ``PutObject`` with ``If-None-Match: *`` (the store
refuses when the object exists).

A run that finds the lock taken stops at once, naming the holder. The lock of a process that is
gone is stale:

- same host, and no process with that pid (or one that started at another time, so the pid was
  reused): broken automatically, safely (renamed aside, checked to be the stale lock read before,
  then removed; a lock taken by another run in the meantime is put back and wins);
- another host: deid cannot tell whether it is alive, so breaking it needs ``--break-lock``.

``--overwrite`` deletes an output only while holding its lock, so it never deletes an output
another run holds.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import socket
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from deid.errors import OutputError
from deid.io.fs import Location, s3_client, store_errors

logger = logging.getLogger(__name__)

LOCK_NAME = "_deid.lock"
# A lock that stays unreadable this long was left by a run that died while creating it.
UNREADABLE_STALE_S = 10.0


class OutputLocked(OutputError):
    """Another run holds the output."""


@dataclass(frozen=True)
class LockHolder:
    """Who holds a lock."""

    host: str
    pid: int
    started: str
    token: str
    pid_start: int | None = None

    def describe(self) -> str:
        """``pid 123 on host h since 2026-12-02T10:00:00Z``."""
        return f"pid {self.pid} on host {self.host} since {self.started}"

    @classmethod
    def me(cls) -> LockHolder:
        """This process."""
        now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        return cls(socket.gethostname(), os.getpid(), now, uuid.uuid4().hex, _process_start(os.getpid()))

    @classmethod
    def parse(cls, text: str) -> LockHolder | None:
        """The holder in a lock file's text, or ``None`` if it is not a lock deid wrote."""
        try:
            data = json.loads(text)
            return cls(
                str(data["host"]),
                int(data["pid"]),
                str(data["started"]),
                str(data["token"]),
                None if data.get("pid_start") is None else int(data["pid_start"]),
            )
        except (ValueError, KeyError, TypeError):
            return None

    def to_text(self) -> str:
        """The lock file's content."""
        return json.dumps(asdict(self), sort_keys=True) + "\n"

    def is_dead(self) -> bool:
        """Whether this holder is a process of this host that no longer runs (``False`` when unsure)."""
        if self.host != socket.gethostname():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass  # a process of another user has the pid: it is alive, unless it is a reused pid
        started = _process_start(self.pid)
        return self.pid_start is not None and started is not None and started != self.pid_start


def _process_start(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux), to tell a reused pid from the holder."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            # The command name (field 2) may hold spaces; the fields after its closing bracket are plain.
            return int(handle.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


class OutputLock:
    """The lock of one output.

    Args:
        location: the lock file's location.
        output: how messages name the output.
        break_lock: break a lock held by a process on another host (``--break-lock``).
    """

    def __init__(self, location: Location, output: str, *, break_lock: bool = False) -> None:
        self.location = location
        self.output = output
        self.break_lock = break_lock
        self.holder: LockHolder | None = None
        self._made_dir: Path | None = None

    def __enter__(self) -> OutputLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def holder_now(self) -> LockHolder | None:
        """Who holds the lock now (``None``: nobody)."""
        text = self._read()
        if text is None:
            return None
        return LockHolder.parse(text) or LockHolder("?", 0, "unknown", "unreadable")

    def acquire(self) -> None:
        """Take the lock, breaking a stale one.

        Raises:
            OutputLocked: another run holds it (or a run on another host did, without --break-lock).
        """
        me = LockHolder.me()
        for _ in range(50):
            if self._create(me.to_text()):
                self.holder = me
                self._clean_aside()
                return
            text = self._read()
            if text is None:
                continue  # released in between: try again
            holder = LockHolder.parse(text)
            if holder is None:
                if self._age() < UNREADABLE_STALE_S:
                    time.sleep(0.2)  # its writer is still writing it
                    continue
                logger.warning(
                    "%s: breaking an unreadable lock left by a run that died creating it", self.output
                )
                self._break(text)
                continue
            if holder.is_dead():
                logger.warning(
                    "%s: breaking the stale lock of %s (that process is gone)", self.output, holder.describe()
                )
            elif self.break_lock and holder.host != socket.gethostname():
                logger.warning("%s: breaking the lock of %s (--break-lock)", self.output, holder.describe())
            else:
                hint = (
                    "; if that run is dead, run again with --break-lock"
                    if holder.host != socket.gethostname()
                    else ""
                )
                raise OutputLocked(f"{self.output}: in use by another deid run ({holder.describe()}){hint}")
            self._break(text)
        raise OutputLocked(
            f"{self.output}: could not take the lock {self.location.uri} (other runs keep taking it)"
        )

    def release(self) -> None:
        """Remove the lock if this run still holds it."""
        if self.holder is None:
            return
        text = self._read()
        if text is not None and LockHolder.parse(text) == self.holder:
            self._delete()
        self.holder = None
        if self._made_dir is not None:
            # The run stopped before writing anything: leave no empty OUTPUT behind.
            with contextlib.suppress(OSError):
                self._made_dir.rmdir()
            self._made_dir = None

    # ------------------------------------------------------------------ store operations

    def _read(self) -> str | None:
        if self.location.is_local:
            try:
                return Path(self.location.path).read_text(encoding="utf-8")
            except FileNotFoundError:
                return None
        from pyarrow.fs import FileType

        with store_errors(self.location, "read the lock"):
            if self.location.info().type == FileType.NotFound:
                return None
            with self.location.filesystem.open_input_stream(self.location.path) as handle:
                return bytes(handle.read()).decode("utf-8", errors="replace")

    def _create(self, text: str) -> bool:
        """Create the lock file with ``text`` unless it exists; whether it was created."""
        if self.location.is_local:
            path = Path(self.location.path)
            try:
                if not path.parent.exists():
                    path.parent.mkdir(parents=True, exist_ok=True)
                    self._made_dir = path.parent
                descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                return False
            except OSError as exc:
                raise OutputError(
                    f"{self.output}: cannot create the output ({exc.strerror or exc})"
                ) from None
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            return True
        if self.location.scheme == "s3":
            return _s3_put_if_absent(self.location, text)
        # Other stores: pyarrow.fs cannot create conditionally; check then create (a narrow race).
        logger.warning(
            "%s: this store has no conditional create; the lock is checked, then written", self.output
        )
        if self._read() is not None:
            return False
        with (
            store_errors(self.location, "write the lock"),
            self.location.filesystem.open_output_stream(self.location.path) as handle,
        ):
            handle.write(text.encode("utf-8"))
        return True

    def _age(self) -> float:
        """Seconds since the lock file was last written (0 when unknown)."""
        if self.location.is_local:
            try:
                return time.time() - os.stat(self.location.path).st_mtime
            except FileNotFoundError:
                return 0.0
        info = self.location.info()
        if info.mtime is None:
            return 0.0
        return time.time() - info.mtime.timestamp()

    def _clean_aside(self) -> None:
        """Remove stale locks that a breaker renamed aside and was killed before removing."""
        if not self.location.is_local:
            return
        path = Path(self.location.path)
        for aside in path.parent.glob(f".{path.name}.stale-*"):
            with contextlib.suppress(OSError):
                if LockHolder.parse(aside.read_text(encoding="utf-8")) != self.holder:
                    aside.unlink()

    def _delete(self) -> None:
        if self.location.is_local:
            with contextlib.suppress(FileNotFoundError):
                Path(self.location.path).unlink()
            return
        with store_errors(self.location, "remove the lock"):
            self.location.filesystem.delete_file(self.location.path)

    def _break(self, stale: str) -> None:
        """Remove the lock whose content is ``stale``, and only that one."""
        if not self.location.is_local:
            # Object stores replace whole objects; a lock re-taken in between loses to the conditional create.
            if self._read() == stale:
                self._delete()
            return
        path = Path(self.location.path)
        aside = path.with_name(f".{path.name}.stale-{uuid.uuid4().hex}")
        try:
            os.rename(path, aside)
        except FileNotFoundError:
            return
        if aside.read_text(encoding="utf-8") != stale:
            # Another run took the lock after we read the stale one: give it back.
            with contextlib.suppress(FileExistsError):
                os.link(aside, path)
        aside.unlink()


def _s3_put_if_absent(location: Location, text: str) -> bool:
    """``PutObject`` with ``If-None-Match: *``; ``False`` when the object exists."""
    try:
        import boto3  # noqa: F401 - the client below needs it
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        raise OutputError(
            f"{location.uri}: the output lock on s3:// needs boto3 (pip install 'deid[s3]')"
        ) from None
    bucket, _, key = location.path.partition("/")
    client: Any = s3_client()
    try:
        client.put_object(Bucket=bucket, Key=key, Body=text.encode("utf-8"), IfNoneMatch="*")
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in ("PreconditionFailed", "ConditionalRequestConflict") or status in (409, 412):
            return False
        from deid.io.fs import store_error

        raise store_error(location, "write the lock", OSError(f"{code} http status {status}")) from None
    except BotoCoreError as exc:
        from deid.io.fs import store_error

        raise store_error(
            location, "write the lock", OSError(type(exc).__name__ + " " + str(exc)[:0])
        ) from None
    return True
