"""Every figure is valid plotly: rebuilt with plotly's full validation, it keeps every property.

The figures are built without plotly's property-by-property validation (for
speed; see ``logitsviz.figures``), so these tests are what catches a misspelt
property or a wrong value type.
"""

from __future__ import annotations

import functools
import json
import math
import pickle
import re

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from plotly.colors import get_colorscale
from plotly.utils import PlotlyJSONEncoder

from logitsviz import calibration, explain, figures, sampling
from logitsviz.explain import softmax_steps

RNG = np.random.default_rng(0)
LABELS = [f"tok{i}" for i in range(60)]
Z = RNG.normal(scale=2.0, size=60)
Z[7] = -np.inf  # a masked class
STAGES = [explain.stage_view(s, 20) for s in sampling.pipeline(
    Z, dict(temperature=0.8, top_k=10, top_p=0.9, min_p=0.05, typical_p=0.9, epsilon=3e-4, eta=2e-3, top_n_sigma=1.0))]
EVAL_Z = RNG.normal(size=(300, 10))
EVAL_Y = RNG.integers(0, 10, 300)

_Z = np.random.default_rng(5).normal(0, 3, (300, 4))
_Y = np.random.default_rng(6).integers(0, 4, 300)

FIGURES = {
    "compare": lambda: figures.compare(["a", "b", "c"], [2.0, 1.0, -np.inf]),
    "compare_steps_others": lambda: figures.compare_steps(LABELS, softmax_steps(Z, top=10)),
    **{f"stage_{s.name}": functools.partial(figures.stage, LABELS, s) for s in STAGES},
    "decoding": lambda: figures.decoding(LABELS, Z, sampling.top_k(Z, 10)),
    "decoding_bars": lambda: figures.decoding_bars(LABELS, explain.decoding(Z, {"top_p": 0.9}).chart),
    "samples": lambda: figures.samples(LABELS, explain.samples(Z, 500, seed=1)),
    "exp_ranges": lambda: figures.exp_ranges(explain.exp_ranges(np.array([1.0, 800.0, -900.0, np.nan]))),
    "gradient": lambda: figures.gradient(LABELS, explain.cross_entropy_view(np.nan_to_num(Z, neginf=0.0), 3, top=5)),
    "loss_curve": lambda: figures.loss_curve(np.linspace(-2, 2, 9), np.linspace(1, 2, 9), 0.5, 1.5, "z"),
    "loss_curve_log": lambda: figures.loss_curve(np.geomspace(0.01, 1, 9), np.linspace(1, 2, 9), 0.1, 1.5, "τ", log_x=True),
    "grouped": lambda: figures.grouped(LABELS, explain.top_groups([np.abs(np.nan_to_num(Z, neginf=0)), np.full(60, 1 / 60)], 10),
                                       ["sigmoid", "softmax"], "p"),
    "heatmap": lambda: figures.heatmap(np.eye(4), "key", "query"),
    "digit": lambda: figures.digit(np.arange(64).reshape(8, 8) % 17),
    "reliability": lambda: figures.reliability(EVAL_Z, EVAL_Y, 10, title="before"),
    "reliability_quantile": lambda: figures.reliability(EVAL_Z, EVAL_Y, 10, "quantile", temperature=2.0),
    "confidence_histogram": lambda: figures.confidence_histogram(*calibration.report(EVAL_Z, EVAL_Y).histogram),
    "per_class_accuracy": lambda: figures.per_class_accuracy(*calibration.per_class_accuracy(EVAL_Z, EVAL_Y)),
    "token_strip": lambda: figures.token_strip(["The", " new", " 今天", "⟨e6\u200998⟩", "是↵", "<b>x</b>"], np.linspace(0, 1, 6),
                                               ["a\nb"] * 6, cmin=0, cmax=1, title="p"),
    "rows_overview": lambda: figures.rows_overview(explain.rows_overview(EVAL_Z[:20]), [f"c{i}" for i in range(10)]),
    "rows_overview_large": lambda: figures.rows_overview(explain.rows_overview(RNG.normal(size=(2500, 4))), list("abcd")),
    "smooth_reliability": lambda: figures.smooth_reliability(calibration.smooth_reliability(_Z, _Y, n_points=50, n_boot=10), "T = 1"),
    "smooth_reliability_others": lambda: figures.smooth_reliability(calibration.smooth_reliability(_Z, _Y, n_boot=0)),
    "reliability_curves": lambda: figures.reliability_curves(["none", "<b>T</b>"], [calibration.smooth_reliability(_Z, _Y, n_boot=0)] * 2, "x"),
    "reliability_curves_large": lambda: figures.reliability_curves(["a"], [calibration.smooth_reliability(_Z * 6, np.argmax(_Z, 1), n_boot=0)]),
    "risk_coverage": lambda: figures.risk_coverage(*[np.linspace(0.1, 1, 10)] * 2, np.linspace(0.1, 1, 10), np.zeros(10)),
    "temperature_curve": lambda: figures.temperature_curve(np.geomspace(0.5, 4, 9), np.arange(9.0), np.arange(9.0) / 10, 1.3, 2.0),
}


