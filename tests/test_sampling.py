"""Decoding filters against their definitions, worked by hand and written out as loops."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.special import softmax as sp_softmax

from logitsviz import InputError, sampling, softmax

inf = np.inf


pytestmark = pytest.mark.usefixtures("no_warnings")


def kept(z: np.ndarray) -> set[int]:
    return set(np.flatnonzero(np.isfinite(z)).tolist())


# ------------------------------------------------------- reference loops ----
# Straight from the definitions in the issue (transformers' warpers,
# min_tokens_to_keep=1), written for clarity, one token at a time.


def ref_top_k(z, k):
    if k >= len(z):
        return set(range(len(z)))
    kth = sorted(z, reverse=True)[k - 1]
    return {i for i, v in enumerate(z) if v >= kth}


def ref_top_p(z, p):
    probs = softmax(z)
    order = sorted(range(len(z)), key=lambda i: (z[i], i))  # ascending, stable
    keep, total = set(), 0.0
    for rank, i in enumerate(order):
        total += probs[i]
        if total > 1 - p or rank == len(order) - 1:
            keep.add(i)
    return keep


def ref_min_p(z, p):
    probs = softmax(z)
    top, zmax = max(probs), max(z)
    return {i for i, q in enumerate(probs) if q >= p * top or z[i] == zmax}


def ref_typical_p(z, p):
    probs = softmax(z)
    h = -sum(q * math.log(q) for q in probs if q > 0)
    score = [abs(-math.log(q) - h) if q > 0 else inf for q in probs]
    order = sorted(range(len(z)), key=lambda i: (score[i], i))
    total, cutoff = 0.0, None
    for i in order:
        total += probs[i]
        if total >= p:
            cutoff = score[i]
            break
    if cutoff is None:
        cutoff = score[order[-1]]
    keep = {i for i in range(len(z)) if score[i] <= cutoff}
    return keep | {order[0]}


def ref_epsilon(z, eps):
    probs, zmax = softmax(z), max(z)
    return {i for i, q in enumerate(probs) if q >= eps or z[i] == zmax}


def ref_eta(z, eta):
    probs = softmax(z)
    h = -sum(q * math.log(q) for q in probs if q > 0)
    threshold = min(eta, math.sqrt(eta) * math.exp(-h))
    zmax = max(z)
    return {i for i, q in enumerate(probs) if q >= threshold or z[i] == zmax}


def ref_top_n_sigma(z, n):
    finite = [v for v in z if math.isfinite(v)]
    mean = sum(finite) / len(finite)
    sigma = math.sqrt(sum((v - mean) ** 2 for v in finite) / len(finite))
    cut = max(z) - n * sigma
    return {i for i, v in enumerate(z) if v >= cut}


REFERENCES = {
    "top_k": (sampling.top_k, ref_top_k, [1, 2, 5, 40]),
    "top_p": (sampling.top_p, ref_top_p, [0.1, 0.5, 0.9, 0.95, 1.0]),
    "min_p": (sampling.min_p, ref_min_p, [0.01, 0.05, 0.1, 0.5, 1.0]),
    "typical_p": (sampling.typical_p, ref_typical_p, [0.2, 0.5, 0.9, 0.95, 1.0]),
    "epsilon": (sampling.epsilon_cutoff, ref_epsilon, [3e-4, 0.01, 0.1, 0.5]),
    "eta": (sampling.eta_cutoff, ref_eta, [3e-4, 2e-3, 0.05, 0.5]),
    "top_n_sigma": (sampling.top_n_sigma, ref_top_n_sigma, [0.5, 1.0, 2.0, 3.0]),
}


def random_logits(rng, size):
    z = rng.normal(0, rng.uniform(0.5, 4), size)
    if size > 3:
        z[rng.choice(size, max(1, size // 10), replace=False)] = -inf  # some masked
        z[rng.integers(size)] = rng.normal() * 3  # at least one finite
    return z


@pytest.mark.parametrize("name", list(REFERENCES))
@pytest.mark.parametrize("size", [2, 3, 7, 50, 1000])
def test_filters_match_definitions(name, size):
    fn, ref, params = REFERENCES[name]
    rng = np.random.default_rng(size * 31 + len(name))
    for trial in range(6):
        z = random_logits(rng, size)
        if not np.isfinite(z).any():
            continue
        for param in params:
            got = kept(fn(z, param))
            # masked tokens (-inf) are out whatever the rule says
            assert got == ref(z.tolist(), param) & kept(z), (name, size, trial, param)


@pytest.mark.parametrize("name", list(REFERENCES))
def test_filters_match_definitions_on_200k(name):
    fn, ref, params = REFERENCES[name]
    z = random_logits(np.random.default_rng(7), 200_000)
    param = params[len(params) // 2]
    assert kept(fn(z, param)) == ref(z.tolist(), param) & kept(z)


@pytest.mark.parametrize("name", list(REFERENCES))
def test_ties_and_one_class(name):
    fn, ref, params = REFERENCES[name]
    for z in ([1.0, 1.0, 1.0, 0.0], [2.0, 2.0], [5.0], [0.0, -inf, 0.0, -inf], [3.0, 3.0, -1.0, -1.0, -1.0]):
        for param in params:
            assert kept(fn(np.array(z), param)) == ref(z, param) & kept(np.array(z)), (z, param)


# ----------------------------------------------------------- hand-worked ----


def test_top_k_by_hand():
    # sorted: 3, 2, 2, 1 -> the 2nd largest is 2, and both 2s are kept
    np.testing.assert_array_equal(sampling.top_k([3.0, 1.0, 2.0, 2.0], 2), [3.0, -inf, 2.0, 2.0])
    np.testing.assert_array_equal(sampling.top_k([3.0, 1.0], 10), [3.0, 1.0])


def test_top_p_by_hand():
    z = np.log([0.5, 0.3, 0.15, 0.05])
    # ascending 0.05, 0.15, 0.3, 0.5 -> cumulative 0.05, 0.2, 0.5, 1.0; remove where <= 1 - 0.75 = 0.25
    assert kept(sampling.top_p(z, 0.75)) == {0, 1}
    # p = 0.4: 1 - p = 0.6 removes up to cumulative 0.5 -> only the top token
    assert kept(sampling.top_p(z, 0.4)) == {0}
    assert kept(sampling.top_p(z, 1.0)) == {0, 1, 2, 3}


def test_min_p_by_hand():
    z = np.log([0.6, 0.3, 0.07, 0.03])
    # threshold 0.1 * 0.6 = 0.06: 0.07 stays, 0.03 goes
    assert kept(sampling.min_p(z, 0.1)) == {0, 1, 2}
    # threshold 0.5 * 0.6 = 0.3: 0.3 stays (not strictly below)
    assert kept(sampling.min_p(np.log([0.6, 0.3, 0.1]), 0.5)) <= {0, 1}


def test_typical_by_hand():
    z = np.log([0.4, 0.3, 0.2, 0.1])
    # H = 1.2799 nats; surprisals 0.916, 1.204, 1.609, 2.303; distance to H 0.364, 0.076, 0.330, 1.023
    # order by distance: 0.3, 0.2, 0.4, 0.1 with cumulative mass 0.3, 0.5, 0.9, 1.0
    assert kept(sampling.typical_p(z, 0.25)) == {1}  # 0.3 already crosses 0.25
    assert kept(sampling.typical_p(z, 0.4)) == {1, 2}  # 0.5 crosses 0.4: the top token is dropped
    assert kept(sampling.typical_p(z, 0.6)) == {0, 1, 2}


def test_epsilon_and_eta_by_hand():
    z = np.log([0.7, 0.2, 0.09, 0.01])
    assert kept(sampling.epsilon_cutoff(z, 0.05)) == {0, 1, 2}
    # eta = 0.5: H = 0.834, sqrt(0.5) * exp(-0.834) = 0.307 -> threshold 0.307: only 0.7 stays
    assert kept(sampling.eta_cutoff(z, 0.5)) == {0}
    # epsilon above every probability still keeps the top token
    assert kept(sampling.epsilon_cutoff(z, 0.99)) == {0}


def test_top_n_sigma_by_hand():
    # mean 1.5, deviations +-2.5, +-1.5 -> sigma = sqrt(4.25) = 2.06; keep >= 4 - 2.06 = 1.94
    assert kept(sampling.top_n_sigma([4.0, 3.0, 0.0, -1.0], 1.0)) == {0, 1}
    # -inf is ignored when computing sigma
    assert kept(sampling.top_n_sigma([4.0, 3.0, 0.0, -1.0, -inf], 1.0)) == {0, 1}


def test_temperature_keeps_everything():
    np.testing.assert_array_equal(sampling.temperature([2.0, -inf, 1.0], 0.5), [4.0, -inf, 2.0])


# ------------------------------------------------------------ properties ----

vectors = hnp.arrays(np.float64, st.integers(1, 60), elements=st.floats(-30, 30))
filters = st.sampled_from(
    [("top_k", 3), ("top_p", 0.9), ("min_p", 0.1), ("epsilon", 0.02), ("eta", 0.01), ("top_n_sigma", 1.0)]
)


@given(vectors, filters)
def test_argmax_survives(z, f):
    name, value = f
    out = sampling.FILTERS[name](value)(z)
    # a most likely token survives (with ties, top-p keeps one of them, as transformers does)
    assert out.max() == z.max()
    # kept entries are unchanged; removed are -inf
    assert np.array_equal(out[np.isfinite(out)], z[np.isfinite(out)])


@given(vectors, st.floats(0.01, 1.0), st.floats(0.01, 1.0))
def test_top_p_nested(z, p1, p2):
    lo, hi = sorted((p1, p2))
    assert kept(sampling.top_p(z, lo)) <= kept(sampling.top_p(z, hi))


@given(vectors, st.integers(1, 80))
def test_top_k_keeps_at_least_k(z, k):
    assert len(kept(sampling.top_k(z, k))) >= min(k, z.size)


@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 30)), elements=st.floats(-20, 20)), filters)
def test_rows_agree_with_1d(z, f):
    name, value = f
    rows = sampling.FILTERS[name](value)(z)
    for i in range(z.shape[0]):
        np.testing.assert_array_equal(rows[i], sampling.FILTERS[name](value)(z[i]))


@given(vectors, filters)
def test_inputs_are_not_modified_and_dtype_kept(z, f):
    name, value = f
    z32 = z.astype(np.float32)
    before = z32.copy()
    out = sampling.FILTERS[name](value)(z32)
    assert out.dtype == np.float32 and out.shape == z32.shape
    np.testing.assert_array_equal(z32, before)


def test_filters_chain():
    z = np.random.default_rng(0).normal(size=500)
    stages = sampling.pipeline(z, {"temperature": 0.7, "top_k": 50, "top_p": 0.9, "min_p": 0.05})
    assert [s.name for s in stages] == ["temperature", "top_k", "top_p", "min_p"]
    manual = sampling.min_p(sampling.top_p(sampling.top_k(sampling.temperature(z, 0.7), 50), 0.9), 0.05)
    np.testing.assert_array_equal(stages[-1].after, manual)
    # llama.cpp: filters on raw logits, temperature last
    stages = sampling.pipeline(z, {"temperature": 0.7, "top_k": 50}, order="llama.cpp")
    assert [s.name for s in stages] == ["top_k", "temperature"]
    assert stages[0].removed.sum() == 450


# ------------------------------------------------------------- arguments ----


@pytest.mark.parametrize(
    ("fn", "bad"),
    [
        (sampling.top_k, 0), (sampling.top_k, 2.5), (sampling.top_k, -3), (sampling.top_k, True),
        (sampling.top_p, 0.0), (sampling.top_p, 1.5), (sampling.top_p, float("nan")),
        (sampling.min_p, 0.0), (sampling.min_p, -0.1),
        (sampling.typical_p, 0), (sampling.typical_p, 2),
        (sampling.epsilon_cutoff, 1.0), (sampling.epsilon_cutoff, 0),
        (sampling.eta_cutoff, 1.0), (sampling.eta_cutoff, -1),
        (sampling.top_n_sigma, 0), (sampling.top_n_sigma, -1), (sampling.top_n_sigma, float("inf")),
        (sampling.temperature, 0), (sampling.temperature, -2),
    ],
)
def test_bad_arguments_name_the_value(fn, bad):
    with pytest.raises(InputError) as info:
        fn([1.0, 2.0, 3.0], bad)
    assert str(bad) in str(info.value)


# -------------------------------------------------------------- sampling ----


def test_sample_reproducible_and_never_masked():
    z = np.array([1.0, -inf, 0.5, -inf, 2.0])
    a = sampling.sample(z, 5000, rng=42)
    b = sampling.sample(z, 5000, rng=np.random.default_rng(42))
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.int64 and a.shape == (5000,)
    assert not np.isin(a, [1, 3]).any()
    assert not np.array_equal(a, sampling.sample(z, 5000, rng=43))


def test_sample_frequencies_chi_square():
    z = np.array([2.0, 1.0, 0.1, -1.0, 0.5, -inf])
    n = 100_000
    draws = sampling.sample(z, n, rng=2024)
    observed = np.bincount(draws, minlength=z.size)[:5]
    expected = softmax(z)[:5] * n
    stat, pvalue = scipy.stats.chisquare(observed, expected)
    assert pvalue > 0.001, (stat, pvalue)


def test_sample_batches_and_edges():
    z = np.array([[0.0, -inf], [-inf, 0.0]])
    out = sampling.sample(z, 10, rng=0)
    assert out.shape == (2, 10) and (out[0] == 0).all() and (out[1] == 1).all()
    assert sampling.sample([1.0, 2.0], 0, rng=0).shape == (0,)
    with pytest.raises(InputError):
        sampling.sample([-inf, -inf], 3, rng=0)
    with pytest.raises(InputError):
        sampling.sample([1.0, float("nan")], 3, rng=0)
    with pytest.raises(InputError):
        sampling.sample([1.0, 2.0], -1)


@settings(max_examples=50)
@given(vectors, st.integers(0, 50), st.integers(0, 2**32 - 1))
def test_sample_in_range(z, n, seed):
    out = sampling.sample(z, n, rng=seed)
    assert out.shape == (n,) and ((0 <= out) & (out < z.size)).all()


# ------------------------------------------------ thresholds the units report ----


@given(vectors)
def test_each_unit_reports_the_threshold_it_applied(z):
    p = sp_softmax(z)
    finite = z[np.isfinite(z)]
    cut = sampling.MinP(0.1).apply(z)
    assert cut.threshold == pytest.approx(0.1 * p.max())
    assert np.all(p[np.isfinite(cut.after)] >= cut.threshold - 1e-15) or np.isfinite(cut.after).sum() == 1
    h = -np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0))
    cut = sampling.EtaCutoff(0.01).apply(z)
    assert cut.threshold == pytest.approx(min(0.01, math.sqrt(0.01) * math.exp(-h)), rel=1e-9, abs=1e-300)
    cut = sampling.TopNSigma(1.5).apply(z)
    assert cut.threshold == pytest.approx(finite.max() - 1.5 * np.std(finite), abs=1e-9)
    assert np.all(z[np.isfinite(cut.after)] >= cut.threshold)
    assert sampling.TopP(0.9).apply(z).threshold == 0.9 and sampling.TopK(3).apply(z).threshold == 3
    assert sampling.EpsilonCutoff(0.02).apply(z).threshold == 0.02 and sampling.Temperature(0.5).apply(z).threshold is None


def test_thresholds_per_row_for_a_batch():
    z = np.log(np.array([[0.6, 0.3, 0.1], [0.5, 0.25, 0.25]]))
    np.testing.assert_allclose(sampling.MinP(0.5).apply(z).threshold, [0.3, 0.25])
    stage = sampling.pipeline(z[0], {"min_p": 0.5})[0]
    assert isinstance(stage.threshold, float) and stage.threshold == pytest.approx(0.3)
    assert (stage.name, stage.value) == ("min_p", 0.5)


def test_units_validate_once_and_name_the_bad_value():
    with pytest.raises(InputError) as info:
        sampling.TopP(1.5)
    assert "1.5" in str(info.value)
    with pytest.raises(InputError):
        sampling.TopK(2.5)
    assert sampling.TopK.from_setting(40.0) == sampling.TopK(40)
    assert sampling.FILTERS["top_n_sigma"](2).setting == 2.0


@pytest.mark.parametrize("shape,n", [((3, 5), 7), ((2, 3, 4), 2), ((1, 300_000), 20), ((40, 120_000), 1)])
def test_sample_equals_inverse_cdf_row_by_row(shape, n):
    """The vectorised draw against the definition, row by row with the same generator stream: the cumulative
    softmax and one binary search per uniform number (both code paths: many short rows, few long ones)."""
    z = np.random.default_rng(1).normal(0, 3, shape)
    z[..., 1] = -np.inf
    got = sampling.sample(z, n, rng=5)
    gen = np.random.default_rng(5)
    rows = z.reshape(-1, shape[-1])
    expected = []
    for row in rows:
        cdf = np.cumsum(np.exp(row - row.max()))
        expected.append(np.searchsorted(cdf, gen.random(n) * cdf[-1], side="right"))
    assert got.shape == (*shape[:-1], n)
    assert np.array_equal(got.reshape(-1, n), np.array(expected))
    assert not np.any(got == 1)  # the masked class is never drawn


def test_sample_keeps_float32_and_refuses_bad_rows():
    z = np.zeros((2, 4), dtype=np.float32)
    assert sampling.sample(z, 3, rng=0).dtype == np.int64
    for bad in (np.nan, np.inf):
        z[1, 2] = bad
        with pytest.raises(InputError, match="cannot sample"):
            sampling.sample(z, 1)
    with pytest.raises(InputError, match="cannot sample"):
        sampling.sample([[-np.inf, -np.inf]], 1)
    assert sampling.sample(np.zeros((0, 3)), 2).shape == (0, 2)
