"""The Decoding lab: every sampler people use, chained in any order; sampling; a generation step by step."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from logitsviz import examples, explain, figures, inputs, sampling
from logitsviz.errors import InputError
from logitsviz.i18n import get_language, t
from logitsviz.ui import nav, state, widgets

CUSTOM = "custom"  # the order once a card was moved: ?seq= holds it
PRESETS = [*sampling.ORDERS, CUSTOM]
GEN = "lv_decode_generation"  # the step-by-step generation: its tokens, generator and mirostat
TOKENS = "lv_tokens_{}"  # a setting of token ids (DRY's sequence breakers) as ids, read from its box
ON_AT_FIRST = frozenset({"temperature", "top_p"})  # the units in the chain when the page first opens

# Every card is drawn from the unit's own declaration (``sampling.FILTERS[name].settings``): its first setting, when a
# number, is the box and slider on the card; the others sit under it (numbers, a switch, a box of token ids).


def _main(name: str) -> sampling.Setting | None:
    """The number a unit is named by (its box and slider), or None (p-less has none)."""
    settings = sampling.FILTERS[name].settings
    return settings[0] if settings and settings[0].kind == "number" else None


def _typed(setting: sampling.Setting, value: float) -> float:
    return int(value) if setting.integer else float(value)


# --------------------------------------------------------------- controls ----


def _sync_from_slider(name: str) -> None:
    st.session_state[name] = _typed(_main(name), st.session_state[f"{name}__slider"])


def _nearest(setting: sampling.Setting, value: float) -> float:
    """Where the slider sits for an exact value typed in the number box."""
    if setting.log:
        options = np.asarray(setting.slider, dtype=float)
        return float(options[np.argmin(np.abs(np.log(options) - np.log(value)))])
    lo, hi, step = setting.slider
    snapped = round((min(max(value, lo), hi) - lo) / step) * step + lo
    return int(snapped) if setting.integer else round(float(snapped), 6)


def sequence() -> list[str]:
    """Every unit in the order the chain applies them: a project's order, or the user's own (``?seq=``)."""
    order = st.session_state.get("order", "transformers")
    if order != CUSTOM:
        return list(sampling.ORDERS.get(order, sampling.ORDERS["transformers"]))
    named = [n for n in dict.fromkeys(str(st.session_state.get("seq", "")).split(",")) if n in sampling.FILTERS]
    return named + [n for n in sampling.ORDERS["transformers"] if n not in named]


def is_on(name: str) -> bool:
    """Whether a unit is in the chain, before its toggle is drawn (from this session, else the link, else its default)."""
    if f"on_{name}" in st.session_state:
        return bool(st.session_state[f"on_{name}"])
    wanted = st.query_params.get(f"on_{name}")
    return name in ON_AT_FIRST if wanted is None else wanted.lower() == "true"


def _on_order() -> None:
    """A project's order comes with that project's defaults: choosing llama.cpp samples as llama.cpp does out of the box."""
    defaults = sampling.DEFAULTS.get(st.session_state.get("order"))
    if defaults is None:  # an order without published defaults (text-generation-webui's), or the user's own
        return
    for name in sampling.FILTERS:
        st.session_state[f"on_{name}"] = name in defaults
        if name in defaults:  # its slider follows the number on the next run
            st.session_state[name] = _typed(_main(name), defaults[name])


def _move(name: str, step: int) -> None:
    """Swap a card with its neighbour in the chain (the next enabled unit up or down); the order becomes the user's own."""
    seq = sequence()
    enabled = [n for n in seq if is_on(n)]
    i = enabled.index(name)
    if not 0 <= i + step < len(enabled):
        return
    a, b = seq.index(name), seq.index(enabled[i + step])
    seq[a], seq[b] = seq[b], seq[a]
    st.session_state["seq"] = ",".join(seq)
    st.session_state["order"] = CUSTOM


