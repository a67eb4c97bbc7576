"""Decoding filters and sampling: how a language model turns next-token logits into a token.

Every filter takes logits of shape ``(..., V)`` and returns a new array of the
same shape and dtype in which removed tokens are ``-inf`` and kept tokens are
unchanged, so filters chain: ``top_p(top_k(temperature(z, 0.7), 50), 0.9)``.
The kept sets follow Hugging Face transformers' logits warpers with
``min_tokens_to_keep=1`` (``top_n_sigma`` follows llama.cpp); the most likely
token always survives. Ties at a boundary are kept.

Each filter is also a small unit, as transformers' warpers are: ``TopP(0.9)``
checks its setting once, and ``TopP(0.9).apply(z)`` returns the filtered
logits together with the threshold it applied (a probability, a cumulative
mass, a count or a logit: its ``measures``), so a chart draws the line the
filter actually used. The functions (``top_p(z, 0.9)``) are the same units
called once.

Probabilities inside a filter are computed in float64 (float32 for float32
input, as transformers does), from :func:`logitsviz.softmax`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike

from logitsviz import numerics
from logitsviz.errors import InputError

__all__ = [
    "temperature",
    "top_k",
    "top_p",
    "min_p",
    "typical_p",
    "epsilon_cutoff",
    "eta_cutoff",
    "top_n_sigma",
    "sample",
    "Cut",
    "Filter",
    "Temperature",
    "TopK",
    "TopP",
    "MinP",
    "TypicalP",
    "EpsilonCutoff",
    "EtaCutoff",
    "TopNSigma",
    "FILTERS",
    "ORDERS",
    "Stage",
    "build_chain",
    "chain",
    "pipeline",
    "typicality",
]


def _logits(logits: ArrayLike) -> np.ndarray:
    """The logits as a float array: floating dtypes kept (filters return the same dtype), others float64."""
    z = np.asarray(logits)
    if z.dtype.kind != "f":
        z, _ = numerics._float_array(z)
    if z.ndim == 0:
        raise InputError("args.scalar", name="logits")
    return z


def _probability(name: str, value: float, *, closed_right: bool) -> float:
    """Check ``value`` is in (0, 1] (or (0, 1) when not ``closed_right``)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError("args.probability", name=name, value=value, upper="1]" if closed_right else "1)") from None
    if not (0 < v < 1 or (closed_right and v == 1)):
        raise InputError("args.probability", name=name, value=value, upper="1]" if closed_right else "1)")
    return v


def _removed(z: np.ndarray, remove: np.ndarray) -> np.ndarray:
    """A copy of ``z`` with ``remove`` set to -inf: the one place filters write."""
    out = np.array(z, copy=True)
    out[remove] = -np.inf
    return out


def _protect_top(z: np.ndarray, remove: np.ndarray) -> np.ndarray:
    """Never remove the most likely token (nor tokens tied with it): min_tokens_to_keep=1."""
    with np.errstate(invalid="ignore"):
        return remove & (z < np.max(z, axis=-1, keepdims=True))


# ------------------------------------------------------------ the units ----


@dataclass(frozen=True)
class Cut:
    """What a filter did: the logits after it, and the threshold it applied (one per row; a float for one vector)."""

    after: np.ndarray
    threshold: float | np.ndarray | None


def _per_row(values: np.ndarray) -> float | np.ndarray:
    """A ``(..., 1)`` threshold as one value per row: a float for a single vector."""
    out = np.asarray(values)[..., 0]
    return float(out) if out.ndim == 0 else out


