"""Calibration of a whole evaluation set: are the model's probabilities honest?

Conventions follow Guo et al. 2017, "On Calibration of Modern Neural
Networks": the confidence of a prediction is its largest softmax
probability; confidences fall into equal-width bins ``(lo, hi]`` (15 by
default) or equal-mass bins (``strategy="quantile"``); the expected
calibration error is ``ECE = sum_B (|B| / N) |accuracy(B) - confidence(B)|``.
Temperature scaling divides every logit by one ``T > 0`` chosen to minimise
the negative log-likelihood.

Logits are ``(N, C)``, labels ``(N,)`` integers in ``[0, C)``. The matrix is
read in cache-sized blocks of rows, spread over a thread pool (numpy releases
the GIL), and softmax is never stored: the confidence of a row is
``1 / sum_j exp(z_j - max z)``. Apart from per-row vectors, at most one block
of temporaries per thread is alive, so memory stays near one copy of the input.

Beyond bins: the smooth ECE (Błasiok & Nakkiran 2023) and its reliability
curve, classwise ECE (Kull et al. 2019), the debiased l2 error (Kumar et al.
2019), the Brier decomposition (Murphy 1973), risk-coverage (Geifman et al.
2019) and bootstrap intervals of any of them. All are functions of sums over
rows (:class:`Summary`), so sets larger than memory are read in chunks: a
memory-mapped ``.npy``, a folder of shards (:func:`open_shards`) or a dask
array, in one pass (the temperature fit: one pass per Newton step).
Recalibration maps (temperature, vector, matrix, Dirichlet, histogram binning,
isotonic) are fitted with scipy's optimisers and compared on held-out rows by
:func:`compare_maps`.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import mmap
import operator
import os
import threading
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from logitsviz import _parallel, inputs, numerics
from logitsviz.errors import InputError, Where, reject_nan_posinf

__all__ = [
    "T_MIN",
    "T_MAX",
    "Bins",
    "RowStats",
    "row_stats",
    "reliability_bins",
    "bins_from_confidence",
    "calibration_error",
    "expected_calibration_error",
    "fit_temperature",
    "nll",
    "brier",
    "accuracy",
    "per_class_accuracy",
    "nll_curve",
    "METRICS",
    "validate",
    "Report",
    "report",
    "most_confident_mistakes",
    # beyond bins, out of memory, recalibration
    "GRID",
    "MORE_METRICS",
    "Summary",
    "summarize",
    "smooth_ece",
    "SmoothReliability",
    "smooth_reliability",
    "classwise_ece",
    "debiased_ece",
    "BrierDecomposition",
    "brier_decomposition",
    "RiskCoverage",
    "risk_coverage",
    "Interval",
    "bootstrap",
    "Shards",
    "open_shards",
    "MAPS",
    "REG_GRID",
    "MAX_MATRIX_CLASSES",
    "Recalibration",
    "fit_map",
    "MapResult",
    "MapComparison",
    "compare_maps",
]

T_MIN, T_MAX = 0.01, 100.0  # the temperatures fit_temperature searches


def _check(logits: ArrayLike, labels: ArrayLike, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Validate and return ``(logits as float32/float64 (N, C), labels as int64 (N,))`` without copying floats.

    ``offset``: the first row's place in the whole set, for messages about a chunk of it.
    """
    try:
        return _check_rows(logits, labels, offset)
    except InputError as err:
        if offset and isinstance(err.params.get("row"), int):  # a label out of range: its row in the whole set
            raise InputError(err.key, **{**err.params, "row": err.params["row"] + offset}) from None
        raise


def _check_rows(logits: ArrayLike, labels: ArrayLike, offset: int) -> tuple[np.ndarray, np.ndarray]:
    z = np.asarray(logits)
    if z.dtype.kind != "f" or z.dtype == np.float16:
        z = z.astype(np.float32 if z.dtype == np.float16 else np.float64)
    if z.ndim != 2 or z.shape[0] == 0 or z.shape[1] == 0:
        raise InputError("calib.shape", shape=z.shape)
    y = _one_hot_to_index(np.asarray(labels), z.shape)
    if y.ndim == 2 and 1 in y.shape:
        y = y.ravel()
    if y.ndim != 1 or y.shape[0] != z.shape[0]:
        raise InputError("calib.labels_shape", n=z.shape[0], shape=y.shape)
    y = numerics.class_indices(y, z.shape[1], errors="calib.labels")
    if not np.isfinite(z).all():  # one quick pass; the slower search for the culprit only when there is one
        reject_nan_posinf(z, lambda row, col: Where("row_col", row=row + 1 + offset, col=col + 1))
        if np.all(z == -np.inf, axis=1).any():
            raise InputError("input.all_masked")
    return (z if z.flags.c_contiguous else np.ascontiguousarray(z)), y


