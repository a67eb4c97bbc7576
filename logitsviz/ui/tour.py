"""The guided tour: the ideas of the worked example one at a time, each beside a live figure and one thing to try."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from logitsviz import examples, explain, figures
from logitsviz.i18n import t
from logitsviz.ui import widgets

STEPS = ("logits", "softmax", "argmax", "temperature", "max", "cross_entropy", "contrastive", "preference")
STEP = "step"


def _labels() -> list[str]:
    return examples.preset("seed")[0]


def _seed() -> np.ndarray:
    return np.array(examples.SEED_LOGITS)


def _chart(labels: list[str], steps, key: str) -> None:
    st.plotly_chart(figures.compare_steps(labels, steps), config=figures.plotly_config(f"logitsviz-tour-{key}"), key=f"tour_{key}")


# ------------------------------------------------------------------ steps ----


def step_logits() -> None:
    z = _seed().copy()
    z[2] = st.slider(t("tour.logits.try_control"), -3.0, 6.0, float(z[2]), 0.1, key="tour_tech")
    _chart(_labels(), explain.softmax_steps(z), "logits")


def step_softmax() -> None:
    labels = _labels()
    s = explain.softmax_steps(_seed())
    st.dataframe(pd.DataFrame({t("steps.col_label"): labels, "z": s.z, "e^z": s.raw_exps, "p = e^z / Σ": s.probs}), hide_index=True,
                 width="stretch", column_config={c: st.column_config.NumberColumn(format="%.3f") for c in ("z", "e^z", "p = e^z / Σ")})
    st.markdown(t("tour.softmax.sum", terms=" + ".join(f"{v:.2f}" for v in s.raw_exps), s=f"{s.raw_exp_sum:.2f}",
                  p=t("list.sep").join(f"{v:.3f}" for v in s.probs)))
    _chart(labels, s, "softmax")


def step_argmax() -> None:
    temperature = st.select_slider(t("explorer.temperature"), options=widgets.TEMPERATURES, value=1.0, key="tour_T3")
    s = explain.softmax_steps(_seed(), temperature=float(temperature), sort=True)
    _chart(_labels(), s, "argmax")
    st.caption(t("tour.argmax.same", label=_labels()[s.argmax]))


def step_temperature() -> None:
    temperature = st.select_slider(t("explorer.temperature"), options=widgets.TEMPERATURES, value=1.0, key="tour_T")
    s = explain.softmax_steps(_seed(), temperature=float(temperature))
    _chart(_labels(), s, "temperature")
    st.caption(t("tour.temperature.now", T=f"{temperature:g}", p=f"{100 * s.top_prob:.1f}", h=f"{s.entropy_bits:.2f}"))


def step_max() -> None:
    c = st.slider(t("tour.max.try_control"), 0.0, 1000.0, 0.0, 10.0, key="tour_c")
    z = _seed() + c
    view = explain.shift_view(z, 0.0)
    st.dataframe(pd.DataFrame({
        t("tour.max.col_way"): [t("tour.max.naive"), t("tour.max.stable")],
        t("tour.max.col_result"): [", ".join(f"{v:.3f}" if np.isfinite(v) else "nan" for v in view.naive[0]),
                                   ", ".join(f"{v:.3f}" for v in view.stable)],
    }), hide_index=True, width="stretch")
    (st.error if not view.ok[0] else st.success)(t("tour.max.broken" if not view.ok[0] else "tour.max.fine", c=f"{c:g}"))
    _chart(_labels(), explain.softmax_steps(z), "max")


def step_cross_entropy() -> None:
    labels = _labels()
    y = st.segmented_control(t("loss.ce.target"), list(range(3)), format_func=lambda i: labels[i], default=2, key="tour_y", required=True)
    view = explain.cross_entropy_view(_seed(), int(y))
    st.markdown(t("tour.ce.loss", label=labels[int(y)], p=f"{view.p_true:.3f}", loss=f"{view.loss:.3f}"))
    st.plotly_chart(figures.gradient(labels, view), config=figures.plotly_config("logitsviz-tour-gradient"), key="tour_gradient")


def step_contrastive() -> None:
    noise = st.slider(t("loss.nce.noise"), 0.0, 3.0, 0.5, 0.1, key="tour_noise")
    view = explain.info_nce_view(6, 16, noise, 0.1, seed=0)
    st.plotly_chart(figures.heatmap(view.probs, t("loss.nce.x"), t("loss.nce.y")), config=figures.plotly_config("logitsviz-tour-nce"),
                    key="tour_nce")
    st.caption(t("tour.contrastive.now", loss=f"{view.loss:.3f}", chance=f"{view.chance:.3f}", acc=f"{100 * view.accuracy:.0f}"))


def step_preference() -> None:
    z = _seed().copy()
    z[2] += st.slider(t("tour.preference.try_control"), 0.0, 3.0, 0.0, 0.1, key="tour_boost")
    s = explain.softmax_steps(z)
    _chart(_labels(), s, "preference")
    st.caption(t("tour.preference.now", label=_labels()[s.argmax], p=f"{100 * s.top_prob:.1f}"))


_RENDER = {
    "logits": step_logits, "softmax": step_softmax, "argmax": step_argmax, "temperature": step_temperature, "max": step_max,
    "cross_entropy": step_cross_entropy, "contrastive": step_contrastive, "preference": step_preference,
}


# ------------------------------------------------------------------- page ----


def _go(delta: int) -> None:
    i = STEPS.index(st.session_state[STEP]) + delta
    st.session_state[STEP] = STEPS[min(max(i, 0), len(STEPS) - 1)]


def render() -> None:
    st.title(t("tour.title"))
    st.markdown(t("tour.subtitle"))
    widgets.url_choice(STEP, list(STEPS), STEPS[0])
    st.pills(t("tour.steps"), list(STEPS), key=STEP, format_func=lambda s: f"{STEPS.index(s) + 1}. {t(f'tour.{s}.short')}",
             persist_state="session", required=True, label_visibility="collapsed")
    widgets.keep_in_url(STEP)
    name = st.session_state[STEP]
    text, live = st.columns([2, 3], gap="large")
    with text:
        st.subheader(f"{STEPS.index(name) + 1}. {t(f'tour.{name}.title')}")
        st.markdown(t(f"tour.{name}.body"))
        st.info(t(f"tour.{name}.try"), icon=":material/touch_app:")
    with live:
        _RENDER[name]()
    # under both columns: on a phone the columns stack, and Back/Next between the instruction and its slider kept them apart
    with st.container(horizontal=True, horizontal_alignment="right", gap="small"):
        st.button(t("tour.back"), on_click=_go, args=(-1,), disabled=name == STEPS[0], icon=":material/arrow_back:", key="tour_back")
        st.button(t("tour.next"), on_click=_go, args=(1,), disabled=name == STEPS[-1], icon=":material/arrow_forward:",
                  key="tour_next", type="primary")
