"""The Decoding lab: temperature and truncation filters stacked in order, then sampling."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from logitsviz import examples, explain, figures, sampling
from logitsviz.errors import InputError
from logitsviz.i18n import get_language, t
from logitsviz.ui import nav, state, widgets

SMALL_PROBS = (1e-4, 2e-4, 3e-4, 5e-4, 1e-3, 2e-3, 3e-3, 5e-3, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5)


@dataclass(frozen=True)
class FilterSpec:
    """How a filter's setting is offered: the exact number box and the slider beside it."""

    name: str
    default: float
    enabled: bool
    lo: float
    hi: float
    step: float
    fmt: str
    slider: tuple[float, float, float] | tuple[float, ...]  # (lo, hi, step), or the options of a log-spaced slider
    log: bool = False
    integer: bool = False


SPECS = {
    spec.name: spec
    for spec in (
        FilterSpec("temperature", 0.8, True, 0.01, 100.0, 0.05, "%.2f", widgets.TEMPERATURES, log=True),
        FilterSpec("top_k", 40, False, 1, 1_000_000, 1, "%d", (1, 100, 1), integer=True),
        FilterSpec("top_p", 0.9, True, 0.001, 1.0, 0.01, "%.3f", (0.01, 1.0, 0.01)),
        FilterSpec("min_p", 0.05, False, 0.001, 1.0, 0.01, "%.3f", (0.01, 1.0, 0.01)),
        FilterSpec("typical_p", 0.9, False, 0.001, 1.0, 0.01, "%.3f", (0.01, 1.0, 0.01)),
        FilterSpec("epsilon", 3e-4, False, 1e-6, 0.999, 1e-4, "%.5f", SMALL_PROBS, log=True),
        FilterSpec("eta", 2e-3, False, 1e-6, 0.999, 1e-4, "%.5f", SMALL_PROBS, log=True),
        FilterSpec("top_n_sigma", 1.0, False, 0.01, 10.0, 0.1, "%.2f", (0.1, 5.0, 0.1)),
    )
}



# --------------------------------------------------------------- controls ----


def _sync_from_slider(name: str) -> None:
    value = st.session_state[f"{name}__slider"]
    st.session_state[name] = int(value) if SPECS[name].integer else float(value)


def _nearest(spec: FilterSpec, value: float) -> float:
    """Where the slider sits for an exact value typed in the number box."""
    if spec.log:
        options = np.asarray(spec.slider, dtype=float)
        return float(options[np.argmin(np.abs(np.log(options) - np.log(value)))])
    lo, hi, step = spec.slider
    snapped = round((min(max(value, lo), hi) - lo) / step) * step + lo
    return int(snapped) if spec.integer else round(float(snapped), 6)


def filter_card(spec: FilterSpec) -> float | None:
    """One filter: on/off and its exact value; when on, a slider and what it does. Its rule is one click away.

    Compact on purpose: eight cards used to fill ~2,600 px on a phone before the first chart.
    """
    name = t(f"decode.filter.{spec.name}.name")
    with st.container(border=True):
        head, box, rule = st.columns([5, 3, 2], vertical_alignment="center")
        on = head.toggle(name, value=spec.enabled, key=f"on_{spec.name}", bind="query-params")
        value = box.number_input(
            name, min_value=spec.lo if not spec.integer else int(spec.lo), max_value=spec.hi if not spec.integer else int(spec.hi),
            value=spec.default, step=spec.step, format=spec.fmt, key=spec.name, bind="query-params", disabled=not on,
            label_visibility="collapsed",
        )
        with rule.popover("", icon=":material/functions:", help=t("decode.rule_help", name=name)):
            st.markdown(f"**{name}**")
            st.caption(t(f"decode.filter.{spec.name}.help"))
            st.latex(t(f"decode.filter.{spec.name}.formula"))
        if on:
            _slider(spec, name, value)
            st.caption(t(f"decode.filter.{spec.name}.help"))
    return value if on else None


