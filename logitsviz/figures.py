"""Plotly figures: data in, ``go.Figure`` out; nothing is displayed or modified.

Labels are user text: they are HTML-escaped before plotly sees them (plotly
reads a small subset of HTML in text), so a class named ``<b>x</b>`` shows
exactly that.

Figures are written as plain plotly JSON (trace and layout dicts) and wrapped
in a ``go.Figure`` without plotly's property-by-property validation: building
one takes about a millisecond instead of ten, which is most of what a page
re-run costs. The test suite checks every figure against plotly's schema
(``tests/test_figures.py``), so a misspelt property still fails loudly.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from numpy.typing import ArrayLike

from logitsviz.explain import SoftmaxSteps, softmax_steps
from logitsviz.i18n import t

__all__ = [
    "COLORS",
    "compare",
    "compare_steps",
    "confidence_histogram",
    "decoding",
    "digit",
    "digit_pixels",
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


def _panel_title(key: str) -> str:
    """A panel's title from the catalogue: ``<key>_head`` over ``<key>_sub`` in smaller grey type (our strings only)."""
    return f"{t(key + '_head')}<br><span style=\"font-size:11px;color:#6b7280\">{t(key + '_sub')}</span>"


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


def _figure(data: list[dict], layout: dict) -> go.Figure:
    """A ``go.Figure`` of plain trace and layout dicts, not validated again (see the module docstring)."""
    return go.Figure(data=data, layout=layout, _validate=False)


def _hline(y: float, line: dict, text: str | None = None, position: str = "top right") -> tuple[dict, dict | None]:
    """A horizontal rule across the plot at ``y`` (a shape) and its label (an annotation)."""
    shape = dict(type="line", xref="x domain", x0=0, x1=1, yref="y", y0=y, y1=y, line=line)
    if text is None:
        return shape, None
    vertical, horizontal = position.split()
    note = dict(text=text, showarrow=False, xref="x domain", x=1 if horizontal == "right" else 0, xanchor=horizontal,
                yref="y", y=y, yanchor="bottom" if vertical == "top" else "top")
    return shape, note


def _vline(x: float, line: dict, text: str | None = None, position: str = "top right", *, log_x: bool = False) -> tuple[dict, dict | None]:
    """A vertical rule at ``x`` and its label. On a log axis an annotation's x is given in log10 units (plotly's rule)."""
    shape = dict(type="line", xref="x", x0=x, x1=x, yref="y domain", y0=0, y1=1, line=line)
    if text is None:
        return shape, None
    vertical, horizontal = position.split()
    note = dict(text=text, showarrow=False, xref="x", x=float(np.log10(x)) if log_x else x, xanchor="left" if horizontal == "right" else "right",
                yref="y domain", y=1 if vertical == "top" else 0, yanchor=vertical)
    return shape, note


def _rules(layout: dict, *rules: tuple[dict, dict | None]) -> dict:
    """Add rules (shape, annotation) made by :func:`_hline` / :func:`_vline` to ``layout``."""
    for shape, note in rules:
        layout.setdefault("shapes", []).append(shape)
        if note is not None:
            layout.setdefault("annotations", []).append(note)
    return layout


def _hover(template: str) -> str:
    """A hover template with plotly's trace-name box hidden."""
    return template + "<extra></extra>"


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
    bar = dict(type="bar", y=names, orientation="h", textposition="outside", cliponaxis=False, hoverinfo="text")
    data = [
        dict(bar, x=plot_logits, marker=dict(color=colors_l), text=[_fmt(v, 2) if show_text else "" for v in logit_vals],
             hovertext=hover_l, name=t("fig.logits_title"), xaxis="x", yaxis="y"),
        dict(bar, x=prob_vals, marker=dict(color=colors_p), text=[f"{100 * v:.1f}%" if show_text else "" for v in prob_vals],
             hovertext=hover_p, name=t("fig.probs_title"), xaxis="x2", yaxis="y2"),
    ]
    finite = [v for v in plot_logits if v is not None]
    lo, hi = (min(finite + [0.0]), max(finite + [0.0])) if finite else (0.0, 1.0)
    pad = 0.18 * (hi - lo or 1.0)
    # two panels side by side sharing one category axis (what make_subplots(1, 2, shared_yaxes=True) lays out)
    y_axis = dict(type="category", autorange="reversed", automargin=True, domain=[0.0, 1.0])
    # each title starts at its panel's left edge, on two short lines: one centred line each ran into the other on a phone
    title = dict(showarrow=False, xref="paper", yref="paper", y=1.0, xanchor="left", yanchor="bottom", align="left",
                 font=dict(size=13))
    layout = dict(
        xaxis=dict(anchor="y", domain=[0.0, 0.48], range=[lo - (pad if lo < 0 else 0), hi + pad], zeroline=True, zerolinecolor="#888",
                   gridcolor=COLORS["grid"]),
        yaxis=dict(y_axis, anchor="x"),
        xaxis2=dict(anchor="y2", domain=[0.52, 1.0], range=[0, min(1.0, max(prob_vals) * 1.22 + 0.02)], tickformat=".0%",
                    gridcolor=COLORS["grid"]),
        yaxis2=dict(y_axis, anchor="x2", matches="y", showticklabels=False),
        annotations=[dict(title, text=_panel_title("fig.logits"), x=0.0), dict(title, text=_panel_title("fig.probs"), x=0.52)],
        height=max(260, 70 + 26 * len(names)),
        margin=dict(l=8, r=24, t=52, b=24),
        showlegend=False,
        bargap=0.25,
        uniformtext=dict(minsize=9, mode="hide"),
    )
    return _figure(data, layout)


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


