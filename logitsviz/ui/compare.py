"""The Compare page: two distributions side by side, token by token (two models, a model and its quantised copy,
two files of logits, two API responses, or the Explorer's vector and an edited copy)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from logitsviz import divergence, examples, explain, figures, inputs, tokens
from logitsviz.errors import InputError
from logitsviz.i18n import t
from logitsviz.ui import state, widgets

SOURCES = ["lm", "files", "api", "explorer"]
BITS = [8, 6, 5, 4, 3, 2]
HELD = "cmp_held"  # the last pair of files read well: (names, base, other, targets)
API_HELD = "cmp_api"  # {side: (file name, LogprobSequence)}
ERROR = "cmp_error"
MAX_POSITIONS_SHOWN = 400  # tokens drawn in the strip; the tables and downloads keep every position
DRAFT_LENGTHS = np.arange(1, 9)
COSTS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0]  # the draft's cost per token, as a share of the target's


@dataclass(frozen=True)
class Sides:
    """What the page compares: ``base`` (P, the reference, the target) and ``other`` (Q, the copy, the draft)."""

    names: tuple[str, str]
    labels: list[str]  # one per class
    base: np.ndarray  # (N, V)
    other: np.ndarray
    targets: np.ndarray | None  # the token that came next at each row
    texts: list[str] | None  # the text of each row's target token, for the strip


# ------------------------------------------------------------------ sources ----


@st.cache_resource(max_entries=6, show_spinner=False)
def _quantized(name: str, bits: int):
    from logitsviz import lm

    return lm.quantized(examples.load_language_model(name), bits)


@st.cache_data(max_entries=12, show_spinner=False)
def _forced(name: str, bits: int, text: str) -> tuple[list[int], np.ndarray]:
    """Teacher-forced logits of ``text`` under the model (``bits`` 0) or its quantised copy."""
    model = _quantized(name, bits) if bits else examples.load_language_model(name)
    return model.forced(text)


def _is_copy(pick: str) -> bool:
    return pick.startswith("q") and pick[1:].isdigit()


def _other_label(pick: str) -> str:
    if _is_copy(pick):
        return t("cmp.quantized", bits=pick[1:])
    return t("lm.model.builtin") if pick == examples.LANGUAGE_MODEL else pick


def _lm_controls(name: str, policy) -> tuple[str, str]:
    """The other side (a quantised copy or another model) and the text, both in the link."""
    others = [f"q{b}" for b in BITS] + [m for m in (examples.LANGUAGE_MODEL, *policy.models) if m != name]
    widgets.url_choice("cmp_b", others, "q4")
    c1, c2 = st.columns([1, 2])
    pick = c1.selectbox(t("cmp.other_model"), others, key="cmp_b", persist_state="session", help=t("cmp.other_model_help"),
                        format_func=_other_label)
    widgets.keep_in_url("cmp_b")
    if "cmp_text" not in st.session_state:
        st.session_state["cmp_text"] = st.query_params.get("cmp_text") or t("cmp.default_text")
    text = c2.text_area(t("cmp.text"), key="cmp_text", height=90, help=t("cmp.text_help"), persist_state="session")
    if len(text) <= 2000:  # a longer text stays in the session, not in the link
        st.query_params["cmp_text"] = text
    return pick, text


def _other_logits(model, name: str, pick: str, text: str, policy) -> tuple[list[int], np.ndarray] | None:
    """The other side's teacher-forced logits; None while another model loads."""
    from logitsviz.ui import language_model

    if _is_copy(pick):
        return _forced(name, int(pick[1:]), text)
    other = language_model._load(pick, policy)
    if other is None:
        return None
    if other.vocab_size != model.vocab_size or other.token_bytes != model.token_bytes:
        raise InputError("lm.vocab_differs", a=name, b=pick, va=f"{model.vocab_size:,}", vb=f"{other.vocab_size:,}")
    return _forced(pick, 0, text)