def filter_card(name: str, first: bool, last: bool, labels: list[str] = ()) -> float | None:
    """One unit of the chain: on/off, up, down and its rule on one line; its exact value and slider; its other settings."""
    label, main = t(f"decode.filter.{name}.name"), _main(name)
    value = None
    with st.container(border=True):
        with st.container(horizontal=True, vertical_alignment="center", gap="small"):
            on = st.toggle(label, value=name in ON_AT_FIRST, key=f"on_{name}", bind="query-params", width="stretch")
            st.button("", icon=":material/arrow_upward:", key=f"up_{name}", on_click=_move, args=(name, -1), disabled=first,
                      help=t("decode.move_up"), type="tertiary")
            st.button("", icon=":material/arrow_downward:", key=f"down_{name}", on_click=_move, args=(name, 1), disabled=last,
                      help=t("decode.move_down"), type="tertiary")
            with st.popover("", icon=":material/functions:", help=t("decode.rule_help", name=label)):
                st.markdown(f"**{label}**")
                st.caption(t(f"decode.filter.{name}.help"))
                st.latex(t(f"decode.filter.{name}.formula"))
        if main is not None:
            with st.container(horizontal=True, vertical_alignment="center", gap="medium"):
                value = _number_box(main, label, disabled=not on, label_visibility="collapsed")
                if on:
                    _slider(main, label, value)
        if on:
            _card_settings(name, list(labels))
            st.caption(t(f"decode.filter.{name}.help"))
    return (value if main is not None else 0.0) if on else None


def _number_box(setting: sampling.Setting, label: str, **kw) -> float:
    """A setting's exact number, in the link as its key."""
    bound = (lambda v: int(v)) if setting.integer else (lambda v: v)
    return st.number_input(label, min_value=bound(setting.lo), max_value=bound(setting.hi), value=setting.default, step=setting.step,
                           format=setting.fmt, key=setting.key, bind="query-params", width=130, **kw)


def _card_settings(name: str, labels: list[str]) -> None:
    """A unit's other settings, under its slider: numbers side by side, then switches and boxes of token ids."""
    main = _main(name)
    rest = [s for s in sampling.FILTERS[name].settings if s is not main]
    numbers = [s for s in rest if s.kind == "number"]
    if numbers:
        with st.container(horizontal=True, gap="small"):
            for setting in numbers:
                _number_box(setting, t(f"decode.param.{setting.key}"), help=t(f"decode.param.{setting.key}_help"))
    for setting in rest:
        if setting.kind == "tokens":
            st.text_input(t(f"decode.param.{setting.key}"), key=setting.key, bind="query-params", help=t(f"decode.param.{setting.key}_help"),
                          placeholder=t("decode.history_placeholder"))
            st.session_state[TOKENS.format(setting.key)] = _token_ids(setting.key, labels)
        elif setting.kind == "switch":
            st.checkbox(t(f"decode.param.{setting.key}"), key=setting.key, bind="query-params")


def _slider(setting: sampling.Setting, label: str, value: float) -> None:
    """The slider beside the exact number: it starts where the number is and moves it."""
    slider_key = f"{setting.key}__slider"
    st.session_state[slider_key] = _nearest(setting, value)
    if setting.log:
        st.select_slider(label, options=setting.slider, key=slider_key, on_change=_sync_from_slider, args=(setting.key,),
                         label_visibility="collapsed", format_func=lambda v: f"{v:g}")
    else:
        lo, hi, step = setting.slider
        st.slider(label, min_value=lo, max_value=hi, step=step, key=slider_key, on_change=_sync_from_slider, args=(setting.key,),
                  label_visibility="collapsed")


def _seed() -> int:
    try:
        return int(st.session_state.get("seed", st.query_params.get("seed", 0)))
    except (TypeError, ValueError):
        return 0


