"""The Decoding page through AppTest: each filter, the order, sampling, links, both languages."""

from __future__ import annotations

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from logitsviz import examples, sampling
from logitsviz.i18n import t
from tests.apptest import APP, metric, switch
from tests.apptest import open_page as _open


def open_page(query: dict | None = None, locale: str | None = None) -> AppTest:
    return _open("decoding", query, locale)


def kept_tile(at: AppTest) -> tuple[int, int]:
    """(tokens kept, of how many): the tile's value and the number in its label."""
    prefix = t("decode.metric.kept_of", lang="en", n="")
    tile = next(m for m in at.metric if m.label.startswith(prefix))
    return int(tile.value.replace(",", "")), int(tile.label[len(prefix):].replace(",", ""))


def kept_count(at: AppTest) -> int:
    return kept_tile(at)[0]


def expected_kept(source: str, settings: dict, order: str = "transformers") -> int:
    _, _, logits = examples.decoding_preset(source)
    stages = sampling.pipeline(logits, settings, order)
    return int(np.isfinite(stages[-1].after).sum()) if stages else logits.size


FILTERS = ["top_k", "top_p", "min_p", "typical_p", "epsilon", "eta", "top_n_sigma"]
DEFAULTS = {"temperature": 0.8, "top_p": 0.9}


def test_default_page():
    at = open_page()
    assert at.title[0].value == "Decoding lab"
    assert kept_count(at) == expected_kept("story", DEFAULTS)
    assert metric(at, "decode.metric.greedy") == "␣was"
    # final chart + temperature + top-p stage charts + the sample histogram
    assert len(at.get("plotly_chart")) == 4
    assert not at.error


@pytest.mark.parametrize("name", FILTERS)
def test_each_filter_toggled(name):
    at = open_page()
    at.toggle(key=f"on_{name}").set_value(False).run()
    off = {k: v for k, v in DEFAULTS.items() if k != name}
    assert kept_count(at) == expected_kept("story", off)
    at.toggle(key=f"on_{name}").set_value(True).run()
    assert not at.exception
    settings = {**DEFAULTS, name: sampling_default(name)}
    assert kept_count(at) == expected_kept("story", settings)
    charts = at.get("plotly_chart")
    assert len(charts) == 2 + len(settings)  # final + one per stage + histogram
    titles = [json.loads(c.proto.spec)["layout"].get("title", {}).get("text") for c in charts]
    assert t(f"decode.filter.{name}.name", lang="en") in titles


def sampling_default(name: str) -> float:
    from logitsviz.ui.decoding import SPECS

    return SPECS[name].default


def test_turning_everything_off_keeps_every_token():
    at = open_page()
    at.toggle(key="on_temperature").set_value(False).run()
    at.toggle(key="on_top_p").set_value(False).run()
    assert kept_count(at) == 40
    assert any(i.value == t("decode.no_filters", lang="en") for i in at.info)


def test_values_change_what_is_kept():
    at = open_page({"src": "capital"})
    at.toggle(key="on_top_p").set_value(False).run()
    at.toggle(key="on_top_k").set_value(True).run()
    at.number_input(key="top_k").set_value(7).run()
    assert kept_count(at) == 7
    # the slider follows the exact number and moves it back
    assert at.slider(key="top_k__slider").value == 7
    at.slider(key="top_k__slider").set_value(12).run()
    assert at.number_input(key="top_k").value == 12
    assert kept_count(at) == 12


def test_order_switch():
    at = open_page({"src": "capital", "temperature": "2.0"})
    transformers = kept_count(at)
    at.segmented_control(key="order").set_value("llama.cpp").run()
    llama = kept_count(at)
    assert transformers == expected_kept("capital", {"temperature": 2.0, "top_p": 0.9}, "transformers")
    assert llama == expected_kept("capital", {"temperature": 2.0, "top_p": 0.9}, "llama.cpp")
    assert transformers != llama  # a hot temperature before top-p keeps more tokens


def test_sampling_numbers_follow_seed_and_n():
    at = open_page()
    tvd_small = float(metric(at, "decode.sample.tvd"))
    at.number_input(key="n").set_value(100_000).run()
    tvd_large = float(metric(at, "decode.sample.tvd"))
    assert tvd_large < tvd_small
    before = at.text[-1].value
    at.number_input(key="seed").set_value(7).run()
    assert at.text[-1].value != before


def test_explorer_input_is_a_source():
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.text_area(key="paste_text").input("alpha: 3\nbeta: 2.5\ngamma: -1").run()
    switch(at, "decoding").run()
    at.selectbox(key="src").set_value("explorer").run()
    assert not at.exception
    assert metric(at, "decode.metric.greedy") == "alpha"
    assert kept_tile(at)[1] == 3


def test_large_explorer_input():
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"preset": "random200k", "src": "explorer"})
    at.run()
    switch(at, "decoding").run()
    assert not at.exception
    assert kept_tile(at)[1] == 200_000
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert len(spec["data"][0]["x"]) == 21  # top 20 + others


def test_link_restores_filters():
    at = open_page({"src": "code", "order": "llama.cpp", "on_top_k": "true", "top_k": "3", "on_top_p": "false", "seed": "5"})
    assert at.selectbox(key="src").value == "code"
    assert kept_count(at) == 3
    assert at.number_input(key="seed").value == 5


@pytest.mark.parametrize("bad", [{"top_p": "5"}, {"top_k": "-3"}, {"temperature": "abc"}, {"order": "nope"}, {"src": "../etc"}])
def test_bad_link_values_are_ignored(bad):
    at = open_page(bad)
    assert not at.exception and not at.error
    assert kept_count(at) == expected_kept("story", DEFAULTS)


def test_chinese():
    at = open_page(locale="zh-CN")
    assert at.title[0].value == "解码实验室"
    assert any(m.label.startswith("保留的词元") for m in at.metric)
    assert at.selectbox(key="src").value == "weather_zh"  # a Chinese reader starts on a Chinese prompt
    assert at.toggle(key="on_top_k").label == "Top-k"
    assert at.toggle(key="on_temperature").label == "温度"
