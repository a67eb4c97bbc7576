"""Reading token log-probabilities from API and server responses: every format, bad input, fuzzing."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from logitsviz import InputError, tokens
from tests.logprob_fixtures import ALL, LEGACY, OPENAI_CHAT


def _text(doc) -> str:
    return doc if isinstance(doc, str) else json.dumps(doc, ensure_ascii=False)


@pytest.mark.parametrize("name", sorted(ALL))
def test_each_format(name):
    doc, expect = ALL[name]
    seq = tokens.read_logprobs(_text(doc))
    assert seq.source == expect["source"]
    assert seq.tokens == expect["tokens"]
    np.testing.assert_allclose(seq.logprobs, expect["logprobs"], rtol=1e-12)
    known = np.array([v for v in expect["logprobs"] if math.isfinite(v)])
    assert seq.perplexity == pytest.approx(math.exp(-known.mean()))
    # bytes and str give the same answer
    assert tokens.read_logprobs(_text(doc).encode()).tokens == seq.tokens


def test_chinese_and_emoji_are_assembled_from_bytes():
    seq = tokens.read_logprobs(json.dumps(OPENAI_CHAT))
    assert seq.text.replace("⟨e6\u200998⟩", "").replace("⟨f0\u20099f⟩", "") == "这是🐱"
    assert [p.partial for p in seq.positions] == [False, True, False, True, False]
    assert not any(ch in seq.text for ch in "æð\\")  # no mojibake, no "bytes:\\xe6" escapes


def test_alternatives_best_first_and_the_rest():
    seq = tokens.read_logprobs(json.dumps(OPENAI_CHAT))
    first = seq.positions[0]
    assert first.top == (("这", math.log(0.6)), ("那", math.log(0.3)))
    assert first.rest == pytest.approx(0.1)
    legacy = tokens.read_logprobs(json.dumps(LEGACY))
    assert [t for t, _ in legacy.top[1]] == ["␣city", "␣capital"]  # sorted by log-probability


def test_entropy_bounds_by_hand():
    # listed: 0.6 and 0.3, rest 0.1: at least spread as one token of 0.1 (no likelier than 0.3), at most over 199,998 tokens
    seq = tokens.read_logprobs(json.dumps(OPENAI_CHAT))
    low, high = seq.entropy_bounds(200_000)
    known = -(0.6 * math.log2(0.6) + 0.3 * math.log2(0.3))
    assert low[0] == pytest.approx(known - 0.1 * math.log2(0.1))
    assert high[0] == pytest.approx(known - 0.1 * math.log2(0.1 / 199_998))
    # everything listed: the entropy is known exactly
    full = tokens.read_logprobs(json.dumps([{"token": "a", "logprob": math.log(0.5),
                                             "top_logprobs": [{"token": "a", "logprob": math.log(0.5)},
                                                              {"token": "b", "logprob": math.log(0.5)}]}]))
    assert full.entropy_bounds()[0][0] == pytest.approx(1.0) == full.entropy_bounds()[1][0]


@given(st.lists(st.floats(0.01, 1.0), min_size=1, max_size=6), st.integers(10, 100_000))
def test_entropy_bounds_hold_for_distributions_that_fit(listed, vocab):
    p = np.sort(np.array(listed))[::-1]
    p = p / (p.sum() * 1.25)  # the listed tokens carry 80%
    rest = 1 - p.sum()
    assume(vocab * p.min() >= rest)  # the unlisted mass must fit in the vocabulary at no more than the least listed each
    entry = [{"token": "x", "logprob": float(np.log(p[0])),
              "top_logprobs": [{"token": str(i), "logprob": float(np.log(v))} for i, v in enumerate(p)]}]
    low, high = tokens.read_logprobs(json.dumps(entry)).entropy_bounds(vocab + p.size)
    # two completions the listed part allows: the rest in as few tokens as possible, and evenly over the vocabulary
    few = np.r_[p, [p.min()] * int(rest // p.min()), rest % p.min()]
    even = np.r_[p, [rest / vocab] * vocab]
    # (spread evenly is a completion only while no unlisted token outranks the least listed one)
    for q in (few, even) if rest / vocab <= p.min() else (few,):
        q = q[q > 0]
        h = float(-(q * np.log2(q)).sum())
        assert low[0] - 1e-9 <= h <= high[0] + 1e-9


@pytest.mark.parametrize(
    ("doc", "where"),
    [
        ({"choices": [{"logprobs": {"content": [{"token": "a", "logprob": -1, "top_logprobs": [{"token": 3, "logprob": -1}]}]}}]},
         "choices[0].logprobs.content[0].top_logprobs[0].token"),
        ({"choices": [{"logprobs": {"content": [{"token": "a", "logprob": "x"}]}}]}, "choices[0].logprobs.content[0].logprob"),
        ({"choices": [{"logprobs": {"content": {"token": "a"}}}]}, "choices[0].logprobs.content"),
        ({"choices": [{"logprobs": {"content": [{"token": "a", "logprob": -1, "bytes": [300]}]}}]}, "choices[0].logprobs.content[0].bytes"),
        ({"completion_probabilities": [{"token": "a"}]}, "completion_probabilities[0].logprob"),
        ({"output": [{"content": [{"logprobs": [{"logprob": -1}]}]}]}, "output[0].content[0].logprobs[0].token"),
        ({"choices": [{"logprobs": {"tokens": ["a"], "token_logprobs": [True]}}]}, "choices[0].logprobs.token_logprobs[0]"),
    ],
)
def test_a_bad_field_is_named_by_its_place(doc, where):
    with pytest.raises(InputError) as info:
        tokens.read_logprobs(json.dumps(doc))
    assert info.value.key == "tokens.bad_field" and info.value.params["where"] == where
    assert where in str(info.value)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "input.empty"),
        ("{not json", "tokens.not_json"),
        ('{"choices": [{"message": {"content": "hi"}, "logprobs": null}]}', "tokens.empty"),
        ('{"model": "x", "response": "hi"}', "tokens.unknown"),
        ("[1, 2, 3]", "tokens.unknown"),
        ('{"choices": [{"logprobs": {"content": []}}]}', "tokens.empty"),
    ],
)
def test_other_bad_input(text, key):
    with pytest.raises(InputError) as info:
        tokens.read_logprobs(text)
    assert info.value.key == key


def test_choice_out_of_range():
    with pytest.raises(InputError) as info:
        tokens.read_logprobs(json.dumps(OPENAI_CHAT), choice=3)
    assert info.value.key == "tokens.no_choice"


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["choices", "logprobs", "content", "token", "logprob", "bytes", "top_logprobs", "tokens", "token_logprobs",
                         "output", "completion_probabilities", "probs", "tok_str", "prob", "top_probs", "x"]), children, max_size=5),
    max_leaves=25,
)


@settings(max_examples=400)
@given(json_values)
def test_readers_only_raise_input_error(doc):
    try:
        seq = tokens.read_logprobs(json.dumps(doc))
    except InputError:
        return
    assert len(seq.tokens) == seq.logprobs.size > 0


@settings(max_examples=200)
@given(st.text(max_size=200))
def test_any_text_only_raises_input_error(text):
    try:
        tokens.read_logprobs(text)
    except InputError:
        pass
