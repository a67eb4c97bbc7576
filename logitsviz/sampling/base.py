"""What every decoding unit shares: the :class:`Filter` base and its :class:`Cut`, the checks of settings and
histories, and :func:`sample`, which draws token ids from logits.
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


# stops of the log-spaced sliders: temperatures, and the small probabilities ε and η cut at
# log-spaced from 0.05 to 20, rounded to values people type
TEMPERATURE_STOPS = (0.05, 0.07, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0,
                     1.1, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0, 5.0, 7.0, 10.0, 15.0, 20.0)
SMALL_PROBABILITY_STOPS = (1e-4, 2e-4, 3e-4, 5e-4, 1e-3, 2e-3, 3e-3, 5e-3, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5)


@dataclass(frozen=True)
class Setting:
    """One setting of a unit as a control offers it, declared by the unit itself.

    ``key`` names it in a link and in :meth:`Filter.from_settings`' mapping;
    ``field`` is the unit's argument it fills. A number has a default, the
    range a box accepts (``lo``..``hi``, ``step``, a printf ``fmt``; ``default``
    is where a control starts, a typical value, where the unit's own argument
    may default to "off") and the
    range a slider covers (``slider``: ``(lo, hi, step)``, or the stops of a
    log-spaced slider with ``log=True``); ``kind`` is ``"number"``,
    ``"switch"`` (yes or no) or ``"tokens"`` (token ids, such as DRY's
    sequence breakers).
    """

    key: str
    field: str
    default: float = 0.0
    lo: float = 0.0
    hi: float = 1.0
    step: float = 0.01
    fmt: str = "%.2f"
    slider: tuple[float, ...] = ()
    log: bool = False
    integer: bool = False
    kind: str = "number"

    def value(self, raw) -> float | int | bool | tuple[int, ...]:
        """``raw`` (from a control or a link) as the unit takes it; ``None`` is the default."""
        if raw is None:
            raw = () if self.kind == "tokens" else self.default
        if self.kind == "switch":
            return bool(raw)
        if self.kind == "tokens":
            return tuple(raw)
        if self.integer and isinstance(raw, float) and raw.is_integer():
            return int(raw)
        return raw


def _per_row(values: np.ndarray) -> float | np.ndarray:
    """A ``(..., 1)`` threshold as one value per row: a float for a single vector."""
    out = np.asarray(values)[..., 0]
    return float(out) if out.ndim == 0 else out


# Every unit of this package by name, in the order the modules define them: ``sampling.FILTERS``. A unit joins by being
# defined here with a ``name``; one defined elsewhere (a test, a user's own) is added by hand (``FILTERS[name] = cls``).
UNITS: dict[str, type[Filter]] = {}


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
    picks_token: ClassVar[bool] = False  # draws the token itself from a state it carries, ending a chain (mirostat)
    # every setting, the unit's own number first (none for p-less): an app draws its controls from these
    settings: ClassVar[tuple[Setting, ...]] = ()

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        # its own name (a subclass that inherits one would replace its parent), defined in this package
        if "name" in cls.__dict__ and cls.name and cls.__module__.startswith("logitsviz.sampling."):
            UNITS[cls.name] = cls

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
        """The filter for its own number as a control gives it (a float); its other arguments keep the class's defaults."""
        if not cls.settings:
            return cls()
        main = cls.settings[0]
        return cls(**{main.field: main.value(value)})

    @classmethod
    def from_settings(cls, values: dict, *, history: Sequence[int] = (), seed: int | None = None) -> Filter:
        """The unit for its settings' values by key (a missing one takes its :class:`Setting`'s default, where a control
        starts), the history it reads and the seed it draws with.

        Examples
        --------
        >>> from logitsviz.sampling import DRY
        >>> DRY.from_settings({"dry": 0.8, "dry_allowed": 3.0}, history=[1, 2, 1])
        DRY(multiplier=0.8, base=1.75, allowed_length=3, sequence_breakers=(), penalty_last_n=-1, history=(1, 2, 1))
        """
        kwargs = {s.field: s.value(values.get(s.key)) for s in cls.settings}
        if cls.uses_history:
            kwargs["history"] = tuple(history)
        if cls.uses_rng and "rng" in {f.name for f in fields(cls)}:
            kwargs["rng"] = seed
        return cls(**kwargs)

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


def _generator(rng: int | np.random.Generator | None) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


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
