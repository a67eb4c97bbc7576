"""The units that reshape or cut one distribution with no memory: temperature and dynamic temperature,
smoothing, and the cut-offs (top-k, top-p, min-p, typical, ε, η, top-nσ, top-a, tail-free, p-less, XTC), each as a
unit class and as a function.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike

from logitsviz import numerics
from logitsviz.errors import InputError
from logitsviz.sampling.base import (
    SMALL_PROBABILITY_STOPS,
    TEMPERATURE_STOPS,
    Cut,
    Filter,
    Setting,
    _divide,
    _generator,
    _logits,
    _nonnegative,
    _per_row,
    _positive,
    _probability,
    _protect_top,
    _removed,
    _unsort,
)


@dataclass(frozen=True)
class Temperature(Filter):
    """Divide by ``t > 0``: below 1 sharpens, above 1 flattens; removes nothing."""

    t: float
    name: ClassVar[str] = "temperature"
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("temperature", "t", 0.8, 0.01, 100.0, 0.05, "%.2f", TEMPERATURE_STOPS, log=True),
    )
    measures: ClassVar[str] = "none"

    def __post_init__(self) -> None:
        object.__setattr__(self, "t", numerics._check_temperature(self.t))

    def _cut(self, z: np.ndarray) -> Cut:
        return Cut(_divide(z, np.float64(self.t)), None)


@dataclass(frozen=True)
class TopK(Filter):
    """Keep the ``k`` highest logits (and any tied with the k-th); the threshold is ``k``."""

    k: int
    name: ClassVar[str] = "top_k"
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("top_k", "k", 40, 1, 1_000_000, 1, "%d", (1, 100, 1), integer=True),
    )
    measures: ClassVar[str] = "count"

    def __post_init__(self) -> None:
        if isinstance(self.k, bool) or not isinstance(self.k, (int, np.integer)) or self.k < 1:
            raise InputError("args.top_k", value=self.k)

    def _cut(self, z: np.ndarray) -> Cut:
        v = z.shape[-1]
        if self.k >= v:
            return Cut(np.array(z, copy=True), self.k)
        kth = np.partition(z, v - self.k, axis=-1)[..., v - self.k : v - self.k + 1]
        return Cut(_removed(z, z < kth), self.k)


@dataclass(frozen=True)
class TopP(Filter):
    """Keep the smallest set of most likely tokens whose probability reaches ``p``; the threshold is ``p``."""

    p: float
    name: ClassVar[str] = "top_p"
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("top_p", "p", 0.9, 0.001, 1.0, 0.01, "%.3f", (0.01, 1.0, 0.01)),
    )
    measures: ClassVar[str] = "mass"

    def __post_init__(self) -> None:
        object.__setattr__(self, "p", _probability("p", self.p, closed_right=True))

    def _cut(self, z: np.ndarray) -> Cut:
        # transformers' rule: sort ascending, remove tokens whose cumulative probability is <= 1 - p
        order = np.argsort(z, axis=-1, kind="stable")
        cumulative = np.cumsum(np.take_along_axis(numerics.softmax(z), order, axis=-1), axis=-1)
        remove_sorted = cumulative <= 1 - self.p
        remove_sorted[..., -1] = False  # the most likely token
        return Cut(_removed(z, _unsort(remove_sorted, order)), self.p)


@dataclass(frozen=True)
class MinP(Filter):
    """Keep tokens whose probability is at least ``p`` times the top token's; the threshold is ``p · max p``."""

    p: float
    name: ClassVar[str] = "min_p"
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("min_p", "p", 0.05, 0.001, 1.0, 0.01, "%.3f", (0.01, 1.0, 0.01)),
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "p", _probability("p", self.p, closed_right=True))

    def _cut(self, z: np.ndarray) -> Cut:
        probs = numerics.softmax(z)
        threshold = self.p * np.max(probs, axis=-1, keepdims=True)
        return Cut(_removed(z, _protect_top(z, probs < threshold)), _per_row(threshold))


