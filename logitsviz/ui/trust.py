"""The Calibration page's two tabs about single predictions: conformal prediction sets, and out-of-distribution scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from logitsviz import calibration, config, conformal, examples, explain, figures
from logitsviz.errors import InputError
from logitsviz.i18n import t
from logitsviz.ui import widgets

SCORES = list(conformal.SCORES)
ALPHAS = [float(a) for a in explain.SWEEP]
EXAMPLES = 8  # held-out digits shown with their sets


@st.cache_data(max_entries=config.limits().cache_entries, show_spinner=False)
def _sets(data_id: str, _z: np.ndarray, _y: np.ndarray, split: float, seed: int, alpha: float, score: str,
          mondrian: bool) -> explain.SetsView:
    return explain.sets_view(_z, _y, split, seed, alpha, score, mondrian)


@st.cache_data(max_entries=4, show_spinner=False)
def _ood(kind: str) -> explain.OODView:
    m = examples.digits_model()
    return explain.ood_view(m.logits, m.forward(examples.digits_unlike(kind)))


def sets_section(data_id: str, z: np.ndarray, y: np.ndarray, split: float, seed: int, model) -> None:
    st.markdown(t("conf.intro"))
    c1, c2, c3 = st.columns([2, 2, 1], vertical_alignment="bottom")
    widgets.url_stop("cp_alpha", ALPHAS, 0.1)
    alpha = float(c1.select_slider(t("conf.alpha"), options=ALPHAS, key="cp_alpha", help=t("conf.alpha_help")))
    widgets.url_choice("cp_score", SCORES, "lac")
    score = c2.segmented_control(t("conf.score"), SCORES, key="cp_score", persist_state="session", required=True,
                                 format_func=lambda s: t(f"conf.score.{s}"), help=t("conf.score_help"))
    mondrian = c3.toggle(t("conf.mondrian"), key="cp_mondrian", bind="query-params", help=t("conf.mondrian_help"))
    for key in ("cp_alpha", "cp_score"):
        widgets.keep_in_url(key)
    try:
        view = _sets(data_id, z, y, float(split), int(seed), alpha, score, bool(mondrian))
    except InputError as err:
        st.error(t(err.key, **err.params), icon=":material/error:")
        return
    with st.container(horizontal=True, gap="small"):
        st.metric(t("conf.tile.coverage"), f"{100 * view.coverage:.1f} %", help=t("conf.tile.coverage_help", target=f"{100 * (1 - alpha):.0f}"),
                  width=190)
        st.metric(t("conf.tile.size"), f"{view.mean_size:.2f}", help=t("conf.tile.size_help"), width=190)
        st.metric(t("conf.tile.worst"), f"{100 * view.worst_class:.1f} %", help=t("conf.tile.worst_help"), width=190)
        st.metric(t("conf.tile.empty"), f"{int(view.size_counts[0]):,}", help=t("conf.tile.empty_help"), width=190)
    st.caption(t("conf.split", cal=f"{view.n_cal:,}", test=f"{view.n_test:,}", seed=int(seed)))
    st.plotly_chart(figures.coverage_sweep(view), config=figures.plotly_config("logitsviz-coverage"), key="chart_cp_sweep")
    st.caption(t("conf.guarantee"))
    left, right = st.columns(2)
    left.markdown(f"**{t('conf.sizes')}**")
    left.plotly_chart(figures.set_sizes(view), config=figures.plotly_config("logitsviz-set-sizes"), key="chart_cp_sizes")
    right.markdown(f"**{t('conf.per_class')}**")
    labels = [str(c) for c in range(z.shape[1])]
    right.plotly_chart(figures.class_coverage(view, labels), config=figures.plotly_config("logitsviz-class-coverage"),
                       key="chart_cp_class")
    st.caption(t("conf.per_class_note"))
    _examples(view, y, model)
    rows = view.test_rows
    table = pd.DataFrame({"row": rows, "label": y[rows], "set": [" ".join(str(c) for c in np.flatnonzero(s)) for s in view.sets],
                          "size": view.sets.sum(axis=1), "covered": view.sets[np.arange(len(rows)), y[rows]]})
    widgets.table_downloads(table, "prediction-sets", "dl_sets")


def _examples(view: explain.SetsView, y: np.ndarray, model) -> None:
    """A few held-out rows with their sets: digits with their images, other sets as a table."""
    st.markdown(f"**{t('conf.examples' if view.sets.sum(axis=1).max() > 1 else 'conf.examples_empty')}**")
    sizes = view.sets.sum(axis=1)
    # the largest sets first: where the model is unsure, the set says so; when none holds two classes, the empty ones
    pick = np.argsort(-sizes if sizes.max() > 1 else sizes, kind="stable")[:EXAMPLES]
    if model is None:
        st.dataframe(pd.DataFrame({t("conf.col.row"): view.test_rows[pick], t("conf.col.label"): y[view.test_rows[pick]],
                                   t("conf.col.set"): ["{" + ", ".join(str(c) for c in np.flatnonzero(view.sets[i])) + "}"
                                                       for i in pick]}), hide_index=True, width="stretch")
        return
    with st.container(horizontal=True, gap="small"):
        for i in pick:
            row = int(view.test_rows[i])
            with st.container(width=120):
                st.image(figures.digit_pixels(model.images[row]), width=96)
                members = "{" + ", ".join(str(c) for c in np.flatnonzero(view.sets[i])) + "}"
                st.caption(t("conf.example", label=int(y[row]), set=members))
    st.caption(t("conf.examples_note" if sizes.max() > 1 else "conf.examples_small", empty=int((sizes == 0).sum())))


def ood_section() -> None:
    st.markdown(t("ood.intro"))
    widgets.url_choice("ood_kind", list(examples.OOD_KINDS), "noise")
    kind = st.segmented_control(t("ood.kind"), list(examples.OOD_KINDS), key="ood_kind", persist_state="session", required=True,
                                format_func=lambda k: t(f"ood.kind.{k}"))
    widgets.keep_in_url("ood_kind")
    view = _ood(kind)
    samples = examples.digits_unlike(kind, 6, seed=1)
    with st.container(horizontal=True, gap="small"):
        for img in samples:
            st.image(figures.digit_pixels(img), width=72)
    table = pd.DataFrame({t("ood.col.score"): [t(f"ood.score.{r.score}") for r in view.results],
                          "AUROC": [r.auroc for r in view.results], "FPR95": [r.fpr95 for r in view.results]})
    left, right = st.columns([2, 3])
    left.dataframe(table, hide_index=True, width="stretch", column_config={
        "AUROC": st.column_config.NumberColumn(format="%.3f"), "FPR95": st.column_config.NumberColumn(format="%.3f")})
    left.caption(t("ood.table_note"))
    right.plotly_chart(figures.roc(view.results), config=figures.plotly_config("logitsviz-roc"), key="chart_roc")
    scores = list(calibration.OOD_SCORES)
    widgets.url_choice("ood_score", scores, "msp")
    shown = st.segmented_control(t("ood.histogram"), scores, key="ood_score", persist_state="session", required=True,
                                 format_func=lambda s: t(f"ood.score.{s}"))
    widgets.keep_in_url("ood_score")
    st.plotly_chart(figures.ood_histogram(view.results[scores.index(shown)]), config=figures.plotly_config("logitsviz-ood"),
                    key="chart_ood_hist")
    st.markdown(t("ood.shift", c=f"{view.shift:g}", msp0=f"{view.msp_before:.4f}", msp1=f"{view.msp_after:.4f}",
                  e0=f"{view.energy_before:.3f}", e1=f"{view.energy_after:.3f}"))
    widgets.table_downloads(table, "ood", "dl_ood")
