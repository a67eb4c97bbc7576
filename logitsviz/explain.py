"""Every step of softmax for one vector, ready to show: the arithmetic the Explorer explains.

The whole vector is computed; only the rows to display are picked out (the
top ``N`` by probability, found in O(C) with ``np.argpartition``) and the rest
is summarised as one "others" entry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from logitsviz import numerics

__all__ = ["SoftmaxSteps", "softmax_steps", "top_indices"]


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
