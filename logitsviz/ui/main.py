"""The app's shell: page config, language, navigation, the share control.

The one entry point: ``streamlit run app.py`` (the repository's ``app.py``
calls :func:`main`) and ``logitsviz app`` (which runs this file).
"""

from __future__ import annotations

import streamlit as st

from logitsviz.i18n import t
from logitsviz.ui import nav, widgets


def main() -> None:
    """Run one pass of the app script."""
    st.set_page_config(page_title="logitsviz", page_icon="📊", layout="wide", initial_sidebar_state="auto")
    widgets.init_language()
    page = st.navigation([nav.page(url) for url in nav.PAGES])
    with st.sidebar:
        st.markdown("### logitsviz")
        widgets.language_switch()
        widgets.share_slot(st.container())
        st.caption(t("sidebar.about"))
    page.run()  # a page that stops early (st.stop, st.switch_page) has no share control this run
    widgets.share_link()  # filled last, so the link carries what the page wrote into the URL


if __name__ == "__main__":  # `streamlit run logitsviz/ui/main.py`, as `logitsviz app` does
    main()
