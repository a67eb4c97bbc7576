"""Every metric of an evaluation set, declared once: how it follows from the streaming sums, how it is resampled.

A :class:`Metric` says how the number is read from a :class:`~logitsviz.calibration.Summary`
(one pass over any source: arrays, memory maps, shards, dask), how it is computed from
resampled per-row values for a bootstrap interval, whether it is a rate (shown as a
percentage), which way is better and whether the recalibration maps are compared by it. :data:`REGISTRY` holds them in the order tables show
them; ``Summary.metrics()``, :func:`~logitsviz.calibration.bootstrap`, the command line's
table and the Calibration page's tables all iterate it. A new metric whose sums the summary
already keeps is one entry here, its catalogue strings (``cal.m2.<name>``, its name, and
``cal.m2.<name>.what``, one line on what it measures) and its tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from logitsviz.calibration.rows import _bin_index, _bin_sums, _grid_of, bins_from_confidence, calibration_error
from logitsviz.calibration.smooth import _debiased, _risk_of_rows, _smooth_ece_fixed_point

# per-row values a bootstrap resamples: confidence, correct (0/1 floats), NLL, Brier
RowFunction = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], float]


@dataclass(frozen=True)
class Metric:
    """One metric: its name, how it is read from the sums and from resampled rows, how it is shown."""

    name: str
    label: str  # the command line's English name (the page's names are in the catalogues)
    of_summary: Callable  # Summary -> float
    of_rows: Callable[[int], RowFunction] | None = None  # n_bins -> per-row function; None: not resampled
    rate: bool = True  # a fraction shown as a percentage; False: a plain number (NLL, Brier)
    higher_is_better: bool = False
    classwise: bool = False  # needs the per-class sums (Summary made with classwise=True)
    compared: bool = False  # a column of the recalibration maps' comparison
    slow_to_resample: bool = False  # each resample solves a fixed point (smooth ECE: 10 ms each): a page computes it last

    def best(self, values):
        """The best of ``values`` by this metric's direction."""
        return max(values) if self.higher_is_better else min(values)


def _mean_of(column: int) -> Callable[[int], RowFunction]:
    return lambda n_bins: lambda *rows: float(np.mean(rows[column]))


def _binned(norm: str) -> Callable[[int], RowFunction]:
    return lambda n_bins: lambda conf, ok, _nll, _brier: calibration_error(bins_from_confidence(conf, ok, n_bins), norm)


def _debiased_rows(n_bins: int) -> RowFunction:
    return lambda conf, ok, _nll, _brier: _debiased(*_bin_sums(_bin_index(conf, n_bins), conf, ok, n_bins), conf.size)


def _smooth_rows(n_bins: int) -> RowFunction:
    def smooth(conf, ok, _nll, _brier):
        count, hits, conf_sum = _grid_of(conf, ok)
        return _smooth_ece_fixed_point(count, conf_sum - hits, conf.size)[0]
    return smooth


def _aurc_rows(n_bins: int) -> RowFunction:
    return lambda conf, ok, _nll, _brier: _risk_of_rows(conf, ok).aurc


REGISTRY: dict[str, Metric] = {m.name: m for m in (
    Metric("accuracy", "accuracy", lambda s: s.accuracy, _mean_of(1), higher_is_better=True, compared=True),
    Metric("confidence", "avg confidence", lambda s: s.confidence, _mean_of(0)),
    Metric("nll", "NLL", lambda s: s.nll, _mean_of(2), rate=False, compared=True),
    Metric("brier", "Brier", lambda s: s.brier, _mean_of(3), rate=False, compared=True),
    Metric("ece", "ECE", lambda s: s.ece("l1"), _binned("l1"), compared=True),
    Metric("mce", "MCE", lambda s: s.ece("max"), _binned("max")),
    Metric("rmsce", "RMS calib. error", lambda s: s.ece("l2"), _binned("l2")),
    Metric("smooth_ece", "smooth ECE", lambda s: s.smooth_ece(), _smooth_rows, compared=True, slow_to_resample=True),
    Metric("classwise_ece", "classwise ECE", lambda s: s.classwise_ece(), classwise=True, compared=True),
    Metric("debiased_ece", "debiased l2 ECE", lambda s: s.debiased_ece(), _debiased_rows),
    Metric("aurc", "AURC", lambda s: s.risk_coverage().aurc, _aurc_rows, compared=True),
)}