def _lm_sides() -> Sides | None:
    from logitsviz import config, lm
    from logitsviz.ui import language_model

    if not lm.available() and not lm.available("numpy"):
        st.info(t("cmp.lm_enable", command=lm.INSTALL), icon=":material/download:")
        return None
    name, model = language_model.model_controls()
    if model is None:
        return None
    policy = config.model_policy()
    pick, text = _lm_controls(name, policy)
    try:
        ids, base = _forced(name, 0, text)
        other = _other_logits(model, name, pick, text, policy)
        if other is not None and other[0] != ids:  # the same tokens, split differently: positions would not line up
            raise InputError("lm.vocab_differs", a=name, b=pick, va=f"{model.vocab_size:,}", vb=f"{model.vocab_size:,}")
    except InputError as err:
        st.error(t(err.key, **err.params), icon=":material/error:")
        return None
    if other is None:
        return None
    shown = [p.text for p in tokens.pieces([model.token_bytes[i] for i in ids[1:]])]
    base_name = t("lm.model.builtin") if name == examples.LANGUAGE_MODEL else name
    return Sides((base_name, _other_label(pick)), model.vocab, base, other[1], np.asarray(ids[1:]), shown)


def _read_side(key: str) -> None:
    """Read an uploaded file into the held pair once both sides are there; a bad file leaves the last good pair."""
    uploads = {k: st.session_state.get(f"cmp_file_{k}") for k in ("a", "b", "t")}
    if uploads["a"] is None or uploads["b"] is None:
        return
    try:
        a = inputs.load_array(uploads["a"].getvalue(), uploads["a"].name)
        b = inputs.load_array(uploads["b"].getvalue(), uploads["b"].name)
        if a.shape != b.shape:
            raise InputError("args.same_shape", a=a.shape, b=b.shape)
        a2, b2 = np.atleast_2d(a), np.atleast_2d(b)
        for where, z in ((uploads["a"].name, a2), (uploads["b"].name, b2)):
            bad = ~np.isfinite(z) & ~np.isneginf(z)
            if bad.any():
                row, col = map(int, np.argwhere(bad)[0])
                raise InputError("cmp.bad_value", file=where, row=row + 1, col=col + 1, value=str(z[row, col]))
        targets = None
        if uploads["t"] is not None:
            targets = inputs.load_array(uploads["t"].getvalue(), uploads["t"].name).ravel()
            divergence.compare(a2[:1], b2[:1])  # shape checks only
            divergence._check_targets(divergence._targets(targets), a2.shape[0], a2.shape[1])
            targets = targets.astype(np.int64)
    except InputError as err:
        st.session_state[ERROR] = (err.key, err.params)
        return
    st.session_state[HELD] = ((uploads["a"].name, uploads["b"].name), a2, b2, targets)
    st.session_state[ERROR] = None


def _files_sides() -> Sides | None:
    c1, c2, c3 = st.columns(3)
    types = ["npy", "npz", "csv", "tsv", "txt", "json"]
    c1.file_uploader(t("cmp.file_a"), type=types, key="cmp_file_a", on_change=_read_side, args=("a",), help=t("cmp.file_help"))
    c2.file_uploader(t("cmp.file_b"), type=types, key="cmp_file_b", on_change=_read_side, args=("b",), help=t("cmp.file_help"))
    c3.file_uploader(t("cmp.file_t"), type=types, key="cmp_file_t", on_change=_read_side, args=("t",), help=t("cmp.file_t_help"))
    info = st.session_state.get(ERROR)
    if info:
        st.error(t(info[0], **info[1]), icon=":material/error:")
    held = st.session_state.get(HELD)
    if held is None:
        st.info(t("cmp.files_empty"), icon=":material/upload_file:")
        return None
    names, a, b, targets = held
    if info:
        st.caption(t("cmp.still_showing", a=names[0], b=names[1]))
    return Sides(names, inputs.default_labels(a.shape[1]), a, b, targets, None)


