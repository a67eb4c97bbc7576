"""The newer calibration estimators against their papers' definitions, written plainly.

smooth ECE (Błasiok & Nakkiran 2023) against the integral with the exact reflected kernel; classwise ECE (Kull
et al. 2019), the debiased l2 error (Kumar et al. 2019) and the Brier decomposition (Murphy 1973, Stephenson et
al. 2008) against loops; risk-coverage against every tie order; bootstrap intervals against their nominal coverage.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.special as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from logitsviz import InputError, calibration
from tests.test_calibration import synthetic

pytestmark = pytest.mark.usefixtures("no_warnings")


# ------------------------------------------------------------------ smooth ECE ----


def reflected_kernel(t, f, sigma, images=3):
    """K(t, f) = sum_m phi(t - f - 2m) + phi(t + f - 2m): the Gaussian reflected at 0 and 1, every image."""
    m = np.arange(-images, images + 1)[None, None, :]
    phi = lambda d: np.exp(-0.5 * (d / sigma) ** 2) / (math.sqrt(2 * math.pi) * sigma)  # noqa: E731
    return (phi(t[:, None, None] - f[None, :, None] - 2 * m) + phi(t[:, None, None] + f[None, :, None] - 2 * m)).sum(axis=2)


def reference_smooth_ece_at(f, y, sigma, mesh=4001):
    """smECE_sigma = integral over [0, 1] of |(1/N) sum_i K(t, f_i) (f_i - y_i)| dt, no grid for the points."""
    t = np.linspace(0.0, 1.0, mesh)
    k = reflected_kernel(t, f, sigma)
    r = np.abs(k @ (f - y)) / f.size
    d = k.sum(axis=1) / f.size
    return np.trapezoid(r, t) / np.trapezoid(d, t)


def reference_smooth_ece(f, y):
    """The fixed point smECE_sigma = sigma, by bisection (relplot's rule, here to 1e-7), sigma >= 0.001."""
    lo, hi = 0.0, 1.0
    while hi - lo > 1e-7:
        mid = (lo + hi) / 2
        if mid < 1e-3 or mid < reference_smooth_ece_at(f, y, mid):
            lo = mid
        else:
            hi = mid
    return reference_smooth_ece_at(f, y, hi), hi


def top_label(z, y):
    p = sp.softmax(z, axis=1)
    return p.max(axis=1), (p.argmax(axis=1) == y).astype(float)


@pytest.mark.parametrize("seed", range(4))
def test_smooth_ece_matches_the_definition(seed):
    z, y = synthetic(120, c=4, temperature=[0.5, 1.0, 2.0, 4.0][seed], seed=seed)
    f, ok = top_label(z, y)
    expected, sigma = reference_smooth_ece(f, ok)
    got = calibration.smooth_ece(z, y)
    assert got == pytest.approx(expected, abs=2e-4, rel=2e-3)
    # and it is the fixed point: at the chosen width, smECE equals the width (up to the bisection's step)
    rel = calibration.smooth_reliability(z, y, n_boot=0)
    assert rel.sigma == pytest.approx(sigma, abs=2e-4, rel=2e-3)
    assert rel.smooth_ece == pytest.approx(got, rel=1e-12)
    assert rel.sigma >= 1e-3 and (abs(got - rel.sigma) < 1e-4 or rel.sigma < 1.01e-3)


@pytest.mark.parametrize("sigma", [0.01, 0.05, 0.2, 0.7])
def test_smooth_ece_at_a_fixed_width_matches_the_integral(sigma):
    z, y = synthetic(150, c=3, temperature=2.0, seed=7)
    f, ok = top_label(z, y)
    grid = calibration.rows._grid_of(f, ok.astype(bool))
    got = calibration.smooth._smooth_ece_at(grid[0], grid[2] - grid[1], sigma)
    assert got == pytest.approx(reference_smooth_ece_at(f, ok, sigma), abs=1e-5, rel=1e-3)


def test_smooth_ece_hand_cases():
    # confidence 1/2 and right half the time: perfectly calibrated, smECE = 0 at every width
    assert calibration.smooth_ece(np.zeros((6, 2)), [0, 1, 0, 1, 0, 1]) == pytest.approx(0.0, abs=1e-12)
    # one confidence c, always right: the residual is c - 1 everywhere the kernel reaches, so smECE = 1 - c at any width
    for logit in (0.5, 2.0, 5.0):
        c = sp.expit(logit)
        assert calibration.smooth_ece([[logit, 0.0]] * 5, [0] * 5) == pytest.approx(1 - c, abs=1e-9)
        assert calibration.smooth_ece([[logit, 0.0]] * 5, [1] * 5) == pytest.approx(c, abs=1e-9)  # always wrong: c - 0
    # mixing the two: confidence 0.9 right 90 % of the time
    z = [[math.log(9.0), 0.0]] * 10
    assert calibration.smooth_ece(z, [0] * 9 + [1]) == pytest.approx(0.0, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 60), st.integers(2, 6), st.integers(0, 10_000), st.floats(0.2, 5.0))
