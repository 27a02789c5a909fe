"""A whole job: plan shards, skip committed ones on resume, process the rest, write manifest and report.

Output layout of ``redact`` (OUTPUT is a directory, as Spark writes it)::

    OUTPUT/part-00000.parquet ...   the transformed rows, in input order (read the folder as one table)
    OUTPUT/_manifest.json           input/config digests, model ids, key fingerprint, per-shard counts and digests
    OUTPUT/_report.json             counts per column and entity type, rejects by reason, timings
    OUTPUT/_rejects.jsonl           one line per rejected row: row number, id, column, reason (never cell content)

(the leading underscore makes pandas, pyarrow and Spark skip these files when reading OUTPUT)

``detect`` writes one spans-JSONL file; its manifest, report and rejects sit beside it
(``OUTPUT.manifest.json``...) and its parts are staged in ``OUTPUT.deid-parts/`` until the end.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import shutil
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import Any

from deid.config import DeidConfig, resolve_path
from deid.errors import ConfigError, DeidError, InputError, OutputError
from deid.io.dataset import open_dataset
from deid.io.fs import is_uri, resolve
from deid.io.readers import ReadOptions
from deid.io.shard import Reject, Shard
from deid.io.store import StagedOutput
from deid.io.writers import commit_file, sha256_file, temp_name, write_json_atomic, write_lines_atomic
from deid.run.local import default_workers, run_local
from deid.run.lock import LOCK_NAME, OutputLock
from deid.run.manifest import MANIFEST_NAME, Manifest, base_header, model_fingerprint, model_ids
from deid.run.planning import plan_shard_size
from deid.run.progress import Progress
from deid.run.task import (
    Mode,
    ShardResult,
    ShardTask,
    check_column_policies,
    unlisted_warnings,
    with_config_text_columns,
)
from deid.transform.keys import load_key

logger = logging.getLogger(__name__)


REPORT_NAME = "_report.json"
REJECTS_NAME = "_rejects.jsonl"
# Part names are zero-padded to 5 digits: past this many shards a name sort no longer follows shard order.
PART_NAME_DIGITS_LIMIT = 100_000


class JobInterrupted(DeidError):
    """SIGINT or SIGTERM arrived; committed shards are kept."""


@dataclass
class JobSpec:
    """What to run.

    Attributes:
        mode: ``redact`` (transform and write the table), ``detect`` (write spans JSONL) or
            ``route`` (classify and partition only).
        input: the input: a file, a directory of parts, a glob, or a list of these; local paths
            or URIs (see :mod:`deid.io.dataset`).
        output: output directory (redact) or file (detect); a local path or a URI (``s3://...``:
            written through a local staging directory, see :mod:`deid.io.store`).
        text_columns: the free-text columns.
        config: the validated configuration.
        id_column: row id column, or ``None`` (row numbers are used).
        subject_column: subject column for date shifting, or ``None``.
        input_format: ``parquet|csv|jsonl`` or ``None`` (from the extension).
        output_format: for redact; ``None`` keeps the input format.
        workers: processes; ``None`` uses every core.
        resume: continue an interrupted run in ``output``.
        overwrite: replace an existing output (only while holding its lock).
        break_lock: break the lock of a run on another host that is known to be dead.
        delimiter: CSV delimiter.
        show_progress: progress bar on a terminal / log lines otherwise.
        router: a sensitivity classifier directory: adds the tier column, applies the tier's
            policy and partitions the output by tier.
    """

    mode: Mode
    input: Path | str | Sequence[Path | str]
    output: Path | str
    text_columns: tuple[str, ...]
    config: DeidConfig
    id_column: str | None = None
    subject_column: str | None = None
    input_format: str | None = None
    output_format: str | None = None
    workers: int | None = None
    resume: bool = False
    overwrite: bool = False
    break_lock: bool = False
    delimiter: str = ","
    show_progress: bool = True
    router: Path | None = None


@dataclass
class RunReport:
    """What a run did. Holds counts only, never a detected value."""

    mode: str
    input: str
    output: str
    rows_in: int = 0
    rows_out: int = 0
    rows_rejected: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    entities: dict[str, dict[str, int]] = field(default_factory=dict)
    null_cells: dict[str, int] = field(default_factory=dict)
    score_histogram: dict[str, list[int]] = field(default_factory=dict)
    tiers: dict[str, int] = field(default_factory=dict)
    escalations: dict[str, int] = field(default_factory=dict)
    fail_safe: str | None = None
    entities_by_tier: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    chars: int = 0
    shards_total: int = 0
    shards_resumed: int = 0
    workers: int = 1
    elapsed_s: float = 0.0
    rows_per_s: float = 0.0
    chars_per_s: float = 0.0
    throughput: list[dict[str, float]] = field(default_factory=list)
    key_fingerprint: str | None = None
    config_sha256: str = ""
    input_sha256: str = ""
    models: dict[str, str] = field(default_factory=dict)
    unlisted_pii: dict[str, dict[str, int]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The _report.json form."""
        return asdict(self)


