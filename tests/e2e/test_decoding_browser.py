"""The Decoding page in a real browser."""

from __future__ import annotations

from tests.e2e.harness import exceptions, wait_for_app
from tests.e2e.test_explorer_browser import CATALOGS


def kept_text(page) -> str:
    label = CATALOGS["en"]["decode.metric.kept_of"].split("{")[0]
    metric = page.locator("[data-testid=stMetric]", has_text=label)
    return metric.locator("[data-testid=stMetricValue]").inner_text()


def test_loads_in_both_languages(page, app_url):
    for lang in ("en", "zh"):
        page.goto(f"{app_url}/decoding?lang={lang}")
        wait_for_app(page)
        assert exceptions(page) == []
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


def test_the_chain_can_be_reordered_and_a_sampler_added(page, app_url):
    page.goto(f"{app_url}/decoding?lang=en&src=capital&temperature=2.0")
    wait_for_app(page)
    before = kept_text(page)
    body = page.inner_text("body")
    assert body.index("T 2") < body.index("top-p 0.9")
    page.locator(".st-key-down_temperature button").first.click()  # temperature after top-p: top-p sees the raw logits
    page.wait_for_function("() => location.search.includes('order=custom') && location.search.includes('seq=')")
    wait_for_app(page)
    body = page.inner_text("body")
    assert body.index("top-p 0.9") < body.index("T 2")
    assert kept_text(page) != before
    seq = page.url.split("seq=")[1].split("&")[0]
    assert seq.index("top_p") < seq.index("temperature")
    # a sampler from the list below the cards joins the chain
    page.get_by_text(CATALOGS["en"]["decode.more"].split("(")[0].strip()).click()
    # from the keyboard, as a person tabbing to it does: a mouse click lands where the switch is drawn, and while the
    # list opens on a busy machine that spot held another sampler (top-nσ was toggled, and CI timed out waiting)
    switch = page.get_by_role("switch", name=CATALOGS["en"]["decode.filter.xtc.name"])
    switch.focus()
    page.keyboard.press("Space")
    page.wait_for_function("() => location.search.includes('on_xtc=true')")
    wait_for_app(page)
    assert "XTC 0.1" in page.inner_text("body")
    assert exceptions(page) == []
    # the reordered chain survives a reload from its link
    page.goto(page.url)
    wait_for_app(page)
    body = page.inner_text("body")
    assert body.index("top-p 0.9") < body.index("T 2") and "XTC 0.1" in body


def test_a_language_switch_redraws_the_choice_boxes(page, app_url):
    # the Distribution box kept reading "“for i in” (code)" on the Chinese page until a reload
    page.goto(f"{app_url}/decoding?lang=en&src=code&order=llama.cpp")
    wait_for_app(page)
    page.get_by_text("简体中文").click()
    page.wait_for_function("() => location.search.includes('lang=zh')")
    wait_for_app(page)
    # a select box shows its choice in its combobox input
    shown = "() => [...document.querySelectorAll('[data-testid=stSelectbox] input')].map(e => e.value)"
    page.wait_for_function(f"(want) => ({shown})().includes(want)", arg=CATALOGS["zh"]["decode.source.code"])
    assert CATALOGS["en"]["decode.source.code"] not in page.evaluate(shown)
    assert "src=code" in page.url and "order=llama.cpp" in page.url
    assert exceptions(page) == []
