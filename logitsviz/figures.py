"""Plotly figures: view models or plain arrays in, ``go.Figure`` out; nothing is computed, displayed or modified.

Every number drawn here comes from :mod:`logitsviz.explain` (or the caller):
a figure picks colours, labels, axes and lines, never a probability.

Labels are user text: they are HTML-escaped before plotly sees them (plotly
reads a small subset of HTML in text), so a class named ``<b>x</b>`` shows
exactly that.

Figures are written as plain plotly JSON (trace and layout dicts) and wrapped
in a ``go.Figure`` without plotly's property-by-property validation: building
one takes about a millisecond instead of ten, which is most of what a page
re-run costs. plotly offers no public switch for this (``go.Figure(dict)``
and ``st.plotly_chart(dict)`` both validate), so :func:`_figure` is the one
place that passes its ``_validate=False``. It goes one step further: the
figure stays plain dicts until something other than ``to_dict()`` (all that
``st.plotly_chart`` asks) is read from it, which saves the 2 to 4 ms plotly
takes to build and copy even an unvalidated figure. The test suite checks
every figure against plotly's schema and that what is sent equals what the
built figure would send (``tests/test_figures.py``), so a misspelt property
still fails loudly.
"""

from __future__ import annotations

import html
import math
import unicodedata
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from numpy.typing import ArrayLike

from logitsviz import explain
from logitsviz.explain import (
    BarGroups,
    CrossEntropyView,
    ExpRanges,
    GenerationView,
    RowsOverview,
    SampleView,
    SoftmaxSteps,
    StageView,
)
from logitsviz.fmt import number
from logitsviz.i18n import t

__all__ = [
    "COLORS",
    "compare",
    "compare_steps",
    "confidence_histogram",
    "decoding",
    "decoding_bars",
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
    "reliability_curves",
    "reliability_from_bins",
    "risk_coverage",
    "rows_overview",
    "safe_label",
    "samples",
    "smooth_reliability",
    "stage",
    "temperature_curve",
    "token_strip",
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
    """The chart toolbar: one button, PNG export at 2× with a meaningful file name, and no plotly logo.

    A full mode bar (zoom, pan, reset…) sat on top of chart titles and labels
    on a phone; one small button in the corner keeps the export without that.
    """
    return {
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "filename": filename, "scale": 2},
        "modeBarButtons": [["toImage"]],
    }


def _panel_title(key: str, sub: str | None = None) -> str:
    """A panel's title from the catalogue: ``<key>_head`` over ``<key>_sub`` (or ``sub``) in smaller grey type (our strings only)."""
    return f"{t(key + '_head')}<br><span style=\"font-size:11px;color:#6b7280\">{sub or t(key + '_sub')}</span>"


def _logits_title(temperature: float, shift: float) -> str:
    """What the left panel draws: the raw logits, or z = (x + c) / T when a temperature or a shift applies."""
    if temperature == 1.0 and shift == 0.0:
        return _panel_title("fig.logits")
    if shift == 0.0:
        return _panel_title("fig.scaled", t("fig.scaled_sub_t", T=f"{temperature:g}"))
    if temperature == 1.0:
        return _panel_title("fig.scaled", t("fig.scaled_sub_c", c=f"{shift:g}"))
    return _panel_title("fig.scaled", t("fig.scaled_sub_ct", T=f"{temperature:g}", c=f"{shift:g}"))


class _Plain(go.Figure):
    """A ``go.Figure`` that keeps its plain trace and layout dicts and becomes a full figure only when asked.

    ``st.plotly_chart`` only needs ``to_dict()``, which this answers from the
    dicts with the current default template added (what plotly would add), so
    a page's chart costs no plotly object at all. Any other use (``.data``,
    ``.layout``, ``update_layout``…) builds the real figure first, once: an
    attribute a plain ``go.Figure`` has and this one does not yet have is
    looked up after that build (``__getattr__``).
    """

    def __init__(self, data: list[dict], layout: dict) -> None:  # no go.Figure.__init__ until something needs it
        self.__dict__["_plain"] = (data, layout)

    def __getattr__(self, name: str):
        plain = self.__dict__.get("_plain")
        if plain is None or name in ("__deepcopy__", "__getstate__", "__setstate__") or name.startswith("__"):
            raise AttributeError(name)
        del self.__dict__["_plain"]
        go.Figure.__init__(self, data=plain[0], layout=plain[1], _validate=False)
        return getattr(self, name)

    def to_dict(self) -> dict:
        plain = self.__dict__.get("_plain")
        if plain is None:
            return super().to_dict()
        data, layout = plain
        return {"data": _encoded(data), "layout": _encoded(layout) if "template" in layout else {**_encoded(layout), "template": _template()}}

    def __reduce__(self):
        plain = self.__dict__.get("_plain")
        if plain is None:  # built: kept as the dicts it sends
            sent = self.to_dict()
            plain = (sent["data"], sent["layout"])
        return (_Plain, plain)


def _encoded(obj, key: str = ""):
    """``obj`` with its numpy arrays as plotly's base64 typed arrays, as ``go.Figure.to_dict`` sends them (plotly's
    ``convert_to_base64`` on a copy; the dicts given to :func:`_figure` are left as they are)."""
    from _plotly_utils.utils import is_homogeneous_array, is_skipped_key, to_typed_array_spec

    if isinstance(obj, dict):
        return {k: v if is_skipped_key(k) else to_typed_array_spec(v) if is_homogeneous_array(v) else _encoded(v)
                for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_encoded(v) for v in obj]
    return obj


_TEMPLATES: dict[str, dict] = {}


def _template() -> dict:
    """The default plotly template as a dict (Streamlit sets its own as the default), converted once per name."""
    import plotly.io as pio

    name = pio.templates.default
    if not isinstance(name, str):  # a template object set as the default
        return go.layout.Template(name).to_plotly_json()
    if name not in _TEMPLATES:
        _TEMPLATES[name] = pio.templates[name].to_plotly_json()
    return _TEMPLATES[name]


def _figure(data: list[dict], layout: dict) -> go.Figure:
    """A ``go.Figure`` of plain trace and layout dicts, not validated again (see the module docstring)."""
    return _Plain(data, layout)


def _hover(template: str) -> str:
    """A hover template with plotly's trace-name box hidden."""
    return template + "<extra></extra>"


def _names(labels: Sequence[str], index: np.ndarray) -> list[str]:
    """Escaped, shortened labels of the classes at ``index``; plotly needs distinct categories, so repeats get their index."""
    names = [safe_label(labels[i]) for i in index]
    seen: set[str] = set()
    for k, name in enumerate(names):
        if name in seen:
            names[k] = f"{name} #{int(index[k])}"
        seen.add(names[k])
    return names


def _others(k: str, tokens: bool = False) -> str:
    """The merged bar's name: "others (k classes)", or "others (k tokens)" where the bars are a vocabulary's."""
    return t("fig.others_tokens" if tokens else "fig.others", k=k)


# the export button sits in the top right corner (always shown on a touch screen): a legend there was covered
_LEGEND_TOP_LEFT = dict(orientation="h", y=1.02, x=0, xanchor="left", yanchor="bottom")
# under the plot, from the figure's bottom edge up: the margin grows with the legend's rows, so a legend that wraps
# (eight maps in a narrow column, or Chinese names) never runs into the x axis's title, as one placed at y=-0.22 did
_LEGEND_BELOW = dict(orientation="h", yref="container", y=0, yanchor="bottom", x=0)
_CATEGORY_X = dict(type="category", tickangle=-45, automargin=True)
_RULE = dict(color="#E07A3F", dash="dash")


