r"""Prediction sets with a coverage guarantee, from logits (split conformal prediction).

Fit on a calibration split, then every test input gets a set of labels that holds its true label with probability at
least ``1 − α``, whatever the model, as long as the calibration and test rows are exchangeable (drawn from the same
distribution, in no particular order). Definitions follow Angelopoulos & Bates, "A Gentle Introduction to Conformal
Prediction and Distribution-Free Uncertainty Quantification" (2021):

- ``"lac"`` (least ambiguous set-valued classifier, Sadinle et al. 2019): score ``1 − p_y``; the sets are smallest on
  average, but do not adapt to how hard an input is.
- ``"aps"`` (adaptive prediction sets, Romano et al. 2020): score = the probability mass of every class at least as
  likely as ``y``, ``y`` included (``randomized=True`` takes ``u·p_y`` off it, ``u ~ U(0, 1)``, for exact coverage);
  sets grow where the model is unsure.
- ``"raps"`` (regularised APS, Angelopoulos et al. 2021): APS plus ``λ·max(0, rank(y) − k_reg)``, which keeps the
  long tail of unlikely classes out of the sets.
- ``mondrian=True`` (Vovk et al. 2005): one threshold per class, from the calibration rows of that class, so coverage
  holds for every class, not only on average.

The threshold is the ``⌈(n + 1)(1 − α)⌉ / n`` empirical quantile of the n calibration scores (the "+ 1" is what makes
the guarantee finite-sample), computed as the paper's code does (numpy's ``method="higher"``); when that level passes
1 (too few rows for ``α``), the threshold is infinite and every set is every class. Coverage is guaranteed only
under exchangeability: a test set drawn from elsewhere (another hospital, a newer model) voids it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from logitsviz import numerics
from logitsviz.calibration import chunks
from logitsviz.errors import InputError

SCORES = ("lac", "aps", "raps")


def _probs(logits: ArrayLike) -> np.ndarray:
    z = numerics.as_float(logits)
    if z.ndim != 2 or z.shape[1] == 0:
        raise InputError("conf.shape", shape=tuple(z.shape))
    if not np.all(np.isfinite(z) | np.isneginf(z)):
        row, col = map(int, np.argwhere(~(np.isfinite(z) | np.isneginf(z)))[0])
        raise InputError("conf.bad_value", row=row, col=col)
    return numerics.softmax(z.astype(np.float64))


def _labels(labels: ArrayLike, n: int, c: int) -> np.ndarray:
    y = np.asarray(labels)
    if y.ndim != 1 or y.shape[0] != n:
        raise InputError("conf.labels_shape", n=n, shape=tuple(y.shape))
    if y.size and (y.dtype.kind not in "iu" and not (y.dtype.kind == "f" and np.all(y == np.round(y)))):
        raise InputError("conf.labels_int")
    y = y.astype(np.int64)
    if y.size and (y.min() < 0 or y.max() >= c):
        bad = int(np.flatnonzero((y < 0) | (y >= c))[0])
        raise InputError("conf.label_range", row=bad, value=int(y[bad]), c=c)
    return y


def _alpha(alpha: float) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.floating)) or not 0 < float(alpha) < 1:
        raise InputError("conf.bad_alpha", value=str(alpha)[:20])
    return float(alpha)


def quantile(scores: ArrayLike, alpha: float) -> float:
    """The conformal threshold: the empirical quantile of the n scores at level ``⌈(n + 1)(1 − α)⌉ / n``, taken as
    the paper's code and MAPIE take it (numpy's ``method="higher"``); ``inf`` when the level passes 1.

    >>> quantile([0.1, 0.2, 0.3, 0.4], 0.2)   # level ⌈5 · 0.8⌉ / 4 = 1: the largest
    0.4
    >>> quantile([0.1, 0.2, 0.3], 0.2)        # level ⌈4 · 0.8⌉ / 3 > 1
    inf
    """
    s = np.asarray(scores, dtype=np.float64)
    n = s.size
    level = math.ceil((n + 1) * (1 - _alpha(alpha)) - 1e-9) / n if n else math.inf
    if level > 1:
        return math.inf
    return float(np.quantile(s, level, method="higher"))


def _ranked(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: the classes by decreasing probability (ties by index), the running mass in that order, and each class's
    1-based rank."""
    order = np.argsort(-p, axis=1, kind="stable")
    mass = np.cumsum(np.take_along_axis(p, order, axis=1), axis=1)
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(1, p.shape[1] + 1)[None, :].repeat(p.shape[0], 0), axis=1)
    return order, mass, rank


