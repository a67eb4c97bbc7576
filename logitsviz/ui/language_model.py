"""The Language model page: a real model's next-token logits over its whole vocabulary, generation, and scoring.

Everything model-related is imported here, when the page runs: the app starts
without the ``lm`` extra, and this page then says how to install it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from logitsviz import config, examples, explain, figures, sampling, tokens
from logitsviz.errors import InputError
from logitsviz.explain import compact_steps, softmax_steps
from logitsviz.i18n import t
from logitsviz.ui import nav, sequence, state, widgets

OTHER = "other"  # the picker's entry for an id or folder the user types
LOADED = "lm_loaded"  # the last model that loaded: shown when a new choice fails
ORDERS = list(sampling.ORDERS)


# ----------------------------------------------------------------- loading ----


def _model(name: str):
    """The model called ``name`` (the built-in one ships with the package), loaded once per server process."""
    return examples.load_language_model(name)


@st.cache_data(max_entries=16, show_spinner=False)
def _next_logits(name: str, prompt: str) -> np.ndarray:
    return _model(name).next_token_logits(prompt)[1]


@st.cache_data(max_entries=16, show_spinner=False)
def _generate(name: str, prompt: str, steps: int, chain: tuple[tuple[str, float], ...], seed: int):
    return _model(name).generate(prompt, steps, list(chain), seed)


@st.cache_data(max_entries=8, show_spinner=False)
def _score(name: str, text: str):
    return _model(name).score(text)


PATIENCE = 1.5  # seconds a run waits for a model before it shows the load's progress and lets the page be used


def _picked(policy: config.ModelPolicy, full: bool) -> str:
    """The model chosen in the picker (or typed in its box): from the link at first, kept for the session."""
    options = [examples.LANGUAGE_MODEL, *(policy.models if full else ()), *([OTHER] if policy.free_entry and full else [])]
    wanted = st.query_params.get("model")
    if "lm_pick" not in st.session_state:
        st.session_state["lm_pick"] = wanted if wanted in options else (OTHER if wanted and policy.free_entry else options[0])
        if st.session_state["lm_pick"] == OTHER:
            st.session_state["lm_other"] = wanted
    # persist_state: coming back from another page, the model chosen is still the model in use
    pick = st.selectbox(t("lm.model"), options, key="lm_pick", persist_state="session", help=t("lm.model_help"),
                        format_func=lambda o: t(f"lm.model.{o}") if o in (OTHER, examples.LANGUAGE_MODEL) else o)
    if pick != OTHER:
        return pick
    return st.text_input(t("lm.other"), key="lm_other", placeholder=t("lm.other_placeholder"), persist_state="session").strip()


def model_controls():
    """The model picker; returns ``(name, model)`` of the model in use (``model`` None while it loads), or stops the page."""
    from logitsviz import lm

    policy = config.model_policy()
    full = lm.available()  # without PyTorch only the built-in model runs (in numpy)
    name = _picked(policy, full)
    if name:
        st.query_params["model"] = name
    try:
        model = _load(name, policy)
    except InputError as err:
        st.error(t(err.key, **err.params), icon=":material/error:")
        name = st.session_state.get(LOADED)
        if not name:
            st.stop()
        st.caption(t("lm.still_showing", name=_label(name)))
        model = _model(name)
    if model is None:
        return name, None
    st.session_state[LOADED] = name
    mb = model.memory_bytes / 2**20
    st.caption(t("lm.model_info", arch=model.architecture, vocab=f"{model.vocab_size:,}", mb=f"{mb:,.0f}" if mb >= 10 else f"{mb:.2f}",
                 context=f"{model.context:,}"))
    if name == examples.LANGUAGE_MODEL:
        _builtin_card()
    if not full:
        st.caption(t("lm.enable_more", command=lm.INSTALL))
    return name, model


def _builtin_card() -> None:
    """What the built-in model was trained on and how well it reads each language (its held-out bits per byte)."""
    card = examples.language_model()
    st.caption(t("lm.builtin.card", params=f"{card.parameters / 1e6:.1f}", en_mb=f"{card.data['en']['bytes'] / 1e6:.1f}",
                 zh_mb=f"{card.data['zh']['bytes'] / 1e6:.1f}", en_bpb=f"{card.held_out['en']['bits_per_byte']:.2f}",
                 zh_bpb=f"{card.held_out['zh']['bits_per_byte']:.2f}"), help=t("lm.builtin.card_help"))


def _load(name: str, policy: config.ModelPolicy):
    """The model, or None while it loads in the background (a progress bar then shows, and re-runs the page when ready)."""
    from pathlib import Path

    from logitsviz import lm

    if not name:
        raise InputError("lm.not_found", name="")
    if name != examples.LANGUAGE_MODEL and not policy.allows(name, is_folder=Path(name).expanduser().is_dir()
                                                            or name.startswith((".", "/", "~"))):
        raise InputError("lm.not_allowed", name=name)
    job = lm.loading(examples.language_model_path(name))
    model = job.wait(PATIENCE)  # most loads (the built-in model: about a second) end here, with no progress bar
    if model is None:
        _progress(job, _label(name))
    return model


@widgets.fragment(run_every=0.5)
def _progress(job, label: str) -> None:
    """The load's progress, drawn again twice a second; the whole page runs again once the model is ready."""
    if job.done:
        st.rerun(scope="app")
    st.progress(job.fraction, text=t(f"lm.stage.{job.stage}", name=label, percent=f"{100 * job.fraction:.0f}"))
    st.caption(t("lm.loading_note"))


