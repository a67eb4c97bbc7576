"""Row blocks on a thread pool: numpy releases the GIL in its loops, so two cores do twice the work.

Each block is sized to stay in cache with its temporaries; np.errstate is set
inside each block because it is per thread.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

BLOCK_BYTES = 1 << 18  # 256 KiB of input per block
WORKERS = max(1, min(8, os.cpu_count() or 1))
_POOL: ThreadPoolExecutor | None = None


def pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="logitsviz")
    return _POOL


def row_blocks(n_rows: int, row_bytes: int) -> list[slice]:
    rows = max(1, BLOCK_BYTES // max(1, row_bytes))
    return [slice(i, min(i + rows, n_rows)) for i in range(0, n_rows, rows)]


def map_rows(n_rows: int, row_bytes: int, work: Callable[[slice], None]) -> None:
    """Run ``work(rows)`` on every block of rows, on the pool when there are enough blocks.

    Inside a block every floating-point warning is off: callers produce the
    documented inf and NaN values (masked classes, bad rows) on purpose.
    """

    def quiet(rows: slice) -> None:
        with np.errstate(all="ignore"):
            work(rows)

    blocks = row_blocks(n_rows, row_bytes)
    if len(blocks) < 4 or WORKERS == 1:
        for rows in blocks:
            quiet(rows)
        return
    for _ in pool().map(quiet, blocks):
        pass
