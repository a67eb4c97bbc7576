"""Real language models through the real loading path: tiny models built and saved here, loaded offline."""

from __future__ import annotations

import builtins
import json
import math
import re
import subprocess
import sys

import numpy as np
import pytest
import scipy.stats
import torch
from scipy.special import log_softmax as sp_log_softmax
from transformers import AutoModelForCausalLM, AutoTokenizer

from logitsviz import InputError, lm, sampling, tokens

ARCHS = ("gpt2", "llama", "qwen2")


@pytest.fixture(scope="module", params=ARCHS)
def model(request, tiny_models):
    return lm.load(str(tiny_models[request.param]))


def reference(folder):
    """The same model loaded by transformers directly: what next_token_logits must equal."""
    return AutoModelForCausalLM.from_pretrained(folder, use_safetensors=True).eval(), AutoTokenizer.from_pretrained(folder)


# ----------------------------------------------------------------- loading ----


def test_load_is_cached_per_process(tiny_models):
    a = lm.load(str(tiny_models["gpt2"]))
    assert lm.load(str(tiny_models["gpt2"])) is a
    assert a.architecture == "GPT2LMHeadModel" and a.context == 64
    assert a.backend == "numpy"  # a small GPT-2 runs in numpy (logitsviz.gpt2), without PyTorch
    assert a.memory_bytes == 4 * sum(p.numel() for p in reference(tiny_models["gpt2"])[0].parameters())
    llama = lm.load(str(tiny_models["llama"]))
    assert llama.backend == "torch" and llama.memory_bytes == sum(p.numel() * 4 for p in llama.model.parameters())


@pytest.mark.parametrize("arch", ARCHS)
def test_next_token_logits_equal_the_forward_pass(tiny_models, arch):
    model = lm.load(str(tiny_models[arch]))
    ref, tok = reference(tiny_models[arch])
    for prompt in ("The new smartphone has", "今天天气很", "🐱"):
        labels, logits = model.next_token_logits(prompt)
        with torch.no_grad():
            expected = ref(torch.tensor([tok(prompt).input_ids])).logits[0, -1].numpy()
        assert logits.dtype == np.float32 and logits.shape == expected.shape == (model.vocab_size,)
        np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-5)
        assert len(labels) == logits.size and len(set(labels)) == len(labels)


def test_padded_output_layer_has_labels_for_every_logit(tiny_models):
    model = lm.load(str(tiny_models["qwen2"]))
    labels, logits = model.next_token_logits("Paris")
    assert logits.size == len(model.tokenizer) + 16
    assert labels[-1] == f"⟨{logits.size - 1}⟩"


def test_chinese_and_emoji_tokens_read_as_text_not_mojibake(tiny_models):
    model = lm.load(str(tiny_models["gpt2"]))
    naive = model.tokenizer.convert_ids_to_tokens(model.encode("今天天气很好"))
    assert any("æ" in piece or "ä" in piece for piece in naive)  # what other tools show
    for text in ("今天天气很好", "我喜欢学习", "🐱 🎉 👍", "Paris"):
        ids = model.encode(text)
        shown = [model.vocab[i] for i in ids]
        assert not any(ch in "".join(shown) for ch in "æäåçðĠ"), shown
        # every label is whole characters or a byte marker, and the bytes spell the text
        assert b"".join(model.token_bytes[i] for i in ids).decode() == text
        assert all(re.sub(r"⟨[^⟩]*⟩", "", label).isprintable() for label in shown)
    partial = [label for label in model.vocab if label.startswith("⟨") and "\u2009" in label]
    assert partial  # byte-level tokens holding part of a character exist, and are marked


# -------------------------------------------------------------- generation ----


def test_generate_is_seeded_and_reproducible(model):
    chain = [("temperature", 0.8), ("top_p", 0.9)]
    a = model.generate("Once upon a time", 6, chain, seed=3, stop_at_eos=False)
    b = model.generate("Once upon a time", 6, chain, seed=3, stop_at_eos=False)
    c = model.generate("Once upon a time", 6, chain, seed=4, stop_at_eos=False)
    assert [s.token for s in a.steps] == [s.token for s in b.steps] and len(a.steps) == 6
    assert [s.token for s in a.steps] != [s.token for s in c.steps]
    assert a.ids[: len(a.prompt_ids)] == model.encode("Once upon a time")
    assert a.chain == (("temperature", 0.8), ("top_p", 0.9))