def _label(name: str) -> str:
    return t("lm.model.builtin") if name == examples.LANGUAGE_MODEL else name


# ---------------------------------------------------------------- sections ----


def _open_in(page: str, labels: list[str], logits: np.ndarray, prompt: str, name: str) -> None:
    """Make a distribution current and go to the Explorer or the Decoding lab with it."""
    st.session_state[state.LM_SOURCE] = (prompt, name, list(labels), np.asarray(logits, dtype=np.float64))
    state.set_current(list(labels), np.asarray(logits, dtype=np.float64), source="lm")
    params = {"src": "lm"} if page == "decoding" else {}
    st.switch_page(nav.page(page), query_params={**params, "lang": st.query_params.get("lang", "en")})


def next_token_section(name: str, model, prompt: str) -> None:
    st.markdown(t("lm.next.intro"))
    c1, c2 = st.columns([3, 1])
    temperature = c1.select_slider(t("explorer.temperature"), options=widgets.TEMPERATURES, value=1.0, key="lmT", bind="query-params",
                                   help=t("explorer.temperature_help"))
    top = c2.number_input(t("lm.top"), min_value=3, max_value=100, value=15, step=1, key="lmtop", bind="query-params")
    if model is None:
        st.caption(t("lm.waiting"))
        return
    try:
        logits = _next_logits(name, prompt)
    except InputError as err:
        st.error(t(err.key, **err.params), icon=":material/error:")
        return
    steps = softmax_steps(logits, temperature=float(temperature), top=int(top))
    st.plotly_chart(figures.compare_steps(model.vocab, steps, tokens=True), config=figures.plotly_config("logitsviz-next-token"),
                    key="chart_next")
    widgets.softmax_tiles(model.vocab, steps, tokens=True)
    st.caption(t("lm.next.caption", n=f"{logits.size:,}", others=f"{steps.others_count:,}"))
    b1, b2, _ = st.columns([1, 1, 2])
    if b1.button(t("lm.open_explorer"), icon=":material/bar_chart:", key="next_explorer"):
        _open_in("explorer", model.vocab, logits, prompt, name)
    if b2.button(t("lm.open_decoding"), icon=":material/tune:", key="next_decoding"):
        _open_in("decoding", model.vocab, logits, prompt, name)


