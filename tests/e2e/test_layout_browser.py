"""Every page fits a phone: no formula wider than its box, no chart title on top of another.

A hosted demo link is opened on phones. Measured in the browser at 360 px,
the narrowest common phone width, in both languages, with every Losses tab
opened in turn: KaTeX scrolls a formula that is too wide (half of it hidden),
and plotly draws annotations wherever they are put, overlapping or not.
"""

from __future__ import annotations

import pytest

from tests.e2e.harness import exceptions, wait_for_app

PHONE = {"width": 360, "height": 2400}
PAGES = ["", "decoding", "tokens", "compare", "calibration", "losses", "stability"]

# Formulas wider than their box (the box scrolls), and chart annotations that
# overlap each other or stick out of their chart. Only what is displayed counts:
# a hidden tab's formulas measure 0 wide.
MEASURE = """() => {
  const found = [];
  for (const box of document.querySelectorAll('.katex-display')) {
    if (box.scrollWidth > box.clientWidth + 4) {
      found.push(`formula ${box.scrollWidth} px wide in a ${box.clientWidth} px box: ${box.textContent.slice(0, 40)}`);
    }
  }
  for (const plot of document.querySelectorAll('.js-plotly-plot')) {
    const chart = plot.querySelector('.main-svg').getBoundingClientRect();
    const notes = [...plot.querySelectorAll('.annotation-text')]
      .map(a => [a.textContent, a.getBoundingClientRect()])
      .filter(([, r]) => r.width > 0);
    notes.forEach(([text, r], i) => {
      if (r.left < chart.left - 1 || r.right > chart.right + 1) found.push(`outside its chart: ${text}`);
      for (const [other, q] of notes.slice(i + 1)) {
        if (r.left < q.right && q.left < r.right && r.top < q.bottom && q.top < r.bottom) {
          found.push(`overlapping: ${text} / ${other}`);
        }
      }
    });
  }
  return found;
}"""


def settle(page) -> None:
    """Until the browser has laid out and painted what the last run drew (KaTeX, plotly): two animation frames."""
    page.evaluate("() => document.fonts.ready.then(() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))))")


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, locale="en-US", is_mobile=True, has_touch=True)
    pg = context.new_page()
    yield pg
    context.close()


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("path", PAGES)
def test_page_fits_a_phone(phone, app_url, path, lang):
    phone.goto(f"{app_url}/{path}?lang={lang}")
    wait_for_app(phone)
    assert exceptions(phone) == []
    problems = phone.evaluate(MEASURE)
    tabs = phone.get_by_role("tab")
    for i in range(1, tabs.count()):  # the first tab is what was just measured
        before = phone.evaluate("() => location.search")
        tabs.nth(i).click()
        # opening a tab runs the page and writes the tab into the link: wait for that run to end
        phone.wait_for_function("(b) => location.search !== b", arg=before)
        phone.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')")
        settle(phone)
        problems += [f"tab {i}: {p}" for p in phone.evaluate(MEASURE)]
    assert problems == [], problems
