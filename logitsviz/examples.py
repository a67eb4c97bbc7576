"""Presets: small worked examples and one large vector, built on demand.

Each preset returns ``(labels, logits)``. Labels that are words are translated
through :func:`logitsviz.i18n.t`, so the seed example reads naturally in both
languages. The logits of the next-token example are illustrative: written by
hand to look like a language model's, not produced by one.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np

from logitsviz.i18n import t
from logitsviz.inputs import default_labels

__all__ = ["LARGE_PRESETS", "PRESETS", "SEED_LOGITS", "preset"]

SEED_LOGITS = (2.0, 1.0, 0.1)

# " " at the start of a token is shown as "␣", as tokenizers' vocabularies do
_NEXT_TOKEN = [
    ("␣mat", 6.1), ("␣floor", 5.4), ("␣couch", 5.0), ("␣sofa", 4.8), ("␣bed", 4.6),
    ("␣chair", 4.3), ("␣windowsill", 4.1), ("␣rug", 3.9), ("␣table", 3.6), ("␣edge", 3.2),
    ("␣porch", 3.0), ("␣roof", 2.8), ("␣ground", 2.7), ("␣grass", 2.5), ("␣keyboard", 2.4),
    ("␣step", 2.1), ("␣fence", 2.0), ("␣bench", 1.8), ("␣pillow", 1.7), ("␣blanket", 1.5),
    ("␣corner", 1.3), ("␣stairs", 1.1), ("␣box", 1.0), ("␣wall", 0.6), ("␣car", 0.4),
    ("␣laptop", 0.2), ("␣other", -0.3), (",", -0.8), (".", -1.2), ("␣and", -1.6),
]


def _seed() -> tuple[list[str], np.ndarray]:
    labels = [t("preset.seed.news"), t("preset.seed.entertainment"), t("preset.seed.technology")]
    return labels, np.array(SEED_LOGITS)


def _next_token() -> tuple[list[str], np.ndarray]:
    return [tok for tok, _ in _NEXT_TOKEN], np.array([v for _, v in _NEXT_TOKEN])


def _huge() -> tuple[list[str], np.ndarray]:
    return ["A", "B", "C"], np.array([1000.0, 999.0, 998.0])


def _masked() -> tuple[list[str], np.ndarray]:
    labels = [t("preset.masked.allowed", i=i) for i in (1, 2, 3)] + [t("preset.masked.blocked")]
    return labels, np.array([1.5, 0.5, -0.5, -np.inf])


def _uniform() -> tuple[list[str], np.ndarray]:
    return default_labels(5, t("label.default")), np.zeros(5)


@lru_cache(maxsize=1)
def _random_vector(n: int = 200_000, seed: int = 0) -> np.ndarray:
    # a heavy-tailed vocabulary: most logits near 0, a few far above, like an LLM's
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, 1.5, n)
    z[rng.choice(n, 50, replace=False)] += rng.uniform(4.0, 9.0, 50)
    z.setflags(write=False)
    return z


def _random_200k() -> tuple[list[str], np.ndarray]:
    z = _random_vector()
    return default_labels(z.size, t("label.default")), z.copy()


PRESETS: dict[str, Callable[[], tuple[list[str], np.ndarray]]] = {
    "seed": _seed,
    "next_token": _next_token,
    "huge": _huge,
    "masked": _masked,
    "uniform": _uniform,
    "random200k": _random_200k,
}
LARGE_PRESETS = frozenset({"random200k"})


def preset(name: str) -> tuple[list[str], np.ndarray]:
    """The labels and logits of preset ``name`` (one of :data:`PRESETS`).

    >>> preset("huge")[1]
    array([1000.,  999.,  998.])
    """
    return PRESETS[name]()
