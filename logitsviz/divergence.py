r"""Two distributions, each given by its logits: how far apart they are, position by position.

Three divergences along the last axis (nats), for any logits (``-inf`` masks, 1000-scale values, float16/32/64):

- :func:`kl`: ``KL(P ‖ Q) = Σ p (log p − log q)``; ``inf`` when Q masks a class P gives mass.
- :func:`js`: Jensen–Shannon, ``½ KL(P ‖ M) + ½ KL(Q ‖ M)`` with ``M = (P + Q) / 2``; symmetric, ≤ ln 2.
- :func:`tv`: total variation ``½ Σ |p − q|`` = ``1 − Σ min(p, q)``, in [0, 1].

:func:`compare` runs over two ``(N, V)`` sets of logits (two models on the same text, a model and its quantised copy,
a draft and its target) and keeps one number per row; :meth:`Comparison.summary` gives the statistics llama.cpp's
``perplexity --kl-divergence`` prints. It streams: memory-mapped ``.npy`` dumps and folders of shards are read a
chunk at a time, dask arrays are reduced where their blocks live (on a ``dask.distributed`` cluster too); only
per-row numbers come back, never logits.

:func:`speculative` and :func:`expected_accepted` answer the speculative-decoding question (Leviathan et al. 2023,
"Fast Inference from Transformers via Speculative Decoding"): how often the target accepts the draft's token, and
what it samples when it does not.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from logitsviz import _parallel, inputs, numerics
from logitsviz.calibration import chunks
from logitsviz.errors import InputError

LN2 = math.log(2.0)

#: rows per chunk are chosen so one side's chunk is at most this many bytes: a chunk's working arrays (both sides'
#: log-probabilities, probabilities and differences) are about eight times that, so resident memory stays near 300 MB
CHUNK_BYTES = 16 << 20

#: the quantiles llama.cpp prints for the KL divergence, and for Δp (with 75 % and 25 % besides)
KL_QUANTILES = (("p999", 0.999), ("p99", 0.99), ("p95", 0.95), ("p90", 0.90), ("median", 0.5),
                ("p10", 0.10), ("p05", 0.05), ("p01", 0.01), ("p001", 0.001))
DELTA_P_QUANTILES = (("p999", 0.999), ("p99", 0.99), ("p95", 0.95), ("p90", 0.90), ("p75", 0.75), ("median", 0.5),
                     ("p25", 0.25), ("p10", 0.10), ("p05", 0.05), ("p01", 0.01), ("p001", 0.001))


#: the summary's statistics in llama.cpp's order: (section, key, key of its ± or None, unit); unit "percent" is shown
#: ×100 with a %, "plain" as it is. The page and the command line both print this list.
STATISTICS = (
    ("ppl", "ppl_other", "ppl_other_unc", "plain"),
    ("ppl", "ppl_base", "ppl_base_unc", "plain"),
    ("ppl", "ppl_cor", None, "percent"),
    ("ppl", "ln_ppl_ratio", "ln_ppl_ratio_unc", "plain"),
    ("ppl", "ppl_ratio", "ppl_ratio_unc", "plain"),
    ("ppl", "ppl_diff", "ppl_diff_unc", "plain"),
    ("kl", "kl_mean", "kl_mean_unc", "plain"),
    ("kl", "kl_max", None, "plain"),
    *(("kl", f"kl_{name}", None, "plain") for name, _ in KL_QUANTILES),
    ("kl", "kl_min", None, "plain"),
    ("kl", "js_mean", None, "plain"),
    ("kl", "tv_mean", None, "plain"),
    ("p", "delta_p_mean", "delta_p_mean_unc", "percent"),
    ("p", "delta_p_max", None, "percent"),
    *(("p", f"delta_p_{name}", None, "percent") for name, _ in DELTA_P_QUANTILES),
    ("p", "delta_p_min", None, "percent"),
    ("p", "delta_p_rms", "delta_p_rms_unc", "percent"),
    ("p", "same_top", "same_top_unc", "percent"),
)


# ----------------------------------------------------------- per position ----


def _pair(p_logits: ArrayLike, q_logits: ArrayLike, axis: int) -> tuple[np.ndarray, np.ndarray, np.dtype]:
    """Both sides' log-probabilities in the dtype to compute in, and the dtype to return."""
    p, p_dtype = numerics._float_array(p_logits)
    q, q_dtype = numerics._float_array(q_logits)
    if p.shape != q.shape:
        raise InputError("args.same_shape", a=p.shape, b=q.shape)
    work = np.result_type(p.dtype, q.dtype)
    out = np.result_type(p_dtype, q_dtype)
    if p.ndim == 0:
        raise InputError("args.axis", axis=axis, ndim=0)
    numerics._check_axis(p, axis)
    logp = numerics.log_softmax(p.astype(work, copy=False), axis=axis)
    logq = numerics.log_softmax(q.astype(work, copy=False), axis=axis)
    return logp, logq, out


