"""Temperature scaling: the ``T`` that minimises the negative log-likelihood, and the NLL curve over ``T``.

The fit is Newton's method on ``beta = 1 / T`` with exact first and second
derivatives (one pass over the rows per step), bracketed to ``[T_MIN, T_MAX]``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from logitsviz.calibration.chunks import _out_of_memory, _reduce
from logitsviz.calibration.rows import _check, _map_blocks
from logitsviz.errors import InputError

T_MIN, T_MAX = 0.01, 100.0  # the temperatures fit_temperature searches


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
