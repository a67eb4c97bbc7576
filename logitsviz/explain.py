"""Every step of softmax for one vector, ready to show: the arithmetic the Explorer explains.

The whole vector is computed; only the rows to display are picked out (the
top ``N`` by probability, found in O(C) with ``np.argpartition``) and the rest
is summarised as one "others" entry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from logitsviz import numerics

__all__ = [
    "DTYPES",
    "DtypeRow",
    "SoftmaxSteps",
    "TailRow",
    "cross_entropy_curve",
    "exp_limits",
    "softmax_steps",
    "stability_rows",
    "tail_rows",
    "top_indices",
]


def top_indices(values: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` largest values, largest first (ties: lower index first).

    >>> top_indices(np.array([0.1, 0.5, 0.2, 0.5]), 2)
    array([1, 3])
    """
    values = np.asarray(values)
    n = max(0, min(int(n), values.size))
    if n == 0:
        return np.zeros(0, dtype=np.intp)
    if n < values.size:
        part = np.argpartition(-values, n - 1)[:n]
    else:
        part = np.arange(values.size)
    # sort the chosen few: by value descending, then by index
    order = np.lexsort((part, -values[part]))
    return part[order]


@dataclass(frozen=True)
class SoftmaxSteps:
    """The steps of ``softmax((x + c) / T)`` for the shown classes, plus whole-vector summaries."""

    index: np.ndarray  # shown classes, in display order
    logits: np.ndarray  # x
    z: np.ndarray  # (x + c) / T
    shifted: np.ndarray  # z - max(z)
    exps: np.ndarray  # exp(z - max z)
    probs: np.ndarray  # exp(...) / sum
    logprobs: np.ndarray  # log p, from log_softmax
    n_classes: int
    max_z: float
    exp_sum: float  # sum of exp(z - max z) over all classes
    others_count: int
    others_prob: float
    others_logit: float  # logsumexp of the other z: the logit of the merged class
    argmax: int
    top_prob: float
    entropy_bits: float
    perplexity: float
    margin: float  # z of the best minus z of the runner-up


def softmax_steps(
    logits: ArrayLike, *, temperature: float = 1.0, shift: float = 0.0, top: int = 20, sort: bool = False
) -> SoftmaxSteps:
    """Compute softmax of ``(logits + shift) / temperature`` step by step.

    Parameters
    ----------
    logits : array_like, shape (C,)
        One vector of logits (``-inf`` allowed for masked classes).
    temperature : float
        ``T > 0``.
    shift : float
        A constant added to every logit; it changes nothing in ``p``.
    top : int
        How many classes to show; the rest become one "others" entry.
    sort : bool
        Show classes by decreasing logit instead of in class order. When
        only the top ``top`` of more classes are shown, they are always sorted.

    Returns
    -------
    SoftmaxSteps

    Examples
    --------
    >>> s = softmax_steps([2.0, 1.0, 0.1])
    >>> s.probs.round(3), round(s.exp_sum, 4), s.argmax
    (array([0.659, 0.242, 0.099]), 1.5174, 0)
    """
    x = np.asarray(logits, dtype=np.float64).ravel()
    z = (x + shift) / temperature if (shift or temperature != 1.0) else x
    p = numerics.softmax(z)
    logp = numerics.log_softmax(z)
    lse = float(numerics.logsumexp(z))
    max_z = float(np.max(z))

    # the top-N by probability, largest first: softmax keeps the order, so also by logit
    chosen = top_indices(p, top)
    # a top-N cut of a large vector reads best largest first, whatever `sort` says
    index = chosen if sort or chosen.size < z.size else np.sort(chosen)

    others = np.ones(z.size, dtype=bool)
    others[chosen] = False
    n_others = int(others.sum())
    others_logit = float(numerics.logsumexp(z[others])) if n_others else -np.inf
    others_prob = float(np.exp(others_logit - lse)) if n_others else 0.0

    shifted = z[index] - max_z
    best2 = top_indices(z, 2)
    margin = float(z[best2[0]] - z[best2[1]]) if z.size > 1 else float("nan")
    h_bits = float(numerics.entropy(z, base=2))
    return SoftmaxSteps(
        index=index,
        logits=x[index],
        z=z[index],
        shifted=shifted,
        exps=np.exp(shifted),
        probs=p[index],
        logprobs=logp[index],
        n_classes=int(z.size),
        max_z=max_z,
        exp_sum=float(np.exp(lse - max_z)),
        others_count=n_others,
        others_prob=others_prob,
        others_logit=others_logit,
        argmax=int(best2[0]),
        top_prob=float(p[best2[0]]),
        entropy_bits=h_bits,
        perplexity=float(2.0**h_bits),
        margin=margin,
    )


