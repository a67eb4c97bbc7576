"""Token log-probabilities from the responses of LLM APIs and servers: every format read into one sequence.

Each format is one :class:`Format` record in :data:`FORMATS`: how a document
of that format is recognised, how its token entries are read, and what text
the server says it generated (to check the tokens against). Detection tries
the records in the order of :data:`FORMATS`; a stream is read document by
document with the format its first recognised document had.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from logitsviz.config import limits
from logitsviz.errors import InputError, Phrase
from logitsviz.tokens.text import display, pieces, visible

__all__ = ["FORMATS", "SENTINEL", "Format", "LogprobSequence", "Position", "Reader", "read_logprobs"]

SENTINEL = -9999.0  # OpenAI's logprob for a chosen token outside the top 20: "very unlikely", not a number
ROUNDING = 1e-3  # a log-probability may exceed 0 (a probability 1) by this much: servers round


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
    """Token log-probabilities of a response, read from any format :func:`read_logprobs` knows.

    ``warnings`` says what did not add up: tokens that do not spell the
    server's text (a server that sent some tokens without their bytes), or
    fewer entries than the tokens the server generated (llama.cpp merges the
    byte tokens of one character). Each is a :class:`~logitsviz.errors.Phrase`:
    ``str(w)`` tells it in the current language.
    """

    source: str  # the format detected, e.g. "openai-chat"
    positions: tuple[Position, ...]
    warnings: tuple[Phrase, ...] = ()

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
    def exact(self) -> bool:
        """Whether every position's whole distribution was known (a local model), not only its listed top."""
        return bool(self.positions) and all(p.entropy_bits is not None for p in self.positions)

    @property
    def perplexity(self) -> float:
        """``exp(-mean(logprobs))`` over the tokens whose log-probability is known."""
        lp = self.logprobs
        known = lp[np.isfinite(lp)]
        with np.errstate(over="ignore"):  # a mean log-probability below -709: the perplexity is inf, and says so
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
    # an unlisted token is no likelier than the least listed one (one whose probability underflows to 0 says nothing)
    largest = float(p[p > 0].min()) if (p > 0).any() else rest
    n = math.floor(rest / largest)
    remainder = rest - n * largest
    low = known - n * largest * math.log2(largest) - (remainder * math.log2(remainder) if remainder > 0 else 0.0)
    others = max(1, vocab_size - p.size)
    return low, known - rest * math.log2(rest / others)


# an entry: (raw bytes, logprob, alternatives)
Entry = tuple[bytes, float, tuple[tuple[str, float], ...]]


@dataclass(frozen=True)
class Format:
    """One response format: how to recognise a document of it, and how to read one.

    ``read(doc, path, choice)`` returns the document's token entries (none
    for a chunk that carries no token); ``text(doc, choice)`` the text the
    server says it generated in that document (None where it does not say);
    ``predicted(doc)`` the number of tokens it says it generated, when it
    says (llama.cpp's ``tokens_predicted``).
    """

    name: str  # the key of its name in the catalogues: tok.format.<name>
    detect: Callable[[object], bool]
    read: Callable[[object, str, int], list[Entry]]
    text: Callable[[object, int], str | None] = lambda doc, choice: None
    predicted: Callable[[object], int | None] = lambda doc: None


# ------------------------------------------------------------ one entry ----

_KINDS = {list: "list", dict: "object", str: "text", int: "number", float: "number"}


def _kind(kind) -> Phrase:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = list(dict.fromkeys(_KINDS[k] for k in kinds))
    return Phrase.of("tokens.kind." + "_or_".join(names))


def _bad(where: str, expected) -> InputError:
    return InputError("tokens.bad_field", where=where or "(top)", expected=expected if isinstance(expected, Phrase) else _kind(expected))


def _field(obj, key: str, path: str, kind: type | tuple[type, ...], *, required: bool = True):
    """``obj[key]`` checked to be ``kind``; an InputError names ``path.key`` when it is not."""
    where = f"{path}.{key}" if path else key
    if not isinstance(obj, dict):
        raise _bad(path, dict)
    value = obj.get(key)
    if value is None and not required:
        return None
    if value is None or isinstance(value, bool) or not isinstance(value, kind):
        raise _bad(where, kind)
    return value


def _raw(obj: dict, token: str, path: str) -> bytes:
    """A token's bytes: the ``bytes`` field when there is one, else its text as UTF-8."""
    data = obj.get("bytes") if isinstance(obj, dict) else None
    if data is None:
        return token.encode("utf-8", errors="surrogatepass")
    if not isinstance(data, list) or not all(isinstance(b, int) and not isinstance(b, bool) and 0 <= b < 256 for b in data):
        raise _bad(f"{path}.bytes", Phrase.of("tokens.kind.bytes"))
    return bytes(data)


