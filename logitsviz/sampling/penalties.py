"""The units that read the history of generated tokens: the repetition penalty, presence and frequency
penalties, and DRY (with llama.cpp's Z-algorithm, linear in the history).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike

from logitsviz.errors import InputError
from logitsviz.sampling.base import (
    Cut,
    Filter,
    Setting,
    _history,
    _last_n,
    _nonnegative,
    _positive,
    _touched,
    _window,
)


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
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("repetition", "penalty", 1.3, 0.01, 10.0, 0.05, "%.2f", (1.0, 3.0, 0.05)),
        Setting("rep_last_n", "last_n", -1, -1, 100_000, 1, "%d", integer=True),
    )
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
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("presence", "presence", 0.5, 0.0, 10.0, 0.05, "%.2f", (0.0, 2.0, 0.05)),
        Setting("frequency", "frequency", 0.25, 0.0, 10.0, 0.05, "%.2f"),
        Setting("pen_last_n", "last_n", -1, -1, 100_000, 1, "%d", integer=True),
    )
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
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("dry", "multiplier", 0.8, 0.0, 10.0, 0.1, "%.2f", (0.0, 3.0, 0.05)),
        Setting("dry_base", "base", 1.75, 1.0, 10.0, 0.05, "%.2f"),
        Setting("dry_allowed", "allowed_length", 2, 1, 100, 1, "%d", integer=True),
        Setting("dry_last_n", "penalty_last_n", -1, -1, 100_000, 1, "%d", integer=True),
        Setting("dry_breakers", "sequence_breakers", kind="tokens"),
    )
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
