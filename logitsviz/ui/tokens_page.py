"""The Tokens page: token log-probabilities from an LLM API or server, read from its saved response."""

from __future__ import annotations

import streamlit as st

from logitsviz import examples, tokens
from logitsviz.errors import InputError
from logitsviz.i18n import t
from logitsviz.ui import sequence, widgets

HELD = "lv_tokens"  # (name, sequence) of the last response read well
ERROR = "lv_tokens_error"
SOURCES = ["example", "upload", "paste"]


def _read(text: bytes | str, name: str) -> None:
    try:
        seq = tokens.read_logprobs(text)
    except InputError as err:
        st.session_state[ERROR] = (err.key, err.params)
        return
    st.session_state[HELD] = (name, seq)
    st.session_state[ERROR] = None


def _on_upload() -> None:
    upload = st.session_state.get("tok_file")
    if upload is not None:
        _read(upload.getvalue(), upload.name)


def _on_paste() -> None:
    _read(st.session_state.get("tok_text", ""), t("tok.pasted"))


def input_controls() -> None:
    """Where the response comes from: the example, a saved file, or pasted text; the last good one stays."""
    widgets.url_choice("tsrc", SOURCES, "example")
    source = st.segmented_control(t("tok.source"), SOURCES, key="tsrc", persist_state="session", required=True,
                                  format_func=lambda s: t(f"tok.source.{s}"))
    widgets.keep_in_url("tsrc")
    if source == "example":
        st.caption(t("tok.example_caption"))
        if st.session_state.get(HELD, ("",))[0] != "example":
            _read(examples.api_response_example(), "example")
    elif source == "upload":
        st.file_uploader(t("tok.upload"), type=["json", "jsonl", "ndjson", "txt", "sse"], key="tok_file", on_change=_on_upload,
                         help=t("tok.upload_help"))
    else:
        st.text_area(t("tok.paste"), key="tok_text", height=160, on_change=_on_paste, placeholder='{"choices": [{"logprobs": {"content": [...]}}]}')
    info = st.session_state.get(ERROR)
    if info:
        st.error(t(info[0], **info[1]), icon=":material/error:")
    with st.expander(t("tok.how_title")):
        st.markdown(t("tok.how"))


def render() -> None:
    st.title(t("tok.title"))
    st.markdown(t("tok.subtitle"))
    input_controls()
    held = st.session_state.get(HELD)
    if held is None:
        st.info(t("tok.first"))
        return
    name, seq = held
    shown = t("tok.source.example") if name == "example" else name
    st.caption(t("tok.read", name=shown, source=t(f"tok.format.{seq.source}"), n=f"{len(seq.positions):,}"))
    sequence.sequence_section(seq, "api")
