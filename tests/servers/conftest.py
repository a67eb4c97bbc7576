"""Real llama.cpp servers on loopback, serving the built-in model converted to GGUF (float32).

Two servers: llama.cpp's own ``llama-server`` and llama-cpp-python's, both
built from the same llama.cpp source by ``tests/servers/setup.sh`` (which CI
runs; the build is cached). Their tests are marked ``servers`` and run with
``python -m pytest -m servers``; the README's test command leaves them out.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from logitsviz import examples
from tests.e2e.harness import free_port
from tests.servers.gguf_export import export

CACHE = Path(os.environ.get("LOGITSVIZ_CI_CACHE") or Path.home() / ".cache" / "logitsviz-ci")


def llama_server_binary() -> Path:
    path = Path(os.environ.get("LOGITSVIZ_LLAMA_SERVER") or CACHE / "llama-build" / "bin" / "llama-server")
    if not path.is_file():
        pytest.fail(f"no llama-server at {path}: run tests/servers/setup.sh first (it builds llama.cpp once)")
    return path


@pytest.fixture(scope="session")
def gguf_model(tmp_path_factory) -> Path:
    return export(examples.language_model_folder(), tmp_path_factory.mktemp("gguf") / "builtin-f32.gguf")


def _wait(url: str, process: subprocess.Popen, log: Path, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped ({process.returncode}):\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the server did not answer {url} within {timeout} s:\n{log.read_text(errors='replace')[-3000:]}")


@contextlib.contextmanager
def _serve(command: list[str], health: str, log: Path, env: dict | None = None):
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        try:
            _wait(health, process, log)
            yield
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="session")
def native_server(gguf_model, tmp_path_factory):
    """llama.cpp's own server (``/completion``, ``/v1/completions``, ``/v1/chat/completions``)."""
    port = free_port()
    log = tmp_path_factory.mktemp("logs") / "llama-server.log"
    command = [str(llama_server_binary()), "-m", str(gguf_model), "--host", "127.0.0.1", "--port", str(port), "-c", "512",
               "-np", "1", "-t", "2", "--no-webui", "--chat-template", "chatml"]
    with _serve(command, f"http://127.0.0.1:{port}/health", log):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def python_server(gguf_model, tmp_path_factory):
    """llama-cpp-python's server (``/v1/completions``, ``/v1/chat/completions``)."""
    port = free_port()
    log = tmp_path_factory.mktemp("logs") / "llama-cpp-python.log"
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf_model), "--host", "127.0.0.1", "--port", str(port),
               "--n_ctx", "512", "--n_threads", "2", "--logits_all", "true", "--chat_format", "chatml"]
    with _serve(command, f"http://127.0.0.1:{port}/v1/models", log):
        yield f"http://127.0.0.1:{port}"
