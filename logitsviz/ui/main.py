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
    _rerun_on_reconnect()
    page.run()  # a page that stops early (st.stop, st.switch_page) has no share control this run
    widgets.share_link()  # filled last, so the link carries what the page wrote into the URL



@st.fragment(run_every="15min")
def _rerun_on_reconnect() -> None:
    """Draws nothing; its timer makes an open page run the app again when it reconnects to a restarted server.

    Streamlit's page reconnects by itself, but asks the new server for a run
    only when it knows of a timed fragment (or its last run was cut off);
    otherwise it keeps showing the old figures over a session that never ran,
    and the next click would start from defaults. With this timer every
    reconnect runs the app from the address it shows, which holds the page's
    state. Every 15 minutes this does nothing, at no cost.
    """


if __name__ == "__main__":  # `streamlit run logitsviz/ui/main.py`, as `logitsviz app` does
    main()
