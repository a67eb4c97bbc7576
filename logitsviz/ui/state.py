"""Session state shared by the pages: the current vector of logits and where it came from.

One vector is "current" per browser session. The Explorer's table, paste box,
file upload and presets all write it through :func:`set_current`, which also
refreshes the other inputs and the shareable link; the other pages read it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import streamlit as st

from logitsviz import examples, inputs
from logitsviz.errors import InputError
from logitsviz.i18n import t

CURRENT = "lv_current"
LM_SOURCE = "lm_source"  # (prompt, model name, labels, logits) of the Language model page, for the Decoding lab
ERROR = "lv_input_error"
EDITOR_VERSION = "lv_editor_version"
EDITOR_BASE = "lv_editor_base"  # what the table editor started from; its edits are relative to it
PASTE = "paste_text"
URL_LIMIT = 4000  # characters of logits text a link carries
PASTE_LIMIT = 20_000  # larger inputs are not echoed into the paste box
EDITABLE_LIMIT = 1000  # classes the table editor shows


UNLINKED = "unlinked"  # the link's ?input=unlinked: its input was too large to carry, so it is gone after a restart
ROW = "row"  # the row in use of an input with several rows: widget key and link parameter


@dataclass(frozen=True)
class Current:
    labels: list[str]
    logits: np.ndarray  # the vector in use: the input, or its row ``row`` when it has several
    text: str  # format_logits(labels, input): what the paste box and the link carry
    source: str  # "preset", "table", "paste", "upload", "link", "lm"
    preset: str | None = None
    batch: np.ndarray | None = None  # (N, C) when the input has several rows
    row: int = 0


def default_label() -> str:
    return t("label.default")


def init_current() -> Current:
    """The current vector; on a session's first run, read from the link or the seed example."""
    if CURRENT not in st.session_state:
        st.session_state[EDITOR_VERSION] = 0
        params = st.query_params
        name = params.get("preset")
        text = params.get("logits")
        if name in examples.PRESETS:
            load_preset(name)
        elif not text and params.get("input") == UNLINKED:
            load_preset("seed")  # rewrites the link, dropping the marker
            st.session_state[UNLINKED] = True  # said once by show_unlinked: nothing is silently replaced
        elif text:
            try:
                labels, logits = inputs.parse_logits(text, default_label=default_label())
                row = params.get(ROW, "0")  # read before set_current rewrites the link
                set_current(labels, logits, source="link")
                _select_linked_row(row)
            except InputError as err:
                load_preset("seed")
                report(err, prefix="link")
        else:
            load_preset("seed")
    return st.session_state[CURRENT]


DIGIT = "digit"  # which held-out digit the "digits" preset shows; also its link parameter


def digit_index() -> int:
    """The held-out digit to show: the widget's value, else the link's, else 0."""
    if DIGIT in st.session_state:
        return int(st.session_state[DIGIT])
    try:
        return int(st.query_params.get(DIGIT, 0))
    except ValueError:
        return 0


def load_preset(name: str) -> None:
    if name == "digits":
        labels, logits = examples.digit_example(digit_index())
    else:
        labels, logits = examples.preset(name)
    set_current(labels, logits, source="preset", preset=name)


def _select_linked_row(row: str) -> None:
    try:
        select_row(int(row))
    except ValueError:  # a row number typed by hand that is not a number: the first row
        select_row(0)


def set_current(labels: list[str], logits: np.ndarray, *, source: str, preset: str | None = None) -> None:
    """Make (labels, logits) current, refresh the other inputs and the link, clear any error.

    ``logits`` of shape (N, C) are rows: the first is in use until :func:`select_row` picks another.
    """
    arr = np.asarray(logits, dtype=np.float64)
    text = inputs.format_logits(labels, arr, default_label=default_label())
    batch = arr if arr.ndim == 2 else None
    st.session_state[CURRENT] = Current(list(labels), arr[0] if batch is not None else arr, text, source, preset, batch, 0)
    st.session_state[ROW] = 0
    st.session_state[ERROR] = None
    st.session_state["preset_pick"] = preset  # the highlighted preset pill, none once edited
    if source != "paste":
        st.session_state[PASTE] = text if len(text) <= PASTE_LIMIT else ""
    if source != "table":
        # a new editor (new key) starting from the new vector; table edits keep the old one
        st.session_state[EDITOR_VERSION] = st.session_state.get(EDITOR_VERSION, 0) + 1
        st.session_state[EDITOR_BASE] = (list(labels), np.asarray(logits, dtype=np.float64))
    sync_link()


def select_row(i: int) -> None:
    """Use row ``i`` (clamped to the rows there are) of an input with several rows."""
    cur: Current = st.session_state[CURRENT]
    if cur.batch is None:
        return
    i = min(max(int(i), 0), cur.batch.shape[0] - 1)
    st.session_state[CURRENT] = replace(cur, row=i, logits=cur.batch[i])
    st.session_state[ROW] = i
    sync_link()


def sync_link() -> None:
    """Write the current input into the URL: the text if short, else the preset's name; and the row in use.

    An input too large for a link (an upload, a long paste) leaves ``?input=unlinked``
    instead, so that a session started from this link (a server restart, the link
    shared) says the input is gone rather than silently showing the example.
    """
    cur: Current = st.session_state[CURRENT]
    params = st.query_params
    params.pop("input", None)
    if cur.batch is not None:
        params[ROW] = str(cur.row)
    else:
        params.pop(ROW, None)
    if cur.preset in examples.URL_PRESETS:
        params.pop("logits", None)
        params["preset"] = cur.preset
    elif len(cur.text) <= URL_LIMIT:
        params.pop("preset", None)
        params["logits"] = cur.text
    else:
        params.pop("preset", None)
        params.pop("logits", None)
        params["input"] = UNLINKED


def link_fits() -> bool:
    cur: Current = st.session_state[CURRENT]
    return cur.preset in examples.URL_PRESETS or len(cur.text) <= URL_LIMIT


def show_unlinked() -> None:
    """Say, once, that the link's input could not be restored (see :func:`sync_link`)."""
    if st.session_state.pop(UNLINKED, False):
        st.warning(t("link.unlinked"), icon=":material/link_off:")


def report(err: InputError, prefix: str | None = None) -> None:
    """Remember an input error to show; the current vector stays as it was."""
    st.session_state[ERROR] = (err.key, err.params, prefix)


def show_error() -> None:
    """Show the last input error, in the user's language, if there is one."""
    info = st.session_state.get(ERROR)
    if info:
        key, params, prefix = info
        message = t(key, **params)
        if prefix:
            message = t(f"error.prefix.{prefix}") + " " + message
        st.error(message, icon=":material/error:")
