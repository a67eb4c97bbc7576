"""A link copied from a page, opened in a fresh browser context, shows the same page in the same state."""

from __future__ import annotations

import pytest

from tests.e2e.harness import exceptions, wait_for_app


def metric_values(page) -> list[str]:
    return page.locator("[data-testid=stMetricValue]").all_inner_texts()


def shared_link(page) -> str:
    page.get_by_role("button", name="Share this view").click()
    code = page.locator("[data-testid=stPopoverBody] [data-testid=stCode] code").first
    code.wait_for()
    return code.inner_text().strip()


@pytest.mark.parametrize(
    "path_and_query",
    [
        "/?lang=en&logits=cat:1,dog:4,bird:2&T=2.0&top=3&sort=true",
        "/?lang=en&preset=digits&digit=12",
        "/decoding?lang=en&src=code&order=llama.cpp&on_top_k=true&top_k=3&on_top_p=false&seed=5&n=500",
        "/calibration?lang=en&bins=10&strategy=quantile&calT=1.5",
        "/losses?lang=en&logits=a:2,b:1,c:0.1&y=2&ls=0.1",
        "/stability?lang=en&stab=float32&c=50",
    ],
)
def test_link_round_trip(browser, app_url, path_and_query):
    first = browser.new_context(viewport={"width": 1400, "height": 1600})
    page = first.new_page()
    page.goto(app_url + path_and_query)
    wait_for_app(page)
    assert exceptions(page) == []
    before = metric_values(page)
    link = shared_link(page)
    first.close()
    for part in path_and_query.split("?")[1].split("&"):
        assert part in link, (part, link)
    fresh = browser.new_context(viewport={"width": 1400, "height": 1600})
    again = fresh.new_page()
    again.goto(link)
    wait_for_app(again)
    assert metric_values(again) == before
    fresh.close()


def test_share_link_follows_controls_inside_fragments(browser, app_url):
    # the Explorer's view controls and the Decoding page's sampling controls re-run only their fragment;
    # the share control is redrawn with it, so the link never lags behind the page
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    page.goto(app_url + "/?lang=en")
    wait_for_app(page)
    slider = page.get_by_role("slider").first
    slider.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => window.location.search.includes('T=1.1')")
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')")
    assert "T=1.1" in shared_link(page)
    assert page.get_by_role("button", name="Share this view").count() == 1
    page.keyboard.press("Escape")

    page.goto(app_url + "/decoding?lang=en")
    wait_for_app(page)
    draws = page.get_by_label("Number of draws")
    draws.fill("777")
    draws.press("Enter")
    page.wait_for_function("() => window.location.search.includes('n=777')")
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')")
    link = shared_link(page)
    assert "n=777" in link and "src=story" in link
    assert page.get_by_role("button", name="Share this view").count() == 1
    page.close()
