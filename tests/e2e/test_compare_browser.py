"""The Compare page in Chromium: the built-in model against its quantised copy, a click on a token, the summary's
download; without the language-model extra, the other sources still work."""

from __future__ import annotations

import json

import numpy as np
import pytest

from logitsviz import examples, lm
from tests.e2e.harness import exceptions, serve, wait_for_app
from tests.e2e.test_downloads_browser import download
from tests.e2e.test_explorer_browser import CATALOGS
from tests.e2e.test_language_model_browser import _hiding


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_click_a_token_then_download_the_summary(browser, app_url, lang):
    context = browser.new_context(viewport={"width": 1400, "height": 1400}, locale="en-US", accept_downloads=True)
    page = context.new_page()
    page.goto(f"{app_url}/compare?lang={lang}&cmp_b=q3")
    wait_for_app(page)
    assert exceptions(page) == []
    text = CATALOGS[lang]["cmp.default_text"]
    builtin = lm.load(str(examples.language_model_folder()))
    c = lm.compare(builtin, lm.quantized(builtin, 3), text)
    position = page.get_by_role("spinbutton", name=CATALOGS[lang]["cmp.position"])
    assert position.input_value() == str(int(np.argmax(c.kl)) + 1)  # opened where they differ most
    strip = page.locator("[class*=stPlotlyChart]").filter(has=page.locator(".bars")).first
    box = strip.locator(".bars .point path").nth(4).bounding_box()  # the fifth token
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function("(el) => el.value === '5'", arg=position.element_handle())
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')")
    assert "cmp_pos=5" in page.url
    body = page.inner_text("body")
    assert f"KL {c.kl[4]:.4g}" in body and exceptions(page) == []
    page.get_by_role("tab", name=CATALOGS[lang]["cmp.tab.summary"]).click()
    page.get_by_text(CATALOGS[lang]["cmp.stat.kl_mean"]).first.wait_for()
    summary = json.loads(download(page, CATALOGS[lang]["cmp.download_summary"]))
    assert summary["n"] == len(c)
    assert summary["kl_mean"] == pytest.approx(c.summary()["kl_mean"], rel=1e-6)
    assert summary["same_top"] == pytest.approx(c.summary()["same_top"])
    page.get_by_role("tab", name=CATALOGS[lang]["cmp.tab.speculative"]).click()
    page.get_by_text(CATALOGS[lang]["cmp.residual"]).first.wait_for()
    assert exceptions(page) == []
    context.close()


def test_without_the_extra_the_other_sources_work(browser, tmp_path):
    with serve(env=_hiding(tmp_path, ("torch", "transformers", "tokenizers"))) as url:
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.goto(f"{url}/compare?lang=en")
        page.get_by_text(lm.INSTALL).first.wait_for()  # no chart: the page says what to install
        assert exceptions(page) == []
        page.goto(f"{url}/compare?lang=en&cmp_src=explorer&cmp_t=1&cmp_cls=2&cmp_shift=3")
        wait_for_app(page)
        assert exceptions(page) == []
        assert page.locator("[data-testid=stMetric]").count() >= 3
        page.close()