def unit(name: str, value: float, history: tuple[int, ...], tokens: tuple[tuple[str, tuple[int, ...]], ...] = (),
         carried: object | None = None) -> sampling.Filter:
    """The library's unit for a card, from the unit's own settings: the card's number, the others from their boxes, the
    token ids typed (``tokens``), the history and the page's seed; a unit that carries state (mirostat) goes on from
    the state a generation ``carried``."""
    cls = sampling.FILTERS[name]
    typed = dict(tokens)
    values = {s.key: typed.get(s.key, ()) if s.kind == "tokens" else st.session_state.get(s.key) for s in cls.settings}
    main = _main(name)
    if main is not None:
        values[main.key] = value
    built = cls.from_settings(values, history=history, seed=_seed())
    return built.at(carried) if cls.picks_token and carried is not None else built


def source_controls() -> tuple[list[str], np.ndarray, str | None]:
    """Which distribution to decode: a decoding preset, the Language model page's, or the Explorer's current input."""
    options = [*examples.DECODING_PRESETS, "lm", "explorer"]
    widgets.url_choice("src", options, "weather_zh" if get_language() == "zh" else options[0])  # a prompt in the reader's language
    source = st.selectbox(
        t("decode.source"), options=options, key="src", persist_state="session",
        format_func=lambda name: t(f"decode.source.{name}"), help=t("decode.source_help"),
    )
    widgets.keep_in_url("src")
    if source == "explorer":
        cur = state.init_current()
        state.show_unlinked()
        return cur.labels, cur.logits, None
    if source == "lm":
        return _language_model_source()
    prompt, tokens, logits = examples.decoding_preset(source)
    st.markdown(t("decode.prompt", prompt=prompt))
    # the leading-space mark explained only where a token has one (the Chinese example has none)
    st.caption(t("decode.illustrative" if any(tok.startswith("␣") for tok in tokens) else "decode.illustrative_no_space"))
    return tokens, logits, prompt


def _language_model_source() -> tuple[list[str], np.ndarray, str]:
    """The next-token logits last shown on the Language model page; until there are some, say where to get them."""
    held = st.session_state.get(state.LM_SOURCE)
    if held is None:
        st.info(t("decode.lm_first"), icon=":material/info:")
        st.page_link(nav.page("lm"), label=t("nav.lm"), icon=":material/chat:")
        st.stop()
    prompt, name, labels, logits = held
    st.markdown(t("decode.prompt", prompt=prompt))
    st.caption(t("decode.from_model", name=name, n=f"{len(labels):,}"))
    return labels, logits, prompt


def diagram(steps: list[tuple[str, float]]) -> str:
    """The pipeline as a line of badges: enabled stages in order, then softmax and sampling."""
    parts = [f":gray-badge[{t('decode.diagram.logits')}]"]
    for name, value in steps:
        shown = t(f"decode.filter.{name}.short") + ("" if _main(name) is None else f" {value:g}")
        parts.append(f":orange-badge[{shown}]")
    parts += [f":blue-badge[{t('decode.diagram.softmax')}]", f":green-badge[{t('decode.diagram.sample')}]"]
    return " → ".join(parts)


# ------------------------------------------------------------------ views ----


def summary(labels: list[str], view: explain.DecodingView) -> None:
    """Four tiles, two by two: the results column is too narrow for four in a row (values and labels were cut)."""
    top, bottom = st.columns(2), st.columns(2)
    top[0].metric(t("decode.metric.kept_of", n=f"{view.n_tokens:,}"), f"{view.n_kept:,}", help=t("decode.metric.kept_help"))
    top[1].metric(t("decode.metric.mass"), f"{100 * view.mass_kept:.1f}%", help=t("decode.metric.mass_help"))
    bottom[0].metric(t("decode.metric.entropy"), f"{view.entropy_bits:.2f}", delta=f"{view.entropy_change:+.2f}", delta_color="off",
                     help=t("decode.metric.entropy_help"))
    label = labels[view.greedy]
    bottom[1].metric(t("decode.metric.greedy"), label if len(label) <= 14 else label[:13] + "…", help=t("decode.metric.greedy_help"))