def validate(logits: ArrayLike, labels: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """An evaluation set checked and normalised: ``(logits (N, C) float32/float64, labels (N,) int64)``.

    Labels may be class indices (whole numbers, also as floats) or one-hot
    rows. Raises :class:`~logitsviz.InputError` naming what is wrong.

    >>> validate([[1.0, 2.0], [3.0, 0.0]], [[0, 1], [1, 0]])[1].tolist()
    [1, 0]
    """
    return _check(logits, labels)


def _one_hot_to_index(y: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Labels given one-hot, ``(N, C)`` rows of zeros with a single 1, as class indices; anything else unchanged.

    >>> _one_hot_to_index(np.array([[0, 1, 0], [1, 0, 0]]), (2, 3)).tolist()
    [1, 0]
    """
    if y.ndim != 2 or y.shape != shape or shape[1] < 2:
        return y
    if not (np.isin(y, (0, 1)).all() and (y.sum(axis=1) == 1).all()):
        raise InputError("calib.labels_not_one_hot", n=shape[0], c=shape[1])
    return np.argmax(y, axis=1)


def _map_blocks(z: np.ndarray, work: Callable[[slice], None]) -> None:
    """Run ``work(rows)`` over cache-sized blocks of rows of ``z`` (see :mod:`logitsviz._parallel`)."""
    _parallel.map_rows(z.shape[0], z.shape[1] * z.itemsize, work)


# ---------------------------------------------------------------- one pass ----


@dataclass(frozen=True)
class RowStats:
    """Per-row facts from one pass over the logits at temperature ``temperature``."""

    temperature: float
    confidence: np.ndarray  # max softmax probability, float64 (N,)
    prediction: np.ndarray  # argmax, int64 (N,)
    correct: np.ndarray  # prediction == label, bool (N,)
    nll: np.ndarray  # -log softmax(z / T)[label], float64 (N,)
    brier: np.ndarray  # sum_c (p_c - onehot_c)^2, float64 (N,)
    labels: np.ndarray


def row_stats(logits: ArrayLike, labels: ArrayLike, temperature: float = 1.0) -> RowStats:
    """Confidence, prediction, correctness, NLL and Brier score of every row, in one pass.

    Examples
    --------
    >>> s = row_stats([[2.0, 1.0, 0.1], [0.0, 3.0, 0.0]], [0, 2])
    >>> s.confidence.round(3), s.correct, s.nll.round(3)
    (array([0.659, 0.909]), array([ True, False]), array([0.417, 3.095]))
    """
    z, y = _check(logits, labels)
    return _row_pass(z, y, temperature)


def _row_pass(z: np.ndarray, y: np.ndarray, temperature: float,
              classwise: Callable[[np.ndarray, np.ndarray, np.ndarray], None] | None = None) -> RowStats:
    """:func:`row_stats` of checked arrays; ``classwise(e, row_sums, labels)`` also sees every block's exponentials."""
    t = float(temperature)
    if not (math.isfinite(t) and t > 0):
        raise InputError("args.temperature", value=temperature)
    n = z.shape[0]
    beta = z.dtype.type(1.0 / t)
    conf = np.empty(n)
    pred = np.empty(n, dtype=np.int64)
    nll_rows = np.empty(n)
    brier_rows = np.empty(n)
    z_true = z[np.arange(n), y].astype(np.float64)

    def work(rows: slice) -> None:
        am, mx, e, s0 = _exp_block(z[rows], beta)
        s_sq = np.einsum("ij,ij->i", e, e, dtype=np.float64)
        pred[rows] = am
        conf[rows] = 1.0 / s0  # p_max = exp(0) / sum
        z_shift = (z_true[rows] - mx.astype(np.float64)) * float(beta)
        nll_rows[rows] = np.log(s0) - z_shift
        p_true = np.exp(z_shift) / s0
        brier_rows[rows] = s_sq / (s0 * s0) - 2.0 * p_true + 1.0
        if classwise is not None:
            classwise(e, s0, y[rows])

    _map_blocks(z, work)
    return RowStats(t, conf, pred, pred == y, nll_rows, brier_rows, y)


def _exp_block(block: np.ndarray, beta) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(argmax, max, exp(beta * (z - max)), row sums in float64)`` of a block of rows: softmax without the division."""
    am = np.argmax(block, axis=1)
    mx = np.take_along_axis(block, am[:, None], axis=1)
    with np.errstate(over="ignore", invalid="ignore"):  # a gap wider than the float range is -inf: its class gets 0
        e = block - mx  # step 1: shift by the max (<= 0)
        if beta != 1:
            e *= beta
        np.exp(e, out=e)  # step 2: exponentiate; the max becomes exactly 1
    return am, mx[:, 0], e, e.sum(axis=1, dtype=np.float64)


# ------------------------------------------------------------------- bins ----


@dataclass(frozen=True)
class Bins:
    """A reliability diagram: per bin its edges, size, accuracy and mean confidence."""

    edges: np.ndarray  # (n_bins + 1,)
    count: np.ndarray  # (n_bins,)
    accuracy: np.ndarray  # NaN for an empty bin
    confidence: np.ndarray  # NaN for an empty bin

    @property
    def gap(self) -> np.ndarray:
        """Accuracy minus confidence: negative where the model is over-confident."""
        return self.accuracy - self.confidence

    @property
    def weight(self) -> np.ndarray:
        return self.count / max(1, int(self.count.sum()))


def bins_from_confidence(confidence: np.ndarray, correct: np.ndarray, n_bins: int = 15, strategy: str = "uniform") -> Bins:
    """Bins from per-row confidences and correctness (as in :class:`RowStats`), without another pass over the logits."""
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise InputError("calib.n_bins", value=n_bins)
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    elif strategy == "quantile":
        edges = np.quantile(confidence, np.linspace(0.0, 1.0, n_bins + 1))
        edges[0], edges[-1] = 0.0, 1.0
    else:
        raise InputError("calib.strategy", value=strategy)
    count, hits, conf_sum = _bin_sums(_edge_index(edges, confidence), confidence, correct, n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        return Bins(edges, count.astype(np.int64), hits / count, conf_sum / count)


def _edge_index(edges: np.ndarray, confidence: np.ndarray) -> np.ndarray:
    """The bin of each confidence; bins are (lo, hi]: a confidence exactly on an edge belongs to the bin below it."""
    return np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, edges.size - 2)


def _bin_sums(index: np.ndarray, confidence: np.ndarray, correct: np.ndarray, n_bins: int) -> np.ndarray:
    """(3, n_bins): per bin, its rows, how many are right and their summed confidence."""
    ok = correct.astype(np.float64)
    return np.stack([np.bincount(index, minlength=n_bins), np.bincount(index, ok, n_bins),
                     np.bincount(index, confidence, n_bins)]).astype(np.float64)


def reliability_bins(logits: ArrayLike, labels: ArrayLike, n_bins: int = 15, strategy: str = "uniform", *,
                     temperature: float = 1.0) -> Bins:
    """The reliability diagram's bins: accuracy and mean confidence per confidence bin.

    Parameters
    ----------
    logits : array_like, shape (N, C)
    labels : array_like of int, shape (N,)
    n_bins : int, default 15
    strategy : {"uniform", "quantile"}
        Equal-width bins ``(lo, hi]``, or equal-mass bins from the
        confidences' quantiles.
    temperature : float, default 1.0
        Evaluate ``softmax(logits / T)``.

    Examples
    --------
    >>> b = reliability_bins([[2.0, 0.0], [0.0, 2.0], [3.0, 0.0]], [0, 0, 0], n_bins=2)
    >>> b.count, b.accuracy.round(2)
    (array([0, 3]), array([ nan, 0.67]))
    """
    s = row_stats(logits, labels, temperature)
    return bins_from_confidence(s.confidence, s.correct, n_bins, strategy)


def calibration_error(bins: Bins, norm: str = "l1") -> float:
    """ECE (``"l1"``), RMS calibration error (``"l2"``) or MCE (``"max"``) of already computed bins."""
    filled = bins.count > 0
    gap = np.abs(bins.gap[filled])
    w = bins.weight[filled]
    if norm == "l1":
        return float(np.sum(w * gap))
    if norm == "l2":
        return float(np.sqrt(np.sum(w * gap * gap)))
    if norm == "max":
        return float(np.max(gap)) if gap.size else 0.0
    raise InputError("calib.norm", value=norm)


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


def per_class_accuracy(logits: ArrayLike, labels: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """``(count, accuracy)`` per true class: how often each class is recognised (its recall).

    >>> per_class_accuracy([[2.0, 1.0], [0.0, 1.0], [3.0, 0.0]], [0, 0, 1])
    (array([2, 1]), array([0.5, 0. ]))
    """
    z, y = _check(logits, labels)
    correct = np.argmax(z, axis=1) == y
    count = np.bincount(y, minlength=z.shape[1])
    hits = np.bincount(y, weights=correct.astype(np.float64), minlength=z.shape[1])
    with np.errstate(invalid="ignore", divide="ignore"):
        return count, hits / count


# ----------------------------------------------------------------- report ----

METRICS = ("accuracy", "confidence", "nll", "brier", "ece", "mce", "rmsce")


@dataclass(frozen=True)
class Report:
    """Every number the Calibration page and ``logitsviz calibrate`` show for one temperature."""

    temperature: float
    n_bins: int
    strategy: str
    rows: int
    classes: int
    stats: RowStats
    bins: Bins
    accuracy: float
    confidence: float  # mean top-label confidence
    nll: float
    brier: float
    ece: float
    mce: float
    mce_count: int  # examples in the bin with the largest gap: an MCE from a handful of examples is noise
    rmsce: float
    histogram: tuple[np.ndarray, np.ndarray, np.ndarray]  # (edges, right, wrong): confidences of right and wrong predictions
    class_count: np.ndarray  # examples per true class
    class_accuracy: np.ndarray  # recall per true class (NaN for a class with no example)

    @property
    def overconfidence(self) -> float:
        """Mean confidence minus accuracy: positive when the model claims more than it gets right."""
        return self.confidence - self.accuracy

    def metrics(self) -> dict[str, float]:
        """The headline numbers by name (:data:`METRICS`), for JSON and tables."""
        return {name: getattr(self, name) for name in METRICS}


def report(logits: ArrayLike, labels: ArrayLike, *, temperature: float = 1.0, n_bins: int = 15,
           strategy: str = "uniform") -> Report:
    """Accuracy, confidence, NLL, Brier, ECE, MCE, RMS calibration error and the diagrams' data, in one pass.

    Examples
    --------
    >>> r = report([[2.0, 0.0], [0.0, 2.0], [3.0, 0.0]], [0, 0, 0], n_bins=1)
    >>> round(r.ece, 4), round(r.accuracy, 4), r.class_count.tolist()
    (0.2381, 0.6667, [3, 0])
    """
    s = row_stats(logits, labels, temperature)
    bins = bins_from_confidence(s.confidence, s.correct, n_bins, strategy)
    edges = np.linspace(0.0, 1.0, 21)
    n_classes = np.asarray(logits).shape[1]
    count = np.bincount(s.labels, minlength=n_classes)
    hits = np.bincount(s.labels, weights=s.correct.astype(np.float64), minlength=n_classes)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # huge logits: an honest inf NLL; empty classes: NaN
        means = float(np.mean(s.nll)), float(np.mean(s.brier))
        class_accuracy = hits / count
    return Report(
        s.temperature, int(n_bins), strategy, int(s.labels.size), int(n_classes), s, bins,
        float(np.mean(s.correct)), float(np.mean(s.confidence)), *means,
        calibration_error(bins, "l1"), calibration_error(bins, "max"), _largest_gap_count(bins), calibration_error(bins, "l2"),
        (edges, np.histogram(s.confidence[s.correct], edges)[0], np.histogram(s.confidence[~s.correct], edges)[0]),
        count, class_accuracy,
    )


def _largest_gap_count(bins: Bins) -> int:
    filled = bins.count > 0
    if not filled.any():
        return 0
    gaps = np.where(filled, np.abs(np.nan_to_num(bins.gap)), -1.0)
    return int(bins.count[int(np.argmax(gaps))])


def most_confident_mistakes(stats: RowStats, k: int = 10) -> np.ndarray:
    """Rows predicted wrongly, most confident first (ties: lower row first), at most ``k``.

    >>> s = row_stats([[3.0, 0.0], [0.0, 1.0], [0.0, 4.0]], [1, 0, 1])
    >>> most_confident_mistakes(s).tolist()
    [0, 1]
    """
    wrong = np.flatnonzero(~stats.correct)
    return wrong[np.argsort(-stats.confidence[wrong], kind="stable")][:k]


# ------------------------------------------------------- temperature fitting ----


def _nll_sums(z: np.ndarray, mx: np.ndarray, z_true: np.ndarray, beta: float) -> np.ndarray:
    """``[rows, sum NLL, sum dNLL/dbeta, sum d2NLL/dbeta2]`` of softmax(beta * z), in one pass.

    With d = z - max z and weights e = exp(beta * d), per row:
    NLL = beta * (max - z_y) + log sum e, its derivative E[d] - (z_y - max)
    and its second derivative Var[d] >= 0 (the mean of these over rows is the
    convex curve :func:`fit_temperature` minimises).
    """
    n = z.shape[0]
    s0 = np.empty(n)
    s1 = np.empty(n)
    s2 = np.empty(n)
    b = z.dtype.type(beta)

    def work(rows: slice) -> None:
        with np.errstate(over="ignore"):  # a gap wider than the float range: -inf, clipped next like a masked class
            d = z[rows] - mx[rows, None]
        np.maximum(d, z.dtype.type(-1e30), out=d)  # masked classes: e = 0 and e * d = 0, not NaN
        e = d * b
        np.exp(e, out=e)
        s0[rows] = e.sum(axis=1, dtype=np.float64)
        e *= d
        s1[rows] = e.sum(axis=1, dtype=np.float64)
        s2[rows] = np.einsum("ij,ij->i", e, d, dtype=np.float64)

    _map_blocks(z, work)
    # logits near the float64 limit can overflow these sums: inf is then the honest answer
    with np.errstate(over="ignore", invalid="ignore"):
        mean_d = s1 / s0
        true_d = z_true - mx.astype(np.float64)
        return np.array([n, np.sum(np.log(s0) - beta * true_d), np.sum(mean_d - true_d), np.sum(s2 / s0 - mean_d * mean_d)])


def _prepared(z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's max and true-class logit, the fixed inputs of :func:`_nll_sums`."""
    mx = np.max(z, axis=1)
    z_true = z[np.arange(z.shape[0]), y].astype(np.float64)
    if np.any(z_true == -np.inf):
        raise InputError("calib.masked_true")
    return mx, z_true


def _chunk_nll_sums(z: np.ndarray, y: np.ndarray, offset: int, beta: float) -> np.ndarray:
    z, y = _check(z, y, offset)
    return _nll_sums(z, *_prepared(z, y), beta)


def _nll_curve_fn(logits, labels, progress=None) -> Callable[[float], tuple[float, float, float]]:
    """``beta -> (NLL, dNLL/dbeta, d2NLL/dbeta2)`` of the whole set: one pass per call over data out of memory;
    in memory, the checks and row maxima are done once."""
    if _out_of_memory(logits):
        def at(beta: float) -> tuple[float, float, float]:
            sums = _reduce(logits, labels, lambda z, y, offset: _chunk_nll_sums(z, y, offset, beta), progress)
            return sums[1] / sums[0], sums[2] / sums[0], sums[3] / sums[0]
        return at
    z, y = _check(logits, labels)
    mx, z_true = _prepared(z, y)

    def in_memory(beta: float) -> tuple[float, float, float]:
        sums = _nll_sums(z, mx, z_true, beta)
        return sums[1] / sums[0], sums[2] / sums[0], sums[3] / sums[0]
    return in_memory


def fit_temperature(logits, labels=None, *, progress: Callable[[int, int], None] | None = None) -> float:
    """The temperature ``T`` that minimises the NLL of ``softmax(logits / T)``.

    Returns
    -------
    float
        ``T`` in ``[T_MIN, T_MAX]`` = [0.01, 100]; a bound when the optimum
        lies beyond it (all predictions right and ever more confident as
        T → 0, or all wrong), 1.0 when the NLL does not depend on T (one
        class, or all logits equal).

    Notes
    -----
    In β = 1/T the NLL is convex: its second derivative is the mean
    variance of the logits under the softmax. Newton steps in β from β = 1,
    kept inside a shrinking bracket around the root of the first derivative
    (a search bound is looked at only when a step heads past it), stop when
    the step is below 1e-10 relative (1e-6 for float32 logits, whose β is
    float32; not after a fixed count). Each step is
    one pass over the logits, so an evaluation set out of memory (anything
    :func:`summarize` reads) takes typically 4 to 7 streaming passes.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(0, 3, (4000, 5))
    >>> y = np.array([rng.choice(5, p=p) for p in np.exp(z / 2) / np.exp(z / 2).sum(1, keepdims=True)])
    >>> abs(fit_temperature(z, y) - 2.0) < 0.15   # labels drawn at T = 2
    True
    """
    dtype = logits.dtype if hasattr(logits, "dtype") else np.asarray(logits).dtype
    return _fit_beta(_nll_curve_fn(logits, labels, progress), 1e-6 if dtype == np.float32 else 1e-10)


def _fit_beta(at: Callable[[float], tuple[float, float, float]], tol: float = 1e-10) -> float:
    """Newton in beta to a relative step of ``tol`` (float32 logits: 1e-6, as fine as their beta can be)."""
    lo, hi = 1.0 / T_MAX, 1.0 / T_MIN
    beta = 1.0
    _, first, second = at(beta)
    if not second > 0 and abs(first) <= 1e-12:  # the NLL does not depend on T
        return 1.0
    looked: set[float] = set()

    def past_bound(end: float) -> float | None:
        """T_MIN or T_MAX when the optimum lies beyond that search bound (looked at once, one pass)."""
        if end not in (1.0 / T_MIN, 1.0 / T_MAX) or end in looked:
            return None
        looked.add(end)
        return _beyond(end, at(end)[1])

    for _ in range(200):  # a guard against a pathological loop, never the stopping rule
        if first > 0:
            hi = beta
        else:
            lo = beta
        new = _newton(beta, first, second, lo, hi)
        if not (lo < new < hi):  # Newton left the bracket: is the optimum past a search bound? else bisect
            bound = past_bound(hi if new >= hi else lo)
            if bound is not None:
                return bound
            new = 0.5 * (lo + hi)
        if abs(new - beta) <= tol * beta or hi - lo <= 1e-12 * hi:
            beta = new
            break
        beta = new
        _, first, second = at(beta)
    # the steps can also stall where exp underflows and the curve goes flat: then the bound it heads for decides
    bound = past_bound(1.0 / T_MIN if first < 0 else 1.0 / T_MAX) if first != 0 and not second > 1e-9 else None
    return bound if bound is not None else float(min(max(1.0 / beta, T_MIN), T_MAX))


def _newton(beta: float, first: float, second: float, lo: float, hi: float) -> float:
    """The Newton step's target; with no curvature, the end of the bracket the slope points to."""
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # a tiny curvature: a huge step, then bisection
        return beta - first / second if second > 0 else (hi if first < 0 else lo)


def _beyond(end: float, slope: float) -> float | None:
    if end == 1.0 / T_MIN and slope <= 0:  # still falling at the coldest: as sharp as allowed
        return T_MIN
    if end == 1.0 / T_MAX and slope >= 0:  # rising from the hottest on: as flat as allowed
        return T_MAX
    return None


def nll_curve(logits: ArrayLike, labels: ArrayLike, temperatures: ArrayLike) -> np.ndarray:
    """NLL at each temperature: the curve whose minimum :func:`fit_temperature` finds.

    >>> nll_curve([[2.0, 1.0, 0.1]], [0], [1.0]).round(4)
    array([0.417])
    """
    at = _nll_curve_fn(logits, labels)
    return np.array([at(1.0 / float(t))[0] for t in np.asarray(temperatures, dtype=float)])


# ============================================================ beyond bins ====
# Every estimator below is a function of sums over rows, so one pass over the rows, in any number of chunks, on
# any number of machines, gives the same answer: :class:`Summary` holds those sums and adds up with ``+``.

GRID = 4097  # nodes i / 4096 on [0, 1]: confidences are spread over them for the smoothed metrics and risk-coverage
SMOOTH_MIN_SIGMA = 1e-3  # the smallest kernel width the smooth ECE considers (relplot's eps)
CHUNK_BYTES = 64 << 20  # rows read at a time from a file or a memory map


def _bin_index(confidence: np.ndarray, n_bins: int) -> np.ndarray:
    """Equal-width ``(lo, hi]`` bin of each confidence, as :func:`bins_from_confidence` assigns them."""
    return _edge_index(np.linspace(0.0, 1.0, n_bins + 1), confidence)


def _spread(values: np.ndarray, weights: list[np.ndarray], nodes: int = GRID) -> np.ndarray:
    """Linear binning: each value's weight split between its two neighbouring grid nodes (relplot's
    ``smooth_round_to_grid``), one row of the result per weight."""
    pos = np.clip(values, 0.0, 1.0) * (nodes - 1)
    left = np.minimum(pos.astype(np.int64), nodes - 2)
    frac = pos - left
    out = np.empty((len(weights), nodes))
    for k, w in enumerate(weights):
        out[k] = np.bincount(left, weights=w * (1.0 - frac), minlength=nodes)
        out[k] += np.bincount(left + 1, weights=w * frac, minlength=nodes)
    return out


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
        """Every headline number by name: :data:`METRICS` and :data:`MORE_METRICS`."""
        out = {"accuracy": self.accuracy, "confidence": self.confidence, "nll": self.nll, "brier": self.brier,
               "ece": self.ece("l1"), "mce": self.ece("max"), "rmsce": self.ece("l2"), "smooth_ece": self.smooth_ece(),
               "debiased_ece": self.debiased_ece(), "aurc": self.risk_coverage().aurc}
        if self.classwise is not None:
            out["classwise_ece"] = self.classwise_ece()
        return out


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


# ----------------------------------------------------------- smooth ECE ----


def _reflected_smooth(values: np.ndarray, sigma: float) -> np.ndarray:
    """``sum_j values_j K(t_i, x_j)`` on the grid nodes, K the Gaussian kernel reflected at 0 and 1 (every image).

    The grid is extended to period 2 by mirroring (the reflected kernel is a
    Gaussian on that circle) and convolved by FFT with the Gaussian wrapped
    around the circle; the end nodes count twice, being their own mirror.
    """
    g = values.shape[-1]
    period = 2 * (g - 1)
    ext = np.concatenate([values, values[..., -2:0:-1]], axis=-1)
    ext[..., 0] *= 2.0
    ext[..., g - 1] *= 2.0
    return np.fft.irfft(np.fft.rfft(ext, axis=-1) * _kernel_fft(g, sigma), n=period, axis=-1)[..., :g]


@functools.lru_cache(maxsize=64)
def _kernel_fft(g: int, sigma: float) -> np.ndarray:
    """The Gaussian of width ``sigma`` wrapped around the circle of length 2, sampled at the grid step, transformed."""
    d = np.arange(2 * (g - 1)) * (1.0 / (g - 1))  # offsets in [0, 2)
    images = np.arange(-math.ceil(6 * sigma / 2) - 1, math.ceil(6 * sigma / 2) + 2)
    kernel = np.exp(-0.5 * ((d[:, None] + 2.0 * images[None, :]) / sigma) ** 2).sum(axis=1) / (math.sqrt(2 * math.pi) * sigma)
    return np.fft.rfft(kernel)


def _trapezoid(v: np.ndarray) -> float:
    return float(v.sum() - 0.5 * (v[0] + v[-1]))


def _smooth_ece_at(count: np.ndarray, residual: np.ndarray, sigma: float) -> float:
    """``smECE_sigma = integral |r_sigma(t)| delta_sigma(t) dt``: the kernel-smoothed residual (confidence minus
    correctness), weighted by the smoothed density of confidences: ``integral |sum_i K(t, f_i)(f_i - y_i)| dt / N``."""
    dens, resid = _reflected_smooth(np.stack([count, residual]), sigma)
    total = _trapezoid(dens)
    return _trapezoid(np.abs(resid)) / total if total > 0 else 0.0


def _smooth_ece_fixed_point(count: np.ndarray, residual: np.ndarray, rows: int) -> tuple[float, float]:
    """``(smECE, sigma*)``: the bandwidth where the smooth ECE equals the bandwidth (Błasiok & Nakkiran 2023).

    ``smECE_sigma - sigma`` falls as sigma grows (continuously), so its root is
    found by Brent's method to 1e-7 (relplot bisects to 2^-10); the width is
    never below :data:`SMOOTH_MIN_SIGMA`.
    """
    from scipy import optimize

    if rows == 0:
        return math.nan, math.nan
    gap = lambda sigma: _smooth_ece_at(count, residual, sigma) - sigma  # noqa: E731
    at_min = gap(SMOOTH_MIN_SIGMA)
    if at_min <= 0:
        return at_min + SMOOTH_MIN_SIGMA, SMOOTH_MIN_SIGMA
    sigma = optimize.brentq(gap, SMOOTH_MIN_SIGMA, 1.0, xtol=1e-7, rtol=1e-10)
    return _smooth_ece_at(count, residual, sigma), sigma


def _grid_of(confidence: np.ndarray, correct: np.ndarray) -> np.ndarray:
    c = correct.astype(np.float64)
    return _spread(confidence, [np.ones_like(confidence), c, confidence])


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


@dataclass(frozen=True)
class SmoothReliability:
    """The smoothed reliability diagram: ``E[correct | confidence = t]`` on a mesh, its band and the density of confidences."""

    mesh: np.ndarray
    accuracy: np.ndarray  # the smoothed curve at each mesh point
    density: np.ndarray  # of the confidences, integrates to 1
    sigma: float  # the kernel width (the smooth ECE's fixed point)
    smooth_ece: float
    lower: np.ndarray | None = None  # pointwise bootstrap band, None when not asked for or from a summary
    upper: np.ndarray | None = None
    level: float = 0.95
    rows: int = 0

    @property
    def support(self) -> np.ndarray:
        """About how many rows lie within one kernel width of each mesh point: where few do, the curve is a guess."""
        return self.density * self.rows * 2.0 * self.sigma


def _smooth_curve(grid: np.ndarray, rows: int, n_points: int, sigma: float | None = None) -> SmoothReliability:
    count, correct, conf = grid
    value = math.nan
    if sigma is None:
        value, sigma = _smooth_ece_fixed_point(count, conf - correct, rows)
    mesh = np.linspace(0.0, 1.0, int(n_points))
    nodes = np.linspace(0.0, 1.0, GRID)
    dens, resid = _reflected_smooth(np.stack([count, conf - correct]), sigma)
    with np.errstate(invalid="ignore", divide="ignore"):
        curve = nodes - np.where(dens > 1e-12 * max(rows, 1), resid / dens, 0.0)  # t + smoothed (y - f), as relplot centres it
    return SmoothReliability(mesh, np.interp(mesh, nodes, curve), np.interp(mesh, nodes, dens / max(_trapezoid(dens) / (GRID - 1), 1e-300)),
                             float(sigma), float(value), rows=int(rows))


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


# ------------------------------------------------ classwise, debiased, Brier ----


def _classwise_ece(cw: np.ndarray, rows: int) -> float:
    _count, p_sum, _, o_sum, _ = cw
    return float(np.sum(np.abs(o_sum - p_sum)) / (rows * cw.shape[1]))  # sum_b n_b |o_b - p_b| = sum_b |O_b - P_b|


def classwise_ece(logits, labels=None, n_bins: int = 15, *, temperature: float = 1.0) -> float:
    """Classwise ECE (Kull et al. 2019): for every class ``c`` the ECE of ``p_c`` against "the label is ``c``",
    in ``n_bins`` equal-width bins ``(lo, hi]``, averaged over the classes.

    ``(1/C) sum_c sum_b (|B_cb| / N) |freq_cb(y = c) - mean_cb(p_c)|``. One pass (see :func:`summarize`).

    >>> round(classwise_ece([[0.0, 0.0], [0.0, 0.0]], [0, 1], n_bins=2), 6)   # p = 0.5 for both, each right half the time
    0.0
    """
    return summarize(logits, labels, temperature=temperature, n_bins=n_bins).classwise_ece()


def _debiased(count: np.ndarray, hits: np.ndarray, conf: np.ndarray, rows: int) -> float:
    filled = count >= 2  # Kumar et al.'s code counts a bin of fewer than two as 0
    n = count[filled]
    acc, mean_conf = hits[filled] / n, conf[filled] / n
    square = np.sum(n / rows * ((acc - mean_conf) ** 2 - acc * (1.0 - acc) / (n - 1.0))) if rows else math.nan
    return float(math.sqrt(max(square, 0.0)))


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


@dataclass(frozen=True)
class BrierDecomposition:
    """Murphy's decomposition of the (multiclass) Brier score, per class over equal-width bins of ``p_c``, summed.

    ``reliability - resolution + uncertainty`` is exactly the Brier score of
    the binned forecasts (every ``p_c`` replaced by its bin's mean); the two
    within-bin terms (Stephenson et al. 2008) close the gap to the Brier score
    itself: ``brier = binned + within_variance - within_covariance``.
    """

    brier: float
    reliability: float  # sum_c,b (n/N) (mean p - frequency)^2: lower is better calibrated
    resolution: float  # sum_c,b (n/N) (frequency - base rate)^2: higher is sharper
    uncertainty: float  # sum_c base rate (1 - base rate): the data's, not the model's
    within_variance: float
    within_covariance: float

    @property
    def binned(self) -> float:
        return self.reliability - self.resolution + self.uncertainty


def _brier_parts(cw: np.ndarray, rows: int) -> BrierDecomposition:
    count, p_sum, p2_sum, o_sum, po_sum = cw
    with np.errstate(invalid="ignore", divide="ignore"):
        p_bar = np.where(count > 0, p_sum / count, 0.0)
        o_bar = np.where(count > 0, o_sum / count, 0.0)
    base = o_sum.sum(axis=1, keepdims=True) / rows
    rel = float(np.sum(count * (p_bar - o_bar) ** 2) / rows)
    res = float(np.sum(count * (o_bar - base) ** 2) / rows)
    unc = float(np.sum(base * (1.0 - base)))
    wbv = float(np.sum(p2_sum - count * p_bar**2) / rows)
    wbc = float(2.0 * np.sum(po_sum - count * p_bar * o_bar) / rows)
    # the Brier score from the same sums: sum_i sum_c (p - o)^2 = sum p^2 - 2 sum p o + sum o
    brier_score = float((p2_sum.sum() - 2.0 * po_sum.sum() + o_sum.sum()) / rows)
    return BrierDecomposition(brier_score, rel, res, unc, wbv, wbc)


def brier_decomposition(logits, labels=None, n_bins: int = 15, *, temperature: float = 1.0) -> BrierDecomposition:
    """Reliability, resolution and uncertainty of the Brier score (Murphy 1973), and the within-bin terms.

    One pass (see :func:`summarize`). torchmetrics has no such function yet (its issue 2196).

    >>> d = brier_decomposition([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 3.0]], [0, 1, 1, 1], n_bins=5)
    >>> abs(d.reliability - d.resolution + d.uncertainty + d.within_variance - d.within_covariance - d.brier) < 1e-12
    True
    """
    return summarize(logits, labels, temperature=temperature, n_bins=n_bins).brier_decomposition()


# --------------------------------------------------------- risk-coverage ----


@dataclass(frozen=True)
class RiskCoverage:
    """Selective prediction: answer only the most confident share (coverage) of rows; the error rate among them (risk)."""

    coverage: np.ndarray  # at each distinct confidence, most confident first
    risk: np.ndarray
    threshold: np.ndarray  # the confidence at which that coverage is reached
    aurc: float  # area under the risk-coverage curve (Geifman et al. 2019): mean risk over coverages k/N
    optimal_aurc: float  # the same for a ranking with every mistake last
    error_rate: float

    @property
    def excess_aurc(self) -> float:
        """E-AURC: the AURC above the best a ranking with this error rate can do."""
        return self.aurc - self.optimal_aurc


def _risk_from_groups(count: np.ndarray, errors: np.ndarray, threshold: np.ndarray) -> RiskCoverage:
    """Risk-coverage from rows grouped by confidence (most confident group first); a group's rows are taken in
    random order, so within it the error count grows linearly: the AURC does not depend on how ties are broken."""
    n = int(count.sum())
    if n == 0:
        return RiskCoverage(np.zeros(0), np.zeros(0), np.zeros(0), math.nan, math.nan, math.nan)
    ends = np.cumsum(count)
    err_ends = np.cumsum(errors)
    k = np.arange(1, n + 1)
    group = np.searchsorted(ends, k, side="left")  # the group the k-th answered row falls in
    before = np.concatenate([[0.0], ends[:-1]])[group]
    err_before = np.concatenate([[0.0], err_ends[:-1]])[group]
    err_k = err_before + (k - before) * (errors[group] / count[group])
    total_err = float(err_ends[-1])
    best = np.maximum(0.0, k - (n - total_err))  # every mistake after every right answer
    return RiskCoverage(ends / n, err_ends / ends, threshold, float(np.mean(err_k / k)), float(np.mean(best / k)), total_err / n)


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


def _risk_of_rows(confidence: np.ndarray, correct: np.ndarray) -> RiskCoverage:
    """Risk-coverage of rows grouped by their exact confidence, most confident first."""
    values, inverse = np.unique(-confidence, return_inverse=True)
    errors = np.bincount(inverse, weights=1.0 - correct.astype(np.float64))
    return _risk_from_groups(np.bincount(inverse).astype(np.float64), errors, -values)


# ------------------------------------------------------- out of memory ----


class Shards:
    """An evaluation set stored as a folder of shards, read one shard at a time (see :func:`open_shards`)."""

    def __init__(self, folder: str | os.PathLike) -> None:
        root = Path(folder)
        if not root.is_dir():
            raise InputError("calib.shards_missing", path=str(root))
        self.folder = root
        self.parts = _find_shards(root)  # (logits, labels file or None when inside an .npz)
        headers = [_shard_header(p) for p, _ in self.parts]
        shapes = [h[0] for h in headers]
        self.dtype = np.result_type(*[h[1] for h in headers])
        if len({s[1] for s in shapes}) != 1 or any(len(s) != 2 for s in shapes):
            raise InputError("calib.shards_classes", shapes=", ".join(str(s) for s in shapes[:5]))
        self.rows = sum(s[0] for s in shapes)
        self.classes = shapes[0][1]

    def __len__(self) -> int:
        return len(self.parts)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(logits, labels)`` of each shard in name order; an ``.npy`` shard as a read-only memory map."""
        for logits_path, labels_path in self.parts:
            if labels_path is None:
                with np.load(logits_path, allow_pickle=False) as npz:
                    yield npz["logits"], npz["labels"]
            else:
                yield np.load(logits_path, mmap_mode="r", allow_pickle=False), np.load(labels_path, allow_pickle=False)


def _find_shards(root: Path) -> list[tuple[Path, Path | None]]:
    parts: list[tuple[Path, Path | None]] = []
    for path in sorted(root.iterdir()):
        if path.suffix == ".npz":
            parts.append((path, None))
        elif path.suffix == ".npy" and not path.name.endswith(".labels.npy"):
            labels = path.with_name(path.stem + ".labels.npy")
            if not labels.is_file():
                raise InputError("calib.shard_labels", path=path.name, labels=labels.name)
            parts.append((path, labels))
    if not parts:
        raise InputError("calib.shards_empty", path=str(root))
    return parts


def _shard_header(path: Path) -> tuple[tuple[int, ...], np.dtype]:
    """A shard's logits shape and dtype from its header alone."""
    if path.suffix == ".npy":
        with open(path, "rb") as f:
            return inputs.npy_header(f)
    with zipfile.ZipFile(path) as zf:
        if not {"logits.npy", "labels.npy"} <= set(zf.namelist()):
            raise InputError("calib.shard_keys", path=path.name)
        with zf.open("logits.npy") as f:
            return inputs.npy_header(f)


def open_shards(folder: str | os.PathLike) -> Shards:
    """A folder of evaluation-set shards, for :func:`summarize`, :func:`fit_temperature` and every metric here.

    Each shard is an ``.npz`` with ``logits`` (rows, C) and ``labels`` (rows,),
    or a ``NAME.npy`` of logits beside ``NAME.labels.npy``; shards are taken in
    name order and must agree on C. Memory: one shard (an ``.npy`` shard is
    memory-mapped and read in chunks).
    """
    return Shards(folder)


def _is_dask(x) -> bool:
    return type(x).__module__.split(".")[0] == "dask"


def _out_of_memory(logits) -> bool:
    """Whether the logits are read in chunks: a memory map, a dask array or shards (not a plain array in memory)."""
    return isinstance(logits, (np.memmap, Shards)) or _is_dask(logits)


def _mapping(a: np.ndarray) -> mmap.mmap | None:
    base = a
    while base is not None and not isinstance(base, mmap.mmap):
        base = getattr(base, "base", None)
    return base


def _chunks(z: np.ndarray, y: np.ndarray, offset: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray, int]]:
    """``(rows of z, their labels, first row)`` at most :data:`CHUNK_BYTES` at a time; a memory map's pages are
    released (``MADV_DONTNEED``) once a chunk is done, so the process never holds more than one chunk of the file."""
    if z.ndim != 2 or z.shape[1] == 0:
        raise InputError("calib.shape", shape=z.shape)
    if np.shape(y)[0] != z.shape[0]:
        raise InputError("calib.labels_shape", n=z.shape[0], shape=np.shape(y))
    mapped = _mapping(z) if isinstance(z, np.memmap) else None
    start_address = np.frombuffer(mapped, np.uint8).__array_interface__["data"][0] if mapped is not None else 0
    step = max(1, CHUNK_BYTES // max(1, z.shape[1] * z.itemsize))
    for i in range(0, z.shape[0], step):
        part = z[i:i + step]
        yield np.asarray(part), np.asarray(y[i:i + step]), offset + i
        if mapped is not None and part.flags.c_contiguous:
            first = part.__array_interface__["data"][0] - start_address
            aligned = first - first % mmap.PAGESIZE
            mapped.madvise(mmap.MADV_DONTNEED, aligned, min(part.nbytes + first - aligned, len(mapped) - aligned))


def _reduce(logits, labels, work: Callable[[np.ndarray, np.ndarray, int], Any],
            progress: Callable[[int, int], None] | None = None):
    """``work(rows, labels, first_row)`` on every chunk of the set, added up with ``+``."""
    if _is_dask(logits):
        return _reduce_dask(logits, labels, work)
    if isinstance(logits, Shards):
        parts, total = iter(logits), logits.rows
    else:
        if labels is None:
            raise InputError("calib.no_labels")
        z = logits if isinstance(logits, np.memmap) else np.asarray(logits)
        if not isinstance(z, np.memmap):  # in memory: one chunk, the thread pool cuts it into blocks
            return work(z, labels, 0)
        parts, total = iter([(z, labels)]), z.shape[0]
    result, done = None, 0
    for z, y in parts:
        for rows, ys, first in _chunks(z, y, done):
            part = work(rows, ys, first)
            result = part if result is None else result + part
            if progress is not None:
                progress(first + rows.shape[0], total)
        done += z.shape[0]
    return result


def _reduce_dask(logits, labels, work):
    """One ``work`` per row block where the block lives, added up pairwise on the cluster: only sums travel."""
    import dask
    import dask.array as da

    z = logits.rechunk({1: -1})
    y = labels if _is_dask(labels) else da.from_array(np.asarray(labels))
    if y.shape[0] != z.shape[0]:
        raise InputError("calib.labels_shape", n=z.shape[0], shape=y.shape)
    y = y.rechunk((z.chunks[0],))
    firsts = np.concatenate([[0], np.cumsum(z.chunks[0])[:-1]])
    parts = [dask.delayed(work)(zb, yb, int(first)) for zb, yb, first in zip(z.to_delayed().ravel(), y.to_delayed().ravel(), firsts)]
    while len(parts) > 1:
        parts = [dask.delayed(operator.add)(parts[i], parts[i + 1]) if i + 1 < len(parts) else parts[i] for i in range(0, len(parts), 2)]
    return dask.compute(parts[0])[0]


# -------------------------------------------------------------- bootstrap ----


@dataclass(frozen=True)
class Interval:
    """A metric's value on the whole set and its bootstrap confidence interval."""

    estimate: float
    low: float
    high: float
    level: float
    resamples: int
    standard_error: float

    def __contains__(self, value: float) -> bool:
        return self.low <= value <= self.high


def _row_metrics(n_bins: int) -> dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], float]]:
    """Metrics computable from per-row confidence, correctness, NLL and Brier: resampled without touching the logits."""
    def binned(norm: str):
        return lambda conf, ok, _nll, _brier: calibration_error(bins_from_confidence(conf, ok, n_bins), norm)

    def debiased(conf, ok, _nll, _brier):
        return _debiased(*_bin_sums(_bin_index(conf, n_bins), conf, ok, n_bins), conf.size)

    def smooth(conf, ok, _nll, _brier):
        count, hits, conf_sum = _grid_of(conf, ok)
        return _smooth_ece_fixed_point(count, conf_sum - hits, conf.size)[0]

    def aurc(conf, ok, _nll, _brier):
        return _risk_of_rows(conf, ok).aurc

    return {
        "accuracy": lambda conf, ok, _nll, _brier: float(np.mean(ok)),
        "confidence": lambda conf, ok, _nll, _brier: float(np.mean(conf)),
        "nll": lambda conf, ok, nll_rows, _brier: float(np.mean(nll_rows)),
        "brier": lambda conf, ok, _nll, brier_rows: float(np.mean(brier_rows)),
        "ece": binned("l1"), "mce": binned("max"), "rmsce": binned("l2"),
        "smooth_ece": smooth,
        "debiased_ece": debiased, "aurc": aurc,
    }


