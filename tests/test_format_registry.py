"""A new API response format is one record in tokens.FORMATS: detection, the reader and the command line take it."""

from __future__ import annotations

import json
import math

import pytest

from logitsviz import InputError, tokens
from logitsviz.__main__ import main
from logitsviz.tokens import logprobs


def _toy_entries(doc, path: str, choice: int):
    return [(text.encode("utf-8"), lp, ((text, lp),)) for text, lp in doc["toy"]]


TOY = tokens.Format("toy", lambda d: isinstance(d, dict) and "toy" in d, _toy_entries,
                    lambda d, choice: "".join(text for text, _ in d["toy"]))
DOC = {"toy": [["Hello", -0.1], [" world", -2.5]]}


@pytest.fixture
def with_toy(monkeypatch):
    monkeypatch.setattr(logprobs, "FORMATS", (TOY, *logprobs.FORMATS))


def test_a_format_added_to_the_registry_is_detected_and_read(with_toy):
    seq = tokens.read_logprobs(json.dumps(DOC))
    assert seq.source == "toy" and seq.warnings == ()
    assert [p.text for p in seq.positions] == ["Hello", " world"]
    assert [p.logprob for p in seq.positions] == [-0.1, -2.5]
    # the formats already there are still told apart as before
    chat = {"object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": "a"},
            "logprobs": {"content": [{"token": "a", "logprob": -0.5, "bytes": [97], "top_logprobs": []}]}}]}
    assert tokens.read_logprobs(json.dumps(chat)).source == "openai-chat"


def test_without_its_record_the_same_document_is_refused():
    with pytest.raises(InputError):
        tokens.read_logprobs(json.dumps(DOC))


def test_the_command_line_reads_the_new_format(with_toy, tmp_path, capsys):
    path = tmp_path / "toy.json"
    path.write_text(json.dumps(DOC), encoding="utf-8")
    assert main(["tokens", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    text = json.dumps(out)
    assert "world" in text
    assert math.isclose(out["perplexity"], math.exp((0.1 + 2.5) / 2), rel_tol=1e-9)