@dataclass(frozen=True)
class TypicalP(Filter):
    """Keep the tokens whose surprisal is closest to the entropy, up to mass ``p``; the threshold is ``p``."""

    p: float
    name: ClassVar[str] = "typical_p"
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("typical_p", "p", 0.9, 0.001, 1.0, 0.01, "%.3f", (0.01, 1.0, 0.01)),
    )
    measures: ClassVar[str] = "mass"
    ranks_by: ClassVar[str] = "typicality"

    def __post_init__(self) -> None:
        object.__setattr__(self, "p", _probability("p", self.p, closed_right=True))

    def _cut(self, z: np.ndarray) -> Cut:
        shifted = typicality(z)
        order = np.argsort(shifted, axis=-1, kind="stable")
        sorted_scores = np.take_along_axis(shifted, order, axis=-1)
        cumulative = np.cumsum(np.take_along_axis(numerics.softmax(z), order, axis=-1), axis=-1)
        # the token that crosses p is kept, and any tied with it
        last = np.minimum(np.sum(cumulative < self.p, axis=-1, keepdims=True), z.shape[-1] - 1)
        remove_sorted = sorted_scores > np.take_along_axis(sorted_scores, last, axis=-1)
        remove_sorted[..., 0] = False
        return Cut(_removed(z, _unsort(remove_sorted, order)), self.p)


@dataclass(frozen=True)
class EpsilonCutoff(Filter):
    """Remove tokens whose probability is below ``epsilon``, never the top token; the threshold is ``epsilon``."""

    epsilon: float
    name: ClassVar[str] = "epsilon"
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("epsilon", "epsilon", 3e-4, 1e-6, 0.999, 1e-4, "%.5f", SMALL_PROBABILITY_STOPS, log=True),
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "epsilon", _probability("epsilon", self.epsilon, closed_right=False))

    def _cut(self, z: np.ndarray) -> Cut:
        return Cut(_removed(z, _protect_top(z, numerics.softmax(z) < self.epsilon)), self.epsilon)


@dataclass(frozen=True)
class EtaCutoff(Filter):
    """Remove tokens below ``min(eta, sqrt(eta) · exp(-H))``, never the top token; that is the threshold."""

    eta: float
    name: ClassVar[str] = "eta"
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("eta", "eta", 2e-3, 1e-6, 0.999, 1e-4, "%.5f", SMALL_PROBABILITY_STOPS, log=True),
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "eta", _probability("eta", self.eta, closed_right=False))

    def _cut(self, z: np.ndarray) -> Cut:
        h = numerics.entropy(z)[..., None]
        threshold = np.minimum(self.eta, math.sqrt(self.eta) * np.exp(-h))
        return Cut(_removed(z, _protect_top(z, numerics.softmax(z) < threshold)), _per_row(threshold))


