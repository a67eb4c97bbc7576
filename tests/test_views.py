"""The view models behind every page section, against independent references (scipy, loops, direct formulas)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.special as sp
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from logitsviz import InputError, calibration, explain, sampling

vectors = hnp.arrays(np.float64, st.integers(2, 50), elements=st.floats(-20, 20))


# ---------------------------------------------------------------- decoding ----


@given(vectors, st.floats(0.3, 3.0), st.floats(0.05, 1.0))
def test_decoding_view_matches_the_filters_called_by_hand(z, temp, p):
    view = explain.decoding(z, {"temperature": temp, "top_p": p})
    manual = sampling.top_p(sampling.temperature(z, temp), p)
    np.testing.assert_array_equal(view.final, manual)
    kept = np.isfinite(manual)
    assert view.n_kept == kept.sum() and view.n_tokens == z.size
    assert view.mass_kept == pytest.approx(sp.softmax(z)[kept].sum())
    q = sp.softmax(np.where(kept, manual, -np.inf))
    h_final = -np.sum(q[q > 0] * np.log2(q[q > 0]))
    p0 = sp.softmax(z)
    h0 = -np.sum(p0[p0 > 0] * np.log2(p0[p0 > 0]))
    assert view.entropy_bits == pytest.approx(h_final, abs=1e-9)
    assert view.entropy_change == pytest.approx(h_final - h0, abs=1e-9)
    assert view.greedy == int(np.argmax(manual))


def test_stage_views_show_what_each_filter_kept_in_its_own_order():
    z = np.log([0.4, 0.3, 0.2, 0.1])
    typical = explain.stage_view(sampling.pipeline(z, {"typical_p": 0.4})[0])
    # typicality |-log p - H|: 0.3 is the most typical, then 0.2; the most likely token is removed
    assert typical.index.tolist()[:2] == [1, 2] and typical.kept.tolist()[:2] == [True, True]
    assert typical.measures == "mass" and typical.threshold == 0.4
    sigma = explain.stage_view(sampling.pipeline([4.0, 3.0, 0.0, -1.0], {"top_n_sigma": 1.0})[0])
    assert sigma.axis == "logit" and sigma.values.tolist() == [4.0, 3.0, 0.0, -1.0]
    assert sigma.threshold == pytest.approx(4.0 - np.std([4.0, 3.0, 0.0, -1.0]))
    assert sigma.rest_value is None  # logits do not add up: no "rest" bar on a logit axis
    temp = explain.stage_view(sampling.pipeline(z, {"temperature": 0.5})[0])
    np.testing.assert_allclose(temp.after, sp.softmax(z / 0.5)[temp.index])
    assert temp.removed == 0 and temp.threshold is None


def test_stage_view_of_a_large_vocabulary_has_a_rest_bar():
    z = np.random.default_rng(0).normal(size=5000)
    view = explain.stage_view(sampling.pipeline(z, {"min_p": 0.05})[0], top=20)
    p = sp.softmax(z)
    assert view.index.size == 20 and view.rest_count == 4980
    assert view.rest_value == pytest.approx(1 - p[view.index].sum())
    assert view.threshold == pytest.approx(0.05 * p.max())
    assert view.removed + view.left == 5000


@given(st.integers(1, 3000), st.integers(0, 1000))
def test_sample_view_counts_and_distance(n, seed):
    z = np.array([1.0, 0.0, -np.inf, 0.5])
    view = explain.samples(z, n, seed=seed)
    draws = sampling.sample(z, n, rng=seed)
    np.testing.assert_array_equal(view.draws, draws)
    counts = np.bincount(draws, minlength=4)
    np.testing.assert_array_equal(view.counts, counts)
    assert view.counts[2] == 0
    assert view.total_variation == pytest.approx(0.5 * np.abs(counts / n - sp.softmax(z)).sum())
    assert view.greedy_share == pytest.approx(counts[0] / n)
    assert view.distinct == (counts > 0).sum()


def test_top_groups_rest_and_forced_class():
    g = explain.top_groups([np.arange(10.0), np.ones(10)], 3)
    assert g.index.tolist() == [9, 8, 7] and g.rest == (sum(range(7)), 7.0) and g.rest_count == 7
    g = explain.top_groups([np.arange(10.0)], 3, rest=False, by_index=True, include=0)
    assert g.index.tolist() == [0, 8, 9] and g.rest is None


# ----------------------------------------------------------------- losses ----


@given(vectors, st.floats(0.0, 0.5))
def test_cross_entropy_view(z, eps):
    y = int(np.argmin(z))
    view = explain.cross_entropy_view(z, y, label_smoothing=eps, top=5)
    logp = z - sp.logsumexp(z)
    q = (1 - eps) * np.eye(z.size)[y] + eps / z.size
    assert view.loss == pytest.approx(-(q * logp).sum(), rel=1e-9, abs=1e-12)
    assert view.neg_log_p == pytest.approx(-logp[y], rel=1e-9, abs=1e-12)
    np.testing.assert_allclose(view.grad, sp.softmax(z) - q, atol=1e-12)
    assert y in view.grad_index and view.grad_index.size == min(5, z.size)
    # the curve passes through the present loss at the present logit
    assert np.interp(view.z_target, view.grid, view.curve) == pytest.approx(view.loss, rel=1e-3, abs=1e-6)


def test_sigmoid_view():
    z = np.array([2.0, -1.0, 0.0])
    view = explain.sigmoid_view(z, [0, 2])
    sig = sp.expit(z)
    assert view.sum_sigmoid == pytest.approx(sig.sum()) and view.sum_softmax == pytest.approx(1.0)
    bce = -(np.array([1, 0, 1]) * np.log(sig) + np.array([0, 1, 0]) * np.log(1 - sig))
    np.testing.assert_allclose(view.bce, bce)
    np.testing.assert_allclose(view.logit_of_sigmoid, z)


def test_info_nce_view_against_a_loop():
    view = explain.info_nce_view(6, 8, 1.0, 0.2, seed=3, taus=[0.1, 0.2])
    rng = np.random.default_rng(3)
    a = rng.normal(size=(6, 8))
    b = a + 1.0 * rng.normal(size=a.shape)
    cos = np.array([[ai @ bj / np.linalg.norm(ai) / np.linalg.norm(bj) for bj in b] for ai in a])
    np.testing.assert_allclose(view.similarity, cos, atol=1e-12)
    loss = np.mean([-(cos[i, i] / 0.2 - sp.logsumexp(cos[i] / 0.2)) for i in range(6)])
    assert view.loss == pytest.approx(loss)
    assert view.tau_losses[1] == pytest.approx(loss)
    assert view.chance == pytest.approx(math.log(6))
    assert view.accuracy == np.mean(np.argmax(cos, axis=1) == np.arange(6))


def test_distillation_view():
    t, s = np.array([3.0, 1.0, 0.0]), np.array([1.0, 2.0, 0.5])
    view = explain.distillation_view(t, s, 4.0)
    pt, ps = sp.softmax(t / 4), sp.softmax(s / 4)
    assert view.kl == pytest.approx(np.sum(pt * np.log(pt / ps)))
    assert view.scaled == pytest.approx(16 * view.kl)
    np.testing.assert_allclose(view.soft.series[0], pt)
    with pytest.raises(InputError) as info:
        explain.distillation_view([1.0, 2.0], [1.0], 2.0)
    assert info.value.key == "loss.kd.mismatch"


# -------------------------------------------------------------- stability ----


def test_shift_view_and_exp_ranges():
    view = explain.shift_view([1000.0, 999.0, -np.inf], 5.0)
    assert view.max_z == 1000.0 and view.ok == (False, True, False)
    np.testing.assert_allclose(view.naive[1], sp.softmax([1000.0, 999.0, -np.inf]))
    ranges = explain.exp_ranges(np.r_[np.linspace(-900, 900, 5000), np.nan])
    assert ranges.points.size == 2000 and np.isfinite(ranges.points).all()
    lo16, hi16 = ranges.limits[0]
    assert hi16 == pytest.approx(math.log(np.finfo(np.float16).max))
    np.testing.assert_array_equal(ranges.outside[0], (ranges.points > hi16) | (ranges.points < lo16))


# ------------------------------------------------------------ calibration ----


def test_report_agrees_with_the_single_metrics():
    rng = np.random.default_rng(1)
    z = rng.normal(0, 3, (500, 7))
    y = rng.integers(0, 7, 500)
    r = calibration.report(z, y, temperature=1.7, n_bins=10, strategy="quantile")
    assert r.ece == pytest.approx(calibration.expected_calibration_error(z, y, 10, strategy="quantile", temperature=1.7))
    assert r.mce == pytest.approx(calibration.expected_calibration_error(z, y, 10, "max", "quantile", temperature=1.7))
    assert r.nll == pytest.approx(calibration.nll(z, y, temperature=1.7))
    assert r.brier == pytest.approx(calibration.brier(z, y, temperature=1.7))
    assert r.accuracy == pytest.approx(calibration.accuracy(z, y))
    assert r.confidence == pytest.approx(sp.softmax(z / 1.7, axis=1).max(axis=1).mean())
    count, acc = calibration.per_class_accuracy(z, y)
    np.testing.assert_array_equal(r.class_count, count)
    np.testing.assert_allclose(r.class_accuracy, acc)
    edges, right, wrong = r.histogram
    np.testing.assert_allclose(edges, np.linspace(0, 1, 21))
    assert right.sum() + wrong.sum() == 500 and right.sum() == round(500 * r.accuracy)
    assert list(r.metrics()) == list(calibration.METRICS)


def test_most_confident_mistakes():
    z = np.array([[5.0, 0.0], [0.0, 1.0], [2.0, 0.0], [0.0, 9.0]])
    s = calibration.row_stats(z, [1, 0, 1, 1])
    assert calibration.most_confident_mistakes(s).tolist() == [0, 2, 1]
    assert calibration.most_confident_mistakes(s, 1).tolist() == [0]


def test_temperature_curve_samples_large_sets_and_says_so():
    rng = np.random.default_rng(0)
    z, y = rng.normal(size=(300, 4)), rng.integers(0, 4, 300)
    full = explain.temperature_curve(z, y, 1.0, points=5)
    assert not full.sampled and full.rows == 300
    np.testing.assert_allclose(full.nll, [calibration.nll(z, y, temperature=v) for v in full.temperatures])
    part = explain.temperature_curve(z, y, 1.0, points=5, max_elements=400)
    assert part.sampled and part.rows == 100


def test_softmax_table():
    table = explain.softmax_table([2.0, 1.0, -np.inf], temperature=0.5, shift=1.0)
    np.testing.assert_allclose(table["z"], [6.0, 4.0, -np.inf])
    np.testing.assert_allclose(table["probability"], sp.softmax([6.0, 4.0, -np.inf]))
    assert table["log_probability"][2] == -np.inf


@given(hnp.arrays(np.float64, st.integers(3, 60), elements=st.floats(-30, 30)), st.integers(1, 3))
def test_compact_steps_give_exact_probabilities(z, k):
    top = np.argsort(-z, kind="stable")[:k]
    rest = np.delete(z, top)
    steps = explain.compact_steps(z[top], float(sp.logsumexp(rest)), rest.size)
    p = sp.softmax(z)
    np.testing.assert_allclose(steps.probs, p[top][np.argsort(-z[top], kind="stable")], rtol=1e-9)
    assert steps.others_prob == pytest.approx(p.sum() - p[top].sum(), abs=1e-12)
    assert steps.others_count == z.size - k and steps.n_classes == z.size
    assert math.isnan(steps.entropy_bits)  # not knowable from the top alone


@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(2, 30)), elements=st.floats(-30, 30)))
def test_rows_overview_against_scipy(z):
    v = explain.rows_overview(z)
    p = sp.softmax(z, axis=1)
    np.testing.assert_allclose(v.max_prob, p.max(axis=1), rtol=1e-12)
    np.testing.assert_allclose(v.entropy_bits, -np.sum(np.where(p > 0, p * np.log2(np.where(p > 0, p, 1)), 0), axis=1), atol=1e-9)
    top2 = np.sort(z, axis=1)[:, -2:]
    np.testing.assert_allclose(v.margin, top2[:, 1] - top2[:, 0])
    assert (v.argmax == np.argmax(z, axis=1)).all()
