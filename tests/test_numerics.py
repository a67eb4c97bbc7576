"""The softmax family against scipy, hand-worked numbers, properties and edge cases."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.special as sp
import scipy.stats
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import logitsviz as lv
from logitsviz import InputError, numerics

inf, nan = np.inf, np.nan

finite_vectors = hnp.arrays(
    np.float64,
    st.integers(1, 40),
    elements=st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False),
)


pytestmark = pytest.mark.usefixtures("no_warnings")


# ------------------------------------------------------------ the seed ----


def test_seed_example_hand_worked():
    # e^2 = 7.389056, e^1 = 2.718282, e^0.1 = 1.105171; sum = 11.212509
    p = lv.softmax([2.0, 1.0, 0.1])
    expected = np.array([math.exp(2), math.exp(1), math.exp(0.1)]) / (math.exp(2) + math.exp(1) + math.exp(0.1))
    np.testing.assert_allclose(p, expected, rtol=0, atol=1e-15)
    np.testing.assert_allclose(p, [0.659001, 0.242433, 0.098566], atol=5e-7)


def test_log_softmax_is_direct_not_log_of_softmax():
    np.testing.assert_array_equal(lv.log_softmax([1000.0, 1.0]), [0.0, -999.0])
    # the tail that log(softmax) loses
    assert lv.log_softmax([0.0, -800.0])[1] == -800.0


# ------------------------------------------------- agreement with scipy ----


@pytest.mark.parametrize("shape", [(3,), (7, 5), (2, 3, 4), (1, 1000)])
@pytest.mark.parametrize("scale", [1e-3, 1.0, 30.0, 1e3, 1e6])
def test_agrees_with_scipy_float64(shape, scale):
    rng = np.random.default_rng(abs(hash((shape, scale))) % 2**32)
    x = rng.normal(size=shape) * scale
    for axis in range(-len(shape), len(shape)):
        np.testing.assert_allclose(lv.softmax(x, axis=axis), sp.softmax(x, axis=axis), rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(lv.log_softmax(x, axis=axis), sp.log_softmax(x, axis=axis), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(lv.logsumexp(x, axis=axis), sp.logsumexp(x, axis=axis), rtol=1e-12)


@pytest.mark.parametrize("t", [0.05, 0.5, 2.0, 20.0])
def test_temperature_is_division(t):
    x = np.random.default_rng(1).normal(size=(4, 9)) * 3
    np.testing.assert_allclose(lv.softmax(x, temperature=t), sp.softmax(x / t, axis=-1), rtol=1e-12)
    np.testing.assert_allclose(lv.log_softmax(x, temperature=t), sp.log_softmax(x / t, axis=-1), rtol=1e-12, atol=1e-12)


def test_entropy_agrees_with_scipy_stats():
    x = np.random.default_rng(2).normal(size=(6, 11)) * 4
    p = sp.softmax(x, axis=-1)
    np.testing.assert_allclose(lv.entropy(x), scipy.stats.entropy(p, axis=-1), rtol=1e-12)
    np.testing.assert_allclose(lv.entropy(x, base=2), scipy.stats.entropy(p, axis=-1, base=2), rtol=1e-12)


def test_sigmoid_agrees_with_expit_everywhere():
    x = np.concatenate([np.linspace(-800, 800, 4001), [-inf, inf, 0.0, -0.0]])
    # scipy flushes subnormals to 0 where we keep them: compare above the subnormal range
    np.testing.assert_allclose(lv.sigmoid(x), sp.expit(x), rtol=1e-14, atol=1e-300)


def test_float32_on_50k_classes():
    x = np.random.default_rng(3).normal(size=50_000).astype(np.float32) * 8
    p = lv.softmax(x)
    assert p.dtype == np.float32
    ref = sp.softmax(x.astype(np.float64))
    np.testing.assert_allclose(p, ref, rtol=2e-5, atol=1e-12)
    assert abs(float(p.sum(dtype=np.float64)) - 1) < 1e-5
    lp = lv.log_softmax(x)
    assert lp.dtype == np.float32
    np.testing.assert_allclose(lp, sp.log_softmax(x.astype(np.float64)), rtol=1e-5, atol=1e-4)


# --------------------------------------------------------------- dtypes ----


@pytest.mark.parametrize(
    ("dtype", "out"),
    [(np.float16, np.float16), (np.float32, np.float32), (np.float64, np.float64), (np.int64, np.float64), (bool, np.float64)],
)
def test_dtype_rules(dtype, out):
    x = np.array([3, 1, 0], dtype=dtype)
    for fn in (lv.softmax, lv.log_softmax, lv.sigmoid, lv.logsumexp, lv.entropy):
        assert fn(x).dtype == out, fn.__name__
    assert lv.cross_entropy(x, 0).dtype == out
    assert lv.cross_entropy_grad(x, 0).dtype == out


def test_float16_is_computed_in_float32():
    # exp(12) overflows float16 (max 65504) but softmax is computed in float32
    p = lv.softmax(np.array([12.0, 11.0], dtype=np.float16))
    assert p.dtype == np.float16
    np.testing.assert_allclose(p.astype(np.float64), sp.softmax([12.0, 11.0]), atol=1e-3)


def test_inputs_are_never_modified():
    x = np.array([[3.0, 1.0, -inf], [0.5, 0.5, 0.5]])
    keep = x.copy()
    for fn in (lv.softmax, lv.log_softmax, lv.naive_softmax, lv.sigmoid, lv.logsumexp, lv.entropy):
        fn(x)
    lv.softmax(x, temperature=0.3)
    lv.cross_entropy(x, [0, 1])
    lv.cross_entropy_grad(x, [0, 1])
    np.testing.assert_array_equal(x, keep)


# ----------------------------------------------------------- properties ----


@given(finite_vectors)
def test_sums_to_one(x):
    assert abs(lv.softmax(x).sum() - 1) < 1e-12
    assert abs(np.exp(lv.log_softmax(x)).sum() - 1) < 1e-12


@given(finite_vectors, st.floats(-1e4, 1e4))
def test_adding_a_constant_changes_nothing(x, c):
    np.testing.assert_allclose(lv.softmax(x + c), lv.softmax(x), rtol=1e-9, atol=1e-12)


@given(finite_vectors)
def test_order_is_kept(x):
    p = lv.softmax(x)
    for i, j in zip(*np.nonzero(x[:, None] > x[None, :])):
        assert p[i] >= p[j]
    assert p[np.argmax(x)] == p.max()


@given(hnp.arrays(np.float64, st.integers(2, 20), elements=st.floats(-50, 50), unique=True))
def test_low_temperature_approaches_one_hot(x):
    gap = np.sort(x)[-1] - np.sort(x)[-2]
    assume(gap > 1e-6)
    # at T = gap / 60 every other class is at least e^60 times less likely
    p = lv.softmax(x, temperature=gap / 60)
    assert p[np.argmax(x)] >= 1 - x.size * math.exp(-60)
    np.testing.assert_allclose(p, np.eye(x.size)[np.argmax(x)], atol=x.size * math.exp(-60))


@given(finite_vectors)
def test_high_temperature_approaches_uniform(x):
    spread = float(np.ptp(x)) or 1.0
    p = lv.softmax(x, temperature=spread * 1e6)
    np.testing.assert_allclose(p, 1 / x.size, rtol=1e-5)


@given(finite_vectors)
def test_entropy_bounds(x):
    h = float(lv.entropy(x))
    assert -1e-12 <= h <= math.log(x.size) + 1e-12


@given(finite_vectors)
def test_logsumexp_bounds(x):
    lse = float(lv.logsumexp(x))
    assert x.max() - 1e-9 <= lse <= x.max() + math.log(x.size) + 1e-9


@given(
    hnp.arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 8)), elements=st.floats(-1e3, 1e3)),
    st.data(),
)
def test_rows_agree_with_1d(x, data):
    rows = lv.softmax(x)
    for i in range(x.shape[0]):
        np.testing.assert_array_equal(rows[i], lv.softmax(x[i]))
    axis0 = lv.softmax(x, axis=0)
    np.testing.assert_allclose(axis0, lv.softmax(x.T).T, rtol=1e-15)


# -------------------------------------------------------- edge values ----


def test_masked_class():
    p = lv.softmax([1.0, -inf, 1.0])
    np.testing.assert_array_equal(p, [0.5, 0.0, 0.5])
    lp = lv.log_softmax([1.0, -inf, 1.0])
    assert lp[1] == -inf
    np.testing.assert_allclose(lp[[0, 2]], math.log(0.5))
    assert float(lv.entropy([1.0, -inf, 1.0])) == pytest.approx(math.log(2))


def test_all_masked_row_is_nan_and_quiet():
    x = np.array([[-inf, -inf], [0.0, 1.0]])
    assert np.isnan(lv.softmax(x)[0]).all()
    assert np.isnan(lv.log_softmax(x)[0]).all()
    assert np.isnan(lv.entropy(x)[0])
    assert lv.logsumexp(x)[0] == -inf  # as scipy: the log of an empty sum
    np.testing.assert_allclose(lv.softmax(x)[1], sp.softmax([0.0, 1.0]))


@pytest.mark.parametrize("bad", [nan, inf])
def test_nan_and_posinf_give_nan_rows(bad):
    x = np.array([[1.0, bad, 0.0], [1.0, 2.0, 3.0]])
    assert np.isnan(lv.softmax(x)[0]).all()
    assert np.isnan(lv.log_softmax(x)[0]).all()
    assert np.isnan(lv.entropy(x)[0])
    assert np.isfinite(lv.softmax(x)[1]).all()


def test_logsumexp_special_values_match_scipy():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy itself warns here; we must not
        for row in ([inf, 1.0], [nan, 1.0], [-inf, -inf], [-inf, 3.0]):
            ref = sp.logsumexp(row)
            ours = lv.logsumexp(row)
            assert (np.isnan(ref) and np.isnan(ours)) or ours == ref, row


@given(st.floats(-700, 700), st.lists(st.floats(30, 700), min_size=1, max_size=6), st.integers(0, 6))
def test_logsumexp_keeps_the_digits_of_tiny_terms(top, gaps, where):
    # exp(-gap) is below float64's epsilon: adding it to 1 loses it, log1p of the others keeps it, as scipy does
    others = -np.asarray(gaps)
    at_zero = np.insert(others, min(where, len(gaps)), 0.0)
    assert float(lv.logsumexp(at_zero)) == pytest.approx(math.fsum(np.exp(others)), rel=1e-12, abs=0.0)
    row = at_zero + top
    np.testing.assert_allclose(lv.logsumexp(row), sp.logsumexp(row), rtol=1e-15, atol=0)


def test_logsumexp_of_zero_and_two_small_terms_is_not_zero():
    assert float(lv.logsumexp([0.0, -37.0, -37.0])) == pytest.approx(2 * math.exp(-37), rel=1e-12)
    assert float(lv.logsumexp([0.0, -37.0, -37.0])) == sp.logsumexp([0.0, -37.0, -37.0])
    assert float(lv.logsumexp([[0.0, -40.0], [-40.0, 0.0]], axis=0)[0]) == pytest.approx(math.exp(-40), rel=1e-12)


def test_one_class():
    np.testing.assert_array_equal(lv.softmax([5.0]), [1.0])
    np.testing.assert_array_equal(lv.log_softmax([-300.0]), [0.0])
    assert float(lv.entropy([7.0])) == 0.0
    assert float(lv.cross_entropy([7.0], 0)) == 0.0
    np.testing.assert_array_equal(lv.cross_entropy_grad([7.0], 0), [0.0])


def test_empty():
    assert lv.softmax([]).shape == (0,)
    assert lv.log_softmax(np.zeros((3, 0))).shape == (3, 0)
    np.testing.assert_array_equal(lv.logsumexp(np.zeros((2, 0))), [-inf, -inf])
    assert lv.naive_softmax([]).shape == (0,)
    assert lv.sigmoid([]).shape == (0,)


def test_huge_values():
    np.testing.assert_allclose(lv.softmax([1000.0, 999.0, 998.0]), sp.softmax([2.0, 1.0, 0.0]), rtol=1e-15)
    np.testing.assert_allclose(lv.softmax([-1000.0, -999.0]), sp.softmax([0.0, 1.0]), rtol=1e-15)
    x = np.array([1e308, -1e308])
    np.testing.assert_array_equal(lv.softmax(x), [1.0, 0.0])


def test_naive_softmax_overflows_on_purpose():
    assert np.isnan(lv.naive_softmax([1000.0, 999.0])).all()
    # each dtype overflows past its own threshold: 88.72 (float32), 11.09 (float16)
    assert np.isnan(lv.naive_softmax(np.array([90.0, 89.0], dtype=np.float32))).all()
    np.testing.assert_allclose(lv.naive_softmax(np.array([88.0, 87.0], dtype=np.float32)), sp.softmax([1.0, 0.0]), rtol=1e-6)
    half = lv.naive_softmax(np.array([12.0, 11.5], dtype=np.float16))
    assert half.dtype == np.float16 and np.isnan(half).all()
    assert np.isfinite(lv.naive_softmax(np.array([11.0, 10.0], dtype=np.float16))).all()
    np.testing.assert_allclose(lv.naive_softmax([2.0, 1.0, 0.1]), lv.softmax([2.0, 1.0, 0.1]), rtol=1e-15)


# ---------------------------------------------------------------- losses ----


def test_cross_entropy_is_minus_log_p():
    x = np.random.default_rng(4).normal(size=(5, 7)) * 3
    y = np.array([0, 6, 3, 3, 1])
    expected = -np.log(sp.softmax(x, axis=-1)[np.arange(5), y])
    np.testing.assert_allclose(lv.cross_entropy(x, y), expected, rtol=1e-12)
    # a class axis other than the last
    np.testing.assert_allclose(lv.cross_entropy(x.T, y, axis=0), expected, rtol=1e-12)


def test_cross_entropy_of_masked_true_class_is_inf():
    assert float(lv.cross_entropy([1.0, -inf], 1)) == inf


def test_cross_entropy_grad_matches_finite_differences():
    rng = np.random.default_rng(5)
    x = rng.normal(size=6) * 2
    y = 2
    g = lv.cross_entropy_grad(x, y)
    h = 1e-6
    fd = np.array([(lv.cross_entropy(x + h * e, y) - lv.cross_entropy(x - h * e, y)) / (2 * h) for e in np.eye(6)])
    np.testing.assert_allclose(g, fd, atol=1e-8)
    assert abs(g.sum()) < 1e-12
    assert g[y] < 0 and (np.delete(g, y) > 0).all()


def test_cross_entropy_grad_batch():
    x = np.random.default_rng(6).normal(size=(3, 4))
    y = [1, 0, 3]
    g = lv.cross_entropy_grad(x, y)
    expected = sp.softmax(x, axis=-1) - np.eye(4)[y]
    np.testing.assert_allclose(g, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("target", [3, -1, 1.5, "a", [0, 1]])
def test_bad_targets_raise_input_error(target):
    with pytest.raises(InputError, match="target"):
        lv.cross_entropy([1.0, 2.0, 3.0], target)


# ---------------------------------------------------------- bad arguments ----


@pytest.mark.parametrize("t", [0, -1, nan, inf, "hot"])
def test_bad_temperature(t):
    with pytest.raises(InputError, match="temperature"):
        lv.softmax([1.0, 2.0], temperature=t)


def test_bad_axis_and_scalar():
    with pytest.raises(InputError, match="axis"):
        lv.softmax([1.0, 2.0], axis=1)
    with pytest.raises(InputError, match="dimension"):
        lv.softmax(3.0)
    with pytest.raises(InputError, match="complex"):
        lv.softmax([1j, 2.0])
    with pytest.raises(InputError, match="numbers"):
        lv.softmax(["a", "b"])
    with pytest.raises(InputError, match="base"):
        lv.entropy([1.0, 2.0], base=1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("t", [1.0, 0.7])
def test_blocked_path_equals_plain_path(dtype, t):
    # large arrays go through the blocked, threaded path: same answers, same special values
    z = (np.random.default_rng(21).normal(size=(300, 1000)) * 5).astype(dtype)
    z[0, 3] = -np.inf
    z[1, :] = -np.inf  # an all-masked row
    z[2, 7] = np.nan
    z[3, 9] = np.inf
    for fn, ref in ((lv.softmax, sp.softmax), (lv.log_softmax, sp.log_softmax)):
        out = fn(z, temperature=t)
        assert out.dtype == dtype and out.shape == z.shape
        for row in (1, 2, 3):
            assert np.isnan(out[row]).all(), (fn.__name__, row)
        rest = np.r_[0, 4:300]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = ref(z[rest].astype(np.float64) / t, axis=-1)
        # log-probabilities near 0 are log(sum) of a sum near 1: one rounding of the sum is an absolute error of
        # about eps (float32: the logits near 10 make it 1e-6), whatever order the terms are added in
        np.testing.assert_allclose(out[rest], expected, rtol=2e-5 if dtype == np.float32 else 1e-12,
                                   atol=1e-5 if dtype == np.float32 else 2e-15)
    assert lv.softmax(z)[0, 3] == 0.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("classes", [1, 2, 3, 10, 11, 12, 33])
def test_narrow_rows_reduced_by_column_equal_scipy(dtype, classes):
    # rows of up to 11 classes are reduced one column at a time (numpy's per-row loop is slow there): same answers,
    # NaN and +inf rows NaN, masked classes 0, an all-masked row NaN, on both sides of the 11-class switch
    z = (np.random.default_rng(classes).normal(size=(6000, classes)) * 4).astype(dtype)
    z[0, 0] = np.nan
    z[1, -1] = np.inf
    z[2, :] = -np.inf
    if classes > 1:
        z[3, 0] = -np.inf
    for fn, ref in ((lv.softmax, sp.softmax), (lv.log_softmax, sp.log_softmax)):
        for t in (1.0, 0.7):
            out = fn(z, temperature=t)
            assert out.dtype == dtype and out.shape == z.shape
            assert np.isnan(out[:3]).all()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                expected = ref(z[3:].astype(np.float64) / t, axis=-1)
            np.testing.assert_allclose(out[3:], expected, rtol=2e-5 if dtype == np.float32 else 1e-12,
                                       atol=1e-5 if dtype == np.float32 else 2e-15)
    if classes > 1:
        assert lv.softmax(z)[3, 0] == 0.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("t", [1.0, 0.7])
def test_blocked_entropy_equals_scipy(dtype, t):
    # large arrays take the one-sweep blocked entropy: log S - sum(e s) / S
    z = (np.random.default_rng(22).normal(size=(300, 1000)) * 5).astype(dtype)
    z[0, 3] = -np.inf  # a masked class contributes 0
    z[1, :] = -np.inf  # an all-masked row: NaN, as softmax
    z[2, 7] = np.nan
    z[3, 9] = np.inf
    z[4, :] = -np.inf
    z[4, 5] = 2.0  # one class left: entropy exactly +0.0
    z[5] *= 1000  # huge logits: no overflow
    h = lv.entropy(z, temperature=t)
    assert h.dtype == dtype and h.shape == (300,)
    assert np.isnan(h[1:4]).all()
    assert h[4] == 0.0 and not np.signbit(h[4])
    rest = np.r_[0, 5:300]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = scipy.stats.entropy(sp.softmax(z[rest].astype(np.float64) / t, axis=-1), axis=-1)
    np.testing.assert_allclose(h[rest], expected, rtol=1e-4 if dtype == np.float32 else 1e-11, atol=1e-5 if dtype == np.float32 else 1e-12)
    np.testing.assert_allclose(lv.entropy(z[rest], base=2, temperature=t), expected / np.log(2),
                               rtol=1e-4 if dtype == np.float32 else 1e-11, atol=1e-5 if dtype == np.float32 else 1e-12)
    # the batch axis may have any shape; the class axis must be last for this path, others take the general one
    np.testing.assert_allclose(lv.entropy(z[rest][:294].reshape(6, 49, 1000), temperature=t).ravel(), h[rest][:294], rtol=1e-6)
    np.testing.assert_allclose(lv.entropy(z[rest].T, axis=0, temperature=t), h[rest], rtol=1e-4 if dtype == np.float32 else 1e-11)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 40_000), (1, 262_144), (3, 151_936)])
@pytest.mark.parametrize("temperature", [1.0, 0.7])
def test_few_long_rows_split_by_columns_match_scipy(dtype, shape, temperature):
    """A language model's next-token logits: few rows, long enough to be cut by columns among the threads."""
    rng = np.random.default_rng(shape[1])
    z = (rng.standard_normal(shape) * 4).astype(dtype)
    z[0, : shape[1] // 3] = -np.inf  # whole blocks masked: they add nothing, and no NaN
    z[-1, 5] = 60.0  # one dominant token
    ref = z.astype(np.float64) / temperature
    tol = dict(rtol=2e-5, atol=1e-7) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-15)
    p = lv.softmax(z, temperature=temperature)
    assert p.dtype == dtype
    np.testing.assert_allclose(p, sp.softmax(ref, axis=-1), **tol)
    logp = lv.log_softmax(z, temperature=temperature)
    finite = np.isfinite(ref)
    np.testing.assert_allclose(logp[finite], sp.log_softmax(ref, axis=-1)[finite], rtol=tol["rtol"], atol=1e-4 if dtype == np.float32 else 1e-10)
    assert np.all(logp[~finite] == -np.inf)
    np.testing.assert_allclose(lv.entropy(z, temperature=temperature), sp.entr(sp.softmax(ref, axis=-1)).sum(-1), rtol=tol["rtol"] * 10)


