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

__all__ = [
    "COLORS",
    "compare",
    "compare_steps",
    "confidence_histogram",
    "decoding",
    "digit",
    "exp_ranges",
    "gradient",
    "grouped",
    "heatmap",
    "loss_curve",
    "per_class_accuracy",
    "plotly_config",
    "reliability",
    "reliability_from_bins",
    "safe_label",
    "samples",
    "stage",
    "temperature_curve",
]

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


# ------------------------------------------------------------- decoding ----

KEPT, REMOVED, LINE = "#3A9E8F", "#D5D9E0", "#E07A3F"


def _names(labels: Sequence[str], index: np.ndarray) -> list[str]:
    names = [safe_label(labels[i]) for i in index]
    seen: set[str] = set()
    for k, name in enumerate(names):
        if name in seen:
            names[k] = f"{name} #{int(index[k])}"
        seen.add(names[k])
    return names


def _small_layout(fig: go.Figure, title: str, n_bars: int) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, font=dict(size=13), x=0, xanchor="left"),
        height=max(220, 90 + 14 * n_bars) if n_bars > 12 else 260,
        margin=dict(l=8, r=8, t=36, b=8),
        showlegend=False,
        bargap=0.2,
    )
    fig.update_xaxes(type="category", tickangle=-45, automargin=True)
    fig.update_yaxes(gridcolor=COLORS["grid"], automargin=True)
    return fig


def stage(labels: Sequence[str], stage, top: int = 20) -> go.Figure:
    """What one decoding stage kept (coloured) and removed (grey), with its threshold drawn.

    Bars are the probabilities at the stage's input, largest first (typical-p:
    most typical first), top ``top`` plus one bar for the rest.
    """
    from logitsviz import numerics, sampling
    from logitsviz.explain import top_indices

    before, after = stage.before, stage.after
    p_in = numerics.softmax(before)
    kept = np.isfinite(after)
    title = t(f"decode.filter.{stage.name}.name")

    if stage.name == "temperature":
        p_out = numerics.softmax(after)
        idx = top_indices(p_in, top)
        names = _names(labels, idx)
        fig = go.Figure(
            [
                go.Bar(x=names, y=p_in[idx], marker_color=COLORS["others"], name=t("decode.chart.before"),
                       hovertemplate="%{x}<br>p = %{y:.4f}<extra>" + t("decode.chart.before") + "</extra>"),
                go.Bar(x=names, y=p_out[idx], marker_color=COLORS["prob"], name=t("decode.chart.after"),
                       hovertemplate="%{x}<br>p = %{y:.4f}<extra>" + t("decode.chart.after") + "</extra>"),
            ]
        )
        fig.update_layout(barmode="group")
        fig = _small_layout(fig, title, len(idx))
        fig.update_layout(showlegend=True, legend=dict(orientation="h", y=1.02, x=1, xanchor="right", yanchor="bottom"))
        return fig

    if stage.name == "typical_p":
        score = sampling.typicality(before)
        score = np.where(np.isfinite(before), score, np.inf)
        order = np.argsort(score, kind="stable")[: min(top, int(np.isfinite(before).sum()))]
        values = p_in
    elif stage.name == "top_n_sigma":
        order = top_indices(before, min(top, int(np.isfinite(before).sum())))
        values = before
    else:
        order = top_indices(p_in, min(top, int(np.isfinite(before).sum())))
        values = p_in
    names = _names(labels, order)
    y = values[order].tolist()
    colors = [KEPT if kept[i] else REMOVED for i in order]
    rest = np.ones(before.size, dtype=bool)
    rest[order] = False
    rest &= np.isfinite(before)
    if rest.any() and stage.name != "top_n_sigma":
        names.append(t("fig.others", k=f"{int(rest.sum()):,}"))
        y.append(float(p_in[rest].sum()))
        colors.append(KEPT if kept[rest].any() else REMOVED)
    hover = t("decode.chart.logit_hover") if stage.name == "top_n_sigma" else t("decode.chart.prob_hover")
    fig = go.Figure(go.Bar(x=names, y=y, marker_color=colors, hovertemplate=hover + "<extra></extra>"))

    threshold = sampling.stage_threshold(stage)
    if stage.name in ("top_p", "typical_p"):
        cumulative = np.cumsum(values[order])
        fig.add_trace(go.Scatter(x=names[: len(order)], y=cumulative, mode="lines+markers", line=dict(color=LINE, width=2),
                                 marker=dict(size=4), hovertemplate=t("decode.chart.cumulative") + "<extra></extra>"))
        fig.add_hline(y=threshold, line=dict(color=LINE, dash="dash"), annotation_text=f"p = {threshold:g}",
                      annotation_position="top right")
    elif stage.name in ("min_p", "epsilon", "eta", "top_n_sigma"):
        fig.add_hline(y=threshold, line=dict(color=LINE, dash="dash"),
                      annotation_text=t("decode.chart.threshold", value=f"{threshold:.3g}"), annotation_position="top right")
    elif stage.name == "top_k":
        k = int(threshold)
        if k < len(order):
            fig.add_vline(x=k - 0.5, line=dict(color=LINE, dash="dash"), annotation_text=f"k = {k}",
                          annotation_position="top right")
    if stage.name == "top_n_sigma":
        finite_y = [v for v in y if np.isfinite(v)]
        lo = min([*finite_y, threshold])
        fig.update_yaxes(range=[lo - 0.5, max(finite_y) + 0.5])
    return _small_layout(fig, title, len(names))