def bootstrap(metric, logits: ArrayLike, labels: ArrayLike, n: int = 1000, rng=0, *, level: float = 0.95,
              method: str = "percentile", temperature: float = 1.0, n_bins: int = 15) -> Interval:
    """A bootstrap confidence interval of any metric of an evaluation set (rows resampled with replacement).

    Parameters
    ----------
    metric : str or callable
        A name (``"accuracy"``, ``"nll"``, ``"brier"``, ``"ece"``, ``"mce"``,
        ``"rmsce"``, ``"smooth_ece"``, ``"debiased_ece"``, ``"aurc"``, or one of
        this module's functions of those names): resampled from per-row values,
        one pass over the logits in all. Any other ``metric(logits, labels) ->
        float`` is called on resampled rows.
    n : int
        Resamples. ``rng``: a seed or ``np.random.Generator``.
    level, method :
        Passed to :func:`scipy.stats.bootstrap` (``"percentile"``, ``"basic"``
        or ``"BCa"``; BCa also computes the metric once per left-out row).

    Examples
    --------
    >>> z = np.random.default_rng(1).normal(0, 2, (500, 4)); y = np.argmax(z, axis=1) % 2
    >>> iv = bootstrap("accuracy", z, y, n=200)
    >>> iv.low < iv.estimate < iv.high, iv.level
    (True, 0.95)
    """
    from scipy import stats as scipy_stats

    name = metric if isinstance(metric, str) else _METRIC_FUNCTIONS.get(metric)
    if name is not None:
        table = _row_metrics(int(n_bins))
        if name not in table:
            raise InputError("calib.metric", value=name, names=", ".join(table))
        s = row_stats(logits, labels, temperature)
        fn, ok = table[name], s.correct.astype(np.float64)

        def statistic(idx: np.ndarray) -> float:
            return fn(s.confidence[idx], ok[idx], s.nll[idx], s.brier[idx])
    elif callable(metric):
        z, y = _check(logits, labels)

        def statistic(idx: np.ndarray) -> float:
            return float(metric(z[idx], y[idx]))
    else:
        raise InputError("calib.metric", value=repr(metric)[:60], names=", ".join(_row_metrics(1)))
    rows = np.asarray(labels).shape[0] if name is None else s.labels.size
    index = np.arange(rows)
    with warnings.catch_warnings(), np.errstate(over="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", scipy_stats.DegenerateDataWarning)  # every resample the same: a zero-width interval
        res = scipy_stats.bootstrap((index,), statistic, n_resamples=int(n), confidence_level=level, method=method,
                                    vectorized=False, batch=64, rng=np.random.default_rng(rng))
    ci = res.confidence_interval
    return Interval(statistic(index), float(ci.low), float(ci.high), float(level), int(n), float(res.standard_error))


