"""The download buttons, clicked in the browser: the files hold the numbers the page shows."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import scipy.special as sp

from logitsviz import examples
from tests.e2e.harness import wait_for_app


def download(page, name: str) -> bytes:
    with page.expect_download() as info:
        page.get_by_role("button", name=name).first.click()
    return open(info.value.path(), "rb").read()


def test_explorer_json_and_csv_hold_every_class(browser, app_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1600}, accept_downloads=True)
    page = context.new_page()
    page.goto(app_url + "/?lang=en&logits=cat:1,dog:4,bird:2,fish:-inf&T=2.0")
    wait_for_app(page)
    payload = json.loads(download(page, "Download JSON"))
    assert payload["temperature"] == 2.0 and payload["shift"] == 0.0
    assert [c["label"] for c in payload["classes"]] == ["cat", "dog", "bird", "fish"]
    expected = sp.softmax(np.array([1.0, 4.0, 2.0, -np.inf]) / 2.0)
    np.testing.assert_allclose([c["probability"] for c in payload["classes"]], expected, rtol=1e-12)
    assert payload["classes"][3]["logit"] is None and payload["classes"][3]["log_probability"] is None  # -inf: null
    table = pd.read_csv(io.BytesIO(download(page, "Download CSV")))
    np.testing.assert_allclose(table["probability"], expected, rtol=1e-12)
    context.close()


def test_decoding_csv_of_a_200k_vocabulary_is_built_on_click(browser, app_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1600}, accept_downloads=True)
    page = context.new_page()
    page.goto(app_url + "/decoding?lang=en&src=explorer&preset=random200k")  # the Explorer's input, from the link
    wait_for_app(page)
    table = pd.read_csv(io.BytesIO(download(page, "Download CSV")))
    labels, logits = examples.preset("random200k")
    assert len(table) == 200_000 and table["token"].tolist()[:3] == labels[:3]
    np.testing.assert_allclose(table["logit"], logits, rtol=1e-12)
    kept = np.isfinite(table["final_logit"])
    assert 0 < kept.sum() < 200_000  # the default filters cut the tail
    np.testing.assert_allclose(table["final_probability"].sum(), 1.0, rtol=1e-9)
    assert (table["final_probability"][~kept] == 0).all()
    context.close()