# ------------------------------------------------------------ stability ----

DTYPES = (np.float16, np.float32, np.float64)


def exp_limits(dtype) -> tuple[float, float]:
    """``(overflow, underflow)``: exp(x) is inf above the first, exactly 0 below the second.

    >>> [round(v, 2) for v in exp_limits(np.float32)]
    [88.72, -103.97]
    """
    info = np.finfo(dtype)
    tiny = float(info.smallest_subnormal)
    # exp(x) rounds to 0 once it is below half the smallest subnormal
    return math.log(float(info.max)), math.log(tiny) - math.log(2)


@dataclass(frozen=True)
class DtypeRow:
    """Naive and stable softmax of one vector in one floating type."""

    dtype: str
    overflow: float
    underflow: float
    representable: bool  # every logit fits in this type
    naive: np.ndarray
    stable: np.ndarray
    naive_broken: bool  # inf or NaN in the naive result
    stable_error: float  # max |stable - exact float64 answer|


def stability_rows(logits: ArrayLike) -> list[DtypeRow]:
    """The same logits through ``naive_softmax`` and ``softmax`` in float16, float32 and float64.

    >>> rows = stability_rows([1000.0, 999.0, 998.0])
    >>> [(r.dtype, r.naive_broken, r.stable_error < 1e-3) for r in rows]
    [('float16', True, True), ('float32', True, True), ('float64', True, True)]
    """
    x = np.asarray(logits, dtype=np.float64).ravel()
    exact = numerics.softmax(x)
    rows = []
    for dtype in DTYPES:
        with np.errstate(over="ignore"):
            z = x.astype(dtype)
        representable = bool(np.all(np.isfinite(z) | np.isneginf(x)))
        naive = numerics.naive_softmax(z)
        stable = numerics.softmax(z)
        with np.errstate(invalid="ignore"):
            err = float(np.max(np.abs(stable.astype(np.float64) - exact))) if x.size else 0.0
        overflow, underflow = exp_limits(dtype)
        rows.append(
            DtypeRow(np.dtype(dtype).name, overflow, underflow, representable, naive, stable,
                     bool(np.any(~np.isfinite(naive))), err)
        )
    return rows


@dataclass(frozen=True)
class TailRow:
    """How many classes' probabilities underflow to exactly 0 in one floating type."""

    dtype: str
    zero_probs: int  # softmax(z) == 0: log(softmax) gives -inf
    log_softmax_finite: int  # log_softmax keeps them finite
    smallest_log_prob: float


def tail_rows(logits: ArrayLike) -> list[TailRow]:
    """``log(softmax(z))`` against ``log_softmax(z)`` in each type: the lost tail.

    >>> [(r.dtype, r.zero_probs) for r in tail_rows([0.0, -120.0, -800.0])]
    [('float16', 2), ('float32', 2), ('float64', 1)]
    """
    x = np.asarray(logits, dtype=np.float64).ravel()
    rows = []
    for dtype in DTYPES:
        with np.errstate(over="ignore"):
            z = x.astype(dtype)
        finite = np.isfinite(z)
        p = numerics.softmax(z)
        logp = numerics.log_softmax(z)
        rows.append(
            TailRow(np.dtype(dtype).name, int(np.sum((p == 0) & finite)), int(np.sum(np.isfinite(logp))),
                    float(np.min(logp[np.isfinite(logp)])) if np.isfinite(logp).any() else float("nan"))
        )
    return rows


# ----------------------------------------------------------------- losses ----


def cross_entropy_curve(logits: ArrayLike, target: int, grid: ArrayLike, *, label_smoothing: float = 0.0) -> np.ndarray:
    """Cross-entropy as the true class's logit takes each value of ``grid``, the others fixed.

    With ``L = logsumexp(others)`` the softmax denominator is
    ``logaddexp(g, L)``, so the whole curve costs one pass over the vector.

    >>> z = np.array([2.0, 1.0, 0.1])
    >>> curve = cross_entropy_curve(z, 0, [2.0])
    >>> bool(np.isclose(curve[0], numerics.cross_entropy(z, 0)))
    True
    """
    x = np.asarray(logits, dtype=np.float64).ravel()
    g = np.asarray(grid, dtype=np.float64)
    others = np.delete(x, target)
    lse_others = float(numerics.logsumexp(others)) if others.size else -np.inf
    lse = np.logaddexp(g, lse_others)
    nll = lse - g
    if not label_smoothing:
        return nll
    with np.errstate(invalid="ignore"):
        mean_z = (others.sum() + g) / x.size
    return (1 - label_smoothing) * nll + label_smoothing * (lse - mean_z)
