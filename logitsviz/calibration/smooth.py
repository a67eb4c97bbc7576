"""Metrics beyond bins, computed from sums: smooth ECE and its curve, classwise and debiased ECE, the Brier
decomposition, risk-coverage.

Every function here takes sums over rows (or a few per-row vectors) and never
the logits, so that a streaming :class:`~logitsviz.calibration.Summary` and the
in-memory functions share one implementation.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from logitsviz.calibration.rows import GRID, SMOOTH_MIN_SIGMA

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


# ------------------------------------------------ classwise, debiased, Brier ----


def _classwise_ece(cw: np.ndarray, rows: int) -> float:
    _count, p_sum, _, o_sum, _ = cw
    return float(np.sum(np.abs(o_sum - p_sum)) / (rows * cw.shape[1]))  # sum_b n_b |o_b - p_b| = sum_b |O_b - P_b|


def _debiased(count: np.ndarray, hits: np.ndarray, conf: np.ndarray, rows: int) -> float:
    filled = count >= 2  # Kumar et al.'s code counts a bin of fewer than two as 0
    n = count[filled]
    acc, mean_conf = hits[filled] / n, conf[filled] / n
    square = np.sum(n / rows * ((acc - mean_conf) ** 2 - acc * (1.0 - acc) / (n - 1.0))) if rows else math.nan
    return float(math.sqrt(max(square, 0.0)))


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


def _risk_of_rows(confidence: np.ndarray, correct: np.ndarray) -> RiskCoverage:
    """Risk-coverage of rows grouped by their exact confidence, most confident first."""
    values, inverse = np.unique(-confidence, return_inverse=True)
    errors = np.bincount(inverse, weights=1.0 - correct.astype(np.float64))
    return _risk_from_groups(np.bincount(inverse).astype(np.float64), errors, -values)
