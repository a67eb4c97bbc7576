"""Hostile input for every reader and every sampler setting: InputError, or a finite and sane result; nothing else.

Generated documents (real responses with fields replaced, removed or nested
wrongly), generated settings (every field of every sampler unit, from NaN to
1e308), generated command lines. The time each takes is printed by
``python -m benchmarks.fuzz``; tests never assert a time.
"""

from __future__ import annotations

import inspect
import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logitsviz import InputError, inputs, sampling, tokens
from tests.logprob_fixtures import ALL, mutate, paths

# --------------------------------------------------------------- documents ----

JSON_LEAF = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.text(max_size=6),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([1e308, -1e308, 256, -9999.0, 1e-3, 0.0011, -0.0, 5e-324]),
)
JSON_ANY = st.recursive(JSON_LEAF, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                           st.dictionaries(st.text(max_size=5), inner, max_size=3)), max_leaves=8)


def _sane(seq: tokens.LogprobSequence) -> None:
    lp = seq.logprobs
    assert lp.shape == (len(seq.positions),) and len(seq.positions) > 0
    assert not (lp > 0).any()  # a log-probability is never above 0 (rounding is clipped)
    for p in seq.positions:
        assert isinstance(p.text, str)
        assert all(isinstance(t, str) and (math.isnan(v) or v <= 0) for t, v in p.top)
    assert math.isnan(seq.perplexity) or seq.perplexity >= 1.0
    str(seq.warnings)


DOCS = {name: doc for name, (doc, _) in ALL.items() if not isinstance(doc, str)}


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(DOCS)), st.data(), st.sampled_from(["replace", "replace", "delete", "wrap", "dict"]), JSON_ANY)
def test_mutated_responses_are_read_or_refused(name, data, action, value):
    doc = DOCS[name]
    places = list(paths(doc))
    path = data.draw(st.sampled_from(places))
    mutated = mutate(doc, path, action, value)
    try:
        text = json.dumps(mutated, ensure_ascii=False, allow_nan=True)
    except (ValueError, OverflowError):
        return
    try:
        seq = tokens.read_logprobs(text)
    except InputError:
        return
    _sane(seq)


@settings(max_examples=300)
@given(st.sampled_from(sorted(DOCS)), st.integers(1, 40), st.booleans())
def test_streams_cut_or_interleaved_are_read_or_refused(name, cut, as_sse):
    doc = json.dumps(DOCS[name], ensure_ascii=False)
    lines = [doc[:cut], doc[cut:], doc] if as_sse else [doc, doc[: len(doc) // 2]]
    text = "\n".join(("data: " + line) if as_sse else line for line in lines)
    try:
        seq = tokens.read_logprobs(text)
    except InputError:
        return
    _sane(seq)


@settings(max_examples=300)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_are_read_or_refused(data):
    try:
        seq = tokens.read_logprobs(data)
    except InputError:
        return
    _sane(seq)


def test_a_legacy_document_with_a_string_or_list_logprob_is_refused():
    # found by a hostile-input run: ValueError and TypeError escaped
    for value in ("oops", [1, 2], {"a": 1}, True):
        doc = {"object": "text_completion", "choices": [{"text": "a", "logprobs": {"tokens": ["a"], "token_logprobs": [value]}}]}
        with pytest.raises(InputError) as err:
            tokens.read_logprobs(json.dumps(doc))
        assert "choices[0].logprobs.token_logprobs[0]" in str(err.value)


@pytest.mark.parametrize("value", [1e308, 256, 0.5, float("nan")])
def test_a_logprob_that_cannot_be_one_is_refused_with_its_place(value):
    doc = {"logprobs": [{"token": "Hi", "logprob": -0.1}, {"token": "!", "logprob": value}]}
    with pytest.raises(InputError) as err:
        tokens.read_logprobs(json.dumps(doc, allow_nan=True))
    assert err.value.key == "tokens.bad_logprob" and "logprobs[1].logprob" in str(err.value)


def test_a_logprob_within_rounding_of_zero_is_read_as_zero():
    seq = tokens.read_logprobs(json.dumps({"logprobs": [{"token": "Hi", "logprob": 0.0004}]}))
    assert seq.logprobs.tolist() == [0.0]


# --------------------------------------------------------------- samplers ----

SETTING = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**12), 10**12), st.booleans(), st.none(),
    st.sampled_from([0, 1, -1, 0.5, 1e-300, 1e308, 1e39, 2**31, 2**63]), st.text(max_size=3),
    st.lists(st.integers(-3, 40), max_size=40).map(tuple),
)
LOGITS = st.one_of(
    st.lists(st.floats(-1e4, 1e4), min_size=1, max_size=40).map(np.array),
    st.lists(st.sampled_from([0.0, 1.0, -np.inf, 1e300, -1e300, 3.5]), min_size=1, max_size=12).map(np.array),
    st.integers(1, 30).map(lambda n: np.random.default_rng(n).normal(size=(2, n)).astype(np.float32)),
)


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(sampling.FILTERS)), st.data(), LOGITS)
def test_every_setting_of_every_sampler(name, data, logits):
    cls = sampling.FILTERS[name]
    params = inspect.signature(cls).parameters
    kwargs = {p: data.draw(SETTING, label=p) for p in params if p != "rng"}
    if "rng" in params:
        kwargs["rng"] = data.draw(st.one_of(st.none(), st.integers(0, 2**32 - 1)), label="rng")
    try:
        unit = cls(**kwargs)
        out = unit(logits)
    except InputError:
        return
    assert out.shape == np.shape(logits)
    assert not np.isnan(out).any(), (name, kwargs)  # finite or masked (-inf), never NaN from finite logits
    assert not (out == np.inf).any()
    kept = np.isfinite(out).any(axis=-1)
    assert kept.all() or not np.isfinite(logits).any(axis=-1)[~kept].any(), (name, kwargs)  # one token always stays