def _spec(fig: go.Figure) -> dict:
    """The JSON the browser receives, without the theme template."""
    spec = json.loads(pio.to_json(fig, validate=False))
    spec["layout"].pop("template", None)
    return spec


def _expand_named_colorscales(spec: dict) -> dict:
    """What validation does to a colorscale given by name ("Blues"): it spells out the stops."""
    for trace in spec["data"]:
        for holder in (trace, trace.get("marker", {})):
            if isinstance(holder.get("colorscale"), str):
                holder["colorscale"] = [list(stop) for stop in get_colorscale(holder["colorscale"])]
    return spec


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_figure_passes_plotly_validation_unchanged(name):
    fig = FIGURES[name]()
    assert isinstance(fig, go.Figure) and len(fig.data) >= 1
    spec = _spec(fig)
    # full validation: raises ValueError on an unknown property or a bad value
    validated = go.Figure(spec)
    assert _spec(validated) == _expand_named_colorscales(spec)


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_a_chart_is_sent_as_the_full_figure_would_be(name):
    # st.plotly_chart reads to_dict(): answered from the plain dicts, it must say what the built figure says
    fig = FIGURES[name]()
    sent = json.loads(pio.to_json(fig.to_dict(), validate=False))
    template = pio.templates[pio.templates.default].to_plotly_json()
    assert sent["layout"]["template"] == json.loads(json.dumps(template, cls=PlotlyJSONEncoder))
    kept = pickle.loads(pickle.dumps(fig))  # st.cache_data pickles what it keeps
    assert json.loads(pio.to_json(kept.to_dict(), validate=False)) == sent
    assert len(fig.data) >= 1  # any attribute of a go.Figure builds it
    assert json.loads(pio.to_json(fig.to_dict(), validate=False)) == sent


def test_all_public_figure_functions_are_covered():
    public = {name for name in figures.__all__ if callable(getattr(figures, name)) and name not in ("safe_label", "plotly_config", "digit_pixels")}
    covered = {name.split("_others")[0].removesuffix("_quantile").removesuffix("_log").removesuffix("_large") for name in FIGURES}
    covered |= {"compare_steps", "stage", "reliability_from_bins"}  # reached through compare_steps_others, stage_*, reliability
    assert public <= covered, public - covered


def test_a_misspelt_property_would_be_caught():
    fig = figures._figure([dict(type="bar", x=[1], y=[2], colour="red")], {})
    with pytest.raises(ValueError, match="colour"):
        go.Figure(_spec(fig))


def test_temperature_curve_marks_sit_on_the_log_axis():
    fitted, current = 1.3, 2.0
    fig = figures.temperature_curve(np.geomspace(0.5, 4, 9), np.arange(9.0), np.arange(9.0), fitted, current)
    assert fig.layout.xaxis.type == "log"
    assert sorted(s.x0 for s in fig.layout.shapes) == [fitted, current]  # shapes take data values
    # annotations on a log axis take log10 of the value (plotly's rule), so each label sits by its line
    assert sorted(a.x for a in fig.layout.annotations) == pytest.approx([math.log10(fitted), math.log10(current)])
    same = figures.temperature_curve(np.geomspace(0.5, 4, 9), np.arange(9.0), np.arange(9.0), fitted, fitted)
    assert len(same.layout.shapes) == 1  # the chosen T is the fitted one: one line
    # the two labels sit at the top, each on the outer side of its line, so they never overlap
    by_text = {a.text: a for a in fig.layout.annotations}
    assert by_text["T = 2.00"].xanchor == "left" and by_text["fitted T = 1.300"].xanchor == "right"
    assert all(a.y == 1 and a.yanchor == "top" for a in fig.layout.annotations)
    # ticks at temperatures people read, inside the plotted range
    assert list(fig.layout.xaxis.tickvals) == [0.5, 0.7, 1.0, 1.5, 2.0, 3.0]
    assert list(fig.layout.xaxis.ticktext) == ["0.5", "0.7", "1", "1.5", "2", "3"]


@pytest.mark.parametrize(("position", "side", "above"), [("top left", "left", "bottom"), ("top right", "right", "bottom"),
                                                        ("bottom right", "right", "top")])
