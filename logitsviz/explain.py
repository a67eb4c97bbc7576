"""View models: every number a page section shows, computed by one function each, ready to draw.

Each function here takes arrays and settings and returns a frozen dataclass
(:class:`SoftmaxSteps` is the template); :mod:`logitsviz.figures` draws them
and the app lays them out, so notebook users can call the same functions and
get every number the app shows. The whole vector is always computed; only
the rows to display are picked out (the top ``N``, found in O(C) with
``np.argpartition``) and the rest is summarised as one "others" entry.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from logitsviz import calibration, numerics, sampling
from logitsviz.errors import InputError
from logitsviz.i18n import t
from logitsviz.tokens import visible

__all__ = [
    "DTYPES",
    "INTERVAL_METRICS",
    "INTERVALS_QUICK_FIRST",
    "CalibrationMetricsView",
    "calibration_metrics",
    "metric_interval",
    "BarGroups",
    "CrossEntropyView",
    "DecodingView",
    "DistillationView",
    "DtypeRow",
    "ExpRanges",
    "RowsOverview",
    "InfoNCEView",
    "SampleView",
    "ShiftView",
    "SigmoidView",
    "SoftmaxSteps",
    "StageView",
    "TailRow",
    "TemperatureCurve",
    "compact_steps",
    "ASSUMED_VOCAB",
    "PositionView",
    "SequenceView",
    "position_view",
    "sequence_view",
    "cross_entropy_curve",
    "cross_entropy_view",
    "decoding",
    "decoding_units",
    "generation_step",
    "generation_view",
    "trace_steps",
    "GenerationStep",
    "GenerationView",
    "decoding_chart",
    "distillation_view",
    "exp_limits",
    "exp_ranges",
    "info_nce_view",
    "reliability",
    "rows_overview",
    "samples",
    "shift_view",
    "sigmoid_view",
    "softmax_steps",
    "softmax_table",
    "stability_rows",
    "stage_view",
    "tail_rows",
    "temperature_curve",
    "top_groups",
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
    raw_exps: np.ndarray | None = None  # exp(z) with no shift, as textbooks write it (inf where it overflows)
    raw_exp_sum: float = float("nan")  # sum of exp(z) over all classes (inf when it overflows)
    temperature: float = 1.0  # the T and c of z = (x + c) / T, so a chart can say what it draws
    shift: float = 0.0


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
    >>> s.raw_exps.round(2), round(s.raw_exp_sum, 2)     # the same, unshifted: e^2 = 7.39, ..., their sum 11.21
    (array([7.39, 2.72, 1.11]), 11.21)
    """
    x = np.asarray(logits, dtype=np.float64).ravel()
    z = (x + shift) / temperature if (shift or temperature != 1.0) else x
    # one logsumexp serves every probability: p = exp(z - lse) and log p = z - lse on the few shown (what softmax and
    # log_softmax give, to rounding), so a 200,000-class vector is read a few times, not ten
    lse = float(numerics.logsumexp(z))
    max_z = float(np.max(z))

    # the top-N by logit, largest first: softmax keeps the order (and tells apart logits whose p underflows alike)
    chosen = top_indices(z, top)
    # a top-N cut of a large vector reads best largest first, whatever `sort` says
    index = chosen if sort or chosen.size < z.size else np.sort(chosen)

    n_others = z.size - chosen.size
    if n_others:
        others = np.ones(z.size, dtype=bool)
        others[chosen] = False
        others_logit = float(numerics.logsumexp(z[others]))
    else:
        others_logit = -np.inf
    others_prob = (float(np.exp(others_logit - lse)) if n_others else 0.0) if np.isfinite(lse) else float("nan")

    best2 = chosen[:2] if chosen.size >= min(2, z.size) else top_indices(z, 2)
    h_bits = float(numerics.entropy(z, base=2))
    with np.errstate(invalid="ignore"):  # NaN or +inf logits: NaN probabilities, as softmax gives, without a warning
        shifted = z[index] - max_z
        margin = float(z[best2[0]] - z[best2[1]]) if z.size > 1 else float("nan")
        logp = z[index] - lse if np.isfinite(lse) else np.full(index.size, np.nan)  # +inf: every p NaN, as softmax's
        p = np.exp(logp)
    return SoftmaxSteps(
        index=index,
        logits=x[index],
        z=z[index],
        shifted=shifted,
        exps=np.exp(shifted),
        probs=p,
        logprobs=logp,
        n_classes=int(z.size),
        max_z=max_z,
        exp_sum=float(np.exp(lse - max_z)),
        others_count=n_others,
        others_prob=others_prob,
        others_logit=others_logit,
        argmax=int(best2[0]),
        top_prob=float(np.exp(z[best2[0]] - lse)) if np.isfinite(lse) else float("nan"),
        entropy_bits=h_bits,
        perplexity=float(2.0**h_bits),
        margin=margin,
        **_unshifted(z[index], lse),
        temperature=float(temperature),
        shift=float(shift),
    )


def _unshifted(shown: np.ndarray, lse: float) -> dict:
    """``exp(z)`` and its sum the textbook way, with no shift: they overflow for large logits, which is the lesson."""
    with np.errstate(over="ignore"):  # inf is the honest answer here: e^1000 does not fit a float
        return {"raw_exps": np.exp(shown), "raw_exp_sum": float(np.exp(lse))}


def compact_steps(top_logits: ArrayLike, rest_logsumexp: float, rest_count: int) -> SoftmaxSteps:
    """The steps of softmax for a distribution kept compactly: the top logits, and the logsumexp of all the others.

    That is what a generated step or an API's top-k logprobs hold. Every
    probability is exact (the rest's mass is ``exp(rest_logsumexp - total)``);
    the rest shows as one "others" entry, and entropy and perplexity, which
    need every class, are NaN.

    >>> s = compact_steps([2.0, 1.0], float(np.log(np.exp(0.1) + np.exp(-1.0))), 2)
    >>> s.probs.round(3).tolist(), round(s.others_prob, 3), s.others_count
    ([0.638, 0.235], 0.127, 2)
    """
    z = np.asarray(top_logits, dtype=np.float64).ravel()
    lse = float(np.logaddexp(numerics.logsumexp(z), rest_logsumexp))
    order = top_indices(z, z.size)
    z = z[order]
    max_z = float(z[0]) if rest_count == 0 else float(max(z[0], rest_logsumexp))
    probs = np.exp(z - lse)
    return SoftmaxSteps(
        index=order, logits=z, z=z, shifted=z - max_z, exps=np.exp(z - max_z), probs=probs, logprobs=z - lse,
        n_classes=int(z.size + rest_count), max_z=max_z, exp_sum=float(np.exp(lse - max_z)), others_count=int(rest_count),
        others_prob=float(np.exp(rest_logsumexp - lse)) if rest_count else 0.0,
        others_logit=float(rest_logsumexp) if rest_count else -np.inf, argmax=int(order[0]), top_prob=float(probs[0]),
        entropy_bits=float("nan"), perplexity=float("nan"), margin=float(z[0] - z[1]) if z.size > 1 else float("nan"),
    )