def test_each_step_records_its_distribution(tiny_models):
    model = lm.load(str(tiny_models["gpt2"]))
    trace = model.generate("The capital of France is", 4, [("top_k", 5)], seed=1, stop_at_eos=False)
    context = list(trace.prompt_ids)
    for step in trace.steps:
        _, z = model.next_token_logits(model.tokenizer.decode(context)) if False else (None, _logits(model, context))
        logp = sp_log_softmax(z.astype(np.float64))
        assert step.logprob == pytest.approx(logp[step.token], abs=1e-5)
        assert step.rank == 1 + int((z > z[step.token]).sum())
        assert step.rank <= 5  # top-k 5 never draws a sixth token
        final = sampling.top_k(z, 5)
        assert step.final_prob == pytest.approx(np.exp(sp_log_softmax(final.astype(np.float64)))[step.token], abs=1e-6)
        # the compact distribution: the top tokens exact, the rest as one logsumexp
        assert step.top_ids[0] == int(np.argmax(z))
        labels, compact = step.distribution(model.vocab, "others")
        assert labels[-1] == "others" and compact.size in (lm.TOP + 1, lm.TOP + 2)
        assert step.token in step.top_ids  # the drawn token is kept even when it is not among the top
        assert np.exp(sp_log_softmax(compact))[0] == pytest.approx(np.exp(logp.max()), rel=1e-5)
        assert step.entropy_bits == pytest.approx(-(np.exp(logp) * logp).sum() / math.log(2), rel=1e-5)
        context.append(step.token)


def _logits(model, ids):
    """The last position's logits, from transformers' own model of the same folder (the reference)."""
    ref, _ = reference(model.name)
    with torch.no_grad():
        return ref(torch.tensor([ids])).logits[0, -1].numpy()


def test_draws_follow_the_chains_final_distribution(tiny_models):
    model = lm.load(str(tiny_models["gpt2"]))
    chain = [("temperature", 1.5), ("top_k", 6)]
    _, z = model.next_token_logits("Once upon a time")
    p = np.exp(sp_log_softmax(sampling.top_k(sampling.temperature(z, 1.5), 6).astype(np.float64)))
    n = 1500
    first = [model.generate("Once upon a time", 1, chain, seed=s).steps[0].token for s in range(n)]
    support = np.flatnonzero(p > 0)
    counts = np.array([first.count(int(i)) for i in support])
    assert counts.sum() == n  # nothing outside the kept set
    _, pvalue = scipy.stats.chisquare(counts, n * p[support])
    assert pvalue > 1e-3


def test_generated_tokens_read_in_place(tiny_models):
    model = lm.load(str(tiny_models["gpt2"]))
    trace = model.generate("今天", 12, [("temperature", 0.7)], seed=0, stop_at_eos=False)
    context = [model.token_bytes[i] for i in trace.prompt_ids[-8:]]
    drawn = [model.token_bytes[s.token] for s in trace.steps]
    expected = tokens.pieces([*context, *drawn])[-len(drawn):]  # a character split across tokens shows where it completes
    assert [s.text for s in trace.steps] == [p.text for p in expected]
    assert [s.partial for s in trace.steps] == [p.partial for p in expected]


# ----------------------------------------------------------------- scoring ----


def test_score_equals_minus_log_softmax_at_the_tokens(model):
    text = "The new smartphone has amazing features."
    scores = model.score(text)
    ids = model.encode(text)
    bos = model.tokenizer.bos_token_id
    context = ids if ids[0] == bos else [bos, *ids]
    with torch.no_grad():
        logits = reference(model.name)[0](torch.tensor([context])).logits[0].numpy().astype(np.float64)
    logp = sp_log_softmax(logits[:-1], axis=1)
    expected = logp[np.arange(len(context) - 1), context[1:]]
    np.testing.assert_allclose(scores.logprobs, expected, rtol=1e-5, atol=1e-5)
    assert scores.perplexity == pytest.approx(np.exp(-expected.mean()), rel=1e-5)
    first = scores.tokens[0]
    assert first.rank == 1 + int((logp[0] > logp[0, context[1]]).sum())
    assert first.top[0].logprob == pytest.approx(logp[0].max(), abs=1e-6)
    assert first.surprise_bits == pytest.approx(-expected[0] / math.log(2))
    assert "".join(t.text for t in scores.tokens) == text


def test_score_long_text_in_blocks_matches(tiny_models):
    model = lm.load(str(tiny_models["llama"]))
    text = "Once upon a time there was a cat who sat on the mat. " * 2
    scores = model.score(text, top=3)
    assert len(scores.tokens) > 32  # more than one block
    assert all(len(t.top) == 3 for t in scores.tokens)


# ------------------------------------------------------------------ errors ----


