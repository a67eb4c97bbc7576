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
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from logitsviz.config import limits
from logitsviz.errors import InputError

__all__ = [
    "LogprobSequence",
    "Piece",
    "Position",
    "read_logprobs",
    "byte_level_bytes",
    "display",
    "pieces",
    "sentencepiece_bytes",
    "unique",
]

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


# ------------------------------------------------ log-probabilities from APIs ----

SENTINEL = -9999.0  # OpenAI's logprob for a chosen token outside the top 20: "very unlikely", not a number


@dataclass(frozen=True)
class Position:
    """One token of a response: what it was, how likely, and the alternatives the API listed."""

    text: str  # as it reads in place (UTF-8 assembled from the bytes when the API gives them)
    partial: bool  # holds bytes of a character a later token completes
    logprob: float  # NaN when the API only says the token was outside its top list
    top: tuple[tuple[str, float], ...]  # alternatives with log-probabilities, best first
    entropy_bits: float | None = None  # exact, when the whole distribution was known (a local model); else bounds

    @property
    def rest(self) -> float:
        """Probability of every token the API did not list: ``1 - Σ exp(top)`` (never below 0)."""
        return max(0.0, 1.0 - sum(math.exp(lp) for _, lp in self.top))


@dataclass(frozen=True)
class LogprobSequence:
    """Token log-probabilities of a response, read from any format :func:`read_logprobs` knows."""

    source: str  # the format detected, e.g. "openai-chat"
    positions: tuple[Position, ...]

    @property
    def tokens(self) -> list[str]:
        return [p.text for p in self.positions]

    @property
    def logprobs(self) -> np.ndarray:
        return np.array([p.logprob for p in self.positions], dtype=np.float64)

    @property
    def top(self) -> list[list[tuple[str, float]]]:
        return [list(p.top) for p in self.positions]

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.positions)

    @property
    def perplexity(self) -> float:
        """``exp(-mean(logprobs))`` over the tokens whose log-probability is known."""
        lp = self.logprobs
        known = lp[np.isfinite(lp)]
        return float(np.exp(-known.mean())) if known.size else float("nan")

    def entropy_bounds(self, vocab_size: int = 200_000) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds (bits) on each position's entropy, knowing only its listed alternatives.

        The unlisted mass ``r`` is at least as spread as tokens no likelier
        than the least listed one allow (the lower bound), and at most spread
        evenly over the rest of a ``vocab_size``-token vocabulary (the upper
        bound). Equal when the listed alternatives carry all the mass.
        """
        bounds = np.array([(p.entropy_bits, p.entropy_bits) if p.entropy_bits is not None
                           else _entropy_bounds([lp for _, lp in p.top], vocab_size) for p in self.positions]).reshape(-1, 2)
        return bounds[:, 0], bounds[:, 1]


def _entropy_bounds(top: list[float], vocab_size: int) -> tuple[float, float]:
    p = np.exp(np.array(top, dtype=np.float64))
    known = float(-np.sum(p * np.log2(np.where(p > 0, p, 1.0))))
    rest = max(0.0, 1.0 - float(p.sum()))
    if rest <= 1e-12 or p.size == 0:
        return (known, known) if p.size else (float("nan"), float("nan"))
    largest = float(p.min())  # an unlisted token is no likelier than the least listed one
    n = math.floor(rest / largest)
    remainder = rest - n * largest
    low = known - n * largest * math.log2(largest) - (remainder * math.log2(remainder) if remainder > 0 else 0.0)
    others = max(1, vocab_size - p.size)
    return low, known - rest * math.log2(rest / others)


def read_logprobs(data: bytes | str, *, choice: int = 0) -> LogprobSequence:
    """Token log-probabilities from the response of an LLM API or server, its format detected.

    Formats (each read as the project documents it):

    - OpenAI Chat Completions, and servers compatible with it (vLLM, llama.cpp's
      ``/v1/chat/completions``): ``choices[i].logprobs.content[]`` with ``token``,
      ``logprob``, ``bytes``, ``top_logprobs``; a logprob of -9999 means
      "outside the top 20" and is read as unknown;
    - OpenAI Responses: ``output[].content[].logprobs[]``;
    - legacy Completions (and vLLM's): ``choices[i].logprobs`` with ``tokens``,
      ``token_logprobs``, ``top_logprobs`` (one object per token);
    - llama.cpp server ``/completion`` with ``n_probs``: ``completion_probabilities[]``,
      the current form (``token``, ``logprob``, ``top_logprobs``; or ``prob`` and
      ``top_probs`` with ``post_sampling_probs``) and the older one (``content``,
      ``probs: [{tok_str, prob}]``);
    - Ollama ``/api/generate`` and ``/api/chat`` with ``logprobs``: a top-level
      ``logprobs`` list;
    - a bare list of ``{token, logprob, top_logprobs}`` entries.

    A streamed response (server-sent events ``data: {...}`` or one JSON object
    a line) is read chunk by chunk and joined.

    Raises
    ------
    InputError
        Not JSON, a format it does not know, or a field of the wrong type:
        the message names the place, e.g. ``choices[0].logprobs.content[3].top_logprobs``.

    Examples
    --------
    >>> seq = read_logprobs('{"logprobs": [{"token": "Hi", "logprob": -0.1, "top_logprobs": [{"token": "Hi", "logprob": -0.1}]}]}')
    >>> seq.source, seq.tokens, seq.logprobs.round(2).tolist()
    ('ollama', ['Hi'], [-0.1])
    """
    text = data.decode("utf-8-sig", errors="replace") if isinstance(data, bytes) else data.lstrip("\ufeff")
    if len(text) > _MAX_CHARS:
        raise InputError("input.text_too_long", limit=f"{_MAX_CHARS // 1_000_000} MB")
    docs = _documents(text)
    source, entries = _detect(docs, choice)
    shown = pieces([raw for _, raw, _, _ in entries])
    positions = tuple(Position(piece.text, piece.partial, lp, top) for (_, _, lp, top), piece in zip(entries, shown))
    if not positions:
        raise InputError("tokens.empty", source=source)
    return LogprobSequence(source, positions)


_MAX_CHARS = max(limits().text_mb, limits().upload_mb) * 1_000_000  # a response pasted, or uploaded as a file


def _documents(text: str) -> list:
    """The JSON documents of a response: one, or a stream of them (server-sent events, or one a line)."""
    text = text.strip()
    if not text:
        raise InputError("input.empty")
    try:
        return [json.loads(text)]
    except json.JSONDecodeError as whole:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        payloads = [line[5:].strip() if line.startswith("data:") else line for line in lines
                    if not line.startswith((":", "event:", "id:", "retry:"))]
        docs = []
        for n, payload in enumerate(payloads, start=1):
            if payload == "[DONE]":
                continue
            try:
                docs.append(json.loads(payload))
            except json.JSONDecodeError:
                if len(payloads) == 1:
                    raise InputError("tokens.not_json", detail=f"line {whole.lineno}, column {whole.colno}: {whole.msg}") from None
                raise InputError("tokens.not_json", detail=f"line {n} of the stream") from None
        if not docs:
            raise InputError("tokens.not_json", detail=f"line {whole.lineno}, column {whole.colno}: {whole.msg}") from None
        return docs
    except RecursionError:
        raise InputError("tokens.not_json", detail="nested too deeply") from None


# an entry: (display text, raw bytes, logprob, alternatives)
_Entry = tuple[str, bytes, float, tuple[tuple[str, float], ...]]


def _detect(docs: list, choice: int) -> tuple[str, list[_Entry]]:
    """The format of the first document that carries log-probabilities, and the entries of all of them."""
    first = docs[0]
    for name, matches, read in _FORMATS:
        if matches(first):
            entries: list[_Entry] = []
            for i, doc in enumerate(docs):
                prefix = f"[{i}]." if len(docs) > 1 else ""
                entries += read(doc, prefix, choice)
            return name, entries
    keys = ", ".join(list(first)[:8]) if isinstance(first, dict) else type(first).__name__
    raise InputError("tokens.unknown", keys=keys)


# ------------------------------------------------------------ one entry ----


def _field(obj, key: str, path: str, kind: type | tuple[type, ...], *, required: bool = True):
    """``obj[key]`` checked to be ``kind``; an InputError names ``path.key`` when it is not."""
    where = f"{path}.{key}" if path else key
    if not isinstance(obj, dict):
        raise InputError("tokens.bad_field", where=path or "(top)", expected="object")
    value = obj.get(key)
    if value is None and not required:
        return None
    if value is None or isinstance(value, bool) or not isinstance(value, kind):
        raise InputError("tokens.bad_field", where=where, expected=_kind_name(kind))
    return value


def _kind_name(kind) -> str:
    names = {list: "list", dict: "object", str: "text", int: "number", float: "number"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in kinds))


def _raw(obj: dict, token: str, path: str) -> bytes:
    """A token's bytes: the ``bytes`` field when there is one, else its text as UTF-8."""
    data = obj.get("bytes") if isinstance(obj, dict) else None
    if data is None:
        return token.encode("utf-8")
    if not isinstance(data, list) or not all(isinstance(b, int) and not isinstance(b, bool) and 0 <= b < 256 for b in data):
        raise InputError("tokens.bad_field", where=f"{path}.bytes", expected="list of bytes (0-255)")
    return bytes(data)


def _logprob(value: float) -> float:
    value = float(value)
    return float("nan") if value <= SENTINEL or math.isnan(value) else value


def _prob_to_log(p: float) -> float:
    return math.log(p) if p > 0 else -math.inf


def _alternatives(items: list, path: str, text_key: str = "token", value_key: str = "logprob",
                  as_log=_logprob) -> tuple[tuple[str, float], ...]:
    out = []
    for j, item in enumerate(items):
        where = f"{path}[{j}]"
        token = _field(item, text_key, where, str)
        out.append((display(_raw(item, token, where)), as_log(_field(item, value_key, where, (int, float)))))
    return tuple(sorted(out, key=lambda a: -a[1] if math.isfinite(a[1]) else math.inf))


def _modern(entry, path: str) -> _Entry:
    """``{token, logprob, bytes?, top_logprobs?}`` (OpenAI, Ollama, llama.cpp), or ``prob``/``top_probs``."""
    token = _field(entry, "token", path, str)
    if "logprob" not in entry and "prob" in entry:  # llama.cpp with post_sampling_probs
        lp = _prob_to_log(_field(entry, "prob", path, (int, float)))
        top = _alternatives(_field(entry, "top_probs", path, list, required=False) or [], f"{path}.top_probs", value_key="prob",
                            as_log=_prob_to_log)
    else:
        lp = _logprob(_field(entry, "logprob", path, (int, float)))
        top = _alternatives(_field(entry, "top_logprobs", path, list, required=False) or [], f"{path}.top_logprobs")
    return token, _raw(entry, token, path), lp, top


def _entries(items, path: str) -> list[_Entry]:
    if not isinstance(items, list):
        raise InputError("tokens.bad_field", where=path, expected="list")
    return [_modern(item, f"{path}[{i}]") for i, item in enumerate(items)]


# ------------------------------------------------------------ the formats ----


def _choice(doc: dict, prefix: str, choice: int) -> tuple[dict, str]:
    choices = _field(doc, "choices", prefix.rstrip("."), list)
    if not choices:  # a stream's last chunk may carry only usage
        return {}, ""
    if not 0 <= choice < len(choices):
        raise InputError("tokens.no_choice", choice=choice, n=len(choices))
    path = f"{prefix}choices[{choice}]"
    if not isinstance(choices[choice], dict):
        raise InputError("tokens.bad_field", where=path, expected="object")
    return choices[choice], path


def _openai_chat(doc, prefix: str, choice: int) -> list[_Entry]:
    item, path = _choice(doc, prefix, choice)
    if not item:
        return []
    logprobs = item.get("logprobs")
    if logprobs is None:
        return []  # a chunk without tokens (the role, the finish reason)
    return _entries(_field(logprobs, "content", f"{path}.logprobs", list, required=False) or [], f"{path}.logprobs.content")


def _legacy(doc, prefix: str, choice: int) -> list[_Entry]:
    item, path = _choice(doc, prefix, choice)
    if not item or item.get("logprobs") is None:
        return []
    lp_path = f"{path}.logprobs"
    lp = item["logprobs"]
    toks = _field(lp, "tokens", lp_path, list)
    values = _field(lp, "token_logprobs", lp_path, list)
    tops = _field(lp, "top_logprobs", lp_path, list, required=False) or [None] * len(toks)
    out = []
    for i, (tok, value, top) in enumerate(zip(toks, values, tops)):
        where = f"{lp_path}.tokens[{i}]"
        if not isinstance(tok, str):
            raise InputError("tokens.bad_field", where=where, expected="text")
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise InputError("tokens.bad_field", where=f"{lp_path}.token_logprobs[{i}]", expected="number")
        if top is not None and not isinstance(top, dict):
            raise InputError("tokens.bad_field", where=f"{lp_path}.top_logprobs[{i}]", expected="object")
        alts = tuple(sorted(((display(k.encode()), _logprob(v)) for k, v in (top or {}).items()), key=lambda a: -a[1]))
        out.append((tok, tok.encode("utf-8"), float("nan") if value is None else _logprob(value), alts))
    return out


def _responses(doc, prefix: str, choice: int) -> list[_Entry]:
    out = []
    for i, item in enumerate(_field(doc, "output", prefix.rstrip("."), list)):
        path = f"{prefix}output[{i}]"
        for j, part in enumerate(_field(item, "content", path, list, required=False) or []):
            if isinstance(part, dict) and part.get("logprobs") is not None:
                out += _entries(part["logprobs"], f"{path}.content[{j}].logprobs")
    return out


def _llama_cpp(doc, prefix: str, choice: int) -> list[_Entry]:
    out = []
    path = f"{prefix}completion_probabilities"
    for i, entry in enumerate(_field(doc, "completion_probabilities", prefix.rstrip("."), list)):
        where = f"{path}[{i}]"
        if isinstance(entry, dict) and "probs" in entry and "token" not in entry:  # the older form
            token = _field(entry, "content", where, str)
            top = _alternatives(_field(entry, "probs", where, list), f"{where}.probs", text_key="tok_str", value_key="prob",
                                as_log=_prob_to_log)
            lp = next((v for t, v in top if t == display(token.encode())), float("nan"))
            out.append((token, token.encode("utf-8"), lp, top))
        else:
            out.append(_modern(entry, where))
    return out


def _ollama(doc, prefix: str, choice: int) -> list[_Entry]:
    if not isinstance(doc, dict) or doc.get("logprobs") is None:
        return []  # a streamed chunk with no token (the final one)
    return _entries(doc["logprobs"], f"{prefix}logprobs")


def _bare(doc, prefix: str, choice: int) -> list[_Entry]:
    return _entries(doc, prefix.rstrip(".") or "(top)")


def _is_legacy(doc) -> bool:
    if not isinstance(doc, dict) or not isinstance(doc.get("choices"), list):
        return False
    return any(isinstance(c, dict) and isinstance(c.get("logprobs"), dict) and "tokens" in c["logprobs"] for c in doc["choices"])


_FORMATS = (
    ("openai-completions", _is_legacy, _legacy),
    ("openai-chat", lambda d: isinstance(d, dict) and "choices" in d, _openai_chat),
    ("openai-responses", lambda d: isinstance(d, dict) and "output" in d, _responses),
    ("llama.cpp", lambda d: isinstance(d, dict) and "completion_probabilities" in d, _llama_cpp),
    ("ollama", lambda d: isinstance(d, dict) and isinstance(d.get("logprobs"), list), _ollama),
    ("entries", lambda d: isinstance(d, list) and bool(d) and isinstance(d[0], dict) and "token" in d[0], _bare),
)
