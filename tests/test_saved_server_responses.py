"""Responses saved from real llama.cpp servers (tests/servers/record.py), read as the Tokens page and the CLI read them.

Both servers served the built-in model: llama.cpp's own llama-server and
llama-cpp-python's, every API form, streamed and not, English and Chinese,
greedy; and sampled hot, where characters are split over byte tokens and the
servers' own outputs go wrong (merged entries; pieces sent as "" with no bytes).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from logitsviz import tokens

SAVED = Path(__file__).resolve().parent / "data" / "servers"
FILES = sorted(p.name for p in SAVED.iterdir())
FORMAT = {"completion": "llama.cpp", "completion-post": "llama.cpp", "completion-sampled": "llama.cpp",
          "v1-completions": "openai-completions", "v1-completions-sampled": "openai-completions",
          "v1-completions-echo": "openai-completions", "v1-chat": "openai-chat"}


def form(name: str) -> str:
    rest = name.removeprefix("llama-cpp-python-").removeprefix("llama.cpp-")
    return rest.rsplit("-", 2)[0]


def test_every_form_of_both_servers_was_saved():
    assert len(FILES) == 27
    for server in ("llama.cpp", "llama-cpp-python"):
        for stream in ("whole", "stream"):
            for lang in ("en", "zh"):
                assert any(f.startswith(server + "-") and f"-{stream}-{lang}." in f for f in FILES), (server, stream, lang)


@pytest.mark.parametrize("name", FILES)
def test_each_saved_response_reads_in_its_own_format(name):
    seq = tokens.read_logprobs((SAVED / name).read_bytes())
    assert seq.source == FORMAT[form(name)], name
    assert seq.positions and np.all(seq.logprobs[np.isfinite(seq.logprobs)] <= 0)
    if "-post-" in name:  # llama.cpp's probabilities after its sampler chain: greedy, so the chosen token is certain
        assert all(p.logprob == pytest.approx(0.0, abs=1e-6) for p in seq.positions)


@pytest.mark.parametrize("name", [f for f in FILES if "-stream-" in f])
def test_a_stream_reads_as_its_whole_response_does(name):
    # a streamed llama.cpp /completion was refused: its last event (stop, timings) has no completion_probabilities
    stream = tokens.read_logprobs((SAVED / name).read_bytes())
    whole = tokens.read_logprobs((SAVED / name.replace("-stream-", "-whole-").replace(".sse", ".json")).read_bytes())
    assert stream.tokens == whole.tokens and stream.text == whole.text
    np.testing.assert_allclose(stream.logprobs, whole.logprobs, atol=1e-4)


def test_llama_cpp_merged_entries_are_said():
    # 32 tokens generated, 28 entries: llama.cpp sends a character's byte tokens as one entry
    doc = json.loads((SAVED / "llama.cpp-completion-sampled-whole-zh.json").read_text(encoding="utf-8"))
    seq = tokens.read_logprobs(json.dumps(doc))
    assert doc["tokens_predicted"] > len(seq.positions)
    (warning,) = seq.warnings
    assert warning.key == "tokens.warn.merged"
    assert f"generated {doc['tokens_predicted']} tokens but listed {len(seq.positions)}" in str(warning)


def test_characters_a_server_sent_without_bytes_are_said_not_silently_dropped():
    # llama-cpp-python sends each piece of a split character as "" with bytes null: the text then read "东。 The end"
    # where the server wrote "东京。🐱 The end"
    doc = json.loads((SAVED / "llama-cpp-python-v1-completions-echo-whole-zh.json").read_text(encoding="utf-8"))
    seq = tokens.read_logprobs(json.dumps(doc))
    assert "" in doc["choices"][0]["logprobs"]["tokens"]
    said = doc["choices"][0]["text"]
    assert seq.text != said and "京" in said and "京" not in seq.text
    (warning,) = seq.warnings
    assert warning.key == "tokens.warn.text" and "东京" in str(warning)


@pytest.mark.parametrize("name", [f for f in FILES if "sampled" not in f and "echo" not in f])
def test_greedy_responses_spell_their_text_with_no_warning(name):
    assert tokens.read_logprobs((SAVED / name).read_bytes()).warnings == ()


def test_the_command_line_shows_the_warning(capsys):
    from logitsviz.__main__ import main

    assert main(["tokens", str(SAVED / "llama.cpp-completion-sampled-whole-zh.json")]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("llama.cpp: 28 tokens") and "merges the tokens" in captured.err
