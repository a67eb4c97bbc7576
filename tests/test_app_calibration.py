"""The Calibration page through AppTest: the digits model, fitting, uploads, links, both languages."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from logitsviz import calibration, examples, explain
from logitsviz.i18n import catalog, t
from tests.apptest import metric
from tests.apptest import open_page as _open


def open_page(query: dict | None = None, locale: str | None = None):
    return _open("calibration", query, locale)


def npy(arr) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def show(at, tab: str, lang: str = "en"):
    """Open a tab of the page (only the open tab runs) and run again."""
    at.session_state["cal_tab"] = t(tab, lang=lang)
    return at.run()


def frame(at, column: str):
    """The table on the page with this column (tables have no keys)."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert found, [list(d.value.columns) for d in at.dataframe]
    return found[0]


def test_digits_default_and_fit():
    at = open_page()
    m = examples.digits_model()
    assert metric(at, "cal.m.n") == f"{m.logits.shape[0]:,}"
    assert metric(at, "cal.m.acc") == f"{100 * m.test_accuracy:.2f}%"
    assert metric(at, "cal.m.ece") == f"{100 * calibration.expected_calibration_error(m.logits, m.labels):.2f}%"
    at.button(key="fit").click().run()
    fitted = calibration.fit_temperature(m.logits, m.labels)
    assert at.slider(key="calT").value == pytest.approx(round(fitted, 4))
    table = frame(show(at, "cal.tab.temperature"), t("cal.before"))
    after = table.iloc[:, 2].tolist()
    before = table.iloc[:, 1].tolist()
    assert after[0] == before[0]  # accuracy unchanged
    assert after[2] <= before[2]  # NLL not worse at the optimum
    assert [c.key for c in at.get("plotly_chart")] == ["chart_T"]  # the temperature tab's curve; the closed tabs did not run


def test_link_restores_settings():
    at = open_page({"bins": "10", "strategy": "quantile", "calT": "2.0"})
    assert at.slider(key="bins").value == 10
    assert at.segmented_control(key="strategy").value == "quantile"
    assert at.slider(key="calT").value == 2.0


def test_upload_npz_with_labels():
    rng = np.random.default_rng(0)
    z = rng.normal(0, 3, (400, 6)).astype(np.float32)
    y = rng.integers(0, 6, 400)
    buf = io.BytesIO()
    np.savez(buf, logits=z, labels=y)
    at = open_page({"data": "upload"})
    assert at.info  # asks for a file first
    at.file_uploader(key="cal_logits").set_value(("eval.npz", buf.getvalue(), "application/octet-stream")).run()
    assert not at.exception and not at.error
    assert metric(at, "cal.m.n") == "400" and metric(at, "cal.m.c") == "6"
    assert metric(at, "cal.m.acc") == f"{100 * np.mean(z.argmax(1) == y):.2f}%"


def test_upload_csv_last_column_and_separate_labels():
    at = open_page({"data": "upload"})
    at.file_uploader(key="cal_logits").set_value(("eval.csv", b"2,1,0,0\n0,3,1,1\n1,0,2,2\n0,1,5,0\n", "text/csv")).run()
    assert metric(at, "cal.m.n") == "4" and metric(at, "cal.m.c") == "3"
    at.file_uploader(key="cal_logits").set_value(("z.npy", npy(np.eye(3) * 4), "application/octet-stream"))
    at.file_uploader(key="cal_labels").set_value(("y.npy", npy(np.array([0, 1, 0])), "application/octet-stream")).run()
    assert metric(at, "cal.m.n") == "3"
    assert metric(at, "cal.m.acc") == "66.67%"


@pytest.mark.parametrize(
    ("logits", "labels", "fragment"),
    [
        (np.eye(3), np.array([0, 1]), "one label per row"),
        (np.eye(3), np.array([0, 1, 7]), "out of range"),
        (np.array([[1.0, np.nan], [0.0, 1.0]]), np.array([0, 1]), "NaN"),
        (np.zeros((2, 2, 2)), np.array([0, 1]), "dimensions"),
    ],
)
def test_bad_uploads_keep_the_last_good_set(logits, labels, fragment):
    at = open_page({"data": "upload"})
    at.file_uploader(key="cal_logits").set_value(("good.csv", b"2,1,0,0\n0,3,1,1\n", "text/csv")).run()
    assert metric(at, "cal.m.n") == "2"
    at.file_uploader(key="cal_logits").set_value(("bad.npy", npy(logits), "application/octet-stream"))
    at.file_uploader(key="cal_labels").set_value(("y.npy", npy(labels), "application/octet-stream")).run()
    assert not at.exception
    assert at.error and fragment in at.error[0].value
    assert metric(at, "cal.m.n") == "2"  # the last good set is still shown