def test_smooth_ece_properties(n, c, seed, temperature):
    z, y = synthetic(n, c=c, temperature=temperature, seed=seed)
    value = calibration.smooth_ece(z, y)
    f, ok = top_label(z, y)
    assert 0.0 <= value <= 1.0
    assert value <= np.mean(np.abs(f - ok)) + 1e-9  # smoothing never adds error: at most the unbinned mean |f - y|
    order = np.random.default_rng(seed).permutation(n)
    assert calibration.smooth_ece(z[order], y[order]) == pytest.approx(value, abs=1e-12)


def test_smooth_ece_is_small_for_a_calibrated_model_and_not_for_an_overconfident_one():
    z, y = synthetic(20_000, c=10, temperature=1.0, seed=3)
    assert calibration.smooth_ece(z, y) < 0.02
    assert calibration.smooth_ece(z * 3, y) > 0.2


def test_smooth_reliability_curve_and_band():
    z, y = synthetic(3000, c=5, temperature=2.0, seed=1)  # over-confident at T = 1: the curve lies under the diagonal
    r = calibration.smooth_reliability(z, y, n_points=101, n_boot=100, rng=0)
    assert r.mesh.shape == r.accuracy.shape == r.lower.shape == r.density.shape == (101,)
    assert np.all(r.lower <= r.accuracy + 1e-12) and np.all(r.accuracy <= r.upper + 1e-12)
    assert np.trapezoid(r.density, r.mesh) == pytest.approx(1.0, abs=0.02)
    busy = r.density > 0.5
    assert np.mean(r.accuracy[busy] < r.mesh[busy]) > 0.9
    again = calibration.smooth_reliability(z, y, n_points=101, n_boot=100, rng=0)
    assert np.array_equal(again.upper, r.upper)  # seeded
    # the curve is t plus the kernel-smoothed correctness minus confidence, checked at a few points directly
    f, ok = top_label(z, y)
    t = r.mesh[[20, 50, 80]]
    k = reflected_kernel(t, f, r.sigma)
    assert r.accuracy[[20, 50, 80]] == pytest.approx(t + (k @ (ok - f)) / k.sum(axis=1), abs=3e-3)


# ------------------------------------------------------- classwise, debiased ----


def reference_classwise(z, y, n_bins):
    p = sp.softmax(z, axis=1)
    n, c = p.shape
    total = 0.0
    for k in range(c):
        for b in range(n_bins):
            lo, hi = b / n_bins, (b + 1) / n_bins
            members = (p[:, k] > lo) & (p[:, k] <= hi) if b else p[:, k] <= hi
            if members.any():
                total += members.sum() / n * abs(np.mean(y[members] == k) - np.mean(p[members, k]))
    return total / c


@pytest.mark.parametrize("n_bins", [1, 4, 15])
def test_classwise_ece_matches_a_loop(n_bins):
    z, y = synthetic(800, c=5, temperature=1.5, seed=n_bins)
    assert calibration.classwise_ece(z, y, n_bins=n_bins) == pytest.approx(reference_classwise(z, y, n_bins), rel=1e-9)


def kumar_unbiased_l2(f, ok, edges):
    """``unbiased_l2_ce`` of Kumar et al.'s ``calibration`` package, transcribed (bins (lo, hi])."""
    total, n = 0.0, f.size
    for lo, hi in itertools.pairwise(edges):
        members = (f > lo) & (f <= hi) if lo > 0 else f <= hi
        data = list(zip(f[members], ok[members]))
        if len(data) < 2:
            continue
        biased = abs(np.mean([a - b for a, b in data])) ** 2
        mean_label = np.mean([b for _, b in data])
        total += len(data) / n * (biased - mean_label * (1 - mean_label) / (len(data) - 1.0))
    return max(total, 0.0) ** 0.5


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_debiased_ece_matches_kumar_et_al(strategy):
    z, y = synthetic(600, c=4, temperature=1.8, seed=2)
    f, ok = top_label(z, y)
    edges = np.linspace(0, 1, 11) if strategy == "uniform" else np.r_[0.0, np.quantile(f, np.linspace(0, 1, 11))[1:-1], 1.0]
    assert calibration.debiased_ece(z, y, n_bins=10, strategy=strategy) == pytest.approx(kumar_unbiased_l2(f, ok, edges), rel=1e-9)


