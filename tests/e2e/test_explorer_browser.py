"""The Explorer in a real browser: it draws, switches language, and follows links."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.harness import exceptions, wait_for_app

CATALOGS = {
    lang: json.loads((Path(__file__).resolve().parents[2] / "logitsviz" / "locales" / f"{lang}.json").read_text("utf-8"))
    for lang in ("en", "zh")
}


def test_loads_in_both_languages_with_a_chart(page, app_url):
    for lang in ("en", "zh"):
        page.goto(f"{app_url}/?lang={lang}")
        wait_for_app(page)
        assert exceptions(page) == []
        text = page.inner_text("body")
        for key in ("explorer.title", "explorer.temperature", "metric.pred", "steps.title"):
            assert CATALOGS[lang][key] in text, (lang, key)
        assert page.locator(".js-plotly-plot .bars path").count() >= 6  # 3 logit bars + 3 probability bars


def test_language_switch_changes_the_page(page, app_url):
    page.goto(f"{app_url}/?lang=en")
    wait_for_app(page)
    page.get_by_role("radio", name="简体中文").click()
    page.wait_for_selector(f"text={CATALOGS['zh']['explorer.title']}")
    wait_for_app(page)
    body = page.inner_text("body")
    assert CATALOGS["en"]["explorer.title"] not in body
    assert "lang=zh" in page.url


def test_a_link_restores_the_input(page, app_url):
    page.goto(f"{app_url}/?lang=en&logits=cat:1,dog:4,bird:2&T=2.0")
    wait_for_app(page)
    body = page.inner_text("body")
    assert "dog" in body and "Predicted class" in body
    ticks = page.eval_on_selector_all(".js-plotly-plot .ytick text", "els => els.map(e => e.textContent)")
    assert {"cat", "dog", "bird"} <= set(ticks)