@dataclass(frozen=True)
class TopNSigma(Filter):
    """Keep logits within ``n`` standard deviations of the maximum; the threshold is the logit ``max - n·σ``."""

    n: float
    name: ClassVar[str] = "top_n_sigma"
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("top_n_sigma", "n", 1.0, 0.01, 10.0, 0.1, "%.2f", (0.1, 5.0, 0.1)),
    )
    measures: ClassVar[str] = "logit"
    ranks_by: ClassVar[str] = "logit"

    def __post_init__(self) -> None:
        try:
            n_value = float(self.n)
        except (TypeError, ValueError):
            raise InputError("args.positive", name="n", value=self.n) from None
        if not (math.isfinite(n_value) and n_value > 0):
            raise InputError("args.positive", name="n", value=self.n)
        object.__setattr__(self, "n", n_value)

    def _cut(self, z: np.ndarray) -> Cut:
        # sigma: population standard deviation of the finite logits. Huge logits can overflow the
        # squares: sigma = inf then keeps every token, quietly
        finite = np.isfinite(z)
        count = finite.sum(axis=-1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            mean = np.where(finite, z, 0.0).sum(axis=-1, keepdims=True) / count
            sigma = np.sqrt(np.where(finite, (z - mean) ** 2, 0.0).sum(axis=-1, keepdims=True) / count)
            threshold = np.max(z, axis=-1, keepdims=True) - self.n * sigma
            remove = z < threshold
        return Cut(_removed(z, remove), _per_row(threshold))


@dataclass(frozen=True)
class DynamicTemperature(Filter):
    """Entropy-based temperature: a flat distribution gets up to ``temperature + range_``, a peaked one down to ``temperature - range_``.

    llama.cpp's ``temp_ext`` sampler (``src/llama-sampling.cpp``): with H the
    entropy of the remaining tokens and log n its maximum,
    ``T = max(0, t - r) + 2r · (H / log n) ** exponent`` and the logits are
    divided by T, H and n over the tokens still in play. ``range_ = 0`` is
    plain temperature ``t``; one token left is not changed at all. A T of 0 (a one-hot distribution) keeps only the most likely
    token, as llama.cpp's temperature 0 does. The threshold shown is the T applied.
    """

    temperature: float
    range_: float = 0.0
    exponent: float = 1.0
    name: ClassVar[str] = "dynatemp"
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("dynatemp", "temperature", 1.0, 0.01, 100.0, 0.05, "%.2f", TEMPERATURE_STOPS, log=True),
        Setting("dyn_range", "range_", 0.5, 0.0, 10.0, 0.05, "%.2f"),
        Setting("dyn_exponent", "exponent", 1.0, 0.01, 10.0, 0.1, "%.2f"),
    )
    measures: ClassVar[str] = "none"

    def __post_init__(self) -> None:
        object.__setattr__(self, "temperature", numerics._check_temperature(self.temperature))
        object.__setattr__(self, "range_", _nonnegative("range", self.range_))
        object.__setattr__(self, "exponent", _positive("exponent", self.exponent))
        if not math.isfinite(self.temperature + self.range_):
            raise InputError("args.dynatemp_range", t=self.temperature, r=self.range_)

    def applied(self, z: np.ndarray) -> np.ndarray:
        """The temperature each row gets, shape ``(..., 1)``."""
        t = np.full((*z.shape[:-1], 1), self.temperature)
        if self.range_ <= 0:
            return t
        n = np.isfinite(z).sum(axis=-1, keepdims=True)
        h = numerics.entropy(z.astype(np.float64))[..., None]
        with np.errstate(divide="ignore", invalid="ignore"):
            normalized = np.where(n > 1, h / np.log(np.maximum(n, 2)), 0.0)
        lo, hi = max(0.0, self.temperature - self.range_), self.temperature + self.range_
        # one token left: llama.cpp applies nothing at all (a temperature of 1)
        return np.where(n > 1, lo + (hi - lo) * np.clip(normalized, 0.0, 1.0) ** self.exponent, 1.0)

    def _cut(self, z: np.ndarray) -> Cut:
        t = self.applied(z)
        with np.errstate(divide="ignore"):  # T = 0 rows are replaced just below
            out = _divide(z, t)
        greedy = (t <= 0)[..., 0]
        if greedy.any():  # T = 0: only the most likely token
            top = z == np.max(z, axis=-1, keepdims=True)
            out[greedy] = np.where(top[greedy], z[greedy], -np.inf)
        return Cut(out, _per_row(t))


@dataclass(frozen=True)
class TopA(Filter):
    """Remove tokens whose probability is below ``a · (max p)²``; the threshold is that probability.

    text-generation-webui's ``TopALogitsWarper`` (``modules/sampler_hijack.py``,
    from BlinkDL's RWKV): a confident top token raises the bar quadratically, a
    flat distribution keeps most tokens. The most likely token always stays.
    Typical: 0.2.
    """

    a: float
    name: ClassVar[str] = "top_a"
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("top_a", "a", 0.2, 0.001, 1.0, 0.01, "%.3f", (0.01, 1.0, 0.01)),
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "a", _probability("a", self.a, closed_right=True))

    def _cut(self, z: np.ndarray) -> Cut:
        probs = numerics.softmax(z)
        top = np.max(probs, axis=-1, keepdims=True)
        threshold = self.a * top * top
        return Cut(_removed(z, _protect_top(z, probs < threshold)), _per_row(threshold))


