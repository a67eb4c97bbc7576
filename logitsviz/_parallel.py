"""Rows in cache-sized blocks, spread over a thread pool: numpy releases the GIL in its loops, so two cores do twice the work.

A block and its temporaries stay in cache through every pass over it. The
calling thread and one helper per extra core claim blocks from a shared
counter until none is left: one pool task per helper, not per block (hand-offs
cost more than they save), and a helper that starts late takes fewer blocks
instead of leaving its share to run after everyone else's. ``np.errstate`` is
per thread: a ``work`` function that expects a floating-point warning sets it
inside itself, around the lines that produce it.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

BLOCK_BYTES = 1 << 19  # 512 KiB of input per block: it and its output fit in a core's L2 cache
WORKERS = max(1, min(8, os.cpu_count() or 1))
SERIAL_BYTES = 1 << 21  # inputs below 2 MiB run on the calling thread alone (measured: no gain from a helper below)
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


def map_rows(n_rows: int, row_bytes: int, work: Callable[[slice], None]) -> None:
    """Run ``work(rows)`` on every block of rows, the calling thread and the pool's threads sharing them out.

    Every participant takes the next unclaimed block until none is left, so a
    thread that starts late (the machine is busy) just takes fewer blocks; the
    caller works too instead of waiting.
    """
    blocks = row_blocks(0, n_rows, row_bytes)
    if n_rows * row_bytes < SERIAL_BYTES:  # waking a helper costs more than it saves on a few blocks
        for rows in blocks:
            work(rows)
        return
    claim = itertools.count()  # next() on it is atomic under the GIL

    def drain() -> None:
        for i in iter(claim.__next__, None):
            if i >= len(blocks):
                return
            work(blocks[i])

    if WORKERS == 1 or len(blocks) < 2:
        drain()
        return
    helpers = [pool().submit(drain) for _ in range(min(WORKERS, len(blocks)) - 1)]
    try:
        drain()
    finally:
        for helper in helpers:
            helper.result()  # waits for every block; re-raises a helper's exception here
