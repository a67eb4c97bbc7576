"""The streaming summary of an evaluation set and the metric functions that accept any source.

:func:`summarize` makes one :class:`Summary` (sums whose size depends on the
classes and bins, never on the rows); ``nll``, ``brier``, ``smooth_ece``,
``classwise_ece``… read it for memory maps, shards and dask arrays, and the
rows directly for arrays in memory.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from logitsviz.calibration.chunks import _out_of_memory, _reduce
from logitsviz.calibration.metrics import REGISTRY
from logitsviz.calibration.rows import (
    GRID,
    Bins,
    RowStats,
    _bin_index,
    _bin_sums,
    _check,
    _grid_of,
    _row_pass,
    bins_from_confidence,
    calibration_error,
    reliability_bins,
    row_stats,
)
from logitsviz.calibration.smooth import (
    BrierDecomposition,
    RiskCoverage,
    SmoothReliability,
    _brier_parts,
    _classwise_ece,
    _debiased,
    _risk_from_groups,
    _risk_of_rows,
    _smooth_curve,
    _smooth_ece_fixed_point,
)
from logitsviz.errors import InputError


def expected_calibration_error(logits, labels=None, n_bins: int = 15, norm: str = "l1",
                               strategy: str = "uniform", *, temperature: float = 1.0) -> float:
    """Expected calibration error (``norm="l1"``), RMS calibration error (``"l2"``) or MCE (``"max"``).

    Examples
    --------
    >>> # one bin holds all three: mean confidence (0.881 + 0.881 + 0.953) / 3 = 0.905, accuracy 2/3
    >>> round(expected_calibration_error([[2.0, 0.0], [0.0, 2.0], [3.0, 0.0]], [0, 0, 0], n_bins=1), 4)
    0.2381
    """
    if norm not in ("l1", "l2", "max"):
        raise InputError("calib.norm", value=norm)
    if _out_of_memory(logits):
        if strategy != "uniform":
            raise InputError("calib.stream_quantile")
        return summarize(logits, labels, temperature=temperature, n_bins=n_bins, classwise=False).ece(norm)
    return calibration_error(reliability_bins(logits, labels, n_bins, strategy, temperature=temperature), norm)


def nll(logits, labels=None, *, temperature: float = 1.0) -> float:
    """Mean negative log-likelihood (cross-entropy) of the labels.

    >>> round(nll([[2.0, 1.0, 0.1]], [0]), 4)
    0.417
    """
    if _out_of_memory(logits):
        return summarize(logits, labels, temperature=temperature, classwise=False).nll
    with np.errstate(over="ignore"):
        return float(np.mean(row_stats(logits, labels, temperature).nll))


def brier(logits, labels=None, *, temperature: float = 1.0) -> float:
    """Mean Brier score: ``mean over rows of sum_c (p_c - onehot_c)^2``, between 0 and 2.

    >>> round(brier([[2.0, 1.0, 0.1]], [0]), 4)   # 0.341^2 + 0.242^2 + 0.099^2
    0.1848
    """
    if _out_of_memory(logits):
        return summarize(logits, labels, temperature=temperature, classwise=False).brier
    with np.errstate(over="ignore"):
        return float(np.mean(row_stats(logits, labels, temperature).brier))


def accuracy(logits, labels=None) -> float:
    """Share of rows whose argmax is the label.

    >>> accuracy([[2.0, 1.0], [0.0, 1.0]], [0, 0])
    0.5
    """
    if _out_of_memory(logits):
        return summarize(logits, labels, classwise=False).accuracy
    z, y = _check(logits, labels)
    return float(np.mean(np.argmax(z, axis=1) == y))


@dataclass
class Summary:
    """The sums over rows from which every metric of an evaluation set follows; ``a + b`` pools two parts.

    Built by :func:`summarize`, one pass over the logits. Its size depends on
    the number of classes and bins, never on the number of rows: ``8 * (4 *
    4097 + 3 * n_bins + 5 * C * n_bins)`` bytes, 3.5 MB for a thousand classes.
    """

    temperature: float
    n_bins: int
    classes: int
    rows: int = 0
    sums: np.ndarray = None  # correct, confidence, nll, brier
    bins: np.ndarray = None  # (3, n_bins): count, correct, confidence of the top label per equal-width bin
    grid: np.ndarray = None  # (3, GRID): count, correct, confidence spread linearly over the grid
    cells: np.ndarray = None  # (2, GRID): count and errors per nearest grid node (risk-coverage)
    classwise: np.ndarray | None = None  # (5, C, n_bins): count, sum p, sum p^2, sum onehot, sum p * onehot

    def __post_init__(self) -> None:
        if self.sums is None:
            self.sums = np.zeros(4)
            self.bins = np.zeros((3, self.n_bins))
            self.grid = np.zeros((3, GRID))
            self.cells = np.zeros((2, GRID))

    def __add__(self, other: Summary) -> Summary:
        if (self.temperature, self.n_bins, self.classes) != (other.temperature, other.n_bins, other.classes):
            raise ValueError("summaries of different settings cannot be pooled")
        cw = None if self.classwise is None or other.classwise is None else self.classwise + other.classwise
        return Summary(self.temperature, self.n_bins, self.classes, self.rows + other.rows, self.sums + other.sums,
                       self.bins + other.bins, self.grid + other.grid, self.cells + other.cells, cw)

    # ----- the metrics
    def _mean(self, i: int) -> float:
        return float(self.sums[i] / self.rows) if self.rows else math.nan

    @property
    def accuracy(self) -> float:
        return self._mean(0)

    @property
    def confidence(self) -> float:
        return self._mean(1)

    @property
    def nll(self) -> float:
        return self._mean(2)

    @property
    def brier(self) -> float:
        return self._mean(3)

    def reliability(self) -> Bins:
        count, hits, conf = self.bins
        with np.errstate(invalid="ignore", divide="ignore"):
            return Bins(np.linspace(0.0, 1.0, self.n_bins + 1), count.astype(np.int64), hits / count, conf / count)

    def ece(self, norm: str = "l1") -> float:
        return calibration_error(self.reliability(), norm)

    def debiased_ece(self) -> float:
        return _debiased(self.bins[0], self.bins[1], self.bins[2], self.rows)

    def smooth_ece(self) -> float:
        return _smooth_ece_fixed_point(self.grid[0], self.grid[2] - self.grid[1], self.rows)[0]

    def smooth_reliability(self, n_points: int = 200, sigma: float | None = None) -> SmoothReliability:
        """The smoothed reliability curve at the smooth ECE's kernel width, or at ``sigma``."""
        curve = _smooth_curve(self.grid, self.rows, n_points, sigma)
        if sigma is None:
            return curve
        return dataclasses.replace(curve, smooth_ece=self.smooth_ece())

    def classwise_ece(self) -> float:
        return _classwise_ece(self._classwise(), self.rows)

    def brier_decomposition(self) -> BrierDecomposition:
        return _brier_parts(self._classwise(), self.rows)

    def risk_coverage(self) -> RiskCoverage:
        keep = self.cells[0] > 0  # groups from the most confident down
        return _risk_from_groups(self.cells[0][keep][::-1], self.cells[1][keep][::-1], (np.arange(GRID) / (GRID - 1))[keep][::-1])

    def _classwise(self) -> np.ndarray:
        if self.classwise is None:
            raise ValueError("this summary was made with classwise=False")
        return self.classwise

    def metrics(self) -> dict[str, float]:
        """Every metric of :data:`~logitsviz.calibration.metrics.REGISTRY` by name, in its order (the classwise ones
        only when this summary has the per-class sums)."""
        return {m.name: m.of_summary(self) for m in REGISTRY.values() if self.classwise is not None or not m.classwise}


