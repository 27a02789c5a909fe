"""The local backend: shards processed in this process (1 worker) or in a pool of processes.

Each worker process builds its engines once, pins its torch and BLAS threads to its share of the
cores (so that N workers use N cores without oversubscription), and writes its parts itself. The
number of shards in flight is bounded, so memory does not grow with the corpus.
"""

from __future__ import annotations

import logging
import os
import traceback
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context

from deid.errors import DeidError
from deid.io.shard import Shard
from deid.run.task import ShardProcessor, ShardResult, ShardTask

logger = logging.getLogger(__name__)

_PROCESSOR: ShardProcessor | None = None


def default_workers() -> int:
    """Every core this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def pin_threads(threads: int) -> None:
    """Limit torch and BLAS threads of this process."""
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(threads)
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:  # pragma: no cover - torch is a dependency
        pass


def _init_worker(task: ShardTask, threads: int) -> None:
    # One processor per worker process: the engines are built here once and reused for every shard.
    global _PROCESSOR
    pin_threads(threads)
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what an interrupt means
    _PROCESSOR = ShardProcessor(task)
    _PROCESSOR.warm_up()


def _run_in_worker(shard: Shard) -> ShardResult:
    assert _PROCESSOR is not None
    return _PROCESSOR.process(shard)


def _shard_failed(index: int, exc: BaseException) -> DeidError:
    # Only the exception's type: its message could quote the data being processed.
    return DeidError(
        f"shard {index} failed ({type(exc).__name__}); committed shards are kept, no partial part was committed: "
        "run with -vv for details, fix the cause and run again with --resume"
    )


def _process_or_explain(processor: ShardProcessor, shard: Shard) -> ShardResult:
    try:
        return processor.process(shard)
    except (DeidError, OSError):
        raise
    except Exception as exc:
        # Frames only: the exception's message could quote the data.
        logger.debug(
            "shard %d failed (%s) at:\n%s",
            shard.index,
            type(exc).__name__,
            "".join(traceback.format_tb(exc.__traceback__)),
        )
        raise _shard_failed(shard.index, exc) from None


def run_local(
    shards: Iterable[Shard],
    task: ShardTask,
    workers: int,
    on_result: Callable[[ShardResult], None],
) -> None:
    """Process ``shards`` and hand each result to ``on_result`` (in completion order).

    Raises:
        DeidError: a worker process died.
    """
    if workers <= 1:
        processor = ShardProcessor(task)
        for shard in shards:
            on_result(_process_or_explain(processor, shard))
        return
    threads = max(1, default_workers() // workers)
    context = get_context("spawn")
    executor = ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_init_worker, initargs=(task, threads)
    )
    pending: dict[Future[ShardResult], int] = {}
    index: int | None = None
    try:
        iterator: Iterator[Shard] = iter(shards)
        exhausted = False
        while True:
            while not exhausted and len(pending) < 2 * workers:
                shard = next(iterator, None)
                if shard is None:
                    exhausted = True
                    break
                # submit() itself raises BrokenProcessPool once a worker has died.
                index = shard.index
                pending[executor.submit(_run_in_worker, shard)] = shard.index
            if not pending:
                break
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                index = pending.pop(future)
                try:
                    result = future.result()
                except (BrokenProcessPool, DeidError, OSError):
                    raise
                except Exception as exc:
                    raise _shard_failed(index, exc) from None
                on_result(result)
    except BrokenProcessPool:
        in_flight = sorted({*pending.values(), *([] if index is None else [index])})
        listed = ", ".join(str(i) for i in in_flight[:5]) + (" ..." if len(in_flight) > 5 else "")
        noun = "shard" if len(in_flight) == 1 else "shards"
        raise DeidError(
            f"a worker process died while processing {noun} {listed} (out of memory?); "
            "committed shards are kept: run again with --resume"
        ) from None
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
