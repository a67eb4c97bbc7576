"""Every page, both languages, in a real browser: no exception, charts drawn, the catalog's words on screen."""

from __future__ import annotations

import pytest

from tests.e2e.harness import exceptions, wait_for_app
from tests.e2e.test_explorer_browser import CATALOGS

PAGES = {
    "calibration": ("cal.title", "cal.tab.overview", "cal.m.ece"),
    "compare": ("cmp.title", "cmp.tab.tokens", "cmp.tile.kl"),
    "losses": ("loss.title", "loss.tab.ce", "loss.ce.grad_title"),
    "stability": ("stab.title", "stab.shift.title", "stab.tail.title"),
}


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("path", list(PAGES))
def test_page_loads(page, app_url, path, lang):
    page.goto(f"{app_url}/{path}?lang={lang}")
    wait_for_app(page)
    assert exceptions(page) == []
    body = page.inner_text("body")
    for key in PAGES[path]:
        assert CATALOGS[lang][key] in body, (path, lang, key)
    other = "zh" if lang == "en" else "en"
    assert CATALOGS[other][PAGES[path][0]] not in body


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_calibration_tabs_from_a_link(page, app_url, lang):
    """The maps tab reads its split and seed from the link; both new tabs draw their charts with no exception."""
    from logitsviz import calibration, examples

    page.goto(f"{app_url}/calibration?lang={lang}&split=0.3&seed=2")
    wait_for_app(page)
    page.get_by_role("tab", name=CATALOGS[lang]["cal.tab.maps"]).click()
    m = examples.digits_model()
    cmp = calibration.compare_maps(m.logits, m.labels, split=0.3, rng=2)
    sizes = CATALOGS[lang]["cal.maps.sizes"].format(cal=f"{cmp.calibration_rows:,}", test=f"{cmp.test_rows:,}", seed=2)
    page.get_by_text(sizes).wait_for()
    assert exceptions(page) == []
    assert CATALOGS[lang][f"cal.map.{cmp.best('nll')}"] in page.inner_text("body")
    page.get_by_role("tab", name=CATALOGS[lang]["cal.tab.metrics"]).click()
    page.get_by_text(CATALOGS[lang]["cal.metrics.title"].format(T="1")).wait_for()
    page.get_by_text(CATALOGS[lang]["cal.brier.caption"].split("{")[0].strip()).first.wait_for()
    charts = page.locator(".js-plotly-plot")
    assert charts.count() >= 2 and exceptions(page) == []
    assert "split=0.3" in page.url and "seed=2" in page.url  # the closed tab's settings stay in the link
    page.get_by_role("tab", name=CATALOGS[lang]["cal.tab.maps"]).click()
    page.get_by_text(sizes).wait_for()  # and on the page when it opens again
