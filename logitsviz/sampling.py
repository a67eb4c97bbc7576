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
from dataclasses import dataclass, field, fields, replace
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike

from logitsviz import numerics
from logitsviz.config import limits
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
    "repetition_penalty",
    "presence_frequency_penalty",
    "dry",
    "xtc",
    "dynamic_temperature",
    "smoothing",
    "top_a",
    "tail_free",
    "p_less",
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
    "RepetitionPenalty",
    "PresenceFrequency",
    "DRY",
    "XTC",
    "DynamicTemperature",
    "Smoothing",
    "TopA",
    "TailFree",
    "PLess",
    "Mirostat",
    "FILTERS",
    "ORDERS",
    "Stage",
    "build_chain",
    "chain",
    "draw",
    "in_order",
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
    notes: dict = field(default_factory=dict)  # what else a chart says: tokens touched, whether XTC fired, mirostat's μ


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
    uses_history: ClassVar[bool] = False  # reads the token history (penalties, DRY): see :meth:`with_history`
    uses_rng: ClassVar[bool] = False  # draws random numbers (XTC, mirostat): see :meth:`with_rng`

    def with_history(self, history: Sequence[int]) -> Filter:
        """The same unit looking at ``history`` (token ids, oldest first); units that do not read it come back as they are."""
        return replace(self, history=history) if self.uses_history else self

    def with_rng(self, rng: np.random.Generator) -> Filter:
        """The same unit drawing from ``rng``; units without randomness come back as they are."""
        return replace(self, rng=rng) if self.uses_rng and "rng" in {f.name for f in fields(self)} else self

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


def _divide(z: np.ndarray, t: np.ndarray | np.float64) -> np.ndarray:
    """``z / t`` in ``z``'s dtype, computed in float64 (a T of 1e-300 is 0 in float32) and kept within the dtype's range.

    A logit that a tiny T pushes past the largest float stays the largest
    float, not +inf (which softmax cannot use): the order of the logits, and
    so the one-hot limit, is kept. Masked logits (-inf) stay masked.
    """
    big = float(np.finfo(z.dtype).max)
    with np.errstate(over="ignore", invalid="ignore"):  # over: cast down, clipped just below
        out = np.clip(z.astype(np.float64) / t, -big, big).astype(z.dtype)
    return np.where(np.isfinite(z), out, z)


@dataclass(frozen=True)
class Temperature(Filter):
    """Divide by ``t > 0``: below 1 sharpens, above 1 flattens; removes nothing."""

    t: float
    name: ClassVar[str] = "temperature"
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


# ------------------------------------------------ samplers beyond the warpers ----
# Each reads its rule from the project that defined it (source and version in its docstring) and is tested against a
# reference written from that definition. The ones that look at the text so far take ``history``: token ids, oldest
# first. History and randomness are fields, so a chain of them is still a list of units applied in order.


def _history(history: Sequence[int] | np.ndarray) -> tuple[int, ...]:
    """Token ids as a tuple of non-negative ints (checked once, when a sampler is built)."""
    try:
        ids = np.asarray(history if not isinstance(history, (str, bytes)) else [history]).ravel()
        if ids.size and ids.dtype.kind not in "iu":
            values = ids.astype(float)
            if not (np.isfinite(values).all() and np.all(np.equal(np.mod(values, 1), 0))):
                raise ValueError
        out = tuple(int(i) for i in ids.tolist())  # Python ints: numpy's own compare slower in the loops that read them
    except (TypeError, ValueError, OverflowError):
        raise InputError("args.history", value=str(history)[:80]) from None
    if out and min(out) < 0:
        raise InputError("args.history", value=str(min(out)))
    if len(out) > (limit := limits().history_tokens):
        raise InputError("args.history_length", n=f"{len(out):,}", limit=f"{limit:,}")
    return out