def _logprob(value, where: str) -> float:
    """A log-probability read and checked: at most 0 (give or take rounding), never NaN; -9999 means unknown."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad(where, (int, float))
    value = float(value)
    if math.isnan(value) or value > ROUNDING:
        raise InputError("tokens.bad_logprob", where=where, value=repr(value))
    if value <= SENTINEL:
        return float("nan")
    return min(value, 0.0)


def _prob(value, where: str) -> float:
    """A probability read and checked (0 to 1, give or take rounding), as a log-probability."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad(where, (int, float))
    value = float(value)
    if math.isnan(value) or not -ROUNDING <= value <= 1 + ROUNDING:
        raise InputError("tokens.bad_prob", where=where, value=repr(value))
    return math.log(value) if value > 0 else -math.inf


def _alternatives(items: list, path: str, text_key: str = "token", value_key: str = "logprob",
                  as_log=_logprob) -> tuple[tuple[str, float], ...]:
    if not isinstance(items, list):
        raise _bad(path, list)
    out = []
    for j, item in enumerate(items):
        where = f"{path}[{j}]"
        token = _field(item, text_key, where, str)
        out.append((display(_raw(item, token, where)), as_log(item.get(value_key), f"{where}.{value_key}")))
    return tuple(sorted(out, key=lambda a: -a[1] if math.isfinite(a[1]) else math.inf))


def _modern(entry, path: str) -> Entry:
    """``{token, logprob, bytes?, top_logprobs?}`` (OpenAI, Ollama, llama.cpp), or ``prob``/``top_probs``."""
    token = _field(entry, "token", path, str)
    if "logprob" not in entry and "prob" in entry:  # llama.cpp with post_sampling_probs
        lp = _prob(entry["prob"], f"{path}.prob")
        top = _alternatives(entry.get("top_probs") or [], f"{path}.top_probs", value_key="prob", as_log=_prob)
    else:
        lp = _logprob(entry.get("logprob"), f"{path}.logprob")
        top = _alternatives(entry.get("top_logprobs") or [], f"{path}.top_logprobs")
    return _raw(entry, token, path), lp, top


def _entries(items, path: str) -> list[Entry]:
    if not isinstance(items, list):
        raise _bad(path, list)
    return [_modern(item, f"{path}[{i}]") for i, item in enumerate(items)]


# ------------------------------------------------------------ the formats ----


def _choices(doc) -> list:
    return doc.get("choices") if isinstance(doc, dict) and isinstance(doc.get("choices"), list) else []


def _choice(doc, prefix: str, choice: int) -> tuple[dict, str]:
    choices = _field(doc, "choices", prefix.rstrip("."), list)
    if not choices:  # a stream's last chunk may carry only usage
        return {}, ""
    if not 0 <= choice < len(choices):
        raise InputError("tokens.no_choice", choice=choice, n=len(choices))
    path = f"{prefix}choices[{choice}]"
    if not isinstance(choices[choice], dict):
        raise _bad(path, dict)
    return choices[choice], path


def _picked(doc, choice: int) -> dict:
    """The choice ``choice`` of a document when it is an object, else an empty one (for the text check)."""
    choices = _choices(doc)
    return choices[choice] if 0 <= choice < len(choices) and isinstance(choices[choice], dict) else {}


def _chat(doc, prefix: str, choice: int) -> list[Entry]:
    item, path = _choice(doc, prefix, choice)
    logprobs = item.get("logprobs") if item else None
    if logprobs is None:
        return []  # a chunk without tokens (the role, the finish reason)
    return _entries(_field(logprobs, "content", f"{path}.logprobs", list, required=False) or [], f"{path}.logprobs.content")


def _chat_text(doc, choice: int) -> str | None:
    item = _picked(doc, choice)
    message = item.get("message") if isinstance(item.get("message"), dict) else item.get("delta")
    content = message.get("content") if isinstance(message, dict) else None
    return content if isinstance(content, str) else None