def _grouped_top(labels: Sequence[str], series: dict[str, tuple[np.ndarray, str]], top: int, y_title: str, height: int) -> go.Figure:
    """Grouped bars of a few distributions over the same classes: the top ``top`` of the first, plus "others"."""
    from logitsviz.explain import top_indices

    first = next(iter(series.values()))[0]
    idx = top_indices(first, top)
    names = _names(labels, idx)
    rest = None
    if idx.size < first.size:
        rest = np.ones(first.size, dtype=bool)
        rest[idx] = False
        names.append(t("fig.others", k=f"{int(rest.sum()):,}"))
    bars = []
    for name, (values, color) in series.items():
        y = values[idx].tolist() + ([float(values[rest].sum())] if rest is not None else [])
        bars.append(go.Bar(x=names, y=y, name=name, marker_color=color,
                           hovertemplate="%{x}<br>%{y:.4f}<extra>" + html.escape(name) + "</extra>"))
    fig = go.Figure(bars)
    fig.update_layout(barmode="group", height=height, margin=dict(l=8, r=8, t=30, b=8),
                      legend=dict(orientation="h", y=1.02, x=1, xanchor="right", yanchor="bottom"), bargap=0.2)
    fig.update_xaxes(type="category", tickangle=-45, automargin=True)
    fig.update_yaxes(gridcolor=COLORS["grid"], title=y_title)
    return fig


def decoding(labels: Sequence[str], original: ArrayLike, final: ArrayLike, top: int = 20) -> go.Figure:
    """The full distribution before decoding beside the final, renormalised one: top ``top`` plus others."""
    from logitsviz import numerics

    p0 = numerics.softmax(np.asarray(original, dtype=np.float64))
    p1 = numerics.softmax(np.asarray(final, dtype=np.float64))
    return _grouped_top(labels, {t("decode.chart.original"): (p0, COLORS["others"]), t("decode.chart.final"): (p1, COLORS["prob"])},
                        top, t("decode.chart.probability"), 360)


def samples(labels: Sequence[str], probs: ArrayLike, counts: ArrayLike, top: int = 20) -> go.Figure:
    """Observed sample frequencies over the expected probabilities: top ``top`` plus others."""
    p = np.asarray(probs, dtype=np.float64)
    c = np.asarray(counts, dtype=np.float64)
    observed = c / (c.sum() or 1.0)
    return _grouped_top(labels, {t("decode.chart.expected"): (p, COLORS["others"]), t("decode.chart.observed"): (observed, COLORS["argmax"])},
                        top, t("decode.chart.frequency"), 340)


# ----------------------------------------------------- stability and losses ----


