"""Real language models: a prompt in, the next-token logits over the whole vocabulary out (optional extra ``lm``).

Any causal language model that Hugging Face transformers loads, by hub id or
local folder, with safetensors weights only and never with remote code. The
model runs on the CPU in float32; logitsviz's own filters and sampler
(:mod:`logitsviz.sampling`) turn its logits into tokens, so every step of a
generation can be opened and inspected.

torch and transformers are imported only when a model is loaded:
``import logitsviz`` stays light, and without the extra, :func:`load` raises
an :class:`~logitsviz.InputError` that says how to install it.

Usage (a real model needs a download, so this is not run as a doctest)::

    from logitsviz import lm
    model = lm.load("openai-community/gpt2")                 # or a local folder
    labels, logits = model.next_token_logits("The new smartphone has")
    trace = model.generate("Once upon a time", 20, [("temperature", 0.8), ("top_p", 0.9)], seed=0)
    model.score("The new smartphone has amazing features.").perplexity
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from logitsviz import gpt2, numerics, sampling, tokens
from logitsviz.config import limits
from logitsviz.errors import InputError

__all__ = [
    "INSTALL",
    "STAGES",
    "Alternative",
    "Attribution",
    "Lens",
    "Loading",
    "Model",
    "Scores",
    "Step",
    "TokenScore",
    "Trace",
    "available",
    "compare",
    "forget",
    "load",
    "loading",
    "quantized",
]

INSTALL = "pip install -r requirements-lm.txt"  # or: pip install "logitsviz[lm]"
TOP = 20  # alternatives kept per generated step: enough to open the step's distribution later


def available(backend: str = "torch") -> bool:
    """Whether models can run here: ``"torch"``, the ``lm`` extra (torch, transformers, safetensors) for any model;
    ``"numpy"``, the ``tokenizers`` library alone, enough for GPT-2 folders such as the built-in model."""
    from importlib.util import find_spec

    names = ("torch", "transformers", "safetensors") if backend == "torch" else ("tokenizers",)
    try:
        return all(find_spec(name) is not None for name in names)
    except (ImportError, ValueError):  # a broken or hidden install counts as missing
        return False


def _require():
    """``(torch, transformers)``, or an InputError that says how to install them."""
    try:
        import torch
        import transformers
    except ImportError:
        raise InputError("lm.missing", command=INSTALL) from None
    return torch, transformers


# ------------------------------------------------------------------ results ----


@dataclass(frozen=True)
class Alternative:
    """A token the model could have put at a position, with its log-probability."""

    id: int
    text: str
    logprob: float


@dataclass(frozen=True)
class Step:
    """One generated token and the distribution it came from, kept compactly (the top tokens and the rest)."""

    token: int
    text: str  # as it reads in place (a character split across tokens shows on the token that completes it)
    partial: bool  # holds bytes of a character that a later token completes
    logprob: float  # under the model (T = 1)
    final_prob: float  # under the chain's final distribution, which it was drawn from
    rank: int  # 1 = the model's most likely token
    entropy_bits: float  # of the model's distribution
    top_ids: np.ndarray  # the model's most likely tokens, best first, and the drawn token wherever it ranks
    top_logits: np.ndarray  # their raw logits
    rest_logsumexp: float  # logsumexp of every other logit: the rest as one class
    rest_count: int
    final_entropy_bits: float = math.nan  # of the chain's final distribution
    kept: int = 0  # tokens the chain left in play
    mu: float | None = None  # mirostat's μ after this step, when the chain has one

    def alternatives(self, vocab: Sequence[str]) -> list[Alternative]:
        """The top tokens with their log-probabilities under the model."""
        lse = float(np.logaddexp(numerics.logsumexp(self.top_logits), self.rest_logsumexp))
        return [Alternative(int(i), vocab[int(i)], float(z) - lse) for i, z in zip(self.top_ids, self.top_logits)]

    def distribution(self, vocab: Sequence[str], others: str) -> tuple[list[str], np.ndarray]:
        """``(labels, logits)`` of the top tokens plus one class ``others`` carrying the rest: probabilities exact."""
        labels = [vocab[int(i)] for i in self.top_ids]
        if self.rest_count:
            return [*labels, others], np.append(self.top_logits.astype(np.float64), self.rest_logsumexp)
        return labels, self.top_logits.astype(np.float64)


@dataclass(frozen=True)
class Trace:
    """A generation: the prompt, the chain and seed it ran with, and every step."""

    prompt: str
    prompt_ids: tuple[int, ...]
    steps: tuple[Step, ...]
    chain: tuple[tuple[str, float], ...]
    seed: int
    text: str  # prompt and generated text, decoded together

    @property
    def ids(self) -> list[int]:
        return [*self.prompt_ids, *(s.token for s in self.steps)]


@dataclass(frozen=True)
class TokenScore:
    """How surprised the model was by one token of a given text."""

    id: int
    text: str
    partial: bool
    logprob: float
    rank: int
    entropy_bits: float
    top: tuple[Alternative, ...]  # what the model expected instead, best first

    @property
    def surprise_bits(self) -> float:
        return -self.logprob / math.log(2)


@dataclass(frozen=True)
class Scores:
    """Teacher-forced log-probabilities of every token of a text, and the text's perplexity."""

    text: str
    tokens: tuple[TokenScore, ...]
    unscored: str  # the first token when the tokenizer has no start token to predict it from ("" otherwise)

    @property
    def logprobs(self) -> np.ndarray:
        return np.array([s.logprob for s in self.tokens])

    @property
    def perplexity(self) -> float:
        """``exp(-mean log p)`` over the scored tokens."""
        return float(np.exp(-np.mean(self.logprobs))) if self.tokens else float("nan")

    def to_sequence(self) -> tokens.LogprobSequence:
        """The same tokens as the API readers give them (exact entropies included), for the shared tokens view."""
        return tokens.LogprobSequence("lm", tuple(
            tokens.Position(s.text, s.partial, s.logprob, tuple((a.text, a.logprob) for a in s.top), s.entropy_bits)
            for s in self.tokens
        ))