# Taylor coefficients of g(d) = ½ [e^d·d − (1 + e^d)·log((1 + e^d)/2)] at d = 0, from d² to d¹³: a class's share of the
# Jensen–Shannon divergence is max(p, q)·g(d) with d = −|log p − log q|. Within |d| < 0.5 the series is exact to 1e-11
# (relative), where the closed form would lose its digits in cancellation; beyond, the closed form is exact to 1e-6.
_JS_SERIES = (1 / 8, 1 / 16, 1 / 64, 1 / 384, 1 / 2304, 1 / 11520, 1 / 92160, -1 / 3870720, -1 / 38707200,
              11 / 116121600, 11 / 1393459200, -97 / 15328051200)
_JS_SERIES_BELOW = 0.5


def _js_share(d: np.ndarray) -> np.ndarray:
    """``g(d)`` for ``d ≤ 0`` (see :data:`_JS_SERIES`); ``g(−inf) = ln 2 / 2``, NaN stays NaN."""
    with np.errstate(invalid="ignore", over="ignore"):
        u = np.exp(d)
        closed = 0.5 * (np.where(u > 0, u * d, 0.0) - (1 + u) * np.log(0.5 * (1 + u)))
        series = np.full_like(d, _JS_SERIES[-1])
        for c in _JS_SERIES[-2::-1]:
            series *= d
            series += c
        series *= d * d
        return np.where(d > -_JS_SERIES_BELOW, series, closed)


def _js_terms(logp: np.ndarray, logq: np.ndarray, p: np.ndarray, q: np.ndarray) -> np.ndarray:
    r"""Each class's share of the Jensen–Shannon divergence, ``½ [p log(2p/(p+q)) + q log(2q/(p+q))]``, written so
    that close distributions keep their digits: ``max(p, q)·g(−|log p − log q|)`` (see :func:`_js_share`), not a
    difference of two nearly equal logarithms. 0 where both are 0, NaN where either is NaN.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        share = np.maximum(p, q) * _js_share(-np.abs(logp - logq))
        return np.where(p + q > 0, share, np.where(np.isnan(logp) | np.isnan(logq), np.nan, 0.0))


def _sum(terms: np.ndarray, axis: int, low: float, high: float | None = None) -> np.ndarray:
    """Sum along ``axis``, clipped to the divergence's range (rounding can leave −1e-17 for equal inputs); NaN stays."""
    with np.errstate(invalid="ignore"):
        total = np.sum(terms, axis=axis)
        return np.clip(total, low, high) if high is not None else np.maximum(total, low)


def kl(p_logits: ArrayLike, q_logits: ArrayLike, axis: int = -1) -> np.ndarray:
    r"""``KL(P ‖ Q)`` in nats, ``P = softmax(p_logits)``, ``Q = softmax(q_logits)``, along ``axis``.

    The reference distribution is P (the original model, the target); Q is the one that approximates it. Equal to
    ``torch.nn.functional.kl_div(log_softmax(q), log_softmax(p), log_target=True, reduction="none").sum(axis)``.

    Returns
    -------
    numpy.ndarray
        ``axis`` removed; ≥ 0 and 0 exactly when P = Q. ``+inf`` where Q masks (``-inf``) a class P gives mass;
        NaN for rows with NaN or ``+inf``, or with every class masked. float16 is computed in float32 and returned as
        float16.

    Examples
    --------
    >>> round(float(kl([2.0, 1.0, 0.1], [0.0, 0.0, 0.0])), 4)   # ln 3 − H(P)
    0.2519
    >>> float(kl([0.0, 0.0], [0.0, -np.inf]))
    inf
    """
    logp, logq, out = _pair(p_logits, q_logits, axis)
    with np.errstate(over="ignore"):
        p = np.exp(logp)
    return _sum(numerics._kl_terms(logp, logq, p), axis, 0.0).astype(out, copy=False)


def js(p_logits: ArrayLike, q_logits: ArrayLike, axis: int = -1) -> np.ndarray:
    r"""Jensen–Shannon divergence in nats: ``½ KL(P ‖ M) + ½ KL(Q ‖ M)``, ``M = (P + Q) / 2``.

    Symmetric, finite even where one side masks a class, and at most ``ln 2`` (disjoint supports). scipy's
    ``scipy.spatial.distance.jensenshannon`` returns its square root (a distance); this returns the divergence.

    Examples
    --------
    >>> round(float(js([0.0, -np.inf], [-np.inf, 0.0])), 6)   # disjoint: ln 2
    0.693147
    """
    logp, logq, out = _pair(p_logits, q_logits, axis)
    p, q = np.exp(logp), np.exp(logq)
    return _sum(_js_terms(logp, logq, p, q), axis, 0.0, LN2).astype(out, copy=False)


