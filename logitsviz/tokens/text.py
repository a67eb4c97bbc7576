"""Token text as a person reads it: tokenizer pieces back to bytes, bytes to text, partial characters marked.

Byte-level BPE tokenizers (GPT-2, Llama 3, Qwen) store each token as a
string in a 256-character alphabet that stands for bytes (``Ġ`` is a space,
``æĺ`` two bytes of a Chinese character). SentencePiece tokenizers (Llama 2,
Mistral) write a space as ``▁`` and fall back to byte tokens ``<0xE6>``.
Shown as they are stored, these read as mojibake; here they become bytes,
and bytes become text. A token that holds only part of a multi-byte UTF-8
character is shown as its bytes, ``⟨e6 98⟩``, never as replacement marks or
Latin-1 letters.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

__all__ = ["Piece", "byte_level_bytes", "display", "pieces", "sentencepiece_bytes", "unique", "visible"]

_VISIBLE = str.maketrans({" ": "␣", "\n": "↵", "\t": "⇥", "\r": "␍"})
_SP_BYTE = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # invisible control characters: shown as their byte


_THIN = "\u2009"  # between the bytes of a marker: a thin space, so showing blanks as ␣ leaves markers alone


def _hex(exc: UnicodeDecodeError) -> tuple[str, int]:
    """A codec error handler: undecodable bytes become ``⟨e6 98⟩``."""
    return "⟨" + _THIN.join(f"{b:02x}" for b in exc.object[exc.start : exc.end]) + "⟩", exc.end


codecs.register_error("logitsviz-hex", _hex)


@cache
def _byte_level_table() -> dict[str, int]:
    """GPT-2's byte ↔ character table, inverted: the printable bytes stand for themselves, the others map above 255."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table = {chr(b): b for b in printable}
    extra = 0
    for b in range(256):
        if b not in printable:
            table[chr(256 + extra)] = b
            extra += 1
    return table


def byte_level_bytes(piece: str) -> bytes | None:
    """The bytes a byte-level BPE token stands for; None if a character is outside the byte alphabet (a special token).

    Special tokens (``<|endoftext|>``) are spelt in printable ASCII, which the
    alphabet maps to itself: callers tell them apart by the tokenizer's list
    of special tokens, not here.

    >>> byte_level_bytes("Ġcat"), byte_level_bytes("æĺ¯").decode("utf-8"), byte_level_bytes("猫")
    (b' cat', '是', None)
    """
    table = _byte_level_table()
    try:
        return bytes(table[ch] for ch in piece)
    except KeyError:
        return None


def sentencepiece_bytes(piece: str) -> bytes:
    """The bytes of a SentencePiece token: ``▁`` is a space, ``<0xE6>`` the byte 0xE6.

    >>> sentencepiece_bytes("▁cat"), sentencepiece_bytes("<0xE6>")
    (b' cat', b'\\xe6')
    """
    m = _SP_BYTE.match(piece)
    if m:
        return bytes([int(m.group(1), 16)])
    return piece.replace("▁", " ").encode("utf-8")


def display(data: bytes, *, visible_space: bool = True) -> str:
    """A token's bytes as text: UTF-8, with bytes that are no whole character shown as ``⟨e6 98⟩``.

    With ``visible_space`` a space is ``␣``, a new line ``↵`` and a tab ``⇥``, so a
    chart label shows where a token's blanks are.

    >>> display("是".encode()[:2]), display(b" cat"), display(" 是".encode()), display(b"\\x07")
    ('⟨e6\u200998⟩', '␣cat', '␣是', '⟨07⟩')
    """
    text = _CONTROL.sub(lambda m: f"⟨{ord(m.group()):02x}⟩", data.decode("utf-8", errors="logitsviz-hex"))
    return visible(text) if visible_space else text


def visible(text: str) -> str:
    """A token's text with its blanks shown as :func:`display` shows them: ``visible(" Paris") == "␣Paris"``.

    >>> visible(" Paris"), visible("a\\nb"), visible("是")
    ('␣Paris', 'a↵b', '是')
    """
    return text.translate(_VISIBLE)


@dataclass(frozen=True)
class Piece:
    """One token of a sequence as it reads in place."""

    text: str  # the characters this token completes; its own bytes as ⟨..⟩ when it completes none
    partial: bool  # it holds bytes of a character that a later token completes (or that is never completed)
    bytes_only: bool = False  # ``text`` is the ⟨..⟩ marker of its bytes, not characters


def pieces(token_bytes: Iterable[bytes], *, visible_space: bool = False) -> list[Piece]:
    """Each token of a sequence as text, a character split across tokens shown once, on the token that completes it.

    UTF-8 is decoded incrementally: a token that only starts a character
    shows its bytes (``⟨e6 98⟩``) and is marked ``partial``; the token that
    ends it shows the whole character. Bytes that never form a character
    stay as ``⟨..⟩``. Joining the texts of the pieces that are not
    ``bytes_only`` gives the text back.

    >>> [(p.text, p.partial) for p in pieces([b"\\xe6\\x98", b"\\xaf", b"!"])]
    [('⟨e6\u200998⟩', True), ('是', False), ('!', False)]
    """
    decoder = codecs.getincrementaldecoder("utf-8")(errors="logitsviz-hex")
    out = []
    for data in token_bytes:
        text = _CONTROL.sub(lambda m: f"⟨{ord(m.group()):02x}⟩", decoder.decode(data, final=False))
        pending = bool(decoder.getstate()[0])
        marker = not text and bool(data)
        if marker:
            text = display(data, visible_space=False)  # only the start of a character: show what it holds
        out.append(Piece(text.translate(_VISIBLE) if visible_space else text, pending, marker))
    return out


def unique(labels: Sequence[str], ids: Sequence[int] | None = None) -> list[str]:
    """Labels made distinct: a repeat gets its token id (``␣the #1820``); the first keeps its text.

    >>> unique(["a", "b", "a"])
    ['a', 'b', 'a #2']
    """
    seen: set[str] = set()
    out = []
    for i, label in enumerate(labels):
        while label in seen:
            label = f"{label} #{ids[i] if ids is not None else i}"
        seen.add(label)
        out.append(label)
    return out