def chain_controls() -> tuple[list[tuple[str, float]], int, int]:
    """The sampling chain (temperature, top-k, top-p, min-p in a named order), the number of tokens and the seed."""
    c = st.columns(4)
    steps = c[0].number_input(t("lm.gen.steps"), min_value=1, max_value=200, value=20, step=1, key="g_steps", bind="query-params")
    seed = c[1].number_input(t("decode.sample.seed"), min_value=0, max_value=2**31 - 1, value=0, step=1, key="g_seed", bind="query-params")
    temperature = c[2].select_slider(t("decode.filter.temperature.name"), options=widgets.TEMPERATURES, value=0.8, key="g_T",
                                     bind="query-params")
    widgets.url_choice("g_order", ORDERS, "transformers")
    order = c[3].selectbox(t("decode.order"), ORDERS, key="g_order", persist_state="session", format_func=lambda o: t(f"decode.order.{o}"))
    widgets.keep_in_url("g_order")
    d = st.columns(3)
    top_k = d[0].number_input(t("decode.filter.top_k.name"), min_value=0, max_value=1000, value=0, step=1, key="g_topk",
                              bind="query-params", help=t("lm.gen.off_zero"))
    top_p = d[1].number_input(t("decode.filter.top_p.name"), min_value=0.01, max_value=1.0, value=0.95, step=0.01, key="g_topp",
                              bind="query-params", help=t("lm.gen.off_one"))
    min_p = d[2].number_input(t("decode.filter.min_p.name"), min_value=0.0, max_value=1.0, value=0.0, step=0.01, key="g_minp",
                              bind="query-params", help=t("lm.gen.off_zero"))
    settings = {"temperature": float(temperature), "top_k": int(top_k) or None, "top_p": float(top_p) if top_p < 1 else None,
                "min_p": float(min_p) or None}
    return sampling.in_order(settings, order), int(steps), int(seed)


def _step_hover(model, step) -> str:
    alternatives = ", ".join(f"{a.text} {np.exp(a.logprob):.2f}" for a in step.alternatives(model.vocab)[:5])
    return t("lm.gen.hover", token=step.text, p=f"{np.exp(step.logprob):.3f}", q=f"{step.final_prob:.3f}", rank=step.rank,
             h=f"{step.entropy_bits:.2f}", alternatives=alternatives)


def _selected(event) -> int | None:
    points = (event or {}).get("selection", {}).get("points", []) if isinstance(event, dict) else getattr(getattr(event, "selection", None), "points", [])
    return int(points[0]["point_index"]) if points else None


def generate_section(name: str, model, prompt: str) -> None:
    st.markdown(t("lm.gen.intro"))
    chain, steps, seed = chain_controls()
    st.markdown(" → ".join([f":gray-badge[{t('decode.diagram.logits')}]", *(f":orange-badge[{t(f'decode.filter.{n}.short')} {v:g}]" for n, v in chain),
                            f":green-badge[{t('decode.diagram.sample')}]"]))
    if model is None:
        st.caption(t("lm.waiting"))
        return
    try:
        trace = _generate(name, prompt, steps, tuple(chain), seed)
    except InputError as err:
        st.error(t(err.key, **err.params), icon=":material/error:")
        return
    if not trace.steps:
        st.info(t("lm.gen.nothing"))
        return
    texts = [s.text for s in trace.steps]
    probs = [float(np.exp(s.logprob)) for s in trace.steps]
    event = st.plotly_chart(
        figures.token_strip(texts, probs, [_step_hover(model, s) for s in trace.steps], cmin=0, cmax=1, title="p"),
        config={**figures.plotly_config("logitsviz-generation"), "displayModeBar": False}, key="strip_gen", on_select="rerun",
        selection_mode="points",
    )
    chosen = _selected(event)
    st.caption(t("lm.gen.caption", n=len(trace.steps), ppl=f"{np.exp(-np.mean([s.logprob for s in trace.steps])):.2f}"))
    with st.expander(t("lm.gen.full_text")):
        st.text(trace.text)
    if chosen is None:
        st.caption(t("lm.gen.click"))
    else:
        step_panel(name, model, prompt, trace, chosen)
    table = pd.DataFrame({"position": np.arange(1, len(texts) + 1), "token": texts, "token_id": [s.token for s in trace.steps],
                          "probability": probs, "final_probability": [s.final_prob for s in trace.steps],
                          "rank": [s.rank for s in trace.steps], "entropy_bits": [s.entropy_bits for s in trace.steps]})
    widgets.table_downloads(table, "generation", "dl_gen")