# ----------------------------------------------------------------- explorer ----


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
    return compare_steps(labels, explain.softmax_steps(logits, temperature=temperature, shift=shift, top=top, sort=sort))


def _compare_bars(labels: Sequence[str], steps: SoftmaxSteps, others_label: str | None = None, tokens: bool = False) -> dict[str, list]:
    """Per bar of the two panels: name, logit, probability, colours and hover text; "others" last."""
    names = _names(labels, steps.index)
    bars = dict(
        names=names, logits=steps.z.tolist(), probs=steps.probs.tolist(),
        color_l=[COLORS["argmax"] if i == steps.argmax else COLORS["logit"] for i in steps.index],
        color_p=[COLORS["argmax"] if i == steps.argmax else COLORS["prob"] for i in steps.index],
        hover_l=[t("fig.hover_logit", label=n, value=number(v, 4)) for n, v in zip(names, steps.z.tolist())],
        hover_p=[t("fig.hover_prob", label=n, value=number(v, 4), pct=f"{100 * v:.2f}") for n, v in zip(names, steps.probs.tolist())],
    )
    if steps.others_count:
        k = f"{steps.others_count:,}"
        name = html.escape(others_label, quote=False) if others_label else _others(k, tokens)
        noun = "_tokens" if tokens else ""
        extra = dict(names=name, logits=steps.others_logit, probs=steps.others_prob, color_l=COLORS["others"], color_p=COLORS["others"],
                     hover_l=t(f"fig.hover_others_logit{noun}", k=k, value=number(steps.others_logit, 4)) if not others_label
                     else t("fig.hover_logit", label=name, value=number(steps.others_logit, 4)),
                     hover_p=t(f"fig.hover_others_prob{noun}", k=k, pct=f"{100 * steps.others_prob:.2f}") if not others_label
                     else t("fig.hover_prob", label=name, value=number(steps.others_prob, 4), pct=f"{100 * steps.others_prob:.2f}"))
        for key, value in extra.items():
            bars[key].append(value)
    return bars


def compare_steps(labels: Sequence[str], steps: SoftmaxSteps, others_label: str | None = None, tokens: bool = False) -> go.Figure:
    """The figure of :func:`compare` from already computed :class:`~logitsviz.explain.SoftmaxSteps`.

    Logit bars start where the axis starts (zero when every logit is well
    above it, else just left of the smallest), so the largest logit always has
    the longest bar and close values such as 1000, 999, 998 still differ;
    zero, when it is in view, is a dashed line. The merged "others" entry is a
    different kind of number (the logsumexp of the rest), drawn hatched.
    ``others_label`` names it when it is not "others (k classes)"; ``tokens`` calls
    the bars tokens (a vocabulary's) instead of classes.
    """
    b = _compare_bars(labels, steps, others_label, tokens)
    finite = [v for v in b["logits"] if np.isfinite(v)]
    base, lo, hi = _logit_axis(finite)
    show_text = len(b["names"]) <= _MAX_TEXT_BARS
    merged = [bool(steps.others_count) and i == len(b["names"]) - 1 for i in range(len(b["names"]))]
    # masked classes (-inf) have no bar; plotly cannot draw -inf
    lengths = [v - base if np.isfinite(v) else None for v in b["logits"]]
    text_l = _logit_texts(b["logits"], merged) if show_text else [""] * len(merged)
    pattern = dict(shape=["/" if m else "" for m in merged], fgcolor="#8A93A0", size=6)
    bar = dict(type="bar", y=b["names"], orientation="h", textposition="outside", cliponaxis=False, hoverinfo="text")
    data = [
        # the merged entry's "8.40 (lse)" inside its bar: outside, the longest bar's label ran into the next panel on a phone
        dict(bar, x=lengths, base=base, marker=dict(color=b["color_l"], pattern=pattern), text=text_l, hovertext=b["hover_l"],
             textposition=_text_positions(merged), name=t("fig.logits_title"), xaxis="x", yaxis="y"),
        dict(bar, x=b["probs"], marker=dict(color=b["color_p"], pattern=pattern), text=[f"{100 * v:.1f}%" if show_text else "" for v in b["probs"]],
             hovertext=b["hover_p"], name=t("fig.probs_title"), xaxis="x2", yaxis="y2"),
    ]
    layout = _compare_layout((lo, hi), max(b["probs"]), len(b["names"]), _logits_title(steps.temperature, steps.shift))
    if lo < 0 < hi and base != 0:  # zero in view but not the baseline: mark it
        layout["shapes"] = [dict(type="line", xref="x", x0=0, x1=0, yref="y domain", y0=0, y1=1, line=dict(color="#888", width=1, dash="dot"))]
    return _figure(data, layout)


def _text_positions(merged: list[bool]) -> list[str]:
    return ["inside" if m else "outside" for m in merged]


def _logit_texts(values: list[float], merged: list[bool]) -> list[str]:
    """Each bar's number; the merged entry says it is a logsumexp, not a class's logit."""
    return [number(v, 2) + (" (lse)" if m else "") for v, m in zip(values, merged)]


def _logit_axis(finite: list[float]) -> tuple[float, float, float]:
    """``(base, lo, hi)``: where logit bars start, and the axis range.

    Zero is the base when every logit is at or above it and they differ by
    enough to see from there; otherwise the bars start just left of the
    smallest logit, so order and differences read right whatever the offset.
    """
    if not finite:
        return 0.0, 0.0, 1.0
    smallest, largest = min(finite), max(finite)
    spread = largest - smallest
    pad = 0.15 * (spread or abs(largest) or 1.0)
    if smallest >= 0 and spread > 0.2 * largest:
        return 0.0, 0.0, largest + 1.4 * pad
    base = smallest - pad
    return base, base, largest + 1.4 * pad


def _compare_layout(x_range: tuple[float, float], top_prob: float, n_bars: int, logits_title: str | None = None) -> dict:
    """Two panels side by side sharing one category axis (what make_subplots(1, 2, shared_yaxes=True) lays out)."""
    y_axis = dict(type="category", autorange="reversed", automargin=True, domain=[0.0, 1.0])
    # each title starts at its panel's left edge, on two short lines: one centred line each ran into the other on a phone
    title = dict(showarrow=False, xref="paper", yref="paper", y=1.0, xanchor="left", yanchor="bottom", align="left",
                 font=dict(size=13))
    return dict(
        xaxis=dict(anchor="y", domain=[0.0, 0.48], range=list(x_range), zeroline=False, gridcolor=COLORS["grid"]),
        yaxis=dict(y_axis, anchor="x"),
        xaxis2=dict(anchor="y2", domain=[0.52, 1.0], range=[0, min(1.0, top_prob * 1.22 + 0.02)], tickformat=".0%",
                    gridcolor=COLORS["grid"]),
        yaxis2=dict(y_axis, anchor="x2", matches="y", showticklabels=False),
        annotations=[dict(title, text=logits_title or _panel_title("fig.logits"), x=0.0),
                     dict(title, text=_panel_title("fig.probs"), x=0.52)],
        height=max(260, 70 + 26 * n_bars),
        margin=dict(l=8, r=24, t=52, b=24),
        showlegend=False,
        bargap=0.25,
        uniformtext=dict(minsize=9, mode="hide"),
    )


# ----------------------------------------------------------------- decoding ----

KEPT, REMOVED = "#3A9E8F", "#D5D9E0"


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


