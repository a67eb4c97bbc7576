"""As a user (and an attacker) would: type, paste, upload, drag, and try to run script through class names."""

from __future__ import annotations

import numpy as np
import pytest

from tests.e2e.harness import exceptions, wait_for_app
from tests.e2e.test_explorer_browser import CATALOGS

HOSTILE = [
    "<img src=x onerror=window.__pwned=1>",
    "<script>window.__pwned=1</script>",
    '"><svg onload=window.__pwned=1>',
    "[click](javascript:window.__pwned=1)",
    "‮right-to-left‬",
    "emoji 🐱‍👤🚀",
    "x" * 300,
]


def paste(page, text: str) -> None:
    page.get_by_role("tab", name=CATALOGS["en"]["explorer.tab_paste"]).click()
    box = page.get_by_role("textbox", name=CATALOGS["en"]["explorer.paste_label"])
    box.fill(text)
    before = page.evaluate("() => location.search")
    box.press("Control+Enter")
    # the run answers with a new link (the input is in it) or an error box: wait for that, not for a fixed time
    page.wait_for_function("(b) => location.search !== b || !!document.querySelector('[data-testid=stAlertContentError]')", arg=before)
    wait_for_app(page)


def predicted(page) -> str:
    metric = page.locator("[data-testid=stMetric]", has_text=CATALOGS["en"]["metric.pred"])
    return metric.locator("[data-testid=stMetricValue]").inner_text()


def test_hostile_class_names_render_as_text_and_run_nothing(page, app_url):
    page.goto(f"{app_url}/?lang=en")
    wait_for_app(page)
    text = "\n".join(f"{name}: {i}" for i, name in enumerate(HOSTILE))
    paste(page, text)
    assert page.evaluate("() => window.__pwned") is None
    assert exceptions(page) == []
    assert page.locator("[data-testid=stAlertContentError]").count() == 0
    ticks = page.eval_on_selector_all(".js-plotly-plot .ytick text", "els => els.map(e => e.textContent)")
    assert any("<img src=x" in tick for tick in ticks)  # shown literally, escaped
    assert page.locator("img[src=x]").count() == 0
    # the 300-character name is the argmax: shown truncated, not overflowing
    assert predicted(page).startswith("xxxxxxxx")


@pytest.mark.parametrize(("bad", "fragment"), [("1, nan, 2", "NaN"), ("1, 1e999", "too large"), ("garbage ☃", "not a number")])
def test_bad_paste_shows_error_and_keeps_result(page, app_url, bad, fragment):
    page.goto(f"{app_url}/?lang=en&logits=a:1,b:5")
    wait_for_app(page)
    paste(page, bad)
    error = page.locator("[data-testid=stAlertContentError]")
    error.wait_for()
    assert fragment in error.inner_text()
    assert exceptions(page) == []
    assert predicted(page) == "b"


def test_paste_upload_and_temperature(page, app_url, tmp_path):
    page.goto(f"{app_url}/?lang=en")
    wait_for_app(page)
    paste(page, "alpha: 0.5\nbeta: 3\ngamma: 1")
    assert predicted(page) == "beta"
    assert "logits=alpha" in page.url
    # upload a .npy file
    path = tmp_path / "mine.npy"
    np.save(path, np.array([0.0, 1.0, 7.0, 2.0]))
    page.get_by_role("tab", name=CATALOGS["en"]["explorer.tab_upload"]).click()
    page.locator("input[type=file]").set_input_files(str(path))
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=stMetricValue]')].some(e => e.innerText === 'class 2')")
    # an oversized or wrong file type is refused with a message
    bad = tmp_path / "notes.exe"
    bad.write_bytes(b"MZ")
    wait_for_app(page)
    page.locator("input[type=file]").last.set_input_files(str(bad))
    page.get_by_text("notes.exe").first.wait_for()  # the uploader lists the file it refused
    assert exceptions(page) == []
    assert predicted(page) == "class 2"
    # the temperature slider by keyboard: the probability of the winner drops as T rises
    prob = page.locator("[data-testid=stMetric]", has_text=CATALOGS["en"]["metric.prob"]).locator("[data-testid=stMetricValue]")
    before = float(prob.inner_text().rstrip("%"))
    slider = page.get_by_role("slider").first
    slider.focus()
    for _ in range(4):
        slider.press("ArrowRight")
    page.wait_for_function("() => location.search.includes('T=')")  # the slider's run wrote the new temperature
    wait_for_app(page)
    assert float(prob.inner_text().rstrip("%")) < before
    assert "T=" in page.url


def test_fit_temperature_button(page, app_url):
    page.goto(f"{app_url}/calibration?lang=en")
    wait_for_app(page)
    page.get_by_role("button", name=CATALOGS["en"]["cal.fit"]).click()
    page.wait_for_function("() => location.search.includes('calT=1.6')")
    wait_for_app(page)
    assert exceptions(page) == []


def test_draw_samples(page, app_url):
    page.goto(f"{app_url}/decoding?lang=en")
    wait_for_app(page)
    box = page.get_by_role("spinbutton", name=CATALOGS["en"]["decode.sample.n"])
    box.fill("5000")
    box.press("Enter")
    page.wait_for_function("() => location.search.includes('n=5000')")
    wait_for_app(page)
    assert exceptions(page) == []


def test_oversized_upload_is_refused_by_the_server(browser, tmp_path):
    from tests.e2e.harness import serve

    big = tmp_path / "big.csv"
    big.write_bytes(b"1,2,3\n" * 400_000)  # 2.4 MB against a 1 MB limit
    with serve(extra_args=("--server.maxUploadSize", "1")) as url:
        context = browser.new_context(viewport={"width": 1400, "height": 1400})
        page = context.new_page()
        page.goto(f"{url}/?lang=en&logits=a:1,b:5")
        wait_for_app(page)
        page.get_by_role("tab", name=CATALOGS["en"]["explorer.tab_upload"]).click()
        page.locator("input[type=file]").last.set_input_files(str(big))
        page.wait_for_selector("text=/must be .*MB or smaller/i")
        assert exceptions(page) == []
        assert predicted(page) == "b"
        context.close()


def test_edit_a_logit_in_the_table(page, app_url):
    page.goto(f"{app_url}/?lang=en")
    wait_for_app(page)
    box = page.locator("[data-testid=stDataFrame]").first.bounding_box()
    # the grid is drawn on a canvas: rows are 35 px under a 35 px header; "logit" is the right-hand column
    page.mouse.dblclick(box["x"] + box["width"] * 0.8, box["y"] + 35 * 3 + 17)  # Technology's logit
    editor = page.locator("input.gdg-input").first  # the grid's cell editor
    editor.fill("9")  # replaces whatever the editor holds, however late it loaded the old value
    editor.press("Enter")
    page.wait_for_function("() => decodeURIComponent(location.search).includes('Technology:9')")
    wait_for_app(page)
    assert predicted(page) == "Technology"