def _completions(doc, prefix: str, choice: int) -> list[Entry]:
    """Legacy Completions: ``tokens`` / ``token_logprobs`` / ``top_logprobs``, or (llama.cpp) ``content`` entries."""
    item, path = _choice(doc, prefix, choice)
    if not item or item.get("logprobs") is None:
        return []
    lp_path = f"{path}.logprobs"
    lp = item["logprobs"]
    if isinstance(lp, dict) and "content" in lp and "tokens" not in lp:  # llama.cpp's /v1/completions
        return _entries(lp["content"] or [], f"{lp_path}.content")
    toks = _field(lp, "tokens", lp_path, list)
    values = _field(lp, "token_logprobs", lp_path, list)
    tops = _field(lp, "top_logprobs", lp_path, list, required=False) or [None] * len(toks)
    if not len(toks) == len(values) >= len(tops):
        raise InputError("tokens.lengths", where=lp_path, tokens=len(toks), logprobs=len(values))
    return [_legacy_entry(tok, value, top, lp_path, i) for i, (tok, value, top) in enumerate(zip(toks, values, tops))]


def _legacy_entry(tok, value, top, path: str, i: int) -> Entry:
    """Token ``i`` of a legacy Completions response: its text, log-probability (null: not given) and top object."""
    if not isinstance(tok, str):
        raise _bad(f"{path}.tokens[{i}]", str)
    if top is not None and not isinstance(top, dict):
        raise _bad(f"{path}.top_logprobs[{i}]", dict)
    alts = [(display(k.encode("utf-8", errors="surrogatepass")), _logprob(v, f"{path}.top_logprobs[{i}].{k}"))
            for k, v in (top or {}).items()]
    logprob = float("nan") if value is None else _logprob(value, f"{path}.token_logprobs[{i}]")
    return tok.encode("utf-8", errors="surrogatepass"), logprob, tuple(sorted(alts, key=lambda a: -a[1]))


def _completions_text(doc, choice: int) -> str | None:
    text = _picked(doc, choice).get("text")
    return text if isinstance(text, str) else None


def _is_completions(doc) -> bool:
    if not isinstance(doc, dict):
        return False
    if doc.get("object") == "text_completion":
        return True
    return any(isinstance(c, dict) and ("text" in c or (isinstance(c.get("logprobs"), dict) and "tokens" in c["logprobs"]))
               for c in _choices(doc))


def _is_chat(doc) -> bool:
    if not isinstance(doc, dict) or "choices" not in doc:
        return False
    return str(doc.get("object", "")).startswith("chat.completion") or any(
        isinstance(c, dict) and ("message" in c or "delta" in c or "logprobs" in c) for c in _choices(doc)) or not _choices(doc)


def _responses(doc, prefix: str, choice: int) -> list[Entry]:
    out = []
    for i, item in enumerate(_field(doc, "output", prefix.rstrip("."), list)):
        path = f"{prefix}output[{i}]"
        for j, part in enumerate(_field(item, "content", path, list, required=False) or []):
            if isinstance(part, dict) and part.get("logprobs") is not None:
                out += _entries(part["logprobs"], f"{path}.content[{j}].logprobs")
    return out


def _responses_text(doc, choice: int) -> str | None:
    parts = [part.get("text") for item in doc.get("output") or [] if isinstance(item, dict)
             for part in item.get("content") or [] if isinstance(part, dict)]
    texts = [p for p in parts if isinstance(p, str)]
    return "".join(texts) if texts else None


def _llama_cpp(doc, prefix: str, choice: int) -> list[Entry]:
    probabilities = doc.get("completion_probabilities") if isinstance(doc, dict) else None
    if probabilities is None:
        return []  # a stream's last event: the text so far, timings, "stop": true
    out = []
    path = f"{prefix}completion_probabilities"
    if not isinstance(probabilities, list):
        raise _bad(path, list)
    for i, entry in enumerate(probabilities):
        where = f"{path}[{i}]"
        if isinstance(entry, dict) and "probs" in entry and "token" not in entry:  # the older form
            token = _field(entry, "content", where, str)
            top = _alternatives(entry["probs"], f"{where}.probs", text_key="tok_str", value_key="prob", as_log=_prob)
            lp = next((v for t, v in top if t == display(token.encode())), float("nan"))
            out.append((token.encode("utf-8", errors="surrogatepass"), lp, top))
        else:
            out.append(_modern(entry, where))
    return out


def _llama_cpp_text(doc, choice: int) -> str | None:
    return doc.get("content") if isinstance(doc.get("content"), str) else None


def _llama_cpp_predicted(doc) -> int | None:
    n = doc.get("tokens_predicted") if doc.get("stop") is True else None  # the final document counts them all
    return n if isinstance(n, int) and not isinstance(n, bool) else None


def _is_llama_cpp(doc) -> bool:
    return isinstance(doc, dict) and ("completion_probabilities" in doc or ("content" in doc and "stop" in doc
                                                                          and ("id_slot" in doc or "tokens_predicted" in doc)))