# -------------------------------------------------------------------- model ----


class Model:
    """A loaded causal language model and its tokenizer; :func:`load` makes one per server process."""

    def __init__(self, name: str, model, tokenizer) -> None:
        self.name = name
        self.model = model  # a transformers model, or a numpy GPT-2 (logitsviz.gpt2) where PyTorch is not needed
        self.tokenizer = tokenizer
        config = model.config
        self.context = int(getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None) or 2048)
        if isinstance(model, gpt2.GPT2):
            self.vocab_size = int(model.unembed.shape[0])
            self.memory_bytes = model.parameters * 4
            self.architecture = "GPT2LMHeadModel"
            self.backend = "numpy"
        else:
            self.vocab_size = int(model.get_output_embeddings().weight.shape[0])
            self.memory_bytes = int(sum(p.numel() * p.element_size() for p in model.parameters()))
            self.architecture = type(model).__name__
            self.backend = "torch"

    def __repr__(self) -> str:
        return f"Model({self.name!r}, {self.architecture}, vocabulary {self.vocab_size:,})"

    # ---- tokens

    @cached_property
    def _scheme(self) -> str:
        """How the tokenizer spells bytes: "byte_level" (GPT-2 style), "sentencepiece" (▁ and <0x..>), or "text"."""
        try:
            decoder = json.loads(self.tokenizer.backend_tokenizer.to_str()).get("decoder") or {}
        except AttributeError:  # a slow tokenizer: no backend to read
            return "text"
        kinds = {decoder.get("type")} | {d.get("type") for d in decoder.get("decoders") or []}
        if "ByteLevel" in kinds:
            return "byte_level"
        return "sentencepiece" if kinds & {"ByteFallback", "Metaspace", "Replace"} else "text"

    @cached_property
    def token_bytes(self) -> list[bytes]:
        """The bytes each token id stands for (special tokens: their text; ids past the tokenizer: empty)."""
        pieces = self.tokenizer.convert_ids_to_tokens(list(range(min(len(self.tokenizer), self.vocab_size))))
        special = set(self.tokenizer.all_special_ids) | set(getattr(self.tokenizer, "added_tokens_decoder", {}) or {})
        out = []
        for i, piece in enumerate(pieces):
            if piece is None:
                out.append(b"")
            elif i in special:
                out.append(piece.encode("utf-8"))
            elif self._scheme == "byte_level":
                out.append(tokens.byte_level_bytes(piece) or piece.encode("utf-8"))
            elif self._scheme == "sentencepiece":
                out.append(tokens.sentencepiece_bytes(piece))
            else:
                out.append(self.tokenizer.convert_tokens_to_string([piece]).encode("utf-8"))
        return out + [b""] * (self.vocab_size - len(out))

    @cached_property
    def vocab(self) -> list[str]:
        """A distinct display label for every id of the model's output: UTF-8 text, partial characters as ⟨e6 98⟩."""
        labels = [tokens.display(b) if b else f"⟨{i}⟩" for i, b in enumerate(self.token_bytes)]
        return tokens.unique(labels)

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``, with the start token the tokenizer adds (if any)."""
        return list(self.tokenizer(text).input_ids)

    def _prompt_ids(self, prompt: str, extra: int = 0) -> list[int]:
        """The prompt's ids (the start token alone for an empty prompt), checked to fit the context with ``extra`` more."""
        ids = self.encode(prompt)
        if not ids:
            if self.tokenizer.bos_token_id is None:
                raise InputError("lm.empty_prompt")
            ids = [int(self.tokenizer.bos_token_id)]
        self._check_length(len(ids) + extra)
        return ids

    def _check_length(self, n: int) -> None:
        if n > self.context:
            raise InputError("lm.too_long", n=n, limit=self.context)

    # ---- forward passes

    def _forward(self, ids: Sequence[int], past=None):
        """Logits of every position (float32, numpy) and the key/value cache."""
        if self.backend == "numpy":
            return self.model.forward(list(ids), past)
        torch, _ = _require()
        with torch.inference_mode():
            out = self.model(torch.tensor([list(ids)]), cache=past, use_cache=True)
        return out.logits[0].float().numpy(), out.cache

    def next_token_logits(self, prompt: str) -> tuple[list[str], np.ndarray]:
        """``(labels, logits)``: the model's logits for the token after ``prompt``, over its whole vocabulary.

        ``logits`` is float32 of shape ``(V,)``, exactly the last position of
        the forward pass; ``labels[i]`` is token ``i`` as text.
        """
        logits, _ = self._forward(self._prompt_ids(prompt))
        return self.vocab, logits[-1].copy()

    def generate(self, prompt: str, steps: int, chain: Sequence[tuple[str, float] | sampling.Filter] = (), seed: int = 0, *,
                 stop_at_eos: bool = True) -> Trace:
        """Generate up to ``steps`` tokens, each drawn (seeded) from the logits after ``chain``.

        ``chain`` is logitsviz's filters in the order given, e.g.
        ``[("temperature", 0.8), ("top_p", 0.9)]`` or ``[("repetition", 1.3)]``
        (see :func:`logitsviz.sampling.draw`); empty samples from the model as
        it is. The same prompt, chain and seed give the same tokens.
        """
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
            raise InputError("args.n_samples", value=steps)
        if steps > (limit := limits().generate_tokens):
            raise InputError("lm.too_many_steps", n=int(steps), limit=limit)
        units = sampling.build_chain(chain)
        ids = self._prompt_ids(prompt, int(steps))
        rng = np.random.default_rng(seed)
        logits, past = self._forward(ids)
        z = logits[-1]
        generated: list[int] = []
        records = []
        for _ in range(int(steps)):
            # penalties and DRY see the prompt and what was generated (as llama.cpp's do); mirostat keeps its μ
            token, final = sampling.draw(z, units, history=[*ids, *generated], rng=rng)
            records.append((*_step_record(z, final, token), float(numerics.entropy(final.astype(np.float64), base=2)),
                            int(np.isfinite(final).sum()), _mirostat_mu(units)))
            generated.append(token)
            if stop_at_eos and token == self.tokenizer.eos_token_id:
                break
            logits, past = self._forward([token], past)
            z = logits[-1]
        shown = tokens.pieces([self.token_bytes[i] for i in [*ids[-8:], *generated]])[-len(generated):] if generated else []
        out = tuple(Step(token, piece.text, piece.partial, *record) for token, piece, record in zip(generated, shown, records))
        text = b"".join(self.token_bytes[i] for i in generated).decode("utf-8", errors="replace")
        named = tuple((u.name, float(u.setting)) if isinstance(u, sampling.Filter) else (str(u[0]), float(u[1])) for u in chain)
        return Trace(prompt, tuple(ids), out, named, int(seed), prompt + text)

    def score(self, text: str, top: int = 5) -> Scores:
        """Teacher-forced surprise of every token of ``text``: log-probability, rank, entropy, what was expected."""
        ids = self._prompt_ids(text)
        bos = self.tokenizer.bos_token_id
        if bos is not None and ids[0] != bos:
            ids = [int(bos), *ids]  # the start token lets the first real token be scored too
        self._check_length(len(ids))
        unscored = "" if ids[0] == bos else tokens.display(self.token_bytes[ids[0]], visible_space=False)
        if len(ids) < 2:
            return Scores(text, (), unscored)
        logits, _ = self._forward(ids)
        shown = tokens.pieces([self.token_bytes[i] for i in ids[1:]])
        scored = []
        for start in range(0, len(ids) - 1, _SCORE_BLOCK):  # positions in blocks: (T, V) float64 at once could be gigabytes
            block = slice(start, min(start + _SCORE_BLOCK, len(ids) - 1))
            scored += self._score_block(logits[block], np.array(ids[1:])[block], shown[block], top)
        return Scores(text, tuple(scored), unscored)

    def forced(self, text: str) -> tuple[list[int], np.ndarray]:
        """Teacher forcing over ``text``: ``(ids, logits)`` where ``logits[i]`` (float32, shape ``(len(ids) − 1, V)``)
        is the model's prediction for ``ids[i + 1]``. ``ids`` starts with the start token when the tokenizer has one,
        so the text's first token is predicted too (as :meth:`score` does)."""
        ids = self._prompt_ids(text)
        bos = self.tokenizer.bos_token_id
        if bos is not None and ids[0] != bos:
            ids = [int(bos), *ids]
        self._check_length(len(ids))
        if len(ids) < 2:
            raise InputError("lm.compare_short")
        logits, _ = self._forward(ids)
        return ids, logits[:-1]

    # ---- inside the model

    def _parts(self, ids: Sequence[int]) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
        """What the embeddings and each block's attention and MLP write into the residual stream, ``(T, d)`` each."""
        if self.backend == "numpy":
            return self.model.parts(list(ids))
        return _torch_parts(self.model, ids)

    @cached_property
    def _head(self) -> _Head:
        return _head_of(self.model) if self.backend == "torch" else _numpy_head(self.model)

    def lens(self, prompt: str) -> Lens:
        """The logit lens (nostalgebraist 2020) over ``prompt``: every layer's residual stream read out as logits.

        Row 0 is the embeddings, row ``l`` the residual after block ``l``; each goes through the model's final norm,
        with its own scale (not the last layer's: that would act as a temperature), and the unembedding. The last row
        is the model's own logits. Works for models with a final LayerNorm or RMSNorm and an unembedding (GPT-2,
        Llama, Qwen2 and their kin); others raise :class:`~logitsviz.InputError`.
        """
        head = self._head
        ids = self._prompt_ids(prompt)
        embed, attn, mlp = self._parts(ids)
        residual = np.cumsum(np.stack([embed, *(a + m for a, m in zip(attn, mlp))]).astype(np.float32), axis=0)
        shown = tuple(p.text for p in tokens.pieces([self.token_bytes[i] for i in ids]))
        return Lens(tuple(ids), shown, head.norm(residual).astype(np.float32), head.unembed, head.bias, self.vocab)

    def attribution(self, prompt: str, token: int, other: int | None = None) -> Attribution:
        """Direct logit attribution at the last position: how much the embeddings and each block's attention and MLP
        add to ``logit[token] − logit[other]`` (``other``: the runner-up when None).

        The final norm is linear once its scale is fixed: the scale is frozen at its value on the final residual
        (the one the model used), so the parts add up exactly to the difference. Each part is its vector, centred
        (LayerNorm), divided by that scale, times the norm's weight, dotted with ``W_U[token] − W_U[other]``; the norm's
        bias and the unembedding's bias, if any, are parts of their own.
        """
        head = self._head
        ids = self._prompt_ids(prompt)
        embed, attn, mlp = self._parts(ids)
        pieces = [("embeddings", None, embed[-1])]
        for i, (a, m) in enumerate(zip(attn, mlp)):
            pieces += [("attention", i, a[-1]), ("mlp", i, m[-1])]
        vectors = np.stack([v for *_, v in pieces]).astype(np.float64)
        final = vectors.sum(axis=0)
        normed_final = head.norm(final[None, :].astype(np.float64))[0]
        logits = head.logits(normed_final[None, :].astype(np.float32))[0]
        token = _token_id(token, logits.size)
        if other is None:
            order = np.argsort(-logits.astype(np.float64), kind="stable")
            other = int(order[1] if order[0] == token else order[0])
        other = _token_id(other, logits.size)
        if other == token:
            raise InputError("lm.attribution_same", token=token)
        w = head.unembed[token].astype(np.float64) - head.unembed[other].astype(np.float64)
        items = [(kind, layer, float(head.frozen(v, final) @ w)) for (kind, layer, _), v in zip(pieces, vectors)]
        if head.beta is not None:
            items.append(("norm_bias", None, float(head.beta.astype(np.float64) @ w)))
        if head.bias is not None:
            items.append(("unembed_bias", None, float(head.bias[token]) - float(head.bias[other])))
        return Attribution(token, other, tuple(items), normed_final, float(logits[token]), float(logits[other]))

    def _score_block(self, logits: np.ndarray, targets: np.ndarray, shown: list[tokens.Piece], top: int) -> list[TokenScore]:
        logp = numerics.log_softmax(logits.astype(np.float64))
        picked = logp[np.arange(targets.size), targets]
        ranks = (logp > picked[:, None]).sum(axis=1) + 1
        entropy = numerics.entropy(logp, base=2)
        best = np.argsort(-logp, axis=1)[:, :top]
        return [
            TokenScore(int(tok), piece.text, piece.partial, float(lp), int(rank), float(h),
                       tuple(Alternative(int(j), self.vocab[int(j)], float(row[j])) for j in alt))
            for tok, piece, lp, rank, h, alt, row in zip(targets, shown, picked, ranks, entropy, best, logp)
        ]