def test_debiasing_removes_most_of_the_small_sample_bias():
    # calibrated data: the true l2 error is 0; the plug-in estimate is biased up on 200 rows, the debiased one far less
    plug_in, debiased = [], []
    for seed in range(60):
        z, y = synthetic(200, c=3, temperature=1.0, seed=100 + seed)
        plug_in.append(calibration.expected_calibration_error(z, y, n_bins=15, norm="l2") ** 2)
        debiased.append(calibration.debiased_ece(z, y, n_bins=15) ** 2)
    assert np.mean(debiased) < 0.35 * np.mean(plug_in)


# ----------------------------------------------------------- Brier ----


def binned_brier(z, y, n_bins):
    """The Brier score after every p_c is replaced by the mean of its (class, bin)."""
    p = sp.softmax(z, axis=1)
    onehot = np.eye(p.shape[1])[y]
    q = np.empty_like(p)
    idx = np.clip(np.ceil(p * n_bins) - 1, 0, n_bins - 1).astype(int)
    for k in range(p.shape[1]):
        for b in range(n_bins):
            members = idx[:, k] == b
            q[members, k] = p[members, k].mean() if members.any() else 0
    return np.mean(np.sum((q - onehot) ** 2, axis=1))


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 300), st.integers(2, 7), st.integers(1, 20), st.integers(0, 10_000), st.floats(0.3, 4.0))
def test_brier_decomposition_adds_up(n, c, n_bins, seed, temperature):
    z, y = synthetic(n, c=c, temperature=temperature, seed=seed)
    d = calibration.brier_decomposition(z, y, n_bins=n_bins)
    assert d.binned == pytest.approx(binned_brier(z, y, n_bins), abs=1e-10)
    assert d.brier == pytest.approx(calibration.brier(z, y), abs=1e-10)
    assert d.binned + d.within_variance - d.within_covariance == pytest.approx(d.brier, abs=1e-10)
    base = np.bincount(y, minlength=c) / n
    assert d.uncertainty == pytest.approx(np.sum(base * (1 - base)), abs=1e-12)
    assert d.reliability >= 0 and d.resolution >= 0 and d.within_variance >= -1e-12


def test_brier_decomposition_of_a_perfect_forecaster():
    z = np.array([[50.0, 0.0], [0.0, 50.0], [50.0, 0.0]])
    d = calibration.brier_decomposition(z, [0, 1, 0], n_bins=10)
    assert d.reliability == pytest.approx(0, abs=1e-12) and d.resolution == pytest.approx(d.uncertainty)
    assert d.brier == pytest.approx(0, abs=1e-12)


# --------------------------------------------------------- risk-coverage ----


def expected_aurc_over_tie_orders(conf, ok):
    """AURC averaged over every order of equal confidences (a brute force; tiny sets)."""
    values = sorted(set(conf), reverse=True)
    groups = [[i for i in range(len(conf)) if conf[i] == v] for v in values]
    results = []
    for orders in itertools.product(*[list(itertools.permutations(g)) for g in groups]):
        ranked = [i for g in orders for i in g]
        errors = np.cumsum([0 if ok[i] else 1 for i in ranked])
        results.append(np.mean(errors / np.arange(1, len(ranked) + 1)))
    return np.mean(results)


@pytest.mark.parametrize("seed", range(6))
def test_aurc_with_ties_is_the_mean_over_tie_orders(seed):
    rng = np.random.default_rng(seed)
    logit = rng.integers(0, 3, 7).astype(float)  # few distinct confidences: many ties
    z = np.stack([logit, np.zeros(7)], axis=1)
    y = rng.integers(0, 2, 7)
    conf, ok = top_label(z, y)
    rc = calibration.risk_coverage(z, y)
    assert rc.aurc == pytest.approx(expected_aurc_over_tie_orders(list(conf), list(ok)), rel=1e-12)
    errors = int(np.sum(ok == 0))
    best = np.mean(np.maximum(0, np.arange(1, 8) - (7 - errors)) / np.arange(1, 8))
    assert rc.optimal_aurc == pytest.approx(best) and rc.excess_aurc >= -1e-12
    assert rc.coverage[-1] == 1.0 and rc.risk[-1] == pytest.approx(errors / 7)


