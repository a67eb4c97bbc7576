"""The Decoding page in a real browser."""

from __future__ import annotations

from tests.e2e.harness import wait_for_app
from tests.e2e.test_explorer_browser import CATALOGS


def kept_text(page) -> str:
    label = CATALOGS["en"]["decode.metric.kept_of"].split("{")[0]
    metric = page.locator("[data-testid=stMetric]", has_text=label)
    return metric.locator("[data-testid=stMetricValue]").inner_text()


def test_loads_in_both_languages(page, app_url):
    for lang in ("en", "zh"):
        page.goto(f"{app_url}/decoding?lang={lang}")
        wait_for_app(page)
        assert page.locator("[data-testid=stException]").count() == 0
        body = page.inner_text("body")
        for key in ("decode.title", "decode.pipeline", "decode.sample.title", "decode.filter.top_p.name"):
            assert CATALOGS[lang][key] in body, (lang, key)
        assert page.locator(".js-plotly-plot").count() >= 4


def test_enabling_a_filter_changes_what_is_kept(page, app_url):
    page.goto(f"{app_url}/decoding?lang=en&src=capital")
    wait_for_app(page)
    before = kept_text(page)
    page.get_by_role("switch", name=CATALOGS["en"]["decode.filter.top_p.name"]).click(force=True)  # switch top-p off
    page.wait_for_function("() => location.search.includes('on_top_p=false')")
    page.wait_for_function(
        "(b) => [...document.querySelectorAll('[data-testid=stMetric]')]"
        ".some(m => m.innerText.includes('Tokens kept') && !m.innerText.includes('\\n' + b))",
        arg=before,
    )
    wait_for_app(page)
    assert kept_text(page) != before
    assert "on_top_p=false" in page.url


def test_link_with_filters(page, app_url):
    page.goto(f"{app_url}/decoding?lang=en&src=code&on_top_k=true&top_k=3&on_top_p=false")
    wait_for_app(page)
    assert kept_text(page) == "3"