def class_scores(logits: ArrayLike, score: str = "lac", *, k_reg: int = 1, lam: float = 0.0, randomized: bool = False,
                 rng=None) -> np.ndarray:
    """``(N, C)``: the nonconformity score of every class of every row (larger = less like the truth).

    >>> class_scores([[2.0, 1.0, 0.1]], "aps").round(3)   # mass down to and including each class
    array([[0.659, 0.901, 1.   ]])
    """
    if score not in SCORES:
        raise InputError("conf.bad_score", value=str(score)[:20], allowed=", ".join(SCORES))
    p = _probs(logits)
    if score == "lac":
        return 1 - p
    _, mass, rank = _ranked(p)
    through = np.take_along_axis(mass, rank - 1, axis=1)  # the mass of every class ranked at or above each class
    if randomized:
        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        through = through - gen.random((p.shape[0], 1)) * p
    if score == "raps":
        through = through + float(lam) * np.maximum(0, rank - int(k_reg))
    return through


@dataclass(frozen=True)
class Evaluation:
    """How prediction sets did on labelled rows."""

    coverage: float  # share of rows whose set holds the true label
    mean_size: float
    sizes: np.ndarray  # (N,) the size of each set
    size_counts: np.ndarray  # (C + 1,) how many sets have each size 0 … C
    class_coverage: np.ndarray  # (C,) coverage among the rows of each true class (NaN where a class has no row)
    class_rows: np.ndarray  # (C,) rows of each class
    alpha: float

    @property
    def worst_class_coverage(self) -> float:
        return float(np.nanmin(self.class_coverage))


@dataclass(frozen=True)
class Conformal:
    """A fitted split-conformal predictor (see :func:`fit`)."""

    score: str
    alpha: float
    threshold: float | np.ndarray  # one number, or one per class (mondrian)
    n: int  # calibration rows
    k_reg: int = 1
    lam: float = 0.0
    randomized: bool = False
    mondrian: bool = False

    def scores(self, logits: ArrayLike, rng=None) -> np.ndarray:
        return class_scores(logits, self.score, k_reg=self.k_reg, lam=self.lam, randomized=self.randomized, rng=rng)

    def sets(self, logits: ArrayLike, rng=None) -> np.ndarray:
        """``(N, C)`` bool: class ``j`` is in row ``i``'s set when its score is at most the threshold (its class's, with
        ``mondrian``)."""
        s = self.scores(logits, rng)
        limit = np.asarray(self.threshold)[None, :] if self.mondrian else self.threshold
        return s <= limit

    def evaluate(self, logits: ArrayLike, labels: ArrayLike, rng=None) -> Evaluation:
        sets = self.sets(logits, rng)
        n, c = sets.shape
        y = _labels(labels, n, c)
        hit = sets[np.arange(n), y]
        sizes = sets.sum(axis=1)
        rows = np.bincount(y, minlength=c)
        with np.errstate(invalid="ignore", divide="ignore"):
            per_class = np.bincount(y, weights=hit, minlength=c) / rows
        return Evaluation(float(hit.mean()) if n else math.nan, float(sizes.mean()) if n else math.nan, sizes,
                          np.bincount(sizes, minlength=c + 1), per_class, rows, self.alpha)


