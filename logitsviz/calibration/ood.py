"""Out-of-distribution scores from logits: does this input look like the ones the model was trained on?

Each score is larger for inputs that look in-distribution:

- ``msp``: the maximum softmax probability (Hendrycks & Gimpel 2017);
- ``max_logit``: the largest logit (Hendrycks et al. 2022): unlike softmax, it keeps the logits' overall level;
- ``energy``: ``T · logsumexp(z / T)``, minus the free energy of Liu et al. 2020 ("Energy-based Out-of-distribution
  Detection"); softmax is unchanged when a constant is added to every logit, the energy moves with it;
- ``entropy``: minus the entropy of the softmax (a flat distribution looks unfamiliar).

:func:`ood` compares in- and out-of-distribution logits: AUROC (in-distribution as the positive class, ties counted
half, as scikit-learn's ``roc_auc_score``) and FPR95, the share of out-of-distribution inputs that pass a threshold
keeping 95 % of the in-distribution ones. Both stream like the calibration metrics: memory maps, shard folders and
dask arrays are read a chunk at a time, one number per row kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from logitsviz import numerics
from logitsviz.calibration.chunks import _out_of_memory, _reduce
from logitsviz.errors import InputError

OOD_SCORES = ("msp", "max_logit", "energy", "entropy")


def _rows(logits: ArrayLike, name: str) -> np.ndarray:
    z = numerics.as_float(logits)
    if z.ndim != 2 or z.shape[1] == 0 or z.shape[0] == 0:
        raise InputError("ood.shape", name=name, shape=tuple(z.shape))
    bad = ~(np.isfinite(z) | np.isneginf(z))
    if bad.any():
        row, col = map(int, np.argwhere(bad)[0])
        raise InputError("ood.bad_value", name=name, row=row, col=col)
    return z.astype(np.float64)


def ood_scores(logits: ArrayLike, *, temperature: float = 1.0) -> dict[str, np.ndarray]:
    """Every out-of-distribution score of every row, ``{name: (N,)}``; larger = more in-distribution.

    >>> s = ood_scores([[2.0, 1.0, 0.1], [12.0, 11.0, 10.1]])
    >>> [round(float(x), 3) for x in s["msp"]], [round(float(x), 3) for x in s["energy"]]
    ([0.659, 0.659], [2.417, 12.417])
    """
    t = float(temperature)
    if not (math.isfinite(t) and t > 0):
        raise InputError("args.temperature", value=str(temperature)[:20])
    if _out_of_memory(logits):  # a memory map, shards or a dask array: a chunk at a time, one number per row kept
        n = logits.rows if hasattr(logits, "rows") else logits.shape[0]
        return _reduce(logits, np.zeros(n, dtype=np.int64), lambda rows, _y, _first: _Scores(ood_scores(rows, temperature=t))).scores
    z = _rows(logits, "logits")
    logp = numerics.log_softmax(z)
    return {
        "msp": np.exp(logp.max(axis=1)),
        "max_logit": z.max(axis=1),
        "energy": t * numerics.logsumexp(z / t),
        "entropy": -numerics.entropy(z),
    }


@dataclass(frozen=True)
class _Scores:
    """Per-row scores of one chunk; ``+`` appends a later chunk's rows (how chunks and dask blocks combine)."""

    scores: dict

    def __add__(self, other: _Scores) -> _Scores:
        return _Scores({k: np.concatenate([v, other.scores[k]]) for k, v in self.scores.items()})


@dataclass(frozen=True)
class OOD:
    """One score's separation of in- from out-of-distribution inputs."""

    score: str
    auroc: float
    fpr95: float
    fpr: np.ndarray  # the ROC curve: false positives (out-of-distribution passing) …
    tpr: np.ndarray  # … against true positives (in-distribution passing), thresholds from high to low
    inside: np.ndarray  # the scores of the in-distribution rows
    outside: np.ndarray


def auroc(inside: ArrayLike, outside: ArrayLike) -> float:
    """P(score of an in-distribution row > score of an out-of-distribution row), ties counted half (Mann–Whitney).

    >>> auroc([3, 2, 1], [0, 1])
    0.9166666666666666
    """
    a, b = np.asarray(inside, dtype=np.float64), np.asarray(outside, dtype=np.float64)
    both = np.concatenate([a, b])
    order = np.argsort(both, kind="mergesort")
    ranks = np.empty(both.size)
    sorted_ = both[order]
    # average ranks over ties
    starts = np.flatnonzero(np.r_[True, sorted_[1:] != sorted_[:-1]])
    ends = np.r_[starts[1:], both.size]
    for s, e in zip(starts, ends):
        ranks[order[s:e]] = (s + e + 1) / 2
    return float((ranks[: a.size].sum() - a.size * (a.size + 1) / 2) / (a.size * b.size))


def ood(in_logits: ArrayLike, out_logits: ArrayLike, score: str = "energy", *, temperature: float = 1.0) -> OOD:
    """How well ``score`` separates in-distribution logits from out-of-distribution ones (see :class:`OOD`)."""
    if score not in OOD_SCORES:
        raise InputError("ood.bad_score", value=str(score)[:20], allowed=", ".join(OOD_SCORES))
    a = ood_scores(in_logits if _out_of_memory(in_logits) else _rows(in_logits, "in"), temperature=temperature)[score]
    b = ood_scores(out_logits if _out_of_memory(out_logits) else _rows(out_logits, "out"), temperature=temperature)[score]
    thresholds = np.unique(np.concatenate([a, b]))[::-1]
    tpr = np.r_[0.0, [(a >= th).mean() for th in thresholds]] if thresholds.size < 20_000 else None
    if tpr is None:  # many distinct values: the curve from sorted scores
        grid = np.quantile(np.concatenate([a, b]), np.linspace(1, 0, 2001))
        tpr = np.r_[0.0, [(a >= th).mean() for th in grid]]
        fpr = np.r_[0.0, [(b >= th).mean() for th in grid]]
    else:
        fpr = np.r_[0.0, [(b >= th).mean() for th in thresholds]]
    cut = np.quantile(a, 0.05, method="lower")  # keeps at least 95 % of the in-distribution rows
    return OOD(score, auroc(a, b), float((b >= cut).mean()), np.asarray(fpr), np.asarray(tpr), a, b)