def _on_api(side: str) -> None:
    upload = st.session_state.get(f"cmp_api_{side}")
    if upload is None:
        return
    try:
        seq = tokens.read_logprobs(upload.getvalue())
    except InputError as err:
        st.session_state[ERROR] = (err.key, err.params)
        return
    st.session_state.setdefault(API_HELD, {})[side] = (upload.name, seq)
    st.session_state[ERROR] = None


def _api_section() -> None:
    c1, c2 = st.columns(2)
    types = ["json", "jsonl", "ndjson", "txt", "sse"]
    c1.file_uploader(t("cmp.api_a"), type=types, key="cmp_api_a", on_change=_on_api, args=("a",), help=t("tok.upload_help"))
    c2.file_uploader(t("cmp.api_b"), type=types, key="cmp_api_b", on_change=_on_api, args=("b",), help=t("tok.upload_help"))
    info = st.session_state.get(ERROR)
    if info:
        st.error(t(info[0], **info[1]), icon=":material/error:")
    held = st.session_state.get(API_HELD, {})
    if "a" not in held or "b" not in held:
        st.info(t("cmp.api_empty"), icon=":material/upload_file:")
        return
    view = explain.top_bounds_view(held["a"][1], held["b"][1])
    st.markdown(t("cmp.api_intro"))
    if view.compared == 0:
        st.warning(t("cmp.api_none"), icon=":material/info:")
        return
    rows = pd.DataFrame({
        t("cmp.col.position"): np.arange(1, view.compared + 1),
        t("cmp.col.token_a"): [tokens.visible(x) for x in view.tokens_a],
        t("cmp.col.token_b"): [tokens.visible(x) for x in view.tokens_b],
        t("cmp.col.same_top"): ["✓" if b.same_top else "✗" for b in view.bounds],
        t("cmp.col.tv_low"): [b.tv_low for b in view.bounds],
        t("cmp.col.tv_high"): [b.tv_high for b in view.bounds],
        t("cmp.col.kl_low"): [b.kl_low for b in view.bounds],
        t("cmp.col.shared"): [b.shared for b in view.bounds],
    })
    fmt = st.column_config.NumberColumn(format="%.4f")
    st.dataframe(rows, hide_index=True, width="stretch",
                 column_config={t(k): fmt for k in ("cmp.col.tv_low", "cmp.col.tv_high", "cmp.col.kl_low")})
    if view.compared < view.total:
        st.caption(t("cmp.api_diverged", n=view.compared, total=view.total))
    st.caption(t("cmp.api_bounds_note"))
    widgets.table_downloads(rows, "compare-api", "dl_cmp_api")


def _explorer_sides() -> Sides:
    current = state.init_current()
    state.show_unlinked()
    z = np.asarray(current.logits, dtype=np.float64)
    widgets.url_stop("cmp_t", [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 5.0], 2.0)
    widgets.url_int("cmp_cls", 0, max(z.size - 1, 0), 0)
    c1, c2, c3 = st.columns(3)
    temp = c1.select_slider(t("cmp.edit_t"), options=[0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 5.0], key="cmp_t",
                            help=t("cmp.edit_t_help"))
    cls = c2.selectbox(t("cmp.edit_class"), range(z.size), key="cmp_cls", format_func=lambda i: current.labels[i])
    shift = c3.slider(t("cmp.edit_shift"), -5.0, 5.0, 0.0, 0.5, key="cmp_shift", bind="query-params")
    for key in ("cmp_t", "cmp_cls"):
        widgets.keep_in_url(key)
    other = z / float(temp)
    other[int(cls)] += float(shift)
    return Sides((t("cmp.explorer_base"), t("cmp.explorer_other")), list(current.labels), z[None, :], other[None, :], None, None)


# ----------------------------------------------------------------- sections ----


def _tiles(c: divergence.Comparison, summary: dict) -> None:
    with st.container(horizontal=True, gap="small"):
        st.metric(t("cmp.tile.positions"), f"{len(c):,}", width=165)
        st.metric(t("cmp.tile.kl"), f"{summary['kl_mean']:.4g}", help=t("cmp.tile.kl_help"), width=165)
        st.metric(t("cmp.tile.same_top"), f"{100 * summary['same_top']:.1f} %", help=t("cmp.tile.same_top_help"), width=165)
        if "ppl_base" in summary:
            st.metric(t("cmp.tile.ppl"), f"{summary['ppl_base']:.4g} → {summary['ppl_other']:.4g}", help=t("cmp.tile.ppl_help"),
                      width=300)