def _window(history: tuple[int, ...], last_n: int, vocab: int) -> tuple[int, ...]:
    """The ids a penalty looks at: the last ``last_n`` (-1: all, 0: none), each checked against the vocabulary."""
    ids = history if last_n < 0 else history[len(history) - last_n:] if last_n else ()
    if ids and max(ids) >= vocab:
        raise InputError("args.history_range", value=max(ids), n=vocab)
    return ids


def _last_n(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < -1:
        raise InputError("args.last_n", value=value)
    return int(value)


def _nonnegative(name: str, value: float) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise InputError("args.nonnegative", name=name, value=value) from None
    if not (math.isfinite(out) and out >= 0):
        raise InputError("args.nonnegative", name=name, value=value)
    return out


def _positive(name: str, value: float) -> float:
    out = _nonnegative(name, value)
    if out <= 0:
        raise InputError("args.positive", name=name, value=value)
    return out


def _touched(before: np.ndarray, after: np.ndarray) -> int:
    """How many tokens a transform changed (over every row)."""
    with np.errstate(invalid="ignore"):
        return int(np.sum(np.isfinite(before) & (before != after)))


@dataclass(frozen=True)
class RepetitionPenalty(Filter):
    """Make tokens already in the history less likely: a positive logit is divided by ``penalty``, a negative one multiplied.

    Each token counts once, however often it appeared. transformers'
    ``RepetitionPenaltyLogitsProcessor`` (v5, ``generation/logits_process.py``)
    and llama.cpp's penalties sampler (``penalty_repeat``) apply exactly this;
    the CTRL paper (Keskar et al., 2019) proposed 1.2. 1.0 changes nothing.
    """

    penalty: float
    history: tuple[int, ...] = ()
    last_n: int = -1  # the last N tokens of the history (llama.cpp's penalty_last_n: -1 all, 0 none)
    name: ClassVar[str] = "repetition"
    measures: ClassVar[str] = "none"
    uses_history: ClassVar[bool] = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "penalty", _positive("penalty", self.penalty))
        object.__setattr__(self, "history", _history(self.history))
        object.__setattr__(self, "last_n", _last_n(self.last_n))

    def _cut(self, z: np.ndarray) -> Cut:
        ids = np.unique(np.asarray(_window(self.history, self.last_n, z.shape[-1]), dtype=np.int64))
        out = np.array(z, copy=True)
        if ids.size:
            score = out[..., ids]
            # in the logits' dtype, as transformers computes it; a penalty that dtype cannot hold (1e-300 is 0 in
            # float32) in float64 instead; either way a result past the dtype's range is kept at its edge
            with np.errstate(over="ignore"):
                penalty = z.dtype.type(self.penalty)
            if penalty == 0 or not np.isfinite(penalty):
                score, penalty = score.astype(np.float64), np.float64(self.penalty)
            big = float(np.finfo(z.dtype).max)
            with np.errstate(over="ignore", invalid="ignore"):
                bent = np.where(score < 0, score * penalty, score / penalty)
                out[..., ids] = np.where(np.isfinite(score), np.clip(bent, -big, big), score).astype(z.dtype)
        return Cut(out, None, {"touched": _touched(z, out), "history": len(_window(self.history, self.last_n, z.shape[-1]))})


