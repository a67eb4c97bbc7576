"""Every page, both languages, in a real browser: no exception, charts drawn, the catalog's words on screen."""

from __future__ import annotations

import pytest

from tests.e2e.harness import wait_for_app
from tests.e2e.test_explorer_browser import CATALOGS

PAGES = {
    "calibration": ("cal.title", "cal.tab.overview", "cal.m.ece"),
    "losses": ("loss.title", "loss.tab.ce", "loss.ce.grad_title"),
    "stability": ("stab.title", "stab.shift.title", "stab.tail.title"),
}


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("path", list(PAGES))
def test_page_loads(page, app_url, path, lang):
    page.goto(f"{app_url}/{path}?lang={lang}")
    wait_for_app(page)
    assert page.locator("[data-testid=stException]").count() == 0
    body = page.inner_text("body")
    for key in PAGES[path]:
        assert CATALOGS[lang][key] in body, (path, lang, key)
    other = "zh" if lang == "en" else "en"
    assert CATALOGS[other][PAGES[path][0]] not in body