@widgets.fragment
def sampling_section(labels: list[str], final: np.ndarray) -> None:
    """Draw samples; only this part re-runs when N or the seed changes."""
    st.subheader(t("decode.sample.title"))
    st.markdown(t("decode.sample.intro"))
    c1, c2 = st.columns(2)
    n = c1.number_input(t("decode.sample.n"), min_value=1, max_value=100_000, value=1000, step=100, key="n", bind="query-params")
    seed = c2.number_input(t("decode.sample.seed"), min_value=0, max_value=2**31 - 1, value=0, step=1, key="seed", bind="query-params")
    view = explain.samples(final, int(n), int(seed))
    m1, m2, m3 = st.columns(3)
    m1.metric(t("decode.sample.tvd"), f"{view.total_variation:.4f}", help=t("decode.sample.tvd_help"))
    m2.metric(t("decode.sample.greedy_share"), f"{100 * view.greedy_share:.1f}%", help=t("decode.sample.greedy_share_help"))
    m3.metric(t("decode.sample.distinct"), f"{view.distinct:,}")
    st.plotly_chart(figures.samples(labels, view), config=figures.plotly_config("logitsviz-samples"), key="chart_samples")
    st.caption(t("decode.sample.first", k=min(20, view.draws.size)))
    st.text(" · ".join(labels[i] for i in view.draws[:20]))
    widgets.fragment_share_link()  # N and the seed are in the link


def downloads(labels: list[str], logits: np.ndarray, final: np.ndarray) -> None:
    st.markdown(f"**{t('decode.download')}**")

    def table() -> pd.DataFrame:  # built on click: the vocabulary may be 200,000 tokens
        return pd.DataFrame({"token": labels, "logit": logits, "final_logit": final,
                             "final_probability": explain.softmax_table(final)["probability"]})

    widgets.table_downloads(table, "decoding", "dl_decoding")


# ------------------------------------------------------------- generation ----


def _generation(key: tuple) -> dict:
    """The step-by-step generation of this chain and distribution; a change to either starts it again."""
    held = st.session_state.get(GEN)
    if held is None or held["key"] != key:
        held = {"key": key, "ids": [], "rows": [], "rng": np.random.default_rng(_seed()), "state": None}
        st.session_state[GEN] = held
    return held


def _chain_units(steps: list[tuple[str, float]], history: tuple[int, ...], tokens: tuple,
                 carried: object | None = None) -> list[sampling.Filter]:
    return [unit(name, value, history, tokens, carried) for name, value in steps]


def _queue(n: int) -> None:
    st.session_state["gen_pending"] = n  # drawn before the charts, so they show the history with these tokens


def _reset() -> None:
    st.session_state.pop(GEN, None)


def advance(held: dict, logits: np.ndarray, steps: list[tuple[str, float]], typed: tuple[int, ...],
            tokens: tuple) -> None:
    """Draw the tokens asked for by the buttons, each with the history so far; mirostat's state goes from each draw to
    the next.

    On the Language model page's distribution the model itself runs: every token is fed back to it, and the
    generation is made again from the prompt with the same seed (the same tokens, then the new ones).
    """
    pending = int(st.session_state.pop("gen_pending", 0) or 0)
    source = st.session_state.get(state.LM_SOURCE) if st.session_state.get("src") == "lm" else None
    if pending and source is not None:
        prompt, name = source[0], source[1]
        with st.spinner(t("decode.gen.running", n=len(held["ids"]) + pending)):
            trace = examples.load_language_model(name).generate(prompt, len(held["ids"]) + pending, _chain_units(steps, (), tokens),
                                                                seed=_seed(), stop_at_eos=False)
        held["rows"] = explain.trace_steps(trace.steps)
        held["ids"] = [r.token for r in held["rows"]]
        return
    for _ in range(pending):
        units = _chain_units(steps, (), tokens, held.get("state"))
        step = explain.generation_step(logits, units, history=(*typed, *held["ids"]), rng=held["rng"])
        held["state"] = next((u.state for u in units if u.picks_token), None)
        held["ids"].append(step.token)
        held["rows"].append(step)