def stage(labels: Sequence[str], view: StageView) -> go.Figure:
    """What one decoding stage kept (coloured) and removed (grey), with the threshold its filter applied.

    Bars are in the filter's own order (most likely, most typical or highest
    logit first), with one bar for the rest; temperature shows before and after.
    """
    title = t(f"decode.filter.{view.name}.name")
    names = _names(labels, view.index)
    if view.measures == "none":
        data = [_bars(names, view.values, t("decode.chart.before"), COLORS["others"]),
                _bars(names, view.after, t("decode.chart.after"), COLORS["prob"])]
        # the legend under the bars: beside the title it ran into it in a narrow column
        layout = _small_layout(title, len(names), barmode="group", showlegend=True, legend=_LEGEND_BELOW)
        return _figure(data, layout)
    y = view.values.tolist()
    colors = [KEPT if k else REMOVED for k in view.kept]
    if view.rest_value is not None:
        names.append(_others(f"{view.rest_count:,}", tokens=True))
        y.append(view.rest_value)
        colors.append(KEPT if view.rest_kept else REMOVED)
    hover = t("decode.chart.logit_hover") if view.axis == "logit" else t("decode.chart.prob_hover")
    data = [dict(type="bar", x=names, y=y, marker=dict(color=colors), hovertemplate=_hover(hover))]
    if view.cumulative is not None:
        data.append(dict(type="scatter", x=names[: view.index.size], y=view.cumulative, mode="lines+markers",
                         line=dict(color=_RULE["color"], width=2), marker=dict(size=4),
                         hovertemplate=_hover(t("decode.chart.cumulative"))))
    layout = _small_layout(title, len(names))
    if view.axis == "logit":
        finite_y = [v for v in y if np.isfinite(v)]
        lo = min([*finite_y, view.threshold])
        layout["yaxis"] = dict(layout["yaxis"], range=[lo - 0.5, max(finite_y) + 0.5])
    return _figure(data, {**layout, **_threshold_line(view)})


def _threshold_line(view: StageView) -> dict:
    """The filter's threshold, as the layout's shapes and annotations (what plotly's ``add_hline`` / ``add_vline``
    write, without building the figure): a level for a probability or a logit, a cumulative mass to reach, a count of
    bars."""
    if view.measures == "mass":
        # the cumulative curve ends at the top right, right on the line: the label goes where the curve is not, above
        # the line on the left while the curve starts below it, else under the line on the right
        starts_below = view.cumulative is not None and len(view.cumulative) and view.cumulative[0] < view.threshold
        return _level(view.threshold, f"p = {view.threshold:g}", "left" if starts_below else "right",
                      "bottom" if starts_below else "top")
    if view.measures in ("probability", "logit"):
        return _level(view.threshold, t("decode.chart.threshold", value=f"{view.threshold:.3g}"), "right", "bottom")
    if view.measures == "count" and view.threshold < view.index.size:
        x = view.threshold - 0.5
        return dict(shapes=[dict(type="line", xref="x", x0=x, x1=x, yref="y domain", y0=0, y1=1, line=_RULE)],
                    annotations=[dict(text=f"k = {int(view.threshold)}", showarrow=False, xref="x", x=x, xanchor="left",
                                      yref="y domain", y=1, yanchor="top")])
    return {}


def _level(y: float, text: str, side: str, above: str) -> dict:
    """A horizontal rule across the plot at ``y``, its label at one end, above (``"bottom"`` anchor) or under it."""
    return dict(shapes=[dict(type="line", xref="x domain", x0=0, x1=1, yref="y", y0=y, y1=y, line=_RULE)],
                annotations=[dict(text=text, showarrow=False, xref="x domain", x=0 if side == "left" else 1, xanchor=side,
                                  yref="y", y=y, yanchor=above)])


def _bars(names: list[str], values: ArrayLike, name: str, color: str) -> dict:
    """One series of a grouped bar chart, its name in the hover box."""
    return dict(type="bar", x=names, y=np.asarray(values), name=name, marker=dict(color=color),
                hovertemplate="%{x}<br>%{y:.4f}<extra>" + html.escape(name) + "</extra>")


def grouped(labels: Sequence[str], bars: BarGroups, names: Sequence[str], y_title: str, colors: Sequence[str] | None = None,
            height: int = 320, tokens: bool = False) -> go.Figure:
    """Grouped bars of a few series over the same classes, or ``tokens`` (a :class:`~logitsviz.explain.BarGroups`), "others" last."""
    x = _names(labels, bars.index)
    if bars.rest is not None:
        x.append(_others(f"{bars.rest_count:,}", tokens))
    palette = colors or [COLORS["logit"], COLORS["prob"], COLORS["argmax"]]
    data = [
        _bars(x, [*values.tolist(), *([bars.rest[i]] if bars.rest is not None else [])], name, palette[i % len(palette)])
        for i, (name, values) in enumerate(zip(names, bars.series))
    ]
    # the legend under the bars: above them, the export toolbar a phone always shows covered its last entry
    layout = dict(barmode="group", height=height, margin=dict(l=8, r=8, t=10, b=8), legend=_LEGEND_BELOW, bargap=0.2,
                  xaxis=_CATEGORY_X, yaxis=dict(gridcolor=COLORS["grid"], title=dict(text=y_title)))
    return _figure(data, layout)


def decoding_bars(labels: Sequence[str], bars: BarGroups) -> go.Figure:
    """The distribution before decoding (grey) beside the final, renormalised one (green)."""
    return grouped(labels, bars, [t("decode.chart.original"), t("decode.chart.final")], t("decode.chart.probability"),
                   [COLORS["others"], COLORS["prob"]], 360, tokens=True)


def decoding(labels: Sequence[str], original: ArrayLike, final: ArrayLike, top: int = 20) -> go.Figure:
    """The full distribution before decoding beside the final, renormalised one: top ``top`` plus others."""
    return decoding_bars(labels, explain.decoding_chart(original, final, top))


def samples(labels: Sequence[str], view: SampleView) -> go.Figure:
    """Observed sample frequencies over the expected probabilities: top N plus others."""
    return grouped(labels, view.chart, [t("decode.chart.expected"), t("decode.chart.observed")], t("decode.chart.frequency"),
                   [COLORS["others"], COLORS["argmax"]], 340, tokens=True)


