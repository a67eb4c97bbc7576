"""logitsviz.divergence against PyTorch's kl_div, scipy's jensenshannon and direct formulas; streaming, dask, bounds,
speculative decoding by simulation."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.special
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.spatial.distance import jensenshannon

from logitsviz import divergence as dv
from logitsviz.errors import InputError

torch = pytest.importorskip("torch")

DTYPES = [np.float16, np.float32, np.float64]
# float rounding of each dtype, for a divergence summed over V terms of size ≤ 1 (float16 is computed in float32 and
# rounded to float16 on return)
TOL = {np.float16: dict(rtol=2e-3, atol=2e-3), np.float32: dict(rtol=1e-4, atol=1e-6), np.float64: dict(rtol=1e-10, atol=1e-13)}
SHAPES = [(7,), (5, 11), (2, 3, 13), (3, 1000)]


def _logits(shape, dtype, seed=0, scale=3.0):
    return (np.random.default_rng(seed).normal(size=shape) * scale).astype(dtype)


def _torch_kl(p, q, axis=-1):
    """KL(P ‖ Q) as PyTorch computes it: kl_div(input=log Q, target=log P, log_target=True), summed over the classes."""
    dtype = torch.float32 if p.dtype == np.float16 else None  # kl_div's log_softmax is not there for float16 on the CPU
    tp, tq = torch.from_numpy(np.ascontiguousarray(p)), torch.from_numpy(np.ascontiguousarray(q))
    if dtype is not None:
        tp, tq = tp.to(dtype), tq.to(dtype)
    lp, lq = torch.log_softmax(tp, dim=axis), torch.log_softmax(tq, dim=axis)
    return torch.nn.functional.kl_div(lq, lp, reduction="none", log_target=True).sum(dim=axis).numpy()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_kl_matches_torch_kl_div(dtype, shape):
    p, q = _logits(shape, dtype, 1), _logits(shape, dtype, 2)
    got = dv.kl(p, q)
    assert got.dtype == dtype and got.shape == shape[:-1]
    np.testing.assert_allclose(got.astype(np.float64), _torch_kl(p, q).astype(np.float64), **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_kl_along_another_axis(dtype):
    p, q = _logits((6, 4, 5), dtype, 3), _logits((6, 4, 5), dtype, 4)
    np.testing.assert_allclose(dv.kl(p, q, axis=0).astype(np.float64), _torch_kl(p, q, axis=0).astype(np.float64),
                               **TOL[dtype])
    np.testing.assert_allclose(dv.js(p, q, axis=1), dv.js(np.moveaxis(p, 1, -1), np.moveaxis(q, 1, -1)), **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_js_matches_scipy_jensenshannon_squared(dtype, shape):
    p, q = _logits(shape, dtype, 5), _logits(shape, dtype, 6)
    sp = scipy.special.softmax(p.astype(np.float64), axis=-1)
    sq = scipy.special.softmax(q.astype(np.float64), axis=-1)
    want = jensenshannon(sp, sq, axis=-1) ** 2  # scipy returns the distance, the square root of the divergence
    got = dv.js(p, q)
    assert got.dtype == dtype
    np.testing.assert_allclose(got.astype(np.float64), want, **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_tv_is_half_the_l1_distance(dtype, shape):
    p, q = _logits(shape, dtype, 7), _logits(shape, dtype, 8)
    sp = scipy.special.softmax(p.astype(np.float64), axis=-1)
    sq = scipy.special.softmax(q.astype(np.float64), axis=-1)
    want = 0.5 * np.abs(sp - sq).sum(axis=-1)
    np.testing.assert_allclose(dv.tv(p, q).astype(np.float64), want, **TOL[dtype])
    np.testing.assert_allclose(want, 1 - np.minimum(sp, sq).sum(axis=-1), atol=1e-12)  # the same quantity


def test_a_150k_vocabulary_in_float32():
    p, q = _logits((2, 150_000), np.float32, 9, scale=4), _logits((2, 150_000), np.float32, 10, scale=4)
    np.testing.assert_allclose(dv.kl(p, q), _torch_kl(p, q), rtol=1e-4)
    sp, sq = scipy.special.softmax(p.astype(np.float64), -1), scipy.special.softmax(q.astype(np.float64), -1)
    np.testing.assert_allclose(dv.js(p, q), jensenshannon(sp, sq, axis=-1) ** 2, rtol=1e-4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_thousand_scale_logits_are_shift_invariant(dtype):
    p, q = _logits((4, 50), dtype, 11), _logits((4, 50), dtype, 12)
    for f in (dv.kl, dv.js, dv.tv):
        np.testing.assert_allclose(f(p + dtype(1000), q - dtype(1000)), f(p, q), **TOL[dtype])
    np.testing.assert_allclose(dv.kl(p * 300, q * 300), _torch_kl(p * 300, q * 300), **TOL[dtype])


def test_close_distributions_keep_their_digits_in_float32():
    """A JS divergence of ~1e-10 computed in float32: the direct ½Σ p log(2p/(p+q)) loses it in rounding of ~1e-7."""
    p = _logits((3, 200), np.float64, 13)
    q = p + 1e-5 * _logits((3, 200), np.float64, 14)
    want = jensenshannon(scipy.special.softmax(p, -1), scipy.special.softmax(q, -1), axis=-1) ** 2
    assert np.all(want < 1e-8)
    got = dv.js(p.astype(np.float32), (q.astype(np.float32)))
    # float32 logits carry a relative rounding of 6e-8 each, so the reference for float32 inputs is their float64 JS
    ref = dv.js(p.astype(np.float32).astype(np.float64), q.astype(np.float32).astype(np.float64))
    np.testing.assert_allclose(got, ref, rtol=0.05)
    np.testing.assert_allclose(dv.js(p, q), want, rtol=1e-4)


# ------------------------------------------------------------------ edges ----


def test_masked_classes():
    inf = np.inf
    # Q masks a class P gives mass: KL is infinite, JS and TV are finite
    assert dv.kl([0.0, 0.0], [0.0, -inf]) == inf
    assert dv.js([0.0, 0.0], [0.0, -inf]) == pytest.approx(jensenshannon([0.5, 0.5], [1.0, 0.0]) ** 2)
    assert dv.tv([0.0, 0.0], [0.0, -inf]) == pytest.approx(0.5)
    # P masks a class Q has: finite KL = log(1 / 0.5)
    assert dv.kl([0.0, -inf], [0.0, 0.0]) == pytest.approx(math.log(2))
    # both mask the same class: it does not count
    assert dv.kl([1.0, 2.0, -inf], [1.0, 2.0, -inf]) == 0.0
    assert dv.js([1.0, 2.0, -inf], [1.0, 2.0, -inf]) == 0.0
    # disjoint supports: JS = ln 2, TV = 1
    assert dv.js([0.0, -inf], [-inf, 0.0]) == pytest.approx(math.log(2))
    assert dv.tv([0.0, -inf], [-inf, 0.0]) == 1.0
    # PyTorch's kl_div gives NaN where P masks a class (0 · (−inf − log q)); the limit p log p → 0 gives the answer
    row_p, row_q = np.array([[0.0, -inf, 1.0]]), np.array([[0.5, 0.0, -inf]])
    assert np.isnan(_torch_kl(row_p, row_q)[0])
    assert dv.kl(row_p, row_q)[0] == inf
    sp, sq = scipy.special.softmax([0.0, 1.0]), scipy.special.softmax([0.5, 0.0, 1.0])
    assert dv.kl(row_p, [[0.5, 0.0, 1.0]])[0] == pytest.approx(np.sum(sp * np.log(sp / sq[[0, 2]])))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_and_plus_inf_give_nan_without_warning(bad):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for f in (dv.kl, dv.js, dv.tv):
            out = f([[1.0, bad], [1.0, 2.0]], [[1.0, 2.0], [2.0, 1.0]])
            assert np.isnan(out[0]) and np.isfinite(out[1])
            assert np.isnan(f([1.0, 2.0], [bad, 2.0]))
        assert np.isnan(dv.kl([-np.inf, -np.inf], [0.0, 1.0]))  # every class masked: no distribution


def test_one_class_ties_and_identical():
    for f in (dv.kl, dv.js, dv.tv):
        assert f([3.0], [-7.0]) == 0.0
        assert f([1.0, 1.0, 1.0], [5.0, 5.0, 5.0]) == 0.0
        z = _logits((4, 9), np.float64, 15)
        np.testing.assert_array_equal(f(z, z), 0.0)


def test_shape_and_type_errors():
    with pytest.raises(InputError, match="same shape"):
        dv.kl([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(InputError):
        dv.js(1.0, 2.0)
    with pytest.raises(InputError):
        dv.tv([1 + 2j, 0], [0.0, 1.0])
    with pytest.raises(InputError):
        dv.kl([[1.0, 2.0]], [[1.0, 2.0]], axis=3)


finite = st.floats(-50, 50, allow_nan=False, allow_subnormal=False)


@settings(max_examples=150, deadline=None)
@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 12)), elements=finite),
       st.integers(0, 2**31 - 1))
def test_properties(p, seed):
    q = p + np.random.default_rng(seed).normal(size=p.shape) * np.random.default_rng(seed).uniform(0, 5)
    k, j, v = dv.kl(p, q), dv.js(p, q), dv.tv(p, q)
    assert np.all(k >= 0) and np.all((j >= 0) & (j <= math.log(2) + 1e-12)) and np.all((v >= 0) & (v <= 1))
    np.testing.assert_allclose(j, dv.js(q, p), atol=1e-12)  # symmetric
    np.testing.assert_allclose(v, dv.tv(q, p), atol=1e-12)
    assert np.all(v <= np.sqrt(k / 2) + 1e-9)  # Pinsker
    assert np.all(j <= v * math.log(2) + 1e-9)  # JS ≤ TV·ln 2
    np.testing.assert_allclose(k, _torch_kl(p, q), rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------- comparisons ----


def _reference_summary(kl, same, nll, nll_base, dp):
    """llama.cpp's statistics written out again from its perplexity.cpp, loop by loop, with no numpy helper."""
    n = len(kl)

    def mean_unc(x):
        f = sum(x) / n
        var = sum(v * v for v in x) / n - f * f
        return f, math.sqrt(var / (n - 1)) if var > 0 and n > 10 else 0.0

    def percentile(values, fraction):
        values = sorted(values)
        p = fraction * (len(values) - 1)
        i = int(p)
        p -= i
        return (1 - p) * values[i] + p * values[min(i + 1, len(values) - 1)]

    s = sorted(kl)
    out = {"kl_mean": mean_unc(kl)[0], "kl_mean_unc": mean_unc(kl)[1], "kl_max": s[-1], "kl_min": s[0],
           "kl_median": (s[n // 2] + s[n // 2 - 1]) / 2 if n % 2 == 0 else s[n // 2],
           "kl_p99": percentile(kl, 0.99), "kl_p001": percentile(kl, 0.001)}
    top = sum(same) / n
    out["same_top"], out["same_top_unc"] = top, math.sqrt(top * (1 - top) / (n - 1))
    lp, lp_unc = mean_unc(nll)
    lb, lb_unc = mean_unc(nll_base)
    cov = (sum(a * b for a, b in zip(nll, nll_base)) / n - lp * lb) / (n - 1)
    out |= {"ppl_other": math.exp(lp), "ppl_other_unc": math.exp(lp) * lp_unc, "ppl_base": math.exp(lb),
            "ppl_cor": cov / (lp_unc * lb_unc), "ln_ppl_ratio": lp - lb,
            "ln_ppl_ratio_unc": math.sqrt(lp_unc ** 2 + lb_unc ** 2 - 2 * cov)}
    mse, mse_unc = mean_unc([d * d for d in dp])
    out |= {"delta_p_rms": math.sqrt(mse), "delta_p_rms_unc": 0.5 / math.sqrt(mse) * mse_unc,
            "delta_p_mean": mean_unc(dp)[0], "delta_p_max": max(dp), "delta_p_p75": percentile(dp, 0.75)}
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compare_rows_and_summary(dtype):
    rng = np.random.default_rng(16)
    base = _logits((301, 40), dtype, 17)
    other = (base + rng.normal(size=base.shape) * 0.3).astype(dtype)
    targets = rng.integers(0, 40, size=301)
    c = dv.compare(base, other, targets)
    np.testing.assert_allclose(c.kl, _torch_kl(base, other), **TOL[dtype])
    np.testing.assert_allclose(c.js, dv.js(base, other), **TOL[dtype])
    np.testing.assert_allclose(c.tv, dv.tv(base, other), **TOL[dtype])
    np.testing.assert_array_equal(c.same_top, base.argmax(1) == other.argmax(1))
    lp = scipy.special.log_softmax(base.astype(np.float64), -1)[np.arange(301), targets]
    lq = scipy.special.log_softmax(other.astype(np.float64), -1)[np.arange(301), targets]
    np.testing.assert_allclose(c.delta_p, np.exp(lq) - np.exp(lp), **TOL[dtype])
    ref = _reference_summary(list(c.kl), list(c.same_top), list(c.nll_other), list(c.nll_base), list(c.delta_p))
    s = c.summary()
    assert s["n"] == 301
    for key, want in ref.items():
        assert s[key] == pytest.approx(want, rel=1e-9, abs=1e-12), key
    assert s["ppl_base"] == pytest.approx(math.exp(-lp.mean()), rel=1e-5)
    assert set(c.rows()) >= {"row", "kl", "js", "tv", "same_top", "delta_p", "target"}


def test_compare_without_targets_and_few_rows():
    c = dv.compare([2.0, 1.0, 0.1], [1.0, 2.0, 0.1])  # one vector: one row
    s = c.summary()
    assert s["n"] == 1 and s["kl_mean_unc"] == 0.0 and "ppl_base" not in s and c.delta_p is None
    assert s["kl_mean"] == pytest.approx(float(dv.kl([2.0, 1.0, 0.1], [1.0, 2.0, 0.1])))
    assert s["same_top"] == 0.0


def test_compare_leaves_out_nan_rows_and_reports_inf():
    base = np.array([[1.0, 2.0], [np.nan, 1.0], [0.0, 0.0]])
    other = np.array([[1.0, 2.0], [1.0, 1.0], [0.0, -np.inf]])
    s = dv.compare(base, other).summary()
    assert s["n"] == 2 and s["kl_max"] == np.inf
    with pytest.raises(InputError):
        dv.compare([[np.nan, 1.0]], [[1.0, 1.0]]).summary()


def test_compare_errors():
    with pytest.raises(InputError, match="same shape"):
        dv.compare(np.zeros((3, 4)), np.zeros((3, 5)))
    with pytest.raises(InputError):
        dv.compare(np.zeros((3, 4)), np.zeros((3, 4)), targets=[0, 1])
    with pytest.raises(InputError, match="row 1"):
        dv.compare(np.zeros((3, 4)), np.zeros((3, 4)), targets=[0, 4, 1])
    with pytest.raises(InputError):
        dv.compare(np.zeros((3, 0)), np.zeros((3, 0)))
    with pytest.raises(InputError):
        dv.compare(np.zeros((2, 3, 4)), np.zeros((2, 3, 4)))


# --------------------------------------------------------------- streaming ----


@pytest.fixture
def dumps(tmp_path):
    rng = np.random.default_rng(18)
    base = (rng.normal(size=(1000, 64)) * 3).astype(np.float32)
    other = (base + rng.normal(size=base.shape) * 0.5).astype(np.float32)
    targets = rng.integers(0, 64, size=1000)
    np.save(tmp_path / "a.npy", base)
    np.save(tmp_path / "b.npy", other)
    for name, x in (("A", base), ("B", other)):
        (tmp_path / name).mkdir()
        for i, start in enumerate(range(0, 1000, 300)):
            np.save(tmp_path / name / f"part{i:02d}.npy", x[start:start + 300])
    return tmp_path, base, other, targets


def _same(c, d):
    for f in ("kl", "js", "tv", "same_top", "p_base", "p_other"):
        # float32 sums taken in other blocks differ in their last bits
        np.testing.assert_allclose(getattr(c, f), getattr(d, f), rtol=1e-4, atol=1e-6, err_msg=f)
    assert c.summary().keys() == d.summary().keys()


def test_memory_maps_and_shard_folders_match_memory(dumps, monkeypatch):
    root, base, other, targets = dumps
    want = dv.compare(base, other, targets)
    monkeypatch.setattr(dv, "CHUNK_BYTES", 64 * 4 * 37)  # 37 rows a chunk: many chunks, one cut inside each shard
    a, b = dv.open_dump(root / "a.npy"), dv.open_dump(root / "b.npy")
    assert isinstance(a, np.memmap)
    _same(dv.compare(a, b, targets), want)
    _same(dv.compare(dv.open_dump(root / "A"), dv.open_dump(root / "B"), targets), want)
    _same(dv.compare(a, other, targets), want)  # one side mapped, one in memory


def test_dump_errors(dumps, tmp_path_factory):
    root, _base, other, _ = dumps
    odd = tmp_path_factory.mktemp("odd")
    np.save(odd / "x.npy", other[:500])
    np.save(odd / "y.npy", other[500:])
    with pytest.raises(InputError, match="shard"):
        dv.compare(dv.open_dump(root / "A"), dv.open_dump(odd))
    with pytest.raises(InputError):
        dv.open_dump(root / "nothing.npy")
    (root / "notes.txt").write_text("hi")
    with pytest.raises(InputError):
        dv.open_dump(root / "notes.txt")
    np.save(root / "flat.npy", np.zeros(5))
    with pytest.raises(InputError):
        dv.open_dump(root / "flat.npy")
    with pytest.raises(InputError):
        dv.open_dump(tmp_path_factory.mktemp("empty"))


def test_dask_arrays_match_memory(dumps):
    da = pytest.importorskip("dask.array")
    _, base, other, targets = dumps
    want = dv.compare(base, other, targets)
    got = dv.compare(da.from_array(base, chunks=(128, 64)), da.from_array(other, chunks=(300, 32)), targets)
    _same(got, want)


def test_a_local_cluster_reads_the_shards_itself(dumps):
    """Two worker processes open the shard files themselves; only per-row numbers and sums come back."""
    distributed = pytest.importorskip("distributed")
    import dask
    import dask.array as da

    from logitsviz import calibration

    root, base, other, targets = dumps

    def lazy(folder):
        parts = sorted((root / folder).glob("*.npy"))
        blocks = [da.from_delayed(dask.delayed(np.load)(str(p), mmap_mode="r"), shape=(min(300, 1000 - 300 * i), 64),
                                  dtype=np.float32) for i, p in enumerate(parts)]
        return da.concatenate(blocks)

    want = dv.compare(base, other, targets)
    labels = targets
    want_ece = calibration.expected_calibration_error(base, labels)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        got = dv.compare(lazy("A"), lazy("B"), targets)
        ece = calibration.expected_calibration_error(lazy("A"), da.from_array(labels, chunks=300))
        assert len(client.scheduler_info()["workers"]) == 2
    _same(got, want)
    assert ece == pytest.approx(want_ece, abs=1e-9)


# ------------------------------------------------------ top-k known only ----


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 30), st.integers(1, 8), st.integers(1, 8), st.integers(0, 2**31 - 1), st.floats(0.1, 4))
def test_top_bounds_hold_for_the_full_distributions(v, kp, kq, seed, scale):
    rng = np.random.default_rng(seed)
    zp = rng.normal(size=v) * scale
    zq = zp + rng.normal(size=v) * rng.uniform(0, 3)
    p, q = scipy.special.softmax(zp), scipy.special.softmax(zq)
    top_p = {str(i): float(p[i]) for i in np.argsort(-p)[:kp]}
    top_q = {str(i): float(q[i]) for i in np.argsort(-q)[:kq]}
    b = dv.top_bounds(top_p, top_q)
    true_tv = 0.5 * np.abs(p - q).sum()
    true_kl = float(np.sum(p * (np.log(p) - np.log(q))))
    assert b.tv_low - 1e-9 <= true_tv <= b.tv_high + 1e-9
    assert b.kl_low <= true_kl + 1e-9
    assert b.same_top == (p.argmax() == q.argmax())
    if kp >= v and kq >= v:  # everything listed: the bounds close on the true values
        assert b.tv_low == pytest.approx(true_tv, abs=1e-9) and b.tv_high == pytest.approx(true_tv, abs=1e-9)
        assert b.kl_low == pytest.approx(true_kl, abs=1e-9)