def _ollama(doc, prefix: str, choice: int) -> list[Entry]:
    if not isinstance(doc, dict) or doc.get("logprobs") is None:
        return []  # a streamed chunk with no token (the final one)
    return _entries(doc["logprobs"], f"{prefix}logprobs")


def _ollama_text(doc, choice: int) -> str | None:
    if isinstance(doc.get("response"), str):
        return doc["response"]
    message = doc.get("message")
    return message.get("content") if isinstance(message, dict) and isinstance(message.get("content"), str) else None


def _is_ollama(doc) -> bool:
    return isinstance(doc, dict) and (isinstance(doc.get("logprobs"), list)
                                      or ("done" in doc and ("response" in doc or "message" in doc)))


def _bare(doc, prefix: str, choice: int) -> list[Entry]:
    return _entries(doc, prefix.rstrip(".") or "(top)")


# The order detection tries them in: the most specific marks first. A Completions document is told from a Chat one by
# its ``object`` or its choices' ``text``; llama.cpp's native documents by ``completion_probabilities`` or its slot.
FORMATS: tuple[Format, ...] = (
    Format("openai-responses", lambda d: isinstance(d, dict) and isinstance(d.get("output"), list), _responses, _responses_text),
    Format("llama.cpp", _is_llama_cpp, _llama_cpp, _llama_cpp_text, _llama_cpp_predicted),
    Format("openai-completions", _is_completions, _completions, _completions_text),
    Format("openai-chat", _is_chat, _chat, _chat_text),
    Format("ollama", _is_ollama, _ollama, _ollama_text),
    Format("entries", lambda d: isinstance(d, list) and bool(d) and isinstance(d[0], dict) and "token" in d[0], _bare),
)


# ------------------------------------------------------------ reading ----


class Reader:
    """Reads the documents of one response as they come (a stream, or one whole document), into a sequence.

    ``feed(doc)`` adds one JSON document; :attr:`sequence` is what has been
    read so far (with the checks of a finished response once :meth:`finish`
    ran). The format is the one the first recognised document has.
    """

    def __init__(self, choice: int = 0, *, streamed: bool = False, expect: str | None = None) -> None:
        self.choice = choice
        self.streamed = streamed  # paths in messages then name the document: [3].choices[0]…
        self.format: Format | None = next((f for f in FORMATS if f.name == expect), None) if expect else None
        self.entries: list[Entry] = []
        self.texts: list[str] = []
        self.predicted: int | None = None
        self.count = 0
        self._first = None

    def feed(self, doc) -> None:
        if self._first is None:
            self._first = doc
        if self.format is None:
            self.format = next((f for f in FORMATS if f.detect(doc)), None)
            if self.format is None:
                self.count += 1
                return
        prefix = f"[{self.count}]." if self.streamed else ""
        self.entries += self.format.read(doc, prefix, self.choice)
        if isinstance(doc, dict):
            text = self.format.text(doc, self.choice)
            if text:
                self.texts.append(text)
            self.predicted = self.format.predicted(doc) or self.predicted
        self.count += 1

    def sequence(self, *, final: bool = True) -> LogprobSequence:
        """The positions read so far; ``final`` adds the checks of a whole response (text, counts, not empty)."""
        if self.format is None:
            first = self._first
            keys = ", ".join(list(first)[:8]) if isinstance(first, dict) else type(first).__name__
            raise InputError("tokens.unknown", keys=keys)
        shown = pieces([raw for raw, _, _ in self.entries])
        positions = tuple(Position(piece.text, piece.partial, lp, _as_read(top, raw, piece))
                          for (raw, lp, top), piece in zip(self.entries, shown))
        if not final:
            return LogprobSequence(self.format.name, positions)
        if not positions:
            raise InputError("tokens.empty", source=Phrase.of(f"tok.format.{self.format.name}"))
        return LogprobSequence(self.format.name, positions, tuple(self._warnings(positions)))

    def _warnings(self, positions: tuple[Position, ...]) -> Iterable[Phrase]:
        said = "".join(self.texts)
        spelt = b"".join(raw for raw, _, _ in self.entries).decode("utf-8", errors="replace")
        if said and spelt != said and not said.startswith(spelt):  # a response cut at a stop word may list fewer tokens
            start = next((i for i, (a, b) in enumerate(zip(spelt, said)) if a != b), min(len(spelt), len(said)))
            yield Phrase.of("tokens.warn.text", said=_excerpt(said, start), spelt=_excerpt(spelt, start),
                            missing=max(0, len(said) - len(spelt)))
        if self.predicted is not None and self.predicted > len(positions):
            yield Phrase.of("tokens.warn.merged", predicted=self.predicted, listed=len(positions))


