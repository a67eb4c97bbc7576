"""A Hugging Face GPT-2 folder written as a GGUF file that llama.cpp loads, with the `gguf` package's writer.

Tensor names and metadata as llama.cpp's own converter (convert_hf_to_gguf.py,
GPT2Model) writes them: GPT-2's Conv1D weights are stored transposed, the
output layer is the token embedding (tied), and the tokenizer is GPT-2's
byte-level BPE with its pre-tokenizer ("gpt-2"). float32 throughout, so
llama.cpp computes with the same numbers transformers does.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def export(folder: Path, out: Path) -> Path:
    import gguf
    from safetensors.numpy import load_file

    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    tok = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
    weights = {k.removeprefix("transformer."): v.astype(np.float32) for k, v in load_file(folder / "model.safetensors").items()}

    writer = gguf.GGUFWriter(str(out), "gpt2")
    writer.add_name("logitsviz builtin")
    writer.add_context_length(config["n_positions"])
    writer.add_embedding_length(config["n_embd"])
    writer.add_feed_forward_length(config.get("n_inner") or 4 * config["n_embd"])
    writer.add_block_count(config["n_layer"])
    writer.add_head_count(config["n_head"])
    writer.add_layer_norm_eps(config.get("layer_norm_epsilon", 1e-5))
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)

    vocab = tok["model"]["vocab"]
    special = {t["content"]: t["id"] for t in tok["added_tokens"]}
    size = config["vocab_size"]
    pieces = [""] * size
    for piece, i in {**vocab, **special}.items():
        pieces[i] = piece
    types = [gguf.TokenType.CONTROL if p in special else gguf.TokenType.NORMAL for p in pieces]
    merges = [m if isinstance(m, str) else " ".join(m) for m in tok["model"]["merges"]]
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("gpt-2")  # GPT-2's own pre-tokenizer regex, as the Hugging Face ByteLevel one
    writer.add_token_list(pieces)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    writer.add_bos_token_id(config["bos_token_id"])
    writer.add_eos_token_id(config["eos_token_id"])
    writer.add_add_bos_token(False)  # as the Hugging Face tokenizer: a prompt's ids are its text's, no start token

    names = {"ln_1": "attn_norm", "attn.c_attn": "attn_qkv", "attn.c_proj": "attn_output", "ln_2": "ffn_norm",
             "mlp.c_fc": "ffn_up", "mlp.c_proj": "ffn_down"}
    writer.add_tensor("token_embd.weight", weights["wte.weight"])
    writer.add_tensor("position_embd.weight", weights["wpe.weight"])
    for i in range(config["n_layer"]):
        for hf, ours in names.items():
            w = weights[f"h.{i}.{hf}.weight"]
            writer.add_tensor(f"blk.{i}.{ours}.weight", w.T.copy() if w.ndim == 2 else w)  # Conv1D: (in, out) → (out, in)
            writer.add_tensor(f"blk.{i}.{ours}.bias", weights[f"h.{i}.{hf}.bias"])
    writer.add_tensor("output_norm.weight", weights["ln_f.weight"])
    writer.add_tensor("output_norm.bias", weights["ln_f.bias"])
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out


if __name__ == "__main__":
    import sys

    export(Path(sys.argv[1]), Path(sys.argv[2]))
