"""Every public numeric function on arbitrary float arrays: no exception but InputError, no warning, documented shape and dtype."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import logitsviz as lv
from logitsviz import InputError, calibration, sampling

DTYPES = st.sampled_from([np.float16, np.float32, np.float64])


@st.composite
def arrays(draw, min_dims=1, max_dims=3):
    dtype = draw(DTYPES)
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=0, max_side=6))
    # every float: +-inf, NaN, subnormals, the largest finite values
    return draw(hnp.arrays(dtype, shape, elements=hnp.from_dtype(np.dtype(dtype), allow_nan=True, allow_infinity=True,
                                                                   allow_subnormal=True)))


def quietly(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return fn(*args, **kwargs)
        except InputError:
            return None


@settings(max_examples=300, deadline=None)
@given(arrays())
def test_elementwise_and_rowwise(z):
    for fn in (lv.softmax, lv.log_softmax, lv.naive_softmax, lv.sigmoid):
        out = quietly(fn, z)
        assert out is not None and out.shape == z.shape and out.dtype == z.dtype, fn.__name__
    for fn in (lv.logsumexp, lv.entropy):
        out = quietly(fn, z)
        assert out is not None and out.shape == z.shape[:-1] and out.dtype == z.dtype, fn.__name__
    assert quietly(lv.logit, z).shape == z.shape


@settings(max_examples=200, deadline=None)
@given(arrays(min_dims=1, max_dims=2), st.integers(0, 5))
def test_losses(z, target):
    if z.shape[-1] == 0:
        return
    y = np.full(z.shape[:-1], target % z.shape[-1])
    ce = quietly(lv.cross_entropy, z, y)
    assert ce is not None and ce.shape == z.shape[:-1]
    grad = quietly(lv.cross_entropy_grad, z, y, label_smoothing=0.1)
    assert grad is not None and grad.shape == z.shape
    assert quietly(lv.binary_cross_entropy, z, np.zeros(z.shape)).shape == z.shape
    assert quietly(lv.kl_divergence, z, z[..., ::-1]).shape == z.shape[:-1]


@settings(max_examples=200, deadline=None)
@given(arrays(min_dims=1, max_dims=2), st.sampled_from(list(sampling.FILTERS)))
def test_filters(z, name):
    value = {"temperature": 0.7, "top_k": 2, "top_p": 0.9, "min_p": 0.1, "typical_p": 0.9, "epsilon": 0.01, "eta": 0.01,
             "top_n_sigma": 1.0, "repetition": 1.3, "presence": 0.5, "dry": 0.8, "xtc": 0.1, "dynatemp": 1.0,
             "smoothing": 0.3, "top_a": 0.2, "tfs": 0.9, "p_less": False, "mirostat": 3.0}[name]
    vocab = z.shape[-1]
    history = [i % vocab for i in (0, 1, 0, 1, 2, 0, 1)] if vocab else []  # repeats, so penalties and DRY act
    unit = sampling.build_chain([(name, value)], history=history, rng=0)[0]
    if name == "dynatemp":
        unit = sampling.DynamicTemperature(0.8, 0.5)
    out = quietly(unit, z)
    assert out is not None and out.shape == z.shape and out.dtype == z.dtype


@settings(max_examples=150, deadline=None)
@given(arrays(min_dims=2, max_dims=2), st.integers(0, 3))
def test_calibration(z, label):
    y = np.full(z.shape[0], label % max(1, z.shape[1]))
    ece = quietly(calibration.expected_calibration_error, z, y)
    t = quietly(calibration.fit_temperature, z, y)
    if ece is not None:
        assert 0.0 <= ece <= 1.0
    if t is not None:
        assert calibration.T_MIN <= t <= calibration.T_MAX


@settings(max_examples=150, deadline=None)
@given(arrays(min_dims=1, max_dims=1), st.integers(0, 20))
def test_sample(z, n):
    out = quietly(sampling.sample, z, n, rng=0)
    if out is not None:
        assert out.shape == (n,) and ((0 <= out) & (out < z.size)).all()