def _branch(prompt: str) -> None:
    """Continue from a generated position: its text becomes the prompt, and the old selection is forgotten."""
    st.session_state["prompt"] = prompt
    st.session_state.pop("strip_gen", None)


def step_panel(name: str, model, prompt: str, trace, i: int) -> None:
    """One generated position: its distribution (top tokens and the rest), and where to take it."""
    step = trace.steps[i]
    labels = [t("lm.gen.drawn", token=model.vocab[i]) if i == step.token else model.vocab[i] for i in step.top_ids]
    steps = compact_steps(step.top_logits, step.rest_logsumexp, step.rest_count)
    st.markdown(t("lm.gen.position", i=i + 1, token=step.text, p=f"{np.exp(step.logprob):.3f}", rank=step.rank))
    st.plotly_chart(figures.compare_steps(labels, steps, tokens=True), config=figures.plotly_config("logitsviz-step"), key="chart_step")
    labels, logits = step.distribution(model.vocab, t("fig.others_tokens", k=f"{step.rest_count:,}"))
    before = b"".join(model.token_bytes[s.token] for s in trace.steps[:i]).decode("utf-8", errors="ignore")
    b1, b2, b3 = st.columns(3)
    # a callback, which runs before the prompt's widget exists in the next run: assigning a widget's key after the
    # widget is drawn raises (and did, now and then, after a click here)
    b1.button(t("lm.gen.branch"), icon=":material/call_split:", key="branch", help=t("lm.gen.branch_help"),
              on_click=_branch, args=(prompt + before,))
    if b2.button(t("lm.open_explorer"), icon=":material/bar_chart:", key="step_explorer"):
        _open_in("explorer", labels, logits, prompt + before, name)
    if b3.button(t("lm.open_decoding"), icon=":material/tune:", key="step_decoding"):
        _open_in("decoding", labels, logits, prompt + before, name)


def score_section(name: str, model) -> None:
    st.markdown(t("lm.score.intro"))
    if "score_text" not in st.session_state and "score_text" not in st.query_params:
        st.session_state["score_text"] = t("lm.score.default_builtin" if name == examples.LANGUAGE_MODEL else "lm.score.default")
    text = st.text_area(t("lm.score.text"), key="score_text", bind="query-params", height=100)
    if model is None:
        st.caption(t("lm.waiting"))
        return
    try:
        scores = _score(name, text)
    except InputError as err:
        st.error(t(err.key, **err.params), icon=":material/error:")
        return
    if not scores.tokens:
        st.info(t("lm.score.too_short"))
        return
    sequence.sequence_section(scores.to_sequence(), "score")
    if scores.unscored:
        st.caption(t("lm.score.unscored", token=scores.unscored))
    nucleus_section(name, text)


@st.cache_data(max_entries=8, show_spinner=False)
def _nucleus(name: str, text: str, alpha: float):
    from logitsviz import conformal

    ids, logits = _model(name).forced(text)
    return conformal.nucleus(logits, np.asarray(ids[1:]), alpha)


def nucleus_section(name: str, text: str) -> None:
    """The conformal nucleus: the top-p that holds the text's next token at least 1 − α of the time."""
    st.markdown(f"**{t('lm.nucleus.title')}**")
    alpha = st.select_slider(t("conf.alpha"), options=[0.05, 0.1, 0.2, 0.3], value=0.1, key="nu_alpha", bind="query-params")
    try:
        nu = _nucleus(name, text, float(alpha))
    except InputError as err:
        st.error(t(err.key, **err.params), icon=":material/error:")
        return
    st.markdown(t("lm.nucleus.result", p=f"{nu.top_p:.3f}", target=f"{100 * (1 - nu.alpha):.0f}", n=nu.n,
                  size=f"{nu.mean_size:.1f}", coverage=f"{100 * nu.coverage:.1f}"))
    st.caption(t("lm.nucleus.note"))