def fit(cal_logits: ArrayLike, cal_labels: ArrayLike, alpha: float = 0.1, score: str = "lac", *, k_reg: int = 1,
        lam: float = 0.0, randomized: bool = False, mondrian: bool = False, rng=None) -> Conformal:
    """Fit a split-conformal predictor on calibration logits ``(n, C)`` and labels ``(n,)``.

    Parameters
    ----------
    alpha : float
        The error rate allowed: sets hold the truth with probability ≥ ``1 − α`` (under exchangeability).
    score : {"lac", "aps", "raps"}
        The nonconformity score (see the module docstring).
    k_reg, lam : RAPS's regularisation: ``λ`` per rank past ``k_reg``.
    randomized : APS/RAPS with ``u·p_y`` taken off (exact coverage in expectation; sets may then be empty).
    mondrian : one threshold per class (class-conditional coverage).

    Examples
    --------
    >>> z = [[3.0, 0.0], [0.0, 3.0], [2.0, 1.0], [1.0, 2.0]]
    >>> cp = fit(z, [0, 1, 1, 1], alpha=0.25)   # scores 1 − p_y: 0.047, 0.047, 0.731, 0.269 → ⌈5 · 0.75⌉ = 4th
    >>> round(cp.threshold, 3), cp.sets([[2.5, 0.0]]).tolist()
    (0.731, [[True, False]])
    """
    a = _alpha(alpha)
    if isinstance(k_reg, bool) or not isinstance(k_reg, (int, np.integer)) or k_reg < 0:
        raise InputError("conf.k_reg", value=str(k_reg)[:20])
    if not (isinstance(lam, (int, float, np.floating)) and not isinstance(lam, bool) and math.isfinite(lam) and lam >= 0):
        raise InputError("conf.lam", value=str(lam)[:20])
    true, y, c = _true_scores(cal_logits, cal_labels, score, int(k_reg), float(lam), randomized, rng)
    if true.size == 0:
        raise InputError("conf.empty")
    if mondrian:
        threshold = np.array([quantile(true[y == k], a) if np.any(y == k) else math.inf for k in range(c)])
    else:
        threshold = quantile(true, a)
    return Conformal(score, a, threshold, int(true.size), int(k_reg), float(lam), bool(randomized), bool(mondrian))


@dataclass(frozen=True)
class _True:
    """The calibration rows' scores of their true class, and their labels, for one chunk (``+`` appends)."""

    scores: np.ndarray
    labels: np.ndarray
    classes: int

    def __add__(self, other: _True) -> _True:
        return _True(np.concatenate([self.scores, other.scores]), np.concatenate([self.labels, other.labels]), self.classes)


def _true_scores(logits, labels, score, k_reg, lam, randomized, rng) -> tuple[np.ndarray, np.ndarray, int]:
    """Each calibration row's score of its true class: in one go, or a chunk at a time for memory maps, shard folders
    and dask arrays (as the calibration metrics stream; one number per row is kept)."""
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)  # one stream across the chunks

    def work(rows, ys, _first):
        s = class_scores(rows, score, k_reg=k_reg, lam=lam, randomized=randomized, rng=gen)
        y = _labels(ys, s.shape[0], s.shape[1])
        return _True(s[np.arange(s.shape[0]), y], y, s.shape[1])

    if chunks._out_of_memory(logits):
        if randomized and chunks._is_dask(logits):
            raise InputError("conf.randomized_dask")
        part = chunks._reduce(logits, labels, work)
    else:
        part = work(logits, labels, 0)
    return part.scores, part.labels, part.classes


@dataclass(frozen=True)
class Nucleus:
    """The top-p level whose nucleus holds the true next token with probability ≥ ``1 − α``."""

    top_p: float
    alpha: float
    n: int
    mean_size: float  # tokens in the nucleus on average, on the positions it was fitted on
    coverage: float  # share of those positions whose nucleus held the true token


def nucleus(logits: ArrayLike, next_tokens: ArrayLike, alpha: float = 0.1) -> Nucleus:
    """The conformal nucleus (APS on next tokens): the smallest top-p such that, on positions exchangeable with the
    ``n`` given ones, the nucleus (the most likely tokens until their mass reaches ``top_p``) holds the token that
    came next with probability ≥ ``1 − α``. ``top_p`` is the APS threshold, capped at 1. A top-p filter as
    transformers and llama.cpp cut it (it keeps the token whose mass crosses ``top_p``) keeps a superset of the APS
    set, so the guarantee carries over to it.

    >>> nu = nucleus([[2.0, 1.0, 0.1]] * 9, [0, 0, 0, 0, 0, 0, 1, 1, 2], alpha=0.3)
    >>> round(nu.top_p, 3)
    0.901
    """
    s = class_scores(logits, "aps")
    n, c = s.shape
    y = _labels(next_tokens, n, c)
    if n == 0:
        raise InputError("conf.empty")
    q = quantile(s[np.arange(n), y], alpha)
    sets = s <= q + 1e-12
    return Nucleus(min(q, 1.0), float(alpha), n, float(sets.sum(axis=1).mean()), float(sets[np.arange(n), y].mean()))
