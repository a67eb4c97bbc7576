"""The samplers beyond the warpers, against references written from each source's definition.

Each reference is a plain loop over tokens, written from the rule as its
project states it (llama.cpp ``src/llama-sampling.cpp``, text-generation-webui
``modules/sampler_hijack.py``, transformers ``generation/logits_process.py``,
the p-less authors' code); worked numbers come from those sources' own examples.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from logitsviz import InputError, sampling, softmax

inf = np.inf
pytestmark = pytest.mark.usefixtures("no_warnings")

vectors = hnp.arrays(np.float64, st.integers(1, 40), elements=st.floats(-20, 20))
histories = st.lists(st.integers(0, 5), max_size=40)


def kept(z) -> set[int]:
    return set(np.flatnonzero(np.isfinite(z)).tolist())


# ------------------------------------------------------- penalties ----


def ref_repetition(z, history, penalty):
    out = list(z)
    for tok in set(history):
        out[tok] = out[tok] * penalty if out[tok] < 0 else out[tok] / penalty
    return np.array(out)


def ref_presence_frequency(z, history, presence, frequency):
    out = list(z)
    for tok in set(history):
        count = history.count(tok)
        out[tok] -= count * frequency + presence
    return np.array(out)


@given(vectors, histories, st.floats(0.5, 3.0))
def test_repetition_penalty_matches_its_definition(z, history, penalty):
    history = [h % z.size for h in history]
    np.testing.assert_allclose(sampling.repetition_penalty(z, history, penalty), ref_repetition(z, history, penalty), rtol=1e-12)


@given(hnp.arrays(np.float32, st.tuples(st.integers(1, 3), st.integers(1, 30)), elements=st.floats(-20, 20, width=32)),
       histories, st.floats(0.5, 3.0))
def test_repetition_penalty_equals_transformers(z, history, penalty):
    torch = pytest.importorskip("torch")
    from transformers import RepetitionPenaltyLogitsProcessor

    history = [h % z.shape[-1] for h in history] or [0]
    ids = torch.tensor([history] * z.shape[0])
    theirs = RepetitionPenaltyLogitsProcessor(penalty=float(penalty))(ids, torch.from_numpy(z.copy())).numpy()
    ours = sampling.repetition_penalty(z, history, penalty)
    assert ours.dtype == np.float32
    np.testing.assert_array_equal(ours, theirs)


def test_repetition_penalty_edges():
    z = np.array([2.0, -1.0, -inf, 0.0])
    np.testing.assert_array_equal(sampling.repetition_penalty(z, [0, 1, 2, 3], 2.0), [1.0, -2.0, -inf, 0.0])
    np.testing.assert_array_equal(sampling.repetition_penalty(z, [], 2.0), z)  # nothing said yet: nothing changes
    np.testing.assert_array_equal(sampling.repetition_penalty(z, [0, 1], 1.0), z)
    # only the last N tokens count; 0 turns it off
    np.testing.assert_array_equal(sampling.RepetitionPenalty(2.0, (0, 1), last_n=1)(z), [2.0, -2.0, -inf, 0.0])
    np.testing.assert_array_equal(sampling.RepetitionPenalty(2.0, (0, 1), last_n=0)(z), z)
    with pytest.raises(InputError) as info:
        sampling.repetition_penalty(z, [7], 2.0)
    assert info.value.key == "args.history_range"
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(InputError):
            sampling.repetition_penalty(z, [0], bad)
    with pytest.raises(InputError):
        sampling.repetition_penalty(z, [-1], 2.0)
    with pytest.raises(InputError):
        sampling.repetition_penalty(z, ["a"], 2.0)


@given(vectors, histories, st.floats(0, 2), st.floats(0, 2))
def test_presence_frequency_matches_openai_definition(z, history, presence, frequency):
    history = [h % z.size for h in history]
    out = sampling.presence_frequency_penalty(z, history, presence=presence, frequency=frequency)
    np.testing.assert_allclose(out, ref_presence_frequency(z, history, presence, frequency), rtol=1e-12, atol=1e-12)


def test_presence_frequency_by_hand():
    # token 0 said twice, token 1 once: 2 - (2·0.25 + 0.5) = 1, 1 - (0.25 + 0.5) = 0.25
    np.testing.assert_array_equal(sampling.presence_frequency_penalty([2.0, 1.0, -inf], [0, 0, 1, 2], presence=0.5, frequency=0.25),
                                  [1.0, 0.25, -inf])
    with pytest.raises(InputError):
        sampling.presence_frequency_penalty([1.0], [0], presence=-0.5)


# ------------------------------------------------------------- DRY ----


def ref_dry(vocab, history, multiplier, base, allowed, breakers=(), last_n=-1):
    """The definition: for each earlier end i, the longest common suffix with the whole window, not past a breaker."""
    w = list(history) if last_n < 0 else list(history)[len(history) - last_n:] if last_n else []
    n = len(w)
    out = np.zeros(vocab)
    if multiplier == 0 or n <= allowed:
        return out
    reach = n
    for d in range(n):
        if w[n - 1 - d] in breakers:
            reach = d
            break
    best = {}
    for i in range(n - 1):
        length = 0
        while length <= i and w[i - length] == w[n - 1 - length]:
            length += 1
        length = min(length, reach)
        nxt = w[i + 1]
        if length >= allowed and nxt not in breakers:
            best[nxt] = max(best.get(nxt, 0), length)
    for tok, length in best.items():
        out[tok] = multiplier * base ** (length - allowed)
    return out


def test_dry_worked_example_from_llama_cpp():
    # a b c c b c y a b c: the next c would repeat "a b c" (3), y would repeat "b c" (2); b only repeats "c" (1 < 2)
    h = [0, 1, 2, 2, 1, 2, 3, 0, 1, 2]
    np.testing.assert_allclose(sampling.dry(np.zeros(4), h, multiplier=0.8), [0, 0, -1.4, -0.8])
    # y as a sequence breaker: never penalised, and the match of 3 still fits after it
    np.testing.assert_allclose(sampling.dry(np.zeros(4), h, multiplier=0.8, sequence_breakers=[3]), [0, 0, -1.4, 0])
    np.testing.assert_allclose(sampling.dry(np.zeros(4), h, multiplier=0.8, allowed_length=1), [0, -0.8, -2.45, -1.4])


@given(st.lists(st.integers(0, 3), min_size=0, max_size=30), st.integers(1, 4), st.sampled_from([(), (3,)]),
       st.sampled_from([-1, 5, 12]))
def test_dry_matches_its_definition(history, allowed, breakers, last_n):
    ours = -sampling.dry(np.zeros(4), history, multiplier=0.8, base=1.75, allowed_length=allowed,
                         sequence_breakers=breakers, penalty_last_n=last_n)
    np.testing.assert_allclose(ours + 0.0, ref_dry(4, history, 0.8, 1.75, allowed, breakers, last_n), rtol=1e-12)
    for b in breakers:
        assert ours[b] == 0  # a sequence breaker is never penalised


def test_dry_edges():
    z = np.array([1.0, -inf, 0.5])
    np.testing.assert_array_equal(sampling.dry(z, [], multiplier=0.8), z)
    np.testing.assert_array_equal(sampling.dry(z, [0, 2, 0, 2, 0], multiplier=0.0), z)
    np.testing.assert_array_equal(sampling.dry(z, [0, 1, 0, 1, 0], multiplier=0.8)[1], -inf)  # removed stays removed
    # a long repeat: the exponent stops where float32 would overflow (llama.cpp), never inf
    out = sampling.dry(np.zeros(2), [0, 1] * 100, multiplier=1.0)
    assert np.isfinite(out).all() and out[0] == -(1.75 ** int(88.7228391 / math.log(1.75)))
    with pytest.raises(InputError):
        sampling.dry(z, [0], multiplier=0.8, allowed_length=0)


# ------------------------------------------------------------- XTC ----


def test_xtc_worked_example():
    # p = 0.4 0.3 0.2 0.1, threshold 0.15: 0.4 and 0.3 go, 0.2 (the least likely above) stays
    z = np.log([0.4, 0.3, 0.2, 0.1])
    out = sampling.xtc(z, 0.15, 1.0, rng=0)
    assert kept(out) == {2, 3}
    np.testing.assert_allclose(softmax(out)[2:], [2 / 3, 1 / 3])
    assert kept(sampling.xtc(z, 0.35, 1.0, rng=0)) == {0, 1, 2, 3}  # one token above: nothing to exclude
    assert kept(sampling.xtc(z, 0.15, 0.0, rng=0)) == {0, 1, 2, 3}  # never fires
    assert kept(sampling.xtc(np.log([0.55, 0.45]), 0.6, 1.0, rng=0)) == {0, 1}  # a threshold above 0.5 does nothing
    assert kept(sampling.xtc([0.0], 0.1, 1.0, rng=0)) == {0}
    # ties at the least likely of the top choices are all kept
    assert kept(sampling.xtc(np.log([0.4, 0.25, 0.25, 0.1]), 0.2, 1.0, rng=0)) == {1, 2, 3}


def test_xtc_fires_with_its_probability():
    z = np.log([0.4, 0.3, 0.2, 0.1])
    gen = np.random.default_rng(0)
    fired = sum(not np.isfinite(sampling.xtc(z, 0.15, 0.3, rng=gen)[0]) for _ in range(4000))
    assert abs(fired / 4000 - 0.3) < 0.03  # 5 standard errors
    notes = sampling.XTC(0.15, 1.0, 0).apply(z).notes
    assert notes["fired"] is True


@given(vectors, st.floats(0.01, 0.5))
def test_xtc_removes_exactly_the_top_choices_but_the_last(z, threshold):
    out = sampling.xtc(z, threshold, 1.0, rng=0)
    p = softmax(z)
    above = np.flatnonzero(p >= threshold)
    if above.size >= 2:
        least = p[above].min()
        assert kept(out) == set(np.flatnonzero(p < threshold)) | set(above[p[above] == least])
    else:
        assert kept(out) == kept(z)
    assert np.array_equal(out[np.isfinite(out)], z[np.isfinite(out)])


# ----------------------------------------------- dynamic temperature ----


def test_dynamic_temperature_worked_example():
    z = np.array([2.0, 1.0, 0.5, 0.0])
    unit = sampling.DynamicTemperature(1.0, 0.5)
    p = softmax(z)
    h = -(p * np.log(p)).sum()
    assert float(unit.applied(z)[0]) == pytest.approx(0.5 + 1.0 * h / math.log(4))
    assert float(unit.applied(z)[0]) == pytest.approx(1.300528, abs=1e-6)
    np.testing.assert_allclose(sampling.dynamic_temperature(z, 1.0, 0.5), z / 1.300528, rtol=1e-6)
    np.testing.assert_array_equal(sampling.dynamic_temperature(z, 0.7, 0.0), z / 0.7)  # no range: plain temperature
    np.testing.assert_array_equal(sampling.dynamic_temperature([3.0, -inf], 0.7, 0.5), [3.0, -inf])  # one token: unchanged
    # the entropy is over the tokens still in play: -inf ones do not count in log n
    assert float(sampling.DynamicTemperature(1.0, 0.5).applied(np.array([0.0, 0.0, -inf]))[0]) == pytest.approx(1.5)


@given(vectors, st.floats(0.1, 2.0), st.floats(0.0, 1.5), st.floats(0.2, 3.0))
def test_dynamic_temperature_stays_in_its_range(z, t, r, exponent):
    applied = float(sampling.DynamicTemperature(t, r, exponent).applied(z)[0])
    if z.size == 1 and r > 0:
        assert applied == 1.0  # one token: nothing applied (llama.cpp)
    else:
        assert max(0.0, t - r) - 1e-12 <= applied <= t + r + 1e-12
    out = sampling.dynamic_temperature(z, t, r, exponent)
    assert kept(out) == kept(z) or applied == 0.0


# ---------------------------------------------------------- smoothing ----


def test_smoothing_examples_from_the_webui():
    np.testing.assert_array_equal(sampling.smoothing([2.0, 1.0, 0.0, -inf], 0.5), [2.0, 1.5, 0.0, -inf])
    np.testing.assert_array_equal(sampling.smoothing([2.0, 1.0, 0.0, -inf], 0.5, curve=2.0), [2.0, 1.5, -1.0, -inf])
    np.testing.assert_array_equal(sampling.smoothing([2.0, 1.0, 0.0], 0.5, curve=3.0), [2.0, 1.5, -2.0])  # max + f·d³


@given(vectors, st.floats(0.01, 3.0), st.floats(1.0, 3.0))
def test_smoothing_keeps_the_top_and_the_order(z, factor, curve):
    out = sampling.smoothing(z, factor, curve)
    assert out.max() == z.max()
    order = np.argsort(-z, kind="stable")
    assert np.all(np.diff(out[order]) <= 1e-9 * (1 + np.abs(out[order][1:])))


# -------------------------------------------------------- top-a, TFS ----


def ref_top_a(z, a):
    p = softmax(z)
    return {i for i in range(len(z)) if p[i] >= a * p.max() ** 2}


@given(vectors, st.floats(0.01, 1.0))
def test_top_a_matches_its_definition(z, a):
    assert kept(sampling.top_a(z, a)) == ref_top_a(z, a) | {int(np.argmax(z))}


def test_top_a_example():
    assert kept(sampling.top_a(np.log([0.6, 0.2, 0.12, 0.08]), 0.3)) == {0, 1, 2}  # threshold 0.108


def ref_tail_free(z, zz):
    order = sorted(range(len(z)), key=lambda i: -z[i])
    p = [softmax(z)[i] for i in order]
    d1 = [p[i] - p[i + 1] for i in range(len(p) - 1)]
    d2 = [abs(d1[i] - d1[i + 1]) for i in range(len(d1) - 1)]
    total = sum(d2)
    keep = {order[0]}
    running = 0.0
    for i, d in enumerate(d2):  # sorted position i + 1 stays while the running sum up to i has not passed z
        running += d / total if total > 0 else float("nan")
        if not running > zz:
            keep.add(order[i + 1])
    return keep


@given(hnp.arrays(np.float64, st.integers(2, 30), elements=st.floats(-20, 20), unique=True), st.floats(0.05, 0.99))
def test_tail_free_matches_the_webui(z, zz):
    assert kept(sampling.tail_free(z, zz)) == ref_tail_free(z, zz)


def test_tail_free_edges():
    assert kept(sampling.tail_free([1.0], 0.5)) == {0}
    assert kept(sampling.tail_free([1.0, 0.0], 0.5)) == {0}  # the least likely token is always cut
    assert kept(sampling.tail_free([1.0, 0.0, -1.0], 1.0)) == {0, 1, 2}  # z = 1 turns it off
    assert kept(sampling.tail_free(np.log([0.5, 0.25, 0.15, 0.06, 0.04]), 0.7)) == {0, 1, 2}


# ------------------------------------------------------------- p-less ----


def test_p_less_examples():
    z = np.log([0.5, 0.3, 0.15, 0.05])
    assert kept(sampling.p_less(z)) == {0}  # Σp² = 0.365
    assert kept(sampling.p_less(z, norm=True)) == {0, 1}  # (4·0.365 - 1) / 3 = 0.153
    assert kept(sampling.p_less(np.zeros(4))) == {0, 1, 2, 3}  # uniform: Σp² = 1/V, every token
    assert sampling.PLess().apply(z).threshold == pytest.approx(0.365)


@given(vectors)
def test_p_less_keeps_tokens_at_least_as_likely_as_a_collision(z):
    p = softmax(z)
    top = {i for i in range(z.size) if z[i] == z.max()}  # the most likely token, and any tied with it, always stay
    assert kept(sampling.p_less(z)) == {i for i in range(z.size) if p[i] >= (p * p).sum()} | top


# ----------------------------------------------------------- mirostat ----


def test_mirostat_v2_one_step_by_hand():
    z = np.log(np.array([0.5, 0.3, 0.15, 0.05]))
    m = sampling.Mirostat(tau=1.0, eta=0.5)  # μ = 2: keep surprise <= 2 bits, p >= 0.25
    assert m.mu == 2.0
    token, truncated = m.step(z, rng=0)
    assert kept(truncated) == {0, 1} and token in (0, 1)
    p = {0: 0.5 / 0.8, 1: 0.3 / 0.8}[token]  # renormalised over what was kept
    assert m.mu == pytest.approx(2.0 - 0.5 * (-math.log2(p) - 1.0))


def test_mirostat_v1_k_from_llama_cpp_example():
    m = sampling.Mirostat(5.0, version=1, mu=10.0)
    assert m.top_k(softmax(np.array([3.0, 2.0, 1.0, 0.0]))) == 43  # ŝ = 1.90526, k = 43.03
    assert m.top_k(np.array([1.0])) == 1  # one token: k = 1


@pytest.mark.parametrize("version", [1, 2])
def test_mirostat_holds_the_surprise_near_tau(version):
    ranks = np.arange(1, 2001)
    z = -1.1 * np.log(ranks)  # Zipf-like next-token distribution
    m = sampling.Mirostat(tau=3.0, eta=0.1, version=version)
    gen = np.random.default_rng(0)
    surprises = []
    for _ in range(3000):
        token, truncated = m.step(z, rng=gen)
        surprises.append(-math.log2(softmax(truncated)[token]))
    assert abs(np.mean(surprises[500:]) - 3.0) < 0.25


def test_mirostat_is_reproducible_and_checks_settings():
    z = np.random.default_rng(1).normal(size=50)
    a, b = sampling.Mirostat(3.0), sampling.Mirostat(3.0)
    ga, gb = np.random.default_rng(5), np.random.default_rng(5)
    assert [a.step(z, ga)[0] for _ in range(20)] == [b.step(z, gb)[0] for _ in range(20)]
    assert a.mu == b.mu
    for bad in (dict(tau=0.0), dict(tau=3.0, eta=-1.0), dict(tau=3.0, version=3)):
        with pytest.raises(InputError):
            sampling.Mirostat(**bad)
    with pytest.raises(InputError):
        sampling.Mirostat(3.0).step(np.zeros((2, 3)))


def test_mirostat_pick_is_pure_and_step_is_pick_then_keep():
    z = -1.1 * np.log(np.arange(1, 300))
    m = sampling.Mirostat(tau=3.0, eta=0.3)
    state = m.state
    walked, ga, gb = sampling.Mirostat(tau=3.0, eta=0.3), np.random.default_rng(4), np.random.default_rng(4)
    for _ in range(25):
        token, truncated, state = m.pick(z, state, ga)  # state passed in and returned
        want_token, want_truncated = walked.step(z, gb)  # the same walk kept inside a unit
        assert token == want_token and state == walked.state
        np.testing.assert_array_equal(truncated, want_truncated)
    assert m.state == sampling.MirostatState(6.0) and m.mu == 6.0  # pick left the unit as it was
    assert state.mu != 6.0
    # picking up a generation where it was: the same next token and state as carrying on
    later = sampling.Mirostat(tau=3.0, eta=0.3).at(state)
    g1, g2 = np.random.default_rng(9), np.random.default_rng(9)
    assert later.pick(z, rng=g1)[::2] == m.pick(z, state, g2)[::2]


def test_mirostat_state_after_one_pick_by_hand():
    z = np.log(np.array([0.5, 0.3, 0.15, 0.05]))
    m = sampling.Mirostat(tau=1.0, eta=0.5)
    token, _, after = m.pick(z, sampling.MirostatState(2.0), rng=0)
    p = {0: 0.5 / 0.8, 1: 0.3 / 0.8}[token]
    assert after.mu == pytest.approx(2.0 - 0.5 * (-math.log2(p) - 1.0))
    _, truncated, _ = m.pick(z, sampling.MirostatState(1.0), rng=0)  # μ = 1 bit: only p >= 0.5 survives
    assert kept(truncated) == {0}


def test_only_mirostat_picks_its_token():
    assert [name for name, cls in sampling.FILTERS.items() if cls.picks_token] == ["mirostat"]


# ------------------------------------------------------------- chains ----


def test_orders_hold_every_unit_once():
    for name, order in sampling.ORDERS.items():
        assert sorted(order) == sorted(sampling.FILTERS), name


def test_llama_cpp_default_chain_order():
    # common.h: penalties; dry; top_n_sigma; top_k; typ_p; top_p; min_p; xtc; temperature
    order = sampling.ORDERS["llama.cpp"]
    expected = ["repetition", "dry", "top_n_sigma", "top_k", "typical_p", "top_p", "min_p", "xtc", "temperature"]
    assert [u for u in order if u in expected] == expected


def test_webui_default_priority_order():
    order = sampling.ORDERS["text-generation-webui"]
    expected = ["repetition", "presence", "dry", "top_n_sigma", "temperature", "dynatemp", "smoothing", "top_k", "top_p",
                "typical_p", "epsilon", "eta", "tfs", "top_a", "min_p", "mirostat", "xtc"]
    assert [u for u in order if u in expected] == expected


def test_chain_gives_history_and_rng_to_the_units_that_use_them():
    z = np.log([0.4, 0.3, 0.2, 0.1])
    steps = [("repetition", 2.0), ("xtc", 0.15), ("top_k", 3)]
    a = sampling.chain(z, steps, history=[0], rng=7)
    b = sampling.chain(z, steps, history=[0], rng=7)
    assert [s.name for s in a] == ["repetition", "xtc", "top_k"]
    np.testing.assert_array_equal(a[-1].after, b[-1].after)
    assert a[0].notes["touched"] == 1 and "fired" in a[1].notes
    assert a[0].after[0] == pytest.approx(z[0] * 2.0)  # a negative logit is multiplied
    plain = sampling.chain(z, [("repetition", 2.0)])
    np.testing.assert_array_equal(plain[0].after, z)  # no history given: nothing to penalise


def test_draw_runs_the_chain_then_samples():
    z = np.array([5.0, 4.0, 0.0, -5.0])
    token, final = sampling.draw(z, [("repetition", 100.0), ("top_k", 1)], history=[0], rng=0)
    assert token == 1 and kept(final) == {1}  # token 0 was said: 5 / 100 falls below 4
    # the same seed, the same tokens; a generator carries on
    gen_a, gen_b = np.random.default_rng(3), np.random.default_rng(3)
    assert [sampling.draw(z, [], rng=gen_a)[0] for _ in range(30)] == [sampling.draw(z, [], rng=gen_b)[0] for _ in range(30)]


def test_draw_lets_mirostat_pick_and_learn():
    z = -1.1 * np.log(np.arange(1, 200))
    m = sampling.Mirostat(tau=2.0, eta=0.5)
    gen = np.random.default_rng(0)
    token, truncated = sampling.draw(z, [("temperature", 1.0), m, ("top_k", 1)], rng=gen)
    assert m.mu != 4.0  # it learned from its own pick
    assert np.isfinite(truncated[token])
    assert len(kept(truncated)) > 1  # the top-k after mirostat was not applied: mirostat ends the chain


@pytest.mark.parametrize("base", [1e39, 1e300, 1e308, 3.0, 1.000001])
def test_dry_penalty_is_capped_never_an_overflow(base):
    # llama.cpp caps the exponent where multiplier · base^exponent would pass the largest float32; a base so large
    # that the cap is 0 overflowed here (OverflowError) or gave -8e233: now the penalty stops at float32's maximum
    fmax = float(np.finfo(np.float32).max)
    for history in ([0, 1, 2, 0, 1, 2, 0, 1, 2], [0, 1, 2, 2, 1, 2, 3, 0, 1, 2], [0, 1] * 200):
        out = sampling.dry(np.zeros(4), history, multiplier=0.8, base=base)
        assert np.isfinite(out).all() and (out >= -fmax).all()
        expected = ref_dry(4, history, 0.8, base, 2) if base < 10 and len(history) < 20 else None
        if expected is not None:
            np.testing.assert_allclose(-out, np.minimum(expected, fmax), rtol=1e-12)


@given(st.lists(st.integers(0, 2), min_size=0, max_size=300), st.integers(1, 5), st.sampled_from([(), (2,)]))
def test_the_linear_dry_equals_the_quadratic_definition_on_long_histories(history, allowed, breakers):
    ours = -sampling.dry(np.zeros(3), history, multiplier=0.5, base=1.1, allowed_length=allowed, sequence_breakers=breakers)
    np.testing.assert_allclose(ours + 0.0, ref_dry(3, history, 0.5, 1.1, allowed, breakers), rtol=1e-12)


def test_dry_on_a_long_history_is_linear():
    # 100,000 tokens of one repeated token: the quadratic definition took minutes; the Z-algorithm one pass
    out = sampling.dry(np.zeros(3), [1] * 100_000, multiplier=0.8)
    assert out[1] == -0.8 * 1.75 ** int(88.7228391 / math.log(1.75)) and out[0] == out[2] == 0.0


def test_a_unit_from_its_own_number_keeps_the_class_defaults_for_the_rest():
    # from_setting (used by build_chain, pipeline, draw with ("name", value) steps) fills only the unit's own number:
    # the page's starting values for the other settings (frequency 0.25, a dynamic range of 0.5) are not the library's
    dyn, pres = sampling.build_chain([("dynatemp", 1.0), ("presence", 0.5)])
    assert dyn.range_ == 0.0 and dyn.exponent == 1.0 and pres.frequency == 0.0 and pres.last_n == -1
    np.testing.assert_array_equal(sampling.pipeline([3.0, 2.0, 1.0, 0.0], {"dynatemp": 1.0})[-1].after, [3.0, 2.0, 1.0, 0.0])
    assert sampling.draw([3.0, 2.0, 1.0, 0.0], [("presence", 0.5)], history=[0, 0], rng=0)[1].tolist() == [2.5, 2.0, 1.0, 0.0]
    # the settings a control starts at are the Setting's defaults, used by from_settings
    assert sampling.PresenceFrequency.from_settings({"presence": 0.5}).frequency == 0.25


NEW_UNIT = '''

@dataclass(frozen=True)
class KeepNearTop(Filter):
    """Keep the tokens within ``ratio`` of the most likely one's probability."""

    ratio: float

    name: ClassVar[str] = "keep_near_top"
    settings: ClassVar[tuple[Setting, ...]] = (Setting("keep_near_top", "ratio", 0.5, 0.01, 1.0, 0.01, "%.2f"),)

    def _cut(self, z):
        p = np.exp(z - z.max(axis=-1, keepdims=True))
        return Cut(np.where(p >= self.ratio, z, -np.inf), self.ratio)
'''


def test_a_unit_added_to_one_module_joins_the_registry_and_every_order(tmp_path):
    # the change docs/architecture.md describes, made to a copy of the package: one class appended to filters.py
    copy = tmp_path / "logitsviz"
    shutil.copytree(Path(sampling.__file__).parents[1], copy, ignore=shutil.ignore_patterns("models", "__pycache__"))
    with open(copy / "sampling" / "filters.py", "a", encoding="utf-8") as f:
        f.write(NEW_UNIT)
    script = ("from logitsviz import sampling\n"
              "assert sampling.FILTERS['keep_near_top'].__name__ == 'KeepNearTop'\n"
              "assert all(order[-1] == 'keep_near_top' for order in sampling.ORDERS.values())\n"
              "print(sampling.chain([2.0, 1.9, 0.0], [('keep_near_top', 0.5)])[-1].after.tolist())\n")
    run = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[2.0, 1.9, -inf]"
