"""Bootstrap intervals of any metric: rows resampled with replacement, percentile intervals.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from logitsviz.calibration.metrics import REGISTRY, RowFunction
from logitsviz.calibration.rows import (
    _check,
    row_stats,
)
from logitsviz.calibration.summary import accuracy, brier, debiased_ece, expected_calibration_error, nll, smooth_ece
from logitsviz.errors import InputError

# -------------------------------------------------------------- bootstrap ----


@dataclass(frozen=True)
class Interval:
    """A metric's value on the whole set and its bootstrap confidence interval."""

    estimate: float
    low: float
    high: float
    level: float
    resamples: int
    standard_error: float

    def __contains__(self, value: float) -> bool:
        return self.low <= value <= self.high


def _row_metrics(n_bins: int) -> dict[str, RowFunction]:
    """Metrics computable from per-row confidence, correctness, NLL and Brier: resampled without touching the logits."""
    return {m.name: m.of_rows(n_bins) for m in REGISTRY.values() if m.of_rows is not None}


def bootstrap(metric, logits: ArrayLike, labels: ArrayLike, n: int = 1000, rng=0, *, level: float = 0.95,
              method: str = "percentile", temperature: float = 1.0, n_bins: int = 15) -> Interval:
    """A bootstrap confidence interval of any metric of an evaluation set (rows resampled with replacement).

    Parameters
    ----------
    metric : str or callable
        A name from :data:`~logitsviz.calibration.metrics.REGISTRY` that can be
        resampled from rows (``"accuracy"``, ``"nll"``, ``"brier"``, ``"ece"``,
        ``"mce"``, ``"rmsce"``, ``"smooth_ece"``, ``"debiased_ece"``, ``"aurc"``…),
        or the package's function of that name: resampled from per-row values,
        one pass over the logits in all. Any other ``metric(logits, labels) ->
        float`` is called on resampled rows.
    n : int
        Resamples. ``rng``: a seed or ``np.random.Generator``.
    level, method :
        Passed to :func:`scipy.stats.bootstrap` (``"percentile"``, ``"basic"``
        or ``"BCa"``; BCa also computes the metric once per left-out row).

    Examples
    --------
    >>> z = np.random.default_rng(1).normal(0, 2, (500, 4)); y = np.argmax(z, axis=1) % 2
    >>> iv = bootstrap("accuracy", z, y, n=200)
    >>> iv.low < iv.estimate < iv.high, iv.level
    (True, 0.95)
    """
    from scipy import stats as scipy_stats

    name = metric if isinstance(metric, str) else _METRIC_FUNCTIONS.get(metric)
    if name is not None:
        table = _row_metrics(int(n_bins))
        if name not in table:
            raise InputError("calib.metric", value=name, names=", ".join(table))
        s = row_stats(logits, labels, temperature)
        fn, ok = table[name], s.correct.astype(np.float64)

        def statistic(idx: np.ndarray) -> float:
            return fn(s.confidence[idx], ok[idx], s.nll[idx], s.brier[idx])
    elif callable(metric):
        z, y = _check(logits, labels)

        def statistic(idx: np.ndarray) -> float:
            return float(metric(z[idx], y[idx]))
    else:
        raise InputError("calib.metric", value=repr(metric)[:60], names=", ".join(_row_metrics(1)))
    rows = np.asarray(labels).shape[0] if name is None else s.labels.size
    index = np.arange(rows)
    with warnings.catch_warnings(), np.errstate(over="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", scipy_stats.DegenerateDataWarning)  # every resample the same: a zero-width interval
        res = scipy_stats.bootstrap((index,), statistic, n_resamples=int(n), confidence_level=level, method=method,
                                    vectorized=False, batch=64, rng=np.random.default_rng(rng))
    ci = res.confidence_interval
    return Interval(statistic(index), float(ci.low), float(ci.high), float(level), int(n), float(res.standard_error))


_METRIC_FUNCTIONS = {accuracy: "accuracy", nll: "nll", brier: "brier", expected_calibration_error: "ece",
                     smooth_ece: "smooth_ece", debiased_ece: "debiased_ece"}