def tv(p_logits: ArrayLike, q_logits: ArrayLike, axis: int = -1) -> np.ndarray:
    r"""Total variation distance ``½ Σ |p − q|`` in [0, 1]: the most probability the two can disagree on for any set
    of classes, and ``1 − TV`` is the chance a draft token is accepted in speculative decoding.

    Examples
    --------
    >>> round(float(tv([2.0, 1.0, 0.1], [0.1, 1.0, 2.0])), 4)
    0.5604
    """
    logp, logq, out = _pair(p_logits, q_logits, axis)
    p, q = np.exp(logp), np.exp(logq)
    with np.errstate(invalid="ignore"):
        return _sum(0.5 * np.abs(p - q), axis, 0.0, 1.0).astype(out, copy=False)


# ------------------------------------------------------------ comparisons ----


_ROW_FIELDS = ("kl", "js", "tv", "same_top", "top_base", "top_other", "nll_base", "nll_other", "p_base", "p_other")


@dataclass(frozen=True)
class _Rows:
    """Per-row numbers of one chunk; ``+`` puts a later chunk's rows after these (how chunks and dask blocks combine)."""

    kl: np.ndarray
    js: np.ndarray
    tv: np.ndarray
    same_top: np.ndarray
    top_base: np.ndarray
    top_other: np.ndarray
    nll_base: np.ndarray | None = None
    nll_other: np.ndarray | None = None
    p_base: np.ndarray | None = None
    p_other: np.ndarray | None = None

    def __add__(self, other: _Rows) -> _Rows:
        return _Rows(*[None if getattr(self, f) is None else np.concatenate([getattr(self, f), getattr(other, f)])
                       for f in _ROW_FIELDS])


def _block_rows(a: np.ndarray, b: np.ndarray, targets: np.ndarray | None) -> _Rows:
    """Every per-row number of two ``(n, V)`` blocks of logits (with the n targets, if any).

    Rows go through the thread pool in cache-sized blocks (:func:`logitsviz._parallel.map_rows`); each block takes
    the direct formulas, and only rows whose sums come out NaN (a class masked on one side, or bad input) are done
    again with the careful ones.
    """
    a, _ = numerics._float_array(a)
    b, _ = numerics._float_array(b)
    work = np.result_type(a.dtype, b.dtype)
    a, b = a.astype(work, copy=False), b.astype(work, copy=False)
    n = a.shape[0]
    kl_rows, js_rows, tv_rows = np.empty(n), np.empty(n), np.empty(n)
    picked = np.empty((2, n)) if targets is not None else None

    def run(rows: slice) -> None:
        logp, logq = numerics.log_softmax(a[rows]), numerics.log_softmax(b[rows])
        with np.errstate(invalid="ignore", over="ignore"):
            p, q = np.exp(logp), np.exp(logq)
            k = np.sum(p * (logp - logq), axis=-1)
            j = np.sum(np.maximum(p, q) * _js_share(-np.abs(logp - logq)), axis=-1)
            redo = np.isnan(k) | np.isnan(j)
            if redo.any():  # masked classes (0 · inf) or bad rows: the careful terms, on those rows only
                r = np.flatnonzero(redo)
                k[r] = np.sum(numerics._kl_terms(logp[r], logq[r], p[r]), axis=-1)
                j[r] = np.sum(_js_terms(logp[r], logq[r], p[r], q[r]), axis=-1)
            kl_rows[rows] = np.maximum(k, 0.0)
            js_rows[rows] = np.clip(j, 0.0, LN2)
            tv_rows[rows] = np.clip(0.5 * np.sum(np.abs(p - q), axis=-1), 0.0, 1.0)
            if picked is not None:
                i = np.arange(logp.shape[0])
                picked[0, rows], picked[1, rows] = logp[i, targets[rows]], logq[i, targets[rows]]

    _parallel.map_rows(n, 2 * a.shape[1] * a.itemsize, run)
    # the top class of each side: the first of equal maxima, as numpy's and torch's argmax (and llama.cpp's loop) take
    top_a, top_b = np.argmax(a, axis=-1), np.argmax(b, axis=-1)
    extra: list[np.ndarray | None] = [None] * 4
    if picked is not None:
        extra = [-picked[0], -picked[1], np.exp(picked[0]), np.exp(picked[1])]
    return _Rows(kl_rows, js_rows, tv_rows, top_a == top_b, top_a, top_b, *extra)


