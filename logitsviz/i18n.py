"""User-visible strings in English and Simplified Chinese.

Every string the app shows lives in ``locales/<lang>.json`` under the same
keys. ``t(key, **kw)`` looks the key up in the current language, falls back to
English, and fills ``{placeholders}`` with ``str.format``.

The current language is a context variable, so two Streamlit sessions running
at once (each script run has its own thread) never see each other's choice.
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "catalog", "get_language", "language_from_locale", "set_language", "t",
           "use_language_of"]

LANGUAGES: dict[str, str] = {"en": "English", "zh": "简体中文"}
DEFAULT_LANGUAGE = "en"

_LOCALES = Path(__file__).with_name("locales")
_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("logitsviz_language", default=None)
_provider: Callable[[], str | None] | None = None  # where the language comes from when no one set it here


@cache
def catalog(lang: str) -> dict[str, str]:
    """The key → text mapping of one language (read once, then cached)."""
    with open(_LOCALES / f"{lang}.json", encoding="utf-8") as fh:
        return json.load(fh)


def set_language(lang: str) -> None:
    """Make ``lang`` the language of ``t()`` in this thread / context."""
    _current.set(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)


def use_language_of(provider: Callable[[], str | None]) -> None:
    """Ask ``provider`` for the language wherever :func:`set_language` was not called first.

    The app registers its session's language here: a widget's callback runs
    before the script sets the language, and a message or label made there
    would otherwise be English on a Chinese page.
    """
    global _provider
    _provider = provider


def get_language() -> str:
    """The language ``t()`` uses when none is given."""
    lang = _current.get()
    if lang is None and _provider is not None:
        try:
            lang = _provider()
        except Exception:  # no session to ask (a script outside the app): the default
            lang = None
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def language_from_locale(locale: str | None) -> str:
    """Map a browser locale such as ``"zh-CN"`` or ``"en-GB"`` to a supported language.

    >>> language_from_locale("zh-Hans-CN"), language_from_locale("de-DE"), language_from_locale(None)
    ('zh', 'en', 'en')
    """
    if locale and locale.lower().split("-")[0].split("_")[0] == "zh":
        return "zh"
    return DEFAULT_LANGUAGE


def t(key: str, lang: str | None = None, **kw: Any) -> str:
    """Translate ``key`` into ``lang`` (default: the current language).

    Falls back to English when the key is missing in ``lang``, and to the key
    itself when it is missing everywhere, so a typo shows up on screen instead
    of crashing the page (a test keeps the catalogs complete).

    >>> t("app.title", lang="en")
    'logitsviz'
    """
    lang = lang or get_language()
    text = catalog(lang).get(key) if lang in LANGUAGES else None
    if text is None:
        text = catalog(DEFAULT_LANGUAGE).get(key, key)
    if kw:
        try:
            return text.format(**kw)
        except (KeyError, IndexError, ValueError):
            return text
    return text