def test_open_mistake_in_explorer():
    at = show(open_page(), "cal.tab.details")
    buttons = [b for b in at.button if b.key and b.key.startswith("open_")]
    assert buttons
    index = int(buttons[0].key.split("_")[1])
    buttons[0].click().run()
    assert not at.exception
    m = examples.digits_model()
    assert at.session_state["digit"] == index
    assert at.title[0].value == t("explorer.title", lang="en")
    assert metric(at, "metric.pred") == str(int(np.argmax(m.logits[index])))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_open_a_mistake_after_fitting_the_temperature(lang):
    # after a fit the temperature is in the link, bound to its slider; handing this page's link to switch_page raised
    # "Cannot directly set query parameter 'calT' - it is bound to a widget"
    at = open_page({"lang": lang})
    at.button(key="fit").click().run()
    assert at.query_params.get("calT") not in (None, "1.0")
    at = show(at, "cal.tab.details", lang)
    buttons = [b for b in at.button if b.key and b.key.startswith("open_")]
    index = int(buttons[-1].key.split("_")[1])
    buttons[-1].click().run()
    assert not at.exception and not at.error
    assert at.title[0].value == t("explorer.title", lang=lang)
    assert at.session_state["digit"] == index
    assert metric(at, "metric.pred", lang) == str(int(np.argmax(examples.digits_model().logits[index])))


def test_chinese():
    at = open_page(locale="zh-CN")
    assert at.title[0].value == t("cal.title", lang="zh")
    assert metric(at, "cal.m.acc", "zh")


def test_computed_results_are_cached_and_bounded(monkeypatch):
    from logitsviz.ui import calibration as page

    calls = []
    monkeypatch.setattr(page.calibration, "report", lambda *a, **k: calls.append(k["temperature"]) or k["temperature"])
    page._report.clear()
    z, y = np.zeros((2, 2)), np.zeros(2, dtype=int)
    page._report("set", z, y, 1.0, 15, "uniform")
    page._report("set", z, y, 1.0, 15, "uniform")
    assert calls == [1.0]  # a re-run that changes nothing computes nothing
    for _ in range(2):  # 40 temperatures cycled twice through a cache of 32: every call is a miss again
        for i in range(40):
            page._report("set", z, y, 2.0 + i, 15, "uniform")
    assert len(calls) == 81
    page._report.clear()


def test_tiles_follow_the_temperature_after_a_fit():
    # regression: after "Fit the temperature" the tiles still showed T = 1's confidence, NLL and ECE, unlabelled
    at = open_page()
    m = examples.digits_model()
    at.button(key="fit").click().run()
    fitted = at.slider(key="calT").value
    scaled = calibration.report(m.logits, m.labels, temperature=fitted)
    base = calibration.report(m.logits, m.labels)
    assert metric(at, "cal.m.ece") == f"{100 * scaled.ece:.2f}%" != f"{100 * base.ece:.2f}%"
    assert metric(at, "cal.m.nll") == f"{scaled.nll:.4f}"
    assert metric(at, "cal.m.conf") == f"{100 * scaled.confidence:.2f}%"
    ece_tile = next(x for x in at.metric if x.label == t("cal.m.ece", lang="en"))
    assert ece_tile.proto.delta == t("cal.delta_pts", lang="en", d=f"{100 * (scaled.ece - base.ece):+.2f}")
    assert any(c.value == t("cal.tiles_at", lang="en", T=f"{fitted:g}") for c in at.caption)
    assert any(f"At T = {fitted:g}" in c.value for c in at.caption)  # the over-confidence sentence names its T


def test_a_new_data_set_starts_at_t_1():
    at = open_page()
    at.button(key="fit").click().run()
    assert at.slider(key="calT").value != 1.0
    at.segmented_control(key="data").set_value("upload").run()
    at.file_uploader(key="cal_logits").set_value(("eval.csv", b"2,1,0,0\n0,3,1,1\n1,0,2,2\n", "text/csv")).run()
    assert at.slider(key="calT").value == 1.0
    assert any(c.value == t("cal.tiles_at_one", lang="en") for c in at.caption)
    # fitted on the upload, then back to the digits: T starts at 1 again
    at.slider(key="calT").set_value(3.0).run()
    at.segmented_control(key="data").set_value("digits").run()
    assert at.slider(key="calT").value == 1.0


def test_logits_first_then_labels_is_a_step_not_an_error():
    # regression: "No labels found" showed in red as soon as a logits file was uploaded
    at = open_page({"data": "upload"})
    at.file_uploader(key="cal_logits").set_value(("z.npy", npy(np.eye(3) * 4), "application/octet-stream")).run()
    assert not at.error and any(i.value == t("cal.need_labels", lang="en") for i in at.info)
    at.file_uploader(key="cal_labels").set_value(("y.npy", npy(np.eye(3, dtype=int)), "application/octet-stream")).run()  # one-hot
    assert not at.error and not at.exception
    assert metric(at, "cal.m.acc") == "100.00%"