_LEGEND_TOP_RIGHT = dict(orientation="h", y=1.02, x=1, xanchor="right", yanchor="bottom")
_CATEGORY_X = dict(type="category", tickangle=-45, automargin=True)


def _small_layout(title: str, n_bars: int, **extra) -> dict:
    layout = dict(
        title=dict(text=title, font=dict(size=13), x=0, xanchor="left"),
        height=max(220, 90 + 14 * n_bars) if n_bars > 12 else 260,
        margin=dict(l=8, r=8, t=36, b=8),
        showlegend=False,
        bargap=0.2,
        xaxis=_CATEGORY_X,
        yaxis=dict(gridcolor=COLORS["grid"], automargin=True),
    )
    layout.update(extra)
    return layout


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
        data = [
            dict(type="bar", x=names, y=p_in[idx], marker=dict(color=COLORS["others"]), name=t("decode.chart.before"),
                 hovertemplate="%{x}<br>p = %{y:.4f}<extra>" + t("decode.chart.before") + "</extra>"),
            dict(type="bar", x=names, y=p_out[idx], marker=dict(color=COLORS["prob"]), name=t("decode.chart.after"),
                 hovertemplate="%{x}<br>p = %{y:.4f}<extra>" + t("decode.chart.after") + "</extra>"),
        ]
        return _figure(data, _small_layout(title, len(idx), barmode="group", showlegend=True, legend=_LEGEND_TOP_RIGHT))

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
    data = [dict(type="bar", x=names, y=y, marker=dict(color=colors), hovertemplate=_hover(hover))]
    layout = _small_layout(title, len(names))

    threshold = sampling.stage_threshold(stage)
    rule = dict(color=LINE, dash="dash")
    if stage.name in ("top_p", "typical_p"):
        cumulative = np.cumsum(values[order])
        data.append(dict(type="scatter", x=names[: len(order)], y=cumulative, mode="lines+markers", line=dict(color=LINE, width=2),
                         marker=dict(size=4), hovertemplate=_hover(t("decode.chart.cumulative"))))
        _rules(layout, _hline(threshold, rule, f"p = {threshold:g}"))
    elif stage.name in ("min_p", "epsilon", "eta", "top_n_sigma"):
        _rules(layout, _hline(threshold, rule, t("decode.chart.threshold", value=f"{threshold:.3g}")))
    elif stage.name == "top_k":
        k = int(threshold)
        if k < len(order):
            _rules(layout, _vline(k - 0.5, rule, f"k = {k}"))
    if stage.name == "top_n_sigma":
        finite_y = [v for v in y if np.isfinite(v)]
        lo = min([*finite_y, threshold])
        layout["yaxis"] = dict(layout["yaxis"], range=[lo - 0.5, max(finite_y) + 0.5])
    return _figure(data, layout)


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
    data = []
    for name, (values, color) in series.items():
        y = values[idx].tolist() + ([float(values[rest].sum())] if rest is not None else [])
        data.append(dict(type="bar", x=names, y=y, name=name, marker=dict(color=color),
                         hovertemplate="%{x}<br>%{y:.4f}<extra>" + html.escape(name) + "</extra>"))
    layout = dict(barmode="group", height=height, margin=dict(l=8, r=8, t=30, b=8), legend=_LEGEND_TOP_RIGHT, bargap=0.2,
                  xaxis=_CATEGORY_X, yaxis=dict(gridcolor=COLORS["grid"], title=dict(text=y_title)))
    return _figure(data, layout)


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
    data, notes = [], []
    for name, dtype in zip(names, DTYPES):
        over, under = exp_limits(dtype)
        data.append(dict(type="scatter", x=[under, over], y=[name, name], mode="lines", line=dict(color=COLORS["prob"], width=14),
                         hovertemplate=_hover(t("stab.chart.range_hover", low=f"{under:.2f}", high=f"{over:.2f}"))))
        for x, label, side in ((over, f"{over:.2f}", "left"), (under, f"{under:.2f}", "right")):
            # each label sits outside its end of the bar so short ranges (float16) stay readable
            notes.append(dict(x=x, y=name, text=label, showarrow=False, yshift=16, xanchor=side, font=dict(size=10, color="#555")))
        bad = (z > over) | (z < under)
        data.append(dict(type="scatter", x=z, y=[name] * z.size, mode="markers",
                         marker=dict(color=[COLORS["argmax"] if b else "#1F2733" for b in bad], size=9, symbol="line-ns-open",
                                     line=dict(width=2)),
                         hovertemplate=_hover("z = %{x:.4g}")))
    lo = min(float(z.min()) if z.size else 0.0, -760.0)
    hi = max(float(z.max()) if z.size else 0.0, 720.0)
    layout = dict(
        height=230, margin=dict(l=8, r=8, t=10, b=30), showlegend=False, annotations=notes,
        xaxis=dict(range=[lo - 0.03 * (hi - lo), hi + 0.03 * (hi - lo)], zeroline=True, gridcolor=COLORS["grid"],
                   title=dict(text=t("stab.chart.axis"))),
        yaxis=dict(type="category", categoryorder="array", categoryarray=names[::-1]),
    )
    return _figure(data, layout)


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
    data = [dict(type="bar", x=names, y=g[idx], marker=dict(color=colors), hovertemplate=_hover("%{x}<br>∂L/∂z = %{y:.4f}"))]
    layout = dict(height=300, margin=dict(l=8, r=8, t=10, b=8), showlegend=False, bargap=0.25,
                  xaxis=_CATEGORY_X, yaxis=dict(gridcolor=COLORS["grid"], title=dict(text="∂L/∂z")))
    return _figure(data, _rules(layout, _hline(0, dict(color="#888", width=1))))