def test_top_bounds_by_hand_and_errors():
    b = dv.top_bounds({"a": 0.6, "b": 0.3}, {"a": 0.5, "c": 0.2})
    # upper: only "a" is known on both sides, min = 0.5 → TV ≤ 0.5; lower: b may get ≤ min(0.2, 0.3) from Q,
    # c may get ≤ min(0.3, 0.1) from P, the rest overlaps ≤ min(0.1, 0.3): 1 − (0.5 + 0.2 + 0.1 + 0.1) = 0.1
    assert (round(b.tv_low, 12), round(b.tv_high, 12), b.same_top, b.shared) == (0.1, 0.5, True, 1)
    with pytest.raises(InputError):
        dv.top_bounds({}, {"a": 1.0})
    with pytest.raises(InputError):
        dv.top_bounds({"a": 0.9, "b": 0.3}, {"a": 1.0})


# ------------------------------------------------------ speculative decoding ----


def test_speculative_quantities():
    s = dv.speculative([2.0, 1.0, 0.1, -np.inf], [0.1, 1.0, 2.0, 0.5])
    p, q = s.target, s.draft
    assert s.acceptance == pytest.approx(1 - 0.5 * np.abs(p - q).sum())
    assert s.acceptance == pytest.approx(1 - float(dv.tv([2.0, 1.0, 0.1, -np.inf], [0.1, 1.0, 2.0, 0.5])))
    np.testing.assert_allclose(s.residual, np.maximum(p - q, 0) / np.maximum(p - q, 0).sum())
    np.testing.assert_allclose(s.accept, np.minimum(1, p / q))
    same = dv.speculative([1.0, 2.0], [1.0, 2.0])
    assert same.acceptance == pytest.approx(1.0)
    np.testing.assert_allclose(same.residual, same.target)
    batch = dv.speculative(_logits((3, 5), np.float64, 19), _logits((3, 5), np.float64, 20))
    assert batch.acceptance.shape == (3,) and np.allclose(batch.residual.sum(-1), 1)


