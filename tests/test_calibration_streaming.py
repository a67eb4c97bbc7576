"""Evaluation sets past one machine's memory: memory maps, folders of shards and dask arrays give the in-memory answer."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from logitsviz import InputError, calibration
from tests.test_calibration import synthetic

pytestmark = pytest.mark.usefixtures("no_warnings")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(calibration.chunks, "CHUNK_BYTES", 4096)  # many chunks, boundaries in odd places


def everything(logits, labels=None):
    """Every metric and the fitted temperature, by the public functions."""
    s = calibration.summarize(logits, labels, n_bins=12)
    return {**s.metrics(), "T": calibration.fit_temperature(logits, labels), "nll_fn": calibration.nll(logits, labels),
            "brier_fn": calibration.brier(logits, labels), "acc_fn": calibration.accuracy(logits, labels),
            "ece_fn": calibration.expected_calibration_error(logits, labels, n_bins=12),
            "smooth_fn": calibration.smooth_ece(logits, labels), "classwise_fn": calibration.classwise_ece(logits, labels, 12),
            "debiased_fn": calibration.debiased_ece(logits, labels, 12), "rel": calibration.brier_decomposition(logits, labels, 12).reliability}


def assert_same(a, b, rel=1e-9):
    assert a.keys() == b.keys()
    for k in a:
        assert b[k] == pytest.approx(a[k], rel=rel, abs=1e-12), k


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_memory_map_gives_the_in_memory_answer(tmp_path, small_chunks, dtype):
    z, y = synthetic(1500, c=7, temperature=1.6, seed=1, dtype=dtype)
    np.save(tmp_path / "z.npy", z)
    mapped = np.load(tmp_path / "z.npy", mmap_mode="r")
    assert isinstance(mapped, np.memmap)
    streamed, in_memory = everything(mapped, y), everything(z, y)
    assert_same(in_memory, streamed, rel=1e-6 if dtype == np.float32 else 1e-9)
    # risk-coverage out of memory ranks by confidence on a 1/4096 grid: close to, not equal to, the exact AURC
    assert calibration.risk_coverage(mapped, y).aurc == pytest.approx(calibration.risk_coverage(z, y).aurc, abs=2e-3)
    with pytest.raises(InputError, match="equal-width"):
        calibration.expected_calibration_error(mapped, y, strategy="quantile")


def test_a_folder_of_shards(tmp_path, small_chunks):
    z, y = synthetic(1000, c=5, temperature=0.7, seed=2)
    cuts = [0, 130, 131, 600, 1000]
    for i, (a, b) in enumerate(itertools.pairwise(cuts)):
        if i % 2:
            np.savez(tmp_path / f"part{i}.npz", logits=z[a:b], labels=y[a:b])
        else:
            np.save(tmp_path / f"part{i}.npy", z[a:b])
            np.save(tmp_path / f"part{i}.labels.npy", y[a:b])
    shards = calibration.open_shards(tmp_path)
    assert (len(shards), shards.rows, shards.classes) == (4, 1000, 5)
    seen = []
    assert_same(everything(z, y), everything(shards))
    calibration.summarize(shards, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (1000, 1000) and all(a <= b for (a, _), (b, _) in itertools.pairwise(seen))


def test_shard_errors_name_the_place(tmp_path):
    with pytest.raises(InputError, match="not a folder"):
        calibration.open_shards(tmp_path / "nope")
    with pytest.raises(InputError, match="No shards"):
        calibration.open_shards(tmp_path)
    np.save(tmp_path / "a.npy", np.zeros((3, 2)))
    with pytest.raises(InputError, match=r"a\.labels\.npy"):
        calibration.open_shards(tmp_path)
    np.save(tmp_path / "a.labels.npy", np.zeros(3, dtype=int))
    np.savez(tmp_path / "b.npz", logits=np.zeros((2, 3)), labels=np.zeros(2, dtype=int))
    with pytest.raises(InputError, match="number of classes"):
        calibration.open_shards(tmp_path)
    (tmp_path / "b.npz").unlink()
    z = np.zeros((4, 2))
    z[2, 1] = np.nan  # row 3 of the second shard is row 6 of the set
    np.savez(tmp_path / "b.npz", logits=z, labels=np.zeros(4, dtype=int))
    with pytest.raises(InputError, match="row 6, column 2"):
        calibration.summarize(calibration.open_shards(tmp_path))
    np.savez(tmp_path / "b.npz", logits=np.zeros((4, 2)), labels=np.array([0, 0, 0, 5]))
    with pytest.raises(InputError, match="Row 7: label 5"):
        calibration.fit_temperature(calibration.open_shards(tmp_path))
    np.savez(tmp_path / "b.npz", logits=np.zeros((4, 2)))
    with pytest.raises(InputError, match="both"):
        calibration.open_shards(tmp_path)


def test_chunked_errors_count_rows_from_the_start(tmp_path, small_chunks):
    z, y = synthetic(2000, c=4, seed=3)
    z[1733, 2] = np.inf
    np.save(tmp_path / "z.npy", z)
    with pytest.raises(InputError, match="row 1734, column 3"):
        calibration.summarize(np.load(tmp_path / "z.npy", mmap_mode="r"), y)
    with pytest.raises(InputError, match="one label per row"):
        calibration.summarize(np.load(tmp_path / "z.npy", mmap_mode="r"), y[:-1])


def test_dask_arrays_are_summed_where_they_live():
    da = pytest.importorskip("dask.array")
    import dask

    z, y = synthetic(3000, c=6, temperature=1.4, seed=4)
    lazy_z, lazy_y = da.from_array(z, chunks=(700, 3)), da.from_array(y, chunks=400)  # columns split too: rechunked by rows
    with dask.config.set(scheduler="threads"):
        assert_same(everything(z, y), everything(lazy_z, lazy_y))
        assert_same(everything(z, y), everything(lazy_z, y))  # labels in memory
    with dask.config.set(scheduler="synchronous"):
        assert calibration.smooth_ece(lazy_z, lazy_y) == pytest.approx(calibration.smooth_ece(z, y), rel=1e-12)


def test_memory_stays_bounded_on_a_set_larger_than_the_limit(tmp_path):
    """A 400 MB memory-mapped file summarised and fitted in a child process whose peak memory (VmHWM, which
    counts the file's mapped pages) must stay far below the file's size."""
    rows, classes = 100_000, 1000
    path = tmp_path / "big.npy"
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(rows, classes))
    rng = np.random.default_rng(0)
    for i in range(0, rows, 10_000):
        out[i:i + 10_000] = rng.standard_normal((10_000, classes), dtype=np.float32) * 2
    labels = rng.integers(0, classes, rows)
    np.save(tmp_path / "labels.npy", labels)
    del out
    script = textwrap.dedent(f"""
        import json, numpy as np
        from logitsviz import calibration
        def peak():
            return int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1]) // 1024
        z = np.load({str(path)!r}, mmap_mode="r"); y = np.load({str(tmp_path / 'labels.npy')!r})
        before = peak()
        s = calibration.summarize(z, y)
        t = calibration.fit_temperature(z, y)
        print(json.dumps({{"before": before, "after": peak(), "ece": s.ece(), "T": t}}))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    figures = json.loads(result.stdout)
    file_mb = path.stat().st_size / 2**20
    assert figures["after"] - figures["before"] < 0.4 * file_mb, (figures, file_mb)  # 400 MB file; chunks are 64 MB
    assert 0 < figures["T"] and 0 <= figures["ece"] <= 1
