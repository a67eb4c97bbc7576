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

from logitsviz import figures
from logitsviz.explain import compact_steps
from logitsviz.i18n import t
from logitsviz.tokens import LogprobSequence, Position, visible
from logitsviz.ui import nav, state, widgets

TILE = 165  # px: a tile's width, so that two fit a phone's row
VOCAB = 200_000  # assumed vocabulary size for the upper entropy bound when only the top alternatives are known


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
    lp = seq.logprobs
    surprise = -lp / math.log(2)
    low, high = seq.entropy_bounds(VOCAB)
    # tiles of one width in a row that wraps: four across a page, two a row on a phone (columns stacked them one a row)
    with st.container(horizontal=True, gap="small"):
        st.metric(t("seq.tokens"), f"{len(seq.positions):,}", width=TILE)
        st.metric(t("lm.score.ppl"), f"{seq.perplexity:,.2f}", help=t("lm.score.ppl_help"), width=TILE)
        st.metric(t("lm.score.mean"), t("unit.bits", value=f"{np.nanmean(surprise):.2f}") if np.isfinite(surprise).any() else "—",
                  help=t("lm.score.mean_help"), width=TILE)
        if seq.exact:  # a local model: its whole distribution is known at every position, so is the entropy
            st.metric(t("seq.mean_entropy"), t("unit.bits", value=f"{np.mean(low):.2f}"), help=t("seq.mean_entropy_help"),
                      width=TILE)
        else:
            unknown = int((~np.isfinite(lp)).sum())
            st.metric(t("seq.unknown"), f"{unknown:,}", help=t("seq.unknown_help"), width=TILE)
    colour = np.nan_to_num(np.exp(lp), nan=0.0)  # a token outside the listed top is very unlikely: the warmest shade
    event = st.plotly_chart(
        figures.token_strip(seq.tokens, colour, [_hover(p, lo, hi) for p, lo, hi in zip(seq.positions, low, high)], cmin=0, cmax=1,
                            title="p"),
        config={**figures.plotly_config(f"logitsviz-{key}"), "displayModeBar": False}, key=f"strip_{key}", on_select="rerun",
        selection_mode="points",
    )
    points = event.get("selection", {}).get("points", []) if event else []
    if points:
        position_panel(seq, int(points[0]["point_index"]), low, high, key)
    else:
        st.caption(t("seq.click"))
    least_likely(seq, surprise, key)


def position_panel(seq: LogprobSequence, i: int, low: np.ndarray, high: np.ndarray, key: str) -> None:
    """One position: the alternatives known there and the unlisted rest as one bar; open it elsewhere."""
    pos = seq.positions[i]
    p = t("seq.unknown_p") if not math.isfinite(pos.logprob) else f"{_p(pos.logprob):.4f}"
    st.markdown(t("seq.position", i=i + 1, token=pos.text, p=p, h=_entropy_text(low[i], high[i])))
    labels, logits = distribution(pos)
    if not labels:
        st.info(t("seq.no_alternatives"))
        return
    rest = pos.rest
    known = sum(1 for _, lp in pos.top if math.isfinite(lp))
    steps = compact_steps(logits[:known], math.log(rest) if rest > 0 else -math.inf, 1 if rest > 0 else 0)
    shown = [t("lm.gen.drawn", token=label) if i < known and label == visible(pos.text) else label for i, label in enumerate(labels)]
    st.plotly_chart(figures.compare_steps(shown, steps, others_label=t("seq.rest_model" if seq.exact else "seq.rest")),
                    config=figures.plotly_config("logitsviz-position"), key=f"chart_position_{key}")
    if rest > 0:
        st.caption(t("seq.rest_caption_exact" if seq.exact else "seq.rest_caption", pct=f"{100 * rest:.2f}"))
    b1, b2, _ = st.columns([1, 1, 2])
    if b1.button(t("lm.open_explorer"), icon=":material/bar_chart:", key=f"{key}_explorer"):
        state.set_current(labels, logits, source="link")
        st.switch_page(nav.page("explorer"), query_params={"lang": st.query_params.get("lang", "en")})
    if b2.button(t("lm.open_decoding"), icon=":material/tune:", key=f"{key}_decoding"):
        state.set_current(labels, logits, source="link")
        st.switch_page(nav.page("decoding"), query_params={"src": "explorer", "lang": st.query_params.get("lang", "en")})


def distribution(pos: Position) -> tuple[list[str], np.ndarray]:
    """``(labels, logits)`` of a position: its listed alternatives, and one class for the unlisted rest.

    Log-probabilities are logits (softmax gives them back), so the Explorer
    and the Decoding lab show the position's probabilities exactly.
    """
    known = [(text, lp) for text, lp in pos.top if math.isfinite(lp)]
    labels = [text for text, _ in known]
    logits = [lp for _, lp in known]
    if known and pos.rest > 0:
        labels.append(t("seq.rest_model" if pos.entropy_bits is not None else "seq.rest"))
        logits.append(math.log(pos.rest))
    return labels, np.array(logits, dtype=np.float64)


def least_likely(seq: LogprobSequence, surprise: np.ndarray, key: str) -> None:
    order = np.argsort(-np.nan_to_num(surprise, nan=np.inf), kind="stable")[:10]
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