@dataclass(frozen=True)
class PresenceFrequency(Filter):
    """Subtract ``count · frequency + (count > 0) · presence`` from each token's logit, counting it in the history.

    OpenAI's presence and frequency penalties (as its API reference defines
    them), also llama.cpp's ``penalty_present`` and ``penalty_freq``. Typical
    values 0.1-1; negative values would encourage repetition and are refused.
    """

    presence: float
    frequency: float = 0.0
    history: tuple[int, ...] = ()
    last_n: int = -1
    name: ClassVar[str] = "presence"
    measures: ClassVar[str] = "none"
    uses_history: ClassVar[bool] = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "presence", _nonnegative("presence", self.presence))
        object.__setattr__(self, "frequency", _nonnegative("frequency", self.frequency))
        object.__setattr__(self, "history", _history(self.history))
        object.__setattr__(self, "last_n", _last_n(self.last_n))

    def _cut(self, z: np.ndarray) -> Cut:
        ids = _window(self.history, self.last_n, z.shape[-1])
        counts = np.bincount(np.asarray(ids, dtype=np.int64), minlength=z.shape[-1])
        # the penalty in float64 (a frequency of 3.4e38 is inf in float32, and 0 · inf is NaN); past float32's
        # range the logit becomes -inf, a removed token
        penalty = counts * self.frequency + (counts > 0) * self.presence
        with np.errstate(over="ignore", invalid="ignore"):
            out = (z - penalty).astype(z.dtype)
        out = np.where(np.isfinite(z), out, z)  # -inf stays removed, +inf stays +inf
        return Cut(out, None, {"touched": _touched(z, out), "history": len(ids)})


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

    def __post_init__(self) -> None:
        object.__setattr__(self, "a", _probability("a", self.a, closed_right=True))

    def _cut(self, z: np.ndarray) -> Cut:
        probs = numerics.softmax(z)
        top = np.max(probs, axis=-1, keepdims=True)
        threshold = self.a * top * top
        return Cut(_removed(z, _protect_top(z, probs < threshold)), _per_row(threshold))


def _generator(rng: int | np.random.Generator | None) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


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


class Mirostat(Filter):
    """Mirostat: truncate so that each token's surprise stays near ``tau`` bits, learning a bound μ as it goes.

    llama.cpp's mirostat samplers (``src/llama-sampling.cpp``; Basu et al.,
    2021, arXiv 2007.14966). μ starts at ``2 · tau``. Each :meth:`step`
    truncates, renormalises, draws a token, and moves μ by
    ``-eta · (surprise - tau)``, the surprise ``-log2 p`` of the drawn token
    after renormalising.

    - version 2 keeps the tokens whose surprise is at most μ (at least the
      most likely one); the threshold is the probability ``2 ** -μ``;
    - version 1 estimates the Zipf exponent ŝ from the top ``m`` tokens and
      keeps the top ``k = (ε̂ · 2^μ / (1 - V^-ε̂)) ** (1/ŝ)``, ε̂ = ŝ - 1, V the
      vocabulary size; the threshold is k.

    Unlike the other units it has state: ``apply`` truncates at the current μ
    without changing it; ``step`` also draws and updates. Typical: tau 5, eta 0.1.
    """

    name: ClassVar[str] = "mirostat"
    uses_rng: ClassVar[bool] = True

    def __init__(self, tau: float, eta: float = 0.1, version: int = 2, *, m: int = 100, mu: float | None = None) -> None:
        object.__setattr__(self, "tau", _positive("tau", tau))
        object.__setattr__(self, "eta", _nonnegative("eta", eta))
        if version not in (1, 2) or isinstance(version, bool):
            raise InputError("args.mirostat_version", value=version)
        object.__setattr__(self, "version", int(version))
        if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or not 2 <= m <= 100_000:
            raise InputError("args.mirostat_m", value=m)
        object.__setattr__(self, "m", int(m))
        if mu is not None and (isinstance(mu, bool) or not isinstance(mu, (int, float, np.number)) or not math.isfinite(mu)):
            raise InputError("args.mirostat_mu", value=mu)
        object.__setattr__(self, "mu", 2.0 * self.tau if mu is None else float(mu))

    @property
    def measures(self) -> str:  # type: ignore[override]
        return "probability" if self.version == 2 else "count"

    @property
    def setting(self) -> float:
        return self.tau

    def __repr__(self) -> str:
        return f"Mirostat(tau={self.tau:g}, eta={self.eta:g}, version={self.version}, mu={self.mu:g})"

    def __eq__(self, other: object) -> bool:
        return self is other

    __hash__ = object.__hash__

    def _keep(self, z: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, float]:
        """Which tokens of one vector survive at the current μ, and the threshold (a probability, or k)."""
        if self.version == 2:
            keep = -np.log2(np.maximum(probs, np.finfo(np.float64).tiny)) <= self.mu
            keep |= probs == probs.max()
            return keep & np.isfinite(z), 2.0 ** -self.mu
        k = self.top_k(probs)
        kth = np.sort(z)[::-1][min(k, z.size) - 1]
        return (z >= kth) & np.isfinite(z), float(k)

    def top_k(self, probs: np.ndarray) -> int:
        """Version 1's k at the current μ, for one probability vector."""
        p = np.sort(probs[probs > 0])[::-1]
        n = min(self.m - 1, p.size - 1)
        if n < 1:
            return 1
        i = np.arange(n, dtype=np.float64)
        t_i = np.log((i + 2) / (i + 1))
        b_i = np.log(p[:n] / p[1 : n + 1])
        s_hat = float(np.sum(t_i * b_i) / np.sum(t_i * t_i))
        eps = s_hat - 1
        with np.errstate(all="ignore"):  # float64 throughout: an overflow is inf, 0/0 NaN, both handled below
            k = float((np.float64(eps) * np.exp2(np.float64(self.mu)) / (1 - np.float64(probs.size) ** -eps)) ** (1 / s_hat))
        if math.isnan(k):
            return 1
        return max(int(k), 1) if math.isfinite(k) else int(probs.size)  # k may pass V, as llama.cpp's: top-k keeps all

    def _cut(self, z: np.ndarray) -> Cut:
        out = np.array(z, copy=True)
        thresholds = []
        for zi, oi in zip(z.reshape(-1, z.shape[-1]), out.reshape(-1, z.shape[-1])):
            keep, threshold = self._keep(zi, numerics.softmax(zi.astype(np.float64)))
            oi[~keep] = -np.inf
            thresholds.append(threshold)
        return Cut(out, thresholds[0] if len(thresholds) == 1 else np.array(thresholds), {"mu": self.mu})

    def step(self, logits: ArrayLike, rng: int | np.random.Generator | None = None) -> tuple[int, np.ndarray]:
        """Truncate one vector at μ, draw a token, update μ; return the token and the truncated logits."""
        z = _logits(logits)
        if z.ndim != 1 or z.size == 0:
            raise InputError("args.one_vector", shape=str(z.shape))
        truncated = self._cut(z).after
        token = int(sample(truncated, 1, rng=_generator(rng))[0])
        surprise = -math.log2(max(float(numerics.softmax(truncated.astype(np.float64))[token]), 1e-300))
        object.__setattr__(self, "mu", self.mu - self.eta * (surprise - self.tau))
        return token, truncated


