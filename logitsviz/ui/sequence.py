"""A sequence of tokens with their log-probabilities, shown one way wherever it comes from.

The Tokens page (an API's response) and the Language model page (a text
scored by the model) both call :func:`sequence_section`: the text as tokens
shaded by probability, each position's alternatives, entropy (exact, or as
bounds when only the top few are known), perplexity and the least likely
tokens.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import streamlit as st

from logitsviz import explain, figures
from logitsviz.i18n import t
from logitsviz.tokens import LogprobSequence, Position, visible
from logitsviz.ui import nav, state, widgets

TILE = 165  # px: a tile's width, so that two fit a phone's row


def _p(lp: float) -> float:
    return math.exp(lp) if math.isfinite(lp) else float("nan")


def _hover(pos: Position, low: float, high: float) -> str:
    alternatives = ", ".join(f"{text} {math.exp(lp):.3f}" for text, lp in pos.top[:5] if math.isfinite(lp)) or "—"
    p = t("seq.unknown_p") if not math.isfinite(pos.logprob) else f"{_p(pos.logprob):.4f}"
    return t("seq.hover", token=pos.text, p=p, h=_entropy_text(low, high), alternatives=alternatives)


def _entropy_text(low: float, high: float) -> str:
    if not math.isfinite(low):
        return "—"
    if abs(high - low) < 1e-9:
        return t("unit.bits", value=f"{low:.2f}")
    return t("seq.between", low=f"{low:.2f}", high=f"{high:.2f}")


def sequence_section(seq: LogprobSequence, key: str) -> None:
    """Tiles, the token strip (click a token to open it), the least likely tokens, downloads."""
    view = explain.sequence_view(seq)
    # tiles of one width in a row that wraps: four across a page, two a row on a phone (columns stacked them one a row)
    with st.container(horizontal=True, gap="small"):
        st.metric(t("seq.tokens"), f"{len(seq.positions):,}", width=TILE)
        st.metric(t("lm.score.ppl"), f"{view.perplexity:,.2f}", help=t("lm.score.ppl_help"), width=TILE)
        st.metric(t("lm.score.mean"), t("unit.bits", value=f"{view.mean_surprise_bits:.2f}") if math.isfinite(view.mean_surprise_bits)
                  else "—", help=t("lm.score.mean_help"), width=TILE)
        if view.exact:  # a local model: its whole distribution is known at every position, so is the entropy
            st.metric(t("seq.mean_entropy"), t("unit.bits", value=f"{view.mean_entropy_bits:.2f}"), help=t("seq.mean_entropy_help"),
                      width=TILE)
        else:
            st.metric(t("seq.unknown"), f"{view.unknown:,}", help=t("seq.unknown_help"), width=TILE)
    colour = np.nan_to_num(np.exp(seq.logprobs), nan=0.0)  # a token outside the listed top is very unlikely: the warmest shade
    hovers = [_hover(p, lo, hi) for p, lo, hi in zip(seq.positions, view.entropy_low, view.entropy_high)]
    event = st.plotly_chart(
        figures.token_strip(seq.tokens, colour, hovers, cmin=0, cmax=1, title="p"),
        config={**figures.plotly_config(f"logitsviz-{key}"), "displayModeBar": False}, key=f"strip_{key}", on_select="rerun",
        selection_mode="points",
    )
    points = event.get("selection", {}).get("points", []) if event else []
    if points:
        position_panel(seq, int(points[0]["point_index"]), view, key)
    else:
        st.caption(t("seq.click"))
    least_likely(seq, view, key)


def position_panel(seq: LogprobSequence, i: int, view: explain.SequenceView, key: str) -> None:
    """One position: the alternatives known there and the unlisted rest as one bar; open it elsewhere."""
    pos = seq.positions[i]
    p = t("seq.unknown_p") if not math.isfinite(pos.logprob) else f"{_p(pos.logprob):.4f}"
    st.markdown(t("seq.position", i=i + 1, token=pos.text, p=p, h=_entropy_text(view.entropy_low[i], view.entropy_high[i])))
    rest_label = t("seq.rest_model" if seq.exact else "seq.rest")
    here = explain.position_view(pos, rest_label)
    if here.steps is None:
        st.info(t("seq.no_alternatives"))
        return
    shown = [t("lm.gen.drawn", token=label) if j == here.chosen else label for j, label in enumerate(here.labels)]
    st.plotly_chart(figures.compare_steps(shown, here.steps, others_label=rest_label),
                    config=figures.plotly_config("logitsviz-position"), key=f"chart_position_{key}")
    if here.rest > 0:
        st.caption(t("seq.rest_caption_exact" if seq.exact else "seq.rest_caption", pct=f"{100 * here.rest:.2f}"))
    b1, b2, _ = st.columns([1, 1, 2])
    if b1.button(t("lm.open_explorer"), icon=":material/bar_chart:", key=f"{key}_explorer"):
        state.set_current(here.labels, here.logits, source="link")
        st.switch_page(nav.page("explorer"), query_params={"lang": st.query_params.get("lang", "en")})
    if b2.button(t("lm.open_decoding"), icon=":material/tune:", key=f"{key}_decoding"):
        state.set_current(here.labels, here.logits, source="link")
        st.switch_page(nav.page("decoding"), query_params={"src": "explorer", "lang": st.query_params.get("lang", "en")})


def least_likely(seq: LogprobSequence, view: explain.SequenceView, key: str) -> None:
    order, surprise = view.least_likely, view.surprise_bits
    rows = [seq.positions[i] for i in order]
    table = pd.DataFrame({
        t("lm.score.col.position"): order + 1, t("lm.score.col.token"): [visible(r.text) for r in rows],
        t("lm.score.col.bits"): surprise[order], t("lm.score.col.expected"): [r.top[0][0] if r.top else "" for r in rows],
    })
    st.markdown(f"**{t('lm.score.least_likely')}**")  # blanks shown as in the alternatives beside them: "␣Paris" in both
    st.dataframe(table, hide_index=True, width="stretch", column_config={t("lm.score.col.bits"): st.column_config.NumberColumn(format="%.2f")})
    everything = pd.DataFrame({"token": seq.tokens, "logprob": seq.logprobs, "surprise_bits": surprise,
                               "top": [" | ".join(f"{text} {lp:.4f}" for text, lp in p.top) for p in seq.positions]})
    widgets.table_downloads(everything, f"tokens-{key}", f"dl_{key}")
