"""The Explorer: logits in, probabilities out, every step of softmax shown."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import streamlit as st

from logitsviz import examples, figures, inputs
from logitsviz.errors import InputError
from logitsviz.explain import SoftmaxSteps, rows_overview, softmax_steps, softmax_table
from logitsviz.fmt import number
from logitsviz.i18n import t
from logitsviz.ui import state, widgets

# ----------------------------------------------------------- callbacks ----


def _on_preset() -> None:
    name = st.session_state.get("preset_pick")
    if name in examples.PRESETS:
        state.load_preset(name)


def _on_digit() -> None:
    state.load_preset("digits")


def digit_controls() -> None:
    """For the real-model preset: pick a held-out image and see it."""
    model = examples.digits_model()
    n = model.logits.shape[0]
    c1, c2 = st.columns([3, 2], vertical_alignment="center")
    with c1:
        index = st.number_input(t("explorer.digit"), min_value=0, max_value=n - 1, value=0, step=1, key=state.DIGIT,
                                bind="query-params", on_change=_on_digit, help=t("explorer.digit_help"))
        st.caption(t("explorer.digit_caption", label=int(model.labels[index]), acc=f"{100 * model.test_accuracy:.1f}", n=n))
    with c2:
        st.image(figures.digit_pixels(model.images[index]), width=96)  # ink dark on white, as on the Calibration page


def _on_paste() -> None:
    text = st.session_state.get(state.PASTE, "")
    try:
        labels, logits = inputs.parse_logits(text, default_label=state.default_label())
    except InputError as err:
        state.report(err, prefix="paste")
        return
    state.set_current(labels, logits, source="paste")


def _on_upload(key: str) -> None:
    upload = st.session_state.get(key)
    if upload is None:
        return
    try:
        labels, logits = inputs.read_vector_file(upload.getvalue(), upload.name, default_label=state.default_label())
    except InputError as err:
        state.report(err, prefix="upload")
        return
    state.set_current(labels, logits, source="upload")


_TABLE_SEEN = "lv_table_seen"  # the table editor's key and edits last checked: a re-run without an edit skips the check


def _apply_table(edited: pd.DataFrame, cur: state.Current) -> None:
    """Make the edited table current when it is valid and differs from what is current."""
    # an empty number cell arrives as NaN: it means "not typed yet", not a NaN logit
    logits = [None if isinstance(v, float) and np.isnan(v) else v for v in edited["logit"].tolist()]
    try:
        labels, values = inputs.validate_pairs(edited["label"].tolist(), logits, default_label=state.default_label())
    except InputError as err:
        state.report(err, prefix="table")
        return
    if labels == cur.labels and np.array_equal(values, cur.logits):
        return
    state.set_current(labels, values, source="table")


# --------------------------------------------------------------- rows ----


ROW_SHOWN = "row_shown"  # the row picker, counting from 1 as the overview does (the link keeps the 0-based index)


def _on_row() -> None:
    state.select_row(int(st.session_state.get(ROW_SHOWN, 1)) - 1)


def _on_row_click() -> None:
    points = st.session_state.get("chart_rows", {}).get("selection", {}).get("points", [])
    if points:
        state.select_row(int(points[0]["point_index"]))


def rows_section(cur: state.Current):
    """An input with several rows: all of them at a glance (drawn by the view, at its temperature), and the row in use.

    Returns the slot the overview goes in.
    """
    n, c = cur.batch.shape
    st.subheader(t("explorer.rows_title"))
    st.caption(t("explorer.rows_caption", n=f"{n:,}", c=f"{c:,}"))
    slot = st.container()
    st.session_state[ROW_SHOWN] = cur.row + 1  # the picker says the row in use, counted from 1, whoever chose it
    st.number_input(t("explorer.row"), min_value=1, max_value=n, step=1, key=ROW_SHOWN, on_change=_on_row, help=t("explorer.row_help"))
    return slot


def rows_chart(cur: state.Current, slot, temperature: float, shift: float) -> None:
    """The rows overview at the temperature the charts use: a row drawn at 94 % reads 94 % in the tiles too."""
    with slot:
        st.plotly_chart(figures.rows_overview(rows_overview(cur.batch + shift, temperature), cur.labels),
                        config=figures.plotly_config("logitsviz-rows"), key="chart_rows", on_select=_on_row_click,
                        selection_mode="points")


# ------------------------------------------------------------ controls ----


def input_controls(cur: state.Current) -> None:
    """Presets, and the three ways in: table, paste, upload."""
    presets_slot = st.container()  # filled last: the table below may change the current preset
    error_slot = st.container()
    tab_table, tab_paste, tab_upload = widgets.tabs("in_tab", ["table", "paste", "upload"], "explorer.tab_{}")
    with tab_table:
        n = len(cur.labels)
        if cur.batch is not None:
            st.info(t("explorer.table_rows", n=f"{cur.batch.shape[0]:,}"))
        elif n <= state.EDITABLE_LIMIT:
            key = f"editor_{st.session_state[state.EDITOR_VERSION]}"
            base_labels, base_logits = st.session_state[state.EDITOR_BASE]
            edited = st.data_editor(
                pd.DataFrame({"label": base_labels, "logit": base_logits}),
                key=key,
                num_rows="dynamic",
                hide_index=True,
                width="stretch",
                height=min(38 + 35 * (len(base_labels) + 1), 360),
                column_config={
                    "label": st.column_config.TextColumn(t("explorer.col_label")),
                    "logit": st.column_config.NumberColumn(t("explorer.col_logit"), format="%.4g"),
                },
            )
            made = {part: change for part, change in (st.session_state.get(key) or {}).items() if change}  # none: {}
            # the default label too: rows typed without a name take the language's ("class 3", "类别 3")
            edits = (key, json.dumps(made, sort_keys=True, default=str), state.default_label())
            seen = st.session_state.get(_TABLE_SEEN)
            st.session_state[_TABLE_SEEN] = edits
            # 1,000 rows take 30 ms to check: only when the edits change (a new editor without edits is the current input)
            if seen != edits and (made or (seen is not None and seen[0] == key)):
                _apply_table(edited, cur)
            st.caption(t("explorer.table_help"))
        else:
            st.info(t("explorer.table_too_big", n=f"{n:,}", limit=f"{state.EDITABLE_LIMIT:,}"))
    with tab_paste:
        placeholder = t("explorer.paste_placeholder")
        if not st.session_state.get(state.PASTE) and len(cur.text) > state.PASTE_LIMIT:
            placeholder = t("explorer.paste_large", n=f"{len(cur.labels):,}")
        st.text_area(
            t("explorer.paste_label"),
            key=state.PASTE,
            height=150,
            placeholder=placeholder,
            on_change=_on_paste,
            help=t("explorer.paste_help"),
        )
        st.caption(t("explorer.paste_caption"))
    with tab_upload:
        key = f"upload_{st.session_state[state.EDITOR_VERSION]}"
        st.file_uploader(
            t("explorer.upload_label"),
            type=[ext.lstrip(".") for ext in inputs.SUPPORTED_EXTENSIONS],
            key=key,
            on_change=_on_upload,
            args=(key,),
            help=t("explorer.upload_help"),
        )
    with presets_slot:
        st.pills(
            t("explorer.presets"),
            options=list(examples.PRESETS),
            format_func=lambda name: t(f"preset.{name}"),
            key="preset_pick",
            on_change=_on_preset,
            help=t("explorer.presets_help"),
        )
    with error_slot:
        state.show_unlinked()
        state.show_error()


def view_controls(n_classes: int) -> tuple[float, float, int, bool]:
    """Temperature, shift, top-N and sort; all in the link (a temperature typed in a link snaps to the nearest stop)."""
    widgets.url_stop("T", widgets.TEMPERATURES, 1.0)
    temperature = st.select_slider(t("explorer.temperature"), options=widgets.TEMPERATURES, key="T", help=t("explorer.temperature_help"))
    widgets.keep_in_url("T")
    widgets.url_warning("T", t("explorer.temperature"), widgets.TEMPERATURES)
    c1, c2, c3 = st.columns([3, 2, 2], vertical_alignment="bottom")
    shift = c1.slider(t("explorer.shift"), min_value=-20.0, max_value=20.0, value=0.0, step=0.5, key="shift", bind="query-params",
                      help=t("explorer.shift_help"))
    top = c2.number_input(t("explorer.top"), min_value=3, max_value=200, value=20, step=1, key="top", bind="query-params",
                          help=t("explorer.top_help"))
    sort = c3.toggle(t("explorer.sort"), value=False, key="sort", bind="query-params", help=t("explorer.sort_help"))
    return float(temperature), float(shift), int(top), bool(sort)


# --------------------------------------------------------------- views ----


def steps_table(cur: state.Current, steps: SoftmaxSteps) -> pa.Table:
    """The arithmetic table, one row a class (and one for the merged rest), as an Arrow table: the dataframe is drawn
    from it without a pandas conversion (3 to 4 ms a run)."""
    rest = [None] if steps.others_count else []
    rows = {
        t("steps.col_label"): [cur.labels[i] for i in steps.index] + ([t("fig.others", k=f"{steps.others_count:,}")] if rest else []),
        t("steps.col_x"): [*steps.logits.tolist(), *rest],
        t("steps.col_z"): [*steps.z.tolist(), *rest],
        t("steps.col_raw_exp"): [*steps.raw_exps.tolist(), *rest],
        t("steps.col_shifted"): [*steps.shifted.tolist(), *rest],
        t("steps.col_exp"): [*steps.exps.tolist(), *rest],
        t("steps.col_p"): [*steps.probs.tolist(), *([steps.others_prob] if rest else [])],
        t("steps.col_logp"): [*steps.logprobs.tolist(), *rest],
    }
    return pa.table({name: pa.array(values, type=pa.string() if i == 0 else pa.float64()) for i, (name, values) in enumerate(rows.items())})


def steps_section(cur: state.Current, steps: SoftmaxSteps, temperature: float, shift: float) -> None:
    st.subheader(t("steps.title"))
    st.markdown(t("steps.intro"))
    c1, c2, c3 = st.columns(3)
    with c1:
        st.caption(t("steps.formula_z"))
        st.latex(r"z_i = \frac{x_i + c}{T}")
    with c2:
        st.caption(t("steps.formula_p"))
        st.latex(r"p_i = \frac{e^{z_i - m}}{\sum_j e^{z_j - m}},\quad m = \max_j z_j")
    with c3:
        st.caption(t("steps.formula_logp"))
        st.latex(r"\log p_i = (z_i - m) - \log \sum_j e^{z_j - m}")
    fmt = "%.4f"
    df = steps_table(cur, steps)
    st.space("small")  # a touch screen always shows the table toolbar above it: not over the formula
    st.dataframe(
        df,
        hide_index=True,
        width="stretch",
        column_config={col: st.column_config.NumberColumn(format=fmt) for col in df.column_names[1:]},
    )
    st.markdown(t("steps.sums", T=f"{temperature:g}", c=f"{shift:g}", m=number(steps.max_z, 4, fixed=True),
                  s=number(steps.exp_sum, 4, fixed=True), n=f"{steps.n_classes:,}"))
    st.markdown(_textbook_line(steps))
    if steps.others_count:
        st.caption(t("steps.others_note", shown=len(steps.index), n=f"{steps.n_classes:,}", pct=f"{100 * steps.others_prob:.2f}"))


def _textbook_line(steps: SoftmaxSteps) -> str:
    """The same softmax the textbook way, with no shift: e^z summed (or the overflow that makes the shift necessary)."""
    if not np.isfinite(steps.raw_exp_sum):
        return t("steps.textbook_overflow", s=number(steps.exp_sum, 4, fixed=True))
    terms = " + ".join(f"{v:.2f}" for v in steps.raw_exps) if steps.index.size <= 6 and not steps.others_count else "…"
    top = steps.probs[0] if steps.index.size else float("nan")
    return t("steps.textbook", terms=terms, s=f"{steps.raw_exp_sum:.2f}", e=f"{steps.raw_exps[0]:.2f}", p=f"{top:.3f}")


def downloads(cur: state.Current, temperature: float, shift: float) -> None:
    def full_table() -> pd.DataFrame:  # built on click: the vector may hold 200,000 classes
        return pd.DataFrame({"label": cur.labels, **softmax_table(cur.logits, temperature=temperature, shift=shift)})

    def as_csv() -> bytes:
        return widgets.table_csv(full_table())

    def as_json() -> bytes:
        classes = json.loads(widgets.table_json(full_table()))
        return json.dumps({"temperature": temperature, "shift": shift, "classes": classes}, ensure_ascii=False, indent=1).encode("utf-8")

    with st.container(horizontal=True):
        st.download_button(t("download.csv"), data=as_csv, file_name="logitsviz-softmax.csv", mime="text/csv", icon=":material/download:",
                           on_click="ignore", key="dl_csv", width="content")
        st.download_button(t("download.json"), data=as_json, file_name="logitsviz-softmax.json", mime="application/json",
                           icon=":material/download:", on_click="ignore", key="dl_json", width="content")


# ---------------------------------------------------------------- page ----


def render() -> None:
    cur = state.init_current()
    st.title(t("explorer.title"))
    st.markdown(t("explorer.subtitle"))

    # on a phone the two columns stack: the view (chart and tiles) first, then the inputs (CSS of ours, no user text)
    st.html(_NARROW_FIRST)
    with st.container(key="explorer_main"):
        left, right = st.columns([4, 5], gap="large")
    rows_slot = None
    with left:
        input_controls(cur)
        cur = st.session_state[state.CURRENT]  # a callback may have replaced it this run
        if cur.preset == "seed":
            st.caption(t("preset.seed.sentence"))
        if cur.preset == "digits":
            digit_controls()  # changes the input, so it stays out of the view's fragment
        if cur.batch is not None:
            rows_slot = rows_section(cur)
        if not state.link_fits():
            st.caption(t("explorer.link_too_long"))
            st.download_button(t("explorer.download_input"), data=lambda: cur.text.encode("utf-8"), file_name="logits.txt",
                               mime="text/plain", icon=":material/download:", on_click="ignore", key="dl_input")
        with st.expander(t("explorer.concepts_title"), expanded=False):
            st.markdown(t("explorer.concepts"))
    view(right.container(), st.container(), rows_slot)


_NARROW_FIRST = """<style>
@media (max-width: 640px) {
  .st-key-explorer_main > [data-testid="stLayoutWrapper"] > [data-testid="stHorizontalBlock"] { flex-direction: column-reverse; }
}
</style>"""


@widgets.fragment
def view(beside, below, rows_slot=None) -> None:
    """Temperature, shift, top-N and sort, and all they change: moving one re-runs only this, not the inputs.

    The chart sits right under the controls that move it; the arithmetic follows below.
    """
    cur: state.Current = st.session_state[state.CURRENT]
    # a fragment run starts from the query string the page sends, which Streamlit's page sometimes takes from its
    # first load (the example's logits): write this session's input back, or the link would revert to the example
    state.sync_link()
    with beside:
        temperature, shift, top, sort = view_controls(len(cur.labels))
    if rows_slot is not None and cur.batch is not None:
        rows_chart(cur, rows_slot, temperature, shift)
    with beside:
        steps = softmax_steps(cur.logits, temperature=temperature, shift=shift, top=top, sort=sort)
        st.plotly_chart(figures.compare_steps(cur.labels, steps), config=figures.plotly_config("logitsviz-explorer"), key="chart_compare")
        if shift:
            st.caption(t("explorer.shift_note", c=f"{shift:g}"))
        widgets.softmax_tiles(cur.labels, steps, per_row=2)
    with below:
        steps_section(cur, steps, temperature, shift)
        downloads(cur, temperature, shift)
    widgets.fragment_share_link()  # the view's controls are in the link