def exp_ranges(logits: ArrayLike) -> go.Figure:
    """Each float type's safe range for ``exp`` (no overflow, no underflow to 0), with the logits marked."""
    from logitsviz.explain import DTYPES, exp_limits

    z = np.asarray(logits, dtype=np.float64).ravel()
    z = z[np.isfinite(z)]
    if z.size > 2000:  # enough to show where the values sit
        z = np.sort(z)[np.linspace(0, z.size - 1, 2000).astype(int)]
    names = [np.dtype(d).name for d in DTYPES]
    fig = go.Figure()
    for name, dtype in zip(names, DTYPES):
        over, under = exp_limits(dtype)
        fig.add_trace(go.Scatter(x=[under, over], y=[name, name], mode="lines", line=dict(color=COLORS["prob"], width=14),
                                 hovertemplate=t("stab.chart.range_hover", low=f"{under:.2f}", high=f"{over:.2f}") + "<extra></extra>"))
        for x, label, side in ((over, f"{over:.2f}", "left"), (under, f"{under:.2f}", "right")):
            # each label sits outside its end of the bar so short ranges (float16) stay readable
            fig.add_annotation(x=x, y=name, text=label, showarrow=False, yshift=16, xanchor=side, font=dict(size=10, color="#555"))
        bad = (z > over) | (z < under)
        fig.add_trace(go.Scatter(x=z, y=[name] * z.size, mode="markers",
                                 marker=dict(color=[COLORS["argmax"] if b else "#1F2733" for b in bad], size=9, symbol="line-ns-open",
                                             line=dict(width=2)),
                                 hovertemplate="z = %{x:.4g}<extra></extra>"))
    lo = min(float(z.min()) if z.size else 0.0, -760.0)
    hi = max(float(z.max()) if z.size else 0.0, 720.0)
    fig.update_layout(height=230, margin=dict(l=8, r=8, t=10, b=30), showlegend=False)
    fig.update_xaxes(range=[lo - 0.03 * (hi - lo), hi + 0.03 * (hi - lo)], zeroline=True, gridcolor=COLORS["grid"], title=t("stab.chart.axis"))
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=names[::-1])
    return fig


def gradient(labels: Sequence[str], grad: ArrayLike, target: int, top: int = 20) -> go.Figure:
    """The cross-entropy gradient per class: negative (pushed up) for the true class, positive for the rest."""
    from logitsviz.explain import top_indices

    g = np.asarray(grad, dtype=np.float64)
    idx = top_indices(np.abs(g), top)
    if target not in idx:
        idx = np.append(idx[: max(top - 1, 0)], target)
    idx = np.sort(idx)
    names = _names(labels, idx)
    colors = [COLORS["argmax"] if i == target else COLORS["logit"] for i in idx]
    fig = go.Figure(go.Bar(x=names, y=g[idx], marker_color=colors, hovertemplate="%{x}<br>∂L/∂z = %{y:.4f}<extra></extra>"))
    fig.add_hline(y=0, line=dict(color="#888", width=1))
    fig.update_layout(height=300, margin=dict(l=8, r=8, t=10, b=8), showlegend=False, bargap=0.25)
    fig.update_xaxes(type="category", tickangle=-45, automargin=True)
    fig.update_yaxes(gridcolor=COLORS["grid"], title="∂L/∂z")
    return fig


def loss_curve(grid: ArrayLike, losses: ArrayLike, current: float, current_loss: float, x_title: str) -> go.Figure:
    """A loss as one logit moves, with the present value marked."""
    fig = go.Figure(go.Scatter(x=np.asarray(grid), y=np.asarray(losses), mode="lines", line=dict(color=COLORS["logit"], width=3),
                               hovertemplate="z = %{x:.2f}<br>L = %{y:.4f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=[current], y=[current_loss], mode="markers", marker=dict(color=COLORS["argmax"], size=12),
                             hovertemplate="z = %{x:.2f}<br>L = %{y:.4f}<extra></extra>"))
    fig.update_layout(height=300, margin=dict(l=8, r=8, t=10, b=8), showlegend=False)
    fig.update_xaxes(title=x_title, gridcolor=COLORS["grid"])
    fig.update_yaxes(title="L", gridcolor=COLORS["grid"], rangemode="tozero")
    return fig


