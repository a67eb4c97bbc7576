"""The Tokens page: token log-probabilities from an LLM API or server, read from its saved response or asked live."""

from __future__ import annotations

import streamlit as st

from logitsviz import config, examples, tokens
from logitsviz.errors import InputError
from logitsviz.i18n import t
from logitsviz.ui import sequence, widgets

HELD = "lv_tokens"  # (name, sequence) of the last response read well
ERROR = "lv_tokens_error"
SOURCES = ["example", "upload", "paste", "server"]
APIS = list(tokens.APIS)
MODELS = "lv_server_models"  # (url, api, [model ids]) the server listed
KEY = "tsrv_key"  # the API key: a password field in this session only, never in the link, a download or a log


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
    elif source == "paste":
        st.text_area(t("tok.paste"), key="tok_text", height=160, on_change=_on_paste, placeholder='{"choices": [{"logprobs": {"content": [...]}}]}')
    else:
        server_controls()
    info = st.session_state.get(ERROR)
    if info:
        st.error(t(info[0], **info[1]), icon=":material/error:")
    if source != "server":
        with st.expander(t("tok.how_title")):
            st.markdown(t("tok.how"))


def _model_field(url: str, api: str) -> str:
    """The model: picked from the list the server gave, or typed."""
    listed = st.session_state.get(MODELS)
    if listed and listed[0] == url and listed[1] == api and listed[2]:
        names = listed[2]
        if st.session_state.get("tsrv_model") not in names:
            st.session_state["tsrv_model"] = names[0]
        return st.selectbox(t("srv.model"), names, key="tsrv_model", bind="query-params", help=t("srv.model_help"))
    return st.text_input(t("srv.model"), key="tsrv_model", bind="query-params", placeholder=t("srv.model_placeholder"),
                         help=t("srv.model_help")).strip()


def _list_models(url: str, api: str) -> None:
    try:
        names = tokens.list_models(url, api=api, api_key=st.session_state.get(KEY) or None)
    except InputError as err:
        st.session_state[ERROR] = (err.key, err.params)
        return
    st.session_state[MODELS] = (url, api, names)
    st.session_state[ERROR] = None if names else ("srv.no_models", {"url": url})


def server_controls() -> None:
    """Ask a live server: its address, API form, model, prompt and settings; the tokens appear as they stream."""
    allowed = config.server_policy()
    st.caption(t("srv.intro") + " " + (t("srv.allowed_loopback") if not allowed.allowed else t("srv.allowed_listed")))
    c = st.columns([3, 3, 3], vertical_alignment="bottom")
    url = c[0].text_input(t("srv.url"), value="http://localhost:8080", key="tsrv_url", bind="query-params", help=t("srv.url_help")).strip()
    widgets.url_choice("tsrv_api", APIS, "completions")
    api = c[1].selectbox(t("srv.api"), APIS, key="tsrv_api", persist_state="session", format_func=lambda a: t(f"srv.api.{a}"),
                         help=t("srv.api_help"))
    widgets.keep_in_url("tsrv_api")
    with c[2]:
        model = _model_field(url, api)
    prompt = st.text_area(t("srv.prompt" if api != "chat" else "srv.message"), value=t("srv.default_prompt"), key="tsrv_prompt",
                          bind="query-params", height=90)
    d = st.columns(4, vertical_alignment="bottom")
    top = d[0].number_input(t("srv.top"), min_value=0, max_value=tokens.APIS[api].max_top, value=5, step=1, key="tsrv_top",
                            bind="query-params", help=t("srv.top_help"))
    limit = config.limits().generate_tokens
    n = d[1].number_input(t("srv.max_tokens"), min_value=1, max_value=limit, value=24, step=1, key="tsrv_n", bind="query-params")
    temperature = d[2].number_input(t("srv.temperature"), min_value=0.0, max_value=10.0, value=None, step=0.1, key="tsrv_T",
                                    bind="query-params", placeholder=t("srv.temperature_default"), help=t("srv.temperature_help"))
    stream = d[3].toggle(t("srv.stream"), value=True, key="tsrv_stream", bind="query-params", help=t("srv.stream_help"))
    e = st.columns([2, 1, 1], vertical_alignment="bottom")
    e[0].text_input(t("srv.key"), type="password", key=KEY, help=t("srv.key_help"), autocomplete="off")
    e[1].button(t("srv.list"), icon=":material/list:", key="tsrv_list", on_click=_list_models, args=(url, api), width="stretch")
    ask = e[2].button(t("srv.ask"), icon=":material/send:", key="tsrv_ask", type="primary", width="stretch")
    if ask:
        _ask(url, api, model or None, prompt, int(top), int(n), None if temperature is None else float(temperature), bool(stream))


def _ask(url: str, api: str, model: str | None, prompt: str, top: int, n: int, temperature: float | None, stream: bool) -> None:
    """Send the request; while it streams, the text so far shows here; the finished response becomes the page's."""
    live = st.empty()
    seq = None
    try:
        with st.spinner(t("srv.asking", url=url)):
            for seq in tokens.stream_request(url, prompt, api=api, model=model, top=top, max_tokens=n, temperature=temperature,
                                             stream=stream, api_key=st.session_state.get(KEY) or None):
                live.text(t("srv.live", n=len(seq.positions)) + "\n" + seq.text)
    except InputError as err:
        st.session_state[ERROR] = (err.key, err.params)
        live.empty()
        return
    live.empty()
    st.session_state[HELD] = (t("srv.name", url=url, api=t(f"srv.api.{api}")), seq)
    st.session_state[ERROR] = None


def render() -> None:
    st.title(t("tok.title"))
    st.markdown(t("tok.subtitle"))
    input_controls()
    held = st.session_state.get(HELD)
    if held is None:
        st.info(t("srv.first" if st.session_state.get("tsrc") == "server" else "tok.first"))
        return
    name, seq = held
    shown = t("tok.source.example") if name == "example" else name
    st.caption(t("tok.read", name=shown, source=t(f"tok.format.{seq.source}"), n=f"{len(seq.positions):,}"))
    for warning in seq.warnings:
        st.warning(str(warning), icon=":material/warning:")
    sequence.sequence_section(seq, "api")
