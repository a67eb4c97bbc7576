"""In Chromium: the Tokens page (an API response, a click on a token, a phone), and rows of logits in the Explorer."""

from __future__ import annotations

import json

import pytest

from tests.e2e.harness import exceptions, wait_for_app
from tests.e2e.test_explorer_browser import CATALOGS
from tests.logprob_fixtures import OPENAI_CHAT


def _click_point(page, chart, i: int, selector: str = ".point path") -> None:
    box = chart.locator(selector).nth(i).bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # plotly reads clicks on its drag layer


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_tokens_page_opens_a_position(page, app_url, lang):
    page.goto(f"{app_url}/tokens?lang={lang}")
    wait_for_app(page)
    assert exceptions(page) == []
    strip = page.locator("[class*=stPlotlyChart]").filter(has=page.locator(".bars")).first
    texts = strip.locator(".bars .point text").all_text_contents()
    assert "巴" in "".join(texts) and not any("å" in x for x in texts)  # bytes assembled, no mojibake
    _click_point(page, strip, 11)
    page.get_by_text(CATALOGS[lang]["seq.rest"]).first.wait_for(timeout=30_000)
    assert exceptions(page) == []


def test_tokens_page_reads_an_upload_on_a_phone(browser, app_url, tmp_path):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{app_url}/tokens?lang=en&tsrc=upload")
    page.get_by_text(CATALOGS["en"]["tok.first"]).wait_for(timeout=30_000)
    path = tmp_path / "response.json"
    path.write_text(json.dumps(OPENAI_CHAT, ensure_ascii=False), encoding="utf-8")
    page.locator("input[type=file]").set_input_files(str(path))
    wait_for_app(page)
    assert exceptions(page) == []
    assert page.get_by_text("response.json").count() >= 1
    wide = page.evaluate("() => document.documentElement.scrollWidth")
    assert wide <= 390 + 1  # nothing wider than the phone
    context.close()


def test_pasted_rows_and_a_click_on_one(page, app_url):
    page.goto(f"{app_url}/?lang=en")
    wait_for_app(page)
    page.get_by_role("tab", name=CATALOGS["en"]["explorer.tab_paste"]).click()
    box = page.get_by_role("textbox", name=CATALOGS["en"]["explorer.paste_label"])
    box.fill("tensor([[1.2, -0.3, 4.1], [0.5, 2.0, -1.0], [3.0, 0.0, 0.0]])")
    box.press("Control+Enter")
    page.get_by_role("heading", name=CATALOGS["en"]["explorer.rows_title"]).wait_for(timeout=30_000)
    wait_for_app(page)
    rows_chart = page.locator("[class*=stPlotlyChart]").filter(has=page.locator(".scatterlayer path.point")).first
    _click_point(page, rows_chart, 1, ".scatterlayer path.point")
    page.wait_for_function("() => location.search.includes('row=1')", timeout=30_000)
    wait_for_app(page)
    assert exceptions(page) == []
    body = page.inner_text("body")
    assert "class 1" in body  # row 1's prediction
