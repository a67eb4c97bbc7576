"""The pieces a page fills in one at a time add up to the view computed whole."""

from __future__ import annotations

import numpy as np
import pytest

from logitsviz import calibration, explain


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    z = rng.normal(0.0, 3.0, (300, 4))
    y = np.argmax(z + rng.normal(0.0, 3.0, z.shape), axis=1)  # over-confident logits
    return z, y


def test_each_interval_alone_equals_the_one_in_the_whole_view(data):
    z, y = data
    whole = explain.calibration_metrics(z, y, temperature=1.3, n_boot=30, seed=2)
    assert sorted(whole.intervals) == sorted(explain.INTERVAL_METRICS)
    for name in explain.INTERVAL_METRICS:
        alone = explain.metric_interval(name, z, y, temperature=1.3, n_boot=30, seed=2)
        assert (alone.estimate, alone.low, alone.high) == (whole.intervals[name].estimate, whole.intervals[name].low,
                                                           whole.intervals[name].high), name


def test_the_quick_view_has_every_value_and_no_interval_or_band(data):
    z, y = data
    quick = explain.calibration_metrics(z, y, temperature=1.3, n_boot=0)
    whole = explain.calibration_metrics(z, y, temperature=1.3, n_boot=20)
    assert quick.intervals == {} and quick.smooth.lower is None and whole.smooth.lower is not None
    assert quick.summary.metrics() == whole.summary.metrics()
    np.testing.assert_array_equal(quick.smooth.accuracy, whole.smooth.accuracy)
    np.testing.assert_array_equal(quick.risk_curve, whole.risk_curve)


def test_the_slow_interval_comes_last():
    order = explain.INTERVALS_QUICK_FIRST
    assert sorted(order) == sorted(explain.INTERVAL_METRICS)
    slow = [name for name in order if calibration.REGISTRY[name].slow_to_resample]
    assert slow == ["smooth_ece"] and order[-1] == "smooth_ece"


def test_maps_measured_one_by_one_assemble_into_the_comparison(data):
    z, y = data
    whole = calibration.compare_maps(z, y, split=0.6, rng=5, max_classes=3)  # matrix and Dirichlet: too many classes
    rows = [calibration.measure_map(kind, z, y, split=0.6, rng=5, max_classes=3)
            for kind in ("none", *calibration.BY_FITTING_TIME)]
    order = ("none", *calibration.MAPS)
    together = calibration.assemble(sorted(rows, key=lambda m: order.index(m.kind)), 5)
    assert (together.calibration_rows, together.test_rows) == (whole.calibration_rows, whole.test_rows) == (180, 120)
    assert [r.kind for r in together.results] == [r.kind for r in whole.results] == list(order)
    for a, b in zip(together.results, whole.results):
        assert a.metrics == b.metrics
        assert (a.skipped is None) == (b.skipped is None)
        if a.curve is not None:
            assert a.curve.sigma == b.curve.sigma
            np.testing.assert_array_equal(a.curve.accuracy, b.curve.accuracy)
    assert {r.kind for r in together.results if r.skipped} == {"matrix", "dirichlet"}
    assert sorted(calibration.BY_FITTING_TIME) == sorted(calibration.MAPS)