_SCORE_BLOCK = 32


def _mirostat_mu(units: Sequence[sampling.Filter]) -> float | None:
    return next((float(u.mu) for u in units if u.picks_token), None)


def _step_record(z: np.ndarray, final: np.ndarray, token: int) -> tuple:
    """What a Step keeps of one position's distribution: log p, final p, rank, entropy, the top tokens and the rest."""
    logp = numerics.log_softmax(z.astype(np.float64))
    k = min(TOP, z.size)
    top = np.argpartition(-z, k - 1)[:k] if k < z.size else np.arange(z.size)
    if token not in top:  # the drawn token is always among those kept, however unlikely
        top = np.append(top, token)
    top = top[np.lexsort((top, -z[top]))]
    rest = np.ones(z.size, dtype=bool)
    rest[top] = False
    rest_lse = float(numerics.logsumexp(z[rest].astype(np.float64))) if rest.any() else -math.inf
    final_p = float(numerics.softmax(final.astype(np.float64))[token])
    return (float(logp[token]), final_p, int((z > z[token]).sum()) + 1, float(numerics.entropy(z.astype(np.float64), base=2)),
            top, z[top].copy(), rest_lse, int(rest.sum()))


# ------------------------------------------------------------------ loading ----


def _available_memory() -> int | None:
    """Bytes of memory the system can give without swapping (Linux), or None where that is unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _weight_files(folder: Path, name: str) -> list[Path]:
    files = sorted(folder.glob("*.safetensors"))
    if not files:
        raise InputError("lm.no_safetensors", name=name)
    return files


def _parameter_count(files: list[Path]) -> int:
    """Parameters in safetensors files, read from their headers (nothing is loaded)."""
    total = 0
    for path in files:
        with open(path, "rb") as fh:
            size = int.from_bytes(fh.read(8), "little")
            header = json.loads(fh.read(size))
        total += sum(math.prod(entry["shape"]) for key, entry in header.items() if key != "__metadata__")
    return total


def _resolve(name_or_path: str, report=None) -> Path:
    """A local folder, or the hub id's files in the local cache (downloaded first when the hub is reachable)."""
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return path
    if name_or_path.startswith((".", "/", "~", "\\")) or name_or_path.count("/") > 1:  # a folder that is not there
        raise InputError("lm.not_found", name=name_or_path)
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError, RepositoryNotFoundError

    extra = {"tqdm_class": _download_progress(report)} if report is not None else {}
    try:
        return Path(snapshot_download(name_or_path, allow_patterns=["*.json", "*.safetensors", "*.model", "*.txt", "*.tiktoken"],
                                      **extra))
    except (RepositoryNotFoundError, HFValidationError):
        raise InputError("lm.not_found", name=name_or_path) from None
    except LocalEntryNotFoundError:
        raise InputError("lm.offline", name=name_or_path) from None
    except OSError as exc:  # no network at all: connection refused, DNS
        raise InputError("lm.offline", name=name_or_path, detail=str(exc)[:120]) from None


