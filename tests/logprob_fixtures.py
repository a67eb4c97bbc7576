"""API responses with token log-probabilities, one per format, written from each project's documentation.

Each fixture notes the document it follows. The texts hold Chinese and emoji
split across tokens, so the byte assembly is tested on every format that
sends bytes. Expected values are written by hand beside each fixture.
"""

from __future__ import annotations

import copy
import json
import math

LN = math.log

# "是" is e6 98 af; "🐱" is f0 9f 90 b1: each split over two tokens
SHI_A, SHI_B = [0xE6, 0x98], [0xAF]
CAT_A, CAT_B = [0xF0, 0x9F], [0x90, 0xB1]


def _entry(token, logprob, top, raw=None, **extra):
    out = {"token": token, "logprob": logprob, "bytes": raw if raw is not None else list(token.encode()),
           "top_logprobs": [{"token": t, "logprob": lp, "bytes": list(t.encode())} for t, lp in top]}
    out.update(extra)
    return out


# OpenAI API reference, "The chat completion object": choices[].logprobs.content[] holds token, logprob,
# bytes (UTF-8 bytes, null when there are none) and top_logprobs; logprob -9999.0 means "not in the top 20".
OPENAI_CHAT = {
    "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
    "choices": [{
        "index": 0, "message": {"role": "assistant", "content": "这是🐱"}, "finish_reason": "stop",
        "logprobs": {"content": [
            _entry("这", LN(0.6), [("这", LN(0.6)), ("那", LN(0.3))]),
            _entry("bytes:\\xe6\\x98", LN(0.5), [("bytes:\\xe6\\x98", LN(0.5))], raw=SHI_A),
            _entry("bytes:\\xaf", LN(0.9), [("bytes:\\xaf", LN(0.9))], raw=SHI_B),
            _entry("bytes:\\xf0\\x9f", LN(0.2), [("bytes:\\xf0\\x9f", LN(0.2))], raw=CAT_A),
            _entry("bytes:\\x90\\xb1", -9999.0, [("!", LN(0.7))], raw=CAT_B),
        ], "refusal": None},
    }],
}
OPENAI_CHAT_EXPECT = {"tokens": ["这", "⟨e6\u200998⟩", "是", "⟨f0\u20099f⟩", "🐱"], "source": "openai-chat",
                      "logprobs": [LN(0.6), LN(0.5), LN(0.9), LN(0.2), float("nan")]}

# OpenAI API reference, Responses, "output_text" content parts: logprobs[] of token, logprob, bytes, top_logprobs.
OPENAI_RESPONSES = {
    "id": "resp_1", "object": "response", "status": "completed",
    "output": [
        {"type": "reasoning", "id": "rs_1", "summary": []},
        {"type": "message", "id": "msg_1", "role": "assistant", "content": [{
            "type": "output_text", "text": "Paris.", "annotations": [],
            "logprobs": [_entry("Paris", LN(0.95), [("Paris", LN(0.95)), ("Lyon", LN(0.02))]), _entry(".", LN(0.8), [(".", LN(0.8))])],
        }]},
    ],
}
OPENAI_RESPONSES_EXPECT = {"tokens": ["Paris", "."], "source": "openai-responses", "logprobs": [LN(0.95), LN(0.8)]}

# OpenAI API reference, legacy Completions: choices[].logprobs = {tokens, token_logprobs, top_logprobs (one object per
# token), text_offset}; the first token_logprob of an echoed prompt is null. vLLM's /v1/completions returns the same.
LEGACY = {
    "id": "cmpl-1", "object": "text_completion", "model": "gpt-3.5-turbo-instruct",
    "choices": [{"text": " Paris", "index": 0, "finish_reason": "length", "logprobs": {
        "tokens": [" The", " capital", " Paris"], "token_logprobs": [None, -2.5, -0.1],
        "top_logprobs": [None, {" capital": -2.5, " city": -1.0}, {" Paris": -0.1, " Lyon": -3.0}],
        "text_offset": [0, 4, 12]}}],
}
LEGACY_EXPECT = {"tokens": [" The", " capital", " Paris"], "source": "openai-completions", "logprobs": [float("nan"), -2.5, -0.1]}

# llama.cpp tools/server/README.md, POST /completion with "n_probs": completion_probabilities[] of
# {id, token, bytes, logprob, top_logprobs: [{id, token, bytes, logprob}]}.
LLAMA_CPP = {
    "content": "今天", "stop": True, "tokens_predicted": 2,
    "completion_probabilities": [
        {"id": 1, **_entry("今", LN(0.4), [("今", LN(0.4)), ("明", LN(0.35))])},
        {"id": 2, **_entry("天", LN(0.99), [("天", LN(0.99))])},
    ],
}
LLAMA_CPP_EXPECT = {"tokens": ["今", "天"], "source": "llama.cpp", "logprobs": [LN(0.4), LN(0.99)]}