def _hover(sides: Sides, c: divergence.Comparison, i: int) -> str:
    target = "" if c.targets is None else t("cmp.hover.target", p=f"{c.p_base[i]:.4f}", q=f"{c.p_other[i]:.4f}")
    return t("cmp.hover", token=sides.texts[i] if sides.texts else f"#{i + 1}", kl=f"{c.kl[i]:.4g}", js=f"{c.js[i]:.4g}",
             tv=f"{c.tv[i]:.3f}", top_a=sides.labels[c.top_base[i]], top_b=sides.labels[c.top_other[i]]) + target


def strip_section(sides: Sides, c: divergence.Comparison) -> int:
    """The text shaded by KL, the positions whose top tokens differ framed; returns the position open below it."""
    n = min(len(c), MAX_POSITIONS_SHOWN)
    texts = sides.texts[:n] if sides.texts else [f"#{i + 1}" for i in range(n)]
    finite = c.kl[:n][np.isfinite(c.kl[:n])]
    top = float(np.quantile(finite, 0.98)) if finite.size else 1.0
    event = st.plotly_chart(
        figures.token_strip(texts, np.nan_to_num(c.kl[:n], nan=0.0, posinf=top), [_hover(sides, c, i) for i in range(n)],
                            cmin=0.0, cmax=max(top, 1e-6), title="KL", reverse=True, marked=~c.same_top[:n]),
        config={**figures.plotly_config("logitsviz-compare-strip"), "displayModeBar": False}, key="cmp_strip",
        on_select="rerun", selection_mode="points")
    st.caption(t("cmp.strip_caption", shown=f"{n:,}", total=f"{len(c):,}"))
    points = event.get("selection", {}).get("points", []) if event else []
    picked = int(points[0]["point_index"]) + 1 if points else None
    if picked is not None and st.session_state.get("cmp_seen") != picked:
        st.session_state["cmp_seen"] = picked
        st.session_state["cmp_pos"] = picked
    default = _most_apart(c)
    widgets.url_int("cmp_pos", 1, len(c), default)
    if not 1 <= st.session_state["cmp_pos"] <= len(c):
        st.session_state["cmp_pos"] = default
    pos = st.number_input(t("cmp.position"), 1, len(c), key="cmp_pos", help=t("cmp.position_help"), persist_state="session")
    widgets.keep_in_url("cmp_pos")
    return int(pos) - 1


def position_section(sides: Sides, i: int) -> explain.PairView:
    view = explain.pair_view(sides.base[i], sides.other[i])
    token = sides.texts[i] if sides.texts else f"#{i + 1}"
    st.markdown(t("cmp.position_line", i=i + 1, token=tokens.visible(token), kl=f"{view.kl:.4g}", js=f"{view.js:.4g}",
                  tv=f"{view.tv:.3f}", top=t("cmp.same") if view.same_top else t("cmp.differ")))
    left, right = st.columns([3, 2])
    left.plotly_chart(figures.pair(sides.labels, view.chart, list(sides.names)), config=figures.plotly_config("logitsviz-compare"),
                      key="cmp_pair")
    moved = pd.DataFrame({
        t("cmp.col.token"): [tokens.visible(sides.labels[j]) for j in view.moved],
        "P": view.p[view.moved], "Q": view.q[view.moved], "Δp": view.q[view.moved] - view.p[view.moved],
    })
    right.markdown(f"**{t('cmp.moved')}**")
    fmt = st.column_config.NumberColumn(format="%.4f")
    right.dataframe(moved, hide_index=True, width="stretch", column_config={k: fmt for k in moved.columns[1:]})
    right.caption(t("cmp.pq", p=sides.names[0], q=sides.names[1]))
    return view


