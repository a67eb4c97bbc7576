"""The Explorer page through Streamlit's AppTest: what a user does, what the page shows."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import scipy.special as sp
from streamlit.testing.v1 import AppTest

from logitsviz import examples
from logitsviz.i18n import t
from tests.apptest import APP, open_page, switch


def run(query: dict | None = None, locale: str | None = None) -> AppTest:
    return open_page(None, query, locale)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def compare_spec(at: AppTest) -> dict:
    chart = next(c for c in at.get("plotly_chart") if c.key == "chart_compare")
    return json.loads(chart.proto.spec)


def chart_probs(at: AppTest) -> list[float]:
    return compare_spec(at)["data"][1]["x"]


def chart_labels(at: AppTest) -> list[str]:
    return compare_spec(at)["data"][1]["y"]


def paste(at: AppTest, text: str) -> AppTest:
    return at.text_area(key="paste_text").input(text).run()


# --------------------------------------------------------------- default ----


def test_default_shows_the_seed_example():
    at = run()
    assert_clean(at)
    assert not at.error
    m = metrics(at)
    assert m["Predicted class"] == "News"
    assert m["Its probability"] == "65.9%"
    np.testing.assert_allclose(chart_probs(at), [0.659001, 0.242433, 0.098566], atol=1e-6)
    assert chart_labels(at) == ["News", "Entertainment", "Technology"]
    assert at.query_params["logits"] == "News:2,Entertainment:1,Technology:0.1"
    assert at.title[0].value == t("explorer.title", lang="en")
    assert [c.key for c in at.get("plotly_chart")] == ["chart_compare"]
    assert len(at.dataframe) >= 1  # the step table
    assert {b.label for b in at.get("download_button")} == {"Download CSV", "Download JSON"}


def test_step_table_holds_the_arithmetic():
    at = run()
    table = at.dataframe[-1].value
    np.testing.assert_allclose(table["z − max"], [0.0, -1.0, -1.9])
    np.testing.assert_allclose(table["p = exp / Σ"], sp.softmax([2.0, 1.0, 0.1]))
    np.testing.assert_allclose(table["log p"], sp.log_softmax([2.0, 1.0, 0.1]))
    assert any("1.5174" in md.value for md in at.markdown)  # Σ exp(z − max)


# --------------------------------------------------------------- presets ----


@pytest.mark.parametrize("name", list(examples.PRESETS))
def test_each_preset(name):
    at = run()
    at.get("button_group")[0].set_value(name).run()
    assert_clean(at)
    assert not at.error
    labels, logits = examples.preset(name)
    assert metrics(at)["Predicted class"] == labels[int(np.argmax(logits))][:23] + ("…" if len(labels[int(np.argmax(logits))]) > 24 else "")
    probs = chart_probs(at)
    assert sum(probs) == pytest.approx(1.0)
    if name == "digits":
        assert at.query_params["preset"] == "digits" and len(at.get("image")) == 1  # the digit, as a picture
    elif name == "random200k":
        assert at.query_params["preset"] == "random200k" and "logits" not in at.query_params
        assert len(probs) == 21  # top 20 + others
        assert "199,980" in chart_labels(at)[-1]
    else:
        assert "logits" in at.query_params


def test_masked_preset_gives_zero():
    at = run({"logits": "a:1,b:-inf"})
    assert chart_probs(at) == [1.0, 0.0]


# ------------------------------------------------------------ the inputs ----


def test_paste_updates_everything():
    at = paste(run(), "cat: 3.2\ndog: 1.5\nbird: -1")
    assert_clean(at)
    assert metrics(at)["Predicted class"] == "cat"
    assert chart_labels(at) == ["cat", "dog", "bird"]
    assert at.query_params["logits"] == "cat:3.2,dog:1.5,bird:-1"
    # the table follows the paste
    assert at.data_editor[0].value["label"].tolist() == ["cat", "dog", "bird"]


def test_table_edit():
    at = run()
    key = at.data_editor[0].key
    at.session_state[key] = {"edited_rows": {2: {"logit": 9.0}}, "added_rows": [{"label": "Sports", "logit": 3.0}], "deleted_rows": [0]}
    at.run()
    assert_clean(at)
    assert chart_labels(at) == ["Entertainment", "Technology", "Sports"]
    np.testing.assert_allclose(chart_probs(at), sp.softmax([1.0, 9.0, 3.0]))
    assert at.text_area(key="paste_text").value == "Entertainment:1,Technology:9,Sports:3"
    # rerunning with the same edits changes nothing (edits are relative to the editor's start)
    at.run()
    assert chart_labels(at) == ["Entertainment", "Technology", "Sports"]


def test_the_table_is_checked_only_when_it_is_edited(monkeypatch):
    from logitsviz import inputs

    calls = []
    checked = inputs.validate_pairs
    monkeypatch.setattr(inputs, "validate_pairs", lambda *a, **k: calls.append(1) or checked(*a, **k))
    at = run({"logits": ",".join(str(v) for v in range(1000))})  # the largest table the editor shows
    for temperature in (0.5, 2.0):  # a view change: the table is drawn again, not checked again
        at.select_slider(key="T").set_value(temperature).run()
    assert calls == []
    key = at.data_editor[0].key
    at.session_state[key] = {"edited_rows": {0: {"logit": 5000.0}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert calls == [1] and metrics(at)["Predicted class"] == "class 0"
    at.select_slider(key="T").set_value(1.0).run()
    assert calls == [1] and metrics(at)["Predicted class"] == "class 0"
    # a bad edit: its message stays through view changes, which do not check the table again
    at.session_state[key] = {"edited_rows": {0: {"logit": None}}, "added_rows": [], "deleted_rows": []}
    at.run()
    at.select_slider(key="T").set_value(2.0).run()
    assert calls == [1, 1] and at.error and "Row 1 has no logit" in at.error[0].value
    assert metrics(at)["Predicted class"] == "class 0"
    assert_clean(at)


def test_table_edit_missing_value_is_an_error_and_keeps_the_result():
    at = run()
    key = at.data_editor[0].key
    at.session_state[key] = {"edited_rows": {}, "added_rows": [{"label": "Sports"}], "deleted_rows": []}
    at.run()
    assert_clean(at)
    assert at.error and "Row 4 has no logit" in at.error[0].value
    assert metrics(at)["Predicted class"] == "News"


def test_upload_csv_and_npy():
    at = run()
    at.file_uploader[0].set_value(("mine.csv", b"label,logit\nyes,0.3\nno,1.7\n", "text/csv")).run()
    assert_clean(at)
    assert metrics(at)["Predicted class"] == "no"
    buf = io.BytesIO()
    np.save(buf, np.array([0.0, 4.0, 1.0], dtype=np.float32))
    at.file_uploader[0].set_value(("v.npy", buf.getvalue(), "application/octet-stream")).run()
    assert_clean(at)
    assert metrics(at)["Predicted class"] == "class 1"


@pytest.mark.parametrize(
    ("how", "bad", "fragment"),
    [
        ("paste", "1, nan, 2", "NaN"),
        ("paste", "1, 2, 1e999", "too large"),
        ("paste", "1, 2, banana", "not a number"),
        ("paste", "", "empty"),
        ("upload", b"a,1\nb,nan\n", "line 2"),
        ("upload", b"\xff\xfe\x00garbage", "UTF-8"),
        ("upload", b"a,b\n", "not a number"),
    ],
)
def test_bad_input_shows_error_and_keeps_last_good(how, bad, fragment):
    at = paste(run(), "x: 1\ny: 4")
    if how == "paste":
        paste(at, bad)
    else:
        at.file_uploader[0].set_value(("bad.csv", bad, "text/csv")).run()
    assert_clean(at)
    assert at.error and fragment in at.error[0].value
    assert metrics(at)["Predicted class"] == "y"  # last good input stays on screen
    assert chart_labels(at) == ["x", "y"]
    assert at.query_params["logits"] == "x:1,y:4"


def test_bad_link_falls_back_to_the_seed_with_a_message():
    at = run({"logits": "1,nan"})
    assert_clean(at)
    assert at.error and "link" in at.error[0].value
    assert metrics(at)["Predicted class"] == "News"


def test_an_upload_too_large_for_a_link_marks_the_link_and_a_new_session_says_it_is_gone():
    at = run()
    buf = io.BytesIO()
    values = np.linspace(-3, 3, 5000)
    np.save(buf, values)
    at.file_uploader[0].set_value(("big.npy", buf.getvalue(), "application/octet-stream")).run()
    assert_clean(at)
    assert len(chart_probs(at)) > 1 and "logits" not in at.query_params and at.query_params["input"] == "unlinked"
    # the link, opened by a new session (a server restart, or shared): the example, and a warning saying why
    fresh = run({"input": "unlinked", "T": "2"})
    assert_clean(fresh)
    assert [w.value for w in fresh.warning] == [t("link.unlinked", lang="en")]
    assert metrics(fresh)["Predicted class"] == "News"
    assert "input" not in fresh.query_params  # the link now names the example it shows
    fresh.run()
    assert not fresh.warning  # said once
    # a short paste replaces the marker with the text itself
    assert "input" not in paste(at, "x: 1\ny: 4").query_params


def test_the_decoding_lab_says_so_too():
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.update({"src": "explorer", "input": "unlinked"})
    switch(at, "decoding").run()  # the link opens the Decoding lab itself
    assert not at.exception and at.title[0].value == t("decode.title", lang="en")
    assert [w.value for w in at.warning] == [t("link.unlinked", lang="en")]


# ---------------------------------------------------------- the controls ----


def test_temperature_and_shift():
    at = run()
    at.select_slider(key="T").set_value(0.5).run()
    np.testing.assert_allclose(chart_probs(at), sp.softmax([4.0, 2.0, 0.2]))
    # bound widgets write the URL from the browser, which AppTest has not; reading a link is tested below
    before = chart_probs(at)
    at.slider(key="shift").set_value(10.0).run()
    np.testing.assert_allclose(chart_probs(at), before, rtol=1e-12)
    assert any("10" in c.value for c in at.caption)


def test_top_n_and_sort():
    at = run({"logits": ",".join(str(v) for v in range(30))})
    assert len(chart_probs(at)) == 21
    at.number_input(key="top").set_value(5).run()
    assert len(chart_probs(at)) == 6
    assert chart_labels(at)[:5] == [f"class {i}" for i in range(29, 24, -1)]  # a cut: largest first
    at = run({"logits": "a:1,b:3,c:2"})
    assert chart_labels(at) == ["a", "b", "c"]
    at.toggle(key="sort").set_value(True).run()
    assert chart_labels(at) == ["b", "c", "a"]


# ------------------------------------------------------- link and language ----


def test_query_params_restore_state():
    at = run({"logits": "a:1,b:5,c:2", "T": "2.0", "lang": "zh", "top": "3", "sort": "true"})
    assert_clean(at)
    np.testing.assert_allclose(chart_probs(at), sp.softmax([2.5, 1.0, 0.5]))
    assert chart_labels(at) == ["b", "c", "a"]
    assert at.title[0].value == t("explorer.title", lang="zh")


def test_language_from_browser_locale_and_switch():
    at = run(locale="zh-CN")
    assert at.title[0].value == "从 logits 到概率"
    assert metrics(at)["预测类别"] == "新闻"  # the example is translated too
    at.segmented_control(key="lang_switch").set_value("en").run()
    assert_clean(at)
    assert at.title[0].value == "Logits → probabilities"
    assert metrics(at)["Predicted class"] == "News"
    assert at.query_params["lang"] == "en"


def test_error_message_is_translated():
    at = paste(run(locale="zh-CN"), "1, nan")
    assert at.error and "第 2 项" in at.error[0].value and "无法读取粘贴的内容" in at.error[0].value


# ------------------------------------------------------------------ rows ----

BATCH = "tensor([[1.2, -0.3, 4.1], [0.5, 2.0, -1.0]])"


def test_pasted_rows_open_one_row_and_the_row_is_in_the_link():
    at = run()
    at.text_area(key="paste_text").set_value(BATCH).run()
    assert_clean(at)
    assert not at.error
    p = sp.softmax([1.2, -0.3, 4.1])
    assert metrics(at)[t("metric.pred", lang="en")] == "class 2"
    assert chart_probs(at) == pytest.approx(p.tolist())
    assert at.query_params["row"] == "0"
    assert at.number_input(key="row_shown").value == 1  # rows counted from 1, as the overview counts them
    at.number_input(key="row_shown").set_value(2).run()  # the second row (typing 2 for it showed a red box)
    assert not at.error
    assert metrics(at)[t("metric.pred", lang="en")] == "class 1"
    assert chart_probs(at) == pytest.approx(sp.softmax([0.5, 2.0, -1.0]).tolist())
    assert at.query_params["row"] == "1"
    overview = next(c for c in at.get("plotly_chart") if c.key == "chart_rows")
    ys = json.loads(overview.proto.spec)["data"][0]["y"]  # plotly sends arrays as base64 typed arrays
    ys = np.frombuffer(__import__("base64").b64decode(ys["bdata"]), dtype=ys["dtype"]).tolist()
    assert ys == pytest.approx([max(sp.softmax([1.2, -0.3, 4.1])), max(sp.softmax([0.5, 2.0, -1.0]))])
    assert any(i.value == t("explorer.table_rows", lang="en", n="2") for i in at.info)


def test_the_rows_overview_is_drawn_at_the_temperature_in_use():
    # a row drawn at 94 % while the tiles said 83.5 %: the overview ignored the temperature
    at = run({"logits": BATCH, "T": "2.0"})
    overview = json.loads(next(c for c in at.get("plotly_chart") if c.key == "chart_rows").proto.spec)
    ys = overview["data"][0]["y"]
    ys = np.frombuffer(__import__("base64").b64decode(ys["bdata"]), dtype=ys["dtype"]).tolist()
    assert ys == pytest.approx([max(sp.softmax(np.array([1.2, -0.3, 4.1]) / 2)), max(sp.softmax(np.array([0.5, 2.0, -1.0]) / 2))])
    assert metrics(at)[t("metric.prob", lang="en")] == f"{100 * ys[0]:.1f}%"
    assert overview["layout"]["xaxis"]["dtick"] == 1 and overview["layout"]["xaxis"]["tickformat"] == "d"  # no "0.5" row
    xs = overview["data"][0]["x"]
    assert np.frombuffer(__import__("base64").b64decode(xs["bdata"]), dtype=xs["dtype"]).tolist() == [1, 2]
    # and the left chart says what it draws: z / T, not the raw logits
    compare = json.loads(next(c for c in at.get("plotly_chart") if c.key == "chart_compare").proto.spec)
    assert "T = 2" in compare["layout"]["annotations"][0]["text"]


def test_a_link_opens_the_row_it_names():
    at = run({"logits": "cat,dog,bird\n1.2,-0.3,4.1\n0.5,2.0,-1.0", "row": "1"})
    assert_clean(at)
    assert metrics(at)[t("metric.pred", lang="en")] == "dog"
    at = run({"logits": BATCH, "row": "7"})  # out of range: the last row
    assert metrics(at)[t("metric.pred", lang="en")] == "class 1"


def test_uploaded_rows_and_the_decoding_lab_decodes_the_row_in_use():
    z = np.random.default_rng(0).normal(size=(5, 40)).astype(np.float32)
    buf = io.BytesIO()
    np.save(buf, z)
    at = run()
    at.tabs[2].file_uploader[0].set_value(("batch.npy", buf.getvalue(), "application/octet-stream")).run()
    assert_clean(at)
    at.number_input(key="row_shown").set_value(4).run()
    assert metrics(at)[t("metric.pred", lang="en")] == f"class {int(np.argmax(z[3]))}"
    from tests.apptest import switch

    switch(at, "decoding")
    at.query_params["src"] = "explorer"
    at.run()
    assert_clean(at)
    assert metrics(at)[t("decode.metric.greedy", lang="en")] == f"class {int(np.argmax(z[3]))}"


def test_a_shortened_print_says_so_and_keeps_the_last_input():
    at = run()
    before = chart_probs(at)
    at.text_area(key="paste_text").set_value("tensor([[0.1, 0.2, ..., 0.9], [0.3, 0.1, ..., 0.2]])").run()
    assert_clean(at)
    assert at.error and "set_printoptions" in at.error[0].value
    assert chart_probs(at) == before


def test_pasted_logits_are_labelled_in_the_page_language():
    # the paste is read in a callback, which runs before the script sets the language: labels said "class 0" on the
    # Chinese page until a reload
    at = run({}, locale="zh-CN")
    at.text_area(key="paste_text").set_value("2.0, 1.0, 0.1").run()
    assert_clean(at)
    assert metrics(at)[t("metric.pred", lang="zh")] == t("label.default", lang="zh", i=0) == "类别 0"
    at.text_area(key="paste_text").set_value("1, nan").run()  # and its error, made in the same callback, in Chinese
    assert at.error and "NaN" in at.error[0].value and "第" in at.error[0].value
