"""Conformal prediction sets and out-of-distribution scores against references written from the papers, coverage
over many random splits of the digits model's held-out rows, and scikit-learn's roc_auc_score."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.special as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score, roc_curve

from logitsviz import calibration, conformal, examples
from logitsviz.errors import InputError


@pytest.fixture(scope="module")
def digits():
    m = examples.digits_model()
    return np.asarray(m.logits, dtype=np.float64), np.asarray(m.labels)


def _split(z, y, seed, n_cal):
    order = np.random.default_rng(seed).permutation(len(y))
    return z[order[:n_cal]], y[order[:n_cal]], z[order[n_cal:]], y[order[n_cal:]]


# ---- references transcribed from Angelopoulos & Bates (2021), sections 1 and 2.1 ----

def _lac_reference(cal_z, cal_y, val_z, alpha):
    n = len(cal_y)
    cal_smx = sp.softmax(cal_z, axis=1)
    cal_scores = 1 - cal_smx[np.arange(n), cal_y]
    q_level = np.ceil((n + 1) * (1 - alpha)) / n
    qhat = np.quantile(cal_scores, q_level, method="higher")
    return qhat, sp.softmax(val_z, axis=1) >= (1 - qhat)


def _aps_reference(cal_z, cal_y, val_z, alpha):
    n = len(cal_y)
    cal_smx = sp.softmax(cal_z, axis=1)
    cal_pi = cal_smx.argsort(1)[:, ::-1]
    cal_srt = np.take_along_axis(cal_smx, cal_pi, axis=1).cumsum(axis=1)
    cal_scores = np.take_along_axis(cal_srt, cal_pi.argsort(axis=1), axis=1)[range(n), cal_y]
    qhat = np.quantile(cal_scores, np.ceil((n + 1) * (1 - alpha)) / n, method="higher")
    val_smx = sp.softmax(val_z, axis=1)
    val_pi = val_smx.argsort(1)[:, ::-1]
    val_srt = np.take_along_axis(val_smx, val_pi, axis=1).cumsum(axis=1)
    return qhat, np.take_along_axis(val_srt <= qhat, val_pi.argsort(axis=1), axis=1)


@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.2])
def test_lac_threshold_and_sets_equal_the_papers(digits, alpha):
    z, y = digits
    cal_z, cal_y, val_z, _ = _split(z, y, 0, 300)
    cp = conformal.fit(cal_z, cal_y, alpha, "lac")
    qhat, sets = _lac_reference(cal_z, cal_y, val_z, alpha)
    assert cp.threshold == pytest.approx(qhat, abs=1e-12)
    np.testing.assert_array_equal(cp.sets(val_z), sets)


@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.2])
def test_aps_threshold_and_sets_equal_the_papers(digits, alpha):
    z, y = digits
    z = z / 3  # a softer model: APS sets of several classes
    cal_z, cal_y, val_z, _ = _split(z, y, 1, 300)
    cp = conformal.fit(cal_z, cal_y, alpha, "aps")
    qhat, sets = _aps_reference(cal_z, cal_y, val_z, alpha)
    assert cp.threshold == pytest.approx(qhat, abs=1e-12)
    same = cp.sets(val_z) == sets
    assert same.mean() > 0.999  # a class exactly at the threshold may fall either side of float rounding
    assert cp.sets(val_z).sum(1).mean() > 1.2


@pytest.mark.parametrize("score,kw", [("lac", {}), ("aps", {}), ("aps", {"randomized": True}),
                                      ("raps", {"k_reg": 2, "lam": 0.05}), ("raps", {"k_reg": 1, "lam": 0.2, "randomized": True})])
def test_coverage_over_random_splits(digits, score, kw):
    z, y = digits
    z = z / 2
    alpha = 0.1
    coverage, sizes = [], []
    for seed in range(100):
        cal_z, cal_y, val_z, val_y = _split(z, y, seed, 250)
        cp = conformal.fit(cal_z, cal_y, alpha, score, rng=seed, **kw)
        ev = cp.evaluate(val_z, val_y, rng=seed + 1000)
        coverage.append(ev.coverage)
        sizes.append(ev.mean_size)
    mean = float(np.mean(coverage))
    # E[coverage] lies in [1 − α, 1 − α + 1/(n + 1)] (the bound above for continuous scores); the average of 100 splits
    # of a few hundred test rows each varies by about 0.003
    assert 1 - alpha - 0.012 <= mean <= 1 - alpha + 1 / 251 + 0.012, mean
    assert np.mean(sizes) < 3


def test_mondrian_covers_every_class(digits):
    z, y = digits
    z = z / 2
    alpha = 0.1
    per_class = []
    for seed in range(60):
        cal_z, cal_y, val_z, val_y = _split(z, y, seed, 400)
        ev = conformal.fit(cal_z, cal_y, alpha, "lac", mondrian=True).evaluate(val_z, val_y)
        per_class.append(ev.class_coverage)
        assert np.asarray(conformal.fit(cal_z, cal_y, alpha, "lac", mondrian=True).threshold).shape == (z.shape[1],)
    mean = np.nanmean(np.array(per_class), axis=0)
    assert np.all(mean >= 1 - alpha - 0.03), mean


def test_too_few_rows_give_every_class_and_edges():
    cp = conformal.fit([[1.0, 0.0], [0.0, 1.0]], [0, 1], alpha=0.1)  # ⌈3 · 0.9⌉ = 3 > 2
    assert cp.threshold == math.inf and cp.sets([[5.0, -5.0]]).all()
    one = conformal.fit([[0.0]] * 20, [0] * 20, alpha=0.1)  # one class: always the whole set
    assert one.sets([[3.0]]).tolist() == [[True]]
    masked = conformal.fit([[0.0, -np.inf]] * 20, [0] * 20, alpha=0.1)
    assert masked.sets([[0.0, -np.inf]]).tolist() == [[True, False]]
    for bad in (0, 1, -0.1, 1.5, np.nan, "0.1", True):
        with pytest.raises(InputError):
            conformal.fit([[1.0, 0.0]] * 5, [0] * 5, alpha=bad)
    with pytest.raises(InputError):
        conformal.fit([[1.0, np.nan]], [0])
    with pytest.raises(InputError):
        conformal.fit([[1.0, 0.0]], [2])
    with pytest.raises(InputError):
        conformal.fit([[1.0, 0.0]], [0, 1])
    with pytest.raises(InputError):
        conformal.fit([[1.0, 0.0]], [0], score="naive")
    with pytest.raises(InputError):
        conformal.fit([[1.0, 0.0]], [0], score="raps", lam=-1)


def test_nucleus_covers_the_next_token():

    hits = []
    for seed in range(40):
        r = np.random.default_rng(seed)
        z = r.normal(size=(600, 50)) * 2.5
        p = sp.softmax(z, axis=1)
        tokens = (p.cumsum(1) < r.random((600, 1))).sum(1)
        nu = conformal.nucleus(z[:300], tokens[:300], alpha=0.1)
        test = conformal.class_scores(z[300:], "aps") <= nu.top_p + 1e-12
        hits.append(test[np.arange(300), tokens[300:]].mean())
        assert 0 < nu.top_p <= 1 and nu.coverage >= 0.9
    assert np.mean(hits) >= 0.9 - 0.01



# ------------------------------------------------------------------- OOD ----


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=1, max_size=40), st.lists(st.integers(0, 5), min_size=1, max_size=40))
def test_auroc_equals_scikit_learns(inside, outside):
    want = roc_auc_score([1] * len(inside) + [0] * len(outside), inside + outside) if inside and outside else None
    assert calibration.auroc(inside, outside) == pytest.approx(want, abs=1e-12)


def test_ood_scores_and_the_shift_lesson(digits):
    z, _ = digits
    s = calibration.ood_scores(z)
    np.testing.assert_allclose(s["msp"], sp.softmax(z, axis=1).max(1), rtol=1e-12)
    np.testing.assert_allclose(s["energy"], sp.logsumexp(z, axis=1), rtol=1e-12)
    np.testing.assert_allclose(s["entropy"], (sp.softmax(z, 1) * sp.log_softmax(z, 1)).sum(1), atol=1e-12)
    np.testing.assert_allclose(s["max_logit"], z.max(1))
    shifted = calibration.ood_scores(z + 5.0)
    np.testing.assert_allclose(shifted["msp"], s["msp"], rtol=1e-12)  # softmax forgets the shift…
    np.testing.assert_allclose(shifted["energy"], s["energy"] + 5.0, rtol=1e-12)  # …the energy keeps it
    np.testing.assert_allclose(calibration.ood_scores(z, temperature=2.0)["energy"], 2 * sp.logsumexp(z / 2, axis=1))


def test_ood_against_scikit_learn(digits):
    z, _ = digits
    rng = np.random.default_rng(0)
    out = rng.normal(size=(400, z.shape[1])) * z.std()  # logits of noise: no digit in particular
    for score in calibration.OOD_SCORES:
        r = calibration.ood(z, out, score)
        a, b = calibration.ood_scores(z)[score], calibration.ood_scores(out)[score]
        assert r.auroc == pytest.approx(roc_auc_score(np.r_[np.ones(a.size), np.zeros(b.size)], np.r_[a, b]), abs=1e-12)
        fpr, tpr, _ = roc_curve(np.r_[np.ones(a.size), np.zeros(b.size)], np.r_[a, b])
        assert r.fpr95 == pytest.approx(float(fpr[np.searchsorted(tpr, 0.95, side="left")]), abs=1e-12)
        assert r.fpr[0] == 0 and r.tpr[-1] == 1 and np.all(np.diff(r.tpr) >= 0)
    with pytest.raises(InputError):
        calibration.ood(z, out, "margin")
    with pytest.raises(InputError):
        calibration.ood(z, [[np.nan] * z.shape[1]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        calibration.ood_scores([[0.0, -np.inf], [1000.0, -1000.0]])


def test_streaming_sources_match_memory(digits, tmp_path, monkeypatch):
    z, y = digits
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "y.npy", y)
    monkeypatch.setattr(calibration.chunks, "CHUNK_BYTES", 10 * 8 * 37)  # 37 rows a chunk
    mapped = np.load(tmp_path / "z.npy", mmap_mode="r")
    for score in ("lac", "aps", "raps"):
        a, b = conformal.fit(z, y, 0.1, score, mondrian=score == "lac"), conformal.fit(mapped, np.load(tmp_path / "y.npy"), 0.1, score,
                                                                                      mondrian=score == "lac")
        np.testing.assert_allclose(np.asarray(a.threshold), np.asarray(b.threshold), rtol=1e-9, atol=1e-15)
        assert a.n == b.n == len(y)
    da = pytest.importorskip("dask.array")
    np.testing.assert_allclose(conformal.fit(da.from_array(z, chunks=(100, 10)), y, 0.1, "aps").threshold,
                               conformal.fit(z, y, 0.1, "aps").threshold, rtol=1e-12)
    with pytest.raises(InputError):
        conformal.fit(da.from_array(z, chunks=(100, 10)), y, 0.1, "aps", randomized=True)
    want = calibration.ood_scores(z)
    for source in (mapped, da.from_array(z, chunks=(128, 10))):
        got = calibration.ood_scores(source)
        for k in want:
            np.testing.assert_allclose(got[k], want[k], rtol=1e-12)
    assert calibration.ood(mapped, z[:50] * 0).auroc == pytest.approx(calibration.ood(z, z[:50] * 0).auroc)