def _as_read(top: tuple[tuple[str, float], ...], raw: bytes, piece) -> tuple[tuple[str, float], ...]:
    """The alternatives, the chosen token among them spelt as it reads in place (好, not its last byte ⟨bd⟩)."""
    alone = display(raw)
    if piece.bytes_only or not piece.text or alone == visible(piece.text):
        return top
    return tuple((visible(piece.text) if text == alone else text, lp) for text, lp in top)


def _excerpt(text: str, start: int, width: int = 24) -> str:
    lo = max(0, start - width // 2)
    return ("…" if lo else "") + text[lo:lo + width] + ("…" if lo + width < len(text) else "")


def read_logprobs(data: bytes | str, *, choice: int = 0) -> LogprobSequence:
    """Token log-probabilities from the response of an LLM API or server, its format detected.

    Formats (each read as the project documents it; :data:`FORMATS` lists
    them in the order they are tried):

    - OpenAI Chat Completions, and servers compatible with it (vLLM, llama.cpp's
      ``/v1/chat/completions``): ``choices[i].logprobs.content[]`` with ``token``,
      ``logprob``, ``bytes``, ``top_logprobs``; a logprob of -9999 means
      "outside the top 20" and is read as unknown;
    - OpenAI Responses: ``output[].content[].logprobs[]``;
    - legacy Completions (OpenAI, vLLM, llama-cpp-python): ``choices[i].logprobs``
      with ``tokens``, ``token_logprobs``, ``top_logprobs`` (one object per token);
      llama.cpp's ``/v1/completions`` puts ``content`` entries there instead;
    - llama.cpp server ``/completion`` with ``n_probs``: ``completion_probabilities[]``,
      the current form (``token``, ``logprob``, ``top_logprobs``; or ``prob`` and
      ``top_probs`` with ``post_sampling_probs``) and the older one (``content``,
      ``probs: [{tok_str, prob}]``);
    - Ollama ``/api/generate`` and ``/api/chat`` with ``logprobs``: a top-level
      ``logprobs`` list;
    - a bare list of ``{token, logprob, top_logprobs}`` entries.

    A streamed response (server-sent events ``data: {...}`` or one JSON object
    a line) is read chunk by chunk and joined. The result's ``warnings`` say
    when the tokens do not add up to the server's own text or count.

    Raises
    ------
    InputError
        Not JSON, a format it does not know, a field of the wrong type or a
        log-probability that cannot be one (NaN, or above 0): the message
        names the place, e.g. ``choices[0].logprobs.content[3].top_logprobs``.

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
    reader = Reader(choice, streamed=len(docs) > 1)
    for doc in docs:
        reader.feed(doc)
    return reader.sequence()


_MAX_CHARS = max(limits().text_mb, limits().upload_mb) * 1_000_000  # a response pasted, or uploaded as a file


def parse_stream_line(line: str):
    """One line of a stream as a JSON document; None for what carries none (comments, event names, ``[DONE]``)."""
    line = line.strip()
    if not line or line.startswith((":", "event:", "id:", "retry:")):
        return None
    payload = line[5:].strip() if line.startswith("data:") else line
    if payload == "[DONE]":
        return None
    return json.loads(payload)


def _documents(text: str) -> list:
    """The JSON documents of a response: one, or a stream of them (server-sent events, or one a line)."""
    text = text.strip()
    if not text:
        raise InputError("input.empty")
    try:
        return [json.loads(text)]
    except json.JSONDecodeError as whole:
        lines = [line for line in text.splitlines() if line.strip()]
        docs = []
        for n, line in enumerate(lines, start=1):
            try:
                doc = parse_stream_line(line)
            except json.JSONDecodeError as err:
                if len(lines) == 1:
                    raise InputError("tokens.not_json", detail=Phrase.of("tokens.json_at", line=whole.lineno, col=whole.colno)) from None
                raise InputError("tokens.not_json", detail=Phrase.of("tokens.json_stream_line", line=n, col=err.colno)) from None
            if doc is not None:
                docs.append(doc)
        if not docs:
            raise InputError("tokens.not_json", detail=Phrase.of("tokens.json_at", line=whole.lineno, col=whole.colno)) from None
        return docs
    except RecursionError:
        raise InputError("tokens.not_json", detail=Phrase.of("tokens.json_deep")) from None