@pytest.mark.parametrize("seed", [0, 1])
def test_draft_then_correct_samples_exactly_the_target(seed):
    target = _logits(12, np.float64, 21 + seed)
    draft = target + _logits(12, np.float64, 31 + seed, scale=1.5)  # a poor draft: plenty of rejections
    s = dv.speculative(target, draft)
    n = 200_000
    tokens, kept = s.sample(n, rng=seed)
    counts = np.bincount(tokens, minlength=12)
    assert scipy.stats.chisquare(counts, s.target * n).pvalue > 1e-3
    # ...while the draft alone is far from it
    assert scipy.stats.chisquare(np.bincount(np.random.default_rng(seed).choice(12, n, p=s.draft), minlength=12),
                                 s.target * n).pvalue < 1e-6
    rate, sd = kept.mean(), math.sqrt(s.acceptance * (1 - s.acceptance) / n)
    assert abs(rate - s.acceptance) < 5 * sd
    a, b = s.sample(50, rng=7), s.sample(50, rng=7)
    np.testing.assert_array_equal(a[0], b[0])
    with pytest.raises(InputError):
        s.sample(-1)
    with pytest.raises(InputError):
        dv.speculative(np.zeros((2, 3)), np.zeros((2, 3))).sample(5)


def test_expected_accepted():
    for alpha in (0.0, 0.3, 0.8, 0.99):
        for gamma in range(0, 9):
            assert dv.expected_accepted(alpha, gamma) == pytest.approx(sum(alpha ** i for i in range(gamma + 1)))
    assert dv.expected_accepted(1.0, 4) == 5.0
    np.testing.assert_allclose(dv.expected_accepted([0.5, 1.0], np.arange(1, 9)[:, None]).shape, (8, 2))
    with pytest.raises(InputError):
        dv.expected_accepted(1.5, 3)
    with pytest.raises(InputError):
        dv.expected_accepted(0.5, 2.5)
    with pytest.raises(InputError):
        dv.expected_accepted(np.nan, 2)


