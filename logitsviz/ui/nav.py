"""The app's pages: one registry that the shell's navigation and any page's link to another read.

Pages are callables (``st.Page(render, url_path=…)``), so there are no page
script files; ``st.switch_page`` finds a page by its ``url_path``.
"""

from __future__ import annotations

import importlib

import streamlit as st

from logitsviz.i18n import t

# url path -> (module with a render() function, title key, icon); the first is the home page
PAGES: dict[str, tuple[str, str, str]] = {
    "explorer": ("logitsviz.ui.explorer", "nav.explorer", ":material/bar_chart:"),
    "tour": ("logitsviz.ui.tour", "nav.tour", ":material/school:"),
    "decoding": ("logitsviz.ui.decoding", "nav.decoding", ":material/tune:"),
    "lm": ("logitsviz.ui.language_model", "nav.lm", ":material/chat:"),
    "tokens": ("logitsviz.ui.tokens_page", "nav.tokens", ":material/text_fields:"),
    "compare": ("logitsviz.ui.compare", "nav.compare", ":material/compare_arrows:"),
    "calibration": ("logitsviz.ui.calibration", "nav.calibration", ":material/target:"),
    "losses": ("logitsviz.ui.losses", "nav.losses", ":material/trending_down:"),
    "stability": ("logitsviz.ui.stability", "nav.stability", ":material/warning:"),
}
HOME = next(iter(PAGES))


def page(url_path: str) -> st.Page:
    """The page at ``url_path``, titled in the current language (for ``st.navigation`` and ``st.switch_page``).

    The module is imported when the page is built, so a page's own imports
    (and their cost) load with the app, not with this registry.
    """
    module, title, icon = PAGES[url_path]
    render = importlib.import_module(module).render
    return st.Page(render, title=t(title), icon=icon, url_path=url_path, default=url_path == HOME)
