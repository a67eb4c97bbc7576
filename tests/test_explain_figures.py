"""Step-by-step numbers and the comparison figure."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import pytest
import scipy.special as sp

from logitsviz import figures
from logitsviz.explain import softmax_steps, top_indices
from logitsviz.numerics import softmax


def test_steps_of_the_seed_example():
    s = softmax_steps([2.0, 1.0, 0.1])
    np.testing.assert_allclose(s.shifted, [0.0, -1.0, -1.9])
    np.testing.assert_allclose(s.exps, [1.0, math.exp(-1), math.exp(-1.9)])
    assert s.exp_sum == pytest.approx(1 + math.exp(-1) + math.exp(-1.9))
    np.testing.assert_allclose(s.probs, s.exps / s.exp_sum)
    assert s.argmax == 0 and s.margin == pytest.approx(1.0)
    p = sp.softmax([2.0, 1.0, 0.1])
    assert s.entropy_bits == pytest.approx(-(p * np.log2(p)).sum())
    assert s.perplexity == pytest.approx(2 ** s.entropy_bits)
    assert s.others_count == 0


def test_shift_changes_nothing_temperature_divides():
    a = softmax_steps([2.0, 1.0, 0.1], shift=7.5)
    b = softmax_steps([2.0, 1.0, 0.1])
    np.testing.assert_allclose(a.probs, b.probs, rtol=1e-14)
    np.testing.assert_allclose(a.z, [9.5, 8.5, 7.6])
    c = softmax_steps([2.0, 1.0, 0.1], temperature=2.0)
    np.testing.assert_allclose(c.probs, sp.softmax([1.0, 0.5, 0.05]))
    assert c.margin == pytest.approx(0.5)


def test_top_n_and_others_on_200k():
    z = np.random.default_rng(0).normal(size=200_000)
    s = softmax_steps(z, top=20, sort=True)
    p = sp.softmax(z)
    best = np.argsort(-p)[:20]
    np.testing.assert_array_equal(s.index, best)
    assert s.others_count == 199_980
    assert s.others_prob == pytest.approx(1 - p[best].sum(), rel=1e-9)
    # the merged class's logit carries exactly the others' mass
    assert math.exp(s.others_logit - sp.logsumexp(z)) == pytest.approx(s.others_prob, rel=1e-9)
    # a top-N cut is always shown largest first; all classes keep their order unless sorted
    np.testing.assert_array_equal(softmax_steps(z, top=20).index, best)
    np.testing.assert_array_equal(softmax_steps(z[:10], top=20).index, np.arange(10))


def test_top_indices_ties_and_bounds():
    np.testing.assert_array_equal(top_indices(np.array([1.0, 3.0, 3.0, 0.0]), 2), [1, 2])
    np.testing.assert_array_equal(top_indices(np.array([1.0, 2.0]), 10), [1, 0])
    assert top_indices(np.array([1.0]), 0).size == 0


def test_masked_and_single_class():
    s = softmax_steps([1.0, -np.inf])
    assert s.probs.tolist() == [1.0, 0.0] and s.margin == math.inf
    one = softmax_steps([4.0])
    assert one.probs.tolist() == [1.0] and math.isnan(one.margin) and one.entropy_bits == 0.0


def test_compare_figure_traces():
    fig = figures.compare(["News", "Entertainment", "Technology"], [2.0, 1.0, 0.1])
    assert isinstance(fig, go.Figure) and len(fig.data) == 2
    logits, probs = fig.data
    assert list(logits.y) == ["News", "Entertainment", "Technology"]
    np.testing.assert_allclose(probs.x, sp.softmax([2.0, 1.0, 0.1]))
    np.testing.assert_allclose(logits.x, [2.0, 1.0, 0.1])
    assert logits.marker.color[0] == figures.COLORS["argmax"] == probs.marker.color[0]
    assert probs.marker.color[1] == figures.COLORS["prob"]


def test_compare_with_others_bar_and_masked_class():
    fig = figures.compare([f"t{i}" for i in range(50)] + ["masked"], list(np.linspace(0, 5, 50)) + [-np.inf], top=5)
    probs = fig.data[1]
    assert len(probs.y) == 6 and "46" in probs.y[-1]
    assert sum(probs.x) == pytest.approx(1.0)
    assert probs.marker.color[-1] == figures.COLORS["others"]
    fig = figures.compare(["a", "b"], [1.0, -np.inf])
    assert fig.data[0].x[1] is None  # no bar for -inf


def test_labels_are_escaped_and_distinct():
    evil = "<img src=x onerror=alert(1)>"
    fig = figures.compare([evil, "x" * 60 + "1", "x" * 60 + "2"], [1.0, 2.0, 3.0])
    ys = list(fig.data[0].y)
    assert "<img" not in ys[0] and "&lt;img" in ys[0]
    assert len(set(ys)) == 3
    hover = " ".join(fig.data[1].hovertext)
    assert "<img" not in hover


def test_numeric_labels_stay_categories():
    fig = figures.compare(["7", "3", "1"], [1.0, 2.0, 3.0])
    assert fig.layout.yaxis.type == "category"


def test_figure_does_not_modify_input():
    x = np.array([3.0, 1.0, 2.0])
    figures.compare(["a", "b", "c"], x, temperature=0.5, shift=3)
    assert x.tolist() == [3.0, 1.0, 2.0]


def _lengths(fig):
    return [v for v in fig.data[0].x]


def test_logit_bars_read_right_whatever_the_offset():
    # regression: all-negative logits drew the winner shortest; 1000, 999, 998 drew three equal bars
    neg = figures.compare(["a", "b", "c"], [-5.1, -6.0, -9.0])
    lengths = _lengths(neg)
    assert lengths[0] > lengths[1] > lengths[2] > 0
    assert neg.data[0].base + lengths[0] == pytest.approx(-5.1)  # the bar ends at the logit's value
    big = figures.compare(["a", "b", "c"], [1000.0, 999.0, 998.0])
    lengths = _lengths(big)
    assert lengths[0] - lengths[1] == pytest.approx(1.0) and lengths[1] - lengths[2] == pytest.approx(1.0)
    assert big.layout.xaxis.range[0] > 990  # the axis starts near the values, not at zero
    seed = figures.compare(["a", "b", "c"], [2.0, 1.0, 0.1])
    assert seed.data[0].base == 0 and list(seed.data[0].x) == [2.0, 1.0, 0.1]  # the textbook picture when it reads right
    mixed = figures.compare(["a", "b"], [2.0, -3.0])
    assert [s.x0 for s in mixed.layout.shapes] == [0]  # zero is marked when it is in view but not the baseline


def test_the_merged_others_entry_is_drawn_as_a_different_kind():
    z = np.r_[14.2, np.full(5000, 6.0)]
    fig = figures.compare([f"t{i}" for i in range(z.size)], z, top=3)
    shapes = list(fig.data[0].marker.pattern.shape)
    assert shapes[-1] == "/" and set(shapes[:-1]) == {""}
    assert fig.data[0].text[-1].endswith("(lse)")


@pytest.mark.parametrize(("logits", "temperature"), [([1e308, 0.0, -5.0], 0.5), ([np.inf, 0.0], 1.0),
                                                     (np.r_[np.arange(30.0), np.inf], 1.0)])
def test_softmax_steps_of_an_infinite_logit_are_nan_as_softmax_gives(logits, temperature):
    with np.errstate(over="ignore"):  # (1e308 + 0) / 0.5 overflows: that is the point
        steps = softmax_steps(np.asarray(logits), temperature=temperature, top=5)
        assert np.isnan(softmax(np.asarray(logits, dtype=np.float64) / temperature)).all()
    assert np.isnan(steps.probs).all() and np.isnan(steps.logprobs).all() and np.isnan(steps.top_prob)
    assert np.isnan(steps.others_prob) or steps.others_count == 0


def test_softmax_steps_shown_probabilities_equal_softmax_for_large_vectors():
    z = np.random.default_rng(4).normal(0.0, 4.0, 50_000)
    z[::97] = -np.inf
    steps = softmax_steps(z, temperature=0.7, top=20)
    p = softmax(z / 0.7)
    np.testing.assert_allclose(steps.probs, p[steps.index], rtol=1e-12)
    np.testing.assert_allclose(steps.logprobs, np.log(p[steps.index]), rtol=1e-12)
    assert list(steps.index) == list(np.argsort(-p, kind="stable")[:20])  # the 20 most likely, largest first
    assert steps.others_prob == pytest.approx(1.0 - p[steps.index].sum(), rel=1e-9)
