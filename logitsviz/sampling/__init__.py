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

The package's modules, each importing only those listed after it:
``pipelines`` (the registry, orders, defaults, chains); ``stateful``
(mirostat), ``penalties`` (history-reading units) and ``filters`` (the rest);
``base`` (the unit base class, checks, :func:`sample`). Import from the
package: its names are the API.
"""

from __future__ import annotations

from logitsviz.sampling.base import SMALL_PROBABILITY_STOPS, TEMPERATURE_STOPS, Cut, Filter, Setting, sample
from logitsviz.sampling.filters import (
    XTC,
    DynamicTemperature,
    EpsilonCutoff,
    EtaCutoff,
    MinP,
    PLess,
    Smoothing,
    TailFree,
    Temperature,
    TopA,
    TopK,
    TopNSigma,
    TopP,
    TypicalP,
    dynamic_temperature,
    epsilon_cutoff,
    eta_cutoff,
    min_p,
    p_less,
    smoothing,
    tail_free,
    temperature,
    top_a,
    top_k,
    top_n_sigma,
    top_p,
    typical_p,
    typicality,
    xtc,
)
from logitsviz.sampling.penalties import (
    DRY,
    PresenceFrequency,
    RepetitionPenalty,
    dry,
    presence_frequency_penalty,
    repetition_penalty,
)
from logitsviz.sampling.pipelines import DEFAULTS, FILTERS, ORDERS, Stage, build_chain, chain, draw, in_order, pipeline
from logitsviz.sampling.stateful import Mirostat, MirostatState

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
    "Setting",
    "TEMPERATURE_STOPS",
    "SMALL_PROBABILITY_STOPS",
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
    "MirostatState",
    "FILTERS",
    "ORDERS",
    "DEFAULTS",
    "Stage",
    "build_chain",
    "chain",
    "draw",
    "in_order",
    "pipeline",
    "typicality",
]
