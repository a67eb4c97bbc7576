"""Mirostat, the sampler that carries state from one token to the next (its target surprise μ).
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike

from logitsviz import numerics
from logitsviz.errors import InputError
from logitsviz.sampling.base import (
    Cut,
    Filter,
    Setting,
    _generator,
    _logits,
    _nonnegative,
    _positive,
    sample,
)


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
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("mirostat", "tau", 3.0, 0.1, 30.0, 0.5, "%.2f", (0.5, 12.0, 0.5)),
        Setting("mirostat_eta", "eta", 0.1, 0.0, 1.0, 0.05, "%.2f"),
        Setting("mirostat_version", "version", 2, 1, 2, 1, "%d", integer=True),
    )
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
