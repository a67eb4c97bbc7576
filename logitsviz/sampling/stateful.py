"""Mirostat, the sampler that carries state from one token to the next (its target surprise μ).
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
    Cut,
    Filter,
    Setting,
    _generator,
    _logits,
    _nonnegative,
    _positive,
    sample,
)


@dataclass(frozen=True)
class MirostatState:
    """What mirostat carries from one token to the next: its bound μ, in bits."""

    mu: float


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

    Unlike the other units it has state, a :class:`MirostatState`. :meth:`pick`
    is the pure form: state in, token, truncated logits and the next state out,
    the unit unchanged. :meth:`step` is the convenience a generation loop uses:
    it picks from the unit's own ``state`` and keeps the next one (``mu`` reads
    it). ``apply`` truncates at the current μ without changing it. It picks the
    token itself, so it ends a chain (``picks_token``). Typical: tau 5, eta 0.1.

    >>> m = Mirostat(3.0)
    >>> token, truncated, after = m.pick([2.0, 1.0, 0.0], m.state, rng=0)
    >>> token, m.mu, after.mu > m.mu  # the unit keeps its state; the next is returned (a surprise under tau raises μ)
    (0, 6.0, True)
    """

    name: ClassVar[str] = "mirostat"
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("mirostat", "tau", 3.0, 0.1, 30.0, 0.5, "%.2f", (0.5, 12.0, 0.5)),
        Setting("mirostat_eta", "eta", 0.1, 0.0, 1.0, 0.05, "%.2f"),
        Setting("mirostat_version", "version", 2, 1, 2, 1, "%d", integer=True),
    )
    uses_rng: ClassVar[bool] = True
    picks_token: ClassVar[bool] = True

    def __init__(self, tau: float, eta: float = 0.1, version: int = 2, *, m: int = 100, mu: float | None = None) -> None:
        if version not in (1, 2) or isinstance(version, bool):
            raise InputError("args.mirostat_version", value=version)
        if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or not 2 <= m <= 100_000:
            raise InputError("args.mirostat_m", value=m)
        if mu is not None and (isinstance(mu, bool) or not isinstance(mu, (int, float, np.number)) or not math.isfinite(mu)):
            raise InputError("args.mirostat_mu", value=mu)
        for name, value in (("tau", _positive("tau", tau)), ("eta", _nonnegative("eta", eta)), ("version", int(version)),
                            ("m", int(m))):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "state", MirostatState(2.0 * self.tau if mu is None else float(mu)))

    @property
    def mu(self) -> float:
        """The current bound μ (bits): ``state.mu``."""
        return self.state.mu

    def at(self, state: MirostatState) -> Mirostat:
        """The same settings, starting from ``state`` (a generation picked up where it was)."""
        return Mirostat(self.tau, self.eta, self.version, m=self.m, mu=state.mu)

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

    def _keep(self, z: np.ndarray, probs: np.ndarray, mu: float) -> tuple[np.ndarray, float]:
        """Which tokens of one vector survive at bound ``mu``, and the threshold (a probability, or k)."""
        if self.version == 2:
            keep = -np.log2(np.maximum(probs, np.finfo(np.float64).tiny)) <= mu
            keep |= probs == probs.max()
            return keep & np.isfinite(z), 2.0 ** -mu
        k = self.top_k(probs, mu)
        kth = np.sort(z)[::-1][min(k, z.size) - 1]
        return (z >= kth) & np.isfinite(z), float(k)

    def top_k(self, probs: np.ndarray, mu: float | None = None) -> int:
        """Version 1's k at bound ``mu`` (the current μ when not given), for one probability vector."""
        mu = self.mu if mu is None else mu
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
            k = float((np.float64(eps) * np.exp2(np.float64(mu)) / (1 - np.float64(probs.size) ** -eps)) ** (1 / s_hat))
        if math.isnan(k):
            return 1
        return max(int(k), 1) if math.isfinite(k) else int(probs.size)  # k may pass V, as llama.cpp's: top-k keeps all

    def _cut(self, z: np.ndarray, mu: float | None = None) -> Cut:
        mu = self.mu if mu is None else mu
        out = np.array(z, copy=True)
        thresholds = []
        for zi, oi in zip(z.reshape(-1, z.shape[-1]), out.reshape(-1, z.shape[-1])):
            keep, threshold = self._keep(zi, numerics.softmax(zi.astype(np.float64)), mu)
            oi[~keep] = -np.inf
            thresholds.append(threshold)
        return Cut(out, thresholds[0] if len(thresholds) == 1 else np.array(thresholds), {"mu": mu})

    def pick(self, logits: ArrayLike, state: MirostatState | None = None,
             rng: int | np.random.Generator | None = None) -> tuple[int, np.ndarray, MirostatState]:
        """Truncate one vector at ``state``'s μ (the unit's own when not given), draw a token, and return the token,
        the truncated logits and the next state; the unit is not changed."""
        z = _logits(logits)
        if z.ndim != 1 or z.size == 0:
            raise InputError("args.one_vector", shape=str(z.shape))
        mu = self.mu if state is None else float(state.mu)
        truncated = self._cut(z, mu).after
        token = int(sample(truncated, 1, rng=_generator(rng))[0])
        surprise = -math.log2(max(float(numerics.softmax(truncated.astype(np.float64))[token]), 1e-300))
        return token, truncated, MirostatState(mu - self.eta * (surprise - self.tau))

    def step(self, logits: ArrayLike, rng: int | np.random.Generator | None = None) -> tuple[int, np.ndarray]:
        """:meth:`pick` from the unit's own state, which then becomes the next one; return the token and the truncated
        logits."""
        token, truncated, after = self.pick(logits, self.state, rng)
        object.__setattr__(self, "state", after)  # the one place the unit changes: its state, replaced whole
        return token, truncated
