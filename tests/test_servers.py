"""tokens.request against a small HTTP server on loopback: the request each API form sends, streaming, every failure.

The real servers (llama.cpp, llama-cpp-python) are asked in tests/servers/; here a
scripted server answers exactly what a test needs, including what real ones
rarely do on cue (a timeout, a 401, a body that is not JSON).
"""

from __future__ import annotations

import contextlib
import json
import math
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from logitsviz import InputError, config, tokens
from logitsviz.i18n import t


def _entry(token: str, p: float, alternatives=()) -> dict:
    top = [(token, p), *alternatives]
    return {"token": token, "logprob": math.log(p), "bytes": list(token.encode()),
            "top_logprobs": [{"token": a, "logprob": math.log(q), "bytes": list(a.encode())} for a, q in top]}


TOKENS = [("Paris", 0.9, [("Lyon", 0.05)]), (".", 0.8, [("!", 0.1)]), (" 巴黎", 0.6, [(" 法国", 0.2)])]


def chat_doc(stream_chunk: dict | None = None) -> dict:
    content = [_entry(*item) for item in TOKENS]
    return {"object": "chat.completion", "choices": [{"index": 0, "finish_reason": "stop",
                                                      "message": {"role": "assistant", "content": "Paris. 巴黎"},
                                                      "logprobs": {"content": content}}]}