def loss_curve(grid: ArrayLike, losses: ArrayLike, current: float, current_loss: float, x_title: str) -> go.Figure:
    """A loss as one logit moves, with the present value marked."""
    hover = _hover("z = %{x:.2f}<br>L = %{y:.4f}")
    data = [
        dict(type="scatter", x=np.asarray(grid), y=np.asarray(losses), mode="lines", line=dict(color=COLORS["logit"], width=3),
             hovertemplate=hover),
        dict(type="scatter", x=[current], y=[current_loss], mode="markers", marker=dict(color=COLORS["argmax"], size=12),
             hovertemplate=hover),
    ]
    layout = dict(height=300, margin=dict(l=8, r=8, t=10, b=8), showlegend=False,
                  xaxis=dict(title=dict(text=x_title), gridcolor=COLORS["grid"]),
                  yaxis=dict(title=dict(text="L"), gridcolor=COLORS["grid"], rangemode="tozero"))
    return _figure(data, layout)


def grouped(labels: Sequence[str], series: dict[str, ArrayLike], y_title: str, top: int = 20, colors: Sequence[str] | None = None) -> go.Figure:
    """Grouped bars of a few per-class series (e.g. sigmoid vs softmax), the top ``top`` classes of the first."""
    from logitsviz.explain import top_indices

    first = np.asarray(next(iter(series.values())), dtype=np.float64)
    idx = np.sort(top_indices(first, top))
    names = _names(labels, idx)
    palette = colors or [COLORS["logit"], COLORS["prob"], COLORS["argmax"]]
    data = [
        dict(type="bar", x=names, y=np.asarray(v, dtype=np.float64)[idx], name=k, marker=dict(color=palette[i % len(palette)]),
             hovertemplate="%{x}<br>%{y:.4f}<extra>" + html.escape(k) + "</extra>")
        for i, (k, v) in enumerate(series.items())
    ]
    layout = dict(barmode="group", height=320, margin=dict(l=8, r=8, t=30, b=8), bargap=0.2, legend=_LEGEND_TOP_RIGHT,
                  xaxis=_CATEGORY_X, yaxis=dict(gridcolor=COLORS["grid"], title=dict(text=y_title)))
    return _figure(data, layout)


