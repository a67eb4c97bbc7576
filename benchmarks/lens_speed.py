"""The logit lens of a 128-token prompt on a GPT-2-sized model (124 M parameters, random weights from its config).

    python -m benchmarks.lens_speed

Each measurement runs in a fresh process, model built first (not timed), then, in turn:

- ``lens``: ``model.lens(prompt)`` and everything the Layers tab reads from it (KL to the final row, the top tokens
  at every row and position): 13 rows × 128 positions × 50,257 logits, one row's logits at a time;
- ``attribution``: ``model.attribution(prompt, token)`` at the last position;
- ``naive``: the logit lens as a notebook writes it in PyTorch: ``output_hidden_states=True``, then the final norm and
  the unembedding on every hidden state at once, softmax and top-k on the whole (13, 128, 50,257) tensor.

Prints each one's seconds (best of 3) and the process's peak resident memory above what the model itself took.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time
import numpy as np, torch
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast
from logitsviz import examples, lm

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024

torch.manual_seed(0)
torch.set_num_threads(2)
net = GPT2LMHeadModel(GPT2Config()).eval()   # 12 layers, 768 wide, 50,257 tokens
folder = examples.language_model_folder()
tokenizer = PreTrainedTokenizerFast(tokenizer_file=str(folder / "tokenizer.json"), bos_token="<|endoftext|>",
                                    eos_token="<|endoftext|>")
model = lm.Model("gpt2-random", net, tokenizer)
text = "The new smartphone has a bright screen and a long battery life. "
prompt = text * 40
ids = model.encode(prompt)
cut = tokenizer.decode(ids[:128])
prompt = cut
n = len(model._prompt_ids(prompt))
model.lens("warm up")  # one small pass: the first forward's set-up is not the lens
base = rss_mb()
what = sys.argv[1]

def lens():
    L = model.lens(prompt)
    L.kl_to_final; L.top(3)
    return L

def attribution():
    return model.attribution(prompt, 11)

def naive():
    with torch.inference_mode():
        out = net(torch.tensor([model._prompt_ids(prompt)]), output_hidden_states=True)
        hs = torch.stack(out.hidden_states[:-1] + (out.hidden_states[-1],))  # the last is already normed: kept as it is
        normed = torch.cat([net.transformer.ln_f(hs[:-1]), hs[-1:]])
        logits = net.lm_head(normed)
        logp = torch.log_softmax(logits, -1)
        kl = (logp[-1].exp() * (logp[-1] - logp)).sum(-1)
        top = logp.topk(3, -1)
    return kl, top

run = {"lens": lens, "attribution": attribution, "naive": naive}[what]
best = min((lambda t0: (run(), time.perf_counter() - t0)[1])(time.perf_counter()) for _ in range(3))
print(json.dumps({"seconds": best, "tokens": n, "extra_peak_mb": rss_mb() - base}))
"""


def main() -> None:
    out = {}
    for what in ("lens", "attribution", "naive"):
        proc = subprocess.run([sys.executable, "-c", CHILD, what], capture_output=True, text=True, cwd=ROOT,
                              env={"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
        if proc.returncode:
            raise SystemExit(proc.stderr[-2000:])
        data = json.loads(proc.stdout.strip().splitlines()[-1])
        out[what] = {"seconds": round(data["seconds"], 3), "extra_peak_mb": round(data["extra_peak_mb"], 1)}
        out["tokens"] = data["tokens"]
    out["model"] = "GPT-2 small shape (12 layers, 768 wide, 50,257 tokens), random weights"
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