def summary_section(c: divergence.Comparison, summary: dict) -> None:
    st.markdown(t("cmp.summary_intro"))
    left, right = st.columns([1, 1])
    rows = explain.statistics_rows(summary)
    table = pd.DataFrame({
        t("cmp.col.statistic"): [t(f"cmp.stat.{r.key}") if not r.key.startswith(("kl_p", "delta_p_p")) else
                                 t("cmp.stat.quantile", q=_level(r.key), what="KL" if r.key.startswith("kl") else "Δp")
                                 for r in rows],
        t("cmp.col.value"): [_value(r.value, r.percent) for r in rows],
        "±": ["" if r.uncertainty is None else _value(r.uncertainty, r.percent) for r in rows],
    })
    left.dataframe(table, hide_index=True, width="stretch", height=35 * (len(rows) + 1) + 3)  # every row, no inner scroll
    right.plotly_chart(figures.kl_histogram(explain.kl_histogram(c.kl)), config=figures.plotly_config("logitsviz-kl-histogram"),
                       key="cmp_hist")
    right.caption(t("cmp.hist_caption"))
    st.caption(t("cmp.summary_note"))


def _level(key: str) -> str:
    level = key.rsplit("_p", 1)[1]
    return {"999": "99.9", "001": "0.1"}.get(level, str(int(level)))


def _value(x: float, percent: bool) -> str:
    if not math.isfinite(x):
        return "∞" if x > 0 else ("−∞" if x < 0 else "—")
    return f"{100 * x:.3f} %" if percent else f"{x:.6g}"


def speculative_section(sides: Sides, c: divergence.Comparison, i: int) -> None:
    st.markdown(t("cmp.spec_intro", target=sides.names[0], draft=sides.names[1]))
    acceptance = 1 - c.tv
    alpha = float(np.nanmean(acceptance))
    left, right = st.columns(2)
    if len(c) > 1:
        n = min(len(c), MAX_POSITIONS_SHOWN)
        left.plotly_chart(figures.acceptance(sides.texts[:n] if sides.texts else [f"#{j + 1}" for j in range(n)],
                                             acceptance[:n], alpha), config=figures.plotly_config("logitsviz-acceptance"),
                          key="cmp_accept")
    expected = divergence.expected_accepted(alpha, DRAFT_LENGTHS)
    right.plotly_chart(figures.expected_tokens(DRAFT_LENGTHS, expected), config=figures.plotly_config("logitsviz-expected"),
                       key="cmp_expected")
    widgets.url_stop("cmp_cost", COSTS, 0.1)
    cost = st.select_slider(t("cmp.cost"), options=COSTS, key="cmp_cost", help=t("cmp.cost_help"))
    widgets.keep_in_url("cmp_cost")
    speedup = expected / (DRAFT_LENGTHS * float(cost) + 1)  # Leviathan et al. 2023, Theorem 3.8
    best = int(np.argmax(speedup))
    st.caption(t("cmp.spec_caption", alpha=f"{alpha:.3f}", cost=f"{float(cost):g}", best=int(DRAFT_LENGTHS[best]),
                 speedup=f"{speedup[best]:.2f}"))
    widgets.url_int("cmp_draws", 100, 200_000, 20_000)
    widgets.url_int("cmp_seed", 0, 2**31 - 1, 0)
    c1, c2 = st.columns(2)
    draws = c1.select_slider(t("cmp.draws"), options=[100, 1_000, 5_000, 20_000, 100_000, 200_000], key="cmp_draws")
    seed = c2.number_input(t("cmp.seed"), 0, 2**31 - 1, key="cmp_seed")
    for key in ("cmp_draws", "cmp_seed"):
        widgets.keep_in_url(key)
    view = explain.speculative_view(sides.base[i], sides.other[i], int(draws), int(seed))
    names = [t("cmp.target", name=sides.names[0]), t("cmp.draft", name=sides.names[1]), t("cmp.residual")]
    a, b = st.columns(2)
    a.markdown(f"**{t('cmp.spec_position', i=i + 1)}**")
    a.plotly_chart(figures.pair(sides.labels, view.chart, names), config=figures.plotly_config("logitsviz-residual"),
                   key="cmp_residual")
    b.markdown(f"**{t('cmp.sim_title', n=f'{view.draws:,}')}**")
    b.plotly_chart(figures.pair(sides.labels, view.sample_chart, [names[0], t("cmp.simulated")]),
                   config=figures.plotly_config("logitsviz-simulation"), key="cmp_sim")
    st.caption(t("cmp.sim_caption", rate=f"{view.accepted_rate:.3f}", alpha=f"{view.acceptance:.3f}", p=_p(view.p_value),
                 p_draft=_p(view.draft_p_value)))