def _repeat_counts(w: Sequence[int], limit: int) -> list[int]:
    """For each position i, how many tokens ending at i equal those ending at the last one (at most ``limit``).

    llama.cpp's step 2: the Z-algorithm run over the history read backwards,
    so the whole history costs O(n), not O(n²). ``counts[i]`` is the length
    of the longest common suffix of ``w[:i + 1]`` and ``w`` (the last
    position itself is left 0).
    """
    n = len(w)
    rev = w[::-1]  # rev[j] is the j-th token from the end
    z = [0] * n  # z[k]: how far the history read backwards from k matches it read backwards from the end (capped)
    lt = rt = 0
    for k in range(1, n):
        if k > rt:  # outside the current Z-box: compare directly
            m = 0
            while m + k < n and rev[m] == rev[m + k]:
                m += 1
            z[k] = m if m < limit else limit
            if m:
                lt, rt = k, k + m - 1
        else:  # inside it: reuse what the box's start already matched
            known = z[k - lt]
            if known < rt - k + 1:
                z[k] = known  # already at most the limit
            else:
                i = rt + 1
                while i < n and rev[i] == rev[i - k]:
                    i += 1
                z[k] = i - k if i - k < limit else limit
                lt, rt = k, i - 1
    return z[::-1]  # counts[i] = z[n - 1 - i]: by position from the start, the last (the end itself) 0


_FLOAT32_MAX_LOG = 88.7228391  # log of the largest float32: llama.cpp caps DRY's exponent there