def chat_stream() -> list[dict]:
    chunks = [{"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"role": "assistant", "content": None}}]}]
    for item in TOKENS:
        chunks.append({"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": item[0]},
                                                                       "logprobs": {"content": [_entry(*item)]}}]})
    chunks.append({"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return chunks


class Scripted(BaseHTTPRequestHandler):
    """Answers by path from the server's ``routes``: (status, body or list of stream documents, delay)."""

    def log_message(self, *args):  # quiet
        pass

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.requests.append((self.command, self.path, dict(self.headers), json.loads(body) if body else None))
        status, payload, delay = self.server.routes.get(self.path, (404, {"error": {"message": "no such route"}}, 0))
        asked = json.loads(body) if body else {}
        if isinstance(asked, dict) and asked.get("stream") and self.path in self.server.stream_routes:
            payload = self.server.stream_routes[self.path]
        time.sleep(delay)
        if isinstance(payload, list):  # server-sent events, one document at a time
            self.send_response(status)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for doc in payload:
                self.wfile.write(b"data: " + json.dumps(doc, ensure_ascii=False).encode() + b"\n\n")
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")
            return
        data = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        if status in (301, 302):
            self.send_header("Location", "http://10.0.0.1/v1/completions")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer


@contextlib.contextmanager
def scripted_server():
    """A :class:`Scripted` server on a free loopback port: set ``routes`` (and ``stream_routes``), read ``requests``."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    httpd.routes, httpd.stream_routes, httpd.requests = {}, {}, []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def server():
    with scripted_server() as httpd:
        yield httpd


# ---------------------------------------------------------------- requests ----


def test_chat_asks_for_logprobs_and_reads_them(server):
    server.routes["/v1/chat/completions"] = (200, chat_doc(), 0)
    seq = tokens.request(server.url + "/v1/", "Capital of France?", api="chat", model="m", top=3, max_tokens=7, temperature=0.5,
                         api_key="sk-secret")
    assert seq.source == "openai-chat" and seq.tokens == ["Paris", ".", " 巴黎"] and seq.warnings == ()
    assert seq.logprobs.tolist() == pytest.approx([math.log(0.9), math.log(0.8), math.log(0.6)])
    method, path, headers, body = server.requests[-1]
    assert (method, path) == ("POST", "/v1/chat/completions")
    assert body == {"messages": [{"role": "user", "content": "Capital of France?"}], "max_tokens": 7, "logprobs": True,
                    "top_logprobs": 3, "stream": False, "temperature": 0.5, "model": "m"}
    assert headers["Authorization"] == "Bearer sk-secret"


def test_each_api_form_sends_its_own_request(server):
    legacy = {"object": "text_completion", "choices": [{"text": "Paris", "logprobs": {
        "tokens": ["Paris"], "token_logprobs": [-0.1], "top_logprobs": [{"Paris": -0.1, "Lyon": -3.0}]}}]}
    server.routes["/v1/completions"] = (200, legacy, 0)
    server.routes["/completion"] = (200, {"content": "Paris", "stop": True, "tokens_predicted": 1,
                                          "completion_probabilities": [_entry("Paris", 0.9)]}, 0)
    server.routes["/api/generate"] = (200, {"model": "gemma3", "response": "Paris", "done": True, "logprobs": [_entry("Paris", 0.9)]}, 0)
    assert tokens.request(server.url, "The capital is", top=2).source == "openai-completions"
    assert server.requests[-1][3] == {"prompt": "The capital is", "max_tokens": 16, "logprobs": 2, "stream": False}
    assert tokens.request(server.url, "The capital is", api="llama.cpp", top=4, post_sampling=True).source == "llama.cpp"
    assert server.requests[-1][3] == {"prompt": "The capital is", "n_predict": 16, "n_probs": 4, "stream": False,
                                      "post_sampling_probs": True}
    assert tokens.request(server.url, "The capital is", api="ollama", model="gemma3", temperature=0.0).source == "ollama"
    assert server.requests[-1][3] == {"prompt": "The capital is", "stream": False, "logprobs": True, "top_logprobs": 5,
                                      "options": {"num_predict": 16, "temperature": 0.0}, "model": "gemma3"}
    assert "Authorization" not in server.requests[-1][2]


def test_a_stream_yields_tokens_as_they_come_and_ends_with_the_whole_response(server):
    server.routes["/v1/chat/completions"] = (200, chat_stream(), 0)
    seen = list(tokens.stream_request(server.url, "Capital?", api="chat", stream=True))
    assert [len(s.positions) for s in seen] == [1, 2, 3, 3]
    whole = seen[-1]
    server.routes["/v1/chat/completions"] = (200, chat_doc(), 0)
    assert whole.tokens == tokens.request(server.url, "Capital?", api="chat").tokens
    assert whole.logprobs.tolist() == pytest.approx([math.log(0.9), math.log(0.8), math.log(0.6)])
    assert whole.warnings == ()  # the deltas spell exactly what the tokens spell
    assert server.requests[-2][3]["stream"] is True


def test_models_are_listed(server):
    server.routes["/v1/models"] = (200, {"object": "list", "data": [{"id": "qwen2.5"}, {"id": "llama3"}]}, 0)
    server.routes["/api/tags"] = (200, {"models": [{"name": "gemma3:4b"}]}, 0)
    assert tokens.list_models(server.url + "/v1") == ["qwen2.5", "llama3"]
    assert tokens.list_models(server.url, api="ollama") == ["gemma3:4b"]
    del server.routes["/v1/models"]
    assert tokens.list_models(server.url) == []  # a server that does not list: the model is typed


# ---------------------------------------------------------------- failures ----


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_nothing_listening_is_a_clear_error():
    url = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(InputError) as err:
        tokens.request(url, "Hi")
    assert err.value.key == "server.refused" and url in str(err.value)


def test_a_slow_server_times_out(server):
    server.routes["/v1/completions"] = (200, chat_doc(), 2.0)
    with pytest.raises(InputError) as err:
        tokens.request(server.url, "Hi", timeout=0.3)
    assert err.value.key == "server.timeout" and "0.3 s" in str(err.value)


@pytest.mark.parametrize(("status", "hint"), [(401, "server.hint.key"), (404, "server.hint.api"), (500, "server.hint.other")])
def test_http_errors_say_what_the_server_said_and_what_to_change(server, status, hint):
    server.routes["/v1/completions"] = (status, {"error": {"message": "Incorrect API key provided: sk-***"}}, 0)
    with pytest.raises(InputError) as err:
        tokens.request(server.url, "Hi", api_key="sk-the-real-secret")
    message = str(err.value)
    assert err.value.key == "server.http" and f"HTTP {status}" in message and "Incorrect API key provided" in message
    assert t(hint, lang="en", api="completions") in message
    assert "sk-the-real-secret" not in message and "sk-the-real-secret" not in repr(err.value.params)


def test_a_redirect_is_not_followed(server):
    server.routes["/v1/completions"] = (302, b"", 0)
    with pytest.raises(InputError) as err:
        tokens.request(server.url, "Hi")
    assert err.value.key == "server.http" and err.value.params["status"] == 302
    assert len(server.requests) == 1  # never asked the address it pointed to


def test_a_response_without_logprobs_names_the_server_and_the_api(server):
    server.routes["/v1/chat/completions"] = (200, {"object": "chat.completion", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Paris"}, "logprobs": None}]}, 0)
    with pytest.raises(InputError) as err:
        tokens.request(server.url, "Hi", api="chat")
    assert err.value.key == "server.no_logprobs" and server.url in str(err.value) and "chat" in str(err.value)


def test_a_body_that_is_not_json(server):
    server.routes["/completion"] = (200, b"<html>hello</html>", 0)
    with pytest.raises(InputError) as err:
        tokens.request(server.url, "Hi", api="llama.cpp")
    assert err.value.key == "server.not_json"


@pytest.mark.parametrize("kwargs", [{"api": "grpc"}, {"top": 21}, {"top": -1}, {"max_tokens": 0}, {"max_tokens": 10**6},
                                    {"temperature": -1.0}, {"temperature": float("nan")}, {"timeout": 0}, {"top": True}])
def test_settings_out_of_range_are_refused_before_asking(server, kwargs):
    with pytest.raises(InputError):
        tokens.request(server.url, "Hi", **kwargs)
    assert server.requests == []


# ------------------------------------------------------------ the allow-list ----


@pytest.mark.parametrize("url", ["http://10.0.0.5:8080", "http://169.254.169.254/latest/meta-data", "http://example.com",
                                 "http://127.0.0.1.nip.io:8080", "http://0.0.0.0:8080", "http://[::ffff:10.0.0.1]:80"])
def test_only_loopback_by_default(url, monkeypatch):
    monkeypatch.delenv("LOGITSVIZ_SERVERS", raising=False)
    with pytest.raises(InputError) as err:
        tokens.request(url, "Hi")
    assert err.value.key == "server.not_allowed"


@pytest.mark.parametrize("url", ["http://localhost:8080", "http://127.0.0.1:1", "http://127.8.9.10", "http://[::1]:8080/v1"])
def test_loopback_is_allowed(url, monkeypatch):
    monkeypatch.delenv("LOGITSVIZ_SERVERS", raising=False)
    assert config.server_policy().allows(url)


def test_a_deployment_lists_its_servers(monkeypatch):
    monkeypatch.setenv("LOGITSVIZ_SERVERS", "http://gpu-box:8000, ollama-host, vllm:9000")
    policy = config.server_policy()
    assert policy.allows("http://gpu-box:8000/v1") and not policy.allows("http://gpu-box:8001")
    assert policy.allows("https://ollama-host:11434") and policy.allows("http://vllm:9000") and not policy.allows("http://vllm:9001")
    assert not policy.allows("http://10.0.0.5")
    monkeypatch.setenv("LOGITSVIZ_SERVERS", "*")
    assert config.server_policy().allows("http://10.0.0.5") and not config.server_policy().allows("ftp://10.0.0.5")


@pytest.mark.parametrize("url", ["localhost:8080", "ftp://localhost", "http://user:pw@localhost:8080", "http://localhost:port",
                                 "http://", "http://localhost:8080/v1?x=1"])
def test_what_is_not_an_address(url):
    with pytest.raises(InputError) as err:
        tokens.request(url, "Hi")
    assert err.value.key == "server.bad_url"


def test_the_command_line_asks_a_server(server, capsys, monkeypatch):
    from logitsviz.__main__ import main

    server.routes["/v1/chat/completions"] = (200, chat_doc(), 0)
    monkeypatch.setenv("MY_KEY", "sk-from-env")
    assert main(["tokens", "--server", server.url, "--api", "chat", "--api-key-env", "MY_KEY", "--top", "2", "Capital?"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "openai-chat: 3 tokens, perplexity " + f"{math.exp(-(math.log(0.9) + math.log(0.8) + math.log(0.6)) / 3):.4f}"
    # one spelling for every token (blanks as ␣), the least likely first
    assert out[2].split() == ["3", "␣巴黎", f"{-math.log2(0.6):.2f}", "bits", "␣巴黎"]
    assert server.requests[-1][2]["Authorization"] == "Bearer sk-from-env"


def test_the_command_line_never_prints_minus_zero_bits(tmp_path, capsys):
    from logitsviz.__main__ import main

    path = tmp_path / "r.json"
    path.write_text(json.dumps({"logprobs": [{"token": " object", "logprob": -0.0, "top_logprobs": [{"token": " object", "logprob": -0.0}]}]}))
    assert main(["tokens", str(path)]) == 0
    out = capsys.readouterr().out
    assert "-0.00" not in out and "0.00 bits" in out and "␣object" in out and "' object'" not in out
