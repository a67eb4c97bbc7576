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
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from logitsviz import _parallel, numerics
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
]

T_MIN, T_MAX = 0.01, 100.0  # the temperatures fit_temperature searches


def _check(logits: ArrayLike, labels: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Validate and return ``(logits as float32/float64 (N, C), labels as int64 (N,))`` without copying floats."""
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
        reject_nan_posinf(z, lambda row, col: Where("row_col", row=row + 1, col=col + 1))
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
        block = z[rows]
        am = np.argmax(block, axis=1)
        mx = np.take_along_axis(block, am[:, None], axis=1)
        e = block - mx  # step 1: shift by the max (<= 0)
        if beta != 1:
            e *= beta
        with np.errstate(invalid="ignore"):
            np.exp(e, out=e)  # step 2: exponentiate; the max becomes exactly 1
        s0 = e.sum(axis=1, dtype=np.float64)
        s_sq = np.einsum("ij,ij->i", e, e, dtype=np.float64)
        pred[rows] = am
        conf[rows] = 1.0 / s0  # p_max = exp(0) / sum
        z_shift = (z_true[rows] - mx[:, 0].astype(np.float64)) * float(beta)
        nll_rows[rows] = np.log(s0) - z_shift
        p_true = np.exp(z_shift) / s0
        brier_rows[rows] = s_sq / (s0 * s0) - 2.0 * p_true + 1.0

    _map_blocks(z, work)
    return RowStats(t, conf, pred, pred == y, nll_rows, brier_rows, y)


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
    # bins are (lo, hi]: a confidence exactly on an edge belongs to the bin below it
    index = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    count = np.bincount(index, minlength=n_bins)
    hits = np.bincount(index, weights=correct.astype(np.float64), minlength=n_bins)
    conf_sum = np.bincount(index, weights=confidence, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        return Bins(edges, count, hits / count, conf_sum / count)


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


def expected_calibration_error(logits: ArrayLike, labels: ArrayLike, n_bins: int = 15, norm: str = "l1",
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
    return calibration_error(reliability_bins(logits, labels, n_bins, strategy, temperature=temperature), norm)


def nll(logits: ArrayLike, labels: ArrayLike, *, temperature: float = 1.0) -> float:
    """Mean negative log-likelihood (cross-entropy) of the labels.

    >>> round(nll([[2.0, 1.0, 0.1]], [0]), 4)
    0.417
    """
    with np.errstate(over="ignore"):
        return float(np.mean(row_stats(logits, labels, temperature).nll))


def brier(logits: ArrayLike, labels: ArrayLike, *, temperature: float = 1.0) -> float:
    """Mean Brier score: ``mean over rows of sum_c (p_c - onehot_c)^2``, between 0 and 2.

    >>> round(brier([[2.0, 1.0, 0.1]], [0]), 4)   # 0.341^2 + 0.242^2 + 0.099^2
    0.1848
    """
    with np.errstate(over="ignore"):
        return float(np.mean(row_stats(logits, labels, temperature).brier))


def accuracy(logits: ArrayLike, labels: ArrayLike) -> float:
    """Share of rows whose argmax is the label.

    >>> accuracy([[2.0, 1.0], [0.0, 1.0]], [0, 0])
    0.5
    """
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


def _nll_derivatives(z: np.ndarray, mx: np.ndarray, z_true: np.ndarray, beta: float) -> tuple[float, float, float]:
    """NLL of softmax(beta * z) and its first two derivatives in beta, in one pass.

    With d = z - max z and weights e = exp(beta * d):
    NLL = mean(beta * (max - z_y) + log sum e),
    dNLL/dbeta = mean(E[d] - (z_y - max)), d2NLL/dbeta2 = mean(Var[d]) >= 0.
    """
    n = z.shape[0]
    s0 = np.empty(n)
    s1 = np.empty(n)
    s2 = np.empty(n)
    b = z.dtype.type(beta)

    def work(rows: slice) -> None:
        d = z[rows] - mx[rows, None]
        np.maximum(d, z.dtype.type(-1e30), out=d)  # masked classes: e = 0 and e * d = 0, not NaN
        e = d * b
        np.exp(e, out=e)
        s0[rows] = e.sum(axis=1, dtype=np.float64)
        e *= d
        s1[rows] = e.sum(axis=1, dtype=np.float64)
        s2[rows] = np.einsum("ij,ij->i", e, d, dtype=np.float64)

    _map_blocks(z, work)
    # logits near the float64 limit can overflow these means: inf is then the honest answer
    with np.errstate(over="ignore", invalid="ignore"):
        mean_d = s1 / s0
        true_d = z_true - mx.astype(np.float64)
        value = float(np.mean(np.log(s0) - beta * true_d))
        first = float(np.mean(mean_d - true_d))
        second = float(np.mean(s2 / s0 - mean_d * mean_d))
    return value, first, second


def fit_temperature(logits: ArrayLike, labels: ArrayLike) -> float:
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
    variance of the logits under the softmax. Newton steps in β, kept
    inside a shrinking bracket around the root of the first derivative,
    stop when the step is below 1e-10 relative (not after a fixed count).
    Each step is one pass over the logits.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(0, 3, (4000, 5))
    >>> y = np.array([rng.choice(5, p=p) for p in np.exp(z / 2) / np.exp(z / 2).sum(1, keepdims=True)])
    >>> abs(fit_temperature(z, y) - 2.0) < 0.15   # labels drawn at T = 2
    True
    """
    z, y = _check(logits, labels)
    n = z.shape[0]
    mx = np.max(z, axis=1)
    z_true = z[np.arange(n), y].astype(np.float64)
    if np.any(z_true == -np.inf):
        raise InputError("calib.masked_true")
    lo, hi = 1.0 / T_MAX, 1.0 / T_MIN
    _, d_lo, _ = _nll_derivatives(z, mx, z_true, lo)
    if d_lo >= 0:  # NLL rises from the hottest temperature on: as flat as allowed
        return T_MAX if d_lo > 1e-12 else 1.0
    _, d_hi, _ = _nll_derivatives(z, mx, z_true, hi)
    if d_hi <= 0:  # still falling at the coldest: as sharp as allowed
        return T_MIN
    beta = 1.0
    for _ in range(200):  # a guard against a pathological loop, never the stopping rule
        _, first, second = _nll_derivatives(z, mx, z_true, beta)
        if first > 0:
            hi = beta
        else:
            lo = beta
        step = first / second if second > 0 else np.inf
        new = beta - step
        if not (lo < new < hi):  # Newton left the bracket: bisect instead
            new = 0.5 * (lo + hi)
        if abs(new - beta) <= 1e-10 * beta or hi - lo <= 1e-12 * hi:
            beta = new
            break
        beta = new
    return float(min(max(1.0 / beta, T_MIN), T_MAX))


def nll_curve(logits: ArrayLike, labels: ArrayLike, temperatures: ArrayLike) -> np.ndarray:
    """NLL at each temperature: the curve whose minimum :func:`fit_temperature` finds.

    >>> nll_curve([[2.0, 1.0, 0.1]], [0], [1.0]).round(4)
    array([0.417])
    """
    z, y = _check(logits, labels)
    mx = np.max(z, axis=1)
    z_true = z[np.arange(z.shape[0]), y].astype(np.float64)
    return np.array([_nll_derivatives(z, mx, z_true, 1.0 / float(t))[0] for t in np.asarray(temperatures, dtype=float)])
