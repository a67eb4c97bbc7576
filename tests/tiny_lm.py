"""Tiny language models for the tests: a byte-level BPE tokenizer trained here, random weights, saved as Hugging Face folders.

Nothing is downloaded. ``build(folder, "gpt2")`` (or ``"llama"``, ``"qwen2"``)
writes ``config.json``, ``model.safetensors`` and the tokenizer files with
``save_pretrained``, so the tests load them through ``lm.load(folder)``, the
real loading path.
"""

from __future__ import annotations

from pathlib import Path

TEXT = [
    "The new smartphone has amazing features and a long battery life.",
    "Once upon a time there was a cat who sat on the mat.",
    "The capital of France is Paris, and the capital of Japan is Tokyo.",
    "今天天气很好，我们去公园散步吧。",
    "我喜欢学习机器学习和深度学习。",
    "这是一个测试句子，包含中文字符。",
    "Emoji are bytes too: 🐱 🎉 👍 and a flag 🇫🇷.",
    "for i in range(10): print(i * 2)",
]


def tokenizer(vocab_size: int = 400):
    """A byte-level BPE tokenizer (GPT-2's scheme) trained on :data:`TEXT`, wrapped for transformers."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=["<|endoftext|>"], show_progress=False)
    tok.train_from_iterator(TEXT * 20, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", bos_token="<|endoftext|>")


def build(folder: Path, arch: str = "gpt2", seed: int = 0) -> Path:
    """Write a tiny random model of ``arch`` with :func:`tokenizer` into ``folder``."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

    tok = tokenizer()
    special = dict(bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    torch.manual_seed(seed)
    if arch == "gpt2":
        model = GPT2LMHeadModel(GPT2Config(vocab_size=len(tok), n_positions=64, n_embd=32, n_layer=2, n_head=2, **special))
    elif arch == "llama":
        model = LlamaForCausalLM(LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                             num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64, **special))
    elif arch == "qwen2":
        # a padded output layer, as real Qwen models have: more logits than tokens
        model = Qwen2ForCausalLM(Qwen2Config(vocab_size=len(tok) + 16, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                             num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64, **special))
    else:
        raise ValueError(arch)
    with torch.no_grad():  # larger weights than the default init: distributions with some shape, not near-uniform
        for p in model.parameters():
            p.mul_(8.0)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder
