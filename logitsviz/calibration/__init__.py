"""Calibration of a whole evaluation set: are the model's probabilities honest?

Conventions follow Guo et al. 2017, "On Calibration of Modern Neural
Networks": the confidence of a prediction is its largest softmax
probability; confidences fall into equal-width bins ``(lo, hi]`` (15 by
default) or equal-mass bins (``strategy="quantile"``); the expected
calibration error is ``ECE = sum_B (|B| / N) |accuracy(B) - confidence(B)|``.
Temperature scaling divides every logit by one ``T > 0`` chosen to minimise
the negative log-likelihood.

Logits are ``(N, C)``, labels ``(N,)`` integers in ``[0, C)``. The matrix is
read in cache-sized blocks of rows, spread over a thread pool (numpy releases
the GIL), and softmax is never stored: the confidence of a row is
``1 / sum_j exp(z_j - max z)``. Apart from per-row vectors, at most one block
of temporaries per thread is alive, so memory stays near one copy of the input.

Beyond bins: the smooth ECE (Błasiok & Nakkiran 2023) and its reliability
curve, classwise ECE (Kull et al. 2019), the debiased l2 error (Kumar et al.
2019), the Brier decomposition (Murphy 1973), risk-coverage (Geifman et al.
2019) and bootstrap intervals of any of them. All are functions of sums over
rows (:class:`Summary`), so sets larger than memory are read in chunks: a
memory-mapped ``.npy``, a folder of shards (:func:`open_shards`) or a dask
array, in one pass (the temperature fit: one pass per Newton step).
Recalibration maps (temperature, vector, matrix, Dirichlet, histogram binning,
isotonic) are fitted with scipy's optimisers and compared on held-out rows by
:func:`compare_maps`.

The package's modules, each importing only those listed after it:
``maps`` (recalibration maps) and ``intervals`` (bootstrap); ``summary`` (the
streaming :class:`Summary` and the metric functions that accept any source)
and ``temperature`` (the fit); ``smooth`` (metrics from sums: smooth,
classwise and debiased ECE, Brier decomposition, risk-coverage) and
``chunks`` (memory maps, shards, dask), with ``metrics`` (every metric
declared once, :data:`REGISTRY`) between them and ``summary``; ``rows`` (checks, one pass over the
rows, bins, the report). Import from the package: its names are the API.
"""

from __future__ import annotations

# CHUNK_BYTES, CV_FOLDS, CV_MAX_ROWS, TOP_MAX and SMOOTH_MIN_SIGMA are settings their modules read: importable here as
# from the single module they came from; to change one (a test), patch it in its module (calibration.chunks.CHUNK_BYTES)
from logitsviz.calibration.chunks import (
    CHUNK_BYTES as CHUNK_BYTES,
)
from logitsviz.calibration.chunks import (
    Shards,
    open_shards,
)
from logitsviz.calibration.intervals import Interval, bootstrap
from logitsviz.calibration.maps import (
    BY_FITTING_TIME,
    MAPS,
    MAX_MATRIX_CLASSES,
    REG_GRID,
    MapComparison,
    MapResult,
    Measured,
    Recalibration,
    assemble,
    compare_maps,
    fit_map,
    measure_map,
)
from logitsviz.calibration.maps import (
    CV_FOLDS as CV_FOLDS,
)
from logitsviz.calibration.maps import (
    CV_MAX_ROWS as CV_MAX_ROWS,
)
from logitsviz.calibration.maps import (
    TOP_MAX as TOP_MAX,
)
from logitsviz.calibration.metrics import REGISTRY, Metric
from logitsviz.calibration.ood import OOD, OOD_SCORES, auroc, ood, ood_scores
from logitsviz.calibration.rows import (
    GRID,
    METRICS,
    Bins,
    Report,
    RowStats,
    bins_from_confidence,
    calibration_error,
    most_confident_mistakes,
    per_class_accuracy,
    reliability_bins,
    report,
    row_stats,
    validate,
)
from logitsviz.calibration.rows import (
    SMOOTH_MIN_SIGMA as SMOOTH_MIN_SIGMA,
)
from logitsviz.calibration.smooth import BrierDecomposition, RiskCoverage, SmoothReliability
from logitsviz.calibration.summary import (
    MORE_METRICS,
    Summary,
    accuracy,
    brier,
    brier_decomposition,
    classwise_ece,
    debiased_ece,
    expected_calibration_error,
    nll,
    risk_coverage,
    smooth_ece,
    smooth_reliability,
    summarize,
)
from logitsviz.calibration.temperature import T_MAX, T_MIN, fit_temperature, nll_curve

__all__ = [
    "OOD",
    "OOD_SCORES",
    "auroc",
    "ood",
    "ood_scores",
    "T_MIN",
    "T_MAX",
    "Bins",
    "RowStats",
    "row_stats",
    "reliability_bins",
    "bins_from_confidence",
    "calibration_error",
    "expected_calibration_error",
    "fit_temperature",
    "nll",
    "brier",
    "accuracy",
    "per_class_accuracy",
    "nll_curve",
    "METRICS",
    "validate",
    "Report",
    "report",
    "most_confident_mistakes",
    "GRID",
    "MORE_METRICS",
    "Metric",
    "REGISTRY",
    "Summary",
    "summarize",
    "smooth_ece",
    "SmoothReliability",
    "smooth_reliability",
    "classwise_ece",
    "debiased_ece",
    "BrierDecomposition",
    "brier_decomposition",
    "RiskCoverage",
    "risk_coverage",
    "Interval",
    "bootstrap",
    "Shards",
    "open_shards",
    "MAPS",
    "BY_FITTING_TIME",
    "REG_GRID",
    "MAX_MATRIX_CLASSES",
    "Recalibration",
    "fit_map",
    "MapResult",
    "MapComparison",
    "compare_maps",
    "Measured",
    "measure_map",
    "assemble",
]