def _input_arguments(spec: JobSpec) -> list[str]:
    """The input arguments as strings (one path, URI or glob each)."""
    if isinstance(spec.input, str | Path):
        return [str(spec.input)]
    return [str(item) for item in spec.input]


def _lock_output(spec: JobSpec, final: Path | str) -> OutputLock:
    """Take OUTPUT's lock (``OUTPUT/_deid.lock``; beside the file for ``detect``), or stop naming its holder."""
    location = resolve(f"{final}.deid-lock") if spec.mode == "detect" else resolve(final).join(LOCK_NAME)
    lock = OutputLock(location, str(final), break_lock=spec.break_lock)
    lock.acquire()
    return lock


def _check_staged_output(spec: JobSpec, staged: StagedOutput, existed: bool, inputs: list[str]) -> None:
    """:func:`_check_output` for an output on an object store."""
    root = staged.location.uri.rstrip("/") + "/"
    if any(uri.rstrip("/") + "/" == root or uri.startswith(root) for uri in inputs):
        raise OutputError(f"{spec.output}: the output must not be the input or contain it")
    if not existed or spec.resume:
        return
    if not spec.overwrite:
        raise OutputError(
            f"{spec.output}: already exists: use --overwrite to replace it or --resume to continue it"
        )
    if not staged.exists(MANIFEST_NAME):
        raise OutputError(f"{spec.output}: not empty and not a deid output: refusing to delete it")
    staged.clear(keep=LOCK_NAME)


def _check_output(spec: JobSpec, final: Path, work: Path, input_paths: list[Path], existed: bool) -> None:
    for path in input_paths:
        resolved = path.resolve()
        if resolved in (final.resolve(), work.resolve()) or resolved.is_relative_to(work.resolve()):
            raise OutputError(f"{final}: the output must not be the input or contain it")
    if not existed:
        return
    if spec.resume:
        return
    if not spec.overwrite:
        raise OutputError(
            f"{final}: already exists: use --overwrite to replace it or --resume to continue it"
        )
    if spec.mode != "detect":
        if final.is_file():
            raise OutputError(f"{final}: is a file; the output of 'redact' is a directory")
        if any(p.name != LOCK_NAME for p in final.iterdir()) and not (final / MANIFEST_NAME).exists():
            raise OutputError(f"{final}: not empty and not a deid output: refusing to delete it")
        # Everything but the lock this run holds, so that no other run can start on it meanwhile.
        for path in final.iterdir():
            if path.name == LOCK_NAME:
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
    else:
        if final.is_dir():
            raise OutputError(f"{final}: is a directory; the output of 'detect' is a file")
        for path in (final, *_detect_siblings(final).values()):
            if path.is_file():
                path.unlink()
        if work.exists():
            shutil.rmtree(work)


def _detect_siblings(final: Path) -> dict[str, Path]:
    return {
        "manifest": final.with_name(final.name + ".manifest.json"),
        "report": final.with_name(final.name + ".report.json"),
        "rejects": final.with_name(final.name + ".rejects.jsonl"),
    }