@dataclass(frozen=True)
class XTC(Filter):
    """Exclude Top Choices: with chance ``probability``, remove every token at or above ``threshold`` but the least likely of them.

    llama.cpp's XTC sampler (``src/llama-sampling.cpp``, by p-e-w): one
    uniform draw per application; if it is at most ``probability`` and at
    least two tokens reach ``threshold``, all of them except the least likely
    are removed (tied least likely ones all stay). A threshold above 0.5 can
    never hold two tokens, so it does nothing. ``rng``: a seed or a generator
    (a generator advances, so a generation gets a new draw each step).
    Typical: threshold 0.1, probability 0.5.
    """

    threshold: float
    probability: float = 0.5
    rng: int | np.random.Generator | None = None
    name: ClassVar[str] = "xtc"
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("xtc", "threshold", 0.1, 0.001, 1.0, 0.01, "%.3f", (0.01, 0.5, 0.01)),
        Setting("xtc_probability", "probability", 0.5, 0.0, 1.0, 0.05, "%.2f"),
    )
    uses_rng: ClassVar[bool] = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "threshold", _probability("threshold", self.threshold, closed_right=True))
        probability = _nonnegative("probability", self.probability)
        if probability > 1:
            raise InputError("args.unit_interval", name="probability", value=self.probability)
        object.__setattr__(self, "probability", probability)

    def _cut(self, z: np.ndarray) -> Cut:
        gen = _generator(self.rng)
        probs = numerics.softmax(z)
        out = np.array(z, copy=True)
        rows_in, rows_out, rows_p = z.reshape(-1, z.shape[-1]), out.reshape(-1, z.shape[-1]), probs.reshape(-1, z.shape[-1])
        fired = []
        for zi, oi, pi in zip(rows_in, rows_out, rows_p):
            chance = float(gen.random())
            above = pi >= self.threshold
            fire = self.probability > 0 and self.threshold <= 0.5 and np.isfinite(zi).sum() >= 2 and chance <= self.probability
            if fire and above.sum() >= 2:
                least = pi[above].min()
                oi[above & (pi > least)] = -np.inf
            fired.append(bool(fire))
        return Cut(out, self.threshold, {"fired": fired[0] if len(fired) == 1 else fired})


@dataclass(frozen=True)
class Smoothing(Filter):
    """Quadratic sampling: bend every logit towards the top one by its distance, ``max - k·f·d² + s·f·d³``, d = z - max.

    text-generation-webui's ``QuadraticSamplingLogitsWarper``
    (``modules/sampler_hijack.py``): ``k = (3 - curve) / 2``,
    ``s = (curve - 1) / 2``; curve 1 is the plain quadratic. The top token is
    unchanged; close runners-up barely move while the tail drops fast, so a
    larger factor is sharper. Removes nothing. Typical: factor 0.2-0.5.
    The maximum is each row's own (the webui takes one over the batch).
    """

    factor: float
    curve: float = 1.0
    name: ClassVar[str] = "smoothing"
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("smoothing", "factor", 0.3, 0.01, 10.0, 0.05, "%.2f", (0.05, 3.0, 0.05)),
        Setting("smoothing_curve", "curve", 1.0, 0.0, 10.0, 0.1, "%.2f"),
    )
    measures: ClassVar[str] = "none"

    def __post_init__(self) -> None:
        object.__setattr__(self, "factor", _positive("factor", self.factor))
        object.__setattr__(self, "curve", _nonnegative("curve", self.curve))

    def _cut(self, z: np.ndarray) -> Cut:
        finite = np.isfinite(z)
        k, s = (3 - self.curve) / 2, (self.curve - 1) / 2
        # over and invalid: extreme settings (a factor of 1e30) overflow; NaN from ∞·0 is a tail token pushed off the
        # scale, and a value past the dtype's range is clipped to it, so a result is a number or a masked class
        with np.errstate(invalid="ignore", over="ignore"):
            top = np.max(np.where(finite, z, -np.inf), axis=-1, keepdims=True).astype(np.float64)
            d = np.where(finite, z - top, 0.0)
            bent = top + (self.factor * (s * d - k)) * (d * d)  # max - k·f·d² + s·f·d³, with no inf - inf
            bent = np.where(d == 0, top, np.where(np.isnan(bent), -np.inf, bent))
            bent = np.minimum(bent, float(np.finfo(z.dtype).max)).astype(z.dtype)
        return Cut(np.where(finite, bent, z), None)