def _download_progress(report):
    """A tqdm class for huggingface_hub that reports the bytes downloaded so far as the stage "download"."""
    from tqdm.auto import tqdm

    class Progress(tqdm):
        def __init__(self, *args, **kwargs):
            kwargs["disable"] = False
            super().__init__(*args, **{**kwargs, "file": _Null()})

        def update(self, n=1):
            out = super().update(n)
            if self.unit == "B" and self.total:
                report("download", min(1.0, self.n / self.total))
            return out

    return Progress


class _Null:
    def write(self, _text):  # tqdm's bar goes nowhere: the page draws its own
        return 0

    def flush(self):
        return None


# Where loading spends its time, as fractions of the whole: finding (or downloading) the files, reading the weights
# from disk, building the model in memory, and the tokenizer. A progress bar moves through these.
STAGES = {"download": (0.0, 0.5), "read": (0.5, 0.75), "build": (0.75, 0.95), "tokenizer": (0.95, 1.0)}


def _read_ahead(files: list[Path], report) -> None:
    """Read the weight files once, in blocks, reporting how far: the real load then finds them in the page cache."""
    total = sum(f.stat().st_size for f in files) or 1
    done = 0
    for path in files:
        with open(path, "rb") as fh:
            while block := fh.read(8 << 20):
                done += len(block)
                report("read", done / total)


