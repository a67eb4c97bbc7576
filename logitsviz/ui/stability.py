"""Numerical stability: where naive softmax overflows, and why subtracting the max fixes it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from logitsviz import examples, explain, figures
from logitsviz.i18n import t
from logitsviz.ui import state, widgets

SOURCES = [*examples.STABILITY_PRESETS, "explorer"]


def _vec(values: np.ndarray, limit: int = 4) -> str:
    shown = ", ".join("nan" if np.isnan(v) else ("inf" if np.isposinf(v) else f"{float(v):.4g}") for v in values[:limit])
    return f"[{shown}{', …' if values.size > limit else ''}]"


def source_controls() -> np.ndarray:
    widgets.url_choice("stab", SOURCES, SOURCES[0])
    source = st.selectbox(t("stab.source"), options=SOURCES, key="stab", persist_state="session",
                          format_func=lambda s: t(f"stab.source.{s}"))
    widgets.keep_in_url("stab")
    if source == "explorer":
        logits = state.init_current().logits
        state.show_unlinked()
        return logits
    return np.array(examples.STABILITY_PRESETS[source])


def dtype_table(rows) -> pd.DataFrame:
    return pd.DataFrame(
        {
            t("stab.col.dtype"): [r.dtype for r in rows],
            t("stab.col.overflow"): [f"{r.overflow:.2f}" for r in rows],
            t("stab.col.naive"): [_vec(r.naive) for r in rows],
            t("stab.col.stable"): [_vec(r.stable) for r in rows],
            t("stab.col.verdict"): [
                t("stab.verdict.not_representable") if not r.representable
                else t("stab.verdict.broken") if r.naive_broken else t("stab.verdict.ok")
                for r in rows
            ],
            t("stab.col.error"): [f"{r.stable_error:.1e}" if np.isfinite(r.stable_error) else "nan" for r in rows],
        }
    )


def shift_section(logits: np.ndarray) -> None:
    st.subheader(t("stab.shift.title"))
    st.markdown(t("stab.shift.intro"))
    st.latex(
        # one step a line: on one line it is wider than a phone's screen
        r"\begin{aligned} \operatorname{softmax}(z - c)_i &= \frac{e^{z_i - c}}{\sum_j e^{z_j - c}} \\"
        r" &= \frac{e^{-c}\, e^{z_i}}{e^{-c} \sum_j e^{z_j}} \\ &= \operatorname{softmax}(z)_i \end{aligned}"
    )
    zmax = explain.shift_view(logits, 0.0).max_z
    c = st.slider(t("stab.shift.c"), min_value=float(np.floor(zmax - 1500)), max_value=float(np.ceil(zmax + 1500)),
                  value=0.0, step=1.0, key="c", bind="query-params", help=t("stab.shift.c_help"))
    view = explain.shift_view(logits, c)
    shift_df = pd.DataFrame([
        {t("stab.shift.col_c"): f"{shift:g}", t("stab.shift.col_what"): t(f"stab.shift.{what}"),
         t("stab.shift.col_naive"): _vec(naive), t("stab.shift.col_ok"): "✓" if ok else "✗"}
        for (what, shift), naive, ok in zip(view.shifts, view.naive, view.ok)
    ])
    st.space("small")  # a touch screen always shows the table toolbar above it: not over the slider
    st.dataframe(shift_df, hide_index=True, width="stretch")
    st.caption(t("stab.shift.note", stable=_vec(view.stable)))
    widgets.table_downloads(shift_df, "shift", "dl_shift")


def tail_section() -> None:
    st.subheader(t("stab.tail.title"))
    st.markdown(t("stab.tail.intro"))
    c1, c2 = st.columns(2)
    size = c1.select_slider(t("stab.tail.size"), options=[1_000, 10_000, 50_000, 100_000, 200_000], value=50_000, key="V",
                            bind="query-params")
    spread = c2.select_slider(t("stab.tail.spread"), options=[1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0], value=20.0, key="spread",
                              bind="query-params", help=t("stab.tail.spread_help"))
    z = examples.vocabulary(int(size), float(spread))
    rows = explain.tail_rows(z)
    df = pd.DataFrame(
        {
            t("stab.col.dtype"): [r.dtype for r in rows],
            t("stab.tail.col_zero"): [f"{r.zero_probs:,}" for r in rows],
            t("stab.tail.col_finite"): [f"{r.log_softmax_finite:,}" for r in rows],
            t("stab.tail.col_min"): [f"{r.smallest_log_prob:.1f}" for r in rows],
        }
    )
    st.space("small")  # a touch screen always shows the table toolbar above it: not over the slider
    st.dataframe(df, hide_index=True, width="stretch")
    st.caption(t("stab.tail.note", n=f"{int(size):,}"))
    widgets.table_downloads(df, "tail", "dl_tail")


def render() -> None:
    st.title(t("stab.title"))
    st.markdown(t("stab.subtitle"))
    logits = source_controls()
    st.plotly_chart(figures.exp_ranges(explain.exp_ranges(logits)), config=figures.plotly_config("logitsviz-exp-ranges"),
                    key="chart_ranges")
    st.caption(t("stab.chart.caption"))
    rows = explain.stability_rows(logits)
    df = dtype_table(rows)
    st.dataframe(df, hide_index=True, width="stretch")
    broken = [r.dtype for r in rows if r.naive_broken and r.representable]
    if broken:
        st.warning(t("stab.broken", dtypes=t("list.sep").join(broken)), icon=":material/error:")
    else:
        st.success(t("stab.fine"), icon=":material/check_circle:")
    widgets.table_downloads(df, "stability", "dl_stab")
    st.divider()
    shift_section(logits)
    st.divider()
    tail_section()