_METRIC_FUNCTIONS = {accuracy: "accuracy", nll: "nll", brier: "brier", expected_calibration_error: "ece",
                     smooth_ece: "smooth_ece", debiased_ece: "debiased_ece"}


# ------------------------------------------------------ recalibration maps ----

MAPS = ("temperature", "vector", "matrix", "dirichlet", "histogram", "isotonic")
MAX_MATRIX_CLASSES = 100  # matrix and Dirichlet maps have C^2 + C parameters: beyond this, fitting them is not worth waiting for
TOP_MAX = 1.0 - 1e-7  # a top-label map never claims certainty: one mistake at p = 1 would make the NLL infinite


@dataclass(frozen=True)
class Recalibration:
    """A fitted recalibration map. ``apply(logits)`` gives calibrated log-probabilities (their softmax is themselves)."""

    kind: str
    params: dict[str, Any]

    def apply(self, logits: ArrayLike) -> np.ndarray:
        z = np.asarray(logits, dtype=np.float64)
        p = self.params
        if self.kind == "identity":
            return _log_softmax(z)
        if self.kind == "temperature":
            return _log_softmax(z / p["T"])
        if self.kind in ("vector", "matrix", "dirichlet"):
            return _log_softmax(_linear(_features(self.kind, z), p["W"], p["b"]))
        if self.kind == "histogram":
            conf = np.exp(np.max(_log_softmax(z), axis=1))
            values = p["values"][_bin_index(conf, p["values"].size)]
            return _top_label(z, np.where(np.isnan(values), conf, values))
        conf = np.exp(np.max(_log_softmax(z), axis=1))  # isotonic
        return _top_label(z, np.interp(conf, p["x"], p["y"]))

    __call__ = apply


