"""Recalibration maps beyond one temperature: vector, matrix and Dirichlet scaling (with ODIR regularisation
chosen by cross-validation), histogram binning and isotonic regression, and their comparison on held-out rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from logitsviz import numerics
from logitsviz.calibration.rows import _bin_index, _check, _row_pass
from logitsviz.calibration.smooth import SmoothReliability
from logitsviz.calibration.summary import Summary, summarize
from logitsviz.calibration.temperature import fit_temperature
from logitsviz.errors import InputError

# ------------------------------------------------------ recalibration maps ----

MAPS = ("temperature", "vector", "matrix", "dirichlet", "histogram", "isotonic")
# the same maps from the quickest to fit to the slowest (measured on the digits set: 0.04 s to 4 s), for a page that
# shows each as soon as it is fitted
BY_FITTING_TIME = ("temperature", "histogram", "isotonic", "vector", "matrix", "dirichlet")


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
    cal, test = _split(z.shape[0], split, rng)
    measured = [_measured("none", z, y, cal, test, n_bins, reg, max_classes)]
    measured += [_measured(kind, z, y, cal, test, n_bins, reg, max_classes) for kind in kinds]
    return assemble(measured, rng, n_points)


@dataclass(frozen=True)
class Measured:
    """One map fitted on the calibration part and summarised on the test part (or why it could not be fitted): what
    :func:`compare_maps` gathers before it draws every curve at one kernel width (:func:`assemble`)."""

    kind: str
    fitted: Recalibration | None
    summary: Summary | None
    skipped: InputError | None = None
    calibration_rows: int = 0  # the split it was measured on
    test_rows: int = 0
    metrics: dict[str, float] = field(default_factory=dict)  # summary.metrics(), once (smooth ECE is a fixed point)


def measure_map(kind: str, logits: ArrayLike, labels: ArrayLike, *, split: float = 0.5, rng: int = 0, n_bins: int = 15,
                reg: float | None = None, max_classes: int = MAX_MATRIX_CLASSES) -> Measured:
    """One row of :func:`compare_maps` on its own (``"none"``: the logits as they are), split the same way, so that
    a page can show each map as soon as it is fitted and :func:`assemble` the comparison at the end.

    >>> z = np.random.default_rng(0).normal(0, 3, (400, 3)); y = np.argmax(z + np.random.default_rng(1).normal(0, 3, z.shape), 1)
    >>> rows = [measure_map(kind, z, y) for kind in ("none", "temperature")]
    >>> together = compare_maps(z, y, kinds=("temperature",))
    >>> [r.metrics for r in assemble(rows, 0).results] == [r.metrics for r in together.results]
    True
    """
    z, y = _check(logits, labels)
    cal, test = _split(z.shape[0], split, rng)
    return _measured(kind, z, y, cal, test, n_bins, reg, max_classes)


def assemble(measured: Sequence[Measured], seed: int, n_points: int = 200) -> MapComparison:
    """The comparison of maps measured on one split (seed ``seed``): each map's metrics, and every curve at one
    kernel width."""
    # one kernel width for every curve, so that they differ by the maps and not by their smoothing: the widest of the
    # maps' own smooth-ECE widths (at least 0.02)
    sigma = max([0.02] + [m.summary.smooth_reliability(2).sigma for m in measured if m.summary is not None])
    results = tuple(MapResult(m.kind, None, {}, None, m.skipped) if m.summary is None else
                    MapResult(m.kind, m.fitted, m.metrics, m.summary.smooth_reliability(n_points, sigma))
                    for m in measured)
    return MapComparison(measured[0].calibration_rows, measured[0].test_rows, int(seed), results)


def _split(n: int, split: float, rng: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows to fit on and the rows to test on: ``split`` of them at random (seed ``rng``), each part in order."""
    if not (0.0 < split < 1.0):
        raise InputError("calib.split", value=split)
    n_cal = round(split * n)
    if n_cal < 2 or n - n_cal < 2:
        raise InputError("calib.split_small", n=n)
    order = np.random.default_rng(rng).permutation(n)
    return np.sort(order[:n_cal]), np.sort(order[n_cal:])


def _measured(kind: str, z: np.ndarray, y: np.ndarray, cal: np.ndarray, test: np.ndarray, n_bins: int,
              reg: float | None, max_classes: int) -> Measured:
    rows = {"calibration_rows": cal.size, "test_rows": test.size}
    if kind == "none":
        fitted = Recalibration("identity", {})
    else:
        try:
            fitted = fit_map(kind, z[cal], y[cal], reg=reg, n_bins=n_bins, max_classes=max_classes)
        except InputError as err:
            return Measured(kind, None, None, err, **rows)
    summary = _measure(fitted, z[test], y[test], n_bins)
    return Measured(kind, fitted, summary, **rows, metrics=summary.metrics())


def _measure(fitted: Recalibration, z: np.ndarray, y: np.ndarray, n_bins: int) -> Summary:
    with np.errstate(over="ignore"):
        return summarize(fitted.apply(z), y, n_bins=n_bins)
