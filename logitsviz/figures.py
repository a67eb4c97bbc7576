"""Plotly figures: data in, ``go.Figure`` out; nothing is displayed or modified.

Labels are user text: they are HTML-escaped before plotly sees them (plotly
reads a small subset of HTML in text), so a class named ``<b>x</b>`` shows
exactly that.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from numpy.typing import ArrayLike
from plotly.subplots import make_subplots

from logitsviz.explain import SoftmaxSteps, softmax_steps
from logitsviz.i18n import t

__all__ = ["COLORS", "compare", "compare_steps", "plotly_config", "safe_label"]

COLORS = {
    "logit": "#6C8EBF",
    "prob": "#3A9E8F",
    "argmax": "#E07A3F",
    "others": "#B9C0CA",
    "grid": "rgba(128,128,128,0.18)",
}
_MAX_TEXT_BARS = 40  # beyond this, values only on hover: text would overlap
_LABEL_CHARS = 28


def safe_label(label: str, limit: int = _LABEL_CHARS) -> str:
    """A label as plotly should show it: escaped, one line, at most ``limit`` characters.

    >>> safe_label("<img src=x onerror=alert(1)>")
    '&lt;img src=x onerror=alert(1)&gt;'
    """
    text = " ".join(str(label).split()) or "␣"
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return html.escape(text, quote=False)


def plotly_config(filename: str) -> dict:
    """The chart toolbar: PNG export at 2× with a meaningful file name, no plotly logo."""
    return {
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "filename": filename, "scale": 2},
        "modeBarButtonsToRemove": ["lasso2d", "select2d"],
    }


def _fmt(x: float, digits: int = 3) -> str:
    if np.isneginf(x):
        return "−∞"
    return f"{x:.{digits}g}" if abs(x) >= 1e4 or (x != 0 and abs(x) < 1e-3) else f"{x:.{digits}f}"


def compare(
    labels: Sequence[str],
    logits: ArrayLike,
    temperature: float = 1.0,
    top: int = 20,
    *,
    shift: float = 0.0,
    sort: bool = False,
) -> go.Figure:
    """Raw logits beside their softmax probabilities, the argmax highlighted, top ``top`` plus "others".

    Examples
    --------
    >>> fig = compare(["News", "Entertainment", "Technology"], [2.0, 1.0, 0.1])
    >>> [round(p, 3) for p in fig.data[1].x]
    [0.659, 0.242, 0.099]
    """
    steps = softmax_steps(logits, temperature=temperature, shift=shift, top=top, sort=sort)
    return compare_steps(labels, steps)


def compare_steps(labels: Sequence[str], steps: SoftmaxSteps) -> go.Figure:
    """The figure of :func:`compare` from already computed :class:`SoftmaxSteps`."""
    names = [safe_label(labels[i]) for i in steps.index]
    # plotly needs distinct categories: truncation may have merged two long labels
    seen: dict[str, int] = {}
    for k, name in enumerate(names):
        if name in seen:
            names[k] = f"{name} #{int(steps.index[k])}"
        seen[name] = k
    logit_vals = steps.z.tolist()
    prob_vals = steps.probs.tolist()
    colors_l = [COLORS["argmax"] if i == steps.argmax else COLORS["logit"] for i in steps.index]
    colors_p = [COLORS["argmax"] if i == steps.argmax else COLORS["prob"] for i in steps.index]
    hover_l = [t("fig.hover_logit", label=n, value=_fmt(v, 4)) for n, v in zip(names, logit_vals)]
    hover_p = [t("fig.hover_prob", label=n, value=_fmt(v, 4), pct=f"{100 * v:.2f}") for n, v in zip(names, prob_vals)]

    if steps.others_count:
        others = t("fig.others", k=f"{steps.others_count:,}")
        names.append(others)
        logit_vals.append(steps.others_logit)
        prob_vals.append(steps.others_prob)
        colors_l.append(COLORS["others"])
        colors_p.append(COLORS["others"])
        hover_l.append(t("fig.hover_others_logit", k=f"{steps.others_count:,}", value=_fmt(steps.others_logit, 4)))
        hover_p.append(t("fig.hover_others_prob", k=f"{steps.others_count:,}", pct=f"{100 * steps.others_prob:.2f}"))

    # masked classes (-inf) have no bar; plotly cannot draw -inf
    plot_logits = [None if not np.isfinite(v) else v for v in logit_vals]
    show_text = len(names) <= _MAX_TEXT_BARS
    fig = make_subplots(
        rows=1,
        cols=2,
        shared_yaxes=True,
        horizontal_spacing=0.04,
        subplot_titles=(t("fig.logits_title"), t("fig.probs_title")),
    )
    fig.add_trace(
        go.Bar(
            y=names,
            x=plot_logits,
            orientation="h",
            marker_color=colors_l,
            text=[_fmt(v, 2) if show_text else "" for v in logit_vals],
            textposition="outside",
            cliponaxis=False,
            hovertext=hover_l,
            hoverinfo="text",
            name=t("fig.logits_title"),
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            y=names,
            x=prob_vals,
            orientation="h",
            marker_color=colors_p,
            text=[f"{100 * v:.1f}%" if show_text else "" for v in prob_vals],
            textposition="outside",
            cliponaxis=False,
            hovertext=hover_p,
            hoverinfo="text",
            name=t("fig.probs_title"),
        ),
        row=1,
        col=2,
    )
    finite = [v for v in plot_logits if v is not None]
    lo, hi = (min(finite + [0.0]), max(finite + [0.0])) if finite else (0.0, 1.0)
    pad = 0.18 * (hi - lo or 1.0)
    fig.update_xaxes(range=[lo - (pad if lo < 0 else 0), hi + pad], zeroline=True, zerolinecolor="#888", gridcolor=COLORS["grid"], row=1, col=1)
    fig.update_xaxes(range=[0, min(1.0, max(prob_vals) * 1.22 + 0.02)], tickformat=".0%", gridcolor=COLORS["grid"], row=1, col=2)
    fig.update_yaxes(type="category", autorange="reversed", automargin=True)
    fig.update_layout(
        height=max(260, 70 + 26 * len(names)),
        margin=dict(l=8, r=24, t=40, b=24),
        showlegend=False,
        bargap=0.25,
        uniformtext=dict(minsize=9, mode="hide"),
    )
    return fig
