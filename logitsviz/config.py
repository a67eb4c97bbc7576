"""Settings a deployment chooses, read from environment variables (on Streamlit Community Cloud: its secrets).

How much one upload or input may hold, in one place (:func:`limits`); a MB
is 1,000,000 bytes, as the browser's file uploader counts it:

``LOGITSVIZ_MAX_UPLOAD_MB`` (32)
    Bytes of one uploaded file. ``logitsviz app`` gives Streamlit the same
    limit; for ``streamlit run app.py`` keep ``server.maxUploadSize`` in
    ``.streamlit/config.toml`` equal to it.
``LOGITSVIZ_MAX_VALUES`` (4,000,000)
    Numbers in one array (an evaluation set's N × C).
``LOGITSVIZ_MAX_CLASSES`` (2,000,000)
    Classes of one vector.
``LOGITSVIZ_MAX_TEXT_MB`` (16)
    Characters of pasted text (a token log-probability response, pasted or
    uploaded, may be as large as either limit).
``LOGITSVIZ_CACHE_ENTRIES`` (16)
    Computed results each cached function keeps, shared by every session.
``LOGITSVIZ_GENERATE_TOKENS`` (512)
    Tokens one request may ask a server (or the language model) to generate.
``LOGITSVIZ_HISTORY_TOKENS`` (1,000,000)
    Token ids a sampler that reads the history (penalties, DRY) may be given.
``LOGITSVIZ_LENS_VALUES`` (100,000,000)
    Logits the logit lens holds at once, (layers + 1) × tokens × vocabulary; past it, one layer at a time.

The defaults keep eight users of the Calibration page, each with an upload
at the limits, under 1 GB of server memory (measured by the load test).

Which language models the app may load:

``LOGITSVIZ_MODELS``
    Comma-separated Hugging Face ids offered in the model picker, besides
    the built-in model. Default: a GPT-2 (124 M parameters) and a 0.5 B Qwen
    (which also reads Chinese), both small enough for a laptop's CPU.
``LOGITSVIZ_ANY_MODEL``
    ``1`` lets a user type any hub id. Off by default.
``LOGITSVIZ_LOCAL_MODELS``
    ``1`` lets a user type a folder on the server. Off by default: on a
    hosted deployment a path is the server's, not the user's.

Which servers the app may ask for live log-probabilities:

``LOGITSVIZ_SERVERS``
    Comma-separated base URLs (``http://gpu-box:8000``, allowing every path
    under it), host names (``gpu-box`` or ``gpu-box:8000``), or ``*`` for any.
    Default: none but this machine's loopback addresses (``localhost``,
    ``127.0.0.1``, ``[::1]``), so a public demo cannot be made to reach the
    machines around it (an internal service, a cloud metadata address).
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["Limits", "ModelPolicy", "ServerPolicy", "limits", "model_policy", "server_policy"]

DEFAULT_MODELS = ("openai-community/gpt2", "Qwen/Qwen2.5-0.5B")


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


class ModelPolicy:
    """Which language models may be loaded here (see the module docstring)."""

    def __init__(self, models: tuple[str, ...], any_model: bool, local: bool) -> None:
        self.models, self.any_model, self.local = models, any_model, local

    def allows(self, name: str, *, is_folder: bool) -> bool:
        """Whether ``name`` (a hub id, or a folder when ``is_folder``) may be loaded.

        >>> ModelPolicy(("gpt2",), any_model=False, local=False).allows("gpt2", is_folder=False)
        True
        >>> ModelPolicy(("gpt2",), any_model=True, local=False).allows("/srv/model", is_folder=True)
        False
        """
        if is_folder:
            return self.local
        return self.any_model or name in self.models

    @property
    def free_entry(self) -> bool:
        """Whether the picker offers a box for an id or folder of the user's choice."""
        return self.any_model or self.local


def model_policy() -> ModelPolicy:
    """The policy from the environment, read at each call (a test or a restart may change it)."""
    listed = os.environ.get("LOGITSVIZ_MODELS")
    models = tuple(m.strip() for m in listed.split(",") if m.strip()) if listed is not None else DEFAULT_MODELS
    return ModelPolicy(models, _flag("LOGITSVIZ_ANY_MODEL"), _flag("LOGITSVIZ_LOCAL_MODELS"))


def _is_loopback(host: str) -> bool:
    """``localhost`` or a literal loopback address (names are not resolved: what they resolve to can change)."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServerPolicy:
    """Which servers may be asked for log-probabilities (see the module docstring)."""

    allowed: tuple[str, ...] = ()  # empty: loopback only

    def allows(self, url: str) -> bool:
        """Whether ``url`` may be asked.

        >>> ServerPolicy().allows("http://127.0.0.1:8080"), ServerPolicy().allows("http://10.0.0.5:8080")
        (True, False)
        >>> ServerPolicy(("http://gpu:8000",)).allows("http://gpu:8000/v1"), ServerPolicy(("gpu",)).allows("https://gpu")
        (True, True)
        """
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if not host or parts.scheme not in ("http", "https"):
            return False
        if _is_loopback(host):
            return True
        for entry in self.allowed:
            if entry == "*":
                return True
            if "://" in entry:
                allowed = urlsplit(entry)
                if (allowed.scheme, (allowed.hostname or "").lower(), allowed.port) == (parts.scheme, host, parts.port) and \
                        parts.path.rstrip("/").startswith(allowed.path.rstrip("/")):
                    return True
            else:
                name, _, port = entry.lower().partition(":")
                if name == host and (not port or port == str(parts.port)):
                    return True
        return False


def server_policy() -> ServerPolicy:
    """The allow-list from ``LOGITSVIZ_SERVERS``, read at each call."""
    listed = os.environ.get("LOGITSVIZ_SERVERS", "")
    return ServerPolicy(tuple(e.strip() for e in listed.split(",") if e.strip()))


@dataclass(frozen=True)
class Limits:
    """How much one upload or input may hold (see the module docstring)."""

    upload_mb: int = 32
    values: int = 4_000_000
    classes: int = 2_000_000
    text_mb: int = 16
    cache_entries: int = 16
    generate_tokens: int = 512
    history_tokens: int = 1_000_000
    lens_values: int = 100_000_000  # logits a Lens holds at once, (layers + 1) × tokens × vocabulary: 400 MB of float32


def _int(name: str, default: int) -> int:
    try:
        value = int(os.environ.get(name, "").replace("_", "") or default)
    except ValueError:
        return default  # a typo in a deployment's setting falls back to the safe default
    return value if value > 0 else default


def limits() -> Limits:
    """The limits from the environment, each falling back to its default.

    >>> limits().upload_mb > 0
    True
    """
    d = Limits()
    return Limits(_int("LOGITSVIZ_MAX_UPLOAD_MB", d.upload_mb), _int("LOGITSVIZ_MAX_VALUES", d.values),
                  _int("LOGITSVIZ_MAX_CLASSES", d.classes), _int("LOGITSVIZ_MAX_TEXT_MB", d.text_mb),
                  _int("LOGITSVIZ_CACHE_ENTRIES", d.cache_entries), _int("LOGITSVIZ_GENERATE_TOKENS", d.generate_tokens),
                  _int("LOGITSVIZ_HISTORY_TOKENS", d.history_tokens), _int("LOGITSVIZ_LENS_VALUES", d.lens_values))
