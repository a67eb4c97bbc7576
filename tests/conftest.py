"""Test-wide settings."""

from __future__ import annotations

import os
import warnings

import pytest
from hypothesis import settings

# CI runs the same examples every time (a failure there is reproducible); locally, hypothesis explores
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def no_warnings():
    """Every numeric function must be silent: any warning fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# The language-model tests never reach a model hub: models are built in the tests and loaded from folders.
os.environ["HF_HUB_OFFLINE"] = "1"


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """Tiny random GPT-2, Llama and Qwen2 folders with a tokenizer trained here (see tests/tiny_lm.py)."""
    from tests.tiny_lm import build

    root = tmp_path_factory.mktemp("lm")
    return {arch: build(root / arch, arch) for arch in ("gpt2", "llama", "qwen2")}


@pytest.fixture(autouse=True, scope="session")
def _no_shared_model_cache(tmp_path_factory):
    """The built-in language model is trained into a folder of this test session, never into the user's cache."""
    os.environ["LOGITSVIZ_CACHE"] = str(tmp_path_factory.mktemp("logitsviz-cache"))


@pytest.fixture
def server_with_chat():
    """A scripted OpenAI-compatible server on loopback answering chat requests (streamed or not) with three tokens."""
    from tests.test_servers import chat_doc, chat_stream, scripted_server

    with scripted_server() as httpd:
        httpd.routes["/v1/chat/completions"] = (200, chat_doc(), 0)
        httpd.stream_routes = {"/v1/chat/completions": chat_stream()}
        yield httpd