def grouped(labels: Sequence[str], series: dict[str, ArrayLike], y_title: str, top: int = 20, colors: Sequence[str] | None = None) -> go.Figure:
    """Grouped bars of a few per-class series (e.g. sigmoid vs softmax), the top ``top`` classes of the first."""
    from logitsviz.explain import top_indices

    first = np.asarray(next(iter(series.values())), dtype=np.float64)
    idx = np.sort(top_indices(first, top))
    names = _names(labels, idx)
    palette = colors or [COLORS["logit"], COLORS["prob"], COLORS["argmax"]]
    fig = go.Figure([
        go.Bar(x=names, y=np.asarray(v, dtype=np.float64)[idx], name=k, marker_color=palette[i % len(palette)],
               hovertemplate="%{x}<br>%{y:.4f}<extra>" + html.escape(k) + "</extra>")
        for i, (k, v) in enumerate(series.items())
    ])
    fig.update_layout(barmode="group", height=320, margin=dict(l=8, r=8, t=30, b=8), bargap=0.2,
                      legend=dict(orientation="h", y=1.02, x=1, xanchor="right", yanchor="bottom"))
    fig.update_xaxes(type="category", tickangle=-45, automargin=True)
    fig.update_yaxes(gridcolor=COLORS["grid"], title=y_title)
    return fig


def heatmap(matrix: ArrayLike, x_title: str, y_title: str) -> go.Figure:
    """A matrix of probabilities (rows sum to 1), the diagonal being the positive pairs."""
    m = np.asarray(matrix, dtype=np.float64)
    ticks = [str(i) for i in range(m.shape[0])]
    fig = go.Figure(go.Heatmap(z=m, x=ticks, y=ticks, colorscale="Blues", zmin=0, zmax=1,
                               hovertemplate=y_title + " %{y}, " + x_title + " %{x}<br>p = %{z:.3f}<extra></extra>"))
    fig.update_layout(height=360, margin=dict(l=8, r=8, t=10, b=8))
    fig.update_xaxes(title=x_title, type="category")
    fig.update_yaxes(title=y_title, type="category", autorange="reversed", scaleanchor="x")
    return fig


def digit(image: ArrayLike) -> go.Figure:
    """An 8x8 digit as a small grey picture."""
    img = np.asarray(image, dtype=np.float64)
    fig = go.Figure(go.Heatmap(z=img, colorscale="Greys", zmin=0, zmax=16, showscale=False, hoverinfo="skip"))
    fig.update_layout(height=140, width=140, margin=dict(l=0, r=0, t=0, b=0))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    return fig


# ------------------------------------------------------------- calibration ----


def reliability_from_bins(bins, title: str = "") -> go.Figure:
    """A reliability diagram: accuracy per confidence bin as bars, the gap to the diagonal in red."""
    lo, hi = bins.edges[:-1], bins.edges[1:]
    centers, widths = (lo + hi) / 2, (hi - lo)
    filled = bins.count > 0
    acc = np.where(filled, bins.accuracy, 0.0)
    conf = np.where(filled, bins.confidence, 0.0)
    fig = go.Figure()
    fig.add_trace(go.Bar(
        x=centers, y=acc, width=widths * 0.95, marker_color=COLORS["logit"], name=t("cal.chart.accuracy"),
        customdata=np.stack([bins.count, conf, lo, hi], axis=1),
        hovertemplate=t("cal.chart.bin_hover") + "<extra></extra>",
    ))
    fig.add_trace(go.Bar(
        x=centers[filled], y=(conf - acc)[filled], base=acc[filled], width=widths[filled] * 0.95,
        marker=dict(color="rgba(224,80,63,0.35)", line=dict(color="rgba(224,80,63,0.9)", width=1)),
        name=t("cal.chart.gap"), hovertemplate=t("cal.chart.gap_hover") + "<extra></extra>",
    ))
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(color="#555", dash="dash"), name=t("cal.chart.perfect"),
                             hoverinfo="skip"))
    fig.update_layout(
        title=dict(text=title, font=dict(size=14), x=0, xanchor="left"), barmode="overlay", height=360,
        margin=dict(l=8, r=8, t=40 if title else 10, b=8), legend=dict(orientation="h", y=-0.22, x=0), bargap=0,
    )
    fig.update_xaxes(range=[0, 1], title=t("cal.chart.confidence"), gridcolor=COLORS["grid"])
    fig.update_yaxes(range=[0, 1], title=t("cal.chart.accuracy"), gridcolor=COLORS["grid"])
    return fig


def reliability(logits: ArrayLike, labels: ArrayLike, n_bins: int = 15, strategy: str = "uniform",
                temperature: float = 1.0, title: str = "") -> go.Figure:
    """The reliability diagram of an evaluation set (see :func:`logitsviz.calibration.reliability_bins`)."""
    from logitsviz import calibration

    return reliability_from_bins(calibration.reliability_bins(logits, labels, n_bins, strategy, temperature=temperature), title)


