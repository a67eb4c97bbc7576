"""The logit lens and direct logit attribution, on tiny GPT-2, Llama and Qwen2 models and the built-in numpy model,
against forward hooks on each block and float64 references."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from transformers import AutoModelForCausalLM

from logitsviz import InputError, examples, lm, numerics

PROMPT = "the cat sat on the mat and"


@pytest.fixture(scope="module")
def models(tiny_models):
    """Each architecture run by PyTorch (the tiny GPT-2 folder would load in numpy: built here through transformers)."""
    out = {}
    for arch in ("gpt2", "llama", "qwen2"):
        loaded = lm.load(str(tiny_models[arch]))
        net = AutoModelForCausalLM.from_pretrained(tiny_models[arch], use_safetensors=True).eval()
        out[arch] = lm.Model(arch, net, loaded.tokenizer)
    out["numpy"] = lm.load(str(tiny_models["gpt2"]))
    assert out["numpy"].backend == "numpy"
    return out


def _block_outputs(model: lm.Model, ids) -> list[np.ndarray]:
    """The residual after each block, read by forward hooks on the blocks (the reference the lens must match)."""
    blocks, _ = lm._blocks_of(model.model)
    seen = []
    handles = [b.register_forward_hook(lambda _m, _a, out: seen.append((out[0] if isinstance(out, tuple) else out)[0].detach()))
               for b in blocks]
    try:
        with torch.inference_mode():
            hidden = model.model(torch.tensor([ids]), output_hidden_states=True).hidden_states
    finally:
        for h in handles:
            h.remove()
    return [hidden[0][0], *seen]


@pytest.mark.parametrize("arch", ["gpt2", "llama", "qwen2"])
def test_every_row_is_the_final_norm_and_unembedding_of_that_layer(models, arch):
    model = models[arch]
    lens = model.lens(PROMPT)
    ids = model._prompt_ids(PROMPT)
    residuals = _block_outputs(model, ids)
    _, norm = lm._blocks_of(model.model)
    head = model.model.get_output_embeddings()
    assert lens.layers == len(residuals)
    with torch.inference_mode():
        for r, h in enumerate(residuals):
            want = head(norm(h)).numpy()
            np.testing.assert_allclose(lens.layer(r), want, rtol=1e-4, atol=1e-4 * np.abs(want).max())
        final = model.model(torch.tensor([ids])).logits[0].numpy()
    np.testing.assert_allclose(lens.layer(lens.layers - 1), final, rtol=1e-4, atol=1e-4 * np.abs(final).max())
    np.testing.assert_allclose(lens.logits[-1], final, rtol=1e-4, atol=1e-4 * np.abs(final).max())


def test_the_numpy_model_lens_ends_at_its_logits(models):
    model = models["numpy"]
    lens = model.lens(PROMPT)
    logits, _ = model._forward(model._prompt_ids(PROMPT))
    np.testing.assert_allclose(lens.layer(lens.layers - 1), logits, rtol=1e-5, atol=1e-5 * np.abs(logits).max())
    # the same weights through PyTorch give the same lens, row by row
    torch_lens = models["gpt2"].lens(PROMPT)
    # (two float32 implementations of weights 8× the usual size: they agree to a few float32 steps of the largest value)
    np.testing.assert_allclose(lens.normed, torch_lens.normed, rtol=1e-4, atol=1e-5 * np.abs(torch_lens.normed).max())


@pytest.mark.parametrize("arch", ["gpt2", "llama", "qwen2", "numpy"])
def test_kl_rank_and_top(models, arch):
    lens = models[arch].lens(PROMPT)
    assert np.all(lens.kl_to_final[-1] == 0) and np.all(lens.kl_to_final >= 0)
    final = numerics.log_softmax(lens.layer(lens.layers - 1).astype(np.float64))
    row = numerics.log_softmax(lens.layer(1).astype(np.float64))
    # (the rows' log-probabilities are float32, their sums float64)
    np.testing.assert_allclose(lens.kl_to_final[1], np.sum(np.exp(final) * (final - row), axis=-1), rtol=1e-5, atol=1e-6)
    top = lens.top_ids()
    texts, probs = lens.top(3)
    assert probs.shape == (lens.layers, len(lens.ids), 3) and np.all(np.diff(probs, axis=-1) <= 1e-12)
    assert texts[2][1][0] == lens.vocab[top[2, 1]]
    token = int(top[-1, -1])
    ranks = lens.rank(token)
    assert ranks[-1, -1] == 0 and ranks.shape == top.shape
    z = lens.layer(0)[-1]
    assert ranks[0, -1] == int((z > z[token]).sum())
    p = lens.probability(token)
    assert p[-1, -1] == pytest.approx(probs[-1, -1, 0], rel=1e-6)
    with pytest.raises(InputError):
        lens.top(11)
    with pytest.raises(InputError):
        lens.rank(10**9)


def test_the_lens_refuses_to_hold_more_logits_than_the_limit(models, monkeypatch):
    lens = models["llama"].lens(PROMPT)
    monkeypatch.setenv("LOGITSVIZ_LENS_VALUES", "10")
    with pytest.raises(InputError, match="logits"):
        _ = lens.logits
    assert lens.layer(0).shape[0] == len(lens.ids)  # one layer at a time still works


def _float64_logit_difference(model: lm.Model, ids, token: int, other: int) -> float:
    if model.backend == "numpy":
        net = copy.copy(model.model)
        net.weights = {k: v.astype(np.float64) for k, v in model.model.weights.items()}
        net.wte, net.wpe = net.weights["wte.weight"], net.weights["wpe.weight"]
        net.unembed = net.weights.get("lm_head.weight", net.wte)
        net.blocks = [{k: net.weights[f"h.{i}.{k}"] for k in block} for i, block in enumerate(model.model.blocks)]
        h, _, _ = net._residual(list(ids), None)
        z = net.final_norm(h)[-1] @ net.unembed.T
    else:
        double = copy.deepcopy(model.model).double()
        with torch.inference_mode():
            z = double(torch.tensor([list(ids)])).logits[0, -1].numpy()
    return float(z[token] - z[other])


@pytest.mark.parametrize("arch", ["gpt2", "llama", "qwen2", "numpy"])
def test_attribution_parts_add_up_to_the_logit_difference(models, arch):
    model = models[arch]
    ids = model._prompt_ids(PROMPT)
    logits, _ = model._forward(ids)
    order = np.argsort(-logits[-1])
    att = model.attribution(PROMPT, int(order[0]))
    assert att.other == int(order[1])  # the runner-up by default
    want = _float64_logit_difference(model, ids, att.token, att.other)
    assert att.total == pytest.approx(want, abs=1e-4)
    assert sum(att.parts.values()) == pytest.approx(att.total, abs=1e-12)
    n_blocks = len(lm._blocks_of(model.model)[0]) if model.backend == "torch" else len(model.model.blocks)
    names = list(att.parts)
    assert names[0] == "embeddings" and names[1] == "block 0 attention" and names[2] == "block 0 MLP"
    assert sum(n.startswith("block") for n in names) == 2 * n_blocks
    assert ("final norm bias" in names) == (arch in ("gpt2", "numpy"))  # LayerNorm has a bias, RMSNorm none
    # the last step spelt out: the hidden state read by the unembedding gives the logit
    assert float(att.hidden.astype(np.float64) @ model._head.unembed[att.token]) == pytest.approx(att.logit, rel=1e-4, abs=1e-4)
    against = model.attribution(PROMPT, int(order[0]), other=int(order[5]))
    assert against.total == pytest.approx(_float64_logit_difference(model, ids, int(order[0]), int(order[5])), abs=1e-4)


def test_attribution_errors(models):
    model = models["llama"]
    with pytest.raises(InputError):
        model.attribution(PROMPT, 3, other=3)
    with pytest.raises(InputError):
        model.attribution(PROMPT, -1)
    with pytest.raises(InputError):
        model.attribution(PROMPT, 1.5)


def test_a_model_without_the_usual_layout_is_refused():
    class Odd(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.base_model = torch.nn.Module()

        def get_output_embeddings(self):
            return torch.nn.Linear(2, 2)

    with pytest.raises(InputError, match="logit lens"):
        lm._blocks_of(Odd())


def test_the_builtin_model_lens_reads_sensibly():
    model = lm.load(str(examples.language_model_folder()))
    lens = model.lens("The new smartphone has")
    # early rows are far from the final distribution and the last is it: KL falls to 0 by the last row
    assert lens.kl_to_final[0, -1] > lens.kl_to_final[-2, -1] > 0 == lens.kl_to_final[-1, -1]
