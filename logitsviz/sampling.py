"""Decoding filters and sampling: how a language model turns next-token logits into a token.

Every filter takes logits of shape ``(..., V)`` and returns a new array of the
same shape and dtype in which removed tokens are ``-inf`` and kept tokens are
unchanged, so filters chain: ``top_p(top_k(temperature(z, 0.7), 50), 0.9)``.
The kept sets follow Hugging Face transformers' logits warpers with
``min_tokens_to_keep=1`` (``top_n_sigma`` follows llama.cpp); the most likely
token always survives. Ties at a boundary are kept.

Probabilities inside a filter are computed in float64 (float32 for float32
input, as transformers does), from :func:`logitsviz.softmax`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

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
    "FILTERS",
    "ORDERS",
    "Stage",
    "pipeline",
    "stage_threshold",
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


# --------------------------------------------------------------- filters ----


def temperature(logits: ArrayLike, t: float) -> np.ndarray:
    """Divide by the temperature ``t > 0``: below 1 sharpens, above 1 flattens; removes nothing.

    Typical values: 0.2-0.8 for focused answers, 1.0 neutral, 1.2-1.5 for variety.

    >>> temperature([2.0, 1.0, -np.inf], 0.5)
    array([  4.,   2., -inf])
    """
    t = numerics._check_temperature(t)
    z = _logits(logits)
    with np.errstate(over="ignore"):  # a logit near the float limit over a small T is +inf, as division says
        return z / z.dtype.type(t)


def top_k(logits: ArrayLike, k: int) -> np.ndarray:
    """Keep the ``k`` highest logits (and any tied with the k-th); ``k >= V`` keeps all.

    Typical values: 20-100.

    >>> top_k([3.0, 1.0, 2.0, 2.0], 2)   # the 2nd largest is 2.0: both 2.0s stay
    array([  3., -inf,   2.,   2.])
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InputError("args.top_k", value=k)
    z = _logits(logits)
    v = z.shape[-1]
    if v == 0 or k >= v:
        return np.array(z, copy=True)
    kth = np.partition(z, v - k, axis=-1)[..., v - k : v - k + 1]
    return _removed(z, z < kth)


def top_p(logits: ArrayLike, p: float) -> np.ndarray:
    """Nucleus sampling: keep the smallest set of most likely tokens whose probability reaches ``p``.

    transformers' rule: sort probabilities ascending, take the cumulative
    sum, remove tokens whose cumulative sum is ``<= 1 - p``; the top token is
    always kept. Typical values: 0.9-0.95.

    >>> import numpy as np
    >>> top_p(np.log([0.5, 0.3, 0.15, 0.05]), 0.75)   # 0.5 + 0.3 = 0.8 reaches 0.75
    array([-0.69314718, -1.2039728 ,        -inf,        -inf])
    """
    p = _probability("p", p, closed_right=True)
    z = _logits(logits)
    if z.shape[-1] == 0:
        return np.array(z, copy=True)
    order = np.argsort(z, axis=-1, kind="stable")  # ascending
    sorted_probs = np.take_along_axis(numerics.softmax(z), order, axis=-1)
    cumulative = np.cumsum(sorted_probs, axis=-1)
    remove_sorted = cumulative <= 1 - p
    remove_sorted[..., -1] = False  # the most likely token
    remove = np.empty_like(remove_sorted)
    np.put_along_axis(remove, order, remove_sorted, axis=-1)
    return _removed(z, remove)


def min_p(logits: ArrayLike, p: float) -> np.ndarray:
    """Keep tokens whose probability is at least ``p`` times the top token's.

    Scales with the model's confidence: a sure model keeps few tokens, an
    unsure one many. Typical values: 0.05-0.1.

    >>> import numpy as np
    >>> min_p(np.log([0.6, 0.3, 0.07, 0.03]), 0.1).round(3)   # threshold 0.1 x 0.6 = 0.06
    array([-0.511, -1.204, -2.659,   -inf])
    """
    p = _probability("p", p, closed_right=True)
    z = _logits(logits)
    if z.shape[-1] == 0:
        return np.array(z, copy=True)
    probs = numerics.softmax(z)
    remove = probs < p * np.max(probs, axis=-1, keepdims=True)
    return _removed(z, _protect_top(z, remove))


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
    p = _probability("p", p, closed_right=True)
    z = _logits(logits)
    if z.shape[-1] == 0:
        return np.array(z, copy=True)
    probs = numerics.softmax(z)
    shifted = typicality(z)
    order = np.argsort(shifted, axis=-1, kind="stable")
    sorted_scores = np.take_along_axis(shifted, order, axis=-1)
    cumulative = np.cumsum(np.take_along_axis(probs, order, axis=-1), axis=-1)
    last = np.minimum(np.sum(cumulative < p, axis=-1, keepdims=True), z.shape[-1] - 1)
    cutoff = np.take_along_axis(sorted_scores, last, axis=-1)
    remove_sorted = sorted_scores > cutoff
    remove_sorted[..., 0] = False
    remove = np.empty_like(remove_sorted)
    np.put_along_axis(remove, order, remove_sorted, axis=-1)
    return _removed(z, remove)