MORE_METRICS = ("smooth_ece", "classwise_ece", "debiased_ece", "aurc")


def _summary_of_rows(stats: RowStats, n_bins: int, classes: int, classwise: np.ndarray | None) -> Summary:
    conf, correct = stats.confidence, stats.correct.astype(np.float64)
    bins = _bin_sums(_bin_index(conf, n_bins), conf, correct, n_bins)
    cell = np.rint(np.clip(conf, 0.0, 1.0) * (GRID - 1)).astype(np.int64)
    cells = np.stack([np.bincount(cell, minlength=GRID), np.bincount(cell, 1.0 - correct, GRID)])
    with np.errstate(over="ignore"):  # huge logits: an honest inf NLL
        sums = np.array([correct.sum(), conf.sum(), stats.nll.sum(), stats.brier.sum()])
    return Summary(stats.temperature, n_bins, classes, int(conf.size), sums, bins, _grid_of(conf, correct),
                   cells.astype(np.float64), classwise)


class _ClasswiseSums:
    """Per class and equal-width bin of ``p_c``: count, sum p, sum p^2, sum onehot, sum p * onehot; one accumulator per thread."""

    def __init__(self, classes: int, n_bins: int) -> None:
        self.classes, self.n_bins = classes, n_bins
        self.parts: dict[int, np.ndarray] = {}
        self.lock = threading.Lock()

    def __call__(self, e: np.ndarray, s0: np.ndarray, y: np.ndarray) -> None:
        p = e / s0[:, None].astype(e.dtype)
        flat = np.ceil(p * self.n_bins).astype(np.int64)  # (k/n, (k+1)/n] -> k + 1
        np.clip(flat, 1, self.n_bins, out=flat)
        flat += np.arange(self.classes, dtype=np.int64) * self.n_bins - 1
        size = self.classes * self.n_bins
        rows = np.arange(y.size)
        true_flat, p_true = flat[rows, y], p[rows, y].astype(np.float64)
        flat, p = flat.ravel(), p.ravel().astype(np.float64)
        part = np.stack([np.bincount(flat, minlength=size), np.bincount(flat, p, size), np.bincount(flat, p * p, size),
                         np.bincount(true_flat, minlength=size), np.bincount(true_flat, p_true, size)]).astype(np.float64)
        key = threading.get_ident()
        with self.lock:
            if key in self.parts:
                self.parts[key] += part
            else:
                self.parts[key] = part

    def total(self) -> np.ndarray:
        out = np.zeros((5, self.classes * self.n_bins))
        for part in self.parts.values():
            out += part
        return out.reshape(5, self.classes, self.n_bins)


