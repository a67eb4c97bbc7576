"""logitsviz web app: page config, language, navigation."""

import streamlit as st

from logitsviz.i18n import t
from logitsviz.ui import widgets

st.set_page_config(page_title="logitsviz", page_icon="📊", layout="wide", initial_sidebar_state="auto")
widgets.init_language()

pages = [
    st.Page("app_pages/explorer.py", title=t("nav.explorer"), icon=":material/bar_chart:", url_path="explorer", default=True),
    st.Page("app_pages/decoding.py", title=t("nav.decoding"), icon=":material/tune:", url_path="decoding"),
    st.Page("app_pages/calibration.py", title=t("nav.calibration"), icon=":material/target:", url_path="calibration"),
    st.Page("app_pages/losses.py", title=t("nav.losses"), icon=":material/trending_down:", url_path="losses"),
    st.Page("app_pages/stability.py", title=t("nav.stability"), icon=":material/warning:", url_path="stability"),
]
page = st.navigation(pages)
with st.sidebar:
    st.markdown("### logitsviz")
    widgets.language_switch()
    st.caption(t("sidebar.about"))
page.run()