def _p(value: float) -> str:
    return "< 1e-300" if value < 1e-300 else f"{value:.3g}"


def _most_apart(c: divergence.Comparison) -> int:
    """The 1-based position where the two sides differ most (largest KL; NaN rows never)."""
    return int(np.argmax(np.where(np.isnan(c.kl), -1, c.kl))) + 1


def _position(c: divergence.Comparison) -> int:
    """The open position (0-based): the link's, else where the two differ most."""
    if len(c) == 1:
        return 0
    default = _most_apart(c)
    widgets.url_int("cmp_pos", 1, len(c), default)
    pos = int(st.session_state["cmp_pos"])
    return pos - 1 if 1 <= pos <= len(c) else default - 1


def downloads(sides: Sides, c: divergence.Comparison) -> None:
    rows = c.rows()

    def table() -> pd.DataFrame:
        df = pd.DataFrame({k: v for k, v in rows.items()})
        df["row"] += 1
        if sides.texts:
            df.insert(1, "token", sides.texts)
        df["top_base"] = [sides.labels[j] for j in c.top_base]
        df["top_other"] = [sides.labels[j] for j in c.top_other]
        return df

    st.markdown(f"**{t('cmp.downloads')}**")
    widgets.table_downloads(table, "compare-positions", "dl_cmp_rows")
    summary = {k: (v if isinstance(v, int) or math.isfinite(v) else None) for k, v in c.summary().items()}
    st.download_button(t("cmp.download_summary"), json.dumps({"base": sides.names[0], "other": sides.names[1], **summary},
                                                                 ensure_ascii=False, indent=1).encode("utf-8"),
                       file_name="logitsviz-compare-summary.json", mime="application/json", icon=":material/download:",
                       on_click="ignore", key="dl_cmp_json")


# --------------------------------------------------------------------- page ----


def render() -> None:
    st.title(t("cmp.title"))
    st.markdown(t("cmp.subtitle"))
    widgets.url_choice("cmp_src", SOURCES, "lm")
    source = st.segmented_control(t("cmp.source"), SOURCES, key="cmp_src", persist_state="session", required=True,
                                  format_func=lambda s: t(f"cmp.source.{s}"))
    widgets.keep_in_url("cmp_src")
    if source == "api":
        _api_section()
        return
    sides = {"lm": _lm_sides, "files": _files_sides, "explorer": _explorer_sides}[source]()
    if sides is None:
        return
    c = divergence.compare(sides.base, sides.other, sides.targets, labels=sides.names)
    try:
        summary = c.summary()
    except InputError as err:
        st.error(t(err.key, **err.params), icon=":material/error:")
        return
    _tiles(c, summary)
    # only the open tab runs (the simulation draws 20,000 samples; the summary sorts every position)
    tabs = widgets.tabs("cmp_tab", ["tokens", "summary", "speculative"], "cmp.tab.{}")
    with tabs[0]:
        if tabs[0].open or tabs[0].open is None:  # before the first run's state, the first tab is the open one
            i = strip_section(sides, c) if len(c) > 1 else 0
            position_section(sides, i)
    with tabs[1]:
        if tabs[1].open:
            summary_section(c, summary)
    with tabs[2]:
        if tabs[2].open:
            i = _position(c)
            speculative_section(sides, c, i)
    downloads(sides, c)