def _chunk_summary(z: np.ndarray, y: np.ndarray, offset: int, temperature: float, n_bins: int, classwise: bool) -> Summary:
    """The :class:`Summary` of one chunk of rows (checked, its rows numbered from ``offset`` in messages)."""
    z, y = _check(z, y, offset)
    acc = _ClasswiseSums(z.shape[1], n_bins) if classwise else None
    stats = _row_pass(z, y, temperature, acc)
    return _summary_of_rows(stats, n_bins, z.shape[1], acc.total() if acc else None)


def summarize(logits, labels=None, *, temperature: float = 1.0, n_bins: int = 15, classwise: bool = True,
              progress: Callable[[int, int], None] | None = None) -> Summary:
    """Every metric's sums in one pass over an evaluation set of any size.

    Parameters
    ----------
    logits : array_like (N, C), numpy memory map, dask array or :class:`Shards`
        A memory-mapped ``.npy`` (``np.load(path, mmap_mode="r")``) is read
        64 MB of rows at a time and each chunk's pages are handed back to the
        system after use; a dask array is summed where its blocks live (one
        summary per block, added up on the cluster); :func:`open_shards` reads
        a folder of shards one at a time.
    labels : array_like (N,), optional for :class:`Shards` (which carry their own)
    temperature, n_bins :
        Evaluate ``softmax(logits / T)``; equal-width bins ``(lo, hi]``.
    classwise : bool
        Also the per-class sums (classwise ECE, Brier decomposition): a
        second look at every probability, ``5 * C * n_bins`` more floats.
    progress : callable(rows_done, rows_total), optional

    Memory: one chunk of rows (at most 64 MB, or one shard or dask block),
    its per-row vectors (33 bytes a row) and the summary; nothing grows
    with the number of rows.

    Examples
    --------
    >>> s = summarize([[2.0, 0.0], [0.0, 2.0], [3.0, 0.0]], [0, 0, 0], n_bins=1)
    >>> round(s.ece(), 4), round(s.accuracy, 4)
    (0.2381, 0.6667)
    """
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise InputError("calib.n_bins", value=n_bins)
    return _reduce(logits, labels, lambda z, y, offset: _chunk_summary(z, y, offset, temperature, int(n_bins), classwise),
                   progress)