def test_compare_rows_with_masks_match_the_careful_formulas():
    """compare takes the direct formulas and redoes only rows whose sums come out NaN: masked rows match kl/js/tv."""
    rng = np.random.default_rng(40)
    base = rng.normal(size=(64, 300)) * 3
    other = base + rng.normal(size=base.shape)
    base[rng.random(base.shape) < 0.05] = -np.inf  # P masks: finite KL
    other[:8][rng.random((8, 300)) < 0.05] = -np.inf  # Q masks where P may not: inf KL in some rows
    c = dv.compare(base, other)
    for i in range(64):
        assert c.kl[i] == pytest.approx(float(dv.kl(base[i], other[i])), rel=1e-12, abs=1e-15)
        assert c.js[i] == pytest.approx(float(dv.js(base[i], other[i])), rel=1e-12, abs=1e-15)
        assert c.tv[i] == pytest.approx(float(dv.tv(base[i], other[i])), rel=1e-12, abs=1e-15)
    assert np.isinf(c.kl[:8]).any() and np.all(np.isfinite(c.kl[8:])) and np.all(np.isfinite(c.js))


@pytest.mark.parametrize("d", [-1e-6, -1e-3, -0.1, -0.49, -0.51, -2.0, -30.0])
def test_the_js_share_series_and_closed_form_agree_with_high_precision(d):
    import mpmath

    mpmath.mp.dps = 40
    u = mpmath.e ** mpmath.mpf(d)
    want = float((u * d - (1 + u) * mpmath.log((1 + u) / 2)) / 2)
    assert float(dv._js_share(np.array([d]))[0]) == pytest.approx(want, rel=1e-11)
    assert float(dv._js_share(np.array([d], np.float32))[0]) == pytest.approx(want, rel=2e-5)