def test_many_classes_show_the_least_accurate():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(500, 60)).astype(np.float32)
    y = rng.integers(0, 60, 500)
    buf = io.BytesIO()
    np.savez(buf, logits=z, labels=y)
    at = open_page({"data": "upload"})
    at.file_uploader(key="cal_logits").set_value(("eval.npz", buf.getvalue(), "application/octet-stream")).run()
    show(at, "cal.tab.details")
    chart = next(c for c in at.get("plotly_chart") if c.key == "chart_class")
    assert len(json.loads(chart.proto.spec)["data"][0]["x"]) == 20
    assert any(c.value == t("cal.per_class_worst", lang="en", k=20, n="60") for c in at.caption)


def test_metrics_tab_shows_every_metric_with_its_interval():
    at = show(open_page({"calT": "1.5"}), "cal.tab.metrics")
    m = examples.digits_model()
    table = frame(at, t("cal.m2.interval", p="95"))
    names = table.iloc[:, 0].tolist()
    assert names == [t(f"cal.m2.{k}") for k in calibration.REGISTRY]  # every metric, in the registry's order
    assert len(names) == 11 and names[:4] == [t(f"cal.m2.{k}") for k in ("accuracy", "confidence", "nll", "brier")]
    intervals = dict(zip(names, table.iloc[:, 2]))
    assert intervals[t("cal.m2.classwise_ece")] == "—"  # from per-class sums: no resampled interval
    assert all(" – " in intervals[t(f"cal.m2.{k}")] for k in explain.INTERVAL_METRICS)
    values = dict(zip(names, table.iloc[:, 1]))
    assert values[t("cal.m2.smooth_ece")] == f"{100 * calibration.smooth_ece(m.logits, m.labels, temperature=1.5):.2f}%"
    assert values[t("cal.m2.nll")] == f"{calibration.nll(m.logits, m.labels, temperature=1.5):.4f}"
    assert values[t("cal.m2.classwise_ece")] == f"{100 * calibration.classwise_ece(m.logits, m.labels, temperature=1.5):.2f}%"
    iv = calibration.bootstrap("ece", m.logits, m.labels, n=200, rng=0, temperature=1.5)
    assert dict(zip(names, table.iloc[:, 2]))[t("cal.m2.ece")] == f"{100 * iv.low:.2f}% – {100 * iv.high:.2f}%"
    d = calibration.brier_decomposition(m.logits, m.labels, temperature=1.5)
    assert metric(at, "cal.brier.rel") == f"{d.reliability:.4f}" and metric(at, "cal.brier.unc") == f"{d.uncertainty:.4f}"
    keys = {c.proto.id for c in at.get("plotly_chart")}
    assert any("chart_smooth" in k for k in keys) and any("chart_rc" in k for k in keys)


def test_maps_tab_compares_every_map_on_held_out_rows():
    at = show(open_page({"split": "0.6", "seed": "3"}), "cal.tab.maps")
    m = examples.digits_model()
    assert at.slider(key="split").value == 0.6 and at.number_input(key="seed").value == 3
    table = frame(at, t("cal.maps.map"))
    cmp = calibration.compare_maps(m.logits, m.labels, split=0.6, rng=3)
    assert table.iloc[:, 0].tolist() == [t(f"cal.map.{r.kind}") for r in cmp.results]
    assert table[t("cal.m2.nll")].tolist() == pytest.approx([r.metrics["nll"] for r in cmp.results], rel=1e-9)
    assert table[t("cal.m2.ece")].tolist() == pytest.approx([100 * r.metrics["ece"] for r in cmp.results], rel=1e-9)  # shown in %
    assert any(t("cal.maps.sizes", cal=f"{cmp.calibration_rows:,}", test=f"{cmp.test_rows:,}", seed=3) == c.value for c in at.caption)
    # each ODIR strength as fitted; one at an end of the grid says so, since the best may lie beyond it
    settings = dict(zip(table.iloc[:, 0], table[t("cal.maps.setting")]))
    for r in (r for r in cmp.results if r.kind in ("matrix", "dirichlet")):
        reg = r.fitted.params["reg"]
        edge = r.fitted.params["cv"] and reg in (calibration.REG_GRID[0], calibration.REG_GRID[-1])
        assert settings[t(f"cal.map.{r.kind}")] == (f"λ = {reg:g} (grid end)" if edge else f"λ = {reg:g}")
    at.number_input(key="seed").set_value(4).run()
    assert not at.exception
    other = frame(at, t("cal.maps.map"))
    assert other[t("cal.m2.nll")].tolist() != table[t("cal.m2.nll")].tolist()  # another split, other numbers


