"""Asking a live server for a completion with its log-probabilities: OpenAI-compatible, llama.cpp and Ollama.

One request, streamed or not, read into the same :class:`LogprobSequence` a
saved response gives. The HTTP client (httpx) is imported when a request is
made, so ``import logitsviz`` stays light.

Which servers may be asked is the deployment's choice
(:func:`logitsviz.config.server_policy`): by default only this machine's own
loopback addresses, so a public demo cannot be used to reach the machines
around it. Redirects are never followed (a redirect could point anywhere),
and host names are never resolved to decide (a name that resolves to
loopback today may not tomorrow): only ``localhost`` and literal loopback
addresses count as loopback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from logitsviz.config import limits, server_policy
from logitsviz.errors import InputError
from logitsviz.tokens.logprobs import LogprobSequence, Reader, parse_stream_line

__all__ = ["APIS", "Api", "list_models", "request", "stream_request"]


@dataclass(frozen=True)
class Api:
    """One way of asking: where to send the request, and how the request body asks for log-probabilities."""

    name: str
    path: str
    openai: bool  # an OpenAI-compatible form: the base URL may end in /v1, and /v1/models lists models
    max_top: int  # the most alternatives the API gives per token


APIS: dict[str, Api] = {
    "completions": Api("completions", "/v1/completions", True, 20),
    "chat": Api("chat", "/v1/chat/completions", True, 20),
    "llama.cpp": Api("llama.cpp", "/completion", False, 100),
    "ollama": Api("ollama", "/api/generate", False, 20),
}


def _body(api: str, prompt: str, model: str | None, top: int, max_tokens: int, temperature: float | None, stream: bool,
          post_sampling: bool) -> dict:
    """The request body of ``api`` asking for ``max_tokens`` tokens, each with its ``top`` alternatives."""
    if api == "completions":
        body = {"prompt": prompt, "max_tokens": max_tokens, "logprobs": top, "stream": stream}
    elif api == "chat":
        body = {"messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens, "logprobs": True,
                "top_logprobs": top, "stream": stream}
    elif api == "llama.cpp":
        body = {"prompt": prompt, "n_predict": max_tokens, "n_probs": top, "stream": stream,
                "post_sampling_probs": post_sampling}
    else:  # Ollama's own API: the options carry the sampling settings
        body = {"prompt": prompt, "stream": stream, "logprobs": True, "top_logprobs": top,
                "options": {"num_predict": max_tokens, **({"temperature": temperature} if temperature is not None else {})}}
        return {**body, "model": model or ""}
    if temperature is not None:
        body["temperature"] = temperature
    if model:
        body["model"] = model
    return body


def base(url: str, policy=None) -> str:
    """The server's address checked against the deployment's allow-list, normalised (no trailing ``/`` or ``/v1``).

    >>> base("http://localhost:8080/v1/")
    'http://localhost:8080'
    """
    url = str(url).strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password or parts.query:
        raise InputError("server.bad_url", url=url[:200])
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError:
        raise InputError("server.bad_url", url=url[:200]) from None
    if not (policy or server_policy()).allows(url):
        raise InputError("server.not_allowed", url=f"{parts.scheme}://{parts.netloc}")
    path = parts.path.rstrip("/")
    if path.endswith("/v1"):
        path = path[:-3]
    return f"{parts.scheme}://{parts.netloc}{path}"


def _httpx():
    """The HTTP client library, or an InputError that says how to install it."""
    try:
        import httpx
    except ImportError:
        raise InputError("server.missing", command="pip install httpx") from None
    return httpx


def _client(timeout: float):
    httpx = _httpx()
    # no proxies from the environment (a loopback server behind a proxy is not loopback), no redirects
    return httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False)


def _headers(api_key: str | None) -> dict:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


def _fail(exc: Exception, url: str, timeout: float) -> InputError:
    """The InputError that tells a user what went wrong with the connection, and what to change."""
    httpx = _httpx()

    if isinstance(exc, httpx.ConnectError):
        return InputError("server.refused", url=url)
    if isinstance(exc, httpx.TimeoutException):
        return InputError("server.timeout", url=url, seconds=f"{timeout:g}")
    return InputError("server.broken", url=url, detail=f"{type(exc).__name__}: {str(exc)[:160]}")


def _http_error(status: int, text: str, url: str, api: str) -> InputError:
    try:
        data = json.loads(text)
        detail = data.get("error", data) if isinstance(data, dict) else data
        detail = detail.get("message", detail) if isinstance(detail, dict) else detail
    except (json.JSONDecodeError, AttributeError):
        detail = text
    detail = " ".join(str(detail).split())[:240]
    hint = {401: "server.hint.key", 403: "server.hint.key", 404: "server.hint.api", 405: "server.hint.api"}.get(status, "server.hint.other")
    from logitsviz.errors import Phrase

    return InputError("server.http", url=url, status=status, detail=detail or "—", hint=Phrase.of(hint, api=api))


def _whole(value, lo: int, hi: int) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and lo <= value <= hi


def _check(api: str, top: int, max_tokens: int, temperature: float | None, timeout: float, prompt: str) -> None:
    """Every setting in range before anything is sent."""
    if api not in APIS:
        raise InputError("server.api", api=str(api)[:40], apis=", ".join(APIS))
    if not _whole(top, 0, APIS[api].max_top):
        raise InputError("server.top", value=top, limit=APIS[api].max_top)
    if not _whole(max_tokens, 1, limit := limits().generate_tokens):
        raise InputError("server.max_tokens", value=max_tokens, limit=limit)
    if temperature is not None and not (isinstance(temperature, (int, float)) and 0 <= temperature <= 10):
        raise InputError("server.temperature", value=temperature)
    if not (isinstance(timeout, (int, float)) and 0 < timeout <= 600):
        raise InputError("server.timeout_setting", value=timeout)
    if not isinstance(prompt, str) or not prompt:
        raise InputError("server.empty_prompt")
    if len(prompt) > limits().text_mb * 1_000_000:
        raise InputError("input.text_too_long", limit=f"{limits().text_mb} MB")


def stream_request(base_url: str, prompt: str, *, api: str = "completions", model: str | None = None, top: int = 5,
                   max_tokens: int = 16, temperature: float | None = None, stream: bool = False,
                   api_key: str | None = None, timeout: float = 30.0, post_sampling: bool = False,
                   policy=None) -> Iterator[LogprobSequence]:
    """Ask a server, yielding the tokens read so far as they arrive; the last sequence yielded is the whole, checked one.

    Not streamed, there is one: the whole response. See :func:`request`.
    """
    _check(api, top, max_tokens, temperature, timeout, prompt)
    root = base(base_url, policy)
    url = root + APIS[api].path
    body = _body(api, prompt, model, top, max_tokens, temperature, stream, post_sampling)
    reader = Reader(streamed=stream)
    httpx = _httpx()
    try:
        with _client(timeout) as client, client.stream("POST", url, json=body, headers=_headers(api_key)) as response:
            if response.status_code >= 300:
                raise _http_error(response.status_code, response.read().decode("utf-8", errors="replace"), url, api)
            if stream:
                for line in response.iter_lines():
                    try:
                        doc = parse_stream_line(line)
                    except json.JSONDecodeError:
                        raise InputError("server.not_json", url=url) from None
                    if doc is None:
                        continue
                    before = len(reader.entries)
                    reader.feed(doc)
                    if len(reader.entries) > before:
                        yield reader.sequence(final=False)
            else:
                try:
                    reader.feed(json.loads(response.read()))
                except json.JSONDecodeError:
                    raise InputError("server.not_json", url=url) from None
    except httpx.HTTPError as exc:
        raise _fail(exc, url, timeout) from None
    if not reader.entries:
        raise InputError("server.no_logprobs", url=url, api=api)
    yield reader.sequence()


def request(base_url: str, prompt: str, *, api: str = "completions", model: str | None = None, top: int = 5,
            max_tokens: int = 16, temperature: float | None = None, stream: bool = False, api_key: str | None = None,
            timeout: float = 30.0, post_sampling: bool = False, policy=None) -> LogprobSequence:
    """Ask a live server for a completion of ``prompt`` with each token's log-probability and ``top`` alternatives.

    ``api`` is the form of the request:

    - ``"completions"``: OpenAI's ``/v1/completions`` (vLLM, llama.cpp's server,
      llama-cpp-python, Ollama's ``/v1``, OpenAI itself), ``logprobs: top``;
    - ``"chat"``: ``/v1/chat/completions`` with the prompt as the user's message,
      ``logprobs: true, top_logprobs: top``;
    - ``"llama.cpp"``: llama.cpp's own ``/completion`` with ``n_probs: top``
      (``post_sampling`` asks for the probabilities after its sampler chain);
    - ``"ollama"``: Ollama's ``/api/generate`` with ``logprobs`` and ``top_logprobs``.

    ``base_url`` is the server's address (``http://localhost:8080``; a trailing
    ``/v1`` is fine). It must be allowed by ``policy``, by default the
    deployment's (:func:`logitsviz.config.server_policy`: loopback only unless
    ``LOGITSVIZ_SERVERS`` says more).
    ``api_key`` is sent as a bearer token and kept nowhere. With ``stream``
    the server sends tokens as it makes them (see :func:`stream_request`).

    Raises
    ------
    InputError
        The address is not allowed or not an address; nothing answers there;
        no answer within ``timeout`` seconds; an HTTP error (the message
        says what the server said and what to change); a response with no
        log-probabilities; a setting out of range.
    """
    *_, whole = stream_request(base_url, prompt, api=api, model=model, top=top, max_tokens=max_tokens, temperature=temperature,
                               stream=stream, api_key=api_key, timeout=timeout, post_sampling=post_sampling, policy=policy)
    return whole


def list_models(base_url: str, *, api: str = "completions", api_key: str | None = None, timeout: float = 5.0) -> list[str]:
    """The models a server offers (``/v1/models``; Ollama's ``/api/tags``), or [] where it does not say."""
    httpx = _httpx()

    root = base(base_url)
    url = root + ("/api/tags" if api == "ollama" else "/v1/models")
    try:
        with _client(timeout) as client:
            response = client.get(url, headers=_headers(api_key))
    except httpx.HTTPError as exc:
        raise _fail(exc, url, timeout) from None
    if response.status_code >= 300:
        if response.status_code in (401, 403):
            raise _http_error(response.status_code, response.text, url, api)
        return []
    try:
        data = response.json()
    except ValueError:
        return []
    items = data.get("models" if api == "ollama" else "data") if isinstance(data, dict) else None
    names = [item.get("name" if api == "ollama" else "id") for item in items or [] if isinstance(item, dict)]
    return [n for n in names if isinstance(n, str) and n][:200]