def _load(name: str, report=None) -> Model:
    """Load a model (see :func:`load`), calling ``report(stage, fraction_of_stage)`` as it goes."""
    report = report or (lambda stage, fraction: None)
    folder = Path(name).expanduser()
    if folder.is_dir() and gpt2.is_gpt2(folder) and (_prefers_numpy(folder) or not available("torch")):
        return _load_numpy(name, folder, report)
    torch, transformers = _require()
    folder = _resolve(name, report)
    _read_weights(folder, name, report)
    report("build", 0.0)
    try:
        model = transformers.AutoModelForCausalLM.from_pretrained(folder, use_safetensors=True, trust_remote_code=False,
                                                                  dtype=torch.float32)
    except (ValueError, OSError, KeyError) as exc:  # no config, a config with no causal LM class, or one needing remote code
        raise InputError("lm.unsupported", name=name, detail=str(exc).splitlines()[0][:200]) from None
    report("tokenizer", 0.0)
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(folder, trust_remote_code=False)
    except (ValueError, OSError) as exc:
        raise InputError("lm.tokenizer", name=name, detail=str(exc).splitlines()[0][:200]) from None
    model.eval()
    report("tokenizer", 1.0)
    return Model(name, model, tokenizer)


def _read_weights(folder: Path, name: str, report) -> None:
    """Refuse a model that would not fit in the free memory (as float32, with a fifth to spare); read its weight files
    ahead, reporting the bytes read."""
    files = _weight_files(folder, name)
    need, free = _parameter_count(files) * 4, _available_memory()
    if free is not None and need * 1.2 > free:
        raise InputError("lm.memory", name=name, need=f"{need / 2**30:.1f} GB", available=f"{free / 2**30:.1f} GB")
    _read_ahead(files, report)


def _prefers_numpy(folder: Path) -> bool:
    """GPT-2 folders small enough that numpy runs them about as fast as PyTorch, and loads them ten times sooner."""
    try:
        return (folder / "model.safetensors").stat().st_size <= NUMPY_BYTES
    except OSError:
        return False


NUMPY_BYTES = 64 * 2**20  # up to this size a GPT-2 runs in numpy: the built-in model's 9.7 MB, not GPT-2's 500 MB


def _load_numpy(name: str, folder: Path, report) -> Model:
    """A GPT-2 folder run by logitsviz.gpt2: no PyTorch, no transformers."""
    _read_weights(folder, name, report)
    report("build", 0.0)
    model = gpt2.GPT2(folder)
    report("tokenizer", 0.0)
    tokenizer = gpt2.Tokenizer(folder)
    report("tokenizer", 1.0)
    return Model(name, model, tokenizer)


class Loading:
    """A model loading in a background thread; one per name and process, so leaving the page does not stop it.

    ``stage`` is one of :data:`STAGES` (``"done"`` at the end), ``fraction``
    the share of the whole load done so far (0 to 1, never going back);
    :meth:`wait` blocks until the model is ready and returns it, or raises
    the :class:`~logitsviz.InputError` the load raised.
    """

    def __init__(self, name: str, model: Model | None = None) -> None:
        """Start loading ``name`` in a thread; given a ``model`` already loaded, a load that has finished."""
        self.name = name
        self.stage, self.fraction = ("done", 1.0) if model is not None else ("download", 0.0)
        self._model: Model | None = model
        self._error: BaseException | None = None
        self._done = threading.Event()
        if model is not None:
            self._done.set()
        else:
            threading.Thread(target=self._run, name=f"logitsviz-load-{name}", daemon=True).start()

    def _report(self, stage: str, fraction: float) -> None:
        lo, hi = STAGES[stage]
        self.stage = stage
        self.fraction = max(self.fraction, lo + (hi - lo) * min(1.0, max(0.0, fraction)))

    def _run(self) -> None:
        try:
            self._model = _load(self.name, self._report)
            with _LOCK:
                _MODELS[self.name] = self._model
                while len(_MODELS) > _KEEP:
                    _MODELS.pop(next(iter(_MODELS)))
            self._forget()  # the model is kept in _MODELS now
        except BaseException as exc:  # kept and raised again in the caller's thread by wait(), which then forgets the job
            self._error = exc
        finally:
            self.stage, self.fraction = "done", 1.0
            self._done.set()

    def _forget(self) -> None:
        with _LOCK:
            if _JOBS.get(self.name) is self:
                del _JOBS[self.name]

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> Model | None:
        """The model, once loaded (None if ``timeout`` seconds pass first); raises what the load raised."""
        if not self._done.wait(timeout):
            return None
        if self._error is not None:
            self._forget()  # a failed load is reported once; asking again tries again
            raise self._error
        return self._model


_KEEP = 2  # models kept loaded per process: each can take gigabytes
_MODELS: dict[str, Model] = {}
_JOBS: dict[str, Loading] = {}
_LOCK = threading.Lock()


def loading(name_or_path: str) -> Loading:
    """The background load of ``name_or_path``: already finished when the model is loaded, else started (once)."""
    name = str(name_or_path)
    with _LOCK:
        if name in _MODELS:
            _MODELS[name] = _MODELS.pop(name)  # the most recently used stays longest
            return Loading(name, _MODELS[name])
        if name not in _JOBS:
            _JOBS[name] = Loading(name)
        return _JOBS[name]


def forget() -> None:
    """Unload every model this process keeps (the next :func:`load` reads it again)."""
    with _LOCK:
        _MODELS.clear()


def load(name_or_path: str) -> Model:
    """Load a causal language model by Hugging Face id or local folder (kept: one copy per process).

    Safetensors weights only, never remote code, on the CPU in float32. The
    last two models loaded stay in memory; a load already running in the
    background (:func:`loading`) is waited for, not started again. A small
    GPT-2 folder (the built-in model) runs in numpy (:mod:`logitsviz.gpt2`),
    without PyTorch; everything else through transformers.

    Raises
    ------
    InputError
        The ``lm`` extra is missing (the message says how to install it);
        the id or folder does not exist; the hub cannot be reached and the
        model is not cached; there are no safetensors weights; the
        architecture is not a causal language model transformers knows; or
        the weights would not fit in the memory available.
    """
    return loading(name_or_path).wait()