def test_maps_tab_says_why_a_map_is_left_out(tmp_path):
    rng = np.random.default_rng(2)
    z = rng.normal(0, 2, (300, 40)).astype(np.float32)  # more classes than the page fits matrix maps for
    y = rng.integers(0, 40, 300)
    buf = io.BytesIO()
    np.savez(buf, logits=z, labels=y)
    at = open_page({"data": "upload"}, locale="zh")
    at.file_uploader(key="cal_logits").set_value(("eval.npz", buf.getvalue(), "application/octet-stream")).run()
    show(at, "cal.tab.maps", "zh")
    assert not at.exception
    notes = [i.value for i in at.info]
    assert any(t("cal.map.matrix", lang="zh") in n and "40" in n for n in notes), notes
    table = frame(at, t("cal.maps.map", lang="zh"))
    assert t("cal.map.isotonic", lang="zh") in table.iloc[:, 0].tolist()


def test_only_the_open_tab_runs_and_a_language_switch_keeps_the_page_working():
    at = open_page()
    assert not any(c.key == "chart_smooth" for c in at.get("plotly_chart"))  # the metrics tab is closed: nothing computed
    show(at, "cal.tab.metrics")
    assert any(c.key == "chart_smooth" for c in at.get("plotly_chart"))
    assert not any(c.key == "chart_T" for c in at.get("plotly_chart"))
    at.query_params["lang"] = "zh"  # the open tab's label was English
    at.run()
    assert not at.exception


def test_maps_settings_stay_in_the_link_on_other_tabs_and_bad_ones_are_named():
    at = show(open_page({"split": "0.3", "seed": "7"}), "cal.tab.maps")
    assert at.slider(key="split").value == 0.3 and at.number_input(key="seed").value == 7
    show(at, "cal.tab.metrics")
    assert at.query_params["split"] == "0.3" and at.query_params["seed"] == "7"  # the closed tab's settings kept
    show(at, "cal.tab.maps")
    assert at.slider(key="split").value == 0.3 and at.number_input(key="seed").value == 7
    bad = show(open_page({"split": "2", "seed": "x"}), "cal.tab.maps")
    assert bad.slider(key="split").value == 0.5 and bad.number_input(key="seed").value == 0
    assert len(bad.warning) == 2 and not bad.exception


def test_an_mce_from_a_tiny_bin_says_so_beside_the_tiles():
    from logitsviz.ui import calibration as page

    m = examples.digits_model()
    base = calibration.report(m.logits, m.labels)
    assert base.mce_count < page.MCE_FEW  # the digits model's worst bin holds a handful of its 719 rows
    note = t("cal.mce_few_one" if base.mce_count == 1 else "cal.mce_few", n=f"{base.mce_count:,}", mce=f"{100 * base.mce:.2f}")
    assert note in [c.value for c in open_page().caption]
    # 6,000 rows over 3 classes: every bin is well filled, so nothing is said
    rng = np.random.default_rng(4)
    z = rng.normal(0, 1.5, (6000, 3))
    y = rng.integers(0, 3, 6000)
    assert calibration.report(z, y).mce_count >= page.MCE_FEW
    buf = io.BytesIO()
    np.savez(buf, logits=z, labels=y)
    at = open_page({"data": "upload"})
    at.file_uploader(key="cal_logits").set_value(("eval.npz", buf.getvalue(), "application/octet-stream")).run()
    assert not at.exception and metric(at, "cal.m.n") == "6,000"
    opening = catalog("en")["cal.mce_few"].split("{")[0]  # "The MCE of ", as both notes begin
    assert opening and catalog("en")["cal.mce_few_one"].startswith(opening)
    assert not any(c.value.startswith(opening) for c in at.caption)


def test_the_pieces_the_metrics_tab_fills_in_are_the_whole_views():
    from logitsviz.ui import calibration as page

    rng = np.random.default_rng(3)
    z = rng.normal(0.0, 2.0, (120, 3))
    y = np.argmax(z + rng.normal(0.0, 2.0, z.shape), axis=1)
    whole = explain.calibration_metrics(z, y, temperature=1.5, n_bins=10, n_boot=page.N_BOOT)
    band = page._band("pieces", z, y, 1.5)
    np.testing.assert_array_equal(band.lower, whole.smooth.lower)
    np.testing.assert_array_equal(band.upper, whole.smooth.upper)
    for name in explain.INTERVAL_METRICS:
        iv = page._interval("pieces", z, y, 1.5, 10, name)
        assert (iv.low, iv.high) == (whole.intervals[name].low, whole.intervals[name].high), name
    page._band.clear()
    page._interval.clear()