def _log_softmax(z: np.ndarray) -> np.ndarray:
    return numerics.log_softmax(z, axis=-1)


def _features(kind: str, z: np.ndarray) -> np.ndarray:
    """What a linear map multiplies: the logits (vector, matrix scaling) or the log-probabilities (Dirichlet)."""
    return _log_softmax(z) if kind == "dirichlet" else z


def _linear(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (x * w if w.ndim == 1 else x @ w.T) + b


def _top_label(z: np.ndarray, new_conf: np.ndarray) -> np.ndarray:
    """Log-probabilities whose top class has confidence ``new_conf`` and whose other classes keep their proportions.

    The new confidence is kept just above what keeps the top class on top
    (``q / (1 - p + q)``, q the runner-up), so the prediction never changes,
    and at most :data:`TOP_MAX`.
    """
    logp = _log_softmax(z)
    top = np.argmax(logp, axis=1)
    rows = np.arange(z.shape[0])
    p_top = np.exp(logp[rows, top])
    rest = 1.0 - p_top
    runner = np.exp(np.max(np.where(np.arange(z.shape[1]) == top[:, None], -np.inf, logp), axis=1)) if z.shape[1] > 1 else np.zeros(len(z))
    with np.errstate(invalid="ignore", divide="ignore"):
        floor = np.where(rest > 0, runner / (rest + runner) * (1.0 + 1e-9), 0.0)  # strictly on top, after rounding too
        new = np.clip(np.maximum(new_conf, floor), 0.0, TOP_MAX if z.shape[1] > 1 else 1.0)
        scale = np.log1p(-new) - np.log(rest)  # the others share what is left, as before
        out = logp + np.where(rest > 0, scale, 0.0)[:, None]
        flat = rest <= 0  # the others had nothing (underflow): share the rest evenly
        if flat.any() and z.shape[1] > 1:
            out[flat] = np.log((1.0 - new[flat]) / (z.shape[1] - 1))[:, None]
    out[rows, top] = np.log(new)
    return out


def _linear_loss(theta: np.ndarray, x: np.ndarray, y: np.ndarray, kind: str, reg: float) -> tuple[float, np.ndarray]:
    """Mean NLL of ``softmax(x W^T + b)`` plus ODIR (Kull et al. 2019), and its gradient in ``theta = (W, b)``."""
    n, c = x.shape
    w, b = (theta[:c], theta[c:]) if kind == "vector" else (theta[:c * c].reshape(c, c), theta[c * c:])
    out = _linear(x, w, b)
    logp = _log_softmax(out)
    rows = np.arange(n)
    value = -float(np.mean(logp[rows, y]))
    g = np.exp(logp)
    g[rows, y] -= 1.0
    g /= n
    grad_b = g.sum(axis=0)
    if kind == "vector":
        return value, np.concatenate([(g * x).sum(axis=0), grad_b])
    off = w - np.diag(np.diag(w))
    value += reg * (float(np.sum(off * off)) / (c * (c - 1)) + float(b @ b) / c)
    grad_w = g.T @ x + 2.0 * reg * off / (c * (c - 1))
    return value, np.concatenate([grad_w.ravel(), grad_b + 2.0 * reg * b / c])


REG_GRID = (1e-2, 1e-1, 1.0, 10.0, 100.0, 1e3, 1e4)  # ODIR strengths cross-validation chooses from
CV_FOLDS = 3
CV_MAX_ROWS = 2000  # cross-validation looks at most at this many rows (a seeded sample): enough to rank strengths


def _minimise(kind: str, x: np.ndarray, y: np.ndarray, reg: float, start: np.ndarray | None = None, *, tight: bool = True):
    """L-BFGS-B from ``start`` (the identity map); ``tight=False``: scipy's default tolerances (enough to compare strengths)."""
    from scipy import optimize

    c = x.shape[1]
    if start is None:
        start = np.concatenate([np.ones(c) if kind == "vector" else np.eye(c).ravel(), np.zeros(c)])
    options = {"maxiter": 5000, "ftol": 1e-13, "gtol": 1e-9} if tight else {"maxiter": 200}
    return optimize.minimize(_linear_loss, start, args=(x, y, kind, reg), jac=True, method="L-BFGS-B", options=options)


def _cross_validated_reg(kind: str, x: np.ndarray, y: np.ndarray) -> float:
    """The ODIR strength of :data:`REG_GRID` with the lowest held-out NLL over :data:`CV_FOLDS` folds (as Kull et al.
    choose it); each fold walks the grid from strong to weak, starting from the previous solution."""
    if x.shape[0] > CV_MAX_ROWS:
        pick = np.sort(np.random.default_rng(0).choice(x.shape[0], CV_MAX_ROWS, replace=False))
        x, y = x[pick], y[pick]
    folds = np.arange(x.shape[0]) % CV_FOLDS
    loss = np.zeros(len(REG_GRID))
    for k in range(CV_FOLDS):
        fit, held = folds != k, folds == k
        theta = None
        for i, reg in reversed(list(enumerate(REG_GRID))):
            theta = _minimise(kind, x[fit], y[fit], reg, theta, tight=False).x
            loss[i] += _linear_loss(theta, x[held], y[held], kind, 0.0)[0]
    return REG_GRID[int(np.argmin(loss))]


def _fit_linear(kind: str, z: np.ndarray, y: np.ndarray, reg: float | None, max_classes: int) -> Recalibration:
    c = z.shape[1]
    if np.isinf(z).any():
        raise InputError("calib.map_masked", kind=kind)
    if kind != "vector" and c > max_classes:
        raise InputError("calib.map_too_many_classes", kind=kind, c=c, limit=max_classes)
    from threadpoolctl import threadpool_limits

    x = _features(kind, z)
    # the matrices are small: BLAS threads waking for each product made the fits 6x slower on 2 cores, not faster
    with threadpool_limits(limits=1, user_api="blas"):
        cv = kind != "vector" and reg is None and z.shape[0] >= 2 * CV_FOLDS
        if kind == "vector":
            reg = 0.0  # Guo et al.'s vector scaling: 2C parameters, no penalty
        elif reg is None:
            reg = _cross_validated_reg(kind, x, y) if cv else REG_GRID[-1]
        res = _minimise(kind, x, y, float(reg))
    theta = res.x
    w = theta[:c] if kind == "vector" else theta[:c * c].reshape(c, c)
    return Recalibration(kind, {"W": w, "b": theta[-c:], "reg": float(reg), "cv": cv, "loss": float(res.fun)})


def _fit_top_label(kind: str, z: np.ndarray, y: np.ndarray, n_bins: int) -> Recalibration:
    from scipy import optimize

    s = _row_pass(z, y, 1.0)
    conf, ok = s.confidence, s.correct.astype(np.float64)
    if kind == "histogram":  # Zadrozny & Elkan 2001: each bin's confidence becomes its accuracy (an empty bin: unchanged)
        index = _bin_index(conf, n_bins)
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.bincount(index, ok, n_bins) / np.bincount(index, minlength=n_bins)
        return Recalibration("histogram", {"values": values})
    # isotonic regression of correctness on confidence (ties pooled first), read between points linearly as scikit-learn does
    x, inverse = np.unique(conf, return_inverse=True)
    weight = np.bincount(inverse).astype(np.float64)
    fitted = optimize.isotonic_regression(np.bincount(inverse, ok) / weight, weights=weight, increasing=True).x
    return Recalibration("isotonic", {"x": x, "y": fitted})


def fit_map(kind: str, logits: ArrayLike, labels: ArrayLike, *, reg: float | None = None, n_bins: int = 15,
            max_classes: int = MAX_MATRIX_CLASSES) -> Recalibration:
    """Fit a recalibration map on an evaluation set (the calibration part of it).

    ``kind``:

    - ``"temperature"``: ``softmax(z / T)`` (Guo et al. 2017), :func:`fit_temperature`.
    - ``"vector"``: ``softmax(w * z + b)``, a scale and a bias per class (Guo et al. 2017).
    - ``"matrix"``: ``softmax(W z + b)`` with the off-diagonal and intercept
      regulariser ODIR of Kull et al. 2019, ``reg * (sum_{i != j} W_ij^2 /
      (C (C - 1)) + sum b^2 / C)``; ``reg=None`` picks it from :data:`REG_GRID`
      by 3-fold cross-validation of the NLL, as they do (on at most
      :data:`CV_MAX_ROWS` rows); ``params["cv"]`` says whether it did (too few
      rows to split take the grid's largest).
    - ``"dirichlet"``: ``softmax(W log p + b)`` on the log-probabilities,
      Dirichlet calibration (Kull et al. 2019), with the same ODIR.
    - ``"histogram"``: histogram binning of the top-label confidence
      (Zadrozny & Elkan 2001), ``n_bins`` equal-width bins.
    - ``"isotonic"``: isotonic regression of the top-label correctness on
      the confidence (Zadrozny & Elkan 2002), by :func:`scipy.optimize.isotonic_regression`.

    The linear maps minimise mean NLL (plus ODIR) with scipy's L-BFGS-B from
    the identity, with the exact gradient. The two top-label maps change only
    the top class's probability (the others keep their proportions, the
    prediction never changes, at most :data:`TOP_MAX`). Matrix and Dirichlet
    maps take at most ``max_classes`` classes; maps that mix
    classes do not take ``-inf`` logits.

    >>> z = np.array([[4.0, 0.0], [4.0, 0.0], [0.0, 4.0], [0.0, 4.0]]); y = np.array([0, 1, 1, 1])
    >>> fit_map("histogram", z, y, n_bins=2).params["values"].round(2).tolist()   # 0.98 claimed, 3 of 4 right
    [nan, 0.75]
    """
    z, y = _check(logits, labels)
    z = z.astype(np.float64)
    if kind == "temperature":
        return Recalibration("temperature", {"T": fit_temperature(z, y)})
    if kind in ("vector", "matrix", "dirichlet"):
        if z.shape[1] < 2:
            return Recalibration("identity", {})
        return _fit_linear(kind, z, y, None if reg is None else float(reg), int(max_classes))
    if kind in ("histogram", "isotonic"):
        return _fit_top_label(kind, z, y, int(n_bins))
    raise InputError("calib.map_kind", value=kind, names=", ".join(MAPS))


@dataclass(frozen=True)
class MapResult:
    """One recalibration map fitted on the calibration part and measured on the test part."""

    kind: str  # "none" for the logits as they are
    fitted: Recalibration | None
    metrics: dict[str, float]  # on the test part; empty when the map could not be fitted
    curve: SmoothReliability | None
    skipped: InputError | None = None  # why the map could not be fitted (too many classes, -inf logits)


@dataclass(frozen=True)
class MapComparison:
    calibration_rows: int
    test_rows: int
    seed: int
    results: tuple[MapResult, ...]

    def best(self, metric: str = "nll") -> str:
        """The map with the lowest ``metric`` on the test part."""
        scored = [(r.metrics[metric], r.kind) for r in self.results if r.metrics and math.isfinite(r.metrics[metric])]
        return min(scored)[1] if scored else "none"


def compare_maps(logits: ArrayLike, labels: ArrayLike, *, split: float = 0.5, rng: int = 0, n_bins: int = 15,
                 kinds: tuple[str, ...] = MAPS, reg: float | None = None, n_points: int = 200,
                 max_classes: int = MAX_MATRIX_CLASSES) -> MapComparison:
    """Split the set at random (``split`` of the rows to fit on, seed ``rng``), fit each map on that part and
    measure every metric (:meth:`Summary.metrics`) on the rest, with the logits as they are (``"none"``) first.

    >>> z = np.random.default_rng(0).normal(0, 3, (400, 3)); y = np.argmax(z + np.random.default_rng(1).normal(0, 3, z.shape), 1)
    >>> cmp = compare_maps(z, y, kinds=("temperature",))
    >>> [r.kind for r in cmp.results], cmp.calibration_rows, cmp.test_rows
    (['none', 'temperature'], 200, 200)
    >>> cmp.results[1].metrics["nll"] < cmp.results[0].metrics["nll"]   # over-confident logits: T > 1 helps on new rows
    True
    """
    z, y = _check(logits, labels)
    n = z.shape[0]
    if not (0.0 < split < 1.0):
        raise InputError("calib.split", value=split)
    n_cal = round(split * n)
    if n_cal < 2 or n - n_cal < 2:
        raise InputError("calib.split_small", n=n)
    order = np.random.default_rng(rng).permutation(n)
    cal, test = np.sort(order[:n_cal]), np.sort(order[n_cal:])
    measured: list[tuple[str, Recalibration | None, Summary | InputError]] = [
        ("none", Recalibration("identity", {}), _measure(Recalibration("identity", {}), z[test], y[test], n_bins))]
    for kind in kinds:
        try:
            fitted = fit_map(kind, z[cal], y[cal], reg=reg, n_bins=n_bins, max_classes=max_classes)
        except InputError as err:
            measured.append((kind, None, err))
            continue
        measured.append((kind, fitted, _measure(fitted, z[test], y[test], n_bins)))
    # one kernel width for every curve, so that they differ by the maps and not by their smoothing: the widest of the
    # maps' own smooth-ECE widths (at least 0.02)
    sigma = max([0.02] + [s.smooth_reliability(2).sigma for _, _, s in measured if isinstance(s, Summary)])
    results = tuple(MapResult(kind, None, {}, None, s) if isinstance(s, InputError) else
                    MapResult(kind, fitted, s.metrics(), s.smooth_reliability(n_points, sigma)) for kind, fitted, s in measured)
    return MapComparison(n_cal, n - n_cal, int(rng), results)


def _measure(fitted: Recalibration, z: np.ndarray, y: np.ndarray, n_bins: int) -> Summary:
    with np.errstate(over="ignore"):
        return summarize(fitted.apply(z), y, n_bins=n_bins)
