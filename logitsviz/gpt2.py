"""GPT-2's forward pass in numpy: the built-in language model without PyTorch.

A GPT-2 folder as Hugging Face saves it (``config.json``, ``model.safetensors``,
``tokenizer.json``) read and run with numpy alone: the safetensors file is a
JSON header and raw little-endian arrays, the tokenizer is the ``tokenizers``
library's. The same arithmetic transformers' ``GPT2LMHeadModel`` does, in
float32 (the tests compare the two); it loads in a fraction of a second where
importing PyTorch and transformers takes about ten on 2 cores, so the
Language model page opens at once, and works where the ``lm`` extra is not
installed.

Each block: ``h += attn(LN₁(h))``, ``h += mlp(LN₂(h))``; then ``LN_f`` and the
tied unembedding ``logits = h · W_teᵀ``. Attention is causal, scaled by
``1/√d_head``; the MLP's activation is GPT-2's tanh GELU.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from logitsviz.errors import InputError

__all__ = ["GPT2", "Tokenizer", "is_gpt2", "read_safetensors"]

_DTYPES = {"F16": np.float16, "BF16": None, "F32": np.float32, "F64": np.float64}


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Every tensor of a ``.safetensors`` file, as float32 numpy arrays (the format: an 8-byte header length, JSON, data)."""
    raw = Path(path).read_bytes()
    size = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + size])
    data = memoryview(raw)[8 + size :]
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        if entry["dtype"] == "BF16":  # bfloat16: the top half of a float32
            half = np.frombuffer(data[start:end], dtype="<u2").astype(np.uint32) << 16
            array = half.view(np.float32)
        elif _DTYPES.get(entry["dtype"]) is not None:
            array = np.frombuffer(data[start:end], dtype=np.dtype(_DTYPES[entry["dtype"]]).newbyteorder("<"))
        else:
            raise InputError("lm.unsupported", name=str(path), detail=f"tensor type {entry['dtype']}")
        out[name] = array.reshape(entry["shape"]).astype(np.float32)
    return out


def is_gpt2(folder: Path) -> bool:
    """Whether ``folder`` holds a GPT-2 this module can run: its config, one safetensors file, a tokenizer.json."""
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (config.get("model_type") == "gpt2" and config.get("activation_function", "gelu_new") in ("gelu_new", "gelu_pytorch_tanh")
            and not config.get("scale_attn_by_inverse_layer_idx") and (folder / "model.safetensors").is_file()
            and (folder / "tokenizer.json").is_file())


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    """GPT-2's GELU: the tanh approximation (transformers' ``gelu_new``)."""
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


@dataclass(frozen=True)
class Config:
    vocab_size: int
    n_positions: int
    n_embd: int
    n_layer: int
    n_head: int
    n_inner: int
    layer_norm_epsilon: float
    bos_token_id: int | None
    eos_token_id: int | None

    @property
    def max_position_embeddings(self) -> int:
        return self.n_positions