def heatmap(matrix: ArrayLike, x_title: str, y_title: str) -> go.Figure:
    """A matrix of probabilities (rows sum to 1), the diagonal being the positive pairs."""
    m = np.asarray(matrix, dtype=np.float64)
    ticks = [str(i) for i in range(m.shape[0])]
    data = [dict(type="heatmap", z=m, x=ticks, y=ticks, colorscale="Blues", zmin=0, zmax=1,
                 hovertemplate=_hover(y_title + " %{y}, " + x_title + " %{x}<br>p = %{z:.3f}"))]
    layout = dict(height=360, margin=dict(l=8, r=8, t=10, b=8), xaxis=dict(title=dict(text=x_title), type="category"),
                  yaxis=dict(title=dict(text=y_title), type="category", autorange="reversed", scaleanchor="x"))
    return _figure(data, layout)


def digit(image: ArrayLike) -> go.Figure:
    """An 8x8 digit as a small grey picture."""
    img = np.asarray(image, dtype=np.float64)
    data = [dict(type="heatmap", z=img, colorscale="Greys", zmin=0, zmax=16, showscale=False, hoverinfo="skip")]
    layout = dict(height=140, width=140, margin=dict(l=0, r=0, t=0, b=0), xaxis=dict(visible=False),
                  yaxis=dict(visible=False, autorange="reversed", scaleanchor="x"))
    return _figure(data, layout)


def digit_pixels(image: ArrayLike, scale: int = 9) -> np.ndarray:
    """An 8x8 digit (values 0-16) as a grey picture for ``st.image``: ink dark on white, each cell ``scale`` pixels.

    Cheaper than a chart where many digits are listed; the cells are
    repeated, not interpolated, so the picture stays sharp.

    >>> digit_pixels(np.eye(8) * 16, scale=1)[0, :3]
    array([  0, 255, 255], dtype=uint8)
    """
    img = np.clip(np.nan_to_num(np.asarray(image, dtype=np.float64)), 0, 16)
    grey = np.rint(255 - img * (255 / 16)).astype(np.uint8)
    return np.kron(grey, np.ones((scale, scale), dtype=np.uint8))


# ------------------------------------------------------------- calibration ----


def reliability_from_bins(bins, title: str = "") -> go.Figure:
    """A reliability diagram: accuracy per confidence bin as bars, the gap to the diagonal in red."""
    lo, hi = bins.edges[:-1], bins.edges[1:]
    centers, widths = (lo + hi) / 2, (hi - lo)
    filled = bins.count > 0
    acc = np.where(filled, bins.accuracy, 0.0)
    conf = np.where(filled, bins.confidence, 0.0)
    data = [
        dict(type="bar", x=centers, y=acc, width=widths * 0.95, marker=dict(color=COLORS["logit"]), name=t("cal.chart.accuracy"),
             customdata=np.stack([bins.count, conf, lo, hi], axis=1), hovertemplate=_hover(t("cal.chart.bin_hover"))),
        dict(type="bar", x=centers[filled], y=(conf - acc)[filled], base=acc[filled].tolist(), width=widths[filled] * 0.95,
             marker=dict(color="rgba(224,80,63,0.35)", line=dict(color="rgba(224,80,63,0.9)", width=1)),
             name=t("cal.chart.gap"), hovertemplate=_hover(t("cal.chart.gap_hover"))),
        dict(type="scatter", x=[0, 1], y=[0, 1], mode="lines", line=dict(color="#555", dash="dash"), name=t("cal.chart.perfect"),
             hoverinfo="skip"),
    ]
    layout = dict(
        title=dict(text=title, font=dict(size=14), x=0, xanchor="left"), barmode="overlay", height=360,
        margin=dict(l=8, r=8, t=40 if title else 10, b=8), legend=dict(orientation="h", y=-0.22, x=0), bargap=0,
        xaxis=dict(range=[0, 1], title=dict(text=t("cal.chart.confidence")), gridcolor=COLORS["grid"]),
        yaxis=dict(range=[0, 1], title=dict(text=t("cal.chart.accuracy")), gridcolor=COLORS["grid"]),
    )
    return _figure(data, layout)


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
    data = [
        dict(type="bar", x=centers, y=right, width=1 / n_bins * 0.95, name=t("cal.chart.right"), marker=dict(color=COLORS["prob"]),
             hovertemplate="%{y}<extra>" + t("cal.chart.right") + "</extra>"),
        dict(type="bar", x=centers, y=wrong, width=1 / n_bins * 0.95, name=t("cal.chart.wrong"), marker=dict(color=COLORS["argmax"]),
             hovertemplate="%{y}<extra>" + t("cal.chart.wrong") + "</extra>"),
    ]
    layout = dict(barmode="stack", height=300, margin=dict(l=8, r=8, t=10, b=8), legend=dict(orientation="h", y=1.08, x=0),
                  xaxis=dict(range=[0, 1], title=dict(text=t("cal.chart.confidence")), gridcolor=COLORS["grid"]),
                  yaxis=dict(title=dict(text=t("cal.chart.count")), gridcolor=COLORS["grid"]))
    return _figure(data, layout)


