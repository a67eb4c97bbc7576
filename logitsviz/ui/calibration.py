"""Calibration of an evaluation set: reliability, ECE, temperature scaling, the most confident mistakes."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import streamlit as st

from logitsviz import calibration, examples, figures, inputs, numerics
from logitsviz.errors import InputError
from logitsviz.i18n import t
from logitsviz.ui import state, widgets

DATA = "lv_calib_data"  # (name, logits, labels) of the uploaded set
ERROR = "lv_calib_error"
CACHE = "lv_calib_cache"  # a few computed results, newest last
CACHE_SIZE = 8
CURVE_ELEMENTS = 20_000_000  # above this, the T curve uses a row sample (and says so)
SOURCES = ["digits", "upload"]


# ------------------------------------------------------------------ data ----


def _on_upload() -> None:
    logits_file = st.session_state.get("cal_logits")
    labels_file = st.session_state.get("cal_labels")
    if logits_file is None:
        return
    try:
        z, y = inputs.read_eval_set(logits_file.getvalue(), logits_file.name,
                                    labels_file.getvalue() if labels_file else None, labels_file.name if labels_file else None)
        calibration.accuracy(z, y)  # validates shapes, labels and values
    except InputError as err:
        st.session_state[ERROR] = (err.key, err.params)
        return
    st.session_state[DATA] = (logits_file.name, z, np.asarray(y).astype(np.int64))
    st.session_state[ERROR] = None
    st.session_state.pop(CACHE, None)


def data_controls() -> tuple[str, np.ndarray, np.ndarray, examples.DigitsModel | None]:
    """The evaluation set: the built-in digits model, or the user's upload (the last good one stays)."""
    widgets.url_choice("data", SOURCES, "digits")
    source = st.segmented_control(t("cal.data"), options=SOURCES, key="data", persist_state="session", required=True,
                                  format_func=lambda s: t(f"cal.data.{s}"))
    widgets.keep_in_url("data")
    if source == "upload":
        c1, c2 = st.columns(2)
        c1.file_uploader(t("cal.upload_logits"), type=["npy", "npz", "csv", "tsv", "txt"], key="cal_logits", on_change=_on_upload,
                         help=t("cal.upload_logits_help"))
        c2.file_uploader(t("cal.upload_labels"), type=["npy", "csv", "tsv", "txt", "json"], key="cal_labels", on_change=_on_upload,
                         help=t("cal.upload_labels_help"))
        st.caption(t("cal.limits", mb=inputs.MAX_UPLOAD_BYTES // 2**20, n=f"{inputs.MAX_ELEMENTS:,}"))
        info = st.session_state.get(ERROR)
        if info:
            st.error(t("error.prefix.upload") + " " + t(info[0], **info[1]), icon=":material/error:")
        if DATA in st.session_state:
            name, z, y = st.session_state[DATA]
            return name, z, y, None
        st.info(t("cal.upload_first"))
        st.stop()
    model = examples.digits_model()
    st.caption(t("cal.digits_caption", n=model.logits.shape[0], acc=f"{100 * model.test_accuracy:.1f}", s=f"{model.train_seconds:.1f}"))
    return "digits", model.logits, model.labels, model


# -------------------------------------------------------------- results ----


def _cached(key: tuple, compute):
    """A small per-session memo: reruns that change nothing relevant cost nothing."""
    cache: dict = st.session_state.setdefault(CACHE, {})
    if key not in cache:
        cache[key] = compute()
        while len(cache) > CACHE_SIZE:
            cache.pop(next(iter(cache)))
    return cache[key]


def metrics_for(name: str, z: np.ndarray, y: np.ndarray, temperature: float, n_bins: int, strategy: str) -> dict:
    def compute() -> dict:
        s = calibration.row_stats(z, y, temperature)
        bins = calibration.bins_from_confidence(s.confidence, s.correct, n_bins, strategy)
        return {
            "stats": s,
            "bins": bins,
            "accuracy": float(np.mean(s.correct)),
            "confidence": float(np.mean(s.confidence)),
            "nll": float(np.mean(s.nll)),
            "brier": float(np.mean(s.brier)),
            "ece": calibration.calibration_error(bins, "l1"),
            "mce": calibration.calibration_error(bins, "max"),
            "rmsce": calibration.calibration_error(bins, "l2"),
        }

    return _cached((name, z.shape, round(temperature, 6), n_bins, strategy), compute)


def summary(m: dict, z: np.ndarray) -> None:
    rows = [st.columns(4), st.columns(4)]
    cells = [
        ("cal.m.n", f"{z.shape[0]:,}"), ("cal.m.c", f"{z.shape[1]:,}"), ("cal.m.acc", f"{100 * m['accuracy']:.2f}%"),
        ("cal.m.conf", f"{100 * m['confidence']:.2f}%"), ("cal.m.nll", f"{m['nll']:.4f}"), ("cal.m.brier", f"{m['brier']:.4f}"),
        ("cal.m.ece", f"{100 * m['ece']:.2f}%"), ("cal.m.mce", f"{100 * m['mce']:.2f}%"),
    ]
    for i, (key, value) in enumerate(cells):
        rows[i // 4][i % 4].metric(t(key), value, help=t(f"{key}_help"))
    gap = m["confidence"] - m["accuracy"]
    st.caption(t("cal.overconfident" if gap > 0 else "cal.underconfident", gap=f"{100 * abs(gap):.2f}"))


def _on_fit(name: str, z: np.ndarray, y: np.ndarray) -> None:
    fitted = _cached((name, z.shape, "fit"), lambda: calibration.fit_temperature(z, y))
    st.session_state["calT"] = float(min(max(round(fitted, 4), 0.05), 10.0))


def mistakes(name: str, z: np.ndarray, y: np.ndarray, s: calibration.RowStats, model) -> None:
    st.subheader(t("cal.mistakes.title"))
    wrong = np.flatnonzero(~s.correct)
    if wrong.size == 0:
        st.success(t("cal.mistakes.none"))
        return
    order = wrong[np.argsort(-s.confidence[wrong], kind="stable")][:10]
    st.caption(t("cal.mistakes.caption"))
    for i in order:
        cols = st.columns([1, 1, 1, 2, 2], vertical_alignment="center")
        if model is not None:
            cols[0].image(figures.digit_pixels(model.images[i]), width=72)  # a picture, not a chart: ten of them cost nothing
        else:
            cols[0].write(f"#{i}")
        cols[1].metric(t("cal.mistakes.true"), str(int(y[i])))
        cols[2].metric(t("cal.mistakes.pred"), str(int(s.prediction[i])))
        cols[3].metric(t("cal.mistakes.conf"), f"{100 * s.confidence[i]:.1f}%")
        if cols[4].button(t("cal.mistakes.open"), key=f"open_{i}", icon=":material/open_in_new:"):
            if model is not None:
                st.session_state[state.DIGIT] = int(i)
                st.query_params["digit"] = str(int(i))
                state.load_preset("digits")
            else:
                state.set_current([str(c) for c in range(z.shape[1])], np.asarray(z[i], dtype=np.float64), source="link")
            from logitsviz.ui.main import page_for

            st.switch_page(page_for("explorer"))


def downloads(name: str, z: np.ndarray, y: np.ndarray, temperature: float, before: dict, after: dict) -> None:
    def probs_npy() -> bytes:
        buf = io.BytesIO()
        np.save(buf, numerics.softmax(z, temperature=temperature), allow_pickle=False)
        return buf.getvalue()

    def metrics_json() -> bytes:
        keys = ("accuracy", "confidence", "nll", "brier", "ece", "mce", "rmsce")
        return json.dumps({
            "data": name, "rows": int(z.shape[0]), "classes": int(z.shape[1]), "temperature": temperature,
            "before": {k: before[k] for k in keys}, "after": {k: after[k] for k in keys},
        }, indent=1).encode("utf-8")

    c = st.columns(3)
    c[0].download_button(t("cal.download.probs"), data=probs_npy, file_name="calibrated-probabilities.npy",
                         mime="application/octet-stream", icon=":material/download:", on_click="ignore", key="dl_probs")
    c[1].download_button(t("cal.download.metrics"), data=metrics_json, file_name="logitsviz-calibration.json",
                         mime="application/json", icon=":material/download:", on_click="ignore", key="dl_metrics")
    c[2].download_button(t("cal.download.temperature"), data=f"{temperature}\n", file_name="temperature.txt", mime="text/plain",
                         icon=":material/download:", on_click="ignore", key="dl_temperature")


# ------------------------------------------------------------------ page ----


def render() -> None:
    st.title(t("cal.title"))
    st.markdown(t("cal.subtitle"))
    name, z, y, model = data_controls()

    c1, c2, c3 = st.columns([2, 2, 3], vertical_alignment="bottom")
    n_bins = c1.slider(t("cal.bins"), 5, 30, 15, key="bins", bind="query-params", help=t("cal.bins_help"))
    widgets.url_choice("strategy", ["uniform", "quantile"], "uniform")
    strategy = c2.segmented_control(t("cal.strategy"), options=["uniform", "quantile"], key="strategy", persist_state="session",
                                    required=True, format_func=lambda s: t(f"cal.strategy.{s}"), help=t("cal.strategy_help"))
    widgets.keep_in_url("strategy")
    with c3:
        temperature = st.slider(t("cal.T"), 0.05, 10.0, 1.0, 0.01, key="calT", bind="query-params", help=t("cal.T_help"))
    st.button(t("cal.fit"), on_click=_on_fit, args=(name, z, y), type="primary", icon=":material/auto_fix_high:", key="fit")

    before = metrics_for(name, z, y, 1.0, n_bins, strategy)
    after = metrics_for(name, z, y, float(temperature), n_bins, strategy)
    summary(before, z)

    st.subheader(t("cal.reliability"))
    left, right = st.columns(2)
    left.plotly_chart(figures.reliability_from_bins(before["bins"], t("cal.before")), config=figures.plotly_config("logitsviz-reliability"),
                      key="chart_rel_before")
    right.plotly_chart(figures.reliability_from_bins(after["bins"], t("cal.after", T=f"{temperature:g}")),
                       config=figures.plotly_config("logitsviz-reliability-scaled"), key="chart_rel_after")
    st.caption(t("cal.reliability_caption"))

    keys = ("accuracy", "confidence", "nll", "brier", "ece", "mce", "rmsce")
    table = pd.DataFrame({
        t("cal.table.metric"): [t(f"cal.table.{k}") for k in keys],
        t("cal.before"): [before[k] for k in keys],
        t("cal.after", T=f"{temperature:g}"): [after[k] for k in keys],
    })
    st.dataframe(table, hide_index=True, width="stretch", column_config={c: st.column_config.NumberColumn(format="%.4f") for c in table.columns[1:]})
    st.caption(t("cal.accuracy_note"))
    widgets.table_downloads(table, "calibration-metrics", "dl_cal_table")

    st.subheader(t("cal.temperature_title"))
    fitted = _cached((name, z.shape, "fit"), lambda: calibration.fit_temperature(z, y))
    rows = np.arange(z.shape[0])
    if z.size > CURVE_ELEMENTS:
        rows = np.sort(np.random.default_rng(0).choice(z.shape[0], CURVE_ELEMENTS // z.shape[1], replace=False))
        st.caption(t("cal.curve_sample", n=f"{rows.size:,}"))
    temps = np.geomspace(max(0.05, fitted / 4), min(10.0, fitted * 4), 25)

    def curve():
        zs, ys = z[rows], y[rows]
        nll = calibration.nll_curve(zs, ys, temps)
        ece = [calibration.expected_calibration_error(zs, ys, n_bins, strategy=strategy, temperature=float(v)) for v in temps]
        return nll, ece

    nll, ece = _cached((name, z.shape, "curve", n_bins, strategy), curve)
    st.plotly_chart(figures.temperature_curve(temps, nll, ece, fitted, float(temperature)), config=figures.plotly_config("logitsviz-temperature"),
                    key="chart_T")
    st.caption(t("cal.temperature_caption", T=f"{fitted:.4f}"))

    left, right = st.columns(2)
    with left:
        st.subheader(t("cal.histogram"))
        s = after["stats"]
        st.plotly_chart(figures.confidence_histogram(s.confidence, s.correct), config=figures.plotly_config("logitsviz-confidence"),
                        key="chart_hist")
    with right:
        st.subheader(t("cal.per_class"))
        count, acc = calibration.per_class_accuracy(z, y)
        st.plotly_chart(figures.per_class_accuracy(count, acc), config=figures.plotly_config("logitsviz-per-class"), key="chart_class")

    mistakes(name, z, y, before["stats"], model)
    st.divider()
    downloads(name, z, y, float(temperature), before, after)
