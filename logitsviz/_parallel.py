"""Rows in cache-sized blocks, spread over a thread pool: numpy releases the GIL in its loops, so two cores do twice the work.

The rows are cut into one contiguous share per worker; each worker walks its
share block by block, so a block and its temporaries stay in cache through
every pass over it, and the pool is asked for only one task per worker (a task
per block costs more in hand-offs than it saves). np.errstate is set inside
each worker because it is per thread.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

BLOCK_BYTES = 1 << 19  # 512 KiB of input per block: it and its output fit in a core's L2 cache
WORKERS = max(1, min(8, os.cpu_count() or 1))
_POOL: ThreadPoolExecutor | None = None


def pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="logitsviz")
    return _POOL


def row_blocks(start: int, stop: int, row_bytes: int) -> list[slice]:
    """Rows ``start:stop`` cut into blocks of about :data:`BLOCK_BYTES` (at least one row each).

    >>> row_blocks(0, 10, BLOCK_BYTES // 4)
    [slice(0, 4, None), slice(4, 8, None), slice(8, 10, None)]
    """
    rows = max(1, BLOCK_BYTES // max(1, row_bytes))
    return [slice(i, min(i + rows, stop)) for i in range(start, stop, rows)]


def shares(n_rows: int, workers: int) -> list[tuple[int, int]]:
    """``n_rows`` split into ``workers`` contiguous, near-equal ``(start, stop)`` ranges (none empty).

    >>> shares(10, 3)
    [(0, 3), (3, 6), (6, 10)]
    """
    if n_rows <= 0:
        return []
    workers = max(1, min(workers, n_rows))
    bounds = [n_rows * k // workers for k in range(workers + 1)]
    return list(itertools.pairwise(bounds))


def map_rows(n_rows: int, row_bytes: int, work: Callable[[slice], None]) -> None:
    """Run ``work(rows)`` on every block of rows; on the pool, one share of blocks per worker, when there are enough.

    Inside a block every floating-point warning is off: callers produce the
    documented inf and NaN values (masked classes, bad rows) on purpose.
    """

    def run(start: int, stop: int) -> None:
        with np.errstate(all="ignore"):
            for rows in row_blocks(start, stop, row_bytes):
                work(rows)

    if WORKERS == 1 or n_rows * row_bytes < 2 * BLOCK_BYTES or n_rows < 2:
        run(0, n_rows)
        return
    tasks = [pool().submit(run, start, stop) for start, stop in shares(n_rows, WORKERS)]
    for task in tasks:
        task.result()  # re-raises a worker's exception here