# ------------------------------------------------------------ two models ----


def compare(model_a: Model, model_b: Model, text: str):
    """Both models on ``text``, teacher-forced: a :class:`logitsviz.divergence.Comparison` over every position
    (``base`` = ``model_a``, targets = the text's tokens), so ``.summary()`` is llama.cpp's ``--kl-divergence`` table.

    Raises :class:`~logitsviz.InputError` when the two models do not share a vocabulary (the same token for every id):
    their logits would not describe the same outcomes.
    """
    from logitsviz import divergence

    if model_a.vocab_size != model_b.vocab_size or model_a.token_bytes != model_b.token_bytes:
        raise InputError("lm.vocab_differs", a=model_a.name, b=model_b.name, va=f"{model_a.vocab_size:,}",
                         vb=f"{model_b.vocab_size:,}")
    ids, a = model_a.forced(text)
    ids_b, b = model_b.forced(text)
    if ids_b != ids:
        raise InputError("lm.vocab_differs", a=model_a.name, b=model_b.name, va=f"{model_a.vocab_size:,}",
                         vb=f"{model_b.vocab_size:,}")
    return divergence.compare(a, b, np.asarray(ids[1:]), labels=(model_a.name, model_b.name))


QUANTIZE_BITS = (2, 3, 4, 5, 6, 8)


def _round(w: np.ndarray, bits: int, axis: int) -> np.ndarray:
    """Symmetric round-to-nearest with one scale per slice along ``axis`` removed (per output channel):
    ``scale = max|w| / (2^(bits−1) − 1)``, ``w ≈ scale · clip(round(w / scale))``."""
    qmax = 2 ** (bits - 1) - 1
    scale = np.max(np.abs(w), axis=axis, keepdims=True) / qmax
    scale = np.where(scale > 0, scale, 1.0)
    return (np.clip(np.rint(w / scale), -qmax, qmax) * scale).astype(w.dtype)


def quantized(model: Model, bits: int) -> Model:
    """A copy of ``model`` whose weight matrices are rounded to ``bits`` bits, for seeing what quantisation does to
    the logits without downloading a quantised model (``model`` itself is not changed).

    Every matrix of a linear layer and the token embedding (and a separate output layer) is rounded symmetrically,
    one scale per output channel (per row of a ``Linear`` and of an embedding, per column of GPT-2's ``Conv1D``),
    to the nearest of the ``2^bits − 1`` levels ``k · max|w| / (2^(bits−1) − 1)``. Biases, norms and position
    tables stay as they are; activations stay float32.

    Real formats round in smaller groups, which keeps more precision: GGUF's Q8_0 and Q4_0 use blocks of 32 weights,
    each with its own scale (Q4_0 also has 16 levels where this has 15, and k-quants add per-block minimums). A
    whole channel shares one scale here, so an outlier in the channel costs every other weight in it: this is a
    pessimistic, easy-to-explain stand-in, not a reproduction of a particular file format.

    >>> QUANTIZE_BITS
    (2, 3, 4, 5, 6, 8)
    """
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or int(bits) not in QUANTIZE_BITS:
        raise InputError("lm.bits", bits=bits, allowed=", ".join(map(str, QUANTIZE_BITS)))
    bits = int(bits)
    free = _available_memory()
    if free is not None and model.memory_bytes * 1.2 > free:  # the copy is as large as the model
        raise InputError("lm.memory", name=f"{model.name} ({bits}-bit)", need=f"{model.memory_bytes / 2**30:.1f} GB",
                         available=f"{free / 2**30:.1f} GB")
    name = f"{model.name} · {bits}-bit"
    if model.backend == "numpy":
        return Model(name, _quantized_numpy(model.model, bits), model.tokenizer)
    return Model(name, _quantized_torch(model.model, bits), model.tokenizer)


def _quantized_numpy(net: gpt2.GPT2, bits: int) -> gpt2.GPT2:
    import copy

    out = copy.copy(net)
    weights = dict(net.weights)
    for key, w in net.weights.items():
        if w.ndim != 2 or key == "wpe.weight":
            continue
        # GPT-2's Conv1D keeps (in, out): one scale per column; the embedding and output layer: one per token (row)
        weights[key] = _round(w, bits, axis=0 if key.endswith(("c_attn.weight", "c_proj.weight", "c_fc.weight")) else 1)
    out.weights = weights
    out.wte = weights["wte.weight"]
    out.unembed = weights.get("lm_head.weight", out.wte)
    out.blocks = [{name: weights[f"h.{i}.{name}"] for name in block} for i, block in enumerate(net.blocks)]
    return out


def _quantized_torch(net, bits: int):
    import copy

    torch, _ = _require()
    from transformers.pytorch_utils import Conv1D

    out = copy.deepcopy(net)
    tokens_in = out.get_input_embeddings()
    done: set[int] = set()
    with torch.no_grad():
        for module in out.modules():
            # linear layers and the token embedding; other embeddings (GPT-2's positions) are tables, kept as they are
            if isinstance(module, (torch.nn.Linear, Conv1D)) or module is tokens_in:
                w = module.weight
                if w.data_ptr() in done:  # a tied output layer: the embedding was rounded already
                    continue
                done.add(w.data_ptr())
                axis = 0 if isinstance(module, Conv1D) else 1
                w.copy_(torch.from_numpy(_round(w.detach().float().numpy(), bits, axis)).to(w.dtype))
    out.eval()
    return out


# ------------------------------------------------------------ the logit lens ----


