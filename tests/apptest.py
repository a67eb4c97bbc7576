"""Opening the app in Streamlit's AppTest, shared by the page tests."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from logitsviz.i18n import t

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def switch(at: AppTest, url_path: str) -> AppTest:
    """Go to the page at ``url_path`` (e.g. "decoding") on the next run, as following its link does.

    The pages are callables (``st.Page(render, url_path=…)``), and
    ``AppTest.switch_page`` only finds page files; a real session picks a page
    by the hash of its url path, which is what this sets.
    """
    at._page_hash = calc_hash(url_path)
    return at


def open_page(page: str | None = None, query: dict | None = None, locale: str | None = None) -> AppTest:
    """Run the app with a link's ``query`` and a browser ``locale``, then switch to ``page`` (its url path)."""
    at = AppTest.from_file(APP, default_timeout=90)
    if query:
        at.query_params.update(query)
    if locale:
        at.context["locale"] = locale
    at.run()
    if page:
        switch(at, page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, key: str, lang: str = "en", **kw) -> str:
    """The value of the metric labelled ``t(key)``."""
    label = t(key, lang=lang, **kw)
    return next(m.value for m in at.metric if m.label == label)