def softmax_table(logits: ArrayLike, *, temperature: float = 1.0, shift: float = 0.0) -> dict[str, np.ndarray]:
    """Every class's logit ``x``, ``z = (x + c) / T``, probability and log-probability: the Explorer's download.

    >>> {k: v.round(3).tolist() for k, v in softmax_table([2.0, 1.0, 0.1], temperature=2.0).items()}  # doctest: +NORMALIZE_WHITESPACE
    {'logit': [2.0, 1.0, 0.1], 'z': [1.0, 0.5, 0.05], 'probability': [0.502, 0.304, 0.194],
     'log_probability': [-0.69, -1.19, -1.64]}
    """
    x = np.asarray(logits, dtype=np.float64).ravel()
    z = (x + shift) / numerics._check_temperature(temperature)
    return {"logit": x, "z": z, "probability": numerics.softmax(z), "log_probability": numerics.log_softmax(z)}


@dataclass(frozen=True)
class RowsOverview:
    """Rows of logits at a glance: how sure each row is, and of what."""

    max_prob: np.ndarray  # (N,) the top probability
    entropy_bits: np.ndarray  # (N,)
    margin: np.ndarray  # (N,) top logit minus the runner-up (NaN with one class)
    argmax: np.ndarray  # (N,)


def rows_overview(batch: ArrayLike, temperature: float = 1.0) -> RowsOverview:
    """Top probability, entropy, top-2 margin and predicted class of every row of ``batch`` (N, C).

    >>> v = rows_overview([[2.0, 1.0, 0.1], [0.0, 0.0, 0.0]])
    >>> v.max_prob.round(3).tolist(), v.entropy_bits.round(3).tolist(), v.margin.tolist(), v.argmax.tolist()
    ([0.659, 0.333], [1.222, 1.585], [1.0, 0.0], [0, 0])
    """
    z = np.atleast_2d(np.asarray(batch, dtype=np.float64)) / numerics._check_temperature(temperature)
    p = numerics.softmax(z)
    if z.shape[1] > 1:
        two = -np.partition(-z, 1, axis=1)[:, :2]
        with np.errstate(invalid="ignore"):  # two masked classes: -inf - -inf, no margin
            margin = two[:, 0] - two[:, 1]
    else:
        margin = np.full(z.shape[0], np.nan)
    return RowsOverview(p.max(axis=1), numerics.entropy(z, base=2), margin, np.argmax(z, axis=1))


# ------------------------------------------------------- bars: top N + rest ----


@dataclass(frozen=True)
class BarGroups:
    """Grouped bars of a few series over the same classes: the classes shown, and one "rest" bar per series."""

    index: np.ndarray  # the classes shown, in display order
    series: tuple[np.ndarray, ...]  # each series' values at ``index``
    rest: tuple[float, ...] | None  # each series' total over the classes not shown; None when all are shown
    rest_count: int


def top_groups(series: Sequence[ArrayLike], top: int = 20, *, rest: bool = True, by_index: bool = False,
               include: int | None = None) -> BarGroups:
    """The ``top`` classes of the first series (largest first, or in class order with ``by_index``), plus the rest.

    ``include`` is a class that must be shown (it replaces the last of the top).

    >>> g = top_groups([[0.5, 0.1, 0.3, 0.1], [0.4, 0.2, 0.2, 0.2]], top=2)
    >>> g.index.tolist(), [v.tolist() for v in g.series], [round(r, 3) for r in g.rest], g.rest_count
    ([0, 2], [[0.5, 0.3], [0.4, 0.2]], [0.2, 0.4], 2)
    """
    values = [np.asarray(v, dtype=np.float64) for v in series]
    idx = top_indices(values[0], top)
    if include is not None and include not in idx:
        idx = np.append(idx[: max(top - 1, 0)], include)
    if by_index:
        idx = np.sort(idx)
    others = np.ones(values[0].size, dtype=bool)
    others[idx] = False
    n_rest = int(others.sum())
    totals = tuple(float(v[others].sum()) for v in values) if rest and n_rest else None
    return BarGroups(idx, tuple(v[idx] for v in values), totals, n_rest if totals is not None else 0)


# ---------------------------------------------------------------- decoding ----


@dataclass(frozen=True)
class StageView:
    """One decoding stage as its chart shows it: the tokens at its input, what it kept, the threshold it applied."""

    name: str
    setting: float
    measures: str  # what the threshold is: "probability", "mass", "count", "logit" or "none" (the filter says)
    axis: str  # what the bars are: "probability" or "logit"
    index: np.ndarray  # tokens shown, in the filter's own order (most likely, most typical or highest logit first)
    values: np.ndarray  # their probability (or logit) at the stage's input
    after: np.ndarray | None  # temperature only: their probability after it
    kept: np.ndarray  # bool per shown token
    rest_count: int  # finite tokens not shown (one "rest" bar on a probability axis)
    rest_value: float | None
    rest_kept: bool
    threshold: float | None
    cumulative: np.ndarray | None  # "mass" filters: running total of the shown bars
    removed: int
    left: int
    touched: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # tokens a transform changed, most likely first
    notes: dict = field(default_factory=dict)  # the unit's own: history length, whether XTC fired, mirostat's μ


def _stage_order(stage: sampling.Stage, p_in: np.ndarray, n_show: int) -> np.ndarray:
    """The tokens a stage's chart shows, in the order its filter ranks them."""
    before = stage.before
    if stage.filter.ranks_by == "typicality":
        score = np.where(np.isfinite(before), sampling.typicality(before), np.inf)
        return np.argsort(score, kind="stable")[:n_show]
    return top_indices(before if stage.filter.ranks_by == "logit" else p_in, n_show)


def stage_view(stage: sampling.Stage, top: int = 20) -> StageView:
    """What one stage of :func:`logitsviz.sampling.pipeline` did, for one vector, as a chart shows it.

    >>> v = stage_view(sampling.pipeline(np.log([0.5, 0.3, 0.15, 0.05]), {"top_p": 0.75})[0])
    >>> v.kept.tolist(), v.cumulative.round(2).tolist(), v.threshold, v.removed
    ([True, True, False, False], [0.5, 0.8, 0.95, 1.0], 0.75, 2)
    """
    before, after = stage.before, stage.after
    p_in = numerics.softmax(before)
    kept_all = np.isfinite(after)
    finite = np.isfinite(before)
    with np.errstate(invalid="ignore"):
        changed = np.flatnonzero(finite & np.isfinite(after) & (before != after)) if stage.filter.uses_history else np.zeros(0, np.int64)
    counts = dict(removed=int(stage.removed.sum()), left=int(kept_all.sum()),
                  touched=changed[np.argsort(-p_in[changed], kind="stable")], notes=dict(stage.notes))
    threshold = None if stage.threshold is None else float(stage.threshold)
    if stage.filter.measures == "none":  # temperature: before and after, nothing removed
        idx = top_indices(p_in, top)
        return StageView(stage.name, stage.value, "none", "probability", idx, p_in[idx], numerics.softmax(after)[idx],
                         kept_all[idx], 0, None, True, threshold, None, **counts)
    idx = _stage_order(stage, p_in, min(top, int(finite.sum())))
    axis = "logit" if stage.filter.ranks_by == "logit" else "probability"
    values = (before if axis == "logit" else p_in)[idx]
    rest = finite.copy()
    rest[idx] = False
    has_rest = bool(rest.any()) and axis == "probability"
    return StageView(
        stage.name, stage.value, stage.filter.measures, axis, idx, values, None, kept_all[idx],
        int(rest.sum()) if has_rest else 0, float(p_in[rest].sum()) if has_rest else None, bool(kept_all[rest].any()),
        threshold, np.cumsum(values) if stage.filter.measures == "mass" else None, **counts,
    )


