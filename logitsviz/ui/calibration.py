"""Calibration of an evaluation set: reliability, ECE, temperature scaling, the most confident mistakes."""

from __future__ import annotations

import io
import json
import uuid

import numpy as np
import pandas as pd
import streamlit as st

from logitsviz import calibration, config, examples, explain, figures, inputs, softmax
from logitsviz.errors import InputError
from logitsviz.i18n import t
from logitsviz.ui import nav, state, trust, widgets

DATA = "lv_calib_data"  # (id, name, logits, labels) of the uploaded set
ERROR = "lv_calib_error"
NEED_LABELS = "lv_calib_need_labels"
SOURCES = ["digits", "upload"]
T_KEY = "calT"
N_BOOT = 200  # bootstrap resamples behind every interval on the page
PAGE_MATRIX_CLASSES = 32  # matrix and Dirichlet maps on the page (C^2 + C parameters: 4 s at 32 classes and 40,000 rows, 23 s at 100)
TAB_KEY = "cal_tab"
SPLITS = tuple(round(0.2 + 0.05 * i, 2) for i in range(13))  # the calibration share of the maps tab, 0.2 to 0.8
MAX_SEED = 10_000


# ------------------------------------------------------------------ data ----


def _on_upload() -> None:
    logits_file = st.session_state.get("cal_logits")
    labels_file = st.session_state.get("cal_labels")
    if logits_file is None:
        return
    try:
        z, y = inputs.read_eval_set(logits_file.getvalue(), logits_file.name,
                                    labels_file.getvalue() if labels_file else None, labels_file.name if labels_file else None)
        z, y = calibration.validate(z, y)  # shapes, labels (indices or one-hot) and values
    except InputError as err:
        # logits without labels yet is a step, not a mistake: the labels box is right there
        st.session_state[ERROR] = None if err.key == "calib.no_labels" and labels_file is None else (err.key, err.params)
        st.session_state[NEED_LABELS] = err.key == "calib.no_labels" and labels_file is None
        return
    st.session_state[NEED_LABELS] = False
    # a new set: its own cache entries, and no temperature carried over from another model
    st.session_state[DATA] = (uuid.uuid4().hex, logits_file.name, z, y)
    st.session_state[ERROR] = None
    st.session_state[T_KEY] = 1.0


def _on_source() -> None:
    st.session_state[T_KEY] = 1.0  # a temperature belongs to the set it was fitted on