def _slider(spec: FilterSpec, name: str, value: float) -> None:
    """The slider beside the exact number: it starts where the number is and moves it."""
    slider_key = f"{spec.name}__slider"
    st.session_state[slider_key] = _nearest(spec, value)
    if spec.log:
        st.select_slider(name, options=spec.slider, key=slider_key, on_change=_sync_from_slider, args=(spec.name,),
                         label_visibility="collapsed", format_func=lambda v: f"{v:g}")
    else:
        lo, hi, step = spec.slider
        st.slider(name, min_value=lo, max_value=hi, step=step, key=slider_key, on_change=_sync_from_slider, args=(spec.name,),
                  label_visibility="collapsed")


def source_controls() -> tuple[list[str], np.ndarray, str | None]:
    """Which distribution to decode: a decoding preset, the Language model page's, or the Explorer's current input."""
    options = [*examples.DECODING_PRESETS, "lm", "explorer"]
    widgets.url_choice("src", options, "weather_zh" if get_language() == "zh" else options[0])  # a prompt in the reader's language
    source = st.selectbox(
        t("decode.source"), options=options, key="src", persist_state="session",
        format_func=lambda name: t(f"decode.source.{name}"), help=t("decode.source_help"),
    )
    widgets.keep_in_url("src")
    if source == "explorer":
        cur = state.init_current()
        state.show_unlinked()
        return cur.labels, cur.logits, None
    if source == "lm":
        return _language_model_source()
    prompt, tokens, logits = examples.decoding_preset(source)
    st.markdown(t("decode.prompt", prompt=prompt))
    st.caption(t("decode.illustrative"))
    return tokens, logits, prompt


def _language_model_source() -> tuple[list[str], np.ndarray, str]:
    """The next-token logits last shown on the Language model page; until there are some, say where to get them."""
    held = st.session_state.get(state.LM_SOURCE)
    if held is None:
        st.info(t("decode.lm_first"), icon=":material/info:")
        st.page_link(nav.page("lm"), label=t("nav.lm"), icon=":material/chat:")
        st.stop()
    prompt, name, labels, logits = held
    st.markdown(t("decode.prompt", prompt=prompt))
    st.caption(t("decode.from_model", name=name, n=f"{len(labels):,}"))
    return labels, logits, prompt


def diagram(order: str, settings: dict[str, float]) -> str:
    """The pipeline as a line of badges: enabled stages in order, then softmax and sampling."""
    parts = [f":gray-badge[{t('decode.diagram.logits')}]"]
    for name in sampling.ORDERS[order]:
        if name in settings:
            value = settings[name]
            parts.append(f":orange-badge[{t(f'decode.filter.{name}.short')} {value:g}]")
    parts += [f":blue-badge[{t('decode.diagram.softmax')}]", f":green-badge[{t('decode.diagram.sample')}]"]
    return " → ".join(parts)


# ------------------------------------------------------------------ views ----


def summary(labels: list[str], view: explain.DecodingView) -> None:
    """Four tiles, two by two: the results column is too narrow for four in a row (values and labels were cut)."""
    top, bottom = st.columns(2), st.columns(2)
    top[0].metric(t("decode.metric.kept_of", n=f"{view.n_tokens:,}"), f"{view.n_kept:,}", help=t("decode.metric.kept_help"))
    top[1].metric(t("decode.metric.mass"), f"{100 * view.mass_kept:.1f}%", help=t("decode.metric.mass_help"))
    bottom[0].metric(t("decode.metric.entropy"), f"{view.entropy_bits:.2f}", delta=f"{view.entropy_change:+.2f}", delta_color="off",
                     help=t("decode.metric.entropy_help"))
    label = labels[view.greedy]
    bottom[1].metric(t("decode.metric.greedy"), label if len(label) <= 14 else label[:13] + "…", help=t("decode.metric.greedy_help"))


