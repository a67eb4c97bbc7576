"""Rows and bins: the checks every evaluation set passes, one pass over the rows, reliability bins, the report.

``row_stats`` reads an ``(N, C)`` matrix in cache-sized blocks of rows spread
over a thread pool and keeps per-row vectors only (confidence, correctness,
NLL, Brier); ``report`` turns them into every number the Calibration page and
``logitsviz calibrate`` show for one temperature.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from logitsviz import _parallel, numerics
from logitsviz.errors import InputError, Where, reject_nan_posinf


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


# ============================================================ beyond bins ====
# Every estimator below is a function of sums over rows, so one pass over the rows, in any number of chunks, on
# any number of machines, gives the same answer: :class:`Summary` holds those sums and adds up with ``+``.

GRID = 4097  # nodes i / 4096 on [0, 1]: confidences are spread over them for the smoothed metrics and risk-coverage


SMOOTH_MIN_SIGMA = 1e-3  # the smallest kernel width the smooth ECE considers (relplot's eps)


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


def _grid_of(confidence: np.ndarray, correct: np.ndarray) -> np.ndarray:
    c = correct.astype(np.float64)
    return _spread(confidence, [np.ones_like(confidence), c, confidence])