@dataclass(frozen=True)
class DRY(Filter):
    """"Don't Repeat Yourself": penalise the token that would continue a sequence already seen in the history.

    As llama.cpp's DRY sampler (``src/llama-sampling.cpp``, from KoboldCpp,
    by pi6am) and text-generation-webui's ``DRYLogitsProcessor`` define it,
    written out plainly: for every earlier position i of the history (the
    last ``penalty_last_n`` ids; -1 all, 0 none), L is the length of the
    longest run ending at i that equals the run ending at the last token,
    never reaching back past the last sequence breaker; the token that
    followed position i gets ``multiplier · base ** (L - allowed_length)``
    subtracted from its logit when L ≥ ``allowed_length`` (the largest L
    over all positions counts once). Sequence breakers (token ids) are never
    penalised. The exponent is capped where the penalty would overflow a
    float32 (llama.cpp's rule; text-generation-webui caps L at 50 instead),
    and the penalty never exceeds the largest float32. The repeats are found
    with llama.cpp's Z-algorithm: linear in the history's length.
    ``multiplier = 0`` or ``base < 1`` does nothing. Typical: multiplier 0.8,
    base 1.75, allowed length 2.
    """

    multiplier: float
    base: float = 1.75
    allowed_length: int = 2
    sequence_breakers: tuple[int, ...] = ()
    penalty_last_n: int = -1
    history: tuple[int, ...] = ()
    name: ClassVar[str] = "dry"
    measures: ClassVar[str] = "none"
    uses_history: ClassVar[bool] = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "multiplier", _nonnegative("multiplier", self.multiplier))
        object.__setattr__(self, "base", _nonnegative("base", self.base))
        if isinstance(self.allowed_length, bool) or not isinstance(self.allowed_length, (int, np.integer)) or self.allowed_length < 1:
            raise InputError("args.allowed_length", value=self.allowed_length)
        object.__setattr__(self, "allowed_length", int(self.allowed_length))
        object.__setattr__(self, "sequence_breakers", _history(self.sequence_breakers))
        object.__setattr__(self, "penalty_last_n", _last_n(self.penalty_last_n))
        object.__setattr__(self, "history", _history(self.history))

    def penalties(self, vocab: int) -> dict[int, float]:
        """The amount subtracted from each penalised token's logit."""
        w = _window(self.history, self.penalty_last_n, vocab)
        n = len(w)
        if self.multiplier == 0 or self.base < 1 or n <= self.allowed_length:
            return {}
        breakers = set(self.sequence_breakers)
        # how far back from the last token a match may reach: up to the most recent breaker
        reach = next((d for d in range(n) if w[n - 1 - d] in breakers), n)
        if reach < self.allowed_length:
            return {}
        counts = np.asarray(_repeat_counts(w, reach)[:-1], dtype=np.int64)
        # step 3: each position whose repeat is long enough would be continued by the token after it; per such token the
        # longest repeat counts (numpy over the whole history, not a Python loop)
        followers = np.asarray(w[1:], dtype=np.int64)
        hit = (counts >= self.allowed_length) & ~np.isin(followers, list(breakers))
        if not hit.any():
            return {}
        longest = np.zeros(int(followers[hit].max()) + 1, dtype=np.int64)
        np.maximum.at(longest, followers[hit], counts[hit])
        return {int(tok): self._penalty(int(longest[tok]) - self.allowed_length) for tok in np.flatnonzero(longest)}

    def _penalty(self, exponent: int) -> float:
        """``multiplier · base ** exponent``, never above the largest float32.

        llama.cpp caps the exponent at ``log(FLT_MAX) / log(base)`` where that
        is at least 1; for a base so large that it is 0, llama.cpp leaves the
        exponent alone and the penalty overflows to infinity. Here the penalty
        itself stops at the largest float32 (3.4e38) in every case: a token
        that long a repeat would continue is as good as removed, and the
        logit stays a number.
        """
        if self.base > 1.000001:
            exponent = min(exponent, max(1, int(_FLOAT32_MAX_LOG / math.log(self.base))))
        if exponent == 0:
            return self.multiplier
        if math.log(self.multiplier) + exponent * math.log(self.base) >= _FLOAT32_MAX_LOG:
            return float(np.finfo(np.float32).max)
        return self.multiplier * self.base ** exponent  # below 3.4e38: no overflow

    def _cut(self, z: np.ndarray) -> Cut:
        out = np.array(z, copy=True)
        amounts = self.penalties(z.shape[-1])
        if amounts:
            ids = np.fromiter(amounts, dtype=np.int64, count=len(amounts))
            with np.errstate(over="ignore", invalid="ignore"):
                shifted = out[..., ids] - np.array(list(amounts.values()), dtype=z.dtype)
            out[..., ids] = np.where(np.isfinite(out[..., ids]), shifted, out[..., ids])
        return Cut(out, None, {"touched": _touched(z, out), "history": len(_window(self.history, self.penalty_last_n, z.shape[-1]))})


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


