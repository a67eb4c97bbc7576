"""lm.compare and lm.quantized on tiny PyTorch models and on the built-in numpy model."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special
import torch
from transformers import AutoModelForCausalLM

from logitsviz import InputError, divergence, examples, lm

TEXT = "the cat sat on the mat and the dog ran"


@pytest.fixture(scope="module")
def builtin():
    return lm.load(str(examples.language_model_folder()))


@pytest.mark.parametrize("arch", ["gpt2", "llama", "qwen2"])
def test_compare_a_model_with_itself_and_with_a_retrained_copy(arch, tiny_models, tmp_path):
    from tests.tiny_lm import build

    a = lm.load(str(tiny_models[arch]))
    same = lm.compare(a, a, TEXT)
    ids, logits = a.forced(TEXT)
    assert len(same) == len(ids) - 1 and logits.shape == (len(ids) - 1, a.vocab_size)
    np.testing.assert_array_equal(same.targets, ids[1:])
    assert np.all(same.kl == 0) and np.all(same.same_top)
    other = lm.load(str(build(tmp_path / arch, arch, seed=1)))  # same tokenizer, other weights
    c = lm.compare(a, other, TEXT)
    _, other_logits = other.forced(TEXT)
    np.testing.assert_allclose(c.kl, divergence.kl(logits.astype(np.float64), other_logits.astype(np.float64)), rtol=1e-4)
    s = c.summary()
    want = np.exp(-scipy.special.log_softmax(logits.astype(np.float64), -1)[np.arange(len(ids) - 1), ids[1:]].mean())
    assert s["ppl_base"] == pytest.approx(want, rel=1e-4) and s["kl_mean"] > 0.01
    assert c.labels == (a.name, other.name)


def test_models_with_different_vocabularies_are_refused(tiny_models, builtin):
    with pytest.raises(InputError, match="vocabulary"):
        lm.compare(lm.load(str(tiny_models["gpt2"])), builtin, TEXT)
    with pytest.raises(InputError, match="vocabulary"):  # the same tokenizer with a padded output layer
        lm.compare(lm.load(str(tiny_models["gpt2"])), lm.load(str(tiny_models["qwen2"])), TEXT)


def _levels(w: np.ndarray, axis: int) -> int:
    """The most distinct values any output channel holds."""
    return max(len(np.unique(c)) for c in np.moveaxis(w, axis, 0))


@pytest.mark.parametrize("bits", [8, 4, 2])
def test_quantized_torch_rounds_each_output_channel(bits, tiny_models):
    a = lm.load(str(tiny_models["llama"]))
    before = {k: v.clone() for k, v in a.model.state_dict().items()}
    q = lm.quantized(a, bits)
    for k, v in a.model.state_dict().items():  # the original is untouched
        assert torch.equal(v, before[k]), k
    qmax = 2 ** (bits - 1) - 1
    for name, module in q.model.named_modules():
        if isinstance(module, (torch.nn.Linear, torch.nn.Embedding)):
            w = module.weight.detach().numpy().astype(np.float64)
            original = dict(a.model.named_modules())[name].weight.detach().numpy().astype(np.float64)
            assert _levels(w, 0) <= 2 * qmax + 1, name
            scale = np.abs(original).max(axis=1, keepdims=True) / qmax
            assert np.all(np.abs(w - original) <= scale / 2 * (1 + 1e-5) + 1e-7), name  # round to nearest
            np.testing.assert_allclose(np.abs(w).max(axis=1), np.abs(original).max(axis=1), rtol=1e-6)  # max kept
    norms = [k for k in before if "norm" in k]
    assert norms and all(torch.equal(q.model.state_dict()[k], before[k]) for k in norms)
    assert q.name.endswith(f"{bits}-bit") and q.vocab == a.vocab


def test_quantized_gpt2_conv1d_scales_per_column(tiny_models):
    a = lm.load(str(tiny_models["gpt2"]))  # a small GPT-2 folder runs in numpy
    assert a.backend == "numpy"
    q = lm.quantized(a, 4)
    w, original = q.model.blocks[0]["attn.c_attn.weight"], a.model.blocks[0]["attn.c_attn.weight"]  # Conv1D: (in, out)
    assert _levels(w, 1) <= 15
    np.testing.assert_allclose(np.abs(w).max(axis=0), np.abs(original).max(axis=0), rtol=1e-6)
    u, u0 = q.model.unembed, a.model.unembed  # the output layer: one scale per token
    np.testing.assert_allclose(np.abs(u).max(axis=1), np.abs(u0).max(axis=1), rtol=1e-6)
    # the torch path gives the same rounding as the numpy one
    ref = lm.Model("torch", AutoModelForCausalLM.from_pretrained(tiny_models["gpt2"]).eval(), a.tokenizer)
    np.testing.assert_allclose(lm.quantized(ref, 4).model.transformer.h[0].attn.c_attn.weight.detach().numpy(), w,
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(lm.compare(ref, lm.quantized(ref, 4), TEXT).kl, lm.compare(a, q, TEXT).kl, rtol=1e-3,
                               atol=1e-6)


def test_builtin_model_drifts_more_as_bits_fall(builtin):
    """The README's figures: mean KL to the full model is small at 8 bits and rises at 4 and 2."""
    text = "The new smartphone has a bright screen and a long battery life."
    kls = {}
    for bits in (8, 4, 2):
        q = lm.quantized(builtin, bits)
        assert _levels(q.model.blocks[0]["mlp.c_fc.weight"], 1) <= 2 ** bits - 1
        assert q.model.weights["wpe.weight"] is builtin.model.weights["wpe.weight"]  # position table kept
        kls[bits] = lm.compare(builtin, q, text).summary()["kl_mean"]
    assert kls[8] < 1e-3 < kls[4] < kls[2]
    assert builtin.model.blocks[0]["mlp.c_fc.weight"].dtype == np.float32


def test_quantized_refuses_other_bit_widths(builtin):
    for bad in (1, 7, 16, 4.0, True, "4"):
        with pytest.raises(InputError):
            lm.quantized(builtin, bad)


def test_forced_needs_two_tokens(builtin):
    with pytest.raises(InputError):
        lm.compare(builtin, builtin, "")


def test_a_copy_that_would_not_fit_is_refused(builtin, monkeypatch):
    monkeypatch.setattr(lm, "_available_memory", lambda: builtin.memory_bytes // 2)
    with pytest.raises(InputError, match="memory"):
        lm.quantized(builtin, 4)