def decoding_chart(original: ArrayLike, final: ArrayLike, top: int = 20) -> BarGroups:
    """The distribution before decoding beside the final, renormalised one: top ``top`` plus the rest."""
    return top_groups([numerics.softmax(np.asarray(original, dtype=np.float64)),
                       numerics.softmax(np.asarray(final, dtype=np.float64))], top)


@dataclass(frozen=True)
class DecodingView:
    """A decoding pipeline on one vector: every stage, the final logits, and the summary tiles."""

    stages: tuple[StageView, ...]
    final: np.ndarray  # logits after the last stage (removed tokens -inf)
    n_kept: int
    n_tokens: int
    mass_kept: float  # share of the original probability on the kept tokens
    entropy_bits: float  # of the final distribution
    entropy_change: float  # final minus original, bits
    greedy: int  # the final argmax
    chart: BarGroups  # original and final probabilities


def decoding(logits: ArrayLike, settings: dict[str, float], order: str = "transformers", top: int = 20) -> DecodingView:
    """Run the filters in ``settings`` in ``order`` on one vector and collect what the Decoding lab shows.

    >>> v = decoding([3.0, 2.0, 1.0, 0.0], {"top_k": 2})
    >>> v.n_kept, round(v.mass_kept, 3), v.greedy, [s.name for s in v.stages]
    (2, 0.881, 0, ['top_k'])
    """
    return decoding_units(logits, sampling.in_order(settings, order), top)


def decoding_units(logits: ArrayLike, steps: Sequence[sampling.Filter | tuple[str, float]], top: int = 20) -> DecodingView:
    """Run a chain of units in exactly the order given on one vector and collect what the Decoding lab shows.

    >>> v = decoding_units([3.0, 2.0, 1.0, 0.0], [sampling.RepetitionPenalty(2.0, (0,)), sampling.TopK(2)])
    >>> [s.name for s in v.stages], v.stages[0].touched.tolist(), v.greedy
    (['repetition', 'top_k'], [0], 1)
    """
    z = np.asarray(logits, dtype=np.float64).ravel()
    stages = sampling.chain(z, steps)
    final = stages[-1].after if stages else z
    kept = np.isfinite(final)
    h_final = float(numerics.entropy(final, base=2))
    return DecodingView(
        tuple(stage_view(s, top) for s in stages), final, int(kept.sum()), int(z.size),
        float(numerics.softmax(z)[kept].sum()), h_final, h_final - float(numerics.entropy(z, base=2)),
        int(np.argmax(final)), decoding_chart(z, final, top),
    )


@dataclass(frozen=True)
class SampleView:
    """``n`` seeded draws from a distribution, against its probabilities."""

    draws: np.ndarray
    counts: np.ndarray
    probs: np.ndarray
    total_variation: float  # half the L1 distance between observed frequencies and probabilities
    greedy_share: float  # share of draws that picked the most likely token
    distinct: int
    chart: BarGroups  # probabilities and observed frequencies


def samples(logits: ArrayLike, n: int, seed: int = 0, top: int = 20) -> SampleView:
    """Draw ``n`` tokens from ``softmax(logits)`` with ``seed``, and compare what came out with what was expected.

    >>> v = samples([0.0, 0.0, -np.inf], 4000, seed=0)
    >>> v.distinct, v.total_variation < 0.03, v.counts[2]
    (2, True, np.int64(0))
    """
    z = np.asarray(logits, dtype=np.float64).ravel()
    draws = sampling.sample(z, n, rng=seed)
    counts = np.bincount(draws, minlength=z.size)
    probs = numerics.softmax(z)
    freq = counts / max(1, int(counts.sum()))
    greedy = int(np.argmax(z))
    return SampleView(draws, counts, probs, 0.5 * float(np.abs(freq - probs).sum()), float(freq[greedy]),
                      int((counts > 0).sum()), top_groups([probs, freq], top))


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


@dataclass(frozen=True)
class ShiftView:
    """Naive softmax of ``z - c`` for no shift, the max and the user's ``c``: only shifting by the max is always safe."""

    max_z: float  # the largest finite logit
    shifts: tuple[tuple[str, float], ...]  # ("none" | "max" | "yours", c)
    naive: tuple[np.ndarray, ...]  # naive_softmax(z - c) for each shift
    ok: tuple[bool, ...]  # no inf or NaN in it
    stable: np.ndarray  # softmax(z), for comparison


def shift_view(logits: ArrayLike, c: float) -> ShiftView:
    """Naive softmax after subtracting 0, ``max(z)`` and ``c``.

    >>> v = shift_view([1000.0, 999.0], 0.0)
    >>> v.ok, v.max_z
    ((False, True, False), 1000.0)
    """
    z = np.asarray(logits, dtype=np.float64).ravel()
    finite = z[np.isfinite(z)]
    max_z = float(finite.max()) if finite.size else 0.0
    shifts = (("none", 0.0), ("max", max_z), ("yours", float(c)))
    naive = tuple(numerics.naive_softmax(z - shift) for _, shift in shifts)
    return ShiftView(max_z, shifts, naive, tuple(bool(np.all(np.isfinite(p))) for p in naive), numerics.softmax(z))


@dataclass(frozen=True)
class ExpRanges:
    """Where ``exp`` neither overflows nor underflows to 0, per float type, and where the logits sit."""

    points: np.ndarray  # the finite logits (at most 2,000, spread over their range)
    dtypes: tuple[str, ...]
    limits: tuple[tuple[float, float], ...]  # (underflow, overflow) per type
    outside: tuple[np.ndarray, ...]  # per type: which points fall outside its safe range


def exp_ranges(logits: ArrayLike, max_points: int = 2000) -> ExpRanges:
    """The Stability chart: each type's safe range for ``exp``, the logits marked, those outside flagged.

    >>> v = exp_ranges([1.0, 50.0])
    >>> v.dtypes, [o.tolist() for o in v.outside]
    (('float16', 'float32', 'float64'), [[False, True], [False, False], [False, False]])
    """
    z = np.asarray(logits, dtype=np.float64).ravel()
    z = z[np.isfinite(z)]
    if z.size > max_points:  # enough to show where the values sit
        z = np.sort(z)[np.linspace(0, z.size - 1, max_points).astype(int)]
    limits = tuple(exp_limits(dtype)[::-1] for dtype in DTYPES)
    return ExpRanges(z, tuple(np.dtype(d).name for d in DTYPES), limits, tuple((z > hi) | (z < lo) for lo, hi in limits))


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


@dataclass(frozen=True)
class CrossEntropyView:
    """Cross-entropy of one vector against a true class: the loss, its gradient, and the loss as that logit moves."""

    target: int
    loss: float
    neg_log_p: float  # -log p_y, from log-softmax (equals the loss without label smoothing)
    p_true: float
    probs: np.ndarray
    grad: np.ndarray  # p - q
    grad_index: np.ndarray  # classes the gradient chart shows: the largest |grad|, the true class among them
    grid: np.ndarray  # values of the true logit
    curve: np.ndarray  # the loss at each
    z_target: float