def test_a_level_is_what_plotlys_add_hline_writes(position, side, above):
    reference = go.Figure(go.Bar(x=["a"], y=[1]))
    reference.add_hline(y=0.25, line=figures._RULE, annotation_text="p = 0.25", annotation_position=position)
    ours = go.Figure(go.Bar(x=["a"], y=[1]), layout=figures._level(0.25, "p = 0.25", side, above))
    for part in ("shapes", "annotations"):
        assert ours.to_dict()["layout"][part] == reference.to_dict()["layout"][part]


def test_stage_threshold_lines():
    by_name = {s.name: s for s in STAGES}
    top_p = figures.stage(LABELS, by_name["top_p"])
    assert [s.y0 for s in top_p.layout.shapes] == [0.9] and "0.9" in top_p.layout.annotations[0].text
    assert top_p.data[1].type == "scatter" and np.all(np.diff(top_p.data[1].y) >= 0)  # the cumulative sum rises
    top_k = figures.stage(LABELS, by_name["top_k"])
    assert [s.x0 for s in top_k.layout.shapes] == [9.5]  # between the 10th and 11th bar
    temperature = figures.stage(LABELS, by_name["temperature"])
    assert len(temperature.data) == 2 and not temperature.layout.shapes


def test_compare_lays_out_two_panels_on_one_category_axis():
    fig = figures.compare(["a", "b", "c"], [2.0, 1.0, 0.1])
    assert fig.data[0].xaxis == "x" and fig.data[1].xaxis == "x2"
    assert fig.layout.yaxis2.matches == "y" and fig.layout.yaxis2.showticklabels is False
    assert fig.layout.xaxis.domain[1] < fig.layout.xaxis2.domain[0]
    titles = [re.sub(r"<[^>]*>", "", a.text.replace("<br>", " ")) for a in fig.layout.annotations]  # the words shown
    assert titles == ["Logits z raw scores", "Probabilities p = softmax(z)"]
    # each title starts at its own panel's left edge
    assert [(a.x, a.xanchor) for a in fig.layout.annotations] == [(fig.layout.xaxis.domain[0], "left"),
                                                                   (fig.layout.xaxis2.domain[0], "left")]


def test_digit_pixels_are_sharp_grey_ink_on_white():
    image = np.zeros((8, 8))
    image[2, 3] = 16  # full ink
    image[5, 5] = 8  # half
    image[0, 0] = np.nan  # a broken value shows as paper, not as an error
    px = figures.digit_pixels(image, scale=9)
    assert px.shape == (72, 72) and px.dtype == np.uint8
    assert px[2 * 9, 3 * 9] == 0 and px[2 * 9 + 8, 3 * 9 + 8] == 0  # the whole 9x9 cell, no smoothing
    assert px[5 * 9 + 4, 5 * 9 + 4] == 128 and px[0, 0] == 255 and px[71, 71] == 255
    assert set(np.unique(px)) == {0, 128, 255}


def test_token_strip_lays_tokens_out_like_text():
    texts = ["The", " new", " 今天", "!↵", "Next", " line"]
    fig = figures.token_strip(texts, np.arange(6.0), ["h"] * 6, cmin=0, cmax=5, title="p", columns=12)
    bar = fig.data[0]
    # widths in monospace columns (a CJK character takes two), each token starting where the last ended
    assert list(bar.x) == [3, 4, 5, 2, 4, 5]
    assert list(bar.base) == [0, 3, 7, 0, 0, 4]  # " 今天" does not fit after " new": a new row; "!↵" ends its row
    assert list(bar.y) == [0, 0, 0, 1, 2, 2]
    assert bar.text[1] == "\u00a0new"  # blanks kept (no-break), so a leading space shows
    assert bar.unselected.marker.opacity < 1  # a click selects one token and plotly fades the rest
    evil = figures.token_strip(["<img src=x>"], [0.5], ["<b>"], cmin=0, cmax=1, title="p")
    assert "<img" not in evil.data[0].text[0] and "<b>" not in evil.data[0].hovertext[0]


def test_reliability_shows_over_and_under_confidence_apart_and_the_bin_sizes():
    z = np.array([[3.0, 0.0]] * 4 + [[0.3, 0.0]] * 6)
    y = np.array([0, 0, 1, 1] + [0] * 6)  # the confident bin is half right, the unsure one all right
    fig = figures.reliability(z, y, n_bins=5)
    bars, over, under = fig.data[0], fig.data[1], fig.data[2]
    assert over.name != under.name and len(over.x) == 1 and len(under.x) == 1
    assert over.x[0] > under.x[0]  # over-confidence in the high bin, under-confidence in the low one
    assert sorted(int(x) for x in bars.text if x) == [4, 6]