def smooth_ece(logits, labels=None, *, temperature: float = 1.0) -> float:
    """Smooth ECE (smECE) with its bandwidth chosen as in Błasiok & Nakkiran 2023, "Smooth ECE".

    The residuals ``confidence - correct`` are smoothed with a Gaussian kernel
    of width ``sigma`` reflected at 0 and 1, and ``smECE_sigma`` is the
    integral of their absolute value; ``sigma*`` is the width at which
    ``smECE_sigma = sigma`` (unique: smECE falls as sigma grows), found by
    Brent's method to 1e-7, never below 0.001. Confidences are spread linearly over
    4097 grid points first, as apple/ml-calibration's ``relplot.smECE`` does.
    Checked against relplot 1.0.3 on 13 sets: within 3e-4, except where many
    confidences sit at 1 (over-confident models, up to 9e-3): relplot counts
    a point on the end node once, the reflected kernel counts it twice (it is
    its own mirror); a brute-force integral agrees with this function to
    2e-7 in every case. relplot also bisects only to 2^-10. 0 for a calibrated model, at
    most 1; unlike binned ECE it has no bins to choose and does not jump when
    a confidence crosses a bin edge.

    Accepts everything :func:`summarize` does, in one pass.

    >>> round(smooth_ece([[0.0, 0.0]] * 4, [0, 0, 1, 1]), 6)   # confidence 0.5, half right: calibrated
    0.0
    >>> round(smooth_ece([[2.0, 0.0]] * 3, [0, 0, 0]), 4)      # confidence 0.8808 always, always right: 1 - 0.8808
    0.1192
    """
    return summarize(logits, labels, temperature=temperature, classwise=False).smooth_ece()


def smooth_reliability(logits, labels=None, n_points: int = 200, *, temperature: float = 1.0, n_boot: int = 200,
                       level: float = 0.95, rng=0) -> SmoothReliability:
    """The smoothed reliability curve at the smooth ECE's bandwidth, with a pointwise bootstrap band.

    As in apple/ml-calibration's ``relplot``: the curve is ``t`` plus the
    kernel-smoothed ``correct - confidence`` (so it stays on the diagonal
    where there is no data); the band holds the middle ``level`` of
    ``n_boot`` curves from rows resampled with replacement (same bandwidth).
    Evaluation sets out of memory (see :func:`summarize`) get the curve
    without a band (``n_boot=0`` skips it for any input).

    >>> r = smooth_reliability([[2.0, 0.0]] * 50 + [[0.0, 2.0]] * 50, [0] * 100, n_points=5, n_boot=20)
    >>> r.mesh.tolist(), bool((r.lower <= r.accuracy + 1e-9).all() and (r.accuracy <= r.upper + 1e-9).all())
    ([0.0, 0.25, 0.5, 0.75, 1.0], True)
    """
    if _out_of_memory(logits) or n_boot == 0:
        return summarize(logits, labels, temperature=temperature, classwise=False).smooth_reliability(n_points)
    stats = row_stats(logits, labels, temperature)
    main = _smooth_curve(_grid_of(stats.confidence, stats.correct), stats.labels.size, n_points)
    gen = np.random.default_rng(rng)
    n = stats.labels.size
    curves = np.empty((int(n_boot), main.mesh.size))
    for b in range(int(n_boot)):
        idx = gen.integers(0, n, n)
        curves[b] = _smooth_curve(_grid_of(stats.confidence[idx], stats.correct[idx]), n, n_points, main.sigma).accuracy
    tail = (1.0 - level) / 2
    lower, upper = np.quantile(curves, [tail, 1.0 - tail], axis=0)
    return SmoothReliability(main.mesh, main.accuracy, main.density, main.sigma, main.smooth_ece, lower, upper, float(level), n)