def cross_entropy_view(logits: ArrayLike, target: int, *, label_smoothing: float = 0.0, top: int = 20) -> CrossEntropyView:
    """Everything the cross-entropy section shows, for true class ``target``.

    >>> v = cross_entropy_view([2.0, 1.0, 0.1], 0)
    >>> round(v.loss, 4), v.grad.round(3).tolist()
    (0.417, [-0.341, 0.242, 0.099])
    """
    z = np.asarray(logits, dtype=np.float64).ravel()
    y = int(target)
    grad = numerics.cross_entropy_grad(z, y, label_smoothing=label_smoothing)
    z_target = float(z[y]) if np.isfinite(z[y]) else 0.0
    grid = np.linspace(z_target - 10, z_target + 10, 201)
    probs = numerics.softmax(z)
    return CrossEntropyView(
        y, float(numerics.cross_entropy(z, y, label_smoothing=label_smoothing)), float(-numerics.log_softmax(z)[y]),
        float(probs[y]), probs, grad, top_groups([np.abs(grad)], top, rest=False, by_index=True, include=y).index,
        grid, cross_entropy_curve(z, y, grid, label_smoothing=label_smoothing), z_target,
    )


@dataclass(frozen=True)
class SigmoidView:
    """Sigmoid (each class on its own, multi-label) against softmax (classes compete) on the same logits."""

    sigmoid: np.ndarray
    softmax: np.ndarray
    targets: np.ndarray  # 1 for the chosen positives
    bce: np.ndarray  # per class
    logit_of_sigmoid: np.ndarray  # logit(sigmoid(z)) = z, the inverse
    sum_sigmoid: float
    sum_softmax: float
    bce_mean: float
    bars: BarGroups  # sigmoid and softmax, the top classes in class order


def sigmoid_view(logits: ArrayLike, positives: Sequence[int] = (), top: int = 20) -> SigmoidView:
    """Sigmoid and softmax side by side, and the binary cross-entropy against ``positives``.

    >>> v = sigmoid_view([0.0, 0.0], [0])
    >>> v.sum_sigmoid, v.sum_softmax, round(v.bce_mean, 4)
    (1.0, 1.0, 0.6931)
    """
    z = np.asarray(logits, dtype=np.float64).ravel()
    sig, soft = numerics.sigmoid(z), numerics.softmax(z)
    targets = np.zeros(z.size)
    targets[list(positives)] = 1.0
    bce = numerics.binary_cross_entropy(z, targets)
    return SigmoidView(sig, soft, targets, bce, numerics.logit(sig), float(sig.sum()), float(soft.sum()), float(bce.mean()),
                       top_groups([sig, soft], top, rest=False, by_index=True))


@dataclass(frozen=True)
class InfoNCEView:
    """A batch of paired embeddings under InfoNCE: similarities, logits ``cos / τ``, the loss and the τ curve."""

    similarity: np.ndarray  # (B, B) cosine similarities; the diagonal holds the positive pairs
    logits: np.ndarray
    probs: np.ndarray  # row-wise softmax: each a_i's distribution over the b_j
    loss: float
    chance: float  # log B: the loss of a model that cannot tell the pairs apart
    accuracy: float  # rows whose most similar b is their own
    tau: float
    taus: np.ndarray
    tau_losses: np.ndarray


def info_nce_view(batch: int, dim: int, noise: float, tau: float, seed: int = 0, taus: ArrayLike | None = None) -> InfoNCEView:
    """A seeded batch: ``a`` random, each ``b_i = a_i + noise · ε``, then InfoNCE at ``tau`` and across ``taus``.

    >>> v = info_nce_view(8, 16, 0.0, 0.1)   # no noise: every pair is found
    >>> v.accuracy, v.loss < 0.01
    (1.0, True)
    """
    rng = np.random.default_rng(int(seed))
    a = rng.normal(size=(int(batch), int(dim)))
    b = a + noise * rng.normal(size=a.shape)  # each b_i is a noisy view of a_i: the positive pair
    sim = numerics.cosine_similarity(a, b)
    logits = sim / tau
    grid = np.geomspace(0.01, 1.0, 60) if taus is None else np.asarray(taus, dtype=np.float64)
    return InfoNCEView(
        sim, logits, numerics.softmax(logits), float(numerics.info_nce(logits)), math.log(int(batch)),
        float(np.mean(np.argmax(logits, axis=1) == np.arange(int(batch)))), float(tau), grid,
        np.array([numerics.info_nce(sim / v) for v in grid]),
    )


@dataclass(frozen=True)
class DistillationView:
    """A teacher's and a student's logits: the distillation loss, and both distributions at T and at 1."""

    temperature: float
    kl: float  # KL(p_teacher || p_student) at T
    scaled: float  # T² · KL, the loss as used in training
    kl_at_1: float
    teacher_soft: np.ndarray  # softmax(z_t / T)
    student_soft: np.ndarray
    soft: BarGroups  # teacher and student at T
    hard: BarGroups  # at T = 1


def distillation_view(teacher: ArrayLike, student: ArrayLike, temperature: float) -> DistillationView:
    """The distillation loss ``T² · KL(softmax(z_t/T) ‖ softmax(z_s/T))`` and what it compares.

    >>> v = distillation_view([2.0, 1.0, 0.0], [2.0, 1.0, 0.0], 4.0)
    >>> v.kl, v.scaled
    (0.0, 0.0)
    """
    zt, zs = np.asarray(teacher, dtype=np.float64).ravel(), np.asarray(student, dtype=np.float64).ravel()
    if zt.size != zs.size:
        raise InputError("loss.kd.mismatch", a=zt.size, b=zs.size)
    kl = float(numerics.kl_divergence(zt, zs, temperature=temperature))
    pt, ps = numerics.softmax(zt, temperature=temperature), numerics.softmax(zs, temperature=temperature)
    return DistillationView(
        float(temperature), kl, temperature * temperature * kl, float(numerics.kl_divergence(zt, zs)), pt, ps,
        top_groups([pt, ps], zt.size, rest=False, by_index=True),
        top_groups([numerics.softmax(zt), numerics.softmax(zs)], zt.size, rest=False, by_index=True),
    )


# ------------------------------------------------------------- calibration ----


def reliability(logits: ArrayLike, labels: ArrayLike, n_bins: int = 15, strategy: str = "uniform", *,
                temperature: float = 1.0) -> calibration.Bins:
    """The reliability diagram's bins that :func:`logitsviz.figures.reliability` draws (see :func:`calibration.reliability_bins`)."""
    return calibration.reliability_bins(logits, labels, n_bins, strategy, temperature=temperature)


@dataclass(frozen=True)
class TemperatureCurve:
    """NLL and ECE across temperatures around the fitted one."""

    temperatures: np.ndarray
    nll: np.ndarray
    ece: np.ndarray
    fitted: float
    rows: int  # rows used: all of them, or a seeded sample of a very large set
    sampled: bool