def generation_section(labels: list[str], held: dict, steps: list[tuple[str, float]]) -> None:
    """Token after token with the chain, each fed back as history: penalties bite, mirostat's μ moves."""
    st.subheader(t("decode.gen.title"))
    st.markdown(t("decode.gen.intro"))
    with st.container(horizontal=True, gap="small"):
        st.button(t("decode.gen.step"), icon=":material/skip_next:", key="gen_one", on_click=_queue, args=(1,))
        st.button(t("decode.gen.ten"), icon=":material/fast_forward:", key="gen_ten", on_click=_queue, args=(10,))
        st.button(t("decode.gen.reset"), icon=":material/restart_alt:", key="gen_reset", on_click=_reset, type="tertiary",
                  disabled=not held["rows"])
    if not held["rows"]:
        st.caption(t("decode.gen.empty"))
        return
    view = explain.generation_view(held["rows"], tau=dict(steps).get("mirostat"))
    st.markdown(t("decode.gen.text", text=" ".join(labels[i] for i in held["ids"][-40:])))
    st.plotly_chart(figures.generation_steps(view), config=figures.plotly_config("logitsviz-generation"), key="chart_generation")
    cols = {
        "step": np.arange(1, len(held["rows"]) + 1), "token": [labels[r.token] for r in held["rows"]],
        "p": [r.probability for r in held["rows"]], "surprise": [r.surprise_bits for r in held["rows"]],
        "kept": [r.kept for r in held["rows"]], **({"mu": [r.mu for r in held["rows"]]} if view.mu is not None else {}),
    }
    formats = {"p": "%.3f", "surprise": "%.2f", "mu": "%.2f"}
    st.space("small")  # a touch screen always shows the table toolbar above it: not over the chart's axis title
    st.dataframe(pd.DataFrame({t(f"decode.gen.col.{k}"): v for k, v in cols.items()}), hide_index=True,
                 height=min(35 * (len(held["rows"]) + 1) + 3, 300),
                 column_config={t(f"decode.gen.col.{k}"): st.column_config.NumberColumn(format=f) for k, f in formats.items() if k in cols})


def _token_ids(key: str, labels: list[str]) -> tuple[int, ...]:
    """Ids typed into a text box (by token or id); a bad word is shown as an error and nothing is used."""
    try:
        return inputs.parse_token_ids(st.session_state.get(key, st.query_params.get(key, "")) or "", labels)
    except InputError as err:
        st.error(t(err.key, **err.params), icon=":material/error:")
        return ()


def chain_controls(labels: list[str]) -> tuple[list[tuple[str, float]], tuple[int, ...], tuple[int, ...]]:
    """The chain's cards in order, the units not in it one click away; the history the penalties read."""
    st.subheader(t("decode.filters"))
    st.caption(t("decode.chain_help"))
    seq = sequence()
    enabled = [n for n in seq if is_on(n)]
    typed: tuple[int, ...] = ()
    if any(sampling.FILTERS[n].uses_history for n in enabled):
        st.text_input(t("decode.history"), key="history", bind="query-params", help=t("decode.history_help"),
                      placeholder=t("decode.history_placeholder"))
        typed = _token_ids("history", labels)  # a bad word says so right under the box
    steps = []
    for i, name in enumerate(enabled):
        value = filter_card(name, first=i == 0, last=i == len(enabled) - 1, labels=labels)
        if value is not None:
            steps.append((name, value))
    rest = [n for n in seq if n not in enabled]
    with st.expander(t("decode.more", n=len(rest)), icon=":material/add:"):
        # a flow of whole names that wraps to the width there is: two fixed columns cut "Repetition …", "Dynamic t…"
        with st.container(horizontal=True, gap="medium"):
            for name in rest:
                st.toggle(t(f"decode.filter.{name}.name"), value=name in ON_AT_FIRST, key=f"on_{name}", bind="query-params",
                          help=t(f"decode.filter.{name}.help"), width="content")
    # the token ids typed for the enabled units (DRY's sequence breakers): part of what a generation depends on
    tokens = tuple((s.key, st.session_state.get(TOKENS.format(s.key), ())) for n in enabled for s in sampling.FILTERS[n].settings
                   if s.kind == "tokens")
    return steps, typed, tokens