def generation_steps(view: GenerationView) -> go.Figure:
    """Surprise of each generated token and the entropy it was drawn from; mirostat's μ and target τ when it ran."""
    x = list(range(1, view.surprise.size + 1))
    data = [dict(type="scatter", x=x, y=view.surprise, name=t("decode.gen.surprise"), mode="lines+markers",
                 line=dict(color=COLORS["argmax"], width=2), marker=dict(size=5), hovertemplate=_hover("%{y:.2f} bits")),
            dict(type="scatter", x=x, y=view.entropy, name=t("decode.gen.entropy"), mode="lines",
                 line=dict(color=COLORS["others"], width=2, dash="dot"), hovertemplate=_hover("%{y:.2f} bits"))]
    if view.mu is not None:
        data.append(dict(type="scatter", x=x, y=view.mu, name="μ", mode="lines", line=dict(color=COLORS["prob"], width=2),
                         hovertemplate=_hover("μ = %{y:.2f}")))
    layout = dict(height=260, margin=dict(l=8, r=8, t=30, b=30), showlegend=True, legend=_LEGEND_TOP_LEFT,
                  xaxis=dict(title=dict(text=t("decode.gen.axis_step")), gridcolor=COLORS["grid"], dtick=max(1, len(x) // 10)),
                  yaxis=dict(title=dict(text=t("decode.gen.axis_bits")), gridcolor=COLORS["grid"], rangemode="tozero"))
    if view.tau is not None:
        layout.update(_level(view.tau, f"τ = {view.tau:g}", "right", "top"))
    return _figure(data, layout)


# ----------------------------------------------------- stability and losses ----


def exp_ranges(view: ExpRanges) -> go.Figure:
    """Each float type's safe range for ``exp`` (no overflow, no underflow to 0), with the logits marked."""
    z = view.points
    data, notes = [], []
    for name, (under, over), outside in zip(view.dtypes, view.limits, view.outside):
        data.append(dict(type="scatter", x=[under, over], y=[name, name], mode="lines", line=dict(color=COLORS["prob"], width=14),
                         hovertemplate=_hover(t("stab.chart.range_hover", low=f"{under:.2f}", high=f"{over:.2f}"))))
        for x, side in ((over, "left"), (under, "right")):
            # each label sits outside its end of the bar so short ranges (float16) stay readable
            notes.append(dict(x=x, y=name, text=f"{x:.2f}", showarrow=False, yshift=16, xanchor=side, font=dict(size=10, color="#555")))
        data.append(dict(type="scatter", x=z, y=[name] * z.size, mode="markers",
                         marker=dict(color=[COLORS["argmax"] if b else "#1F2733" for b in outside], size=9, symbol="line-ns-open",
                                     line=dict(width=2)),
                         hovertemplate=_hover("z = %{x:.4g}")))
    lo = min(float(z.min()) if z.size else 0.0, -760.0)
    hi = max(float(z.max()) if z.size else 0.0, 720.0)
    layout = dict(
        height=230, margin=dict(l=8, r=8, t=10, b=30), showlegend=False, annotations=notes,
        xaxis=dict(range=[lo - 0.03 * (hi - lo), hi + 0.03 * (hi - lo)], zeroline=True, gridcolor=COLORS["grid"],
                   title=dict(text=t("stab.chart.axis"))),
        yaxis=dict(type="category", categoryorder="array", categoryarray=list(view.dtypes)[::-1]),
    )
    return _figure(data, layout)


def gradient(labels: Sequence[str], view: CrossEntropyView) -> go.Figure:
    """The cross-entropy gradient per class: negative (pushed up) for the true class, positive for the rest."""
    idx = view.grad_index
    colors = [COLORS["argmax"] if i == view.target else COLORS["logit"] for i in idx]
    data = [dict(type="bar", x=_names(labels, idx), y=view.grad[idx], marker=dict(color=colors),
                 hovertemplate=_hover("%{x}<br>∂L/∂z = %{y:.4f}"))]
    layout = dict(height=300, margin=dict(l=8, r=8, t=10, b=8), showlegend=False, bargap=0.25,
                  xaxis=_CATEGORY_X, yaxis=dict(gridcolor=COLORS["grid"], title=dict(text="∂L/∂z"), zeroline=True, zerolinecolor="#888"))
    return _figure(data, layout)


def loss_curve(grid: ArrayLike, losses: ArrayLike, current: float, current_loss: float, x_title: str, *,
               log_x: bool = False) -> go.Figure:
    """A loss as one quantity moves (a logit, or τ on a log axis), with the present value marked."""
    hover = _hover(x_title + " = %{x:.3g}<br>L = %{y:.4f}")
    data = [
        dict(type="scatter", x=np.asarray(grid), y=np.asarray(losses), mode="lines", line=dict(color=COLORS["logit"], width=3),
             hovertemplate=hover),
        dict(type="scatter", x=[current], y=[current_loss], mode="markers", marker=dict(color=COLORS["argmax"], size=12),
             hovertemplate=hover),
    ]
    x_axis = dict(title=dict(text=x_title), gridcolor=COLORS["grid"], type="log" if log_x else "linear")
    g = np.asarray(grid, dtype=np.float64)
    if log_x and g.size:  # labelled values, not plotly's "0.01 2 5 0.1 2 5 1"
        ticks = [v for v in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10) if g.min() * 0.999 <= v <= g.max() * 1.001]
        x_axis.update(tickvals=ticks, ticktext=[f"{v:g}" for v in ticks])
    layout = dict(height=300, margin=dict(l=8, r=8, t=10, b=8), showlegend=False, xaxis=x_axis,
                  yaxis=dict(title=dict(text="L"), gridcolor=COLORS["grid"], rangemode="tozero"))
    return _figure(data, layout)


_PAIR_SCALE = [[0.0, "#F6F7F8"], [0.5, "#8FB3D9"], [1.0, "#1F3B73"]]  # likely pairs dark: the diagonal stands out


def heatmap(matrix: ArrayLike, x_title: str, y_title: str, *, x_prefix: str = "b", y_prefix: str = "a") -> go.Figure:
    """A matrix of probabilities (rows sum to 1), the diagonal being the positive pairs; cells named a₀… and b₀…."""
    m = np.asarray(matrix, dtype=np.float64)
    sub = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
    xs = [f"{x_prefix}{str(i).translate(sub)}" for i in range(m.shape[1])]
    ys = [f"{y_prefix}{str(i).translate(sub)}" for i in range(m.shape[0])]
    data = [dict(type="heatmap", z=m, x=xs, y=ys, colorscale=_PAIR_SCALE, zmin=0, zmax=1,
                 colorbar=dict(title=dict(text="p", side="right"), thickness=10),
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
    """A reliability diagram: accuracy per confidence bin as bars (examples per bin above them), the gap to the diagonal.

    Over-confidence (confidence above accuracy) is a red box on top of the
    bar; under-confidence an outlined box inside it. Each has its own legend
    entry: overlaid fills used to mix into a purple the legend did not show.
    """
    lo, hi = bins.edges[:-1], bins.edges[1:]
    centers, widths = (lo + hi) / 2, (hi - lo)
    filled = bins.count > 0
    acc = np.where(filled, bins.accuracy, 0.0)
    conf = np.where(filled, bins.confidence, 0.0)
    over, under = filled & (conf > acc), filled & (conf < acc)
    data = [
        dict(type="bar", x=centers, y=acc, width=widths * 0.95, marker=dict(color=COLORS["logit"]), name=t("cal.chart.accuracy"),
             text=[f"{int(n)}" if n else "" for n in bins.count], textposition="outside", textfont=dict(size=9, color="#6b7280"),
             cliponaxis=False, customdata=np.stack([bins.count, conf, lo, hi], axis=1), hovertemplate=_hover(t("cal.chart.bin_hover"))),
        dict(type="bar", x=centers[over], y=(conf - acc)[over], base=acc[over].tolist(), width=widths[over] * 0.95,
             marker=dict(color="rgba(224,80,63,0.35)", line=dict(color="rgba(224,80,63,0.9)", width=1)),
             name=t("cal.chart.gap_over"), hovertemplate=_hover(t("cal.chart.gap_hover"))),
        dict(type="bar", x=centers[under], y=(acc - conf)[under], base=conf[under].tolist(), width=widths[under] * 0.95,
             marker=dict(color="rgba(255,255,255,0)", line=dict(color="#1F3B73", width=1.5), pattern=dict(shape=".", fgcolor="#1F3B73")),
             name=t("cal.chart.gap_under"), hovertemplate=_hover(t("cal.chart.gap_hover"))),
        dict(type="scatter", x=[0, 1], y=[0, 1], mode="lines", line=dict(color="#555", dash="dash"), name=t("cal.chart.perfect"),
             hoverinfo="skip"),
    ]
    layout = dict(
        title=dict(text=title, font=dict(size=14), x=0, xanchor="left"), barmode="overlay", height=380,
        margin=dict(l=8, r=8, t=40 if title else 10, b=8), legend=_LEGEND_BELOW, bargap=0,
        xaxis=dict(range=[0, 1], title=dict(text=t("cal.chart.confidence")), gridcolor=COLORS["grid"]),
        yaxis=dict(range=[0, 1.08], title=dict(text=t("cal.chart.accuracy")), gridcolor=COLORS["grid"]),
    )
    return _figure(data, layout)


def reliability(logits: ArrayLike, labels: ArrayLike, n_bins: int = 15, strategy: str = "uniform",
                temperature: float = 1.0, title: str = "") -> go.Figure:
    """The reliability diagram of an evaluation set (see :func:`logitsviz.calibration.reliability_bins`)."""
    return reliability_from_bins(explain.reliability(logits, labels, n_bins, strategy, temperature=temperature), title)


def confidence_histogram(edges: ArrayLike, right: ArrayLike, wrong: ArrayLike) -> go.Figure:
    """How confident the model is, split into right and wrong predictions (counts per confidence bin)."""
    edges = np.asarray(edges, dtype=np.float64)
    centers, width = (edges[:-1] + edges[1:]) / 2, float(np.min(np.diff(edges))) * 0.95
    data = [
        dict(type="bar", x=centers, y=np.asarray(right), width=width, name=t("cal.chart.right"), marker=dict(color=COLORS["prob"]),
             hovertemplate="%{y}<extra>" + t("cal.chart.right") + "</extra>"),
        dict(type="bar", x=centers, y=np.asarray(wrong), width=width, name=t("cal.chart.wrong"), marker=dict(color=COLORS["argmax"]),
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
    fitted_side, current_side = ("left", "right") if fitted >= current else ("right", "left")  # xanchor: label beside its line
    marks = [(fitted, dict(color=COLORS["prob"], width=2), t("cal.chart.fitted", T=f"{fitted:.3f}"), fitted_side)]
    if abs(current - fitted) > 1e-9:
        marks.append((current, dict(color="#888", dash="dash"), f"T = {current:.2f}", current_side))
    for x, line, text, side in marks:
        # not fig.add_vline: on a log axis an annotation's x is log10 of the value (plotly's rule), which add_vline does not apply
        layout.setdefault("shapes", []).append(dict(type="line", xref="x", x0=x, x1=x, yref="y domain", y0=0, y1=1, line=line))
        layout.setdefault("annotations", []).append(dict(text=text, showarrow=False, xref="x", x=float(np.log10(x)), xanchor=side,
                                                         yref="y domain", y=1, yanchor="top"))
    return _figure(data, layout)


_NICE_TEMPERATURES = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 7.0, 10.0, 20.0, 50.0, 100.0)

_MAP_COLORS = ("#555555", "#3A9E8F", "#6C8EBF", "#9467BD", "#8C564B", "#E07A3F", "#D62728", "#BCBD22")


def _unit_square(title: str, height: int = 380) -> dict:
    """The layout of a diagram on [0, 1] x [0, 1]: confidence across, accuracy up."""
    return dict(
        title=dict(text=title, font=dict(size=14), x=0, xanchor="left"), height=height,
        margin=dict(l=8, r=8, t=40 if title else 10, b=8), legend=_LEGEND_BELOW,
        xaxis=dict(range=[0, 1], title=dict(text=t("cal.chart.confidence")), gridcolor=COLORS["grid"]),
        yaxis=dict(range=[0, 1.02], title=dict(text=t("cal.chart.accuracy")), gridcolor=COLORS["grid"]),
    )


def _diagonal() -> dict:
    return dict(type="scatter", x=[0, 1], y=[0, 1], mode="lines", line=dict(color="#555", dash="dash", width=1),
                name=t("cal.chart.perfect"), hoverinfo="skip")


# rows within a kernel width below which a smoothed curve is a guess: one curve with its bootstrap band is drawn faint
# there; curves compared without bands need more (about 3 rows gave standard errors near 0.3, and eight such curves
# crossing each other said nothing)
MIN_SUPPORT = 3.0
MIN_SUPPORT_COMPARED = 10.0


def smooth_reliability(view, title: str = "") -> go.Figure:
    """The smoothed reliability diagram (as apple/ml-calibration's relplot draws it): the kernel-smoothed accuracy
    at each confidence, its bootstrap band, the diagonal, and how the confidences are spread (grey, at the bottom)."""
    mesh = np.asarray(view.mesh, dtype=np.float64)
    dens = np.asarray(view.density, dtype=np.float64)
    data = [dict(type="scatter", x=mesh, y=dens * (0.2 / max(float(dens.max()), 1e-12)), mode="lines", fill="tozeroy",
                 line=dict(width=0.5, color="rgba(120,120,120,0.6)"), fillcolor="rgba(150,150,150,0.22)",
                 name=t("cal.chart.density"), hoverinfo="skip")]
    seen = np.asarray(view.support) >= MIN_SUPPORT
    if view.lower is not None and seen.any():
        x = mesh[seen]
        data.append(dict(type="scatter", x=np.r_[x, x[::-1]], y=np.r_[view.upper[seen], view.lower[seen][::-1]], fill="toself",
                         fillcolor="rgba(224,122,63,0.22)", line=dict(width=0), hoverinfo="skip",
                         name=t("cal.chart.band", p=f"{100 * view.level:g}")))
    acc = np.asarray(view.accuracy, dtype=np.float64)
    data += [_diagonal(),
             dict(type="scatter", x=mesh, y=acc, mode="lines", line=dict(color=COLORS["argmax"], width=1, dash="dot"), opacity=0.45,
                  name=t("cal.chart.sparse", n=f"{MIN_SUPPORT:g}"), hoverinfo="skip"),
             dict(type="scatter", x=mesh, y=np.where(seen, acc, np.nan), mode="lines", line=dict(color=COLORS["argmax"], width=3),
                  name=t("cal.chart.smoothed"), hovertemplate=_hover(t("cal.chart.smooth_hover")))]
    return _figure(data, _unit_square(title))


def reliability_curves(names: Sequence[str], views: Sequence, title: str = "") -> go.Figure:
    """Several smoothed reliability curves on one diagram (one per recalibration map), the first drawn grey and dashed."""
    data = [_diagonal()]
    for i, (name, view) in enumerate(zip(names, views)):
        line = dict(color=_MAP_COLORS[i % len(_MAP_COLORS)], width=2.5 if i else 2, dash="dot" if i == 0 else "solid")
        y = np.where(np.asarray(view.support) >= MIN_SUPPORT_COMPARED, np.asarray(view.accuracy, dtype=np.float64), np.nan)
        data.append(dict(type="scatter", x=np.asarray(view.mesh), y=y, mode="lines", line=line,
                         name=safe_label(name), hovertemplate=_hover(safe_label(name) + "<br>" + t("cal.chart.smooth_hover"))))
    layout = _unit_square(title, height=420)
    seen = [np.asarray(v.mesh)[np.asarray(v.support) >= MIN_SUPPORT_COMPARED] for v in views]
    low = min((float(x.min()) for x in seen if x.size), default=0.0)
    if low > 0.3:  # every curve lives to the right: show that part (the axis says where it starts)
        layout["xaxis"]["range"] = [math.floor(low * 10) / 10, 1]
        layout["yaxis"]["range"] = [math.floor(low * 10) / 10 - 0.1, 1.02]
    return _figure(data, layout)


def risk_coverage(coverage: ArrayLike, risk: ArrayLike, best_coverage: ArrayLike, best_risk: ArrayLike) -> go.Figure:
    """Selective prediction: the error rate among the answered rows as the model answers more of them, most confident
    first; the dashed line is a ranking with every mistake last (the best this accuracy allows)."""
    data = [
        dict(type="scatter", x=np.asarray(best_coverage), y=np.asarray(best_risk), mode="lines", name=t("cal.chart.rc_best"),
             line=dict(color="#888", dash="dash", width=1.5), hoverinfo="skip"),
        dict(type="scatter", x=np.asarray(coverage), y=np.asarray(risk), mode="lines", name=t("cal.chart.rc_model"),
             line=dict(color=COLORS["logit"], width=3), hovertemplate=_hover(t("cal.chart.rc_hover"))),
    ]
    top = float(max(np.max(risk, initial=0.0), np.max(best_risk, initial=0.0)))
    layout = dict(height=380, margin=dict(l=8, r=8, t=10, b=8), legend=_LEGEND_BELOW,
                  xaxis=dict(range=[0, 1], title=dict(text=t("cal.chart.coverage")), gridcolor=COLORS["grid"], tickformat=".0%"),
                  yaxis=dict(range=[0, max(top * 1.08, 0.01)], title=dict(text=t("cal.chart.risk")), gridcolor=COLORS["grid"],
                             tickformat=".1%"))
    return _figure(data, layout)


# ------------------------------------------------------------ token sequences ----

# light ends so dark text stays readable: rare tokens warm, likely ones pale
_RARE_WARM = [[0.0, "#F4A582"], [0.5, "#FBDCC9"], [1.0, "#F6F7F8"]]


def _width(text: str) -> int:
    """Columns a text takes in a monospace font: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _wrap(texts: Sequence[str], columns: int) -> tuple[list[int], list[int]]:
    """``(row, first column)`` of each token laid out like text: a token that would pass ``columns`` starts a new row."""
    rows, starts, row, col = [], [], 0, 0
    for text in texts:
        w = max(1, _width(text))
        if col and col + w > columns:
            row, col = row + 1, 0
        rows.append(row)
        starts.append(col)
        col += w
        if text.endswith("↵"):  # a new line in the text: the next token starts a row
            row, col = row + 1, 0
    return rows, starts


def token_strip(texts: Sequence[str], values: ArrayLike, hover: Sequence[str], *, cmin: float, cmax: float, title: str,
                reverse: bool = False, columns: int = 32, marked: Sequence[bool] | None = None) -> go.Figure:
    """A text as a row of tokens, each shaded by ``values`` (a probability, or a surprise with ``reverse``).

    Laid out like text in a monospace font; hovering a token shows ``hover``;
    clicking one selects it (``st.plotly_chart(on_select="rerun")``) and
    plotly fades the others. The figure does not depend on the selection:
    a figure that changed would start with none.
    """
    # no-break spaces: blanks stay wide; a new line or tab as the charts' ↵ and ⇥, never a blank box
    shown = [html.escape(t.replace(" ", "\u00a0").replace("\n", "↵").replace("\t", "⇥"), quote=False) if t else "␀" for t in texts]
    rows, starts = _wrap(texts, columns)
    widths = [max(1, _width(t)) for t in texts]
    scale = [[1 - x, c] for x, c in reversed(_RARE_WARM)] if reverse else _RARE_WARM
    data = [dict(
        type="bar", orientation="h", y=rows, x=widths, base=starts, width=0.86, text=shown, textposition="inside",
        insidetextanchor="middle", constraintext="inside", textangle=0, cliponaxis=False,
        textfont=dict(family="ui-monospace, SFMono-Regular, Menlo, Consolas, monospace", size=13, color="#1F2733"),
        marker=dict(color=np.asarray(values, dtype=np.float64), colorscale=scale, cmin=cmin, cmax=cmax,
                    # a marked token (the Compare page: the two sides' top tokens differ) has a dark frame
                    line=dict(color=["#1F2733" if m else "rgba(0,0,0,0.10)" for m in marked] if marked is not None
                              else "rgba(0,0,0,0.10)", width=[2.5 if m else 0.5 for m in marked] if marked is not None else 0.5),
                    colorbar=dict(title=dict(text=title, side="right"), thickness=10, len=1.0, y=0.5)),
        hovertext=[html.escape(h, quote=False).replace("\n", "<br>") for h in hover], hoverinfo="text",
        unselected=dict(marker=dict(opacity=0.5)), selected=dict(marker=dict(opacity=1.0)),
    )]
    n_rows = (rows[-1] + 1) if rows else 1
    layout = dict(
        height=60 + 30 * n_rows, margin=dict(l=4, r=4, t=8, b=8), showlegend=False, bargap=0, dragmode=False,
        plot_bgcolor="rgba(0,0,0,0)", paper_bgcolor="rgba(0,0,0,0)",
        xaxis=dict(range=[-0.5, columns + 0.5], visible=False, fixedrange=True),
        yaxis=dict(range=[n_rows - 0.5, -0.5], visible=False, fixedrange=True),
        clickmode="event+select",
        # on a phone a token's box is narrow: its text keeps a readable size (12 px) rather than shrinking into the box
        uniformtext=dict(minsize=12, mode="show"),
    )
    return _figure(data, layout)


_ENTROPY_SCALE = [[0.0, "#1F3B73"], [0.5, "#3A9E8F"], [1.0, "#F2D16B"]]  # sure (dark) to spread (light)


def rows_overview(view: RowsOverview, labels: Sequence[str]) -> go.Figure:
    """One point per row: its top probability (height), its entropy (colour); click one to open that row."""
    n = view.max_prob.size
    hover = [t("fig.row_hover", row=i + 1, label=safe_label(labels[int(c)]), p=f"{100 * p:.1f}", h=number(h, 2), m=number(m, 2))
             for i, (c, p, h, m) in enumerate(zip(view.argmax, view.max_prob, view.entropy_bits, view.margin))]
    data = [dict(type="scattergl" if n > 2000 else "scatter", x=np.arange(1, n + 1), y=view.max_prob, mode="markers+lines" if n <= 200 else "markers",
                 line=dict(color=COLORS["grid"], width=1),
                 marker=dict(size=9 if n <= 200 else 5, color=view.entropy_bits, colorscale=_ENTROPY_SCALE, cmin=0, showscale=True,
                             colorbar=dict(title=dict(text=t("fig.row_entropy"), side="right"), thickness=10)),
                 hovertext=hover, hoverinfo="text", unselected=dict(marker=dict(opacity=0.4)))]
    layout = dict(height=240, margin=dict(l=8, r=8, t=10, b=8), showlegend=False, dragmode=False, clickmode="event+select",
                  # rows counted from 1, as the row picker counts them; whole numbers only (no "0.5" between two rows)
                  xaxis=dict(title=dict(text=t("fig.row")), gridcolor=COLORS["grid"], tickformat="d",
                             **({"dtick": 1} if n <= 12 else {"nticks": 12})),
                  yaxis=dict(title=dict(text=t("fig.row_top_p")), range=[0, 1.05], tickformat=".0%", gridcolor=COLORS["grid"]))
    return _figure(data, layout)


# ------------------------------------------------------------ comparing two ----

_SIDES = ["#6C8EBF", "#E07A3F", "#3A9E8F"]  # base / target, other / draft, residual


def pair(labels: Sequence[str], bars: BarGroups, names: Sequence[str], height: int = 340) -> go.Figure:
    """Two (or three) distributions over the same tokens, side by side, one bar for the rest of each."""
    return grouped(labels, bars, names, t("cmp.chart.probability"), _SIDES, height, tokens=True)


def kl_histogram(view: explain.Histogram) -> go.Figure:
    """How many positions fall in each KL bin (log-spaced when KL spans decades)."""
    mids = np.sqrt(view.edges[:-1] * view.edges[1:]) if view.log else (view.edges[:-1] + view.edges[1:]) / 2
    widths = np.diff(view.edges)
    data = [dict(type="bar", x=mids, y=view.counts, width=widths, marker=dict(color=COLORS["logit"]),
                 customdata=np.stack([view.edges[:-1], view.edges[1:]], axis=1),
                 hovertemplate="KL %{customdata[0]:.3g} – %{customdata[1]:.3g}<br>%{y}<extra></extra>")]
    layout = dict(height=280, margin=dict(l=8, r=8, t=10, b=8), bargap=0.05, showlegend=False,
                  xaxis=dict(type="log" if view.log else "linear", title=dict(text=t("cmp.chart.kl_nats")),
                             gridcolor=COLORS["grid"]),
                  yaxis=dict(title=dict(text=t("cmp.chart.positions")), gridcolor=COLORS["grid"]))
    return _figure(data, layout)


def acceptance(texts: Sequence[str], values: ArrayLike, mean: float) -> go.Figure:
    """Per position, the chance the target keeps the draft's token (1 − TV), with the mean as a line."""
    shown = [safe_label(x) for x in texts]
    x = list(range(1, len(shown) + 1))
    data = [dict(type="bar", x=x, y=np.asarray(values, dtype=np.float64), marker=dict(color=COLORS["prob"]),
                 customdata=shown, hovertemplate="%{x}: %{customdata}<br>%{y:.3f}<extra></extra>")]
    layout = dict(height=260, margin=dict(l=8, r=8, t=10, b=8), showlegend=False, bargap=0.1,
                  xaxis=dict(title=dict(text=t("cmp.chart.position")), gridcolor=COLORS["grid"]),
                  yaxis=dict(range=[0, 1.05], title=dict(text=t("cmp.chart.acceptance")), gridcolor=COLORS["grid"]),
                  **_level(mean, t("cmp.chart.mean", value=f"{mean:.3f}"), "right", "bottom"))
    return _figure(data, layout)


def expected_tokens(lengths: ArrayLike, tokens: ArrayLike) -> go.Figure:
    """Expected tokens per target pass against the draft length γ."""
    data = [dict(type="scatter", mode="lines+markers+text", x=np.asarray(lengths), y=np.asarray(tokens, dtype=np.float64),
                 text=[f"{v:.2f}" for v in np.asarray(tokens, dtype=np.float64)], textposition="top center",
                 line=dict(color=COLORS["argmax"]), hovertemplate="γ = %{x}: %{y:.3f}<extra></extra>")]
    layout = dict(height=260, margin=dict(l=8, r=8, t=10, b=8), showlegend=False,
                  xaxis=dict(title=dict(text=t("cmp.chart.gamma")), dtick=1, gridcolor=COLORS["grid"]),
                  yaxis=dict(title=dict(text=t("cmp.chart.tokens_per_pass")), gridcolor=COLORS["grid"],
                             range=[0, 1.18 * float(np.max(tokens)) if np.size(tokens) else 1]))  # room for the labels
    return _figure(data, layout)


# ------------------------------------------------------------ inside the model ----

_LENS_PROB = [[0.0, "#F4F6F9"], [0.5, "#8FC7BD"], [1.0, "#2F7F73"]]  # unsure (pale) to sure (dark green)


def lens_grid(view: explain.LensView, colour: str = "prob") -> go.Figure:
    """The logit lens: a row per layer (embeddings at the bottom), a column per prompt position, each cell the top
    token at that layer, shaded by its probability (``colour="prob"``) or by KL to the final row (``"kl"``).

    Drawn as bars, one per cell, so a click selects one (``st.plotly_chart(on_select="rerun")``): the point index is
    ``row · positions + column``.
    """
    n_rows, n_pos = view.top_prob.shape
    rows, cols = np.divmod(np.arange(n_rows * n_pos), n_pos)
    values = (view.top_prob if colour == "prob" else view.kl).ravel()
    texts = [safe_label(view.top_text[r][c], 8) for r, c in zip(rows, cols)]
    hover = [f"{t('lens.grid.row', row=r)} · {safe_label(view.tokens[c], 20)}<br>{t('lens.grid.top')}: {safe_label(view.top_text[r][c])}"
             f"<br>p = {view.top_prob[r, c]:.3f} · KL = {view.kl[r, c]:.3f}" for r, c in zip(rows, cols)]
    scale = _LENS_PROB if colour == "prob" else [[1 - x, col] for x, col in reversed(_RARE_WARM)]
    # one bar per cell, laid side by side: cells fill the width whatever it is, and a click selects one
    data = [dict(type="bar", orientation="h", y=rows.tolist(), x=[1] * rows.size, base=(cols - 0.5).tolist(), width=0.92, text=texts,
                 textposition="inside", insidetextanchor="middle", constraintext="inside", textangle=0,
                 hovertext=hover, hoverinfo="text",
                 textfont=dict(family="ui-monospace, SFMono-Regular, Menlo, Consolas, monospace", size=12, color="#1F2733"),
                 marker=dict(color=values, colorscale=scale, cmin=0,
                             cmax=1.0 if colour == "prob" else max(float(np.nanmax(view.kl)), 1e-6),
                             line=dict(color="rgba(255,255,255,0.9)", width=1),
                             colorbar=dict(title=dict(text="p" if colour == "prob" else "KL", side="right"), thickness=10)),
                 unselected=dict(marker=dict(opacity=0.45)), selected=dict(marker=dict(opacity=1.0)))]
    layout = dict(height=90 + 34 * n_rows, margin=dict(l=8, r=8, t=10, b=8), showlegend=False, dragmode=False, bargap=0,
                  clickmode="event+select", plot_bgcolor="rgba(0,0,0,0)", uniformtext=dict(minsize=9, mode="hide"),
                  xaxis=dict(tickmode="array", tickvals=list(range(n_pos)), ticktext=[safe_label(x, 10) for x in view.tokens],
                             tickangle=-45 if n_pos > 8 else 0, range=[-0.5, n_pos - 0.5], fixedrange=True, showgrid=False,
                             zeroline=False, title=dict(text=t("lens.grid.positions"))),
                  yaxis=dict(tickmode="array", tickvals=list(range(n_rows)),
                             ticktext=[t("lens.grid.embeddings") if r == 0 else (t("lens.grid.final", row=r) if r == n_rows - 1
                                                                                 else t("lens.grid.row", row=r)) for r in range(n_rows)],
                             range=[-0.5, n_rows - 0.5], fixedrange=True, showgrid=False, zeroline=False))
    return _figure(data, layout)


def lens_journey(view: explain.LensView, position: int, log: bool = True) -> go.Figure:
    """How the final top tokens at ``position`` rise through the layers: probability per row, one line each."""
    n_rows = view.journey_prob.shape[-1]
    x = list(range(n_rows))
    palette = [COLORS["argmax"], COLORS["logit"], COLORS["prob"], "#9B6FB5", "#C9A227"]
    data = []
    for j, text in enumerate(view.journey_text[position]):
        data.append(dict(type="scatter", mode="lines+markers", x=x, y=view.journey_prob[position, j], name=safe_label(text),
                         line=dict(color=palette[j % len(palette)]), customdata=view.journey_rank[position, j] + 1,
                         hovertemplate=f"{html.escape(safe_label(text))}<br>" + t("lens.journey.hover") + "<extra></extra>"))
    layout = dict(height=300, margin=dict(l=8, r=8, t=10, b=8), legend=_LEGEND_BELOW,
                  xaxis=dict(tickmode="array", tickvals=x, ticktext=[t("lens.grid.embeddings_short") if r == 0 else str(r) for r in x],
                             title=dict(text=t("lens.journey.layer")), gridcolor=COLORS["grid"]),
                  yaxis=dict(type="log" if log else "linear", title=dict(text=t("lens.journey.probability")),
                             gridcolor=COLORS["grid"], exponentformat="e"))
    return _figure(data, layout)


def attribution_waterfall(view: explain.AttributionView) -> go.Figure:
    """Each part's push on ``logit[token] − logit[other]``, adding up to the total bar."""
    names = [safe_label(n) for n in view.names] + [t("lens.attr.total")]
    data = [dict(type="waterfall", orientation="v", x=names, y=[*view.values.tolist(), view.total],
                 measure=["relative"] * len(view.values) + ["total"], textposition="outside",
                 text=[f"{v:+.2f}" for v in view.values] + [f"{view.total:.2f}"],
                 increasing=dict(marker=dict(color=COLORS["prob"])), decreasing=dict(marker=dict(color=COLORS["argmax"])),
                 totals=dict(marker=dict(color=COLORS["logit"])), connector=dict(line=dict(color=COLORS["grid"])),
                 hovertemplate="%{x}: %{y:+.4f}<extra></extra>")]
    layout = dict(height=380, margin=dict(l=8, r=8, t=24, b=8), showlegend=False, xaxis=_CATEGORY_X,
                  yaxis=dict(title=dict(text=t("lens.attr.axis", token=safe_label(view.token), other=safe_label(view.other))),
                             gridcolor=COLORS["grid"]))
    return _figure(data, layout)


# ------------------------------------------------------------ trust a prediction ----


def coverage_sweep(view: explain.SetsView) -> go.Figure:
    """Test coverage at every α, beside the guarantee 1 − α; mean set size on the right axis."""
    a = view.alphas
    data = [
        dict(type="scatter", mode="lines", x=a, y=1 - a, name=t("conf.chart.guarantee"), line=dict(color=COLORS["others"], dash="dash"),
             hovertemplate="α = %{x:.2f}: %{y:.2f}<extra></extra>"),
        dict(type="scatter", mode="lines+markers", x=a, y=view.sweep_coverage, name=t("conf.chart.coverage"),
             line=dict(color=COLORS["prob"]), hovertemplate="α = %{x:.2f}: %{y:.3f}<extra></extra>"),
        dict(type="scatter", mode="lines", x=a, y=view.sweep_size, name=t("conf.chart.size"), yaxis="y2",
             line=dict(color=COLORS["argmax"], dash="dot"), hovertemplate="α = %{x:.2f}: %{y:.2f}<extra></extra>"),
    ]
    layout = dict(height=320, margin=dict(l=8, r=8, t=10, b=8), legend=_LEGEND_BELOW,
                  xaxis=dict(title=dict(text="α"), gridcolor=COLORS["grid"]),
                  yaxis=dict(title=dict(text=t("conf.chart.coverage")), range=[0.65, 1.01], gridcolor=COLORS["grid"]),
                  yaxis2=dict(title=dict(text=t("conf.chart.size")), overlaying="y", side="right", rangemode="tozero",
                              showgrid=False, tickformat=".1f", tickmode="auto", nticks=5),
                  # the chosen α: a vertical rule (the guarantee is the dashed diagonal)
                  shapes=[dict(type="line", xref="x", x0=view.alpha, x1=view.alpha, yref="paper", y0=0, y1=1, line=_RULE)],
                  annotations=[dict(text=t("conf.chart.target", value=f"{view.alpha:g}"), showarrow=False, xref="x",
                                    x=view.alpha, xanchor="left", yref="paper", y=1, yanchor="top")])
    return _figure(data, layout)


def set_sizes(view: explain.SetsView) -> go.Figure:
    """How many test rows got a set of each size."""
    sizes = np.arange(view.size_counts.size)
    data = [dict(type="bar", x=sizes, y=view.size_counts, marker=dict(color=COLORS["logit"]),
                 hovertemplate="%{x}: %{y}<extra></extra>")]
    layout = dict(height=260, margin=dict(l=8, r=8, t=10, b=8), showlegend=False,
                  xaxis=dict(title=dict(text=t("conf.chart.set_size")), dtick=1, gridcolor=COLORS["grid"]),
                  yaxis=dict(title=dict(text=t("conf.chart.rows")), gridcolor=COLORS["grid"]))
    return _figure(data, layout)


def class_coverage(view: explain.SetsView, labels: Sequence[str]) -> go.Figure:
    """Coverage among the test rows of each true class, with the target 1 − α."""
    data = [dict(type="bar", x=[safe_label(x) for x in labels], y=view.class_coverage, marker=dict(color=COLORS["prob"]),
                 customdata=view.class_rows, hovertemplate="%{x}: %{y:.3f} (%{customdata})<extra></extra>")]
    layout = dict(height=260, margin=dict(l=8, r=8, t=10, b=8), showlegend=False, xaxis={**_CATEGORY_X, "tickangle": 0},
                  yaxis=dict(range=[0, 1.05], title=dict(text=t("conf.chart.coverage")), gridcolor=COLORS["grid"]),
                  **_level(1 - view.alpha, f"1 − α = {1 - view.alpha:.2f}", "right", "bottom"))
    return _figure(data, layout)


def ood_histogram(result) -> go.Figure:
    """One score's values for in-distribution rows and for the others, overlaid."""
    both = np.concatenate([result.inside, result.outside])
    low, high = float(both.min()), float(both.max())
    bins = dict(start=low, end=high + (high - low) * 1e-9 + 1e-12, size=max((high - low) / 40, 1e-12))  # the same bins for both
    data = [dict(type="histogram", x=result.inside, name=t("ood.in"), opacity=0.6, marker=dict(color=COLORS["prob"]),
                 histnorm="probability", autobinx=False, xbins=bins),
            dict(type="histogram", x=result.outside, name=t("ood.out"), opacity=0.6, marker=dict(color=COLORS["argmax"]),
                 histnorm="probability", autobinx=False, xbins=bins)]
    layout = dict(height=280, margin=dict(l=8, r=8, t=10, b=8), barmode="overlay", legend=_LEGEND_BELOW,
                  xaxis=dict(title=dict(text=t(f"ood.score.{result.score}")), gridcolor=COLORS["grid"]),
                  yaxis=dict(title=dict(text=t("ood.share")), gridcolor=COLORS["grid"]))
    return _figure(data, layout)


def roc(results) -> go.Figure:
    """Each score's ROC curve: in-distribution rows kept against out-of-distribution rows let through."""
    palette = [COLORS["prob"], COLORS["logit"], COLORS["argmax"], "#9B6FB5"]
    data = [dict(type="scatter", mode="lines", x=[0, 1], y=[0, 1], line=dict(color=COLORS["others"], dash="dash"),
                 showlegend=False, hoverinfo="skip")]
    dashes = ["solid", "dash", "dot", "dashdot"]  # scores that rank alike draw the same curve: each keeps its own dash
    data += [dict(type="scatter", mode="lines", x=r.fpr, y=r.tpr, name=f"{t(f'ood.score.{r.score}')} ({r.auroc:.3f})",
                  line=dict(color=palette[i % len(palette)], dash=dashes[i % len(dashes)], width=2.5 if i == 0 else 2),
                  hovertemplate="%{x:.3f}, %{y:.3f}<extra></extra>")
             for i, r in enumerate(results)]
    layout = dict(height=340, margin=dict(l=8, r=8, t=10, b=8), legend=_LEGEND_BELOW,
                  xaxis=dict(title=dict(text=t("ood.fpr")), range=[0, 1], gridcolor=COLORS["grid"]),
                  yaxis=dict(title=dict(text=t("ood.tpr")), range=[0, 1.01], gridcolor=COLORS["grid"]))
    return _figure(data, layout)