class _IdChecker:
    """Rejects rows without an id and rows whose id was seen before (in this run, all shards)."""

    def __init__(self, column: str | None) -> None:
        self.column = column
        self._seen: dict[bytes, tuple[str | None, int]] = {}

    def check(self, shard: Shard, file: str | None = None) -> Shard:
        """``shard`` without the rows whose id is missing or repeats; ``file`` names the shard's part."""
        if self.column is None:
            return shard
        bad: dict[int, Reject] = {}
        for position, value in enumerate(shard.column(self.column)):
            row = shard.row_numbers[position]
            if value is None or (isinstance(value, str) and not value.strip()):
                bad[position] = Reject(row, "missing id", self.column, None, file)
                continue
            key = hashlib.blake2b(repr(value).encode("utf-8", "surrogateescape"), digest_size=8).digest()
            first = self._seen.setdefault(key, (file, row))
            if first != (file, row):
                where = f"row {first[1]}" if first[0] in (None, file) else f"{first[0]}, row {first[1]}"
                bad[position] = Reject(
                    row, f"duplicate id (first seen at {where})", self.column, _id(value), file
                )
        return shard.without_rows(set(bad), list(bad.values()))


def _id(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


class _Signals:
    """Turn SIGINT/SIGTERM into :class:`JobInterrupted` in the main process, and restore on exit."""

    def __enter__(self) -> _Signals:
        self._old: dict[int, Any] = {}
        for signum in (signal.SIGINT, signal.SIGTERM):
            # signal.signal raises ValueError outside the main thread (e.g. inside a test runner thread).
            with contextlib.suppress(ValueError):
                self._old[signum] = signal.signal(signum, self._handle)
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        raise JobInterrupted(
            f"interrupted by {signal.Signals(signum).name}: committed shards are kept; run the same command "
            "with --resume to continue"
        )

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._old.items():
            signal.signal(signum, handler)


Backend = Callable[[Iterable[Shard], ShardTask, int, Callable[[ShardResult], None]], None]


def run_job(spec: JobSpec, backend: Backend | None = None) -> RunReport:
    """Run a redact, detect or route job, holding OUTPUT's lock while it runs (see :mod:`deid.run.lock`).

    Args:
        spec: what to run.
        backend: processes the shards and calls back with each committed result; ``None`` uses
            the local process pool (:func:`deid.run.local.run_local`);
            :class:`deid.run.spark.SparkBackend` runs them in Spark executors.

    Raises:
        InputError: the input cannot be read as asked.
        OutputError: the output exists, cannot be written, or cannot be resumed.
        OutputLocked: another run holds the output.
        KeyError_: the policy needs a key and none is set.
        JobInterrupted: SIGINT/SIGTERM (the run can be resumed).
    """
    cleanup: list[Callable[[], None]] = []
    try:
        return _run_job(spec, backend, cleanup)
    finally:
        for step in reversed(cleanup):
            step()


def _run_job(spec: JobSpec, backend: Backend | None, cleanup: list[Callable[[], None]]) -> RunReport:
    started = time.perf_counter()
    config = spec.config
    spec = with_config_text_columns(spec)
    arguments = _input_arguments(spec)
    options = ReadOptions(
        text_columns=spec.text_columns,
        id_column=spec.id_column,
        subject_column=spec.subject_column,
        shard_size=config.run.shard_size,
        max_text_chars=config.run.max_text_chars,
        delimiter=spec.delimiter,
    )
    if len(set(spec.text_columns)) != len(spec.text_columns):
        raise InputError(arguments[0], "a text column is named twice")
    if not spec.text_columns:
        raise InputError(
            arguments[0], "no text column given (use --text-column or columns: {NAME: {text: true}})"
        )
    reader = open_dataset(arguments, options, spec.input_format)
    input_format = reader.format
    output_format = spec.output_format or input_format
    if spec.mode == "detect":
        output_format = "jsonl"
    out_location = resolve(spec.output)
    staged: StagedOutput | None = None
    if out_location.is_local:
        final = Path(out_location.path) if is_uri(spec.output) else Path(spec.output)
    elif spec.mode == "detect":
        raise OutputError(
            f"{spec.output}: 'detect' writes a local file; write it there, then copy it to the store"
        )
    else:
        staged = StagedOutput(out_location)
        cleanup.append(staged.close)
        final = staged.staging
    work = final.with_name(final.name + ".deid-parts") if spec.mode == "detect" else final
    # Small inputs get smaller shards so that every worker has work (deid/run/planning.py).
    plan = plan_shard_size([f.location for f in reader.files], input_format, config.run.shard_size)
    reader.options = replace(reader.options, shard_size=plan.shard_size)
    check_column_policies(spec, arguments[0], reader)
    routed = spec.router is not None
    key = load_key(config.key, required=spec.mode == "redact" and config.needs_key(routed))
    tiers = None
    if routed:
        from deid.classify.tiers import load_tiers

        assert spec.router is not None
        if not (spec.router.is_dir() and any(spec.router.iterdir())):
            raise InputError(spec.router, "router model directory not found")
        tiers = load_tiers(resolve_path(config.routing.tiers))
        unknown = sorted(set(config.routing.policies) - set(tiers.names))
        if unknown:
            raise ConfigError(f"routing.policies: {unknown} are not tiers ({', '.join(tiers.names)})")
        if config.routing.column in reader.columns:
            raise InputError(
                arguments[0], f"the input already has a column '{config.routing.column}' (set routing.column)"
            )
    # An output that holds nothing but a lock (of a run that stopped before writing) is not an output yet.
    if staged is not None:
        existed = any(name != LOCK_NAME for name in staged.files())
        cleanup.append(_lock_output(spec, str(spec.output)).release)
        _check_staged_output(spec, staged, existed, [f.location.uri for f in reader.files])
    else:
        existed = (
            (final.is_dir() and any(p.name != LOCK_NAME for p in final.iterdir()))
            or (final.exists() and not final.is_dir())
            or (work != final and work.exists())
        )
        cleanup.append(_lock_output(spec, final).release)
        inputs_here = [f.location.local_path() for f in reader.files if f.location.is_local]
        _check_output(spec, final, work, inputs_here, existed)
        for argument in arguments:
            folder = (
                Path(resolve(argument).path) if not is_uri(argument) or argument.startswith("file:") else None
            )
            if folder is not None and folder.is_dir() and final.resolve().is_relative_to(folder.resolve()):
                # Its parts would be read as input by the next run (and --resume would refuse).
                raise OutputError(f"{final}: the output must not be inside an input directory ({argument})")
    if spec.mode == "detect" and spec.resume and final.exists() and not work.exists():
        raise OutputError(
            f"{final}: this detection run is already complete (use --overwrite to run it again)"
        )

    header = base_header(
        mode=spec.mode,
        input=reader.digest(),
        config_sha256=config.digest(),
        profile=config.profile,
        key_fingerprint=key.fingerprint if key is not None and spec.mode == "redact" else None,
        router=model_fingerprint(spec.router) if spec.router is not None else None,
        text_columns=list(spec.text_columns),
        id_column=spec.id_column,
        subject_column=spec.subject_column,
        output_format=output_format,
        shard_size=plan.shard_size,
        models=model_ids(config),
    )
    try:
        work.mkdir(parents=True, exist_ok=True)
        for stale in work.glob(".*.deid-tmp-*"):
            stale.unlink()
    except OSError as exc:
        raise OutputError(f"{work}: cannot create the output ({exc.strerror or exc})") from None
    manifest_path = work / MANIFEST_NAME
    if staged is not None and spec.resume:
        staged.download(MANIFEST_NAME)
        staged.download_dir("_rejects")
    if spec.resume and manifest_path.exists():
        manifest = Manifest.load(manifest_path)
        if staged is not None:
            manifest.display = f"{spec.output}/{MANIFEST_NAME}"
        manifest.check_resumable(header)
        if manifest.complete and spec.mode != "detect":
            logger.info("%s: the run is already complete; nothing to do", spec.output)
        _drop_unverified(manifest, work, staged)
    else:
        manifest = Manifest(manifest_path, header)
    if staged is not None:
        store = staged  # the closure below needs a name mypy knows is not None

        def upload_manifest(_path: Path) -> None:
            # The final manifest ("complete": true) goes up last, after the report (see below).
            if manifest.complete:
                if (work / REJECTS_NAME).exists():
                    store.upload(REJECTS_NAME, keep_local=True)
                return
            store.upload(MANIFEST_NAME, keep_local=True)

        manifest.on_write = upload_manifest
    manifest.complete = False
    try:
        manifest.write()
    except OSError as exc:
        raise OutputError(f"{work}: cannot write the manifest ({exc.strerror or exc})") from None

    workers = spec.workers or default_workers()
    task = ShardTask(
        mode=spec.mode,
        config=config,
        text_columns=spec.text_columns,
        id_column=spec.id_column,
        subject_column=spec.subject_column,
        parts_dir=work,
        output_format=output_format,
        key=key,
        delimiter=spec.delimiter,
        router=spec.router,
        tiers=tiers,
        input_name=str(arguments[0]),
    )
    report = RunReport(
        mode=spec.mode,
        input=header["input"]["name"],
        output=out_location.name,
        workers=workers,
        key_fingerprint=header["key_fingerprint"],
        config_sha256=header["config_sha256"],
        input_sha256=header["input"]["sha256"],
        models=header["models"],
    )
    if tiers is not None and spec.router is not None:
        from deid.classify.tiers import fail_safe_rule

        report.fail_safe = fail_safe_rule(spec.router, tiers)
    rejects_dir = work / "_rejects"
    total_rows = getattr(reader, "num_rows", None)
    progress = Progress(total_rows, enabled=spec.show_progress)
    done_before = set(manifest.shards)
    report.shards_resumed = len(done_before)

    def shards_to_run() -> Iterator[Shard]:
        ids = _IdChecker(spec.id_column)
        for shard in reader.shards():
            shard = ids.check(shard, None if reader.single_file else reader.shard_files[shard.index].display)
            report.shards_total += 1
            if shard.index == PART_NAME_DIGITS_LIMIT:
                logger.warning(
                    "more than %d shards: part names grow a digit, so order parts by number (as the manifest "
                    "and deid do), not by name, or raise run.shard_size",
                    PART_NAME_DIGITS_LIMIT,
                )
            if shard.index in done_before:
                progress.advance(manifest.shards[shard.index]["rows_in"], 0)
                continue
            yield shard

    def on_result(result: ShardResult) -> None:
        if result.rejects:
            source = None if reader.single_file else reader.shard_files[result.index].display
            rejects_dir.mkdir(exist_ok=True)
            write_lines_atomic(
                rejects_dir / f"part-{result.index:05d}.jsonl",
                [
                    json.dumps(
                        (r if r.file or source is None else replace(r, file=source)).to_json(),
                        ensure_ascii=False,
                        default=str,
                    )
                    for r in result.rejects
                ],
            )
        if staged is not None:
            # Parts first, then the manifest that commits them.
            for part in result.parts:
                staged.upload(part["path"])
            if result.rejects:
                staged.upload(f"_rejects/part-{result.index:05d}.jsonl", keep_local=True)
        manifest.add_shard(result.manifest_entry())
        progress.advance(result.rows_in, result.chars)
        report.throughput.append({"t": round(time.perf_counter() - started, 3), "rows": result.rows_in})

    try:
        with _Signals(), progress:
            (backend or run_local)(shards_to_run(), task, workers, on_result)
    except OSError as exc:
        raise OutputError(
            f"{work}: writing failed ({exc.strerror or exc}); committed shards are kept, fix and --resume"
        ) from None

    _finish(spec, manifest, work, final, rejects_dir, report, started)
    if staged is not None:
        staged.upload(REPORT_NAME, keep_local=True)
        staged.upload(MANIFEST_NAME, keep_local=True)  # "complete": true, the last file written
        for name in staged.files():
            if name.startswith("_rejects/"):
                staged.delete(name)
    return report


def _drop_unverified(manifest: Manifest, work: Path, staged: StagedOutput | None = None) -> None:
    """Forget committed shards whose part file is missing or altered (they are redone).

    On an object store a part is visible only once complete, so a listed part that exists is trusted.
    """
    if staged is not None:
        present = set(staged.files())
        for index, entry in list(manifest.shards.items()):
            if not all(p["path"] in present for p in entry["parts"]):
                logger.warning("shard %d: part file missing; it will be processed again", index)
                del manifest.shards[index]
        return
    for index, entry in list(manifest.shards.items()):
        parts = [work / p["path"] for p in entry["parts"]]
        if not all(
            p.is_file() and sha256_file(p) == e["sha256"] for p, e in zip(parts, entry["parts"], strict=True)
        ):
            logger.warning("shard %d: part file missing or changed; it will be processed again", index)
            del manifest.shards[index]


def _finish(
    spec: JobSpec,
    manifest: Manifest,
    work: Path,
    final: Path,
    rejects_dir: Path,
    report: RunReport,
    started: float,
) -> None:
    entries = [manifest.shards[i] for i in sorted(manifest.shards)]
    reasons: Counter[str] = Counter()
    for entry in entries:
        report.rows_in += entry["rows_in"]
        report.rows_out += entry["rows_out"]
        report.rows_rejected += entry["rows_rejected"]
        reasons.update(entry["rejected_by_reason"])
        report.chars += entry["chars"]
        for column, counts in entry["entities"].items():
            target = report.entities.setdefault(column, {})
            for entity, n in counts.items():
                target[entity] = target.get(entity, 0) + n
        for column, n in entry["null_cells"].items():
            report.null_cells[column] = report.null_cells.get(column, 0) + n
        for tier, n in entry["tiers"].items():
            report.tiers[tier] = report.tiers.get(tier, 0) + n
        for move, n in entry.get("escalations", {}).items():
            report.escalations[move] = report.escalations.get(move, 0) + n
        for tier, columns in entry["entities_by_tier"].items():
            for column, counts in columns.items():
                target = report.entities_by_tier.setdefault(tier, {}).setdefault(column, {})
                for entity, n in counts.items():
                    target[entity] = target.get(entity, 0) + n
        for entity, bins in entry["score_histogram"].items():
            target_bins = report.score_histogram.setdefault(entity, [0] * len(bins))
            for i, n in enumerate(bins):
                target_bins[i] += n
    report.rejected_by_reason = dict(sorted(reasons.items()))
    report.unlisted_pii, report.warnings = unlisted_warnings(entries)
    for warning in report.warnings:
        logger.warning("%s", warning)
    report.entities = {c: dict(sorted(v.items())) for c, v in report.entities.items()}
    if report.rows_in != report.rows_out + report.rows_rejected:  # pragma: no cover - an invariant
        raise DeidError("internal error: rows in != rows out + rows rejected")

    reject_lines: list[str] = []
    for entry in entries:
        path = rejects_dir / f"part-{entry['index']:05d}.jsonl"
        if entry["rows_rejected"] and path.is_file():
            reject_lines.extend(path.read_text(encoding="utf-8").splitlines())
    manifest.complete = True
    if spec.mode != "detect":
        if reject_lines:
            write_lines_atomic(work / REJECTS_NAME, reject_lines)
        manifest.write()
        report_path = work / REPORT_NAME
    else:
        siblings = _detect_siblings(final)
        tmp = temp_name(final)
        with open(tmp, "wb") as out:
            for entry in entries:
                with open(work / entry["parts"][0]["path"], "rb") as part:
                    shutil.copyfileobj(part, out)
        commit_file(tmp, final)
        if reject_lines:
            write_lines_atomic(siblings["rejects"], reject_lines)
        manifest.path = siblings["manifest"]
        manifest.write()
        shutil.rmtree(work)
        report_path = siblings["report"]
    if rejects_dir.exists():
        shutil.rmtree(rejects_dir)
    report.elapsed_s = round(time.perf_counter() - started, 3)
    processed_rows = sum(t["rows"] for t in report.throughput)
    report.rows_per_s = round(processed_rows / report.elapsed_s, 2) if report.elapsed_s else 0.0
    report.chars_per_s = round(report.chars / report.elapsed_s, 1) if report.elapsed_s else 0.0
    write_json_atomic(report_path, report.to_json())
    if report.rows_rejected:
        print(
            f"deid: {report.rows_rejected} row(s) rejected, see {REJECTS_NAME if spec.mode != 'detect' else siblings['rejects'].name}",
            file=sys.stderr,
        )
