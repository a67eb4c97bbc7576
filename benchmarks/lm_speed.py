"""Language-model speed: a GPT-2-sized forward pass on the CPU, and the page's answer to a temperature change.

    python -m benchmarks.lm_speed

1. Next-token logits of a GPT-2 (124 M parameters, random weights: nothing is
   downloaded) for a 16-token prompt, through ``lm.Model.next_token_logits``,
   beside the same forward pass called on the torch model directly.
2. A temperature change on the Language model page at a 150,000-token
   vocabulary: the logits are cached, so this is softmax, the top-N cut and
   the chart (library level), and the whole page re-run in AppTest (the model
   is a tiny one with a 150,000-token output layer; generation and scoring
   are cached too). Goal: under 0.1 s.
3. One generation step at 150,000 tokens without the forward pass (filters,
   sample, the step's record): the hot path of the page's generation.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from benchmarks._timing import median_time

VOCAB = 150_000


def _gpt2_folder(root: Path) -> Path:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from tests.tiny_lm import tokenizer

    torch.manual_seed(0)
    folder = root / "gpt2-124m"
    GPT2LMHeadModel(GPT2Config()).save_pretrained(folder)  # the published GPT-2 small shape: 12 layers, 768 wide, 50,257 tokens
    tokenizer().save_pretrained(folder)
    return folder


def _wide_folder(root: Path) -> Path:
    from tests.tiny_lm import build

    folder = build(root / "wide", "qwen2")
    config = json.loads((folder / "config.json").read_text())
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    config["vocab_size"] = VOCAB
    torch.manual_seed(0)
    Qwen2ForCausalLM(Qwen2Config(**{k: v for k, v in config.items() if k not in ("architectures", "transformers_version")})).save_pretrained(folder)
    return folder


def forward_pass(folder: Path) -> dict:
    import torch

    from logitsviz import lm

    model = lm.load(str(folder))
    prompt = "The new smartphone has amazing features and"
    ids = model.encode(prompt)

    def direct():
        with torch.inference_mode():
            return model.model(torch.tensor([ids])).logits[0, -1].numpy()

    return {
        "parameters": int(sum(p.numel() for p in model.model.parameters())),
        "prompt_tokens": len(ids),
        "torch_threads": torch.get_num_threads(),
        "next_token_logits_s": median_time(lambda: model.next_token_logits(prompt), 7, warm_up=True),
        "direct_forward_s": median_time(direct, 7, warm_up=True),
    }


def temperature_change(folder: Path) -> dict:
    from streamlit.testing.v1 import AppTest

    from logitsviz import figures, lm
    from logitsviz.explain import softmax_steps
    from tests.apptest import APP, switch

    model = lm.load(str(folder))
    labels, logits = model.next_token_logits("The new smartphone has")
    temps = iter([0.5, 2.0, 0.7, 1.5] * 10)

    def library():
        steps = softmax_steps(logits, temperature=next(temps), top=15)
        figures.compare_steps(labels, steps)

    os.environ["LOGITSVIZ_LOCAL_MODELS"] = "1"
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"model": str(folder), "prompt": "The new smartphone has", "g_steps": "5"})
    at.run()
    switch(at, "lm").run()
    assert not at.exception, at.exception
    page_temps = iter([0.5, 2.0, 0.7, 1.5] * 10)

    def page():
        at.select_slider(key="lmT").set_value(next(page_temps)).run()
        assert not at.exception

    return {"vocabulary": int(logits.size), "library_s": median_time(library, 9, warm_up=True),
            "page_rerun_s": median_time(page, 9, warm_up=True), "goal_s": 0.1}


def generation_step() -> dict:
    from logitsviz import lm, sampling

    z = np.random.default_rng(0).normal(0, 2, VOCAB).astype(np.float32)
    units = sampling.build_chain([("temperature", 0.8), ("top_k", 50), ("top_p", 0.9)])
    rng = np.random.default_rng(0)

    def step():
        final = sampling.chain(z, units)[-1].after
        token = int(sampling.sample(final, 1, rng=rng)[0])
        lm._step_record(z, final, token)

    from logitsviz import explain, figures

    steps: list = []

    def step_with_chart():  # the Decoding lab's step: the chain, a draw, the step's numbers and the chart of all steps
        steps.append(explain.generation_step(z, units, history=[s.token for s in steps], rng=rng))
        figures.generation_steps(explain.generation_view(steps[-20:]))

    return {"vocabulary": VOCAB, "chain": "temperature 0.8, top-k 50, top-p 0.9", "step_s": median_time(step, 9, warm_up=True),
            "step_with_chart_s": median_time(step_with_chart, 9, warm_up=True), "goal_s": 0.02}


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        results = {
            "gpt2_124m": forward_pass(_gpt2_folder(root)),
            "temperature_change_150k": temperature_change(_wide_folder(root)),
            "generation_step_150k": generation_step(),
        }
    print(json.dumps({"benchmark": "lm_speed", "results": results}, indent=2))


if __name__ == "__main__":
    main()
