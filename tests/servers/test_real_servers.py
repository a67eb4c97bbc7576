"""tokens.request against real llama.cpp servers serving the built-in model: every API form, streamed or not, both languages.

On the same weights (float32 GGUF), llama.cpp's log-probabilities must agree
with logitsviz.lm's: the next token's top alternatives to about 1e-3.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from logitsviz import examples, lm, numerics, tokens
from logitsviz.i18n import t

pytestmark = pytest.mark.servers

PROMPTS = {"en": "The for statement", "zh": "这个命令用于"}
NATIVE = [("completions", False), ("chat", False), ("llama.cpp", False), ("llama.cpp", True)]  # (api, post_sampling)
FORMAT = {"completions": "openai-completions", "chat": "openai-chat", "llama.cpp": "llama.cpp"}
TOLERANCE = 2e-3


@pytest.fixture(scope="module")
def model():
    return lm.load(str(examples.language_model_folder()))


def ask(url, lang, api, *, stream, post_sampling=False, n=12):
    return tokens.request(url, PROMPTS[lang], api=api, top=5, max_tokens=n, temperature=0.0, stream=stream,
                          post_sampling=post_sampling, timeout=60)


def expected_next(model, prompt: str, k: int = 5) -> dict[str, float]:
    """Our model's top-k next tokens after ``prompt``, as the readers show them, with their log-probabilities."""
    _, logits = model.next_token_logits(prompt)
    logp = numerics.log_softmax(logits.astype(np.float64))
    best = np.argsort(-logp)[:k]
    return {tokens.display(model.token_bytes[i]): float(logp[i]) for i in best}


def assert_agrees(position: tokens.Position, expected: dict[str, float]) -> None:
    # a token holding part of a character prints differently (llama-cpp-python sends it as "", llama.cpp as bytes)
    whole = [(text, lp) for text, lp in position.top if text and not text.startswith("⟨")]
    assert len(whole) >= 3, position.top
    for text, lp in whole:
        assert text in expected, (text, expected)
        assert lp == pytest.approx(expected[text], abs=TOLERANCE), text


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize(("api", "post_sampling"), NATIVE, ids=["completions", "chat", "native", "native-post-sampling"])
def test_llama_server(native_server, model, lang, stream, api, post_sampling):
    seq = ask(native_server, lang, api, stream=stream, post_sampling=post_sampling)
    assert seq.source == FORMAT[api]
    assert seq.positions and all(lp <= 0 for lp in seq.logprobs if math.isfinite(lp))
    if post_sampling:  # after greedy sampling the chosen token is certain: probability 1, the rest 0
        assert all(p.logprob == pytest.approx(0.0, abs=1e-6) for p in seq.positions)
    elif api != "chat":  # chat wraps the prompt in a template: the model continues something else
        assert_agrees(seq.positions[0], expected_next(model, PROMPTS[lang]))
    if lang == "zh" and api != "chat":
        assert re.search(r"[\u4e00-\u9fff]", seq.text), seq.text  # the model continues Chinese in Chinese
    # what the server generated, token by token, is what our model generates greedily from the same prompt
    if api != "chat" and not post_sampling:
        ours = model.generate(PROMPTS[lang], 12, [("top_k", 1)], seed=0).text[len(PROMPTS[lang]):]
        assert ours.startswith(seq.text) or seq.text.startswith(ours), (ours, seq.text)


@pytest.mark.parametrize("api", ["completions", "chat", "llama.cpp"])
def test_llama_server_streamed_equals_whole(native_server, api):
    a, b = ask(native_server, "zh", api, stream=False), ask(native_server, "zh", api, stream=True)
    assert a.tokens == b.tokens
    # the same tokens; llama.cpp computes a stream's steps one at a time, the whole response's in other batches: the
    # float32 sums differ in their last digits (2e-5 seen)
    np.testing.assert_allclose(a.logprobs, b.logprobs, atol=1e-4)
    assert [str(w) for w in a.warnings] == [str(w) for w in b.warnings]


def test_llama_server_merged_entries_are_said(native_server):
    # Chinese characters split over byte tokens: llama.cpp sends one entry for the character, and says how many tokens
    seq = ask(native_server, "zh", "llama.cpp", stream=False, n=24)
    said = [str(w) for w in seq.warnings]
    merged = t("tokens.warn.merged", lang="en", predicted=24, listed=len(seq.positions))
    if len(seq.positions) < 24:
        assert merged in said
    assert not any("do not spell" in w for w in said)


def server_text(url: str, lang: str, api: str) -> str:
    """What the server says it wrote, asked directly (greedy, so the same as tokens.request got)."""
    import httpx

    body = {"max_tokens": 12, "temperature": 0.0, "logprobs": 5}
    if api == "chat":
        body |= {"messages": [{"role": "user", "content": PROMPTS[lang]}], "logprobs": True, "top_logprobs": 5}
        return httpx.post(f"{url}/v1/chat/completions", json=body, timeout=60).json()["choices"][0]["message"]["content"]
    return httpx.post(f"{url}/v1/completions", json=body | {"prompt": PROMPTS[lang]}, timeout=60).json()["choices"][0]["text"]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("api", ["completions", "chat"])
def test_llama_cpp_python_server(python_server, model, lang, stream, api):
    seq = ask(python_server, lang, api, stream=stream)
    assert seq.source == FORMAT[api]
    assert seq.positions and all(lp <= 0 for lp in seq.logprobs if math.isfinite(lp))
    if api == "completions":
        assert_agrees(seq.positions[0], expected_next(model, PROMPTS[lang]))
    # llama-cpp-python sends a token holding part of a character as "" (and no bytes): what it held is lost. The
    # sequence says so whenever its tokens do not spell the server's text, never silently
    said = server_text(python_server, lang, api)
    spelt = "".join(p.text for p in seq.positions)
    if spelt != said:
        assert any(w.key == "tokens.warn.text" for w in seq.warnings), (spelt, said)
    else:
        assert not seq.warnings


def test_models_are_listed(native_server, python_server):
    assert tokens.list_models(native_server) and tokens.list_models(python_server)


def test_the_command_line_asks_a_server(native_server, capsys):
    from logitsviz.__main__ import main

    assert main(["tokens", "--server", native_server, "--api", "llama.cpp", "--max-tokens", "8", "The for statement"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("llama.cpp: ") and "perplexity" in out