# ------------------------------------------------------------------ layers ----


@st.cache_data(max_entries=8, show_spinner=False)
def _lens_view(name: str, prompt: str) -> explain.LensView:
    """The lens's numbers for the tab (small arrays: the lens itself holds the unembedding, never cached)."""
    return explain.lens_view(_model(name).lens(prompt))


@st.cache_data(max_entries=8, show_spinner=False)
def _attribution(name: str, prompt: str):
    return _model(name).attribution(prompt, int(np.argmax(_next_logits(name, prompt))))


def _cell(event, n_pos: int) -> tuple[int, int] | None:
    points = event.get("selection", {}).get("points", []) if event else []
    if not points:
        return None
    i = int(points[0].get("point_index", points[0].get("point_number", 0)))
    return divmod(i, n_pos)


def layers_section(name: str, model, prompt: str) -> None:
    """The logit lens grid, one position's tokens through the layers, and where the final logit comes from."""
    st.markdown(t("lens.intro"))
    if model is None:
        st.caption(t("lm.waiting"))
        return
    try:
        view = _lens_view(name, prompt)
    except InputError as err:
        st.error(t(err.key, **err.params), icon=":material/error:")
        return
    n_rows, n_pos = view.top_prob.shape
    widgets.url_choice("lens_c", ["prob", "kl"], "prob")
    colour = st.segmented_control(t("lens.colour"), ["prob", "kl"], key="lens_c", persist_state="session", required=True,
                                  format_func=lambda c: t(f"lens.colour.{c}"))
    widgets.keep_in_url("lens_c")
    event = st.plotly_chart(figures.lens_grid(view, colour), config={**figures.plotly_config("logitsviz-lens"), "displayModeBar": False},
                            key="chart_lens", on_select="rerun", selection_mode="points")
    st.caption(t("lens.grid.caption", rows=n_rows - 1))
    picked = _cell(event, n_pos)
    widgets.url_int("lens_pos", 1, n_pos, n_pos)
    if not 1 <= st.session_state["lens_pos"] <= n_pos:
        st.session_state["lens_pos"] = n_pos
    if picked is not None and st.session_state.get("lens_seen") != picked:
        st.session_state["lens_seen"] = picked
        st.session_state["lens_pos"] = picked[1] + 1
    if picked is not None:
        _lens_cell(name, model, prompt, view, *picked)
    pos = st.number_input(t("lens.position"), 1, n_pos, key="lens_pos", help=t("lens.position_help"))
    widgets.keep_in_url("lens_pos")
    i = int(pos) - 1
    st.markdown(f"**{t('lens.journey.title', token=tokens.visible(view.tokens[i]), i=i + 1)}**")
    st.plotly_chart(figures.lens_journey(view, i), config=figures.plotly_config("logitsviz-lens-journey"), key="chart_journey")
    st.caption(t("lens.journey.caption"))
    _grid_download(view)
    st.divider()
    attribution_section(name, model, prompt)


def _lens_cell(name: str, model, prompt: str, view: explain.LensView, row: int, col: int) -> None:
    st.markdown(t("lens.cell", row=row, token=tokens.visible(view.tokens[col]), top=tokens.visible(view.top_text[row][col]),
                  p=f"{view.top_prob[row, col]:.3f}", kl=f"{view.kl[row, col]:.3f}"))
    if st.button(t("lm.open_explorer"), icon=":material/bar_chart:", key="lens_explorer"):
        logits = model.lens(prompt).layer(row)[col]
        _open_in("explorer", model.vocab, logits, prompt, name)


