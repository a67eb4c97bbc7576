"""Recalibration maps against a direct optimisation of their objective with scipy, and their comparison."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize as so
import scipy.special as sp
from sklearn.isotonic import IsotonicRegression

from logitsviz import InputError, calibration
from tests.test_calibration import synthetic

pytestmark = pytest.mark.usefixtures("no_warnings")


def direct_objective(kind, z, y, reg):
    """Mean NLL of the map's softmax plus ODIR, written from the papers with scipy's log_softmax; no gradient."""
    n, c = z.shape
    x = sp.log_softmax(z, axis=1) if kind == "dirichlet" else z

    def objective(theta):
        if kind == "vector":
            w, b = theta[:c], theta[c:]
            out = x * w + b
            penalty = 0.0
        else:
            w, b = theta[:c * c].reshape(c, c), theta[c * c:]
            out = x @ w.T + b
            off = w[~np.eye(c, dtype=bool)]
            penalty = reg * (np.sum(off**2) / (c * (c - 1)) + np.sum(b**2) / c)
        return -np.mean(sp.log_softmax(out, axis=1)[np.arange(n), y]) + penalty

    start = np.concatenate([np.ones(c) if kind == "vector" else np.eye(c).ravel(), np.zeros(c)])
    return objective, start


@pytest.mark.parametrize("kind,reg", [("vector", 0.0), ("matrix", 0.1), ("matrix", 10.0), ("dirichlet", 0.1), ("dirichlet", 5.0)])
def test_linear_maps_match_a_direct_optimisation(kind, reg):
    z, y = synthetic(300, c=3, temperature=2.5, seed=11)
    fitted = calibration.fit_map(kind, z, y, reg=reg)
    objective, start = direct_objective(kind, z, y, reg)
    best = so.minimize(objective, start, method="BFGS", options={"gtol": 1e-9, "maxiter": 10_000})  # finite differences
    ours = np.concatenate([np.ravel(fitted.params["W"]), fitted.params["b"]])
    assert objective(ours) <= best.fun + 1e-9
    assert ours == pytest.approx(best.x, abs=2e-3)
    assert fitted.params["loss"] == pytest.approx(objective(ours), rel=1e-9)
    logp = fitted.apply(z)  # calibrated log-probabilities
    assert np.allclose(np.exp(logp).sum(axis=1), 1.0)
    w, b = fitted.params["W"], fitted.params["b"]
    penalty = 0.0 if kind == "vector" else reg * (np.sum((w - np.diag(np.diag(w))) ** 2) / 6 + np.sum(b**2) / 3)
    assert calibration.nll(logp, y) + penalty == pytest.approx(objective(ours), rel=1e-9)


def test_temperature_map_matches_a_direct_optimisation():
    z, y = synthetic(500, c=4, temperature=1.9, seed=12)
    fitted = calibration.fit_map("temperature", z, y)
    best = so.minimize_scalar(lambda t: -np.mean(sp.log_softmax(z / t, axis=1)[np.arange(500), y]), bounds=(0.05, 20), method="bounded",
                              options={"xatol": 1e-10})
    assert fitted.params["T"] == pytest.approx(best.x, rel=1e-6)
    assert np.allclose(fitted.apply(z), sp.log_softmax(z / best.x, axis=1), atol=1e-6)


def test_cross_validation_picks_a_strength_from_the_grid():
    z, y = synthetic(240, c=4, temperature=2.0, seed=13)
    fitted = calibration.fit_map("matrix", z, y)
    assert fitted.params["reg"] in calibration.REG_GRID and fitted.params["cv"] is True
    # no cross-validation when the strength is given, or when too few rows to make the folds
    assert calibration.fit_map("matrix", z, y, reg=1.0).params["cv"] is False
    assert calibration.fit_map("dirichlet", z[:5], y[:5]).params["cv"] is False
    assert calibration.fit_map("vector", z, y).params["cv"] is False
    # the chosen strength is the grid's lowest held-out NLL, recomputed here fold by fold with scipy
    folds = np.arange(240) % calibration.maps.CV_FOLDS
    losses = []
    for reg in calibration.REG_GRID:
        total = 0.0
        for k in range(calibration.maps.CV_FOLDS):
            fit, held = folds != k, folds == k
            objective, start = direct_objective("matrix", z[fit], y[fit], reg)
            theta = so.minimize(objective, start, method="L-BFGS-B").x
            w, b = theta[:16].reshape(4, 4), theta[16:]
            total += -np.mean(sp.log_softmax(z[held] @ w.T + b, axis=1)[np.arange(held.sum()), y[held]])
        losses.append(total)
    assert np.argmin(losses) == calibration.REG_GRID.index(fitted.params["reg"]) or \
        min(losses) == pytest.approx(losses[calibration.REG_GRID.index(fitted.params["reg"])], rel=1e-3)


def test_histogram_binning_bins_minimise_squared_error():
    z, y = synthetic(600, c=3, temperature=2.0, seed=14)
    conf = sp.softmax(z, axis=1).max(axis=1)
    ok = (sp.softmax(z, axis=1).argmax(axis=1) == y).astype(float)
    fitted = calibration.fit_map("histogram", z, y, n_bins=10)
    for b, value in enumerate(fitted.params["values"]):
        members = (conf > b / 10) & (conf <= (b + 1) / 10)
        if members.any():
            best = so.minimize_scalar(lambda v, m=members: np.sum((v - ok[m]) ** 2))
            assert value == pytest.approx(best.x, abs=1e-6)
        else:
            assert np.isnan(value)
    new_conf = np.exp(fitted.apply(z).max(axis=1))
    index = np.clip(np.ceil(conf * 10) - 1, 0, 9).astype(int)
    expected = np.clip(np.where(np.isnan(fitted.params["values"][index]), conf, fitted.params["values"][index]), 0, calibration.maps.TOP_MAX)
    keep_top = np.sort(sp.softmax(z, axis=1), axis=1)
    floor = keep_top[:, -2] / (1 - keep_top[:, -1] + keep_top[:, -2]) * (1 + 1e-9)
    assert new_conf == pytest.approx(np.maximum(expected, floor), abs=1e-9)


def test_isotonic_map_matches_scipy_constrained_least_squares_and_scikit_learn():
    rng = np.random.default_rng(15)
    z = np.stack([rng.choice(np.linspace(0.1, 3, 12), 80), np.zeros(80)], axis=1)  # 12 distinct confidences, ties
    y = (rng.random(80) > sp.expit(z[:, 0]) * 0.8).astype(int)
    fitted = calibration.fit_map("isotonic", z, y)
    conf = sp.expit(z[:, 0])
    ok = (y == 0).astype(float)
    xs = np.unique(conf)
    w = np.array([np.sum(conf == x) for x in xs])
    mean = np.array([ok[conf == x].mean() for x in xs])
    cons = so.LinearConstraint(np.diff(np.eye(xs.size), axis=0), 0, np.inf)  # g[k+1] - g[k] >= 0
    best = so.minimize(lambda g: np.sum(w * (g - mean) ** 2), np.full(xs.size, ok.mean()), jac=lambda g: 2 * w * (g - mean),
                       constraints=[cons], method="SLSQP", options={"ftol": 1e-14, "maxiter": 1000})
    assert fitted.params["x"] == pytest.approx(xs)
    assert fitted.params["y"] == pytest.approx(best.x, abs=1e-4)
    sk = IsotonicRegression(out_of_bounds="clip").fit(conf, ok)
    probe = np.linspace(0.55, 0.99, 50)  # confidences of class 0
    probe_z = np.stack([sp.logit(probe), np.zeros(50)], axis=1)
    new = np.exp(fitted.apply(probe_z).max(axis=1))
    # with two classes the top stays on top while it keeps at least 1/2
    assert new == pytest.approx(np.clip(np.maximum(sk.predict(probe), 0.5 + 5e-10), 0, calibration.maps.TOP_MAX), abs=1e-9)


@pytest.mark.parametrize("kind", ["histogram", "isotonic"])
def test_top_label_maps_keep_the_prediction_and_the_others_proportions(kind):
    z, y = synthetic(400, c=5, temperature=3.0, seed=16)
    fitted = calibration.fit_map(kind, z, y, n_bins=8)
    p, q = sp.softmax(z, axis=1), np.exp(fitted.apply(z))
    assert np.array_equal(p.argmax(axis=1), q.argmax(axis=1))
    assert np.allclose(q.sum(axis=1), 1.0)
    top = p.argmax(axis=1)
    others = ~np.eye(5, dtype=bool)[top]
    ratio = q[others].reshape(400, 4) / p[others].reshape(400, 4)
    assert np.allclose(ratio, ratio[:, :1])  # one factor per row: proportions kept
    assert q.max() <= calibration.maps.TOP_MAX + 1e-15


def test_maps_refuse_what_they_cannot_take():
    z, y = synthetic(50, c=3, seed=17)
    z[0, 1] = -np.inf
    with pytest.raises(InputError, match="-inf"):
        calibration.fit_map("matrix", z, y)
    assert calibration.fit_map("temperature", z, y).params["T"] > 0  # temperature and top-label maps take -inf
    iso = calibration.fit_map("isotonic", z, y).apply(z)
    assert np.allclose(np.exp(iso).sum(axis=1), 1.0) and iso[0, 1] == -np.inf  # a masked class stays masked
    with pytest.raises(InputError, match="not fitted"):
        calibration.fit_map("dirichlet", np.zeros((4, calibration.MAX_MATRIX_CLASSES + 1)), [0, 1, 2, 3])
    with pytest.raises(InputError, match="Unknown recalibration map"):
        calibration.fit_map("platt", z, y)
    assert calibration.fit_map("matrix", np.zeros((3, 1)), [0, 0, 0]).kind == "identity"


def test_compare_maps_splits_fits_and_measures_on_the_rest():
    z, y = synthetic(600, c=4, temperature=2.5, seed=18)  # labels drawn at T = 2.5: over-confident logits
    cmp = calibration.compare_maps(z, y, split=0.4, rng=3, kinds=("temperature", "vector", "isotonic", "matrix"))
    assert (cmp.calibration_rows, cmp.test_rows) == (240, 360)
    assert [r.kind for r in cmp.results] == ["none", "temperature", "vector", "isotonic", "matrix"]
    order = np.random.default_rng(3).permutation(600)
    test = np.sort(order[240:])
    cal = np.sort(order[:240])
    none, temp = cmp.results[0], cmp.results[1]
    assert none.metrics["nll"] == pytest.approx(calibration.nll(z[test], y[test]), rel=1e-12)
    t = calibration.fit_temperature(z[cal], y[cal])
    assert temp.metrics["nll"] == pytest.approx(calibration.nll(z[test], y[test], temperature=t), rel=1e-9)
    assert temp.metrics["nll"] < none.metrics["nll"] and temp.metrics["smooth_ece"] < none.metrics["smooth_ece"]
    assert set(none.metrics) == set(calibration.METRICS) | set(calibration.MORE_METRICS)
    assert cmp.best("nll") != "none"
    again = calibration.compare_maps(z, y, split=0.4, rng=3, kinds=("temperature", "vector", "isotonic", "matrix"))
    assert [r.metrics for r in again.results] == [r.metrics for r in cmp.results]  # seeded: the same split and fits
    wide = calibration.compare_maps(np.random.default_rng(0).normal(size=(40, 120)), np.arange(40) % 120, kinds=("matrix", "temperature"))
    assert wide.results[1].skipped is not None and wide.results[1].skipped.key == "calib.map_too_many_classes"
    assert wide.results[2].metrics
    with pytest.raises(InputError, match="too few"):
        calibration.compare_maps(z[:3], y[:3])
    with pytest.raises(InputError, match="between 0 and 1"):
        calibration.compare_maps(z, y, split=1.0)