def _stage_caption(labels: list[str], stage: explain.StageView) -> str:
    parts = [t("decode.stage_caption", removed=f"{stage.removed:,}", left=f"{stage.left:,}")]
    if "history" in stage.notes:
        shown = t("list.sep").join(labels[i] for i in stage.touched[:8]) + (" …" if stage.touched.size > 8 else "")
        parts.append(t("decode.stage.touched", n=stage.notes["history"], k=f"{stage.touched.size:,}", tokens=shown or "—"))
    if "fired" in stage.notes:
        parts.append(t("decode.stage.xtc_fired" if stage.notes["fired"] else "decode.stage.xtc_idle"))
    if stage.name == "dynatemp" and stage.threshold is not None:
        parts.append(t("decode.stage.dynatemp", T=f"{stage.threshold:.3f}"))
    if "mu" in stage.notes:
        parts.append(t("decode.stage.mu", mu=f"{stage.notes['mu']:.2f}"))
    return " ".join(parts)


# ------------------------------------------------------------------- page ----


def render() -> None:
    st.title(t("decode.title"))
    st.markdown(t("decode.subtitle"))

    top = st.columns([3, 2], gap="large")
    with top[0]:
        labels, logits, _prompt = source_controls()
    with top[1]:
        widgets.url_choice("order", PRESETS, "transformers")
        if "seq" not in st.session_state:
            st.session_state["seq"] = st.query_params.get("seq", "")
        # a select box: four orders do not fit side by side in this column (nor on a phone)
        st.selectbox(t("decode.order"), options=PRESETS, key="order", persist_state="session", on_change=_on_order,
                     format_func=lambda o: t(f"decode.order.{o}"), help=t("decode.order_help"))
        widgets.keep_in_url("order")
        if st.session_state["order"] == CUSTOM:
            st.query_params["seq"] = st.session_state["seq"]
        else:
            st.query_params.pop("seq", None)

    left, right = st.columns([2, 3], gap="large")
    with left:
        steps, typed, tokens = chain_controls(labels)
    try:
        held = _generation((tuple(steps), typed, tokens, _seed(), logits.size, float(logits.max(initial=-np.inf))))
        advance(held, logits, steps, typed, tokens)
        view = explain.decoding_units(logits, _chain_units(steps, (*typed, *held["ids"]), tokens, held.get("state")))
    except InputError as err:
        with right:
            st.error(t(err.key, **err.params), icon=":material/error:")
        return

    with right:
        st.subheader(t("decode.pipeline"))
        st.markdown(diagram(steps))
        # the chart first, right beside the filters that move it; the numbers under it
        st.plotly_chart(figures.decoding_bars(labels, view.chart), config=figures.plotly_config("logitsviz-decoding"), key="chart_final")
        st.caption(t("decode.final_caption"))
        summary(labels, view)
        if view.stages:
            st.subheader(t("decode.stages"))
            cols = st.columns(2)
            for i, stage in enumerate(view.stages):
                with cols[i % 2]:
                    st.plotly_chart(figures.stage(labels, stage), config=figures.plotly_config(f"logitsviz-{stage.name}"), key=f"chart_stage_{i}")
                    st.caption(_stage_caption(labels, stage))
        else:
            st.info(t("decode.no_filters"))
    st.divider()
    sampling_section(labels, view.final)
    st.divider()
    generation_section(labels, held, steps)
    downloads(labels, logits, view.final)
