"""The Spark backend: the same shards, the same per-shard function, run in Spark executors.

The driver does everything the local backend's parent process does, through :func:`deid.run.job.run_job`:
it reads the input and cuts it into shards (same reader, same shard size, same id checks), skips
the shards a resumed run has committed, writes every part file with the same writers and commit
functions, and keeps the manifest and the report. Only :meth:`ShardProcessor.transform` (validate,
classify, detect, transform; all in memory) runs in the executors, so a Spark run writes exactly
the files a local run writes, byte for byte.

How a shard travels::

    driver: Shard --pickle--> one-row Arrow table (index, shard) --> DataFrame.mapInArrow(...)
    executor (Python worker): ShardProcessor cached per worker --> ProcessedShard --pickle--> (index, result)
    driver: collect --> part file(s) committed --> manifest entry --> next shard

Each shard is one small Spark job (one task); up to ``2 x workers`` jobs are in flight at once
(``workers`` defaults to the context's default parallelism, i.e. its executor cores), and the
driver holds only those shards in memory. The engines (spaCy, Presidio, the transformer) are
loaded lazily, once per Python worker, and kept in a module-level cache keyed by the task, so a
worker that runs many shards loads them once (``spark.python.worker.reuse`` is on by default).

Nothing needs to be shared between the driver and the executors but the Python environment and,
when the configuration names a transformer, the model directory (``deid spark pack`` writes both as
archives for ``spark-submit --archives``, see :mod:`deid.run.spark_pack`): the input is read and the
output written by the driver. Executors check that they resolve the same model ids as the driver and
refuse to run otherwise, so a shard is never transformed by another model than the manifest records.

The secret key travels to the executors inside the pickled task, as it does to local worker
processes: on a shared cluster turn on ``spark.authenticate`` and ``spark.network.crypto.enabled``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from deid import __version__
from deid.errors import DeidError
from deid.io.shard import Shard
from deid.run import job
from deid.run.job import JobSpec, RunReport
from deid.run.manifest import model_ids
from deid.run.task import ProcessedShard, ShardProcessor, ShardResult, ShardTask

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

logger = logging.getLogger(__name__)

INPUT_SCHEMA = pa.schema([("index", pa.int64()), ("shard", pa.binary())])
OUTPUT_SCHEMA = "index long, result binary"
_PICKLE_PROTOCOL = 5


def run_spark(
    spec: JobSpec,
    master: str | None = None,
    *,
    spark: SparkSession | None = None,
    job_group: str | None = None,
) -> RunReport:
    """Run a redact, detect or route job with Spark executors doing the per-shard work.

    The output (part files, ``_manifest.json``, ``_rejects.jsonl``) is identical to the local
    backend's for the same input, configuration, key and columns; ``--resume`` works across
    backends. ``spec.workers`` is the number of executor cores to keep busy (default: the Spark
    context's default parallelism); it is recorded in the report.

    Args:
        spec: what to run, as for :func:`deid.run.job.run_job`.
        master: Spark master URL (``local[4]``, ``spark://host:7077``, ``yarn``...). ``None``: the
            master of the active session or of ``spark-submit``, else ``local[*]``.
        spark: a session to use (it is not stopped); ``None`` gets or creates one (a session
            created here is stopped at the end).
        job_group: Spark job group of the run's jobs (default ``deid-<random>``); another thread
            can cancel the run with ``SparkContext.cancelJobGroup(job_group)``.

    Returns:
        The run report (also written to ``_report.json``).

    Raises:
        DeidError: as :func:`deid.run.job.run_job`, and when a Spark task fails.
    """
    created = False
    if spark is None:
        spark, created = get_spark_session(master)
    try:
        workers = spec.workers or max(1, int(spark.sparkContext.defaultParallelism))
        backend = SparkBackend(spark, job_group=job_group or f"deid-{uuid.uuid4().hex[:12]}")
        return job.run_job(replace(spec, workers=workers), backend=backend)
    finally:
        if created:
            spark.stop()


def get_spark_session(master: str | None = None, app_name: str = "deid") -> tuple[SparkSession, bool]:
    """The active Spark session, or a new one.

    Args:
        master: the master URL for a new session; ``None`` takes the one ``spark-submit`` set,
            else ``local[*]``. An active session keeps its master (a different one is logged as a
            warning).
        app_name: the application name of a new session.

    Returns:
        The session and whether it was created here (the caller then stops it).

    Raises:
        DeidError: pyspark is not installed.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise DeidError("the Spark backend needs pyspark: pip install pyspark") from None
    active = SparkSession.getActiveSession()
    if active is not None:
        current = active.sparkContext.master
        if master and master != current:
            logger.warning(
                "a Spark session is already running on %s; using it instead of %s", current, master
            )
        return active, False
    builder = SparkSession.builder
    # Under spark-submit the JVM already holds the master, the application name and the Python to use.
    if master or "PYSPARK_GATEWAY_PORT" not in os.environ:
        master = master or "local[*]"
        builder = builder.master(master).appName(app_name)
        if master.startswith("local") and "PYSPARK_PYTHON" not in os.environ:
            # Local executors start Python workers with $PYSPARK_PYTHON, else "python3" from PATH;
            # this interpreter is the one that has deid installed.
            os.environ["PYSPARK_PYTHON"] = sys.executable
    # deid shows its own progress; Spark's console bar would interleave with it.
    builder = builder.config("spark.ui.showConsoleProgress", "false")
    return builder.getOrCreate(), True


class SparkBackend:
    """A backend with the local backend's contract: process shards, hand each result to a callback.

    Args:
        spark: the session whose executors run :meth:`ShardProcessor.transform`.
        job_group: the Spark job group of the jobs (one per shard); cancelled on error or interrupt.
    """

    def __init__(self, spark: SparkSession, job_group: str) -> None:
        self.spark = spark
        self.job_group = job_group

    def __call__(
        self,
        shards: Iterable[Shard],
        task: ShardTask,
        workers: int,
        on_result: Callable[[ShardResult], None],
    ) -> None:
        """Transform ``shards`` in Spark, commit their parts here and call ``on_result`` for each.

        Results arrive in completion order, from this thread (``on_result`` needs no lock).

        Args:
            shards: the shards to process (read lazily: at most ``2 * workers`` are held).
            task: the job-wide settings.
            workers: executor cores to keep busy.
            on_result: called with each committed shard's result.

        Raises:
            DeidError: a Spark task failed (committed shards are kept: run again with --resume).
        """
        function = ShardFunction(task)
        writer = ShardProcessor(task)  # writes parts on the driver; builds no engine
        in_flight = 2 * max(1, workers)
        context = self.spark.sparkContext
        pool = ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="deid-spark")
        pending: dict[Future[ProcessedShard], int] = {}
        failed = True
        try:
            iterator: Iterator[Shard] = iter(shards)
            exhausted = False
            while True:
                while not exhausted and len(pending) < in_flight:
                    shard = next(iterator, None)
                    if shard is None:
                        exhausted = True
                        break
                    pending[pool.submit(self._run_shard, function, shard)] = shard.index
                if not pending:
                    break
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    index = pending.pop(future)
                    started = time.perf_counter()
                    processed = future.result()
                    result = writer.commit(processed)
                    result.seconds += time.perf_counter() - started
                    logger.debug("shard %d committed", index)
                    on_result(result)
            failed = False
        finally:
            if failed:
                try:
                    context.cancelJobGroup(self.job_group)
                except Exception:  # the context may be gone already; the first error is the one to report
                    logger.debug("could not cancel Spark job group %s", self.job_group, exc_info=True)
            pool.shutdown(wait=True, cancel_futures=True)

    def _run_shard(self, function: ShardFunction, shard: Shard) -> ProcessedShard:
        """One Spark job: the shard goes out as a one-row DataFrame, the processed shard comes back."""
        context = self.spark.sparkContext
        context.setJobGroup(
            self.job_group, f"deid {function.task.mode}: shard {shard.index}", interruptOnCancel=True
        )
        payload = pa.table(
            [
                pa.array([shard.index], pa.int64()),
                pa.array([pickle.dumps(shard, protocol=_PICKLE_PROTOCOL)], pa.binary()),
            ],
            schema=INPUT_SCHEMA,
        )
        try:
            rows = self.spark.createDataFrame(payload).mapInArrow(function, OUTPUT_SCHEMA).collect()
        except Exception as exc:
            raise DeidError(
                f"shard {shard.index} failed in Spark ({_last_line(exc)}); committed shards are kept: "
                "run again with --resume"
            ) from exc
        # One row in, one row out; anything else would mean Spark lost or duplicated a shard.
        if len(rows) != 1 or rows[0]["index"] != shard.index:  # pragma: no cover
            raise DeidError(f"shard {shard.index}: Spark returned {len(rows)} results")
        outcome = pickle.loads(rows[0]["result"])
        if isinstance(outcome, BaseException):
            raise outcome
        processed: ProcessedShard = outcome
        return processed


class ShardFunction:
    """The ``mapInArrow`` function: each input row is a pickled shard, each output row its processed form.

    Runs in the executors' Python workers. The :class:`ShardProcessor` (and its engines) is built
    on the first shard a worker sees and kept for the following ones, across Spark jobs and runs
    with the same settings.

    Args:
        task: the job-wide settings.
    """

    def __init__(self, task: ShardTask) -> None:
        self.task = task
        self.cache_key = _engine_key(task)
        self.expected = {"deid": __version__, **model_ids(task.config)}

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """Transform every shard of every batch; domain errors come back as the result."""
        for batch in batches:
            indices = batch.column("index").to_pylist()
            results = [self._transform(blob) for blob in batch.column("shard").to_pylist()]
            yield pa.RecordBatch.from_arrays(
                [pa.array(indices, pa.int64()), pa.array(results, pa.binary())], names=["index", "result"]
            )

    def _transform(self, blob: bytes) -> bytes:
        started = time.perf_counter()
        try:
            processor = _cached_processor(self)
            shard: Shard = pickle.loads(blob)
            processed = processor.transform(shard)
        except DeidError as exc:
            return _pickle_error(exc)
        # Send back only what the driver writes: spans for detect, rows otherwise.
        if self.task.mode == "detect":
            processed.shard = Shard(processed.shard.index)
        else:
            processed.spans = {}
        processed.result.seconds = time.perf_counter() - started
        return pickle.dumps(processed, protocol=_PICKLE_PROTOCOL)


# One processor per Python worker: (cache key, processor). A new key replaces the old entry, so a
# long-lived worker never holds two sets of engines.
_CACHE: tuple[str, ShardProcessor] | None = None
_CACHE_LOCK = threading.Lock()


def _cached_processor(function: ShardFunction) -> ShardProcessor:
    global _CACHE
    with _CACHE_LOCK:
        if _CACHE is None or _CACHE[0] != function.cache_key:
            _CACHE = None
            _prepare_worker(function.expected, function.task)
            _CACHE = (function.cache_key, ShardProcessor(function.task))
        processor = _CACHE[1]
    # Engines depend only on what the key covers; the rest of the task (output paths) is the driver's.
    processor.task = function.task
    return processor


def _prepare_worker(expected: dict[str, str], task: ShardTask) -> None:
    """Pin threads to the task's cores and check that this worker sees the driver's deid and models."""
    from deid.run.local import pin_threads

    cpus = 1
    try:
        from pyspark import TaskContext

        context = TaskContext.get()
        if context is not None:
            cpus = max(1, int(context.cpus()))
    except ImportError:  # pragma: no cover - executors run pyspark
        pass
    pin_threads(cpus)
    here = {"deid": __version__, **model_ids(task.config)}
    if here != expected:
        differences = ", ".join(
            f"{k}: {here.get(k)} here, {expected.get(k)} on the driver"
            for k in sorted(expected.keys() | here.keys())
            if here.get(k) != expected.get(k)
        )
        raise DeidError(
            f"this Spark executor does not have the driver's deid or models ({differences}); ship the same "
            "environment and model directory to the executors"
        )


def _engine_key(task: ShardTask) -> str:
    """A digest of what the engines and the transform depend on (not where the driver writes)."""
    neutral = replace(task, parts_dir=Path("."), output_format="parquet", delimiter=",")
    return hashlib.sha256(pickle.dumps(neutral, protocol=_PICKLE_PROTOCOL)).hexdigest()


def _pickle_error(exc: DeidError) -> bytes:
    """The error itself when it survives pickling (most do), else a DeidError with its message."""
    try:
        blob = pickle.dumps(exc, protocol=_PICKLE_PROTOCOL)
        pickle.loads(blob)
        return blob
    except Exception:
        return pickle.dumps(DeidError(str(exc)), protocol=_PICKLE_PROTOCOL)


def _last_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else type(exc).__name__