@settings(max_examples=200)
@given(st.lists(st.integers(0, 5), max_size=2000), st.floats(0, 5), st.floats(0, 1e40), st.integers(1, 10))
def test_dry_on_any_history_and_settings(history, multiplier, base, allowed):
    out = sampling.dry(np.zeros(6), history, multiplier=multiplier, base=base, allowed_length=allowed)
    assert np.isfinite(out).all() and (out <= 0).all()


# ---------------------------------------------------------------- files ----

@settings(max_examples=300)
@given(st.binary(max_size=400), st.sampled_from(["a.npy", "a.npz", "a.csv", "a.tsv", "a.json", "a.txt", "a.bin"]))
def test_any_file_is_read_or_refused(data, name):
    try:
        out = inputs.load_array(data, name)
    except InputError:
        return
    assert isinstance(out, np.ndarray) and not np.isnan(out).any() and not (out == np.inf).any()


# ---------------------------------------------------------------- the command line ----

ARGS = st.lists(st.one_of(st.sampled_from(["softmax", "calibrate", "tokens", "lm", "--json", "-t", "0", "-1", "nan", "inf", "--top",
                                           "--bins", "0", "1e999", "--temperature", "--labels", "--choice", "99", "-", "--server",
                                           "http://10.0.0.1", "--max-tokens", "--api", "chat", "x.npy"]),
                          st.text(max_size=5)), max_size=6)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(argv=ARGS)
def test_any_command_line_ends_with_a_code_not_a_traceback(argv, capsys, monkeypatch):
    import io
    import sys

    from logitsviz.__main__ import main

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"1, 2, 3")))
    if "app" in argv:
        return
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own usage errors exit 2 with a one-line message
        code = exc.code
    assert code in (0, 2), argv
    capsys.readouterr()


@settings(max_examples=300)
@given(st.binary(max_size=300), st.sampled_from(["e.npy", "e.npz", "e.csv", "e.txt"]), st.one_of(st.none(), st.binary(max_size=80)),
       st.sampled_from(["y.npy", "y.csv", "y.txt"]))
def test_any_evaluation_set_is_read_or_refused(data, name, labels, labels_name):
    from logitsviz import calibration

    try:
        z, y = inputs.read_eval_set(data, name, labels, labels_name if labels is not None else None)
        z, y = calibration.validate(z, y)
    except InputError:
        return
    assert z.ndim == 2 and y.shape == (z.shape[0],) and not np.isnan(z).any()


@settings(max_examples=200)
@given(st.lists(st.floats(-5, 5), min_size=2, max_size=8), st.integers(1, 6))
def test_a_numeric_evaluation_set_always_reads(row, n):
    # the property's other side: well-formed sets are read, not refused
    z = np.array([row] * n)
    y = np.arange(n) % len(row)
    text = "\n".join(",".join(repr(float(v)) for v in r) + f",{label}" for r, label in zip(z, y)).encode()
    got_z, got_y = inputs.read_eval_set(text, "eval.csv")
    np.testing.assert_allclose(got_z, z)
    np.testing.assert_array_equal(got_y, y)
