"""Losses and their gradients: direct formulas, scipy, and finite differences (1e-8, float64)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.special as sp
import scipy.stats
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import logitsviz as lv
from logitsviz import InputError

inf = np.inf


pytestmark = pytest.mark.usefixtures("no_warnings")


def finite_diff(f, x, h=1e-5):
    """Central differences of a scalar function, one coordinate at a time."""
    x = np.asarray(x, dtype=np.float64)
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = h
        g[idx] = (f(x + e) - f(x - e)) / (2 * h)
    return g


RNG = np.random.default_rng(11)


# ------------------------------------------------------ label smoothing ----


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.3, 1.0])
def test_label_smoothing_matches_direct_sum(eps):
    z = RNG.normal(size=(4, 6)) * 2
    y = np.array([0, 5, 2, 2])
    q = (1 - eps) * np.eye(6)[y] + eps / 6
    direct = -(q * sp.log_softmax(z, axis=-1)).sum(axis=-1)
    np.testing.assert_allclose(lv.cross_entropy(z, y, label_smoothing=eps), direct, rtol=1e-12)


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.5])
def test_cross_entropy_grad_finite_differences(eps):
    z = RNG.normal(size=7) * 1.5
    fd = finite_diff(lambda v: float(lv.cross_entropy(v, 3, label_smoothing=eps)), z)
    np.testing.assert_allclose(lv.cross_entropy_grad(z, 3, label_smoothing=eps), fd, atol=1e-8)
    assert abs(lv.cross_entropy_grad(z, 3, label_smoothing=eps).sum()) < 1e-12


def test_bad_smoothing():
    with pytest.raises(InputError, match="label_smoothing"):
        lv.cross_entropy([1.0, 2.0], 0, label_smoothing=1.5)


# ------------------------------------------------------------- sigmoid ----


def test_logit_inverts_sigmoid_and_matches_scipy():
    p = np.linspace(0.001, 0.999, 999)
    np.testing.assert_allclose(lv.logit(p), sp.logit(p), rtol=1e-12, atol=1e-12)
    # above z = 15, p = 1 - 3e-7 keeps too few digits of 1 - p in float64 for a 1e-8 round trip
    z = np.linspace(-30, 15, 451)
    np.testing.assert_allclose(lv.logit(lv.sigmoid(z)), z, atol=1e-8)
    np.testing.assert_array_equal(lv.logit([0.0, 1.0]), [-inf, inf])


def test_binary_cross_entropy_direct_formula():
    z = RNG.normal(size=50) * 5
    y = RNG.uniform(size=50)
    s = sp.expit(z)
    direct = -(y * np.log(s) + (1 - y) * np.log(1 - s))
    np.testing.assert_allclose(lv.binary_cross_entropy(z, y), direct, rtol=1e-10)


def test_binary_cross_entropy_stable_at_extremes():
    np.testing.assert_allclose(lv.binary_cross_entropy([1000.0, -1000.0, 800.0], [0.0, 1.0, 1.0]), [1000.0, 1000.0, 0.0])
    with pytest.raises(InputError):
        lv.binary_cross_entropy([1.0], [2.0])


def test_binary_cross_entropy_grad_finite_differences():
    z = RNG.normal(size=6) * 3
    y = np.array([1, 0, 1, 0.3, 0, 1.0])
    fd = finite_diff(lambda v: float(lv.binary_cross_entropy(v, y).sum()), z)
    np.testing.assert_allclose(lv.binary_cross_entropy_grad(z, y), fd, atol=1e-8)


# ------------------------------------------------------------------ KL ----


@pytest.mark.parametrize("t", [1.0, 2.0, 5.0])
def test_kl_matches_scipy(t):
    a = RNG.normal(size=(3, 8)) * 2
    b = RNG.normal(size=(3, 8)) * 2
    p, q = sp.softmax(a / t, axis=-1), sp.softmax(b / t, axis=-1)
    np.testing.assert_allclose(lv.kl_divergence(a, b, temperature=t), sp.rel_entr(p, q).sum(axis=-1), rtol=1e-10)
    np.testing.assert_allclose(lv.kl_divergence(a, b, temperature=t), scipy.stats.entropy(p, q, axis=-1), rtol=1e-10)


def test_kl_edge_cases():
    assert float(lv.kl_divergence([1.0, 2.0], [1.0, 2.0])) == 0.0
    assert float(lv.kl_divergence([1.0, 2.0], [1.0, -inf])) == inf  # Q masks what P needs
    assert np.isfinite(lv.kl_divergence([1.0, -inf], [1.0, 2.0]))  # P masks: fine
    with pytest.raises(InputError):
        lv.kl_divergence([1.0, 2.0], [1.0, 2.0, 3.0])


@given(
    hnp.arrays(np.float64, 5, elements=st.floats(-20, 20)),
    hnp.arrays(np.float64, 5, elements=st.floats(-20, 20)),
)
def test_kl_nonnegative(a, b):
    assert float(lv.kl_divergence(a, b)) >= 0.0


@pytest.mark.parametrize("t", [1.0, 3.0, 10.0])
def test_distillation_loss_and_grad(t):
    student = RNG.normal(size=6) * 2
    teacher = RNG.normal(size=6) * 3
    expected = t * t * sp.rel_entr(sp.softmax(teacher / t), sp.softmax(student / t)).sum()
    assert float(lv.distillation_loss(student, teacher, t)) == pytest.approx(expected, rel=1e-10)
    fd = finite_diff(lambda v: float(lv.distillation_loss(v, teacher, t)), student)
    np.testing.assert_allclose(lv.distillation_grad(student, teacher, t), fd, atol=1e-8)


# ------------------------------------------------------------- InfoNCE ----


def test_cosine_similarity():
    a = RNG.normal(size=(4, 3))
    b = RNG.normal(size=(5, 3))
    expected = np.array([[x @ y / np.linalg.norm(x) / np.linalg.norm(y) for y in b] for x in a])
    np.testing.assert_allclose(lv.cosine_similarity(a, b), expected, rtol=1e-12)
    with pytest.raises(InputError):
        lv.cosine_similarity(a, np.ones((2, 4)))


def test_info_nce_direct_formula_and_symmetry():
    s = RNG.normal(size=(5, 5)) * 3
    rows = -np.mean([sp.log_softmax(s[i])[i] for i in range(5)])
    cols = -np.mean([sp.log_softmax(s[:, j])[j] for j in range(5)])
    assert lv.info_nce(s) == pytest.approx(rows, rel=1e-12)
    assert lv.info_nce(s, symmetric=True) == pytest.approx((rows + cols) / 2, rel=1e-12)
    assert lv.info_nce(np.zeros((8, 8))) == pytest.approx(math.log(8))


def test_info_nce_grad_finite_differences():
    s = RNG.normal(size=(4, 4))
    fd = finite_diff(lambda v: lv.info_nce(v), s)
    np.testing.assert_allclose(lv.info_nce_grad(s), fd, atol=1e-8)


def test_info_nce_temperature_sharpens():
    a = RNG.normal(size=(6, 16))
    b = a + 0.3 * RNG.normal(size=(6, 16))
    sim = lv.cosine_similarity(a, b)
    losses = [lv.info_nce(sim / tau) for tau in (1.0, 0.3, 0.1, 0.05)]
    assert losses == sorted(losses, reverse=True)  # matched pairs: a lower tau gives a lower loss
    with pytest.raises(InputError):
        lv.info_nce(np.ones((2, 3)))
