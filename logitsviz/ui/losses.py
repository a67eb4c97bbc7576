"""Losses built on logits: cross-entropy and its gradient, sigmoid vs softmax, InfoNCE, distillation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from logitsviz import explain, figures, inputs
from logitsviz.errors import InputError
from logitsviz.i18n import t
from logitsviz.ui import state, widgets

DISTILL_PRESETS = {
    "confident": ("8, 2, 1, 0.5, 0", "5, 3, 1, 0, 0"),
    "close": ("3, 2.5, 1, 0, -1", "3, 2.4, 1.2, 0, -1.1"),
    "wrong": ("4, 1, 0, 0, 0", "0, 4, 1, 0, 0"),
}


def _nats(value: float) -> str:
    """A loss with its unit: natural logarithms, so nats (the Explorer's entropy is in bits, and says so)."""
    return t("unit.nats", value=f"{value:.4f}")


# ------------------------------------------------------------ cross-entropy ----


def cross_entropy_tab(cur: state.Current) -> None:
    st.markdown(t("loss.ce.intro"))
    n = len(cur.labels)
    c1, c2 = st.columns(2)
    with c1:
        y = _true_class(cur, n)
    eps = c2.slider(t("loss.ce.smoothing"), min_value=0.0, max_value=0.5, value=0.0, step=0.01, key="ls", bind="query-params",
                    help=t("loss.ce.smoothing_help"))
    view = explain.cross_entropy_view(cur.logits, int(y), label_smoothing=eps)
    m = st.columns(3)
    m[0].metric(t("loss.ce.loss"), _nats(view.loss))
    m[1].metric(t("loss.ce.neglogp"), _nats(view.neg_log_p), help=t("loss.ce.neglogp_help"))
    m[2].metric(t("loss.ce.p_true"), f"{100 * view.p_true:.2f}%")
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{t('loss.ce.grad_title')}**")
        st.latex(r"\begin{gathered} \frac{\partial L}{\partial z_i} = p_i - q_i \\ q = (1-\varepsilon)\,\mathrm{onehot}(y) + \varepsilon / C \end{gathered}")
        st.plotly_chart(figures.gradient(cur.labels, view), config=figures.plotly_config("logitsviz-gradient"), key="chart_grad")
        st.caption(t("loss.ce.grad_caption"))
    with right:
        st.markdown(f"**{t('loss.ce.curve_title')}**")
        st.latex(r"L(z_y) = -(1-\varepsilon)\log p_y - \frac{\varepsilon}{C}\sum_i \log p_i")
        st.plotly_chart(figures.loss_curve(view.grid, view.curve, view.z_target, view.loss, t("loss.ce.curve_x")),
                        config=figures.plotly_config("logitsviz-loss-curve"), key="chart_curve")
        st.caption(t("loss.ce.curve_caption"))
    df = pd.DataFrame({"label": cur.labels, "logit": cur.logits, "probability": view.probs, "gradient": view.grad})
    widgets.table_downloads(df, "cross-entropy", "dl_ce")


def _true_class(cur: state.Current, n: int) -> int:
    """The true class, picked by name (by index past 1,000 classes); in the link as its index."""
    if n > 1000:
        y = st.number_input(t("loss.ce.target_index"), min_value=0, max_value=n - 1, value=int(np.argmax(cur.logits)), step=1,
                            key="y", bind="query-params", help=t("loss.ce.target_help"))
        st.caption(t("loss.ce.target_is", label=cur.labels[int(y)][:60]))
        return int(y)
    options = [str(i) for i in range(n)]
    widgets.url_choice("y", options, str(int(np.argmax(cur.logits))))
    y = st.selectbox(t("loss.ce.target"), options, key="y", persist_state="session", format_func=lambda i: cur.labels[int(i)],
                     help=t("loss.ce.target_help"))
    widgets.keep_in_url("y")
    return int(y)


# --------------------------------------------------------- sigmoid vs softmax ----


def sigmoid_tab(cur: state.Current) -> None:
    st.markdown(t("loss.sig.intro"))
    n = len(cur.labels)
    options = list(range(min(n, 1000)))
    chosen = st.multiselect(t("loss.sig.positives"), options=options, default=[int(np.argmax(cur.logits))] if n <= 1000 else [],
                            format_func=lambda i: cur.labels[i], key="pos", help=t("loss.sig.positives_help"),
                            persist_state="session")  # kept while another tab is open (a closed tab does not run)
    view = explain.sigmoid_view(cur.logits, chosen)
    m = st.columns(3)
    m[0].metric(t("loss.sig.sum_sigmoid"), f"{view.sum_sigmoid:.3f}", help=t("loss.sig.sum_sigmoid_help"))
    m[1].metric(t("loss.sig.sum_softmax"), f"{view.sum_softmax:.3f}")
    m[2].metric(t("loss.sig.bce"), _nats(view.bce_mean), help=t("loss.sig.bce_help"))
    st.plotly_chart(figures.grouped(cur.labels, view.bars, [t("loss.sig.sigmoid"), t("loss.sig.softmax")], t("loss.sig.y")),
                    config=figures.plotly_config("logitsviz-sigmoid-softmax"), key="chart_sig")
    st.latex(r"\begin{gathered} \sigma(z) = \frac{1}{1 + e^{-z}} \\ \operatorname{logit}(p) = \log\frac{p}{1-p} = z \end{gathered}")
    df = pd.DataFrame({
        t("steps.col_label"): cur.labels, "z": cur.logits, "sigmoid(z)": view.sigmoid, "logit(sigmoid(z))": view.logit_of_sigmoid,
        "softmax(z)": view.softmax, t("loss.sig.target"): view.targets, "BCE": view.bce,
    })
    st.dataframe(df.head(200), hide_index=True, width="stretch", column_config={c: st.column_config.NumberColumn(format="%.4f") for c in df.columns[1:]})
    st.caption(t("loss.sig.inverse_note"))
    widgets.table_downloads(df, "sigmoid-softmax", "dl_sig")


# ------------------------------------------------------------------- InfoNCE ----


def info_nce_tab() -> None:
    st.markdown(t("loss.nce.intro"))
    c = st.columns(4)
    batch = c[0].slider(t("loss.nce.batch"), 2, 32, 8, key="B", bind="query-params")
    dim = c[1].select_slider(t("loss.nce.dim"), options=[2, 4, 8, 16, 32, 64, 128, 256], value=16, key="D", bind="query-params")
    noise = c[2].slider(t("loss.nce.noise"), 0.0, 3.0, 1.5, 0.05, key="noise", bind="query-params", help=t("loss.nce.noise_help"))
    seed = c[3].number_input(t("decode.sample.seed"), 0, 2**31 - 1, 0, key="nce_seed", bind="query-params")
    tau = st.select_slider(t("loss.nce.tau"), options=[0.01, 0.02, 0.05, 0.07, 0.1, 0.2, 0.5, 1.0], value=0.1, key="tau",
                           bind="query-params", help=t("loss.nce.tau_help"))
    view = explain.info_nce_view(int(batch), int(dim), float(noise), float(tau), int(seed))
    m = st.columns(3)
    m[0].metric(t("loss.nce.loss"), _nats(view.loss))
    m[1].metric(t("loss.nce.chance"), _nats(view.chance), help=t("loss.nce.chance_help"))
    m[2].metric(t("loss.nce.acc"), f"{100 * view.accuracy:.0f}%")
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(figures.heatmap(view.probs, t("loss.nce.x"), t("loss.nce.y")), config=figures.plotly_config("logitsviz-infonce"),
                        key="chart_nce")
    with right:
        st.plotly_chart(figures.loss_curve(view.taus, view.tau_losses, view.tau, view.loss, "τ", log_x=True),
                        config=figures.plotly_config("logitsviz-infonce-tau"), key="chart_tau")
        st.caption(t("loss.nce.tau_caption"))
    st.latex(r"L = -\frac{1}{N}\sum_i \log \frac{e^{\cos(a_i, b_i)/\tau}}{\sum_j e^{\cos(a_i, b_j)/\tau}}")
    widgets.table_downloads(pd.DataFrame(view.similarity, columns=[f"b{j}" for j in range(int(batch))]), "infonce-similarities", "dl_nce")


# --------------------------------------------------------------- distillation ----


def _parse_vector(text: str, what: str) -> np.ndarray | None:
    try:
        return inputs.parse_logits(text)[1]
    except InputError as err:
        st.error(t(f"loss.kd.bad_{what}") + " " + t(err.key, **err.params))
        return None


def _on_kd_preset() -> None:
    name = st.session_state.get("kd_preset")
    if name in DISTILL_PRESETS:
        st.session_state["teacher"], st.session_state["student"] = DISTILL_PRESETS[name]


def distillation_tab() -> None:
    st.markdown(t("loss.kd.intro"))
    st.pills(t("loss.kd.presets"), options=list(DISTILL_PRESETS), format_func=lambda n: t(f"loss.kd.preset.{n}"), key="kd_preset",
             on_change=_on_kd_preset, persist_state="session")
    for key, default in zip(("teacher", "student"), DISTILL_PRESETS["confident"]):
        if key not in st.session_state and key not in st.query_params:
            st.session_state[key] = default  # a link's value, when there is one, seeds the box instead
    c1, c2, c3 = st.columns([2, 2, 2])
    teacher_text = c1.text_input(t("loss.kd.teacher"), key="teacher", bind="query-params")
    student_text = c2.text_input(t("loss.kd.student"), key="student", bind="query-params")
    temp = c3.select_slider(t("loss.kd.T"), options=[1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 8.0, 10.0, 20.0], value=4.0, key="kdT",
                            bind="query-params", help=t("loss.kd.T_help"))
    teacher = _parse_vector(teacher_text, "teacher")
    student = _parse_vector(student_text, "student")
    if teacher is None or student is None:
        return
    try:
        view = explain.distillation_view(teacher, student, float(temp))
    except InputError as err:
        st.error(t(err.key, **err.params))
        return
    m = st.columns(3)
    m[0].metric(t("loss.kd.kl", T=f"{temp:g}"), _nats(view.kl))
    m[1].metric(t("loss.kd.scaled"), _nats(view.scaled), help=t("loss.kd.scaled_help"))
    m[2].metric(t("loss.kd.kl1"), _nats(view.kl_at_1))
    labels = [t("label.default", i=i) for i in range(teacher.size)]
    names = [t("loss.kd.teacher_p"), t("loss.kd.student_p")]  # these charts show probabilities, not logits
    left, right = st.columns(2)
    with left:
        st.plotly_chart(figures.grouped(labels, view.soft, names, t("loss.kd.soft", T=f"{temp:g}")),
                        config=figures.plotly_config("logitsviz-distillation"), key="chart_kd")
    with right:
        st.plotly_chart(figures.grouped(labels, view.hard, names, t("loss.kd.hard")), config=figures.plotly_config("logitsviz-distillation-t1"),
                        key="chart_kd1")
    st.latex(r"\begin{gathered} L_{\mathrm{KD}} = T^2 \, \mathrm{KL}\big(p_t \,\|\, p_s\big) \\ p_t = \operatorname{softmax}(z_t/T) \\ p_s = \operatorname{softmax}(z_s/T) \end{gathered}")
    st.caption(t("loss.kd.note"))
    widgets.table_downloads(pd.DataFrame({"teacher_logit": teacher, "student_logit": student, "teacher_p_T": view.teacher_soft,
                                          "student_p_T": view.student_soft}), "distillation", "dl_kd")


def render() -> None:
    st.title(t("loss.title"))
    st.markdown(t("loss.subtitle"))
    cur = state.init_current()
    state.show_unlinked()
    # only the open tab runs: moving a slider on one re-draws it alone (a third of the page's re-run)
    tabs = widgets.tabs("loss_tab", ["ce", "sig", "nce", "kd"], "loss.tab.{}")
    for i, (tab, draw) in enumerate(zip(tabs, (lambda: cross_entropy_tab(cur), lambda: sigmoid_tab(cur), info_nce_tab,
                                                distillation_tab))):
        with tab:
            if tab.open or (i == 0 and tab.open is None):  # before the first run's state, the first tab is the open one
                draw()
