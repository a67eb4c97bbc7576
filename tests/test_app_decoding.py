"""The Decoding page through AppTest: each filter, the order, sampling, links, both languages."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import ClassVar

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
    return sampling.FILTERS[name].settings[0].default


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
    at.selectbox(key="order").set_value("llama.cpp").run()
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
    assert any(m.label.startswith("保留的 token") for m in at.metric)
    assert at.selectbox(key="src").value == "weather_zh"  # a Chinese reader starts on a Chinese prompt
    assert at.toggle(key="on_top_k").label == "Top-k"
    assert at.toggle(key="on_temperature").label == "温度"


# ------------------------------------------------- any order, more samplers ----


def chain_badges(at: AppTest) -> str:
    """The pipeline line of badges, as markdown."""
    return next(m.value for m in at.markdown if m.value.startswith(":gray-badge["))


def test_moving_a_card_changes_the_order_and_the_link():
    at = open_page({"src": "capital", "temperature": "2.0"})
    before = kept_count(at)
    assert chain_badges(at).index("T 2") < chain_badges(at).index("top-p")
    at.button(key="down_temperature").click().run()
    assert at.selectbox(key="order").value == "custom"
    assert chain_badges(at).index("top-p") < chain_badges(at).index("T 2")  # top-p now sees the raw logits
    assert kept_count(at) == expected_kept("capital", {"temperature": 2.0, "top_p": 0.9}, "llama.cpp") != before
    seq = at.query_params["seq"][0] if isinstance(at.query_params["seq"], list) else at.query_params["seq"]
    assert seq.index("top_p") < seq.index("temperature")
    at.button(key="up_temperature").click().run()  # and back
    assert kept_count(at) == before
    # the first card cannot move up, the last not down
    assert at.button(key="up_temperature").disabled and at.button(key="down_top_p").disabled


def test_a_custom_order_from_a_link():
    at = open_page({"src": "capital", "temperature": "2.0", "order": "custom", "seq": "top_p,nonsense,temperature"})
    assert at.selectbox(key="order").value == "custom" and not at.exception
    assert kept_count(at) == expected_kept("capital", {"temperature": 2.0, "top_p": 0.9}, "llama.cpp")


def test_webui_preset_puts_temperature_before_top_k_and_min_p_after():
    order = sampling.ORDERS["text-generation-webui"]
    at = open_page({"order": "text-generation-webui", "on_min_p": "true", "on_top_k": "true"})
    badges = chain_badges(at)
    assert badges.index("T 0.8") < badges.index("top-k") < badges.index("top-p") < badges.index("min-p")
    assert order.index("top_p") < order.index("min_p")


def test_history_samplers_show_what_they_touched():
    _, tokens, logits = examples.decoding_preset("story")
    top = tokens[int(np.argmax(logits))]
    at = open_page({"on_repetition": "true", "repetition": "3.0", "history": f"{top} {top.lstrip('␣')}", "on_top_p": "false"})
    assert not at.error
    caption = " ".join(c.value for c in at.caption)
    assert "Looked at 2 history tokens and changed 1" in caption and top in caption
    assert metric(at, "decode.metric.greedy") != top  # divided by 3, the favourite gives way


def test_a_bad_history_word_is_named_and_the_page_still_works():
    at = open_page({"on_repetition": "true", "history": "nonsense-token-xyz"})
    assert any("nonsense-token-xyz" in e.value for e in at.error)
    assert not at.exception and kept_count(at) == expected_kept("story", DEFAULTS)


def test_step_through_generation_with_mirostat_and_penalties():
    at = open_page({"on_mirostat": "true", "on_presence": "true", "presence": "2.0", "on_top_p": "false"})
    at.button(key="gen_ten").click().run()
    table = at.dataframe[-1].value
    assert len(table) == 10 and not at.exception
    mu = table[t("decode.gen.col.mu", lang="en")].to_numpy()
    assert mu[0] != 10.0 and len(set(np.round(mu, 6))) > 1  # μ starts at 2τ = 10 and moves every step
    at.button(key="gen_one").click().run()
    assert len(at.dataframe[-1].value) == 11
    # every drawn token joined the history: the presence penalty now looks at all 11
    caption = " ".join(c.value for c in at.caption)
    assert "Looked at 11 history tokens" in caption
    at.button(key="gen_reset").click().run()
    assert t("decode.gen.empty", lang="en") in " ".join(c.value for c in at.caption)


@pytest.mark.parametrize("name", ["repetition", "presence", "dry", "xtc", "dynatemp", "smoothing", "top_a", "tfs", "p_less", "mirostat"])
def test_each_new_sampler_switched_on(name):
    at = open_page({f"on_{name}": "true", "history": "␣was ␣was ␣lived ␣was ␣was", "on_top_p": "false"})
    assert not at.exception and not at.error
    assert t(f"decode.filter.{name}.short", lang="en") in chain_badges(at)
    stage = [c for c in at.get("plotly_chart")]
    assert len(stage) == 4  # final, temperature, this sampler's stage, samples


@pytest.mark.parametrize("src", examples.DECODING_PRESETS)
def test_the_leading_space_mark_is_explained_only_where_a_token_has_one(src):
    _, tokens, _ = examples.decoding_preset(src)
    at = open_page({"src": src})
    assert not at.exception
    captions = [c.value for c in at.caption]
    spaced = any(tok.startswith("␣") for tok in tokens)
    assert spaced == (src != "weather_zh")  # the Chinese example is the one without spaces: both captions are reached
    assert (t("decode.illustrative", lang="en") in captions) == spaced
    assert (t("decode.illustrative_no_space", lang="en") in captions) == (not spaced)


@pytest.mark.parametrize("order", sorted(sampling.DEFAULTS))
def test_choosing_a_projects_order_loads_its_defaults(order):
    # the llama.cpp preset ordered the stages but kept the page's own values: its name promises llama.cpp's defaults
    start = "text-generation-webui"  # another order first: choosing one is what loads its defaults
    at = _open("decoding", {"lang": "en", "src": "capital", "order": start})
    at.selectbox(key="order").set_value(order).run()
    assert not at.exception and not at.error
    defaults = sampling.DEFAULTS[order]
    for name in sampling.FILTERS:
        assert at.toggle(key=f"on_{name}").value == (name in defaults), name
    for name, value in defaults.items():
        assert at.number_input(key=name).value == pytest.approx(value), name
    assert at.query_params["order"] == order
    # the link holds the defaults: a fresh session from it shows the same chain
    again = _open("decoding", dict(at.query_params))
    for name in sampling.FILTERS:
        assert again.toggle(key=f"on_{name}").value == (name in defaults), name


@dataclass(frozen=True)
class KeepNearTop(sampling.Filter):
    """A unit made the way docs/architecture.md says: one class that declares its settings, nothing on the page."""

    ratio: float
    minimum: int = 1

    name: ClassVar[str] = "keep_near_top"
    settings: ClassVar[tuple[sampling.Setting, ...]] = (
        sampling.Setting("keep_near_top", "ratio", 0.5, 0.01, 1.0, 0.01, "%.2f", (0.01, 1.0, 0.01)),
        sampling.Setting("keep_near_top_min", "minimum", 1, 1, 100, 1, "%d", integer=True),
    )

    def _cut(self, z: np.ndarray) -> sampling.Cut:
        p = np.exp(z - z.max(axis=-1, keepdims=True))
        threshold = self.ratio * p.max(axis=-1, keepdims=True)
        keep = (p >= threshold) | (np.argsort(np.argsort(-z, axis=-1), axis=-1) < self.minimum)
        return sampling.Cut(np.where(keep, z, -np.inf), float(threshold.squeeze()) if threshold.size == 1 else threshold)


@pytest.fixture
def new_unit(monkeypatch):
    monkeypatch.setitem(sampling.FILTERS, KeepNearTop.name, KeepNearTop)
    monkeypatch.setitem(sampling.ORDERS, "transformers", (*sampling.ORDERS["transformers"], KeepNearTop.name))
    return KeepNearTop


def test_a_new_unit_gets_a_card_from_its_own_settings(new_unit):
    # off at first, offered in the list below the cards
    at = open_page()
    assert not at.toggle(key="on_keep_near_top").value
    # on from a link: its number box and slider, its second setting under it, and the chain applies it
    at = open_page({"on_keep_near_top": "true", "keep_near_top": "0.3", "keep_near_top_min": "2"})
    assert at.number_input(key="keep_near_top").value == pytest.approx(0.3)
    assert at.number_input(key="keep_near_top_min").value == 2
    assert at.slider(key="keep_near_top__slider").value == pytest.approx(0.3)
    settings = {**DEFAULTS, "keep_near_top": 0.3}
    _, _, logits = examples.decoding_preset("story")
    units = [sampling.Temperature(0.8), sampling.TopP(0.9), KeepNearTop(0.3, 2)]
    expected = int(np.isfinite(sampling.chain(logits, units)[-1].after).sum())
    assert expected != expected_kept("story", DEFAULTS)  # the new unit changes the answer
    assert kept_count(at) == expected
    assert expected_kept("story", settings) <= expected  # with minimum 1 (its default) it keeps no more
    assert not at.error and not at.exception
