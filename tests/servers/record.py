"""Save the raw responses of both llama.cpp servers, every form, streamed and not, for the fast tests to read.

    python -m tests.servers.record NATIVE_URL PYTHON_URL [--out tests/data/servers]

The servers serve the built-in model (tests/servers/conftest.py starts them the
same way). Greedy (temperature 0), so a recording is what the server says for
that prompt, every time. Written as the bytes the server sent: one JSON
document, or the server-sent events of a stream.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
PROMPTS = {"en": "The for statement", "zh": "这个命令用于"}


def forms(lang: str) -> dict[str, tuple[str, dict]]:
    prompt = PROMPTS[lang]
    return {
        "completion": ("/completion", {"prompt": prompt, "n_predict": 24, "n_probs": 5, "temperature": 0.0}),
        "completion-post": ("/completion", {"prompt": prompt, "n_predict": 24, "n_probs": 5, "temperature": 0.0,
                                            "post_sampling_probs": True}),
        "v1-completions": ("/v1/completions", {"prompt": prompt, "max_tokens": 24, "logprobs": 5, "temperature": 0.0}),
        "v1-chat": ("/v1/chat/completions", {"messages": [{"role": "user", "content": prompt}], "max_tokens": 24,
                                             "logprobs": True, "top_logprobs": 5, "temperature": 0.0}),
    }


# High temperature, every filter off, a fixed seed: the model samples byte tokens, pieces of characters, which is where
# the servers' own outputs go wrong (llama.cpp merges a character's tokens into one entry; llama-cpp-python sends each
# piece as "" with no bytes). And the prompt echoed back (llama-cpp-python), so a character split in the prompt shows.
SAMPLED = {"temperature": 4.0, "seed": 3, "top_k": 0, "top_p": 1.0, "min_p": 0.0}
EXTRA = {
    "llama.cpp": {"completion-sampled": ("/completion", {"prompt": PROMPTS["zh"], "n_predict": 32, "n_probs": 5, **SAMPLED})},
    "llama-cpp-python": {
        "v1-completions-sampled": ("/v1/completions", {"prompt": PROMPTS["zh"], "max_tokens": 32, "logprobs": 5, **SAMPLED}),
        "v1-completions-echo": ("/v1/completions", {"prompt": "东京。🐱 The end", "max_tokens": 1, "logprobs": 5, "echo": True,
                                                    "temperature": 0.0}),
    },
}


def _save(url: str, path: str, body: dict, stream: bool, out: Path, name: str) -> Path:
    response = httpx.post(url + path, json={**body, "stream": stream}, timeout=120)
    response.raise_for_status()
    data = response.content
    if not stream:  # stable across runs: no ids, times or fingerprints that change
        doc = json.loads(data)
        for key in ("id", "created", "system_fingerprint", "timings"):
            doc.pop(key, None)
        data = json.dumps(doc, ensure_ascii=False, indent=1).encode()
    (out / name).write_bytes(data)
    return out / name


def record(url: str, server: str, out: Path) -> list[Path]:
    written = []
    for form, (path, body) in EXTRA[server].items():
        written.append(_save(url, path, body, False, out, f"{server}-{form}-whole-zh.json"))
    for lang in PROMPTS:
        for form, (path, body) in forms(lang).items():
            if server == "llama-cpp-python" and form.startswith("completion"):
                continue  # its server speaks only the OpenAI forms
            for stream in (False, True):
                name = f"{server}-{form}-{'stream' if stream else 'whole'}-{lang}.{'sse' if stream else 'json'}"
                written.append(_save(url, path, body, stream, out, name))
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("native")
    parser.add_argument("python")
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "data" / "servers")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for path in record(args.native, "llama.cpp", args.out) + record(args.python, "llama-cpp-python", args.out):
        print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()