def _grid_download(view: explain.LensView) -> None:
    n_rows, n_pos = view.top_prob.shape
    rows, cols = np.divmod(np.arange(n_rows * n_pos), n_pos)
    df = pd.DataFrame({"layer": rows, "position": cols + 1, "token": [view.tokens[c] for c in cols],
                       "top": [view.top_text[r][c] for r, c in zip(rows, cols)], "p_top": view.top_prob.ravel(),
                       "kl_to_final": view.kl.ravel()})
    widgets.table_downloads(df, "logit-lens", "dl_lens")


def attribution_section(name: str, model, prompt: str) -> None:
    st.subheader(t("lens.attr.title"))
    try:
        att = _attribution(name, prompt)
    except InputError as err:
        st.error(t(err.key, **err.params), icon=":material/error:")
        return
    head = model._head
    bias = float(head.bias[att.token]) if head.bias is not None else 0.0
    view = explain.attribution_view(att, model.vocab, head.unembed[att.token], bias)
    st.markdown(t("lens.attr.intro", token=tokens.visible(view.token), other=tokens.visible(view.other),
                  diff=f"{view.total:.3f}"))
    st.plotly_chart(figures.attribution_waterfall(view), config=figures.plotly_config("logitsviz-attribution"), key="chart_attr")
    st.caption(t("lens.attr.caption"))
    widgets.table_downloads(pd.DataFrame({"part": view.names, "value": view.values}), "attribution", "dl_attr")
    st.markdown(f"**{t('lens.step.title', token=tokens.visible(view.token))}**")
    products = view.hidden * view.row
    d = view.hidden.size
    shown = min(d, 6)
    terms = f"({view.hidden[0]:.3f})({view.row[0]:.3f})"  # one product: two are wider than a phone
    plus_b = " + b_t" if head.bias is not None else ""
    # one step a line: on one line it is wider than a phone's screen
    st.latex(r"\begin{aligned} \text{logit}_t &= h \cdot W_U[t]" + plus_b + rf" \\ &= \textstyle\sum_{{j=1}}^{{{d}}} h_j\, W_U[t]_j"
             + plus_b + rf" \\ &= {terms} + \cdots \\ &= {float(products.sum()) + bias:.3f} \end{{aligned}}")
    table = pd.DataFrame({t("lens.step.dim"): np.arange(shown), "h": view.hidden[:shown], "W_U": view.row[:shown],
                          "h × W_U": products[:shown]})
    st.dataframe(table, hide_index=True, width="stretch", column_config={k: st.column_config.NumberColumn(format="%.4f")
                                                                          for k in ("h", "W_U", "h × W_U")})
    st.caption(t("lens.step.caption", d=f"{d:,}", shown=shown, total=f"{float(products.sum()) + bias:.4f}",
                 logit=f"{view.logit:.4f}"))


# -------------------------------------------------------------------- page ----


def render() -> None:
    st.title(t("lm.title"))
    st.markdown(t("lm.subtitle"))
    from logitsviz import lm

    if not lm.available() and not lm.available("numpy"):
        st.info(t("lm.enable", command=lm.INSTALL), icon=":material/download:")
        st.stop()
    left, right = st.columns([2, 3], gap="medium")
    with left:
        name, model = model_controls()
    with right:
        if "prompt" not in st.session_state and "prompt" not in st.query_params:
            st.session_state["prompt"] = t("lm.default_prompt_builtin" if name == examples.LANGUAGE_MODEL else "lm.default_prompt")
        prompt = st.text_area(t("lm.prompt"), key="prompt", bind="query-params", height=110, help=t("lm.prompt_help"))
    tabs = widgets.tabs("lm_tab", ["next", "generate", "score", "layers"], "lm.tab.{}")
    with tabs[0]:
        next_token_section(name, model, prompt)
    with tabs[1]:
        generate_section(name, model, prompt)
    with tabs[2]:
        score_section(name, model)
    with tabs[3]:
        if tabs[3].open:  # the lens runs the model again and reads every layer: only while its tab is open
            layers_section(name, model, prompt)