@dataclass(frozen=True)
class Filter:
    """One decoding step, its setting checked once.

    ``f(logits)`` returns the filtered logits; ``f.apply(logits)`` also
    returns the threshold (:class:`Cut`). Class attributes say how to show
    it: ``measures`` is what the threshold is (``"probability"``, ``"mass"``
    for a cumulative probability, ``"count"``, ``"logit"``, or ``"none"``),
    ``ranks_by`` how a chart orders the tokens (``"probability"``,
    ``"typicality"``, ``"logit"``).
    """

    name: ClassVar[str] = ""
    measures: ClassVar[str] = "probability"
    ranks_by: ClassVar[str] = "probability"

    @property
    def setting(self) -> float:
        """The one number this filter was built with (its temperature, k, p, ε, η or n)."""
        return getattr(self, fields(self)[0].name)

    @classmethod
    def from_setting(cls, value: float) -> Filter:
        """The filter for a setting as a control gives it (a float)."""
        return cls(value)

    def __call__(self, logits: ArrayLike) -> np.ndarray:
        return self.apply(logits).after

    def apply(self, logits: ArrayLike) -> Cut:
        """The filtered logits and the threshold used; an empty vocabulary comes back as it was."""
        z = _logits(logits)
        if z.shape[-1] == 0:
            return Cut(np.array(z, copy=True), None)
        return self._cut(z)

    def _cut(self, z: np.ndarray) -> Cut:  # pragma: no cover - every filter defines it
        raise NotImplementedError


@dataclass(frozen=True)
class Temperature(Filter):
    """Divide by ``t > 0``: below 1 sharpens, above 1 flattens; removes nothing."""

    t: float
    name: ClassVar[str] = "temperature"
    measures: ClassVar[str] = "none"

    def __post_init__(self) -> None:
        object.__setattr__(self, "t", numerics._check_temperature(self.t))

    def _cut(self, z: np.ndarray) -> Cut:
        with np.errstate(over="ignore"):  # a logit near the float limit over a small T is +inf, as division says
            return Cut(z / z.dtype.type(self.t), None)


@dataclass(frozen=True)
class TopK(Filter):
    """Keep the ``k`` highest logits (and any tied with the k-th); the threshold is ``k``."""

    k: int
    name: ClassVar[str] = "top_k"
    measures: ClassVar[str] = "count"

    def __post_init__(self) -> None:
        if isinstance(self.k, bool) or not isinstance(self.k, (int, np.integer)) or self.k < 1:
            raise InputError("args.top_k", value=self.k)

    @classmethod
    def from_setting(cls, value: float) -> Filter:
        return cls(int(value) if isinstance(value, float) and value.is_integer() else value)

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

    def __post_init__(self) -> None:
        object.__setattr__(self, "epsilon", _probability("epsilon", self.epsilon, closed_right=False))

    def _cut(self, z: np.ndarray) -> Cut:
        return Cut(_removed(z, _protect_top(z, numerics.softmax(z) < self.epsilon)), self.epsilon)


@dataclass(frozen=True)
class EtaCutoff(Filter):
    """Remove tokens below ``min(eta, sqrt(eta) · exp(-H))``, never the top token; that is the threshold."""

    eta: float
    name: ClassVar[str] = "eta"

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


def _unsort(mask_sorted: np.ndarray, order: np.ndarray) -> np.ndarray:
    """A mask over sorted positions put back in token order."""
    mask = np.empty_like(mask_sorted)
    np.put_along_axis(mask, order, mask_sorted, axis=-1)
    return mask


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


# --------------------------------------------------------------- sampling ----