@dataclass(frozen=True)
class _Head:
    """A model's final norm and unembedding, in numpy: ``norm`` recomputes the scale of each residual it is given."""

    kind: str  # "layer" (LayerNorm) or "rms" (RMSNorm)
    gamma: np.ndarray
    beta: np.ndarray | None
    eps: float
    unembed: np.ndarray  # (V, d) float32
    bias: np.ndarray | None  # (V,) or None
    offset: float = 0.0  # RMSNorms that scale by (1 + weight), as Gemma's

    def _scale(self, h: np.ndarray) -> np.ndarray:
        if self.kind == "layer":
            return np.sqrt(h.var(axis=-1, keepdims=True) + self.eps)
        return np.sqrt(np.mean(h * h, axis=-1, keepdims=True) + self.eps)

    def norm(self, h: np.ndarray) -> np.ndarray:
        centred = h - h.mean(axis=-1, keepdims=True) if self.kind == "layer" else h
        out = centred / self._scale(h) * (self.gamma + self.offset)
        return out + self.beta if self.beta is not None else out

    def frozen(self, v: np.ndarray, final: np.ndarray) -> np.ndarray:
        """The norm as the linear map it is at ``final``'s scale (its bias left out): applied to one part ``v``."""
        centred = v - v.mean() if self.kind == "layer" else v
        return centred / self._scale(final) * (self.gamma.astype(np.float64) + self.offset)

    def logits(self, normed: np.ndarray) -> np.ndarray:
        out = normed.astype(np.float32) @ self.unembed.T
        return out + self.bias if self.bias is not None else out


def _numpy_head(net: gpt2.GPT2) -> _Head:
    w = net.weights
    return _Head("layer", w["ln_f.weight"], w["ln_f.bias"], net.config.layer_norm_epsilon, net.unembed, None)


def _blocks_of(model):
    base = model.base_model
    blocks = getattr(base, "h", None) or getattr(base, "layers", None)
    norm = next((getattr(base, n) for n in ("ln_f", "norm", "final_layernorm", "final_layer_norm") if hasattr(base, n)), None)
    if blocks is None or norm is None or model.get_output_embeddings() is None:
        raise InputError("lm.lens_unsupported", arch=type(model).__name__)
    for block in blocks:
        if _attention_of(block) is None or getattr(block, "mlp", None) is None:
            raise InputError("lm.lens_unsupported", arch=type(model).__name__)
    return blocks, norm


def _attention_of(block):
    return getattr(block, "attn", None) or getattr(block, "self_attn", None)


def _head_of(model) -> _Head:
    torch, _ = _require()
    _, norm = _blocks_of(model)
    out = model.get_output_embeddings()
    weight = norm.weight.detach().float().numpy()
    bias = getattr(norm, "bias", None)
    if isinstance(norm, torch.nn.LayerNorm):
        kind, eps = "layer", float(norm.eps)
    elif type(norm).__name__.endswith("RMSNorm"):
        kind, eps = "rms", float(getattr(norm, "variance_epsilon", None) or getattr(norm, "eps", 1e-6))
    else:
        raise InputError("lm.lens_unsupported", arch=type(model).__name__)
    offset = 1.0 if type(norm).__name__.startswith("Gemma") else 0.0
    unembed_bias = None if getattr(out, "bias", None) is None else out.bias.detach().float().numpy()
    return _Head(kind, weight, None if bias is None else bias.detach().float().numpy(), eps,
                 out.weight.detach().float().numpy(), unembed_bias, offset)


def _torch_parts(model, ids: Sequence[int]) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """The embeddings and each block's attention and MLP outputs, read with forward hooks in one pass."""
    torch, _ = _require()
    blocks, _ = _blocks_of(model)
    attn: list = [None] * len(blocks)
    mlp: list = [None] * len(blocks)
    first: list = [None]

    def keep(store, i):
        def hook(_module, args, output):
            store[i] = (output[0] if isinstance(output, tuple) else output)[0].detach().float().numpy()
        return hook

    def entry(_module, args, kwargs):
        hidden = args[0] if args else kwargs.get("hidden_states")
        first[0] = hidden[0].detach().float().numpy()

    handles = [blocks[0].register_forward_pre_hook(entry, with_kwargs=True)]
    for i, block in enumerate(blocks):
        handles += [_attention_of(block).register_forward_hook(keep(attn, i)), block.mlp.register_forward_hook(keep(mlp, i))]
    try:
        with torch.inference_mode():
            model(torch.tensor([list(ids)]), use_cache=False)
    finally:
        for h in handles:
            h.remove()
    return first[0], attn, mlp


def _token_id(token, vocab_size: int) -> int:
    if isinstance(token, bool) or not isinstance(token, (int, np.integer)) or not 0 <= int(token) < vocab_size:
        raise InputError("lm.token_id", token=str(token)[:40], v=f"{vocab_size:,}")
    return int(token)


JOURNEY = 3  # tokens the lens follows through the rows at each position: the final row's top three