class GPT2:
    """A GPT-2 language model in numpy: ``forward(ids, past)`` gives every position's logits and the key/value cache."""

    def __init__(self, folder: Path) -> None:
        raw = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        self.config = Config(int(raw["vocab_size"]), int(raw["n_positions"]), int(raw["n_embd"]), int(raw["n_layer"]),
                             int(raw["n_head"]), int(raw.get("n_inner") or 4 * raw["n_embd"]),
                             float(raw.get("layer_norm_epsilon", 1e-5)), raw.get("bos_token_id"), raw.get("eos_token_id"))
        w = {k.removeprefix("transformer."): v for k, v in read_safetensors(folder / "model.safetensors").items()}
        self.weights = w
        self.wte, self.wpe = w["wte.weight"], w["wpe.weight"]
        self.unembed = w.get("lm_head.weight", self.wte)  # tied to the embedding unless saved on its own
        self.blocks = [{name: w[f"h.{i}.{name}"] for name in (
            "ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight", "attn.c_proj.bias",
            "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias")}
            for i in range(self.config.n_layer)]

    @property
    def parameters(self) -> int:
        return sum(int(v.size) for v in self.weights.values())

    def forward(self, ids: list[int], past: list | None = None) -> tuple[np.ndarray, list]:
        """Logits ``(len(ids), V)`` float32 for ``ids`` following the ``past`` cache, and the cache with them added."""
        h, _, new_past = self._residual(ids, past)
        return self.logits(self.final_norm(h)), new_past

    def parts(self, ids: list[int]) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
        """What each piece writes into the residual stream at every position: the embeddings ``(T, d)``, then each
        block's attention output and MLP output. Their running sums are the residual after each block; their total is
        what the final norm reads."""
        _, parts, _ = self._residual(ids, None, keep=True)
        return parts[0], parts[1::2], parts[2::2]

    def final_norm(self, h: np.ndarray) -> np.ndarray:
        """The final layer norm ``ln_f`` of residuals ``(..., d)``, each with its own mean and variance."""
        return _layer_norm(h, self.weights["ln_f.weight"], self.weights["ln_f.bias"], self.config.layer_norm_epsilon)

    def logits(self, normed: np.ndarray) -> np.ndarray:
        return (normed @ self.unembed.T).astype(np.float32)

    def _residual(self, ids: list[int], past: list | None, keep: bool = False):
        c = self.config
        start = past[0][0].shape[1] if past else 0
        positions = np.arange(start, start + len(ids))
        h = self.wte[np.asarray(ids)] + self.wpe[positions]
        parts = [h] if keep else []
        head = c.n_embd // c.n_head
        new_past = []
        for i, b in enumerate(self.blocks):
            a = _layer_norm(h, b["ln_1.weight"], b["ln_1.bias"], c.layer_norm_epsilon)
            q, k, v = np.split(a @ b["attn.c_attn.weight"] + b["attn.c_attn.bias"], 3, axis=-1)
            q, k, v = (x.reshape(len(ids), c.n_head, head).transpose(1, 0, 2) for x in (q, k, v))  # (heads, T, head)
            if past:
                k, v = np.concatenate([past[i][0], k], axis=1), np.concatenate([past[i][1], v], axis=1)
            new_past.append((k, v))
            scores = q @ k.transpose(0, 2, 1) / np.float32(math.sqrt(head))
            # causal: the query at absolute position p sees the keys at positions up to p
            scores = np.where(np.arange(k.shape[1])[None, :] <= positions[:, None], scores, np.float32(-np.inf))
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            attn = (scores / scores.sum(axis=-1, keepdims=True)) @ v
            attn_out = attn.transpose(1, 0, 2).reshape(len(ids), c.n_embd) @ b["attn.c_proj.weight"] + b["attn.c_proj.bias"]
            h = h + attn_out
            m = _layer_norm(h, b["ln_2.weight"], b["ln_2.bias"], c.layer_norm_epsilon)
            mlp_out = _gelu(m @ b["mlp.c_fc.weight"] + b["mlp.c_fc.bias"]) @ b["mlp.c_proj.weight"] + b["mlp.c_proj.bias"]
            h = h + mlp_out
            if keep:
                parts += [attn_out, mlp_out]
        return h, parts, new_past


class _Encoding:
    def __init__(self, ids: list[int]) -> None:
        self.input_ids = ids


class Tokenizer:
    """A ``tokenizer.json`` read by the ``tokenizers`` library, with the few methods of a transformers tokenizer logitsviz uses."""

    def __init__(self, folder: Path) -> None:
        try:
            from tokenizers import Tokenizer as Backend
        except ImportError:
            raise InputError("lm.missing_tokenizers", command="pip install tokenizers") from None
        self.backend_tokenizer = Backend.from_file(str(folder / "tokenizer.json"))
        try:
            settings = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            settings = {}
        token = self.backend_tokenizer.token_to_id
        self.bos_token_id = token(settings["bos_token"]) if isinstance(settings.get("bos_token"), str) else None
        self.eos_token_id = token(settings["eos_token"]) if isinstance(settings.get("eos_token"), str) else None
        self.added_tokens_decoder = {i: t.content for i, t in self.backend_tokenizer.get_added_tokens_decoder().items()}
        self.all_special_ids = [i for i, t in self.backend_tokenizer.get_added_tokens_decoder().items() if t.special]

    def __call__(self, text: str) -> _Encoding:
        return _Encoding(self.backend_tokenizer.encode(text).ids)

    def __len__(self) -> int:
        return self.backend_tokenizer.get_vocab_size(with_added_tokens=True)

    def convert_ids_to_tokens(self, ids: list[int]) -> list[str | None]:
        return [self.backend_tokenizer.id_to_token(i) for i in ids]

    def convert_tokens_to_string(self, pieces: list[str]) -> str:
        return self.backend_tokenizer.decoder.decode(pieces)
