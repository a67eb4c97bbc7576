"""Opening the app in Streamlit's AppTest, shared by the page tests."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from logitsviz.i18n import t

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def open_page(page: str | None = None, query: dict | None = None, locale: str | None = None) -> AppTest:
    """Run the app with a link's ``query`` and a browser ``locale``, then switch to ``page`` (a path under the app)."""
    at = AppTest.from_file(APP, default_timeout=90)
    if query:
        at.query_params.update(query)
    if locale:
        at.context["locale"] = locale
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, key: str, lang: str = "en", **kw) -> str:
    """The value of the metric labelled ``t(key)``."""
    label = t(key, lang=lang, **kw)
    return next(m.value for m in at.metric if m.label == label)
