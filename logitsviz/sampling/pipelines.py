"""Units in sequence: the registry of every unit by name (:data:`FILTERS`), each project's order
(:data:`ORDERS`) and defaults (:data:`DEFAULTS`), and the chain of stages a chart draws and a draw samples from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from logitsviz.errors import InputError
from logitsviz.sampling import filters, penalties, stateful  # noqa: F401 - their units register in UNITS on import
from logitsviz.sampling.base import UNITS, Filter, _generator, _history, _logits, sample


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
        if unit.picks_token:
            return unit.step(z, gen)
        z = unit(z)
    return int(sample(z, 1, rng=gen)[0]), z


# --------------------------------------------------------------- pipelines ----

# Every unit by name, registered where it is defined (``base.UNITS``): a new unit needs no line here.
FILTERS: dict[str, type[Filter]] = UNITS


# Every unit in the order each project applies them; a unit a project lacks sits where it fits best (noted).
_LISTED: dict[str, tuple[str, ...]] = {
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
# ... and a unit none of them places yet comes last, so that every order holds every unit once.
ORDERS: dict[str, tuple[str, ...]] = {
    project: (*order, *(name for name in FILTERS if name not in order)) for project, order in _LISTED.items()
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
