"""Calibration metrics against direct re-implementations, synthetic models and scipy's optimiser."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.optimize
import scipy.special as sp

from logitsviz import InputError, calibration

pytestmark = pytest.mark.usefixtures("no_warnings")


def reference_ece(z, y, n_bins=15, norm="l1"):
    """Guo et al.'s definition, written plainly: equal-width bins (lo, hi]."""
    p = sp.softmax(np.asarray(z, dtype=np.float64), axis=1)
    conf, pred = p.max(axis=1), p.argmax(axis=1)
    total, worst, sq = 0.0, 0.0, 0.0
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        members = (conf > lo) & (conf <= hi) if b else (conf >= 0) & (conf <= hi)
        if members.any():
            gap = abs(np.mean(pred[members] == y[members]) - np.mean(conf[members]))
            total += members.mean() * gap
            sq += members.mean() * gap * gap
            worst = max(worst, gap)
    return {"l1": total, "l2": math.sqrt(sq), "max": worst}[norm]


def synthetic(n, c=10, temperature=1.0, seed=0, dtype=np.float64):
    """Logits and labels drawn from softmax(z / temperature): calibrated at that temperature."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 2.5, (n, c))
    p = sp.softmax(z / temperature, axis=1)
    u = rng.random(n)[:, None]
    y = (p.cumsum(axis=1) < u).sum(axis=1).clip(max=c - 1)
    return z.astype(dtype), y


def test_hand_computed_ece():
    # rows: conf 0.881 right, conf 0.881 wrong, conf 0.953 right; with 2 bins all fall in (0.5, 1]
    z = np.array([[2.0, 0.0], [0.0, 2.0], [3.0, 0.0]])
    y = np.array([0, 0, 0])
    conf = [sp.expit(2.0), sp.expit(2.0), sp.expit(3.0)]
    expected = abs(2 / 3 - np.mean(conf))
    assert calibration.expected_calibration_error(z, y, n_bins=2) == pytest.approx(expected, rel=1e-12)
    assert calibration.expected_calibration_error(z, y, n_bins=2, norm="max") == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("norm", ["l1", "l2", "max"])
@pytest.mark.parametrize("n_bins", [1, 5, 15, 40])
def test_ece_matches_reference(norm, n_bins):
    z, y = synthetic(3000, temperature=1.7, seed=n_bins)
    assert calibration.expected_calibration_error(z, y, n_bins=n_bins, norm=norm) == pytest.approx(
        reference_ece(z, y, n_bins, norm), rel=1e-9, abs=1e-12)


def test_row_stats_match_scipy():
    z, y = synthetic(500, c=7, seed=3)
    s = calibration.row_stats(z, y, temperature=1.3)
    p = sp.softmax(z / 1.3, axis=1)
    np.testing.assert_allclose(s.confidence, p.max(axis=1), rtol=1e-12)
    np.testing.assert_allclose(s.nll, -np.log(p[np.arange(500), y]), rtol=1e-10)
    np.testing.assert_allclose(s.brier, ((p - np.eye(7)[y]) ** 2).sum(axis=1), rtol=1e-10, atol=1e-14)
    assert calibration.nll(z, y) == pytest.approx(np.mean(-sp.log_softmax(z, axis=1)[np.arange(500), y]), rel=1e-12)


def test_float32_agrees_with_float64():
    z, y = synthetic(2000, seed=4)
    a = calibration.expected_calibration_error(z, y)
    b = calibration.expected_calibration_error(z.astype(np.float32), y)
    assert a == pytest.approx(b, abs=1e-5)


def test_calibrated_model_ece_shrinks_with_n():
    eces = [calibration.expected_calibration_error(*synthetic(n, seed=1)) for n in (1_000, 10_000, 100_000)]
    assert eces[0] > eces[1] > eces[2]
    assert eces[2] < 0.01


@pytest.mark.parametrize("true_t", [0.5, 1.0, 2.0, 4.0])
def test_fit_recovers_known_temperature(true_t):
    z, y = synthetic(60_000, temperature=true_t, seed=7)
    assert calibration.fit_temperature(z, y) == pytest.approx(true_t, rel=0.02)


def test_fit_is_the_nll_optimum():
    z, y = synthetic(5_000, temperature=1.6, seed=8)
    t = calibration.fit_temperature(z, y)

    def nll_at(log_t):
        return -np.mean(sp.log_softmax(z / math.exp(log_t), axis=1)[np.arange(len(y)), y])

    best = scipy.optimize.minimize_scalar(nll_at, bounds=(-3, 3), method="bounded", options={"xatol": 1e-10})
    assert t == pytest.approx(math.exp(best.x), rel=1e-5)
    assert calibration.nll(z, y, temperature=t) <= calibration.nll(z, y) + 1e-12
    assert calibration.nll(z, y, temperature=t) <= best.fun + 1e-10


def test_fit_degenerate_data():
    z = np.array([[5.0, 0.0], [0.0, 5.0], [4.0, 1.0]])
    all_right = calibration.fit_temperature(z, np.array([0, 1, 0]))
    all_wrong = calibration.fit_temperature(z, np.array([1, 0, 1]))
    one_class = calibration.fit_temperature(np.array([[1.0], [2.0]]), np.array([0, 0]))
    equal = calibration.fit_temperature(np.zeros((4, 3)), np.array([0, 1, 2, 0]))
    for t in (all_right, all_wrong, one_class, equal):
        assert math.isfinite(t) and calibration.T_MIN <= t <= calibration.T_MAX
    assert all_right == calibration.T_MIN and all_wrong == calibration.T_MAX
    assert one_class == 1.0 and equal == 1.0


def test_fit_with_masked_classes():
    z, y = synthetic(2000, temperature=2.0, seed=9)
    z[:, -1] = -np.inf
    y = np.where(y == z.shape[1] - 1, 0, y)
    t = calibration.fit_temperature(z, y)
    assert math.isfinite(t) and t > 0
    with pytest.raises(InputError):
        calibration.fit_temperature(z, np.full(len(y), z.shape[1] - 1))


def test_bin_edges():
    # two classes with equal logits: confidence exactly 0.5, an edge of 2, 4 and 10 bins -> the bin below
    z = np.zeros((4, 2))
    y = np.array([0, 1, 0, 0])
    b = calibration.reliability_bins(z, y, n_bins=4)
    assert b.count.tolist() == [0, 4, 0, 0]  # (0.25, 0.5]
    # confidence exactly 1.0 (a huge margin) lands in the last bin
    b = calibration.reliability_bins(np.array([[1000.0, 0.0]]), np.array([0]), n_bins=15)
    assert b.count[-1] == 1 and b.confidence[-1] == 1.0


def test_quantile_bins_have_equal_mass():
    z, y = synthetic(10_000, seed=10)
    b = calibration.reliability_bins(z, y, n_bins=10, strategy="quantile")
    assert b.count.sum() == 10_000
    assert np.all(np.abs(b.count - 1000) <= 2)


def test_per_class_accuracy_and_accuracy():
    z, y = synthetic(3000, c=4, seed=11)
    count, acc = calibration.per_class_accuracy(z, y)
    pred = z.argmax(axis=1)
    for c in range(4):
        assert count[c] == np.sum(y == c)
        assert acc[c] == pytest.approx(np.mean(pred[y == c] == c))
    assert calibration.accuracy(z, y) == pytest.approx(np.mean(pred == y))


def test_nll_curve_minimum_is_the_fit():
    z, y = synthetic(3000, temperature=2.5, seed=12)
    t = calibration.fit_temperature(z, y)
    grid = np.array([t * 0.8, t, t * 1.25])
    curve = calibration.nll_curve(z, y, grid)
    assert curve[1] < curve[0] and curve[1] < curve[2]


@pytest.mark.parametrize(
    ("z", "y", "key"),
    [
        (np.ones(3), [0], "calib.shape"),
        (np.ones((2, 3)), [0], "calib.labels_shape"),
        (np.ones((2, 3)), [0, 3], "calib.labels_range"),
        (np.ones((2, 3)), [0, -1], "calib.labels_range"),
        (np.ones((2, 3)), [0.5, 1], "calib.labels_int"),
        (np.array([[1.0, np.nan], [0, 1]]), [0, 1], "input.nan"),
        (np.array([[1.0, np.inf], [0, 1]]), [0, 1], "input.posinf"),
        (np.array([[-np.inf, -np.inf], [0, 1]]), [0, 1], "input.all_masked"),
    ],
)
def test_bad_input(z, y, key):
    with pytest.raises(InputError) as info:
        calibration.expected_calibration_error(z, y)
    assert info.value.key == key


def test_bad_arguments():
    z, y = synthetic(10)
    with pytest.raises(InputError):
        calibration.expected_calibration_error(z, y, norm="l3")
    with pytest.raises(InputError):
        calibration.reliability_bins(z, y, n_bins=0)
    with pytest.raises(InputError):
        calibration.reliability_bins(z, y, strategy="log")


def test_many_blocks_on_the_thread_pool_are_quiet_and_equal():
    # enough rows for many blocks (the pool path), with masked classes in every block
    z, y = synthetic(40_000, c=50, temperature=1.5, seed=13, dtype=np.float32)
    z[:, -1] = -np.inf
    y = np.where(y == 49, 0, y)
    small = calibration.expected_calibration_error(z[:500], y[:500])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ece = calibration.expected_calibration_error(z, y)
        t = calibration.fit_temperature(z, y)
    assert 0 <= ece < 1 and 0 <= small < 1
    assert t == pytest.approx(1.5, rel=0.03)


def test_one_hot_labels_are_class_indices():
    z = np.array([[2.0, 0.0, 1.0], [0.0, 3.0, 0.0]])
    assert calibration.expected_calibration_error(z, np.eye(3)[[0, 1]]) == calibration.expected_calibration_error(z, [0, 1])
    with pytest.raises(InputError) as info:
        calibration.validate(z, [[0.5, 0.5, 0.0], [0, 1, 0]])  # soft labels are not one-hot
    assert info.value.key == "calib.labels_not_one_hot"


def test_report_names_the_size_of_the_mce_bin():
    z = np.array([[5.0, 0.0]] * 9 + [[0.2, 0.0]])
    y = np.array([0] * 9 + [1])
    r = calibration.report(z, y, n_bins=10)
    gaps = np.abs(np.nan_to_num(r.bins.gap))
    assert r.mce == pytest.approx(gaps.max()) and r.mce_count == r.bins.count[int(np.argmax(gaps))] == 1
