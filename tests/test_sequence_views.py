"""The token view's numbers come from explain (sequence_view, position_view): checked against direct formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from logitsviz import explain
from logitsviz.tokens import LogprobSequence, Position, visible


def _position(draw_probs, chosen: int | None, texts=("a", " b", "c", "\nd", "是")) -> Position:
    probs = sorted(draw_probs, reverse=True)
    top = tuple((visible(texts[i]), math.log(p)) for i, p in enumerate(probs))
    if chosen is None:
        return Position("zzz", False, math.nan, top)
    return Position(texts[chosen], False, math.log(probs[chosen]), top)


@st.composite
def positions(draw):
    n = draw(st.integers(1, 5))
    weights = draw(st.lists(st.floats(0.01, 1.0), min_size=n + 1, max_size=n + 1))
    probs = [w / sum(weights) for w in weights][:n]  # the last weight is the unlisted rest
    chosen = draw(st.one_of(st.none(), st.integers(0, n - 1)))
    return _position(probs, chosen)


@given(st.lists(positions(), min_size=1, max_size=12))
def test_sequence_view_against_the_formulas(pos):
    seq = LogprobSequence("test", tuple(pos))
    v = explain.sequence_view(seq, least=5)
    lp = np.array([p.logprob for p in pos])
    np.testing.assert_allclose(v.surprise_bits, -lp / math.log(2), equal_nan=True)
    assert v.unknown == int(np.isnan(lp).sum())
    known = lp[~np.isnan(lp)]
    if known.size:
        assert v.mean_surprise_bits == pytest.approx(float(np.mean(-known / math.log(2))))
        assert v.perplexity == pytest.approx(math.exp(-float(np.mean(known))))
    else:
        assert math.isnan(v.mean_surprise_bits)
    # least likely first: the unknown ones, then by surprise, ties in order of position
    ranked = [math.inf if math.isnan(b) else b for b in v.surprise_bits[v.least_likely]]
    assert ranked == sorted(ranked, reverse=True) and len(v.least_likely) == min(5, len(pos))
    assert not v.exact and math.isnan(v.mean_entropy_bits)


@given(positions())
def test_position_view_adds_up_and_finds_the_chosen_token(pos):
    v = explain.position_view(pos, "rest")
    probs = np.exp(v.logits)
    assert probs.sum() == pytest.approx(1.0, abs=1e-9)  # the listed alternatives and the rest: the whole distribution
    assert v.known == len(pos.top) and v.rest == pytest.approx(pos.rest)
    assert v.labels[: v.known] == [text for text, _ in pos.top]
    if math.isnan(pos.logprob):
        assert v.chosen is None
    else:
        assert v.labels[v.chosen] == visible(pos.text) and v.logits[v.chosen] == pytest.approx(pos.logprob)
    np.testing.assert_allclose(v.steps.probs, probs[: v.known])
    assert v.steps.others_prob == pytest.approx(v.rest, abs=1e-12)


def test_a_position_with_nothing_listed_has_no_chart():
    v = explain.position_view(Position("x", False, math.nan, ()), "rest")
    assert v.steps is None and v.labels == [] and v.chosen is None


def test_a_blank_token_is_found_among_alternatives_shown_with_blanks():
    v = explain.position_view(_position([0.6, 0.3], 1), "rest")  # the chosen token is " b", listed as "␣b"
    assert v.labels[v.chosen] == "␣b"