def test_map_curves_zoom_to_where_the_confidences_are():
    confident = figures.reliability_curves(["a"], [calibration.smooth_reliability(_Z * 6, np.argmax(_Z, 1), n_boot=0)])
    assert confident.layout.xaxis.range[0] >= 0.3 and confident.layout.xaxis.range[1] == 1
    spread = figures.reliability_curves(["a"], [calibration.smooth_reliability(_Z / 3, _Y, n_boot=0)])
    assert tuple(spread.layout.xaxis.range) == (0, 1)


def test_a_vocabularys_merged_bar_counts_tokens_and_a_classifiers_counts_classes():
    steps = softmax_steps(Z, top=10)
    rest = f"{steps.others_count:,}"
    assert figures.compare_steps(LABELS, steps).data[0].y[-1] == f"others ({rest} classes)"
    as_tokens = figures.compare_steps(LABELS, steps, tokens=True)
    assert as_tokens.data[0].y[-1] == f"others ({rest} tokens)" and as_tokens.data[0].hovertext[-1].startswith(f"{rest} other tokens")
    # the Decoding lab's charts are always over a vocabulary's next tokens
    chart = explain.decoding(Z, {"top_p": 0.9}).chart
    assert figures.decoding_bars(LABELS, chart).data[0].x[-1] == f"others ({chart.rest_count:,} tokens)"
    top_k = next(s for s in sampling.pipeline(Z, dict(top_k=10)) if s.name == "top_k")
    view = explain.stage_view(top_k, 5)
    assert view.rest_count and figures.stage(LABELS, view).data[0].x[-1] == f"others ({view.rest_count:,} tokens)"
    groups = explain.top_groups([np.abs(np.nan_to_num(Z, neginf=0)), np.full(60, 1 / 60)], 10)
    assert figures.grouped(LABELS, groups, ["a", "b"], "y").data[0].x[-1] == f"others ({groups.rest_count:,} classes)"


def test_a_legend_under_a_diagram_grows_the_margin_instead_of_covering_the_axis_title():
    # anchored to the figure's bottom edge, not at a fixed fraction below the plot where a wrapped legend met the x title
    for fig in (figures.reliability_curves(list("abcdefgh"), [calibration.smooth_reliability(_Z, _Y, n_boot=0)] * 8),
                figures.smooth_reliability(calibration.smooth_reliability(_Z, _Y, n_boot=0)),
                figures.risk_coverage([0.5, 1.0], [0.1, 0.2], [0.5, 1.0], [0.0, 0.1])):
        legend = fig.layout.legend
        assert (legend.orientation, legend.yref, legend.y, legend.yanchor) == ("h", "container", 0, "bottom")


@pytest.mark.parametrize("p", [0.9, 0.05])
def test_the_top_p_label_sits_where_the_cumulative_curve_is_not(p):
    view = explain.stage_view(next(s for s in sampling.pipeline(Z, dict(top_p=p)) if s.name == "top_p"), 20)
    fig = figures.stage(LABELS, view)
    (note,) = fig.layout.annotations
    curve = np.asarray(fig.data[1].y)
    assert (curve[0] < p) == (p == 0.9)  # each case takes its own branch: 0.9 is crossed on the right, 0.05 lies under the curve
    if curve[0] < p:  # the curve starts under the line and crosses it on the right: label above the line, on the left
        assert (note.yanchor, note.xanchor, note.x) == ("bottom", "left", 0)
    else:  # the whole curve is above the line: label under it
        assert curve.min() >= p and (note.yanchor, note.xanchor, note.x) == ("top", "right", 1)


def test_compared_curves_are_drawn_only_where_enough_rows_are_near():
    one = calibration.smooth_reliability(_Z * 2, np.argmax(_Z, 1), n_boot=0)  # always right, confidences bunched near 1
    support = np.asarray(one.support)
    between = (support >= figures.MIN_SUPPORT) & (support < figures.MIN_SUPPORT_COMPARED)
    assert (support < figures.MIN_SUPPORT).any() and between.any() and (support >= figures.MIN_SUPPORT_COMPARED).any()
    drawn = np.isfinite(np.asarray(figures.reliability_curves(["a"], [one]).data[1].y, dtype=float))
    np.testing.assert_array_equal(drawn, support >= figures.MIN_SUPPORT_COMPARED)
    # one curve with its band: solid from fewer rows, faint everywhere
    alone = figures.smooth_reliability(one)
    solid = np.isfinite(np.asarray(alone.data[-1].y, dtype=float))
    np.testing.assert_array_equal(solid, support >= figures.MIN_SUPPORT)
    assert np.isfinite(np.asarray(alone.data[-2].y, dtype=float)).all()