@dataclass(frozen=True)
class TailFree(Filter):
    """Tail-free sampling: cut where the sorted probabilities stop curving, by mass ``z`` of their second differences.

    text-generation-webui's ``TailFreeLogitsWarper`` (``modules/sampler_hijack.py``;
    Trenton Bricken, 2019): sort the probabilities, take the absolute second
    differences, normalise them to sum 1 and keep the most likely tokens up to
    and including the first whose running sum exceeds ``z``; the least likely
    token is always cut. (llama.cpp removed its version in 2024; it kept one
    token fewer.) The threshold shown is how many tokens stay. Typical: 0.95.
    """

    z: float
    name: ClassVar[str] = "tfs"
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("tfs", "z", 0.95, 0.001, 1.0, 0.01, "%.3f", (0.01, 1.0, 0.01)),
    )
    measures: ClassVar[str] = "count"

    def __post_init__(self) -> None:
        object.__setattr__(self, "z", _probability("z", self.z, closed_right=True))

    def _cut(self, z: np.ndarray) -> Cut:
        v = z.shape[-1]
        if v < 2 or self.z >= 1:
            return Cut(np.array(z, copy=True), v)
        order = np.argsort(-z, axis=-1, kind="stable")
        probs = np.take_along_axis(numerics.softmax(z), order, axis=-1).astype(np.float64)
        d2 = np.abs(np.diff(probs, n=2, axis=-1))
        total = d2.sum(axis=-1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            cdf = np.cumsum(d2 / total, axis=-1)
        remove_sorted = np.concatenate([np.zeros((*z.shape[:-1], 1), bool), cdf > self.z, np.ones((*z.shape[:-1], 1), bool)], axis=-1)
        remove_sorted[..., 0] = False
        mask = _unsort(remove_sorted, order)
        kept = (~mask & np.isfinite(z)).sum(axis=-1)
        return Cut(_removed(z, mask), int(kept) if np.ndim(kept) == 0 else kept)


@dataclass(frozen=True)
class PLess(Filter):
    """p-less sampling: keep the tokens at least as likely as two independent draws agreeing, ``p_i ≥ Σ p²``.

    No setting to tune (Tao et al., 2025, arXiv 2509.23234, after the authors'
    reference code): a confident distribution keeps few tokens, a flat one
    keeps many; the most likely token always stays, since Σp² ≤ max p. The
    ``norm`` variant lowers the bar to ``(V·Σp² - 1) / (V - 1)`` for more
    variety. The threshold is that probability.
    """

    norm: bool = False
    name: ClassVar[str] = "p_less"
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("p_less_norm", "norm", kind="switch"),
    )

    @property
    def setting(self) -> float:
        return float(self.norm)

    def _cut(self, z: np.ndarray) -> Cut:
        probs = numerics.softmax(z)
        threshold = np.sum(probs * probs, axis=-1, keepdims=True)
        v = z.shape[-1]
        if self.norm and v > 1:
            threshold = (v * threshold - 1) / (v - 1)
        return Cut(_removed(z, _protect_top(z, probs < threshold)), _per_row(threshold))


# --------------------------------------------------------------- filters ----