@st.fragment
def sampling_section(labels: list[str], final: np.ndarray) -> None:
    """Draw samples; only this part re-runs when N or the seed changes."""
    st.subheader(t("decode.sample.title"))
    st.markdown(t("decode.sample.intro"))
    c1, c2 = st.columns(2)
    n = c1.number_input(t("decode.sample.n"), min_value=1, max_value=100_000, value=1000, step=100, key="n", bind="query-params")
    seed = c2.number_input(t("decode.sample.seed"), min_value=0, max_value=2**31 - 1, value=0, step=1, key="seed", bind="query-params")
    view = explain.samples(final, int(n), int(seed))
    m1, m2, m3 = st.columns(3)
    m1.metric(t("decode.sample.tvd"), f"{view.total_variation:.4f}", help=t("decode.sample.tvd_help"))
    m2.metric(t("decode.sample.greedy_share"), f"{100 * view.greedy_share:.1f}%", help=t("decode.sample.greedy_share_help"))
    m3.metric(t("decode.sample.distinct"), f"{view.distinct:,}")
    st.plotly_chart(figures.samples(labels, view), config=figures.plotly_config("logitsviz-samples"), key="chart_samples")
    st.caption(t("decode.sample.first", k=min(20, view.draws.size)))
    st.text(" · ".join(labels[i] for i in view.draws[:20]))
    widgets.fragment_share_link()  # N and the seed are in the link


def downloads(labels: list[str], logits: np.ndarray, final: np.ndarray) -> None:
    st.markdown(f"**{t('decode.download')}**")

    def table() -> pd.DataFrame:  # built on click: the vocabulary may be 200,000 tokens
        return pd.DataFrame({"token": labels, "logit": logits, "final_logit": final,
                             "final_probability": explain.softmax_table(final)["probability"]})

    widgets.table_downloads(table, "decoding", "dl_decoding")


# ------------------------------------------------------------------- page ----


def render() -> None:
    st.title(t("decode.title"))
    st.markdown(t("decode.subtitle"))

    top = st.columns([3, 2], gap="large")
    with top[0]:
        labels, logits, _prompt = source_controls()
    with top[1]:
        widgets.url_choice("order", list(sampling.ORDERS), "transformers")
        order = st.segmented_control(
            t("decode.order"), options=list(sampling.ORDERS), key="order", persist_state="session",
            required=True, format_func=lambda o: t(f"decode.order.{o}"), help=t("decode.order_help"),
        )
        widgets.keep_in_url("order")

    left, right = st.columns([2, 3], gap="large")
    with left:
        st.subheader(t("decode.filters"))
        settings = {}
        for name in (n for n in sampling.ORDERS[order] if n in SPECS):
            value = filter_card(SPECS[name])
            if value is not None:
                settings[name] = value
    try:
        view = explain.decoding(logits, settings, order)
    except InputError as err:
        st.error(t(err.key, **err.params))
        return

    with right:
        st.subheader(t("decode.pipeline"))
        st.markdown(diagram(order, settings))
        # the chart first, right beside the filters that move it; the numbers under it
        st.plotly_chart(figures.decoding_bars(labels, view.chart), config=figures.plotly_config("logitsviz-decoding"), key="chart_final")
        st.caption(t("decode.final_caption"))
        summary(labels, view)
        if view.stages:
            st.subheader(t("decode.stages"))
            cols = st.columns(2)
            for i, stage in enumerate(view.stages):
                with cols[i % 2]:
                    st.plotly_chart(figures.stage(labels, stage), config=figures.plotly_config(f"logitsviz-{stage.name}"), key=f"chart_stage_{i}")
                    st.caption(t("decode.stage_caption", removed=f"{stage.removed:,}", left=f"{stage.left:,}"))
        else:
            st.info(t("decode.no_filters"))
    st.divider()
    sampling_section(labels, view.final)
    downloads(labels, logits, view.final)