def data_controls() -> tuple[str, str, np.ndarray, np.ndarray, examples.DigitsModel | None]:
    """The evaluation set ``(id, name, logits, labels, digits model)``: the built-in model, or the last good upload."""
    widgets.url_choice("data", SOURCES, "digits")
    source = st.segmented_control(t("cal.data"), options=SOURCES, key="data", persist_state="session", required=True,
                                  format_func=lambda s: t(f"cal.data.{s}"), on_change=_on_source)
    widgets.keep_in_url("data")
    if source == "upload":
        c1, c2 = st.columns(2)
        c1.file_uploader(t("cal.upload_logits"), type=["npy", "npz", "csv", "tsv", "txt"], key="cal_logits", on_change=_on_upload,
                         help=t("cal.upload_logits_help"))
        c2.file_uploader(t("cal.upload_labels"), type=["npy", "csv", "tsv", "txt", "json"], key="cal_labels", on_change=_on_upload,
                         help=t("cal.upload_labels_help"))
        st.caption(t("cal.limits", mb=inputs.MAX_UPLOAD_BYTES // inputs.MB, n=f"{inputs.MAX_ELEMENTS:,}"))
        info = st.session_state.get(ERROR)
        if info:
            st.error(t("error.prefix.upload") + " " + t(info[0], **info[1]), icon=":material/error:")
        elif st.session_state.get(NEED_LABELS):
            st.info(t("cal.need_labels"), icon=":material/label:")
        if DATA in st.session_state:
            return *st.session_state[DATA], None
        st.info(t("cal.upload_first"))
        st.stop()
    model = examples.digits_model()
    st.caption(t("cal.digits_caption", n=model.logits.shape[0], acc=f"{100 * model.test_accuracy:.1f}", s=f"{model.train_seconds:.1f}"))
    return "digits", "digits", model.logits, model.labels, model


# ------------------------------------------------------- computed, cached ----
# Keyed by the set's id; the arrays themselves (leading underscore) are not hashed. Bounded: a few sets' worth.


@st.cache_data(max_entries=config.limits().cache_entries, show_spinner=False)
def _report(data_id: str, _z: np.ndarray, _y: np.ndarray, temperature: float, n_bins: int, strategy: str) -> calibration.Report:
    return calibration.report(_z, _y, temperature=temperature, n_bins=n_bins, strategy=strategy)


@st.cache_data(max_entries=config.limits().cache_entries, show_spinner=False)
def _fitted(data_id: str, _z: np.ndarray, _y: np.ndarray) -> float:
    return calibration.fit_temperature(_z, _y)


@st.cache_data(max_entries=config.limits().cache_entries, show_spinner=False)
def _metrics(data_id: str, _z: np.ndarray, _y: np.ndarray, temperature: float, n_bins: int) -> explain.CalibrationMetricsView:
    return explain.calibration_metrics(_z, _y, temperature=temperature, n_bins=n_bins, n_boot=0)  # intervals come one by one


@st.cache_data(max_entries=config.limits().cache_entries, show_spinner=False)
def _band(data_id: str, _z: np.ndarray, _y: np.ndarray, temperature: float) -> calibration.SmoothReliability:
    """The smoothed reliability curve with its band, as :func:`explain.calibration_metrics` draws it."""
    return calibration.smooth_reliability(_z, _y, temperature=temperature, n_boot=N_BOOT, rng=0)


@st.cache_data(max_entries=config.limits().cache_entries * len(explain.INTERVAL_METRICS), show_spinner=False)
def _interval(data_id: str, _z: np.ndarray, _y: np.ndarray, temperature: float, n_bins: int, name: str) -> calibration.Interval:
    return explain.metric_interval(name, _z, _y, temperature=temperature, n_bins=n_bins, n_boot=N_BOOT)


@st.cache_data(max_entries=config.limits().cache_entries * (len(calibration.MAPS) + 1), show_spinner=False)
def _map_row(data_id: str, _z: np.ndarray, _y: np.ndarray, split: float, seed: int, n_bins: int, kind: str) -> calibration.Measured:
    return calibration.measure_map(kind, _z, _y, split=split, rng=seed, n_bins=n_bins, max_classes=PAGE_MATRIX_CLASSES)


@st.cache_data(max_entries=config.limits().cache_entries, show_spinner=False)
def _comparison(data_id: str, _measured: list[calibration.Measured], split: float, seed: int, n_bins: int) -> calibration.MapComparison:
    """Every map's metrics and its curve at one shared kernel width (a fixed point per map: kept, not redone a re-run)."""
    return calibration.assemble(_measured, seed)


@st.cache_data(max_entries=config.limits().cache_entries, show_spinner=False)
def _curve(data_id: str, _z: np.ndarray, _y: np.ndarray, fitted: float, n_bins: int, strategy: str) -> explain.TemperatureCurve:
    return explain.temperature_curve(_z, _y, fitted, n_bins=n_bins, strategy=strategy)


# -------------------------------------------------------------- sections ----

MCE_FEW = 10  # an MCE from a bin with fewer examples than this gets a caption saying so

# (metric, tile key, as a percentage, how its change from T = 1 shows: none (accuracy never moves with T),
# "off" (grey: neither direction is better), "inverse" (lower is better: a fall is green))
_TILES = (("accuracy", "cal.m.acc", True, None), ("confidence", "cal.m.conf", True, "off"), ("nll", "cal.m.nll", False, "inverse"),
          ("brier", "cal.m.brier", False, "inverse"), ("ece", "cal.m.ece", True, "inverse"), ("mce", "cal.m.mce", True, "inverse"))


def summary(now: calibration.Report, base: calibration.Report) -> None:
    """The tiles, at the temperature in use; when it is not 1, each says how far it moved from T = 1."""
    scaled = now.temperature != 1.0
    st.caption(t("cal.tiles_at", T=f"{now.temperature:g}") if scaled else t("cal.tiles_at_one"))
    cells = [("cal.m.n", f"{now.rows:,}", None, "off"), ("cal.m.c", f"{now.classes:,}", None, "off")]
    for name, key, pct, color in _TILES:
        value, change = getattr(now, name), getattr(now, name) - getattr(base, name)
        delta = None
        if scaled and color is not None:
            delta = t("cal.delta_pts", d=f"{100 * change:+.2f}") if pct else f"{change:+.4f}"
        cells.append((key, f"{100 * value:.2f}%" if pct else f"{value:.4f}", delta, color or "off"))
    rows = [st.columns(4), st.columns(4)]
    for i, (key, value, delta, color) in enumerate(cells):
        rows[i // 4][i % 4].metric(t(key), value, delta=delta, delta_color=color, help=t(f"{key}_help", n=f"{now.mce_count:,}"))
    key = "cal.overconfident" if now.overconfidence > 0 else "cal.underconfident"
    st.caption(t(key, gap=f"{100 * abs(now.overconfidence):.2f}", T=f"{now.temperature:g}"))
    if 0 < now.mce_count < MCE_FEW and now.mce > 0:  # a headline number from a bin of one or two examples: said beside it, not only in its help
        st.caption(t("cal.mce_few_one" if now.mce_count == 1 else "cal.mce_few", n=f"{now.mce_count:,}", mce=f"{100 * now.mce:.2f}"))


def _on_fit(data_id: str, z: np.ndarray, y: np.ndarray) -> None:
    st.session_state[T_KEY] = float(min(max(round(_fitted(data_id, z, y), 4), 0.05), 10.0))


def mistakes(z: np.ndarray, y: np.ndarray, base: calibration.Report, model) -> None:
    """The ten most confident mistakes as a grid of small cards that wraps (a phone gets three a row, not ten screens)."""
    st.subheader(t("cal.mistakes.title"))
    order = calibration.most_confident_mistakes(base.stats, 10)
    if order.size == 0:
        st.success(t("cal.mistakes.none"))
        return
    st.caption(t("cal.mistakes.caption"))
    with st.container(horizontal=True, gap="small"):
        for i in order:
            with st.container(border=True, width=112, gap="small"):
                if model is not None:
                    st.image(figures.digit_pixels(model.images[i]), width=72)  # a picture, not a chart: ten of them cost nothing
                else:
                    st.markdown(f"**#{i}**")
                st.caption(t("cal.mistakes.item", y=int(y[i]), p=int(base.stats.prediction[i]), c=f"{100 * base.stats.confidence[i]:.1f}"))
                # no icon: beside one, "Open" broke over two lines in a card this narrow
                if st.button(t("cal.mistakes.open_short"), key=f"open_{i}", help=t("cal.mistakes.open"), width="stretch"):
                    _open_in_explorer(int(i), z, model)


def _open_in_explorer(i: int, z: np.ndarray, model) -> None:
    # the Explorer's own link, not this page's: this page's parameters include ones bound to its widgets (calT once a
    # temperature was fitted), which switch_page may not set
    params = {"lang": st.query_params.get("lang", "en")}
    if model is not None:
        st.session_state[state.DIGIT] = i
        state.load_preset("digits")
        params |= {"preset": "digits", "digit": str(i)}
    else:
        state.set_current([str(c) for c in range(z.shape[1])], np.asarray(z[i], dtype=np.float64), source="link")
    st.switch_page(nav.page("explorer"), query_params=params)


def downloads(name: str, z: np.ndarray, base: calibration.Report, now: calibration.Report) -> None:
    def probs_npy() -> bytes:
        buf = io.BytesIO()
        np.save(buf, softmax(z, temperature=now.temperature), allow_pickle=False)  # built on click: N x C floats
        return buf.getvalue()

    def metrics_json() -> bytes:
        return json.dumps({"data": name, "rows": now.rows, "classes": now.classes, "temperature": now.temperature,
                           "before": base.metrics(), "after": now.metrics()}, indent=1).encode("utf-8")

    c = st.columns(3)
    c[0].download_button(t("cal.download.probs"), data=probs_npy, file_name="calibrated-probabilities.npy",
                         mime="application/octet-stream", icon=":material/download:", on_click="ignore", key="dl_probs")
    c[1].download_button(t("cal.download.metrics"), data=metrics_json, file_name="logitsviz-calibration.json",
                         mime="application/json", icon=":material/download:", on_click="ignore", key="dl_metrics")
    c[2].download_button(t("cal.download.temperature"), data=f"{now.temperature}\n", file_name="temperature.txt", mime="text/plain",
                         icon=":material/download:", on_click="ignore", key="dl_temperature")


# ------------------------------------------------------------------ page ----


def render() -> None:
    st.title(t("cal.title"))
    st.markdown(t("cal.subtitle"))
    data_id, name, z, y, model = data_controls()

    c1, c2, c3 = st.columns([2, 2, 3], vertical_alignment="bottom")
    n_bins = c1.slider(t("cal.bins"), 5, 30, 15, key="bins", bind="query-params", help=t("cal.bins_help"))
    widgets.url_choice("strategy", ["uniform", "quantile"], "uniform")
    strategy = c2.segmented_control(t("cal.strategy"), options=["uniform", "quantile"], key="strategy", persist_state="session",
                                    required=True, format_func=lambda s: t(f"cal.strategy.{s}"), help=t("cal.strategy_help"))
    widgets.keep_in_url("strategy")
    with c3:
        temperature = float(st.slider(t("cal.T"), 0.05, 10.0, 1.0, 0.01, key=T_KEY, bind="query-params", help=t("cal.T_help")))
    st.button(t("cal.fit"), on_click=_on_fit, args=(data_id, z, y), type="primary", icon=":material/auto_fix_high:", key="fit")

    base = _report(data_id, z, y, 1.0, n_bins, strategy)
    now = _report(data_id, z, y, temperature, n_bins, strategy)
    summary(now, base)

    # the maps tab's settings live in the session and the link whichever tab is open (a closed tab does not run)
    widgets.url_stop("split", SPLITS, 0.5)
    widgets.url_int("seed", 0, MAX_SEED, 0)
    for key in ("split", "seed"):
        widgets.keep_in_url(key)
    # only the open tab runs (each tab's .open): bootstrap intervals and map fits are computed when asked for
    tab_rel, tab_metrics, tab_temp, tab_maps, tab_sets, tab_ood, tab_details = widgets.tabs(
        TAB_KEY, ["overview", "metrics", "temperature", "maps", "sets", "ood", "details"], "cal.tab.{}")
    with tab_rel:
        if tab_rel.open is not False:
            reliability_section(base, now, temperature)
    with tab_metrics:
        if tab_metrics.open:
            metrics_section(data_id, z, y, temperature, n_bins)
    with tab_maps:
        if tab_maps.open:
            maps_section(data_id, z, y, n_bins)
    with tab_temp:  # the heading first: a table's floating toolbar at the top of a tab covered the tab bar on a phone
        if tab_temp.open:
            temperature_section(data_id, z, y, n_bins, strategy, temperature)
            metrics_table(base, now, temperature)
    with tab_sets:
        if tab_sets.open:
            trust.sets_section(data_id, z, y, float(st.session_state["split"]), int(st.session_state["seed"]), model)
    with tab_ood:
        if tab_ood.open:
            if model is None:
                st.info(t("ood.digits_only"), icon=":material/info:")
            trust.ood_section()
    with tab_details:
        if tab_details.open:
            details_section(z, y, base, now, model)
    st.divider()
    downloads(name, z, base, now)


def reliability_section(base: calibration.Report, now: calibration.Report, temperature: float) -> None:
    """The binned reliability diagrams at T = 1 and at the temperature in use."""
    left, right = st.columns(2)
    left.plotly_chart(figures.reliability_from_bins(base.bins, t("cal.before")), config=figures.plotly_config("logitsviz-reliability"),
                      key="chart_rel_before")
    if temperature == 1.0:  # the same diagram twice said nothing: say how to get the second one
        right.info(t("cal.after_hint"), icon=":material/thermostat:")
    else:
        right.plotly_chart(figures.reliability_from_bins(now.bins, t("cal.after", T=f"{temperature:g}")),
                           config=figures.plotly_config("logitsviz-reliability-scaled"), key="chart_rel_after")
    st.caption(t("cal.reliability_caption"))


def details_section(z: np.ndarray, y: np.ndarray, base: calibration.Report, now: calibration.Report, model) -> None:
    """How confident the model is when right and when wrong, accuracy per class, the most confident mistakes."""
    left, right = st.columns(2)
    with left:
        st.subheader(t("cal.histogram"))
        st.plotly_chart(figures.confidence_histogram(*now.histogram), config=figures.plotly_config("logitsviz-confidence"), key="chart_hist")
    with right:
        per_class(base)
    mistakes(z, y, base, model)


def metrics_table(base: calibration.Report, now: calibration.Report, temperature: float) -> None:
    before, after = base.metrics(), now.metrics()
    # shown as the tiles show them: rates as percentages, NLL and Brier as numbers; the downloads keep the raw values
    table = pd.DataFrame({
        t("cal.table.metric"): [t(f"cal.table.{k}") for k in calibration.METRICS],
        t("cal.before"): [_fmt(before[k], k) for k in calibration.METRICS],
        t("cal.after", T=f"{temperature:g}"): [_fmt(after[k], k) for k in calibration.METRICS],
    })
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption(t("cal.accuracy_note"))
    raw = pd.DataFrame({"metric": list(calibration.METRICS), "before": [before[k] for k in calibration.METRICS],
                        "after": [after[k] for k in calibration.METRICS], "temperature": temperature})
    widgets.table_downloads(raw, "calibration-metrics", "dl_cal_table")


def temperature_section(data_id: str, z: np.ndarray, y: np.ndarray, n_bins: int, strategy: str, temperature: float) -> None:
    st.subheader(t("cal.temperature_title"))
    fitted = _fitted(data_id, z, y)
    curve = _curve(data_id, z, y, fitted, n_bins, strategy)
    if curve.sampled:
        st.caption(t("cal.curve_sample", n=f"{curve.rows:,}"))
    st.plotly_chart(figures.temperature_curve(curve.temperatures, curve.nll, curve.ece, fitted, temperature),
                    config=figures.plotly_config("logitsviz-temperature"), key="chart_T")
    st.caption(t("cal.temperature_caption", T=f"{fitted:.4f}"))


WORST = 20  # classes the per-class chart shows when there are more than this: the least accurate


def per_class(base: calibration.Report) -> None:
    st.subheader(t("cal.per_class"))
    count, acc = base.class_count, base.class_accuracy
    if acc.size > WORST:  # a thousand bars are a wall: the least accurate are what to look at
        idx = np.argsort(np.nan_to_num(acc, nan=np.inf), kind="stable")[:WORST]
        st.plotly_chart(figures.per_class_accuracy(count[idx], acc[idx], [str(i) for i in idx]), config=figures.plotly_config("logitsviz-per-class"),
                        key="chart_class")
        st.caption(t("cal.per_class_worst", k=WORST, n=f"{acc.size:,}"))
    else:
        st.plotly_chart(figures.per_class_accuracy(count, acc), config=figures.plotly_config("logitsviz-per-class"), key="chart_class")


# ------------------------------------------------------ metrics, intervals ----

def _fmt(value: float, name: str) -> str:
    """A rate as a percentage, any other metric (NLL, Brier) as a number: as the metric itself says."""
    if not np.isfinite(value):
        return "—"
    return f"{100 * value:.2f}%" if calibration.REGISTRY[name].rate else f"{value:.4f}"


def metrics_section(data_id: str, z: np.ndarray, y: np.ndarray, temperature: float, n_bins: int) -> None:
    """Every metric with its bootstrap interval, the smoothed reliability curve with its band, risk-coverage and the
    Brier decomposition, at the temperature in use."""
    # at once: every value, the curves, the Brier parts; then each interval as its resamples finish (the smoothed
    # curve's band with the whole view at the end); leaving the tab stops the run between two, what is done stays cached
    view = _metrics(data_id, z, y, temperature, n_bins)
    st.subheader(t("cal.metrics.title", T=f"{temperature:g}"))
    st.caption(t("cal.metrics.caption", n=N_BOOT))
    left, right = st.columns(2)
    with left:
        st.markdown(t("cal.smooth.title", s=f"{100 * view.smooth.smooth_ece:.2f}", sigma=f"{view.smooth.sigma:.3f}"))
        smooth_slot = st.empty()
        banded = (data_id, temperature) in st.session_state.setdefault(_BANDED, set())  # drawn once already: at once
        smooth_slot.plotly_chart(figures.smooth_reliability(_band(data_id, z, y, temperature) if banded else view.smooth),
                                 config=figures.plotly_config("logitsviz-smooth-reliability"),
                                 key="chart_smooth" if banded else "chart_smooth_quick")
        st.caption(t("cal.smooth.caption"))
    with right:
        rc = view.risk
        st.markdown(t("cal.rc.title", aurc=f"{100 * rc.aurc:.2f}", e=f"{100 * rc.excess_aurc:.2f}"))
        st.plotly_chart(figures.risk_coverage(view.coverage, view.risk_curve, view.best_coverage, view.best_risk),
                        config=figures.plotly_config("logitsviz-risk-coverage"), key="chart_rc")
        st.caption(t("cal.rc.caption"))
    table_slot, progress = st.empty(), st.empty()
    values = view.summary.metrics()  # once: the smooth ECE among them is a fixed point (25 ms)
    intervals: dict[str, calibration.Interval] = {}
    for done, name in enumerate(explain.INTERVALS_QUICK_FIRST):
        table_slot.dataframe(_interval_table(values, intervals), hide_index=True, width="stretch")
        progress.progress(done / (len(explain.INTERVAL_METRICS) + 1),
                          text=t("cal.metrics.resampling", metric=t(f"cal.m2.{name}"), n=N_BOOT))
        intervals[name] = _interval(data_id, z, y, temperature, n_bins, name)
    if not banded:  # the band last: the curve drawn again with it, once per set and temperature in a session
        progress.progress(1.0, text=t("cal.metrics.band", n=N_BOOT))
        smooth_slot.plotly_chart(figures.smooth_reliability(_band(data_id, z, y, temperature)),
                                 config=figures.plotly_config("logitsviz-smooth-reliability"), key="chart_smooth")
        st.session_state[_BANDED].add((data_id, temperature))
    progress.empty()
    table = _interval_table(values, intervals)
    table_slot.dataframe(table, hide_index=True, width="stretch")
    widgets.table_downloads(table, "calibration-intervals", "dl_cal_intervals")
    brier_section(view.summary)


_BANDED = "lv_cal_banded"  # (set, temperature) pairs whose smoothed curve this session has drawn with its band


def _interval_table(values: dict[str, float], intervals: dict[str, calibration.Interval]) -> pd.DataFrame:
    """Every metric of the registry in its order: its value, its bootstrap interval when it has one (… while it is being
    computed), what it measures."""
    rows = []
    for name in calibration.REGISTRY:
        iv = intervals.get(name)
        shown = f"{_fmt(iv.low, name)} – {_fmt(iv.high, name)}" if iv is not None else "…" if name in explain.INTERVAL_METRICS else "—"
        rows.append((t(f"cal.m2.{name}"), _fmt(iv.estimate if iv is not None else values[name], name), shown,
                     t(f"cal.m2.{name}.what")))
    return pd.DataFrame(rows, columns=[t("cal.table.metric"), t("cal.m2.value"), t("cal.m2.interval", p="95"), t("cal.m2.what")])


def brier_section(summary: calibration.Summary) -> None:
    d = summary.brier_decomposition()
    st.markdown(t("cal.brier.title"))
    cells = st.columns(4)
    cells[0].metric(t("cal.brier.brier"), f"{d.brier:.4f}", help=t("cal.brier.brier_help"))
    cells[1].metric(t("cal.brier.rel"), f"{d.reliability:.4f}", help=t("cal.brier.rel_help"))
    cells[2].metric(t("cal.brier.res"), f"{d.resolution:.4f}", help=t("cal.brier.res_help"))
    cells[3].metric(t("cal.brier.unc"), f"{d.uncertainty:.4f}", help=t("cal.brier.unc_help"))
    st.caption(t("cal.brier.caption", rel=f"{d.reliability:.4f}", res=f"{d.resolution:.4f}", unc=f"{d.uncertainty:.4f}",
                 binned=f"{d.binned:.4f}", wbv=f"{d.within_variance:.4f}", wbc=f"{d.within_covariance:.4f}", brier=f"{d.brier:.4f}",
                 bins=summary.n_bins))


# ------------------------------------------------------------------ maps ----

_MAP_COLUMNS = tuple(m.name for m in calibration.REGISTRY.values() if m.compared)


def maps_section(data_id: str, z: np.ndarray, y: np.ndarray, n_bins: int) -> None:
    """Every recalibration map fitted on one part of the set and measured on the other: one table, one diagram."""
    st.subheader(t("cal.maps.title"))
    st.caption(t("cal.maps.caption"))
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    widgets.url_warning("split", t("cal.maps.split"), SPLITS)
    widgets.url_warning("seed", t("cal.maps.seed"), (0, MAX_SEED))
    split = c1.slider(t("cal.maps.split"), SPLITS[0], SPLITS[-1], step=0.05, key="split", help=t("cal.maps.split_help"),
                      format="%.2f", persist_state="session")
    seed = int(c2.number_input(t("cal.maps.seed"), 0, MAX_SEED, key="seed", help=t("cal.maps.seed_help"), persist_state="session"))
    sizes, table_slot, progress = st.empty(), st.empty(), st.empty()
    measured, partial = [], []
    # each map is drawn as soon as it is fitted (the slow ones, matrix and Dirichlet scaling, last); leaving the tab
    # stops the run between two maps, and what was fitted stays cached
    kinds = ("none", *calibration.BY_FITTING_TIME)
    for done, kind in enumerate(kinds):
        if len(partial) > 1:  # the logits as they are, and at least one map, in the table's order
            with table_slot.container():
                _maps_table(_in_order(partial), final=False)
        progress.progress(done / len(kinds), text=t("cal.maps.fitting", map=t(f"cal.map.{kind}"), i=max(done - 1, 0), n=len(kinds) - 1))
        try:
            row = _map_row(data_id, z, y, float(split), seed, n_bins, kind)
        except InputError as err:  # too few rows to split: a limit of the set, not a mistake
            progress.empty()
            st.info(t(err.key, **err.params), icon=":material/info:")
            return
        measured.append(row)
        if row.summary is not None:
            partial.append(calibration.MapResult(row.kind, row.fitted, row.metrics, None))
    progress.empty()
    cmp = _comparison(data_id, _in_order(measured), float(split), seed, n_bins)
    sizes.caption(t("cal.maps.sizes", cal=f"{cmp.calibration_rows:,}", test=f"{cmp.test_rows:,}", seed=seed))
    fitted = [r for r in cmp.results if r.metrics]
    with table_slot.container():
        table = _maps_table(fitted)
    st.caption(t("cal.maps.best", map=t(f"cal.map.{cmp.best('nll')}")))
    for r in cmp.results:
        if r.skipped is not None:
            st.info(f"{t(f'cal.map.{r.kind}')}: {t(r.skipped.key, **r.skipped.params)}", icon=":material/block:")
    widgets.table_downloads(table, "recalibration-maps", "dl_cal_maps")
    st.plotly_chart(figures.reliability_curves([t(f"cal.map.{r.kind}") for r in fitted], [r.curve for r in fitted],
                                               t("cal.maps.chart", n=f"{cmp.test_rows:,}")),
                    config=figures.plotly_config("logitsviz-recalibration-maps"), key="chart_maps")
    st.caption(t("cal.maps.chart_caption", sigma=f"{fitted[0].curve.sigma:.3f}", n=f"{figures.MIN_SUPPORT_COMPARED:g}"))


def _in_order(measured: list) -> list:
    """The maps measured so far (or their results) in the table's order: the logits as they are, then
    :data:`calibration.MAPS`'s."""
    order = ("none", *calibration.MAPS)
    return sorted(measured, key=lambda m: order.index(m.kind))


def _maps_table(fitted: list[calibration.MapResult], final: bool = True) -> pd.DataFrame:
    """The comparison as a table on the page, each column's best value highlighted once every map is in (``final``:
    pandas' styling takes 50 ms a table); returned for the downloads."""
    table = pd.DataFrame({
        t("cal.maps.map"): [t(f"cal.map.{r.kind}") for r in fitted],
        **{t(f"cal.m2.{name}"): [r.metrics[name] for r in fitted] for name in _MAP_COLUMNS},
        t("cal.maps.setting"): [explain.map_setting(r) for r in fitted],
    })
    best = {t(f"cal.m2.{name}"): calibration.REGISTRY[name].best for name in _MAP_COLUMNS}
    shown = table.copy()  # percentages as percent points with two decimals (the downloads keep the fractions)
    for name in _MAP_COLUMNS:
        if calibration.REGISTRY[name].rate:
            shown[t(f"cal.m2.{name}")] *= 100
    styled = shown.style.apply(lambda col: _highlight_best(col, best.get(col.name)), axis=0) if final else shown
    formats = {t(f"cal.m2.{name}"): st.column_config.NumberColumn(format="%.2f%%" if calibration.REGISTRY[name].rate else "%.4f")
               for name in _MAP_COLUMNS}
    formats[t("cal.maps.setting")] = st.column_config.TextColumn(width="medium")  # "λ = 10000 (grid end)" whole
    st.dataframe(styled, hide_index=True, width="stretch", column_config=formats)
    return table


def _highlight_best(column: pd.Series, pick) -> list[str]:
    if pick is None or column.dtype.kind != "f":
        return [""] * len(column)
    best = pick(column)
    return ["font-weight: 700; background-color: rgba(58,158,143,0.18)" if v == best else "" for v in column]
