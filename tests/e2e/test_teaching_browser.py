"""What a new user meets, measured in Chromium at 1366x900: the chart beside its control, tiles that fit, links that apply."""

from __future__ import annotations

import io

import numpy as np
import pytest

from tests.e2e.harness import wait_for_app
from tests.e2e.test_explorer_browser import CATALOGS

SCREEN = {"width": 1366, "height": 900}

# every tile whose value (or label) is wider than its box: the browser cuts it with "…"
OVERFLOWING_TILES = """() => [...document.querySelectorAll('[data-testid=stMetric]')].flatMap(m => {
  const cut = [];
  for (const part of m.querySelectorAll('[data-testid=stMetricValue] *, [data-testid=stMetricLabel] p')) {
    if (part.scrollWidth > part.clientWidth + 1) cut.push(part.textContent);
  }
  return cut;
})"""


@pytest.fixture
def screen(browser):
    context = browser.new_context(viewport=SCREEN, locale="en-US")
    page = context.new_page()
    yield page
    context.close()


def test_the_temperature_and_its_chart_share_the_first_screen(screen, app_url):
    screen.goto(f"{app_url}/?lang=en")
    wait_for_app(screen)
    slider = screen.get_by_role("slider", name=CATALOGS["en"]["explorer.temperature"]).bounding_box()
    chart = screen.locator(".js-plotly-plot").first.bounding_box()
    assert slider["y"] + slider["height"] <= SCREEN["height"]
    assert chart["y"] + 120 <= SCREEN["height"]  # the chart starts well inside the first screen: its bars are visible


def test_a_typed_temperature_in_a_link_applies(screen, app_url):
    screen.goto(f"{app_url}/?lang=en&logits=3,1,0&T=2")
    wait_for_app(screen)
    bars = screen.eval_on_selector_all(".js-plotly-plot .bars .bartext", "els => els.map(e => e.textContent)")
    assert "62.9%" in bars  # softmax([1.5, 0.5, 0])
    screen.goto(f"{app_url}/?lang=en&logits=3,1,0&T=500")
    wait_for_app(screen)
    assert CATALOGS["en"]["link.out_of_range"].split("{")[0] in screen.inner_text("body")


def test_the_worked_example_shows_the_blogs_arithmetic(screen, app_url):
    screen.goto(f"{app_url}/?lang=en")
    wait_for_app(screen)
    body = screen.inner_text("body")
    assert "7.39" in body and "11.2" in body


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_tile_is_cut_at_fifty_thousand_classes(screen, app_url, tmp_path, lang):
    z = np.random.default_rng(0).normal(size=50_000).astype(np.float32)
    path = tmp_path / "vocab.npy"
    buf = io.BytesIO()
    np.save(buf, z)
    path.write_bytes(buf.getvalue())
    screen.goto(f"{app_url}/?lang={lang}")
    wait_for_app(screen)
    screen.get_by_role("tab", name=CATALOGS[lang]["explorer.tab_upload"]).click()
    screen.locator("input[type=file]").set_input_files(str(path))
    screen.get_by_text("50,000").filter(visible=True).first.wait_for(timeout=60_000)
    wait_for_app(screen)
    assert screen.evaluate(OVERFLOWING_TILES) == []
    screen.get_by_role("link", name=CATALOGS[lang]["nav.decoding"]).click()
    wait_for_app(screen)
    screen.get_by_role("combobox").first.click()
    screen.get_by_role("option", name=CATALOGS[lang]["decode.source.explorer"]).click()
    screen.get_by_text("50,000").filter(visible=True).first.wait_for(timeout=60_000)
    wait_for_app(screen)
    assert screen.evaluate(OVERFLOWING_TILES) == []