def epsilon_cutoff(logits: ArrayLike, epsilon: float) -> np.ndarray:
    """Remove tokens whose probability is below ``epsilon``; never the top token.

    Typical values: 3e-4 to 9e-4 (Hewitt et al. 2022, "Truncation Sampling as
    Language Model Desmoothing").

    >>> import numpy as np
    >>> epsilon_cutoff(np.log([0.7, 0.2, 0.09, 0.01]), 0.05).round(3)
    array([-0.357, -1.609, -2.408,   -inf])
    """
    epsilon = _probability("epsilon", epsilon, closed_right=False)
    z = _logits(logits)
    if z.shape[-1] == 0:
        return np.array(z, copy=True)
    remove = numerics.softmax(z) < epsilon
    return _removed(z, _protect_top(z, remove))


def eta_cutoff(logits: ArrayLike, eta: float) -> np.ndarray:
    """Remove tokens below ``min(eta, sqrt(eta) * exp(-H))``, H the entropy; never the top token.

    The threshold falls as the distribution gets flatter, so an uncertain
    model keeps more tokens. Typical values: 3e-4 to 2e-3.

    >>> import numpy as np
    >>> eta_cutoff(np.log([0.7, 0.2, 0.09, 0.01]), 0.05).round(3)
    array([-0.357, -1.609, -2.408,   -inf])
    """
    eta = _probability("eta", eta, closed_right=False)
    z = _logits(logits)
    if z.shape[-1] == 0:
        return np.array(z, copy=True)
    probs = numerics.softmax(z)
    h = numerics.entropy(z)[..., None]
    threshold = np.minimum(eta, math.sqrt(eta) * np.exp(-h))
    return _removed(z, _protect_top(z, probs < threshold))


def top_n_sigma(logits: ArrayLike, n: float) -> np.ndarray:
    """Keep logits within ``n`` standard deviations of the maximum (llama.cpp's top-nσ).

    σ is the population standard deviation of the finite logits. Works on
    raw logits, so it does not depend on the temperature. Typical values: 1-2.

    >>> top_n_sigma([4.0, 3.0, 0.0, -1.0], 1.0)   # sigma = 2.06: keep >= 1.94
    array([  4.,   3., -inf, -inf])
    """
    try:
        n_value = float(n)
    except (TypeError, ValueError):
        raise InputError("args.positive", name="n", value=n) from None
    if not (math.isfinite(n_value) and n_value > 0):
        raise InputError("args.positive", name="n", value=n)
    z = _logits(logits)
    if z.shape[-1] == 0:
        return np.array(z, copy=True)
    finite = np.isfinite(z)
    count = finite.sum(axis=-1, keepdims=True)
    # huge logits can overflow the squares: sigma = inf then keeps every token, quietly
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        vals = np.where(finite, z, 0.0)
        mean = vals.sum(axis=-1, keepdims=True) / count
        sigma = np.sqrt(np.where(finite, (z - mean) ** 2, 0.0).sum(axis=-1, keepdims=True) / count)
        remove = z < np.max(z, axis=-1, keepdims=True) - n_value * sigma
    return _removed(z, remove)


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

FILTERS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "temperature": temperature,
    "top_k": lambda z, k: top_k(z, int(k)),
    "top_p": top_p,
    "min_p": min_p,
    "typical_p": typical_p,
    "epsilon": epsilon_cutoff,
    "eta": eta_cutoff,
    "top_n_sigma": top_n_sigma,
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
    """One step of a decoding pipeline: its name, setting, and the logits before and after."""

    name: str
    value: float
    before: np.ndarray
    after: np.ndarray

    @property
    def removed(self) -> np.ndarray:
        """Tokens this stage removed (finite before, -inf after)."""
        return np.isfinite(self.before) & ~np.isfinite(self.after)


def pipeline(logits: ArrayLike, settings: dict[str, float], order: str = "transformers") -> list[Stage]:
    """Apply the enabled filters in ``settings`` in the given order, keeping every intermediate.

    >>> stages = pipeline([3.0, 2.0, 1.0, 0.0], {"temperature": 0.5, "top_k": 2})
    >>> [s.name for s in stages], stages[-1].after
    (['temperature', 'top_k'], array([  6.,   4., -inf, -inf]))
    """
    if order not in ORDERS:
        raise InputError("args.order", value=order, options=", ".join(ORDERS))
    unknown = set(settings) - set(FILTERS)
    if unknown:
        raise InputError("args.filter", value=", ".join(sorted(unknown)), options=", ".join(FILTERS))
    z = _logits(logits)
    stages = []
    for name in ORDERS[order]:
        if name in settings and settings[name] is not None:
            after = FILTERS[name](z, settings[name])
            stages.append(Stage(name, settings[name], z, after))
            z = after
    return stages


def stage_threshold(stage: Stage) -> float | None:
    """The line a chart of ``stage`` draws, for a 1-D stage.

    A probability for min-p (``p x max p``), ε and η (the computed cut-off),
    a cumulative mass for top-p and typical (``p``), a logit for top-nσ
    (``max - n·σ``), a count for top-k, and None for temperature.

    >>> z = np.log([0.6, 0.3, 0.07, 0.03])
    >>> round(stage_threshold(pipeline(z, {"min_p": 0.1})[0]), 3)
    0.06
    """
    z = stage.before
    if stage.name == "min_p":
        return float(stage.value * np.max(numerics.softmax(z)))
    if stage.name == "epsilon":
        return float(stage.value)
    if stage.name == "eta":
        return float(min(stage.value, math.sqrt(stage.value) * math.exp(-float(numerics.entropy(z)))))
    if stage.name == "top_n_sigma":
        finite = z[np.isfinite(z)]
        with np.errstate(over="ignore", invalid="ignore"):
            return float(np.max(z) - stage.value * np.std(finite))
    if stage.name in ("top_p", "typical_p", "top_k"):
        return float(stage.value)
    return None


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