def _work(rows: np.ndarray, other: np.ndarray, first: int, *, targets: np.ndarray | None) -> _Rows:
    """One chunk, as calibration's streaming calls it: ``other`` stands where the labels would."""
    n = rows.shape[0]
    part = None if targets is None else np.asarray(targets[first:first + n])
    out = None
    step = max(1, CHUNK_BYTES // max(1, rows.shape[1] * rows.itemsize))
    for i in range(0, n, step):  # an in-memory set arrives as one chunk: its working arrays stay bounded all the same
        piece = _block_rows(rows[i:i + step], np.asarray(other[i:i + step]), None if part is None else part[i:i + step])
        out = piece if out is None else out + piece
    return out if out is not None else _block_rows(rows, np.asarray(other), part)


@dataclass(frozen=True)
class Comparison:
    """Two sets of logits compared row by row (:func:`compare`): ``base`` is the reference P, ``other`` is Q.

    Attributes
    ----------
    kl, js, tv : numpy.ndarray
        ``KL(base ‖ other)``, Jensen–Shannon and total variation per row (float64, nats).
    same_top : numpy.ndarray
        Whether both sides put their largest logit on the same class (bool).
    top_base, top_other : numpy.ndarray
        Each side's top class per row.
    targets : numpy.ndarray or None
        The class that came next (the text's token), when given.
    p_base, p_other, nll_base, nll_other : numpy.ndarray or None
        Each side's probability of the target and its negative log-likelihood.
    """

    kl: np.ndarray
    js: np.ndarray
    tv: np.ndarray
    same_top: np.ndarray
    top_base: np.ndarray
    top_other: np.ndarray
    targets: np.ndarray | None = None
    p_base: np.ndarray | None = None
    p_other: np.ndarray | None = None
    nll_base: np.ndarray | None = None
    nll_other: np.ndarray | None = None
    labels: tuple[str, str] = ("base", "other")
    _summary: dict = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return int(self.kl.shape[0])

    @property
    def delta_p(self) -> np.ndarray | None:
        """``p_other[target] − p_base[target]`` per row (llama.cpp's Δp), or None without targets."""
        return None if self.p_base is None else self.p_other - self.p_base

    def summary(self) -> dict[str, float]:
        """The statistics of llama.cpp's ``perplexity --kl-divergence``, as it defines them (tools/perplexity/
        perplexity.cpp), plus the mean Jensen–Shannon and total variation.

        Keys: ``n``; ``kl_mean`` ± ``kl_mean_unc``, ``kl_max``, ``kl_p999``, ``kl_p99``, ``kl_p95``, ``kl_p90``,
        ``kl_median``, ``kl_p10``, ``kl_p05``, ``kl_p01``, ``kl_p001``, ``kl_min``; ``js_mean``, ``tv_mean``;
        ``same_top`` ± ``same_top_unc`` (a fraction). With targets: ``ppl_base`` ± ``ppl_base_unc``, ``ppl_other`` ±
        ``ppl_other_unc``, ``ppl_cor`` (correlation of the two sides' log-likelihoods), ``ln_ppl_ratio`` ±,
        ``ppl_ratio`` ±, ``ppl_diff`` ±, ``delta_p_mean`` ±, ``delta_p_rms`` ±, ``delta_p_max``, its quantiles
        (``delta_p_p999`` … ``delta_p_p001``, with ``p75``/``p25``) and ``delta_p_min`` (fractions, not %).

        As in llama.cpp: an uncertainty is the standard error of the mean, ``sqrt((E[x²] − E[x]²) / (n − 1))``,
        and 0 for ten rows or fewer; a perplexity's is propagated through ``exp`` (``ppl · σ``); RMS Δp's through the
        square root; same-top's is the binomial ``sqrt(f (1 − f) / (n − 1))``. Quantiles interpolate linearly between
        sorted values (numpy's default), the median averages the two middle values. Unlike llama.cpp, the base
        side is not stored as 16-bit log-probabilities (it drops classes below e^−16 from the KL sum): these are
        exact in float64 from the logits given. Rows with NaN are left out (``n`` counts the rest).
        """
        if self._summary:
            return dict(self._summary)
        keep = ~np.isnan(self.kl)
        if self.nll_base is not None:
            keep &= ~(np.isnan(self.nll_base) | np.isnan(self.nll_other))
        n = int(keep.sum())
        kl_rows = np.sort(self.kl[keep])
        out: dict[str, float] = {"n": n}
        if n == 0:
            raise InputError("div.no_rows")
        out["kl_mean"], out["kl_mean_unc"] = _mean_unc(kl_rows)
        out["kl_max"] = float(kl_rows[-1])
        for name, q in KL_QUANTILES:
            out[f"kl_{name}"] = _median(kl_rows) if name == "median" else _quantile(kl_rows, q)
        out["kl_min"] = float(kl_rows[0])
        out["js_mean"] = float(self.js[keep].mean())
        out["tv_mean"] = float(self.tv[keep].mean())
        same = float(self.same_top[keep].mean())
        out["same_top"], out["same_top_unc"] = same, math.sqrt(same * (1 - same) / (n - 1)) if n > 1 else 0.0
        if self.nll_base is not None:
            out.update(_perplexities(self.nll_other[keep], self.nll_base[keep]))
            dp = (self.p_other - self.p_base)[keep]
            out["delta_p_mean"], out["delta_p_mean_unc"] = _mean_unc(dp)
            mse, mse_unc = _mean_unc(dp * dp)
            out["delta_p_rms"] = math.sqrt(mse)
            out["delta_p_rms_unc"] = 0.5 / out["delta_p_rms"] * mse_unc if out["delta_p_rms"] > 0 else 0.0
            ordered = np.sort(dp)
            out["delta_p_max"] = float(ordered[-1])
            for name, q in DELTA_P_QUANTILES:
                out[f"delta_p_{name}"] = _median(ordered) if name == "median" else _quantile(ordered, q)
            out["delta_p_min"] = float(ordered[0])
        object.__setattr__(self, "_summary", out)
        return dict(out)

    def rows(self) -> dict[str, np.ndarray]:
        """Every per-row column, for a table or a CSV: ``row``, ``kl``, ``js``, ``tv``, ``same_top``, ``top_base``,
        ``top_other`` and, with targets, ``target``, ``p_base``, ``p_other``, ``delta_p``."""
        out = {"row": np.arange(len(self)), "kl": self.kl, "js": self.js, "tv": self.tv, "same_top": self.same_top,
               "top_base": self.top_base, "top_other": self.top_other}
        if self.targets is not None:
            out |= {"target": self.targets, "p_base": self.p_base, "p_other": self.p_other, "delta_p": self.delta_p}
        return out


def _mean_unc(x: np.ndarray) -> tuple[float, float]:
    """llama.cpp's ``mean_and_uncertainty``: the mean and, past ten values, its standard error."""
    n = x.size
    if n < 1:
        return 0.0, 0.0
    mean = float(np.mean(x))
    var = float(np.mean(x * x)) - mean * mean
    return mean, math.sqrt(var / (n - 1)) if var > 0 and n > 10 else 0.0


def _quantile(ordered: np.ndarray, fraction: float) -> float:
    """llama.cpp's ``percentile`` on sorted values: linear interpolation between the two neighbours (numpy's default
    method), taking a neighbour alone when it falls on it, so an infinite KL elsewhere does not turn it into NaN."""
    position = fraction * (ordered.size - 1)
    i = int(position)
    w = position - i
    j = min(i + 1, ordered.size - 1)
    if w == 0 or ordered[i] == ordered[j]:
        return float(ordered[i])
    return float((1 - w) * ordered[i] + w * ordered[j])


def _median(ordered: np.ndarray) -> float:
    n = ordered.size
    return float(ordered[n // 2]) if n % 2 else float(0.5 * (ordered[n // 2 - 1] + ordered[n // 2]))


def _perplexities(nll: np.ndarray, nll_base: np.ndarray) -> dict[str, float]:
    """Both perplexities, their ratio and difference, each ± as llama.cpp propagates it (the two sides correlate)."""
    n = nll.size
    log_ppl, log_ppl_unc = _mean_unc(nll)
    log_base, log_base_unc = _mean_unc(nll_base)
    cov = (float(np.mean(nll * nll_base)) - log_ppl * log_base) / (n - 1) if n >= 10 else 0.0
    ppl, ppl_base = math.exp(log_ppl), math.exp(log_base)
    ratio_unc = math.sqrt(max(0.0, log_ppl_unc ** 2 + log_base_unc ** 2 - 2 * cov))
    diff_unc = math.sqrt(max(0.0, (ppl * log_ppl_unc) ** 2 + (ppl_base * log_base_unc) ** 2 - 2 * ppl * ppl_base * cov))
    denominator = log_ppl_unc * log_base_unc
    return {
        "ppl_other": ppl, "ppl_other_unc": ppl * log_ppl_unc, "ppl_base": ppl_base, "ppl_base_unc": ppl_base * log_base_unc,
        "ppl_cor": cov / denominator if denominator > 0 else float("nan"),
        "ln_ppl_ratio": log_ppl - log_base, "ln_ppl_ratio_unc": ratio_unc,
        "ppl_ratio": math.exp(log_ppl - log_base), "ppl_ratio_unc": math.exp(log_ppl - log_base) * ratio_unc,
        "ppl_diff": ppl - ppl_base, "ppl_diff_unc": diff_unc,
    }


class Dump:
    """A folder of ``.npy`` shards of logits, taken in name order as one ``(rows, V)`` set (see :func:`open_dump`)."""

    def __init__(self, folder: str | os.PathLike) -> None:
        root = Path(folder)
        self.folder = root
        self.parts = sorted(p for p in root.iterdir() if p.suffix == ".npy" and not p.name.endswith(".labels.npy"))
        if not self.parts:
            raise InputError("div.dump_empty", path=str(root))
        shapes = []
        for part in self.parts:
            with open(part, "rb") as f:
                shape, _dtype = inputs.npy_header(f)
            if len(shape) != 2:
                raise InputError("div.dump_shape", path=part.name, shape=shape)
            shapes.append(shape)
        if len({s[1] for s in shapes}) != 1:
            raise InputError("div.dump_classes", path=str(root), shapes=", ".join(str(s) for s in shapes[:5]))
        self.lengths = [s[0] for s in shapes]
        self.shape = (sum(self.lengths), shapes[0][1])

    def __len__(self) -> int:
        return len(self.parts)

    def arrays(self) -> Iterator[np.ndarray]:
        for part in self.parts:
            yield np.load(part, mmap_mode="r", allow_pickle=False)


def open_dump(path: str | os.PathLike):
    """Logits stored on disk, opened without reading them: an ``.npy`` file as a read-only memory map, a folder of
    ``.npy`` shards (name order) as a :class:`Dump`. :func:`compare` reads either a chunk at a time.

    Raises :class:`~logitsviz.InputError` for a missing path, a file that is not a 2-D ``.npy``, or shards that
    disagree on the number of classes.
    """
    p = Path(path)
    if p.is_dir():
        return Dump(p)
    if not p.is_file():
        raise InputError("div.missing", path=str(p))
    if p.suffix != ".npy":
        raise InputError("div.not_npy", path=p.name)
    with open(p, "rb") as f:
        shape, _dtype = inputs.npy_header(f)
    if len(shape) != 2:
        raise InputError("div.dump_shape", path=p.name, shape=shape)
    return np.load(p, mmap_mode="r", allow_pickle=False)


def _pieces(source) -> list[np.ndarray]:
    return list(source.arrays()) if isinstance(source, Dump) else [source]


def compare(base, other, targets: ArrayLike | None = None, *, labels: tuple[str, str] = ("base", "other")) -> Comparison:
    """Compare two ``(N, V)`` sets of logits row by row: ``base`` is the reference P, ``other`` the approximation Q.

    Parameters
    ----------
    base, other : array_like, numpy.memmap, Dump or dask array
        Logits of the same N positions over the same V classes: arrays in memory, memory-mapped ``.npy`` dumps,
        folders of shards (:func:`open_dump`; both folders cut into shards of the same lengths), or dask arrays (reduced
        where their blocks live, on a ``dask.distributed`` cluster if a client is active). A single vector ``(V,)``
        counts as one row.
    targets : array_like of int, optional
        The class that actually came next at each row (the text's next token): adds both perplexities and Δp.

    Memory is bounded by :data:`CHUNK_BYTES` per side and the per-row results (a few numbers a row).

    Examples
    --------
    >>> c = compare([[2.0, 1.0, 0.1]], [[2.0, 1.0, 0.1]], targets=[0])
    >>> float(c.kl[0]), bool(c.same_top[0]), float(c.delta_p[0])
    (0.0, True, 0.0)
    """
    t = None if targets is None else _targets(targets)
    if chunks._is_dask(base) or chunks._is_dask(other):
        return _compare_dask(base, other, t, labels)
    a_parts, b_parts = _sides(base, other)
    if t is not None:
        _check_targets(t, sum(a.shape[0] for a in a_parts), a_parts[0].shape[1])
    work = functools.partial(_work, targets=t)
    result, done = None, 0
    for a, b in zip(a_parts, b_parts):
        for rows, other_rows, first in _paired_chunks(a, b, done):
            part = work(rows, other_rows, first)
            result = part if result is None else result + part
        done += a.shape[0]
    return _comparison(result, t, labels)


def _sides(base, other) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Both sides as lists of ``(rows, V)`` arrays taken in turn (a shard folder's shards), checked to line up."""
    if isinstance(base, Dump) or isinstance(other, Dump):
        a_parts, b_parts = _pieces(base), _pieces(other)
    else:
        a_parts, b_parts = [_as_rows(base, "base")], [_as_rows(other, "other")]
    a_rows, b_rows = [x.shape[0] for x in a_parts], [x.shape[0] for x in b_parts]
    a_cols, b_cols = a_parts[0].shape[1], b_parts[0].shape[1]
    if sum(a_rows) != sum(b_rows) or a_cols != b_cols:
        raise InputError("args.same_shape", a=(sum(a_rows), a_cols), b=(sum(b_rows), b_cols))
    if a_rows != b_rows:
        raise InputError("div.shards_differ", a=", ".join(map(str, a_rows[:6])), b=", ".join(map(str, b_rows[:6])))
    if a_cols == 0 or sum(a_rows) == 0:
        raise InputError("div.empty", shape=(sum(a_rows), a_cols))
    return a_parts, b_parts


def _paired_chunks(a: np.ndarray, b: np.ndarray, offset: int):
    """Calibration's chunks, ``b`` standing where the labels would; an array in memory is one chunk (``_work`` cuts it)."""
    if isinstance(a, np.memmap) or isinstance(b, np.memmap):
        yield from chunks._chunks(a, b, offset, CHUNK_BYTES)
    else:
        yield a, b, offset


def _as_rows(x, name: str) -> np.ndarray:
    if isinstance(x, np.memmap):
        if x.ndim != 2:
            raise InputError("div.rows_shape", name=name, shape=x.shape)
        return x
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiub":
        numerics._float_array(arr)  # raises the message for complex or non-numeric input
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise InputError("div.rows_shape", name=name, shape=arr.shape)
    return arr


def _targets(targets: ArrayLike) -> np.ndarray:
    t = np.asarray(targets)
    if t.ndim != 1 or (t.size and t.dtype.kind not in "iu" and not (t.dtype.kind == "f" and np.all(t == np.round(t)))):
        raise InputError("div.targets", shape=t.shape)
    return t.astype(np.int64)


def _check_targets(t: np.ndarray, n: int, v: int) -> None:
    if t.shape[0] != n:
        raise InputError("div.targets_length", n=n, got=t.shape[0])
    if t.size and (t.min() < 0 or t.max() >= v):
        bad = int(np.flatnonzero((t < 0) | (t >= v))[0])
        raise InputError("div.target_range", row=bad, value=int(t[bad]), v=v)


def _compare_dask(base, other, t, labels) -> Comparison:
    import dask.array as da

    a = base if chunks._is_dask(base) else da.from_array(_as_rows(base, "base"))
    b = other if chunks._is_dask(other) else da.from_array(_as_rows(other, "other"))
    if a.ndim != 2 or a.shape != b.shape:
        raise InputError("args.same_shape", a=a.shape, b=b.shape)
    if t is not None:
        _check_targets(t, a.shape[0], a.shape[1])
    return _comparison(chunks._reduce_dask(a, b, functools.partial(_work, targets=t)), t, labels)


def _comparison(rows: _Rows, t, labels) -> Comparison:
    return Comparison(rows.kl, rows.js, rows.tv, rows.same_top, rows.top_base, rows.top_other, t,
                      rows.p_base, rows.p_other, rows.nll_base, rows.nll_other, tuple(labels))


# ------------------------------------------------------ only the top k known ----


@dataclass(frozen=True)
class Bounds:
    """What two distributions known only by their top entries (an API's top logprobs) allow one to say.

    ``tv_low ≤ TV ≤ tv_high`` and ``KL(P ‖ Q) ≥ kl_low`` hold for every pair of full distributions that agree
    with the listed entries; ``same_top`` is exact (each side's top entry is always listed). No upper bound on KL exists:
    Q may give any unlisted token almost nothing.
    """

    tv_low: float
    tv_high: float
    kl_low: float
    same_top: bool
    shared: int  # tokens listed on both sides


def top_bounds(p_top: Mapping[str, float], q_top: Mapping[str, float]) -> Bounds:
    """Bounds on TV and KL from two top-k lists ``{token: probability}`` (see :class:`Bounds`).

    TV is ``1 − Σ min(p, q)``. Its upper bound counts only tokens listed on both sides; its lower bound lets every
    token listed on one side take as much as the other side could give it (its smallest listed probability, or what is
    left), and lets the unlisted rest overlap as much as it can. KL's lower bound is the KL of the coarser
    distributions (each shared token, and everything else as one outcome: the data-processing inequality), or Pinsker's
    ``2·TV_low²``, whichever is larger.

    Examples
    --------
    >>> b = top_bounds({"a": 0.6, "b": 0.3}, {"a": 0.5, "c": 0.2})
    >>> round(b.tv_low, 3), round(b.tv_high, 3), b.same_top
    (0.1, 0.5, True)
    """
    for side in (p_top, q_top):
        _check_top(side)
    shared = set(p_top) & set(q_top)
    rest_p, rest_q = max(0.0, 1 - sum(p_top.values())), max(0.0, 1 - sum(q_top.values()))
    cap_p, cap_q = min(min(p_top.values()), rest_p), min(min(q_top.values()), rest_q)
    overlap_known = sum(min(p_top[k], q_top[k]) for k in shared)
    overlap_most = (overlap_known + sum(min(p_top[k], cap_q) for k in p_top.keys() - shared)
                    + sum(min(q_top[k], cap_p) for k in q_top.keys() - shared) + min(rest_p, rest_q))
    tv_low, tv_high = max(0.0, 1 - min(1.0, overlap_most)), max(0.0, 1 - overlap_known)
    kl_low = max(_coarse_kl(p_top, q_top, shared), 2 * tv_low * tv_low, 0.0)
    same = max(p_top, key=p_top.get) == max(q_top, key=q_top.get)
    return Bounds(tv_low, tv_high, kl_low, same, len(shared))


def _check_top(side: Mapping[str, float]) -> None:
    if not side:
        raise InputError("div.top_empty")
    values = np.array(list(side.values()), dtype=np.float64)
    if np.any(~np.isfinite(values)) or np.any(values < 0) or values.sum() > 1 + 1e-6:
        raise InputError("div.top_probs", total=f"{values.sum():.4g}")


def _coarse_kl(p_top: Mapping[str, float], q_top: Mapping[str, float], shared: set[str]) -> float:
    """KL of the coarsening {each shared token, all the rest}: a lower bound on the full KL (data processing). A term
    whose q is 0 (rounding in the listed numbers) is positive and left out, which keeps it a lower bound."""
    total = sum(p_top[k] * math.log(p_top[k] / q_top[k]) for k in shared if p_top[k] > 0 and q_top[k] > 0)
    p_other = max(0.0, 1 - sum(p_top[k] for k in shared))
    q_other = max(0.0, 1 - sum(q_top[k] for k in shared))
    if p_other > 0 and q_other > 0:
        total += p_other * math.log(p_other / q_other)
    return total


# -------------------------------------------------------- speculative decoding ----


@dataclass(frozen=True)
class Speculative:
    """One position of speculative sampling (Leviathan et al. 2023, Algorithm 1; Chen et al. 2023).

    The draft proposes ``x ~ q``; the target keeps it with probability ``min(1, p(x) / q(x))``, and otherwise samples
    from the residual ``normalise(max(0, p − q))``. The result is distributed exactly as ``p``.

    Attributes
    ----------
    target, draft : numpy.ndarray
        ``p`` and ``q`` (float64, last axis the vocabulary).
    acceptance : numpy.ndarray
        ``Σ min(p, q) = 1 − TV(p, q)``: the chance the draft's token is kept (α in the paper).
    accept : numpy.ndarray
        ``min(1, p / q)`` per token: the chance a drafted token is kept (1 where q is 0).
    residual : numpy.ndarray
        ``max(0, p − q)`` normalised: what the target samples after a rejection (``p`` itself where p = q, where no
        rejection can happen).
    """

    target: np.ndarray
    draft: np.ndarray
    acceptance: np.ndarray
    accept: np.ndarray
    residual: np.ndarray

    def sample(self, n: int, rng=None) -> tuple[np.ndarray, np.ndarray]:
        """Run draft-then-correct ``n`` times at a single position: ``(tokens, kept)``, ``kept`` whether the draft's
        token was accepted. ``rng``: a seed or a ``numpy.random.Generator``. The tokens follow ``target`` exactly."""
        if self.target.ndim != 1:
            raise InputError("div.sample_one")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise InputError("args.n_samples", value=n)
        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        drafted = gen.choice(self.draft.size, size=int(n), p=self.draft / self.draft.sum())
        kept = gen.random(int(n)) < self.accept[drafted]
        fixed = gen.choice(self.residual.size, size=int(n), p=self.residual / self.residual.sum())
        return np.where(kept, drafted, fixed), kept


def speculative(target_logits: ArrayLike, draft_logits: ArrayLike) -> Speculative:
    """Speculative sampling of a target model with a draft model, at each position (see :class:`Speculative`).

    Examples
    --------
    >>> s = speculative([2.0, 1.0, 0.1], [0.1, 1.0, 2.0])
    >>> round(float(s.acceptance), 4)   # 1 − TV
    0.4396
    """
    logp, logq, _ = _pair(target_logits, draft_logits, -1)
    p, q = np.exp(logp.astype(np.float64)), np.exp(logq.astype(np.float64))
    acceptance = np.minimum(p, q).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        accept = np.where(q > 0, np.minimum(1.0, p / q), 1.0)
        extra = np.maximum(0.0, p - q)
        mass = extra.sum(axis=-1, keepdims=True)
        residual = np.where(mass > 0, extra / np.where(mass > 0, mass, 1.0), p)
    return Speculative(p, q, acceptance, accept, residual)


def expected_accepted(alpha: ArrayLike, draft_length: ArrayLike) -> np.ndarray:
    r"""Expected tokens each target pass produces when the draft proposes ``draft_length`` (γ) tokens, each accepted
    with probability ``alpha`` (α) independently: ``(1 − α^(γ+1)) / (1 − α)``, and ``γ + 1`` at α = 1 (Leviathan et
    al. 2023, equation 1). It counts the target's own token after the accepted ones, so it is 1 at α = 0.

    Examples
    --------
    >>> float(expected_accepted(0.8, 4))
    3.3616
    >>> float(expected_accepted(1.0, 4))
    5.0
    """
    a = np.asarray(alpha, dtype=np.float64)
    g = np.asarray(draft_length)
    if np.any(np.isnan(a)) or np.any((a < 0) | (a > 1)):
        raise InputError("div.alpha")
    if g.dtype.kind not in "iu" or np.any(g < 0):
        raise InputError("div.draft_length")
    a, g = np.broadcast_arrays(a, g.astype(np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(a < 1, -np.expm1((g + 1) * np.log1p(a - 1)) / (1 - np.where(a < 1, a, 0.0)), g + 1)
    return out[()] if out.ndim == 0 else out