def sample(logits: ArrayLike, n: int, *, rng: int | np.random.Generator | None = None) -> np.ndarray:
    """Draw ``n`` class indices from ``softmax(logits)``.

    Parameters
    ----------
    logits : array_like, shape (..., V)
        Masked (``-inf``) classes are never drawn.
    n : int
        Number of draws per row, ``>= 0``.
    rng : int, numpy.random.Generator or None
        A seed or a generator; the same seed gives the same draws.

    Returns
    -------
    numpy.ndarray of int64, shape (..., n)

    Notes
    -----
    Inverse-CDF sampling: one cumulative sum per row, then a binary search
    per draw, O(V + n log V). A class of probability 0 occupies an empty
    interval of the CDF, so it cannot be drawn.

    Examples
    --------
    >>> sample([0.0, -np.inf, 0.0], 8, rng=0)
    array([2, 0, 0, 0, 2, 2, 2, 2])
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise InputError("args.n_samples", value=n)
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    probs = numerics.softmax(np.asarray(logits, dtype=np.float64))
    if probs.shape[-1] == 0:
        raise InputError("input.empty")
    if np.isnan(probs).any():
        raise InputError("args.sample_nan")
    rows = probs.reshape(-1, probs.shape[-1])
    out = np.empty((rows.shape[0], int(n)), dtype=np.int64)
    for i, row in enumerate(rows):
        cdf = np.cumsum(row)
        u = gen.random(int(n)) * cdf[-1]
        out[i] = np.searchsorted(cdf, u, side="right")
    return out.reshape(*probs.shape[:-1], int(n))


# --------------------------------------------------------------- pipelines ----

FILTERS: dict[str, type[Filter]] = {
    cls.name: cls for cls in (Temperature, TopK, TopP, MinP, TypicalP, EpsilonCutoff, EtaCutoff, TopNSigma)
}

ORDERS: dict[str, tuple[str, ...]] = {
    # transformers: temperature first, then the warpers in the order generate() adds them
    "transformers": ("temperature", "top_k", "top_p", "min_p", "typical_p", "epsilon", "eta", "top_n_sigma"),
    # llama.cpp's default chain: top-nσ, top-k, typical, top-p, min-p, temperature last
    # (ε and η are not in llama.cpp; they sit with the other probability cut-offs)
    "llama.cpp": ("top_n_sigma", "top_k", "typical_p", "top_p", "min_p", "epsilon", "eta", "temperature"),
}


@dataclass(frozen=True)
class Stage:
    """One step of a decoding pipeline: its filter, the logits before and after, and the threshold it applied."""

    filter: Filter
    before: np.ndarray
    after: np.ndarray
    threshold: float | np.ndarray | None

    @property
    def name(self) -> str:
        return self.filter.name

    @property
    def value(self) -> float:
        return self.filter.setting

    @property
    def removed(self) -> np.ndarray:
        """Tokens this stage removed (finite before, -inf after)."""
        return np.isfinite(self.before) & ~np.isfinite(self.after)


def chain(logits: ArrayLike, steps: Sequence[Filter | tuple[str, float]]) -> list[Stage]:
    """Apply filters in exactly the order given, keeping every intermediate.

    ``steps`` holds filters (``TopP(0.9)``) or ``(name, setting)`` pairs
    (``("top_p", 0.9)``), each checked before anything runs.

    >>> stages = chain([3.0, 2.0, 1.0, 0.0], [("top_k", 2), ("temperature", 0.5)])
    >>> [s.name for s in stages], stages[-1].after
    (['top_k', 'temperature'], array([  6.,   4., -inf, -inf]))
    """
    units = build_chain(steps)
    z = _logits(logits)
    stages = []
    for unit in units:
        cut = unit.apply(z)
        stages.append(Stage(unit, z, cut.after, cut.threshold))
        z = cut.after
    return stages


def build_chain(steps: Sequence[Filter | tuple[str, float]]) -> list[Filter]:
    """Filters from ``(name, setting)`` pairs (or filters), each checked: a bad one fails before any logits are touched.

    >>> build_chain([("temperature", 0.7), ("top_k", 40.0)])
    [Temperature(t=0.7), TopK(k=40)]
    """
    units = []
    for step in steps:
        if isinstance(step, Filter):
            units.append(step)
            continue
        name, setting = step
        if name not in FILTERS:
            raise InputError("args.filter", value=name, options=", ".join(FILTERS))
        units.append(FILTERS[name].from_setting(setting))
    return units


def pipeline(logits: ArrayLike, settings: dict[str, float], order: str = "transformers") -> list[Stage]:
    """Apply the enabled filters in ``settings`` in a named order (:data:`ORDERS`), keeping every intermediate.

    Settings that are None are off.

    >>> stages = pipeline([3.0, 2.0, 1.0, 0.0], {"temperature": 0.5, "top_k": 2})
    >>> [s.name for s in stages], stages[-1].after, stages[-1].threshold
    (['temperature', 'top_k'], array([  6.,   4., -inf, -inf]), 2)
    """
    if order not in ORDERS:
        raise InputError("args.order", value=order, options=", ".join(ORDERS))
    unknown = set(settings) - set(FILTERS)
    if unknown:
        raise InputError("args.filter", value=", ".join(sorted(unknown)), options=", ".join(FILTERS))
    return chain(logits, [(name, settings[name]) for name in ORDERS[order] if settings.get(name) is not None])


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