def confidence_histogram(confidence: ArrayLike, correct: ArrayLike, n_bins: int = 20) -> go.Figure:
    """How confident the model is, split into right and wrong predictions."""
    conf = np.asarray(confidence, dtype=np.float64)
    ok = np.asarray(correct, dtype=bool)
    edges = np.linspace(0, 1, n_bins + 1)
    right = np.histogram(conf[ok], edges)[0]
    wrong = np.histogram(conf[~ok], edges)[0]
    centers = (edges[:-1] + edges[1:]) / 2
    fig = go.Figure([
        go.Bar(x=centers, y=right, width=1 / n_bins * 0.95, name=t("cal.chart.right"), marker_color=COLORS["prob"],
               hovertemplate="%{y}<extra>" + t("cal.chart.right") + "</extra>"),
        go.Bar(x=centers, y=wrong, width=1 / n_bins * 0.95, name=t("cal.chart.wrong"), marker_color=COLORS["argmax"],
               hovertemplate="%{y}<extra>" + t("cal.chart.wrong") + "</extra>"),
    ])
    fig.update_layout(barmode="stack", height=300, margin=dict(l=8, r=8, t=10, b=8), legend=dict(orientation="h", y=1.08, x=0))
    fig.update_xaxes(range=[0, 1], title=t("cal.chart.confidence"), gridcolor=COLORS["grid"])
    fig.update_yaxes(title=t("cal.chart.count"), gridcolor=COLORS["grid"])
    return fig


def per_class_accuracy(count: ArrayLike, accuracy: ArrayLike, labels: Sequence[str] | None = None) -> go.Figure:
    """Accuracy (recall) per true class."""
    acc = np.asarray(accuracy, dtype=np.float64)
    n = np.asarray(count)
    names = [safe_label(x) for x in labels] if labels is not None else [str(i) for i in range(acc.size)]
    fig = go.Figure(go.Bar(x=names, y=np.nan_to_num(acc), marker_color=COLORS["logit"], customdata=n,
                           hovertemplate="%{x}<br>" + t("cal.chart.accuracy") + " %{y:.3f}<br>n = %{customdata}<extra></extra>"))
    fig.update_layout(height=300, margin=dict(l=8, r=8, t=10, b=8))
    fig.update_xaxes(type="category", title=t("cal.chart.class"))
    fig.update_yaxes(range=[0, 1.02], title=t("cal.chart.accuracy"), gridcolor=COLORS["grid"])
    return fig


def temperature_curve(temperatures: ArrayLike, nll: ArrayLike, ece: ArrayLike, fitted: float, current: float) -> go.Figure:
    """NLL and ECE against the temperature, the NLL optimum and the chosen T marked."""
    temps = np.asarray(temperatures, dtype=np.float64)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=temps, y=nll, mode="lines", name="NLL", line=dict(color=COLORS["logit"], width=3),
                             hovertemplate="T = %{x:.3f}<br>NLL = %{y:.4f}<extra></extra>"), secondary_y=False)
    fig.add_trace(go.Scatter(x=temps, y=ece, mode="lines", name="ECE", line=dict(color=COLORS["argmax"], width=2, dash="dot"),
                             hovertemplate="T = %{x:.3f}<br>ECE = %{y:.4f}<extra></extra>"), secondary_y=True)
    fig.add_vline(x=fitted, line=dict(color=COLORS["prob"], width=2), annotation_text=t("cal.chart.fitted", T=f"{fitted:.3f}"),
                  annotation_position="top right")
    if abs(current - fitted) > 1e-9:
        fig.add_vline(x=current, line=dict(color="#888", dash="dash"), annotation_text=f"T = {current:.2f}", annotation_position="bottom right")
    fig.update_layout(height=330, margin=dict(l=8, r=8, t=10, b=8), legend=dict(orientation="h", y=1.1, x=0))
    fig.update_xaxes(type="log", title="T", gridcolor=COLORS["grid"])
    fig.update_yaxes(title_text="NLL", secondary_y=False, gridcolor=COLORS["grid"])
    fig.update_yaxes(title_text="ECE", secondary_y=True, showgrid=False)
    return fig