def test_unknown_ids_and_folders_are_input_errors(tmp_path):
    for name in ("no-such-org/no-such-model-xyz", str(tmp_path / "missing"), "./nowhere"):
        with pytest.raises(InputError) as info:
            lm.load(name)
        assert info.value.key in ("lm.not_found", "lm.offline")
        assert name in str(info.value)


def test_pickle_weights_are_refused(tiny_models, tmp_path):
    folder = tmp_path / "bin-only"
    folder.mkdir()
    (folder / "config.json").write_text((tiny_models["gpt2"] / "config.json").read_text())
    torch.save({"w": torch.zeros(2)}, folder / "pytorch_model.bin")
    with pytest.raises(InputError) as info:
        lm.load(str(folder))
    assert info.value.key == "lm.no_safetensors"


def test_unsupported_architectures_and_remote_code(tiny_models, tmp_path):
    for config in ({"model_type": "vit"}, {"model_type": "my_own", "auto_map": {"AutoModelForCausalLM": "x.MyModel"}}):
        folder = tmp_path / config["model_type"]
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps(config))
        (folder / "model.safetensors").write_bytes((tiny_models["gpt2"] / "model.safetensors").read_bytes())
        with pytest.raises(InputError) as info:
            lm.load(str(folder))
        assert info.value.key == "lm.unsupported"


def test_too_little_memory(tiny_models, monkeypatch):
    lm.forget()
    monkeypatch.setattr(lm, "_available_memory", lambda: 1000)
    with pytest.raises(InputError) as info:
        lm.load(str(tiny_models["gpt2"]))
    assert info.value.key == "lm.memory" and "GB" in str(info.value)


def test_without_the_extra_it_says_how_to_install(tiny_models, monkeypatch):
    lm.forget()
    real_import = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name.split(".")[0] in ("torch", "transformers"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    with pytest.raises(InputError) as info:
        lm.load(str(tiny_models["llama"]))
    assert info.value.key == "lm.missing" and lm.INSTALL in str(info.value)
    # a GPT-2 folder (the built-in model's kind) still runs: numpy needs neither torch nor transformers
    model = lm.load(str(tiny_models["gpt2"]))
    assert model.backend == "numpy" and model.next_token_logits("The")[1].shape == (model.vocab_size,)


def test_prompt_limits(tiny_models):
    model = lm.load(str(tiny_models["gpt2"]))
    with pytest.raises(InputError) as info:
        model.generate("cat " * 60, 10)
    assert info.value.key == "lm.too_long" and "64" in str(info.value)
    _, logits = model.next_token_logits("")  # an empty prompt starts from the start token
    assert logits.size == model.vocab_size
    with pytest.raises(InputError):
        model.generate("x", 2, [("top_p", 2.0)])  # the chain is checked before the model runs


def test_importing_logitsviz_does_not_import_torch():
    code = "import sys, logitsviz, logitsviz.explain, logitsviz.figures, logitsviz.lm; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------ loading in the background ----


def test_a_load_runs_in_the_background_and_reports_its_stages(tiny_models, monkeypatch):
    import threading

    folder = str(tiny_models["qwen2"])
    lm._MODELS.pop(folder, None)
    seen, gate = [], threading.Event()
    real = lm._load

    def watched(name, report):
        def spy(stage, fraction):
            seen.append((stage, fraction))
            report(stage, fraction)
        gate.wait(30)
        return real(name, spy)

    monkeypatch.setattr(lm, "_load", watched)
    job = lm.loading(folder)
    assert lm.loading(folder) is job  # asked twice, loaded once
    assert not job.done and job.wait(0.05) is None and job.fraction == 0.0
    gate.set()
    model = job.wait(60)
    assert model is lm.load(folder) and job.done and job.fraction == 1.0
    stages = [s for s, _ in seen]
    assert stages.index("read") < stages.index("build") < stages.index("tokenizer")
    assert {s for s in stages} <= set(lm.STAGES)
    assert lm.loading(folder).done  # loaded: a finished job at once


def test_a_failed_load_is_reported_once_then_tried_again():
    with pytest.raises(InputError) as err:
        lm.loading("/no/such/model").wait(30)
    assert err.value.key == "lm.not_found"
    job = lm.loading("/no/such/model")  # a new attempt, not the old failure kept forever
    with pytest.raises(InputError):
        job.wait(30)


def test_at_most_two_models_stay_loaded(tiny_models):
    for arch in ("gpt2", "llama", "qwen2"):
        lm.load(str(tiny_models[arch]))
    assert len(lm._MODELS) <= 2 and str(tiny_models["qwen2"]) in lm._MODELS