def repetition_penalty(logits: ArrayLike, history: Sequence[int], penalty: float) -> np.ndarray:
    """Divide the positive logits of tokens in ``history`` by ``penalty`` and multiply the negative ones (transformers, llama.cpp).

    >>> repetition_penalty([2.0, -1.0, 0.5], [0, 1, 0], 2.0)
    array([ 1. , -2. ,  0.5])
    """
    return RepetitionPenalty(penalty, history)(logits)


def presence_frequency_penalty(logits: ArrayLike, history: Sequence[int], presence: float = 0.0,
                               frequency: float = 0.0) -> np.ndarray:
    """Subtract ``count · frequency + (count > 0) · presence`` from each token's logit (OpenAI, llama.cpp).

    >>> presence_frequency_penalty([2.0, 1.0, 0.5], [0, 0, 1], presence=0.5, frequency=0.25)
    array([1.  , 0.25, 0.5 ])
    """
    return PresenceFrequency(presence, frequency, history)(logits)


def dry(logits: ArrayLike, history: Sequence[int], *, multiplier: float, base: float = 1.75, allowed_length: int = 2,
        sequence_breakers: Sequence[int] = (), penalty_last_n: int = -1) -> np.ndarray:
    """DRY: subtract ``multiplier · base ** (L - allowed_length)`` from a token that would extend a repeat of length L.

    See :class:`DRY`. In ``a b c c b c y a b c`` (ids 0 1 2 2 1 2 3 0 1 2),
    ``c`` would repeat ``a b c`` (L = 3) and ``y`` would repeat ``b c``:

    >>> dry(np.zeros(4), [0, 1, 2, 2, 1, 2, 3, 0, 1, 2], multiplier=0.8)
    array([ 0. ,  0. , -1.4, -0.8])
    """
    return DRY(multiplier, base, allowed_length, tuple(sequence_breakers), penalty_last_n, history)(logits)


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
    z = np.asarray(logits)
    if z.dtype.kind != "f" or z.dtype == np.float16:
        z = numerics.as_float(z)
    if z.ndim == 0:
        raise InputError("args.scalar", name="logits")
    if z.shape[-1] == 0:
        raise InputError("input.empty")
    rows = z.reshape(-1, z.shape[-1])
    top = np.max(rows, axis=1, keepdims=True) if rows.shape[0] else np.zeros((0, 1), z.dtype)
    if not np.isfinite(top).all():  # NaN or +inf in a row (the max keeps them), or a row of only -inf
        raise InputError("args.sample_nan")
    with np.errstate(over="ignore"):  # a gap wider than the float range is -inf: probability 0, as it should be
        e = rows - top
    np.exp(e, out=e)  # unnormalised: the CDF's last value is the normaliser, so the division is never done
    cdf = np.cumsum(e, axis=1, dtype=np.float64)
    u = gen.random((rows.shape[0], int(n))) * cdf[:, -1:]  # row by row, the same stream as one draw per row
    if cdf.size * int(n) <= 1 << 22:  # many short rows: count the CDF values <= u, all rows at once
        out = (cdf[:, None, :] <= u[:, :, None]).sum(axis=2, dtype=np.int64)
    else:
        out = np.stack([np.searchsorted(c, v, side="right") for c, v in zip(cdf, u)]) if rows.shape[0] else u.astype(np.int64)
    return out.reshape(*z.shape[:-1], int(n))