def test_risk_coverage_without_ties_is_the_plain_definition():
    z, y = synthetic(500, c=6, seed=9)
    conf, ok = top_label(z, y)
    order = np.argsort(-conf)
    risk = np.cumsum(1 - ok[order]) / np.arange(1, 501)
    rc = calibration.risk_coverage(z, y)
    assert np.allclose(rc.risk, risk) and rc.aurc == pytest.approx(np.mean(risk))


# -------------------------------------------------------------- bootstrap ----


def test_bootstrap_intervals_cover_the_truth_at_about_their_level():
    """Calibrated simulated data (labels drawn from the model's own softmax), whose true NLL is the model's mean
    entropy and true accuracy its mean top probability; 90 % intervals from 240 data sets of 300 rows."""
    rng = np.random.default_rng(0)
    big = rng.normal(0, 1.5, (400_000, 4))
    p = sp.softmax(big, axis=1)
    truth = {"nll": float(np.mean(-np.sum(p * np.log(p), axis=1))), "accuracy": float(np.mean(p.max(axis=1))),
             "brier": float(np.mean(1 - np.sum(p * p, axis=1)))}
    hits = dict.fromkeys(truth, 0)
    sets = 240
    for k in range(sets):
        z = rng.normal(0, 1.5, (300, 4))
        q = sp.softmax(z, axis=1)
        y = (q.cumsum(axis=1) < rng.random(300)[:, None]).sum(axis=1).clip(max=3)
        for name in truth:
            iv = calibration.bootstrap(name, z, y, n=300, rng=k, level=0.9)
            hits[name] += truth[name] in iv
    for name, h in hits.items():
        assert 0.84 <= h / sets <= 0.96, (name, h / sets)  # 0.90 within about 2.5 binomial standard errors


def test_bootstrap_of_a_function_and_of_a_name_agree():
    z, y = synthetic(400, c=3, temperature=2.0, seed=4)
    by_name = calibration.bootstrap("nll", z, y, n=200, rng=1)
    by_function = calibration.bootstrap(calibration.nll, z, y, n=200, rng=1)
    by_callable = calibration.bootstrap(lambda zz, yy: calibration.nll(zz, yy), z, y, n=200, rng=1)
    assert by_name == by_function
    assert by_callable.estimate == pytest.approx(by_name.estimate)
    assert (by_callable.low, by_callable.high) == pytest.approx((by_name.low, by_name.high), rel=1e-9)
    assert by_name.low < by_name.estimate < by_name.high


@pytest.mark.parametrize("name", ["ece", "mce", "rmsce", "smooth_ece", "debiased_ece", "aurc", "confidence", "brier"])
def test_every_named_metric_resamples_to_its_own_value(name):
    z, y = synthetic(300, c=4, temperature=1.5, seed=5)
    iv = calibration.bootstrap(name, z, y, n=50, rng=0)
    direct = {"ece": lambda: calibration.expected_calibration_error(z, y), "mce": lambda: calibration.expected_calibration_error(z, y, norm="max"),
              "rmsce": lambda: calibration.expected_calibration_error(z, y, norm="l2"), "smooth_ece": lambda: calibration.smooth_ece(z, y),
              "debiased_ece": lambda: calibration.debiased_ece(z, y), "aurc": lambda: calibration.risk_coverage(z, y).aurc,
              "confidence": lambda: calibration.report(z, y).confidence, "brier": lambda: calibration.brier(z, y)}[name]()
    assert iv.estimate == pytest.approx(direct, rel=1e-12, abs=1e-15)
    assert iv.low <= iv.high and iv.standard_error >= 0


def test_bootstrap_bad_metric():
    with pytest.raises(InputError, match="Unknown metric"):
        calibration.bootstrap("f1", [[1.0, 0.0]], [0])
    with pytest.raises(InputError, match="Unknown metric"):
        calibration.bootstrap(42, [[1.0, 0.0]], [0])


def test_summary_pools_parts_exactly():
    z, y = synthetic(1000, c=5, temperature=1.3, seed=8)
    whole = calibration.summarize(z, y)
    parts = calibration.summarize(z[:377], y[:377]) + calibration.summarize(z[377:], y[377:])
    for name, value in whole.metrics().items():
        assert parts.metrics()[name] == pytest.approx(value, rel=1e-12, abs=1e-15), name
    assert whole.metrics()["ece"] == pytest.approx(calibration.expected_calibration_error(z, y), rel=1e-12)
    assert whole.nll == pytest.approx(calibration.nll(z, y), rel=1e-12)
    with pytest.raises(ValueError):
        _ = whole + calibration.summarize(z, y, n_bins=10)