def temperature(logits: ArrayLike, t: float) -> np.ndarray:
    """Divide by the temperature ``t > 0``: below 1 sharpens, above 1 flattens; removes nothing.

    Typical values: 0.2-0.8 for focused answers, 1.0 neutral, 1.2-1.5 for variety.

    >>> temperature([2.0, 1.0, -np.inf], 0.5)
    array([  4.,   2., -inf])
    """
    return Temperature(t)(logits)


def top_k(logits: ArrayLike, k: int) -> np.ndarray:
    """Keep the ``k`` highest logits (and any tied with the k-th); ``k >= V`` keeps all.

    Typical values: 20-100.

    >>> top_k([3.0, 1.0, 2.0, 2.0], 2)   # the 2nd largest is 2.0: both 2.0s stay
    array([  3., -inf,   2.,   2.])
    """
    return TopK(k)(logits)


def top_p(logits: ArrayLike, p: float) -> np.ndarray:
    """Nucleus sampling: keep the smallest set of most likely tokens whose probability reaches ``p``.

    transformers' rule: sort probabilities ascending, take the cumulative
    sum, remove tokens whose cumulative sum is ``<= 1 - p``; the top token is
    always kept. Typical values: 0.9-0.95.

    >>> import numpy as np
    >>> top_p(np.log([0.5, 0.3, 0.15, 0.05]), 0.75)   # 0.5 + 0.3 = 0.8 reaches 0.75
    array([-0.69314718, -1.2039728 ,        -inf,        -inf])
    """
    return TopP(p)(logits)


def min_p(logits: ArrayLike, p: float) -> np.ndarray:
    """Keep tokens whose probability is at least ``p`` times the top token's.

    Scales with the model's confidence: a sure model keeps few tokens, an
    unsure one many. Typical values: 0.05-0.1.

    >>> import numpy as np
    >>> min_p(np.log([0.6, 0.3, 0.07, 0.03]), 0.1).round(3)   # threshold 0.1 x 0.6 = 0.06
    array([-0.511, -1.204, -2.659,   -inf])
    """
    return MinP(p)(logits)


def typical_p(logits: ArrayLike, p: float) -> np.ndarray:
    """Locally typical sampling: keep tokens whose surprisal is closest to the entropy, up to mass ``p``.

    With entropy H and surprisal -log p_i, tokens are sorted by
    ``|-log p_i - H|``; the shortest prefix whose probability reaches ``p`` is
    kept (the token that crosses ``p`` included, and any tied with it).
    Unlike the other filters it can remove the most likely token, when that
    token is far more predictable than the distribution is on average.
    Typical values: 0.2-0.95.

    >>> import numpy as np
    >>> # H = 1.28 nats; surprisals 0.92, 1.20, 1.61, 2.30: 0.3 is the most typical, then 0.2
    >>> typical_p(np.log([0.4, 0.3, 0.2, 0.1]), 0.4).round(3)
    array([  -inf, -1.204, -1.609,   -inf])
    """
    return TypicalP(p)(logits)


def epsilon_cutoff(logits: ArrayLike, epsilon: float) -> np.ndarray:
    """Remove tokens whose probability is below ``epsilon``; never the top token.

    Typical values: 3e-4 to 9e-4 (Hewitt et al. 2022, "Truncation Sampling as
    Language Model Desmoothing").

    >>> import numpy as np
    >>> epsilon_cutoff(np.log([0.7, 0.2, 0.09, 0.01]), 0.05).round(3)
    array([-0.357, -1.609, -2.408,   -inf])
    """
    return EpsilonCutoff(epsilon)(logits)


def eta_cutoff(logits: ArrayLike, eta: float) -> np.ndarray:
    """Remove tokens below ``min(eta, sqrt(eta) * exp(-H))``, H the entropy; never the top token.

    The threshold falls as the distribution gets flatter, so an uncertain
    model keeps more tokens. Typical values: 3e-4 to 2e-3.

    >>> import numpy as np
    >>> eta_cutoff(np.log([0.7, 0.2, 0.09, 0.01]), 0.05).round(3)
    array([-0.357, -1.609, -2.408,   -inf])
    """
    return EtaCutoff(eta)(logits)