def classwise_ece(logits, labels=None, n_bins: int = 15, *, temperature: float = 1.0) -> float:
    """Classwise ECE (Kull et al. 2019): for every class ``c`` the ECE of ``p_c`` against "the label is ``c``",
    in ``n_bins`` equal-width bins ``(lo, hi]``, averaged over the classes.

    ``(1/C) sum_c sum_b (|B_cb| / N) |freq_cb(y = c) - mean_cb(p_c)|``. One pass (see :func:`summarize`).

    >>> round(classwise_ece([[0.0, 0.0], [0.0, 0.0]], [0, 1], n_bins=2), 6)   # p = 0.5 for both, each right half the time
    0.0
    """
    return summarize(logits, labels, temperature=temperature, n_bins=n_bins).classwise_ece()


def debiased_ece(logits, labels=None, n_bins: int = 15, *, strategy: str = "uniform", temperature: float = 1.0) -> float:
    """The debiased l2 calibration error of Kumar, Liang & Ma 2019 ("Verified Uncertainty Calibration").

    The plug-in squared error per bin, ``(acc_b - conf_b)^2``, is biased up by
    the sampling noise of ``acc_b``; each bin subtracts its estimate
    ``acc_b (1 - acc_b) / (n_b - 1)``, then ``sqrt(max(0, sum_b (n_b / N)
    (...)))``, as ``unbiased_l2_ce`` in their ``calibration`` package (a bin
    of fewer than two rows adds 0). Comparable to ``norm="l2"`` of
    :func:`expected_calibration_error`, without its upward bias on small sets.
    ``strategy="quantile"`` (their default, equal-mass bins) needs the set in memory.

    >>> round(debiased_ece([[0.0, 0.0]] * 4, [0, 0, 1, 1], n_bins=1), 6)
    0.0
    """
    if strategy == "uniform":
        return summarize(logits, labels, temperature=temperature, n_bins=n_bins, classwise=False).debiased_ece()
    s = row_stats(logits, labels, temperature)
    b = bins_from_confidence(s.confidence, s.correct, n_bins, strategy)
    return _debiased(b.count, np.nan_to_num(b.accuracy * b.count), np.nan_to_num(b.confidence * b.count), s.labels.size)


def brier_decomposition(logits, labels=None, n_bins: int = 15, *, temperature: float = 1.0) -> BrierDecomposition:
    """Reliability, resolution and uncertainty of the Brier score (Murphy 1973), and the within-bin terms.

    One pass (see :func:`summarize`). torchmetrics has no such function yet (its issue 2196).

    >>> d = brier_decomposition([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 3.0]], [0, 1, 1, 1], n_bins=5)
    >>> abs(d.reliability - d.resolution + d.uncertainty + d.within_variance - d.within_covariance - d.brier) < 1e-12
    True
    """
    return summarize(logits, labels, temperature=temperature, n_bins=n_bins).brier_decomposition()


def risk_coverage(logits, labels=None, *, temperature: float = 1.0) -> RiskCoverage:
    """The risk-coverage curve of selective prediction and its area (AURC), lower is better.

    Rows are answered from the most confident down; at coverage ``k / N`` the
    risk is the error rate among the ``k`` answered. AURC is the mean risk
    over ``k = 1..N``; equal confidences count as taken in random order (the
    expected error count, so ties cannot flatter the ranking). A set out of
    memory (see :func:`summarize`) is ranked by confidence rounded to 1/4096.

    >>> rc = risk_coverage([[3.0, 0.0], [2.0, 0.0], [1.0, 0.0]], [0, 1, 0])
    >>> rc.risk.round(3).tolist(), round(rc.aurc, 4)     # right, wrong, right: (0/1 + 1/2 + 1/3) / 3
    ([0.0, 0.5, 0.333], 0.2778)
    """
    if _out_of_memory(logits):
        return summarize(logits, labels, temperature=temperature, classwise=False).risk_coverage()
    s = row_stats(logits, labels, temperature)
    return _risk_of_rows(s.confidence, s.correct)
