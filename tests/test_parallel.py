"""The row scheduler under the fast paths: every row once, in cache-sized blocks, errors surfacing."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from logitsviz import _parallel


@given(st.integers(0, 3000), st.integers(0, 3000), st.integers(1, 1 << 21))
def test_blocks_tile_the_range(start, length, row_bytes):
    blocks = _parallel.row_blocks(start, start + length, row_bytes)
    rows = [i for b in blocks for i in range(b.start, b.stop)]
    assert rows == list(range(start, start + length))
    # a block holds at most BLOCK_BYTES of rows, unless one row is already bigger
    assert all((b.stop - b.start) * row_bytes <= max(_parallel.BLOCK_BYTES, row_bytes) for b in blocks)


@pytest.mark.parametrize("n_rows,row_bytes", [(0, 8), (1, 8), (3, 1 << 20), (1000, 4000), (64, 608_256)])
def test_map_rows_visits_every_row_once(n_rows, row_bytes):
    seen = np.zeros(n_rows, dtype=int)
    lock = threading.Lock()

    def work(rows: slice) -> None:
        with lock:
            seen[rows] += 1

    _parallel.map_rows(n_rows, row_bytes, work)
    assert seen.tolist() == [1] * n_rows


def test_map_rows_shares_blocks_between_caller_and_helpers(monkeypatch):
    monkeypatch.setattr(_parallel, "WORKERS", 2)  # as on a 2-core machine, whatever this one has
    monkeypatch.setattr(_parallel, "_POOL", None)
    threads = []

    def slow(rows: slice) -> None:
        threads.append(threading.get_ident())
        time.sleep(0.005)  # releases the GIL, as numpy's loops do

    _parallel.map_rows(40, _parallel.BLOCK_BYTES, slow)  # 40 blocks of one row
    assert len(threads) == 40
    assert threading.get_ident() in threads  # the caller worked too
    assert len(set(threads)) >= 2  # and so did a pool thread


def test_map_rows_raises_a_workers_error():
    def boom(rows: slice) -> None:
        if rows.start == 0:
            raise ValueError("block 0 failed")

    with pytest.raises(ValueError, match="block 0"):
        _parallel.map_rows(100, 1 << 18, boom)


def test_map_rows_leaves_fp_warnings_to_the_work_function():
    # regression: the scheduler silenced every floating-point warning for every caller
    with pytest.raises(FloatingPointError):
        with np.errstate(over="raise"):  # per thread: the caller's own blocks raise
            _parallel.map_rows(1, 8, lambda rows: np.exp(np.array([1000.0])))