def top_n_sigma(logits: ArrayLike, n: float) -> np.ndarray:
    """Keep logits within ``n`` standard deviations of the maximum (llama.cpp's top-nσ).

    σ is the population standard deviation of the finite logits. Works on
    raw logits, so it does not depend on the temperature. Typical values: 1-2.

    >>> top_n_sigma([4.0, 3.0, 0.0, -1.0], 1.0)   # sigma = 2.06: keep >= 1.94
    array([  4.,   3., -inf, -inf])
    """
    return TopNSigma(n)(logits)


def xtc(logits: ArrayLike, threshold: float, probability: float, *, rng: int | np.random.Generator | None) -> np.ndarray:
    """Exclude Top Choices (llama.cpp): with chance ``probability``, remove every token with p ≥ ``threshold`` but the least likely.

    >>> xtc(np.log([0.4, 0.3, 0.2, 0.1]), 0.15, 1.0, rng=0).round(3)
    array([  -inf,   -inf, -1.609, -2.303])
    """
    return XTC(threshold, probability, rng)(logits)


def dynamic_temperature(logits: ArrayLike, temperature: float, range_: float, exponent: float = 1.0) -> np.ndarray:
    """Divide by a temperature between ``temperature ± range_`` that grows with the entropy (llama.cpp's ``temp_ext``).

    >>> dynamic_temperature([2.0, 1.0, 0.5, 0.0], 1.0, 0.5).round(4)   # H / log 4 = 0.8005: T = 1.3005
    array([1.5378, 0.7689, 0.3845, 0.    ])
    """
    return DynamicTemperature(temperature, range_, exponent)(logits)


def smoothing(logits: ArrayLike, factor: float, curve: float = 1.0) -> np.ndarray:
    """Quadratic sampling (text-generation-webui): ``max - k·f·d² + s·f·d³`` with d = z - max, k = (3 - curve)/2, s = (curve - 1)/2.

    >>> smoothing([2.0, 1.0, 0.0, -np.inf], 0.5)
    array([ 2. ,  1.5,  0. , -inf])
    """
    return Smoothing(factor, curve)(logits)


def top_a(logits: ArrayLike, a: float) -> np.ndarray:
    """Remove tokens with probability below ``a · (max p)²`` (text-generation-webui, KoboldCpp); never the top token.

    >>> top_a(np.log([0.6, 0.2, 0.12, 0.08]), 0.3).round(3)   # threshold 0.108
    array([-0.511, -1.609, -2.12 ,   -inf])
    """
    return TopA(a)(logits)


def tail_free(logits: ArrayLike, z: float) -> np.ndarray:
    """Tail-free sampling (text-generation-webui): keep tokens until the normalised second differences pass mass ``z``.

    >>> tail_free(np.log([0.5, 0.25, 0.15, 0.06, 0.04]), 0.7).round(3)
    array([-0.693, -1.386, -1.897,   -inf,   -inf])
    """
    return TailFree(z)(logits)


def p_less(logits: ArrayLike, norm: bool = False) -> np.ndarray:
    """p-less sampling: keep tokens with ``p ≥ Σ p²`` (arXiv 2509.23234); no setting. ``norm``: the relaxed variant.

    >>> p_less(np.log([0.5, 0.3, 0.15, 0.05])).round(3)   # Σp² = 0.365
    array([-0.693,   -inf,   -inf,   -inf])
    """
    return PLess(norm)(logits)


def typicality(logits: ArrayLike) -> np.ndarray:
    """``|-log p_i - H|`` for each token: how far its surprisal is from the average (the entropy).

    >>> typicality(np.log([0.5, 0.5])).round(6)
    array([0., 0.])
    """
    logp = numerics.log_softmax(_logits(logits))
    with np.errstate(invalid="ignore"):
        # 0 * -inf is nan: nansum lets masked tokens add nothing to the entropy
        h = -np.nansum(np.exp(logp) * logp, axis=-1, keepdims=True)
        return np.abs(-logp - h)