def draw(logits: ArrayLike, steps: Sequence[Filter | tuple[str, float]], *, history: Sequence[int] = (),
         rng: int | np.random.Generator | None = None) -> tuple[int, np.ndarray]:
    """One token through a chain: the units in order, then a draw; return the token and the logits it was drawn from.

    A :class:`Mirostat` unit picks the token itself and updates its μ, as in
    llama.cpp, where mirostat ends the chain: units after it are not applied.
    Pass the same units (and generator) at every step of a generation, so that
    mirostat keeps its μ and XTC gets a new draw each step.

    >>> draw([5.0, 0.0, -5.0], [("top_k", 1)], rng=0)
    (0, array([  5., -inf, -inf]))
    """
    gen = _generator(rng)
    z = _logits(logits)
    for unit in build_chain(steps, history=history, rng=gen):
        if isinstance(unit, Mirostat):
            return unit.step(z, gen)
        z = unit(z)
    return int(sample(z, 1, rng=gen)[0]), z


# --------------------------------------------------------------- pipelines ----

FILTERS: dict[str, type[Filter]] = {
    cls.name: cls
    for cls in (Temperature, TopK, TopP, MinP, TypicalP, EpsilonCutoff, EtaCutoff, TopNSigma, RepetitionPenalty,
                PresenceFrequency, DRY, XTC, DynamicTemperature, Smoothing, TopA, TailFree, PLess, Mirostat)
}

# Every unit in the order each project applies them; a unit a project lacks sits where it fits best (noted).
ORDERS: dict[str, tuple[str, ...]] = {
    # transformers' generate(): the repetition penalty among the logits processors, then temperature and the warpers
    # in the order it adds them; top-nσ and everything transformers lacks after them
    "transformers": ("repetition", "presence", "dry", "temperature", "dynatemp", "smoothing", "top_k", "top_p", "min_p",
                     "typical_p", "epsilon", "eta", "top_n_sigma", "tfs", "top_a", "p_less", "xtc", "mirostat"),
    # llama.cpp's default chain (common.h): penalties, DRY, top-nσ, top-k, typical, top-p, min-p, XTC, temperature
    # (its temp_ext, our dynatemp, in the same place); ε, η, top-a, TFS and p-less with the other cut-offs; mirostat,
    # which in llama.cpp replaces the chain after temperature, last
    "llama.cpp": ("repetition", "presence", "dry", "top_n_sigma", "top_k", "typical_p", "top_p", "min_p", "epsilon", "eta",
                  "top_a", "tfs", "p_less", "xtc", "temperature", "dynatemp", "smoothing", "mirostat"),
    # text-generation-webui's default sampler_priority (modules/presets.py); p-less after min-p
    "text-generation-webui": ("repetition", "presence", "dry", "top_n_sigma", "temperature", "dynatemp", "smoothing", "top_k",
                              "top_p", "typical_p", "epsilon", "eta", "tfs", "top_a", "min_p", "p_less", "mirostat", "xtc"),
}


# What each project samples with when nobody sets anything: the units it turns on, with their values (the rest off).
DEFAULTS: dict[str, dict[str, float]] = {
    # common/common.h, common_params_sampling (llama.cpp, 2026): top_k 40, top_p 0.95, min_p 0.05, temp 0.8; typical 1.0,
    # penalties 1.0 / 0, DRY multiplier 0, XTC probability 0, top-nσ -1 and mirostat 0 are all off
    "llama.cpp": {"top_k": 40, "top_p": 0.95, "min_p": 0.05, "temperature": 0.8},
    # transformers' GenerationConfig with do_sample=True: temperature 1.0, top_k 50, top_p 1.0 (off), the rest off
    "transformers": {"temperature": 1.0, "top_k": 50},
}