def per_class_accuracy(count: ArrayLike, accuracy: ArrayLike, labels: Sequence[str] | None = None) -> go.Figure:
    """Accuracy (recall) per true class."""
    acc = np.asarray(accuracy, dtype=np.float64)
    n = np.asarray(count)
    names = [safe_label(x) for x in labels] if labels is not None else [str(i) for i in range(acc.size)]
    data = [dict(type="bar", x=names, y=np.nan_to_num(acc), marker=dict(color=COLORS["logit"]), customdata=n,
                 hovertemplate=_hover("%{x}<br>" + t("cal.chart.accuracy") + " %{y:.3f}<br>n = %{customdata}"))]
    layout = dict(height=300, margin=dict(l=8, r=8, t=10, b=8), xaxis=dict(type="category", title=dict(text=t("cal.chart.class"))),
                  yaxis=dict(range=[0, 1.02], title=dict(text=t("cal.chart.accuracy")), gridcolor=COLORS["grid"]))
    return _figure(data, layout)


def temperature_curve(temperatures: ArrayLike, nll: ArrayLike, ece: ArrayLike, fitted: float, current: float) -> go.Figure:
    """NLL and ECE against the temperature (log axis), the NLL optimum and the chosen T marked."""
    temps = np.asarray(temperatures, dtype=np.float64)
    data = [
        dict(type="scatter", x=temps, y=nll, mode="lines", name="NLL", line=dict(color=COLORS["logit"], width=3),
             hovertemplate=_hover("T = %{x:.3f}<br>NLL = %{y:.4f}"), xaxis="x", yaxis="y"),
        dict(type="scatter", x=temps, y=ece, mode="lines", name="ECE", line=dict(color=COLORS["argmax"], width=2, dash="dot"),
             hovertemplate=_hover("T = %{x:.3f}<br>ECE = %{y:.4f}"), xaxis="x", yaxis="y2"),
    ]
    # a second y axis on the right (what make_subplots(specs=[[{"secondary_y": True}]]) lays out)
    layout = dict(
        height=330, margin=dict(l=8, r=8, t=10, b=8), legend=dict(orientation="h", y=1.1, x=0),
        xaxis=dict(anchor="y", domain=[0.0, 0.94], type="log", title=dict(text="T"), gridcolor=COLORS["grid"]),
        yaxis=dict(anchor="x", domain=[0.0, 1.0], title=dict(text="NLL"), gridcolor=COLORS["grid"]),
        yaxis2=dict(anchor="x", overlaying="y", side="right", title=dict(text="ECE"), showgrid=False, tickmode="auto"),
    )
    # labelled temperatures people read easily, instead of log-axis digits ("5 6 7 8 9 1 2")
    ticks = [v for v in _NICE_TEMPERATURES if temps.min() * 0.999 <= v <= temps.max() * 1.001] if temps.size else []
    if len(ticks) >= 2:
        layout["xaxis"].update(tickvals=ticks, ticktext=[f"{v:g}" for v in ticks])
    # both labels at the top, each on the side of its line away from the other line
    fitted_side, current_side = ("top right", "top left") if fitted >= current else ("top left", "top right")
    rules = [_vline(fitted, dict(color=COLORS["prob"], width=2), t("cal.chart.fitted", T=f"{fitted:.3f}"), fitted_side, log_x=True)]
    if abs(current - fitted) > 1e-9:
        rules.append(_vline(current, dict(color="#888", dash="dash"), f"T = {current:.2f}", current_side, log_x=True))
    return _figure(data, _rules(layout, *rules))


_NICE_TEMPERATURES = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 7.0, 10.0, 20.0, 50.0, 100.0)
