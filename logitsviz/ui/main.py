"""The app's shell: page config, language, navigation, the share control. ``app.py`` calls :func:`main`."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from logitsviz.i18n import t
from logitsviz.ui import widgets

PAGES_DIR = Path(__file__).with_name("pages")
# (file, url path, title key, icon); the first is the home page
PAGES = (
    ("explorer.py", "explorer", "nav.explorer", ":material/bar_chart:"),
    ("decoding.py", "decoding", "nav.decoding", ":material/tune:"),
    ("calibration.py", "calibration", "nav.calibration", ":material/target:"),
    ("losses.py", "losses", "nav.losses", ":material/trending_down:"),
    ("stability.py", "stability", "nav.stability", ":material/warning:"),
)


_PAGES: dict[str, st.Page] = {}  # url path -> the Page of the current run, for st.switch_page


def page_for(url_path: str) -> st.Page:
    """The registered page at ``url_path`` (e.g. "explorer"), to pass to ``st.switch_page``."""
    return _PAGES[url_path]


def main() -> None:
    """Run one pass of the app script."""
    st.set_page_config(page_title="logitsviz", page_icon="📊", layout="wide", initial_sidebar_state="auto")
    widgets.init_language()
    pages = [
        st.Page(PAGES_DIR / file, title=t(title), icon=icon, url_path=url, default=(i == 0))
        for i, (file, url, title, icon) in enumerate(PAGES)
    ]
    _PAGES.update({url: p for (_, url, _, _), p in zip(PAGES, pages)})
    page = st.navigation(pages)
    with st.sidebar:
        st.markdown("### logitsviz")
        widgets.language_switch()
        widgets.share_slot(st.container())
        st.caption(t("sidebar.about"))
    page.run()  # a page that stops early (st.stop, st.switch_page) has no share control this run
    widgets.share_link()  # filled last, so the link carries what the page wrote into the URL