def temperature_curve(logits: ArrayLike, labels: ArrayLike, fitted: float, *, n_bins: int = 15, strategy: str = "uniform",
                      points: int = 25, max_elements: int = 20_000_000, seed: int = 0) -> TemperatureCurve:
    """NLL and ECE at ``points`` temperatures from ``fitted / 4`` to ``fitted · 4`` (within 0.05-10).

    Above ``max_elements`` logits a seeded sample of rows is used, and the view says so.

    >>> z = np.array([[3.0, 0.0], [0.0, 3.0], [3.0, 0.0]])
    >>> c = temperature_curve(z, [0, 1, 1], fitted=2.0, points=3)
    >>> c.temperatures.round(2).tolist(), c.sampled
    ([0.5, 2.0, 8.0], False)
    """
    z, y = np.asarray(logits), np.asarray(labels)
    rows = np.arange(z.shape[0])
    if z.size > max_elements:
        rows = np.sort(np.random.default_rng(seed).choice(z.shape[0], max_elements // z.shape[1], replace=False))
        z, y = z[rows], y[rows]
    temps = np.geomspace(max(0.05, fitted / 4), min(10.0, fitted * 4), points)
    ece = [calibration.expected_calibration_error(z, y, n_bins, strategy=strategy, temperature=float(v)) for v in temps]
    return TemperatureCurve(temps, calibration.nll_curve(z, y, temps), np.array(ece), float(fitted), int(rows.size),
                            rows.size < np.asarray(logits).shape[0])


INTERVAL_METRICS = tuple(m.name for m in calibration.REGISTRY.values() if m.of_rows is not None)


@dataclass(frozen=True)
class CalibrationMetricsView:
    """What the Calibration page's "metrics and intervals" tab shows, at one temperature."""

    summary: calibration.Summary  # every metric (classwise ones too) and the Brier decomposition
    intervals: dict[str, calibration.Interval]  # bootstrap intervals of :data:`INTERVAL_METRICS`
    smooth: calibration.SmoothReliability  # with its band
    risk: calibration.RiskCoverage
    coverage: np.ndarray  # the risk-coverage curve thinned for drawing (at most ``points``)
    risk_curve: np.ndarray
    best_coverage: np.ndarray  # every mistake last: the best curve this accuracy allows
    best_risk: np.ndarray


def calibration_metrics(logits: ArrayLike, labels: ArrayLike, *, temperature: float = 1.0, n_bins: int = 15,
                        n_boot: int = 200, seed: int = 0, points: int = 400) -> CalibrationMetricsView:
    """Every metric with its bootstrap interval (the same ``n_boot`` resamples for each: same seed), the smoothed
    reliability curve and its band, and the risk-coverage curve. ``n_boot=0`` gives the view at once, without
    intervals or band (:func:`metric_interval` adds them one at a time).

    >>> v = calibration_metrics([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 3.0]], [0, 1, 1, 1], n_boot=20)
    >>> sorted(v.intervals) == sorted(INTERVAL_METRICS), float(v.coverage[-1]), round(float(v.best_risk[-1]), 2)
    (True, 1.0, 0.25)
    """
    summary = calibration.summarize(logits, labels, temperature=temperature, n_bins=n_bins)
    intervals = {name: metric_interval(name, logits, labels, temperature=temperature, n_bins=n_bins, n_boot=n_boot, seed=seed)
                 for name in INTERVAL_METRICS} if n_boot else {}
    smooth = calibration.smooth_reliability(logits, labels, temperature=temperature, n_boot=n_boot, rng=seed)
    rc = calibration.risk_coverage(logits, labels, temperature=temperature)
    pick = np.unique(np.linspace(0, rc.coverage.size - 1, min(points, rc.coverage.size)).round().astype(int))
    best_cov = np.linspace(0.0, 1.0, points + 1)[1:]
    best_risk = np.maximum(0.0, best_cov - (1.0 - rc.error_rate)) / best_cov
    return CalibrationMetricsView(summary, intervals, smooth, rc, rc.coverage[pick], rc.risk[pick], best_cov, best_risk)


def metric_interval(name: str, logits: ArrayLike, labels: ArrayLike, *, temperature: float = 1.0, n_bins: int = 15,
                    n_boot: int = 200, seed: int = 0) -> calibration.Interval:
    """One metric's bootstrap interval as :func:`calibration_metrics` computes it (the same resamples for every metric).

    >>> iv = metric_interval("accuracy", [[2.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 3.0]], [0, 1, 1, 1], n_boot=20)
    >>> iv.low <= iv.estimate == 0.75 <= iv.high
    True
    """
    return calibration.bootstrap(name, logits, labels, n=n_boot, rng=seed, temperature=temperature, n_bins=n_bins)


# the order a page fills the intervals in: the quick ones first
INTERVALS_QUICK_FIRST = tuple(sorted(INTERVAL_METRICS, key=lambda name: calibration.REGISTRY[name].slow_to_resample))


# ------------------------------------------------------------- generation ----


@dataclass(frozen=True)
class GenerationStep:
    """One token drawn through a chain: what it was, how likely and surprising, how many tokens were in play, mirostat's μ."""

    token: int
    probability: float  # in the distribution it was drawn from
    surprise_bits: float  # -log2 of that
    entropy_bits: float  # of that distribution
    kept: int  # tokens it was drawn from
    mu: float | None  # mirostat's μ after the step, when the chain has one


def generation_step(logits: ArrayLike, units: Sequence[sampling.Filter], *, history: Sequence[int],
                    rng: np.random.Generator) -> GenerationStep:
    """Draw one token with :func:`logitsviz.sampling.draw` and describe it.

    >>> s = generation_step([2.0, 1.0, -np.inf], [sampling.TopK(1)], history=(), rng=np.random.default_rng(0))
    >>> s.token, s.probability, s.surprise_bits, s.kept
    (0, 1.0, 0.0, 1)
    """
    token, final = sampling.draw(logits, units, history=history, rng=rng)
    p = numerics.softmax(np.asarray(final, dtype=np.float64))
    mirostat = next((u for u in units if u.picks_token), None)
    return GenerationStep(token, float(p[token]), float(-np.log2(p[token])) + 0.0, float(numerics.entropy(final, base=2)),
                          int(np.isfinite(final).sum()), None if mirostat is None else float(mirostat.mu))


@dataclass(frozen=True)
class GenerationView:
    """A generation's steps as a chart draws them."""

    surprise: np.ndarray  # bits, per step
    entropy: np.ndarray  # bits, per step
    mu: np.ndarray | None  # mirostat's μ after each step
    tau: float | None  # mirostat's target
    mean_surprise: float


def generation_view(steps: Sequence[GenerationStep], tau: float | None = None) -> GenerationView:
    """The surprise and entropy of each step, with mirostat's μ and target when it ran.

    >>> generation_view([GenerationStep(0, 0.5, 1.0, 1.5, 2, None)]).mean_surprise
    1.0
    """
    surprise = np.array([s.surprise_bits for s in steps], dtype=np.float64)
    has_mu = bool(steps) and steps[-1].mu is not None
    return GenerationView(surprise, np.array([s.entropy_bits for s in steps], dtype=np.float64),
                          np.array([s.mu for s in steps], dtype=np.float64) if has_mu else None,
                          tau if has_mu else None, float(surprise.mean()) if surprise.size else 0.0)


def trace_steps(steps: Sequence) -> list[GenerationStep]:
    """The steps of a language model's generation (:class:`logitsviz.lm.Step`) as the Decoding lab lists them."""
    return [GenerationStep(int(s.token), float(s.final_prob), float(-np.log2(max(s.final_prob, 1e-300))) + 0.0,
                           float(s.final_entropy_bits), int(s.kept), s.mu) for s in steps]


def map_setting(result: calibration.MapResult) -> str:
    """What a fitted recalibration map chose, in words: its T, its λ (and whether cross-validation stopped at the
    grid's end, where the best may lie beyond), its bins or steps.

    >>> z = np.random.default_rng(0).normal(0, 3, (200, 3)); y = np.argmax(z, 1)
    >>> map_setting(calibration.compare_maps(z, y, kinds=("histogram",)).results[1])
    '15 bins'
    """
    p = result.fitted.params if result.fitted is not None else {}
    if result.kind == "temperature":
        return f"T = {p['T']:.3f}"
    if result.kind in ("matrix", "dirichlet"):
        edge = p["cv"] and p["reg"] in (calibration.REG_GRID[0], calibration.REG_GRID[-1])
        return t("cal.maps.lambda_edge" if edge else "cal.maps.lambda", value=f"{p['reg']:g}")
    if result.kind == "histogram":
        return t("cal.maps.bins", n=p["values"].size)
    if result.kind == "isotonic":
        return t("cal.maps.steps", n=int(np.unique(p["y"]).size))
    return ""


# ------------------------------------------------------------ token sequences ----

ASSUMED_VOCAB = 200_000  # the vocabulary size an entropy's upper bound assumes when only the top alternatives are known


@dataclass(frozen=True)
class SequenceView:
    """Every number the token view of a sequence shows: the Tokens page's response, the Language model page's text."""

    surprise_bits: np.ndarray  # -log2 p of each token; NaN where the token is outside the listed alternatives
    entropy_low: np.ndarray  # bits at each position: exact when the whole distribution is known (low == high)
    entropy_high: np.ndarray
    perplexity: float
    mean_surprise_bits: float  # over the tokens whose probability is known; NaN when none is
    mean_entropy_bits: float  # exact sequences only; NaN otherwise
    unknown: int  # tokens outside the listed alternatives (their probability is not known)
    least_likely: np.ndarray  # positions, most surprising first (unknown ones first of all)
    exact: bool


def sequence_view(seq, *, vocab: int = ASSUMED_VOCAB, least: int = 10) -> SequenceView:
    """The numbers of a :class:`logitsviz.tokens.LogprobSequence`, its entropies bounded with ``vocab`` tokens.

    >>> from logitsviz.tokens import LogprobSequence, Position
    >>> seq = LogprobSequence("example", (Position("a", False, math.log(0.5), (("a", math.log(0.5)), ("b", math.log(0.25)))),
    ...                                   Position("c", False, math.nan, (("d", math.log(0.9)),))))
    >>> v = sequence_view(seq)
    >>> v.surprise_bits.tolist(), v.unknown, v.least_likely.tolist(), round(v.perplexity, 3)
    ([1.0, nan], 1, [1, 0], 2.0)
    """
    lp = seq.logprobs
    surprise = -lp / math.log(2)  # NaN stays NaN (not listed); a token of probability 0 is infinitely surprising
    low, high = seq.entropy_bounds(vocab)
    mean = float(np.nanmean(surprise)) if np.isfinite(surprise).any() else float("nan")
    order = np.argsort(-np.nan_to_num(surprise, nan=np.inf), kind="stable")[:least]
    return SequenceView(surprise, low, high, float(seq.perplexity), mean,
                        float(np.mean(low)) if seq.exact else float("nan"), int((~np.isfinite(lp)).sum()), order, seq.exact)


@dataclass(frozen=True)
class PositionView:
    """One position of a sequence: its listed alternatives and the unlisted rest as one class, ready for a chart."""

    labels: list[str]  # the alternatives with a known probability, then the rest (``rest_label``) when it has mass
    logits: np.ndarray  # their log-probabilities: softmax gives the probabilities back exactly
    known: int  # how many of ``labels`` are listed alternatives
    rest: float  # the unlisted probability mass
    chosen: int | None  # which listed alternative is the token actually chosen
    steps: SoftmaxSteps | None  # the chart's numbers; None when nothing is listed


def position_view(pos, rest_label: str) -> PositionView:
    """The alternatives of a :class:`logitsviz.tokens.Position` plus the rest, with the chosen token found among them.

    >>> from logitsviz.tokens import Position
    >>> v = position_view(Position("b", False, math.log(0.25), (("a", math.log(0.5)), ("b", math.log(0.25)))), "rest")
    >>> v.labels, v.chosen, round(v.rest, 2), v.steps.probs.round(2).tolist(), round(v.steps.others_prob, 2)
    (['a', 'b', 'rest'], 1, 0.25, [0.5, 0.25], 0.25)
    """
    listed = [(text, lp) for text, lp in pos.top if math.isfinite(lp)]
    labels, logits, rest = [text for text, _ in listed], [lp for _, lp in listed], pos.rest
    if listed and rest > 0:
        labels.append(rest_label)
        logits.append(math.log(rest))
    # the alternatives are displayed text (blanks as ␣), the token its own characters: compared as shown
    chosen = next((i for i, (text, _) in enumerate(listed) if text == visible(pos.text)), None)
    steps = compact_steps(np.array([lp for _, lp in listed]), math.log(rest) if rest > 0 else -math.inf,
                          1 if rest > 0 else 0) if listed else None
    return PositionView(labels, np.array(logits, dtype=np.float64), len(listed), rest, chosen, steps)


# -------------------------------------------------------------- comparing two ----


def pair_groups(p: ArrayLike, q: ArrayLike, top: int = 12, extra: Sequence[ArrayLike] = ()) -> BarGroups:
    """Two distributions (and ``extra`` series) over the classes either side ranks in its top ``top``: the classes
    whose larger probability is largest, then one bar for the rest of each.

    >>> g = pair_groups([0.7, 0.2, 0.1, 0.0], [0.1, 0.2, 0.0, 0.7], top=1)
    >>> g.index.tolist(), [round(r, 2) for r in g.rest]
    ([0, 3], [0.3, 0.2])
    """
    a, b = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    both = np.unique(np.concatenate([top_indices(a, top), top_indices(b, top)]))
    order = both[np.argsort(-np.maximum(a[both], b[both]), kind="stable")]
    values = [a, b, *(np.asarray(x, dtype=np.float64) for x in extra)]
    others = np.ones(a.size, dtype=bool)
    others[order] = False
    n_rest = int(others.sum())
    rest = tuple(float(v[others].sum()) for v in values) if n_rest else None
    return BarGroups(order, tuple(v[order] for v in values), rest, n_rest)


@dataclass(frozen=True)
class PairView:
    """Two distributions at one position: their divergences, the chart, and the classes whose probability moved most."""

    kl: float
    js: float
    tv: float
    same_top: bool
    top_base: int
    top_other: int
    p: np.ndarray  # base probabilities (float64)
    q: np.ndarray  # other probabilities
    chart: BarGroups  # p and q over the classes either ranks high
    moved: np.ndarray  # classes ordered by |q − p|, largest first (at most ``moved_count``)


def pair_view(base_logits: ArrayLike, other_logits: ArrayLike, top: int = 12, moved_count: int = 10) -> PairView:
    """Everything the Compare page shows for one position.

    >>> v = pair_view([2.0, 1.0, 0.1], [0.1, 1.0, 2.0])
    >>> round(v.tv, 4), v.same_top, v.moved.tolist()[:2]
    (0.5604, False, [0, 2])
    """
    from logitsviz import divergence

    z_a, z_b = np.asarray(base_logits, dtype=np.float64), np.asarray(other_logits, dtype=np.float64)
    p, q = numerics.softmax(z_a), numerics.softmax(z_b)
    moved = np.argsort(-np.abs(q - p), kind="stable")[:moved_count]
    top_a, top_b = int(np.argmax(z_a)), int(np.argmax(z_b))
    return PairView(float(divergence.kl(z_a, z_b)), float(divergence.js(z_a, z_b)), float(divergence.tv(z_a, z_b)),
                    top_a == top_b, top_a, top_b, p, q, pair_groups(p, q, top), moved)


@dataclass(frozen=True)
class StatisticRow:
    section: str  # "ppl", "kl" or "p"
    key: str
    value: float
    uncertainty: float | None
    percent: bool


def statistics_rows(summary: dict) -> list[StatisticRow]:
    """The summary as llama.cpp's table lists it (:data:`logitsviz.divergence.STATISTICS`), only what was computed.

    >>> from logitsviz import divergence
    >>> rows = statistics_rows(divergence.compare([[1.0, 2.0]], [[2.0, 1.0]]).summary())
    >>> rows[0].key, rows[-1].key, rows[-1].percent
    ('kl_mean', 'same_top', True)
    """
    from logitsviz import divergence

    return [StatisticRow(section, key, float(summary[key]), None if unc is None else float(summary[unc]), unit == "percent")
            for section, key, unc, unit in divergence.STATISTICS if key in summary]


@dataclass(frozen=True)
class Histogram:
    edges: np.ndarray
    counts: np.ndarray
    log: bool  # edges spaced evenly in log10
    infinite: int  # values that are +inf (not in any bin)


def kl_histogram(values: ArrayLike, bins: int = 30) -> Histogram:
    """Counts of per-position KL on a log scale when it spans more than two decades (KL is heavy-tailed), else linear.

    >>> h = kl_histogram([0.001, 0.01, 0.1, 1.0, np.inf], bins=3)
    >>> h.log, h.counts.tolist(), h.infinite
    (True, [1, 1, 2], 1)
    """
    x = np.asarray(values, dtype=np.float64)
    x = x[~np.isnan(x)]
    infinite = int(np.isposinf(x).sum())
    x = x[np.isfinite(x)]
    positive = x[x > 0]
    if positive.size and positive.max() / positive.min() > 100:
        low, high = np.log10(positive.min()), np.log10(positive.max())
        edges = 10 ** np.linspace(low, high if high > low else low + 1, bins + 1)
        counts, _ = np.histogram(np.clip(x, edges[0], edges[-1]), edges)
        return Histogram(edges, counts, True, infinite)
    high = float(x.max()) if x.size and x.max() > 0 else 1.0
    counts, edges = np.histogram(x, bins=bins, range=(0.0, high))
    return Histogram(edges, counts, False, infinite)


@dataclass(frozen=True)
class SpeculativeView:
    """Speculative sampling at one position (target = base, draft = other) and a seeded simulation of it."""

    acceptance: float  # 1 − TV
    chart: BarGroups  # target, draft, residual
    draws: int
    sample_chart: BarGroups  # how often each token came out of draft-then-correct, beside the target
    accepted_rate: float  # share of draws whose draft token was kept
    p_value: float  # chi-square test of the draws against the target
    draft_p_value: float  # the same test of draws from the draft alone: how clearly the correction matters


def speculative_view(target_logits: ArrayLike, draft_logits: ArrayLike, draws: int = 20_000, seed: int = 0,
                     top: int = 10) -> SpeculativeView:
    """The residual beside target and draft, and ``draws`` seeded draft-then-correct samples tested against the target.

    The chi-square test pools the target's rarest tokens into one cell, so every cell expects at least five draws.

    >>> v = speculative_view([2.0, 1.0, 0.1], [0.1, 1.0, 2.0], draws=5000)
    >>> round(v.acceptance, 4), abs(v.accepted_rate - v.acceptance) < 0.03, v.p_value > 1e-4
    (0.4396, True, True)
    """
    from scipy import stats

    from logitsviz import divergence

    s = divergence.speculative(np.asarray(target_logits, dtype=np.float64), np.asarray(draft_logits, dtype=np.float64))
    tokens, kept = s.sample(int(draws), rng=int(seed))
    counts = np.bincount(tokens, minlength=s.target.size).astype(np.float64)
    plain = np.bincount(np.random.default_rng(int(seed) + 1).choice(s.draft.size, int(draws), p=s.draft / s.draft.sum()),
                        minlength=s.draft.size).astype(np.float64)
    expected = s.target * int(draws)
    return SpeculativeView(float(s.acceptance), pair_groups(s.target, s.draft, top, extra=[s.residual]), int(draws),
                           pair_groups(s.target, counts / max(int(draws), 1), top), float(kept.mean()) if draws else 0.0,
                           _chi_square(counts, expected, stats), _chi_square(plain, expected, stats))


def _chi_square(observed: np.ndarray, expected: np.ndarray, stats) -> float:
    """p-value of observed counts against expected ones, the cells expecting fewer than 5 pooled into one."""
    small = expected < 5
    obs = np.append(observed[~small], observed[small].sum()) if small.any() else observed
    exp = np.append(expected[~small], expected[small].sum()) if small.any() else expected
    keep = exp > 0
    if keep.sum() < 2:
        return 1.0
    obs, exp = obs[keep], exp[keep]
    return float(stats.chisquare(obs, exp * obs.sum() / exp.sum()).pvalue)


@dataclass(frozen=True)
class TopBoundsView:
    """Two API responses compared where only their top-k lists are known: bounds, position by position."""

    tokens_a: tuple[str, ...]
    tokens_b: tuple[str, ...]
    bounds: tuple  # divergence.Bounds per compared position
    compared: int  # positions compared: up to and including the first where the two drew different tokens
    total: int  # positions in the shorter response


def top_bounds_view(seq_a, seq_b) -> TopBoundsView:
    """Bounds on TV and KL at each position of two token sequences (:class:`logitsviz.tokens.LogprobSequence`) while
    they share the prefix: once the tokens drawn differ, the next positions continue different texts.

    The token drawn counts as listed with its own probability when the API gave it outside its top list.
    """
    from logitsviz import divergence

    n = min(len(seq_a.positions), len(seq_b.positions))
    bounds, compared = [], 0
    for pa, pb in zip(seq_a.positions[:n], seq_b.positions[:n]):
        top_a, top_b = _listed(pa), _listed(pb)
        if not top_a or not top_b:
            break
        bounds.append(divergence.top_bounds(top_a, top_b))
        compared += 1
        if pa.text != pb.text:
            break
    return TopBoundsView(tuple(p.text for p in seq_a.positions[:compared]), tuple(p.text for p in seq_b.positions[:compared]),
                         tuple(bounds), compared, n)


def _listed(position) -> dict[str, float]:
    listed = {text: math.exp(lp) for text, lp in position.top if math.isfinite(lp)}
    if position.text not in listed and math.isfinite(position.logprob):
        listed[position.text] = math.exp(position.logprob)
    total = sum(listed.values())
    if total > 1:  # rounded log-probabilities can add up to a hair over 1
        listed = {k: v / total for k, v in listed.items()}
    return listed


# ------------------------------------------------------------- inside the model ----


@dataclass(frozen=True)
class LensView:
    """The logit lens of a prompt as the Language model page's Layers tab shows it (a :class:`logitsviz.lm.Lens` in)."""

    tokens: tuple[str, ...]  # the prompt's tokens as text (columns)
    top_text: tuple[tuple[str, ...], ...]  # (layers + 1) × tokens: the top token at each row and position
    top_prob: np.ndarray  # (layers + 1, tokens)
    kl: np.ndarray  # (layers + 1, tokens): KL(final ‖ row)
    journey_ids: np.ndarray  # (tokens, k): the final row's top k at each position
    journey_text: tuple[tuple[str, ...], ...]  # tokens × k
    journey_prob: np.ndarray  # (tokens, k, layers + 1): their probability at every row
    journey_rank: np.ndarray  # (tokens, k, layers + 1): their 0-based rank at every row


def lens_view(lens) -> LensView:
    """Everything the Layers tab draws (a :class:`logitsviz.lm.Lens` in; its one pass over the rows gives it all)."""
    texts, probs = lens.top(1)
    ids, prob, rank = lens.journey()
    journey_text = tuple(tuple(lens.vocab[i] for i in row) for row in ids)
    return LensView(tuple(lens.tokens), tuple(tuple(row[0] for row in layer) for layer in texts), probs[..., 0],
                    lens.kl_to_final, ids, journey_text, prob, rank)


@dataclass(frozen=True)
class AttributionView:
    """Direct logit attribution as a waterfall, and the last step spelt out with real numbers."""

    names: tuple[str, ...]  # in the order the parts add up
    values: np.ndarray
    total: float
    token: str
    other: str
    logit: float
    hidden: np.ndarray  # the final normed hidden state (d,)
    row: np.ndarray  # the token's unembedding row (d,)
    bias: float  # the token's unembedding bias (0 when the model has none)


def attribution_view(att, vocab: Sequence[str], row: ArrayLike, bias: float = 0.0) -> AttributionView:
    """The parts of an :class:`logitsviz.lm.Attribution`, named in the current language, and the numbers of the last
    step: the final hidden state, the token's unembedding ``row`` and ``bias``."""
    names, values = [], []
    for kind, layer, value in att.items:
        if layer is None:
            names.append(t(f"lens.part.{kind}"))
        else:
            names.append(t(f"lens.part.{kind}", i=layer))
        values.append(value)
    return AttributionView(tuple(names), np.asarray(values, dtype=np.float64), float(sum(values)), vocab[att.token],
                           vocab[att.other], float(att.logit), np.asarray(att.hidden, dtype=np.float64),
                           np.asarray(row, dtype=np.float64), float(bias))


# ------------------------------------------------------------ trust a prediction ----


@dataclass(frozen=True)
class SetsView:
    """Conformal prediction sets on a held-out split of an evaluation set (the Calibration page's Prediction sets tab)."""

    alpha: float
    threshold: float | np.ndarray
    coverage: float
    mean_size: float
    worst_class: float
    size_counts: np.ndarray
    class_coverage: np.ndarray
    class_rows: np.ndarray
    alphas: np.ndarray  # the sweep of α
    sweep_coverage: np.ndarray  # test coverage at each α
    sweep_size: np.ndarray  # mean set size at each α
    n_cal: int
    n_test: int
    test_rows: np.ndarray  # indices of the test rows in the evaluation set
    sets: np.ndarray  # (n_test, C) bool


SWEEP = np.round(np.arange(0.01, 0.301, 0.01), 2)


def sets_view(logits: ArrayLike, labels: ArrayLike, split: float, seed: int, alpha: float, score: str,
              mondrian: bool = False) -> SetsView:
    """Fit on a ``split`` share of the rows (shuffled by ``seed``), measure on the rest; the same at every α of
    :data:`SWEEP` for the coverage curve.

    >>> from logitsviz import examples
    >>> m = examples.digits_model()
    >>> v = sets_view(m.logits, m.labels, 0.5, 0, 0.1, "aps")
    >>> v.n_cal + v.n_test == len(m.labels), v.coverage >= 0.8
    (True, True)
    """
    from logitsviz import conformal

    z, y = np.asarray(logits, dtype=np.float64), np.asarray(labels)
    order = np.random.default_rng(int(seed)).permutation(len(y))
    n_cal = max(1, min(len(y) - 1, round(float(split) * len(y))))
    cal, test = order[:n_cal], order[n_cal:]
    kw = dict(k_reg=1, lam=0.1) if score == "raps" else {}
    cp = conformal.fit(z[cal], y[cal], alpha, score, mondrian=mondrian, **kw)
    ev = cp.evaluate(z[test], y[test])
    sweep = [conformal.fit(z[cal], y[cal], float(a), score, mondrian=mondrian, **kw).evaluate(z[test], y[test]) for a in SWEEP]
    return SetsView(float(alpha), cp.threshold, ev.coverage, ev.mean_size, ev.worst_class_coverage, ev.size_counts,
                    ev.class_coverage, ev.class_rows, SWEEP, np.array([e.coverage for e in sweep]),
                    np.array([e.mean_size for e in sweep]), n_cal, len(test), test, cp.sets(z[test]))


@dataclass(frozen=True)
class OODView:
    """In-distribution logits against logits of inputs unlike the training data, scored every way."""

    results: tuple  # calibration.OOD per score, in calibration.OOD_SCORES order
    shift: float  # the constant added to every logit in the shift lesson
    msp_before: float
    msp_after: float
    energy_before: float
    energy_after: float


def ood_view(in_logits: ArrayLike, out_logits: ArrayLike, shift: float = 5.0) -> OODView:
    """Every OOD score's AUROC, FPR95 and ROC curve, and the shift lesson on the first in-distribution row.

    >>> v = ood_view([[3.0, 0.0], [0.0, 3.0]], [[0.1, 0.0]])
    >>> [r.score for r in v.results][:2], round(v.msp_after - v.msp_before, 12), v.energy_after - v.energy_before
    (['msp', 'max_logit'], 0.0, 5.0)
    """
    z = np.asarray(in_logits, dtype=np.float64)
    results = tuple(calibration.ood(z, out_logits, s) for s in calibration.OOD_SCORES)
    before, after = calibration.ood_scores(z[:1]), calibration.ood_scores(z[:1] + shift)
    return OODView(results, float(shift), float(before["msp"][0]), float(after["msp"][0]), float(before["energy"][0]),
                   float(after["energy"][0]))
