"""Token text: byte-level and SentencePiece pieces to bytes, bytes to text, characters split across tokens."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from logitsviz import tokens

# GPT-2's published table, written out independently: printable bytes stand for themselves, the rest shift above 255
_PRINTABLE = [*range(33, 127), *range(161, 173), *range(174, 256)]


def _gpt2_encode(data: bytes) -> str:
    extra = {b: 256 + i for i, b in enumerate(b for b in range(256) if b not in _PRINTABLE)}
    return "".join(chr(b) if b in _PRINTABLE else chr(extra[b]) for b in data)


@given(st.binary(max_size=40))
def test_byte_level_round_trip(data):
    assert tokens.byte_level_bytes(_gpt2_encode(data)) == data


def test_byte_level_known_pieces():
    assert tokens.byte_level_bytes("Ġ") == b" " and tokens.byte_level_bytes("Ċ") == b"\n"
    assert tokens.byte_level_bytes("ä»Ĭ").decode() == "今"  # what a naive view shows as "ä»Ĭ"
    assert tokens.byte_level_bytes("中") is None  # not a byte-level piece


def test_sentencepiece_pieces():
    assert tokens.sentencepiece_bytes("▁the") == b" the"
    assert tokens.sentencepiece_bytes("<0x0A>") == b"\n"
    assert tokens.sentencepiece_bytes("▁中") == " 中".encode()


def test_display_marks_partial_characters_and_blanks():
    emoji = "🐱".encode()  # four bytes
    assert tokens.display(emoji) == "🐱"
    assert tokens.display(emoji[:3]) == "⟨f0\u20099f\u200990⟩"
    assert tokens.display(b"a\tb\n") == "a⇥b↵"
    assert tokens.display(b" x", visible_space=False) == " x"
    assert tokens.display(b"\xff") == "⟨ff⟩"


def test_pieces_put_a_split_character_on_the_token_that_completes_it():
    data = "今天 🐱!".encode()
    cuts = [b"\xe4\xbb", b"\x8a\xe5", b"\xa4\xa9 ", b"\xf0\x9f", b"\x90", b"\xb1!"]
    assert b"".join(cuts) == data
    got = tokens.pieces(cuts)
    assert [p.text for p in got] == ["⟨e4\u2009bb⟩", "今", "天 ", "⟨f0\u20099f⟩", "⟨90⟩", "🐱!"]
    assert [p.partial for p in got] == [True, True, False, True, True, False]
    assert [p.bytes_only for p in got] == [True, False, False, True, True, False]


@given(st.text(st.characters(blacklist_categories=("Cc", "Cs")) | st.sampled_from("\n\t"), max_size=30), st.data())
def test_pieces_give_the_text_back_however_it_is_cut(text, data):
    raw = text.encode()
    cuts = sorted(data.draw(st.lists(st.integers(0, len(raw)), max_size=12)))
    parts = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)])]
    got = tokens.pieces(parts)
    assert "".join(p.text for p in got if not p.bytes_only) == text
    assert not any(p.partial for p in got[-1:] if parts[-1])  # the text ends whole


def test_unique_labels():
    assert tokens.unique(["a", "a", "a #1"], ids=[0, 1, 2]) == ["a", "a #1", "a #1 #2"]
    labels = tokens.unique(["x"] * 5)
    assert len(set(labels)) == 5 and np.all([lab.startswith("x") for lab in labels])


def test_invisible_control_characters_show_as_their_code():
    assert [p.text for p in tokens.pieces([b"a\x07", b"\x1b[0m"])] == ["a⟨07⟩", "⟨1b⟩[0m"]
    assert tokens.display(b"\x00\x7f") == "⟨00⟩⟨7f⟩"


def test_an_alternative_whose_probability_underflows_gives_finite_entropy_bounds():
    # a listed alternative with logprob -800 has probability 0 in float64: it bounded the unlisted tokens by 0 and
    # divided by it (ZeroDivisionError on the Tokens page and in `logitsviz tokens`)
    doc = {"choices": [{"logprobs": {"content": [
        {"token": "Hi", "logprob": -0.7, "top_logprobs": [{"token": "Hi", "logprob": -0.7}, {"token": "Yo", "logprob": -800.0}]},
    ]}}]}
    seq = tokens.read_logprobs(json.dumps(doc))
    low, high = seq.entropy_bounds()
    p = np.exp(-0.7)
    known = -p * np.log2(p)
    assert np.isfinite(low).all() and np.isfinite(high).all() and low[0] <= high[0]
    # the least spread the unlisted mass can be: tokens no likelier than the least listed one with a probability (p),
    # so one of p and the remainder
    rest = 1 - p
    n = int(rest // p)
    r = rest - n * p
    assert n == 1 and low[0] == pytest.approx(known - n * p * np.log2(p) - r * np.log2(r), rel=1e-12)
