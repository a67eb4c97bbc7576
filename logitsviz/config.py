"""Settings a deployment chooses, read from environment variables (on Streamlit Community Cloud: its secrets).

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
"""

from __future__ import annotations

import os

__all__ = ["ModelPolicy", "model_policy"]

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