@dataclass(frozen=True)
class Stage:
    """One step of a decoding pipeline: its filter, the logits before and after, and the threshold it applied."""

    filter: Filter
    before: np.ndarray
    after: np.ndarray
    threshold: float | np.ndarray | None
    notes: dict = field(default_factory=dict)

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


def chain(logits: ArrayLike, steps: Sequence[Filter | tuple[str, float]], *, history: Sequence[int] | None = None,
          rng: int | np.random.Generator | None = None) -> list[Stage]:
    """Apply filters in exactly the order given, keeping every intermediate.

    ``steps`` holds filters (``TopP(0.9)``) or ``(name, setting)`` pairs
    (``("top_p", 0.9)``), each checked before anything runs. ``history``
    (token ids) is given to every unit that reads one, ``rng`` (a seed or a
    generator) to every unit that draws (see :func:`build_chain`).

    >>> stages = chain([3.0, 2.0, 1.0, 0.0], [("top_k", 2), ("temperature", 0.5)])
    >>> [s.name for s in stages], stages[-1].after
    (['top_k', 'temperature'], array([  6.,   4., -inf, -inf]))
    >>> chain([1.0, 1.0, 1.0], [("repetition", 2.0)], history=[1])[0].after
    array([1. , 0.5, 1. ])
    """
    units = build_chain(steps, history=history, rng=rng)
    z = _logits(logits)
    stages = []
    for unit in units:
        cut = unit.apply(z)
        stages.append(Stage(unit, z, cut.after, cut.threshold, cut.notes))
        z = cut.after
    return stages


def build_chain(steps: Sequence[Filter | tuple[str, float]], *, history: Sequence[int] | None = None,
                rng: int | np.random.Generator | None = None) -> list[Filter]:
    """Filters from ``(name, setting)`` pairs (or filters), each checked: a bad one fails before any logits are touched.

    With ``history``, units that read one (penalties, DRY) look at it; with
    ``rng``, units that draw (XTC) share that generator, so a seeded
    generation is reproducible step after step.

    >>> build_chain([("temperature", 0.7), ("top_k", 40.0)])
    [Temperature(t=0.7), TopK(k=40)]
    """
    gen = None if rng is None else _generator(rng)
    ids = None if history is None else _history(history)
    units = []
    for step in steps:
        if isinstance(step, Filter):
            unit = step
        else:
            name, setting = step
            if name not in FILTERS:
                raise InputError("args.filter", value=name, options=", ".join(FILTERS))
            unit = FILTERS[name].from_setting(setting)
        if ids is not None:
            unit = unit.with_history(ids)
        if gen is not None:
            unit = unit.with_rng(gen)
        units.append(unit)
    return units


def pipeline(logits: ArrayLike, settings: dict[str, float], order: str = "transformers") -> list[Stage]:
    """Apply the enabled filters in ``settings`` in a named order (:data:`ORDERS`), keeping every intermediate.

    Settings that are None are off.

    >>> stages = pipeline([3.0, 2.0, 1.0, 0.0], {"temperature": 0.5, "top_k": 2})
    >>> [s.name for s in stages], stages[-1].after, stages[-1].threshold
    (['temperature', 'top_k'], array([  6.,   4., -inf, -inf]), 2)
    """
    return chain(logits, in_order(settings, order))


def in_order(settings: dict[str, float], order: str = "transformers") -> list[tuple[str, float]]:
    """The enabled ``(name, setting)`` pairs of ``settings`` in a named order (:data:`ORDERS`); None is off.

    >>> in_order({"top_p": 0.9, "temperature": 0.7, "top_k": None}, "llama.cpp")
    [('top_p', 0.9), ('temperature', 0.7)]
    """
    if order not in ORDERS:
        raise InputError("args.order", value=order, options=", ".join(ORDERS))
    unknown = set(settings) - set(FILTERS)
    if unknown:
        raise InputError("args.filter", value=", ".join(sorted(unknown)), options=", ".join(FILTERS))
    return [(name, settings[name]) for name in ORDERS[order] if settings.get(name) is not None]


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