# The same README, with "post_sampling_probs": true: "prob" and "top_probs" instead of log-probabilities.
LLAMA_CPP_PROBS = {
    "content": " yes",
    "completion_probabilities": [{"id": 7, "token": " yes", "bytes": list(b" yes"), "prob": 0.75,
                                  "top_probs": [{"id": 7, "token": " yes", "bytes": list(b" yes"), "prob": 0.75},
                                                {"id": 8, "token": " no", "bytes": list(b" no"), "prob": 0.25}]}],
}
LLAMA_CPP_PROBS_EXPECT = {"tokens": [" yes"], "source": "llama.cpp", "logprobs": [LN(0.75)]}

# Older llama.cpp servers (README before the OpenAI-style fields): {content, probs: [{tok_str, prob}]}.
LLAMA_CPP_OLD = {"content": "Yes", "completion_probabilities": [
    {"content": "Yes", "probs": [{"tok_str": "Yes", "prob": 0.72}, {"tok_str": "No", "prob": 0.28}]}]}
LLAMA_CPP_OLD_EXPECT = {"tokens": ["Yes"], "source": "llama.cpp", "logprobs": [LN(0.72)]}

# Ollama docs/api.md, /api/generate with "logprobs": true and "top_logprobs": a top-level logprobs list of
# {token, logprob, bytes, top_logprobs}; streamed, each line is one JSON object (the last has done: true).
OLLAMA = {"model": "gemma3", "response": "Hi!", "done": True,
          "logprobs": [_entry("Hi", LN(0.8), [("Hi", LN(0.8)), ("Hello", LN(0.15))]), _entry("!", LN(0.6), [("!", LN(0.6))])]}
OLLAMA_EXPECT = {"tokens": ["Hi", "!"], "source": "ollama", "logprobs": [LN(0.8), LN(0.6)]}
OLLAMA_STREAM = "\n".join(json.dumps(line) for line in (
    {"model": "gemma3", "response": "Hi", "done": False, "logprobs": [_entry("Hi", LN(0.8), [("Hi", LN(0.8))])]},
    {"model": "gemma3", "response": "!", "done": False, "logprobs": [_entry("!", LN(0.6), [("!", LN(0.6))])]},
    {"model": "gemma3", "response": "", "done": True, "done_reason": "stop"},
))

# OpenAI API reference, chat completion chunk (stream: true): server-sent events "data: {...}", ending "data: [DONE]";
# each chunk's choices[].logprobs.content holds that chunk's tokens. vLLM's OpenAI-compatible server streams the same.
OPENAI_STREAM = "\n\n".join([
    "data: " + json.dumps({"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"role": "assistant"}, "logprobs": None}]}),
    "data: " + json.dumps({"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "Hel"},
                                                                            "logprobs": {"content": [_entry("Hel", LN(0.5), [("Hel", LN(0.5))])]}}]}),
    "data: " + json.dumps({"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "lo"},
                                                                            "logprobs": {"content": [_entry("lo", LN(0.9), [("lo", LN(0.9))])]}}]}),
    "data: " + json.dumps({"object": "chat.completion.chunk", "choices": []}),
    "data: [DONE]",
])
OPENAI_STREAM_EXPECT = {"tokens": ["Hel", "lo"], "source": "openai-chat", "logprobs": [LN(0.5), LN(0.9)]}

ALL = {
    "openai_chat": (OPENAI_CHAT, OPENAI_CHAT_EXPECT),
    "openai_responses": (OPENAI_RESPONSES, OPENAI_RESPONSES_EXPECT),
    "legacy_completions": (LEGACY, LEGACY_EXPECT),
    "llama_cpp": (LLAMA_CPP, LLAMA_CPP_EXPECT),
    "llama_cpp_post_sampling": (LLAMA_CPP_PROBS, LLAMA_CPP_PROBS_EXPECT),
    "llama_cpp_old": (LLAMA_CPP_OLD, LLAMA_CPP_OLD_EXPECT),
    "ollama": (OLLAMA, OLLAMA_EXPECT),
    "ollama_stream": (OLLAMA_STREAM, OLLAMA_EXPECT),
    "openai_stream": (OPENAI_STREAM, OPENAI_STREAM_EXPECT),
}


def paths(doc, prefix=()):
    """Every place in a JSON document: dict keys and list indices (for the fuzz tests and benchmarks.fuzz)."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield (*prefix, k)
            yield from paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield (*prefix, i)
            yield from paths(v, (*prefix, i))


def mutate(doc, path, action, value=None):
    """A copy of ``doc`` with the place ``path`` replaced by ``value``, deleted, wrapped in a list, or put in an object."""
    doc = copy.deepcopy(doc)
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    if action == "replace":
        parent[key] = value
    elif action == "delete":
        del parent[key]
    elif action == "wrap":
        parent[key] = [parent[key]]
    else:  # "dict": the value inside an object of its own
        parent[key] = {"value": parent[key]}
    return doc