def test_few_long_rows_bad_rows_are_nan_quietly():
    z = np.random.default_rng(0).standard_normal((4, 50_000)).astype(np.float32)
    z[0, 123] = np.nan
    z[1, 40_000] = np.inf
    z[2] = -np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p, logp, h = lv.softmax(z), lv.log_softmax(z), lv.entropy(z)
    for arr in (p, logp):
        assert np.isnan(arr[:3]).all() and np.isfinite(arr[3]).all()
    assert np.isnan(h[:3]).all() and np.isfinite(h[3])
    np.testing.assert_allclose(p[3], sp.softmax(z[3].astype(np.float64)), rtol=2e-5, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("classes", [3, 10, 40])
def test_blocked_softmax_shifts_only_the_rows_that_need_it(dtype, classes):
    # one large array (the blocked path): rows exp() takes as they are, and rows it must shift (their exp would
    # underflow, or their sum be below 1), beside masked, NaN and +inf rows; each must equal scipy's softmax
    rng = np.random.default_rng(classes)
    z = rng.normal(0.0, 2.0, (6000, classes))
    z[1::7] -= 80.0  # every term near float32's smallest normal: shifted
    z[2::7] -= 1000.0  # every term 0 unshifted
    z[3::7] = rng.normal(-1.0, 0.1, (len(z[3::7]), classes))  # max below 0, sum above 1: as they are, still exact
    z[4::7, 0] = -np.inf
    z[5] = -np.inf  # a row with nothing left: NaN
    x = z.astype(dtype)
    got = numerics.softmax(x)
    ok = np.isfinite(x).any(axis=1)
    want = sp.softmax(x[ok].astype(np.float64), axis=-1)
    tol = 2e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(got[ok], want, rtol=tol, atol=np.finfo(dtype).tiny)
    assert np.isnan(got[5]).all() and got.dtype == dtype
    # a NaN or +inf anywhere: that row is NaN, the others as before (their block takes the shifted path)
    x[6, 1], x[8, 2] = np.nan, np.inf
    again = numerics.softmax(x)
    assert np.isnan(again[[5, 6, 8]]).all()
    rest = ok.copy()
    rest[[6, 8]] = False
    np.testing.assert_allclose(again[rest], got[rest], rtol=tol, atol=np.finfo(dtype).tiny)