@dataclass(frozen=True)
class Lens:
    """Every layer's residual stream read out as logits (see :meth:`Model.lens`).

    ``normed`` holds each layer's residual through the final norm, ``(layers + 1, tokens, d)``; the logits of a layer
    are computed from it when asked (:meth:`layer`), so a lens of a large vocabulary costs one layer's logits at a
    time. :attr:`logits` builds them all, up to ``config.limits().lens_values`` values.
    """

    ids: tuple[int, ...]
    tokens: tuple[str, ...]  # the prompt's tokens as text
    normed: np.ndarray
    unembed: np.ndarray
    bias: np.ndarray | None
    vocab: list[str]

    @property
    def layers(self) -> int:
        """Rows: the embeddings and one per block."""
        return int(self.normed.shape[0])

    def layer(self, row: int) -> np.ndarray:
        """Logits ``(tokens, V)`` float32 of one row (0 = embeddings, the last = the model's logits)."""
        out = self.normed[row] @ self.unembed.T
        return out + self.bias if self.bias is not None else out

    @property
    def logits(self) -> np.ndarray:
        """``(layers + 1, tokens, V)`` float32, every row at once."""
        need = self.layers * self.normed.shape[1] * self.unembed.shape[0]
        if need > (limit := limits().lens_values):
            raise InputError("lm.lens_too_big", n=f"{need:,}", limit=f"{limit:,}")
        return np.stack([self.layer(r) for r in range(self.layers)])

    @cached_property
    def _summary(self) -> tuple[np.ndarray, ...]:
        """One pass over the rows, each row's logits made once: KL(final ‖ row), the top 10 ids and probabilities,
        and the probability and rank of the final row's top :data:`JOURNEY` at every row."""
        last = self.layer(self.layers - 1)
        final = numerics.log_softmax(last.astype(np.float64))
        p_final = np.exp(final)
        neg_entropy = np.sum(p_final * final, axis=-1)  # Σ p log p of the final row, once
        k = min(JOURNEY, final.shape[-1])
        part = np.argpartition(-final, k - 1, axis=-1)[:, :k]
        follow = np.take_along_axis(part, np.argsort(-np.take_along_axis(final, part, axis=-1), axis=-1, kind="stable"),
                                    axis=-1)  # (tokens, JOURNEY), best first
        cols = np.arange(last.shape[0])[:, None]
        kl, top, probs, j_prob, j_rank = [], [], [], [], []
        for r in range(self.layers):
            z = last if r == self.layers - 1 else self.layer(r)
            logp = numerics.log_softmax(z)  # float32: 50,000 × 128 in a few milliseconds
            cross = np.einsum("tv,tv->t", p_final, logp, dtype=np.float64)  # Σ p_final log p_row, accumulated in float64
            kl.append(np.maximum(neg_entropy - cross, 0.0) if r < self.layers - 1 else np.zeros(z.shape[0]))
            k = min(10, logp.shape[-1])
            # the ten largest by a partition, then only those sorted (a full sort of 50,000 per position took seconds)
            part = np.argpartition(-logp, k - 1, axis=-1)[:, :k]
            best = np.take_along_axis(part, np.argsort(-np.take_along_axis(logp, part, axis=-1), axis=-1, kind="stable"), axis=-1)
            top.append(best)
            probs.append(np.exp(np.take_along_axis(logp, best, axis=-1).astype(np.float64)))
            picked = z[cols, follow]  # (tokens, JOURNEY)
            j_prob.append(np.exp(logp[cols, follow].astype(np.float64)))
            j_rank.append((z[:, None, :] > picked[:, :, None]).sum(axis=-1))
        return (np.stack(kl), np.stack(top), np.stack(probs), follow, np.stack(j_prob, axis=-1), np.stack(j_rank, axis=-1))

    def journey(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The final row's top :data:`JOURNEY` tokens at each position, followed through the rows:
        ``(ids (tokens, JOURNEY), probabilities (tokens, JOURNEY, layers + 1), 0-based ranks (same shape))``."""
        _, _, _, ids, prob, rank = self._summary
        return ids, prob, rank

    @property
    def kl_to_final(self) -> np.ndarray:
        """``(layers + 1, tokens)``: KL(final ‖ row) in nats; 0 on the last row."""
        return self._summary[0]

    def rank(self, token_id: int) -> np.ndarray:
        """``(layers + 1, tokens)``: the 0-based rank of ``token_id`` at every row and position (0 = the top)."""
        token_id = _token_id(token_id, self.unembed.shape[0])
        out = np.empty((self.layers, self.normed.shape[1]), dtype=np.int64)
        for r in range(self.layers):
            z = self.layer(r)
            out[r] = (z > z[:, token_id:token_id + 1]).sum(axis=-1)
        return out

    def probability(self, token_id: int) -> np.ndarray:
        """``(layers + 1, tokens)``: the probability of ``token_id`` at every row and position."""
        token_id = _token_id(token_id, self.unembed.shape[0])
        return np.stack([numerics.softmax(self.layer(r).astype(np.float64))[:, token_id] for r in range(self.layers)])

    def top(self, k: int = 1) -> tuple[list[list[list[str]]], np.ndarray]:
        """The top ``k`` (at most 10) tokens as text and their probabilities, per row and position:
        ``(texts[row][position][j], probs (layers + 1, tokens, k))``."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= 10:
            raise InputError("lm.lens_k", k=str(k)[:20])
        _, top, probs, *_ = self._summary
        texts = [[[self.vocab[i] for i in row[:k]] for row in layer] for layer in top]
        return texts, probs[..., :k]

    def top_ids(self) -> np.ndarray:
        """``(layers + 1, tokens)``: the top token id at every row and position."""
        return self._summary[1][..., 0]

    def ranked(self, k: int = 10) -> np.ndarray:
        """``(layers + 1, tokens, k)``: the ids of the top ``k`` (at most 10), best first, at every row and position."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= 10:
            raise InputError("lm.lens_k", k=str(k)[:20])
        return self._summary[1][..., :k]


@dataclass(frozen=True)
class Attribution:
    """Direct logit attribution at a prompt's last position (see :meth:`Model.attribution`)."""

    token: int
    other: int
    items: tuple[tuple[str, int | None, float], ...]  # (kind, block or None, value) in the order they add up
    hidden: np.ndarray  # the final residual through the final norm: what the unembedding reads
    logit: float  # the model's logit of ``token``
    other_logit: float

    @property
    def parts(self) -> dict[str, float]:
        """``{"embeddings": …, "block 0 attention": …, "block 0 MLP": …, …, "final norm bias": …}``."""
        names = {"embeddings": "embeddings", "norm_bias": "final norm bias", "unembed_bias": "unembedding bias"}
        return {(f"block {layer} {'attention' if kind == 'attention' else 'MLP'}" if layer is not None else names[kind]): value
                for kind, layer, value in self.items}

    @property
    def total(self) -> float:
        """``logit[token] − logit[other]``, the sum of the parts."""
        return float(sum(v for *_, v in self.items))
