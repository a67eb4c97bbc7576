"""Controls shared by every page."""

from __future__ import annotations

import math
from collections.abc import Sequence

import streamlit as st

from logitsviz import i18n, sampling
from logitsviz.i18n import t

LANG = "lang"
_LANG_WIDGET = "lang_switch"


def _session_language() -> str | None:
    """The language of the session this thread runs for (None outside a Streamlit run)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    return st.session_state.get(LANG) if get_script_run_ctx(suppress_warning=True) is not None else None


# callbacks run before the script sets the language: their labels and messages take the session's all the same
i18n.use_language_of(_session_language)

TEMPERATURES = sampling.TEMPERATURE_STOPS  # log-spaced, 0.05 to 20: every temperature slider, the Decoding lab's included


def init_language() -> str:
    """Pick the session's language once (link, then browser locale), and apply it to this run."""
    if LANG not in st.session_state:
        wanted = st.query_params.get("lang")
        st.session_state[LANG] = wanted if wanted in i18n.LANGUAGES else i18n.language_from_locale(st.context.locale)
    lang = st.session_state[LANG]
    i18n.set_language(lang)
    return lang


def fragment(func=None, **kwargs):
    """``st.fragment`` whose every run speaks the session's language (a fragment's own run starts without it)."""
    import functools

    def wrap(f):
        @functools.wraps(f)
        def run(*args, **kw):
            i18n.set_language(st.session_state.get(LANG, i18n.DEFAULT_LANGUAGE))
            return f(*args, **kw)

        return st.fragment(run, **kwargs)

    return wrap(func) if func is not None else wrap


def tabs(key: str, ids: Sequence[str], label_key: str) -> list:
    """``st.tabs`` whose open tab is in the link (``?key=id``, the first tab left out) and stays open across languages.

    ``label_key`` formats a tab's id into its catalogue key (``"cal.tab.{}"``).
    The tab's label is the widget's value, which changes with the language:
    the link carries the id instead, and a label from the language just left
    is mapped back to its id.
    """
    labels = {i: t(label_key.format(i)) for i in ids}
    held = st.session_state.get(key)
    if held not in labels.values():
        chosen = next((i for i in ids for lang in i18n.LANGUAGES if held is not None and t(label_key.format(i), lang=lang) == held),
                      None)
        if chosen is None:
            wanted = st.query_params.get(key)
            chosen = wanted if wanted in labels else ids[0]
        st.session_state[key] = labels[chosen]
    out = st.tabs(list(labels.values()), key=key, on_change="rerun")
    opened = next((i for i in ids if labels[i] == st.session_state.get(key)), ids[0])
    if opened == ids[0]:
        st.query_params.pop(key, None)
    else:
        st.query_params[key] = opened
    return out


def _on_language_change() -> None:
    from logitsviz.ui import state  # the current preset is re-read in the new language

    choice = st.session_state.get(_LANG_WIDGET)
    if choice in i18n.LANGUAGES:
        st.session_state[LANG] = choice
        i18n.set_language(choice)
        # a choice box kept showing its option in the language just left ("for i in" (code) on the Chinese page):
        # forget the widgets, and url_choice seeds them again from the link, which holds each option's id
        for key in _CHOICES:
            if key in st.session_state:
                st.query_params[key] = str(st.session_state[key])
                del st.session_state[key]
        cur = st.session_state.get(state.CURRENT)
        if cur is not None and cur.source == "preset" and cur.preset:
            state.load_preset(cur.preset)


def language_switch() -> str:
    """The language control in the sidebar; keeps ``?lang=`` in the URL."""
    lang = st.session_state[LANG]
    if _LANG_WIDGET not in st.session_state:
        st.session_state[_LANG_WIDGET] = lang
    st.sidebar.segmented_control(
        "Language / 语言",
        options=list(i18n.LANGUAGES),
        format_func=i18n.LANGUAGES.get,
        key=_LANG_WIDGET,
        required=True,
        on_change=_on_language_change,
    )
    st.query_params["lang"] = lang
    return lang


def softmax_tiles(labels: list[str], steps, per_row: int = 5, tokens: bool = False) -> None:
    """The five numbers under every softmax: predicted class (or token), its probability, entropy, perplexity, top-2 margin.

    ``per_row`` tiles a row (5 across a page, 2 in a half-width column, where 3 cut "class 36758"); a long class
    name is shortened to fit its tile.
    """
    from logitsviz.fmt import number

    label = labels[steps.argmax]
    # two or three a row stay side by side on a phone too (five would be too narrow there, so they stack)
    grid = [col for _ in range(-(-5 // per_row)) for col in st.columns(per_row, wrap=per_row > 3)]
    cols = grid[:5]
    limit = 24 if per_row >= 5 else 13
    noun = "_tokens" if tokens else ""  # a vocabulary's entries: the keys' token wording
    cols[0].metric(t(f"metric.pred{noun}"), label if len(label) <= limit else label[: limit - 1] + "…",
                   help=t(f"metric.pred_help{noun}", label=label))
    cols[1].metric(t("metric.prob"), f"{100 * steps.top_prob:.1f}%", help=t("metric.prob_help"))
    # the unit in the label: "1.222 bits" did not fit a tile two to a phone's row
    cols[2].metric(t("metric.entropy"), number(steps.entropy_bits, 3, fixed=True), help=t(f"metric.entropy_help{noun}"))
    cols[3].metric(t("metric.perplexity"), number(steps.perplexity, 2, fixed=True), help=t(f"metric.perplexity_help{noun}"))
    cols[4].metric(t("metric.margin"), number(steps.margin, 3, fixed=True), help=t("metric.margin_help"))


def url_choice(key: str, options: list[str], default: str) -> None:
    """Seed a choice widget's state from ``?key=`` once per session (call before creating the widget).

    Streamlit's own binding writes the *displayed* option into the URL, which
    changes with the language; these links carry the option's id instead.
    Pair with ``persist_state="session"`` on the widget and :func:`keep_in_url`.
    """
    _CHOICES.add(key)
    if key not in st.session_state:
        wanted = st.query_params.get(key)
        st.session_state[key] = wanted if wanted in options else default


# choice widgets seeded by url_choice: their labels are translated, so a language switch draws them afresh
_CHOICES: set[str] = set()


def url_stop(key: str, stops: Sequence[float], default: float) -> None:
    """Seed a select-slider of ``stops`` from ``?key=`` once per session (call before creating the widget).

    Any number in the slider's range is accepted and snapped to the nearest
    stop (``?T=2`` is the stop 2.0, ``?T=1.3`` the stop 1.25); a number out
    of range, or not a number, leaves the default and is reported by
    :func:`url_warning`. Pair with :func:`keep_in_url`.
    """
    def snapped(raw: str) -> float | None:
        try:
            wanted = float(raw)
        except ValueError:
            return None
        return min(stops, key=lambda s: abs(math.log(s) - math.log(wanted))) if stops[0] <= wanted <= stops[-1] else None

    _seed_from_link(key, default, snapped)


def _seed_from_link(key: str, default, read) -> None:
    """Seed ``st.session_state[key]`` once per session from ``?key=``: ``read(raw)`` gives the value, or None when
    the link's value cannot be used (then the default, and :func:`url_warning` says so)."""
    if key in st.session_state:
        return
    raw = st.query_params.get(key)
    value = default if raw is None else read(raw)
    if value is None:
        st.session_state[f"_{key}_link"] = raw
        value = default
    st.session_state[key] = value


def url_int(key: str, lo: int, hi: int, default: int) -> None:
    """Seed a whole-number widget's state from ``?key=`` once per session (call before creating the widget).

    A value outside ``lo..hi``, or not a whole number, leaves the default and
    is reported by :func:`url_warning`. Pair with :func:`keep_in_url`.
    """
    def whole(raw: str) -> int | None:
        try:
            wanted = int(raw)
        except ValueError:
            return None
        return wanted if lo <= wanted <= hi else None

    _seed_from_link(key, default, whole)


def url_warning(key: str, name: str, stops: Sequence[float]) -> None:
    """Say once that the link's ``?key=`` could not be used (see :func:`url_stop`)."""
    raw = st.session_state.pop(f"_{key}_link", None)
    if raw is not None:
        st.warning(t("link.out_of_range", name=name, value=str(raw)[:40], lo=f"{stops[0]:g}", hi=f"{stops[-1]:g}"), icon=":material/link_off:")


def keep_in_url(key: str) -> None:
    """Write a widget's current value into the URL as ``?key=value``."""
    st.query_params[key] = str(st.session_state[key])


def page_link() -> str:
    """The full address of this page with everything set on it: what a shared link opens."""
    from urllib.parse import quote, urlencode

    url = st.context.url or "/"  # the browser's address of this page, without its query
    query = urlencode(st.query_params.to_dict(), quote_via=quote, safe=":,")
    return f"{url}?{query}" if query else url


_SHARE_SLOT = "_lv_share_slot"  # the sidebar container the share control goes in (this session's last full run)
_SHARE_DRAWN = "_lv_share_drawn"  # whether a fragment has drawn it in this full run


def share_slot(slot) -> None:
    """Main, before the page runs: where the share control goes; nothing drawn in it yet."""
    st.session_state[_SHARE_SLOT] = slot
    st.session_state[_SHARE_DRAWN] = False


def _draw_share(slot) -> None:
    with slot, st.popover(t("share.button"), icon=":material/link:", width="stretch"):
        st.caption(t("share.help"))
        st.code(page_link(), language=None, wrap_lines=True)


def share_link() -> None:
    """Main, after the page: the "share" control, the page's link ready to copy (the code box has a copy button).

    Drawn last so the link carries what the page wrote into the URL, unless a
    fragment of the page owns it (see :func:`fragment_share_link`).
    """
    slot = st.session_state.get(_SHARE_SLOT)
    if slot is not None and not st.session_state.get(_SHARE_DRAWN):
        _draw_share(slot)


def fragment_share_link() -> None:
    """The share control, drawn by the fragment whose controls are in the link (call it last in that fragment).

    A fragment re-run does not run main, so a control drawn by main would keep
    the link from before the change; drawn by the fragment, it is redrawn with
    it. At most one fragment per page may own it.
    """
    slot = st.session_state.get(_SHARE_SLOT)
    if slot is not None:
        st.session_state[_SHARE_DRAWN] = True
        _draw_share(slot)


def table_csv(df) -> bytes:
    """A table as UTF-8 CSV, without the index."""
    return df.to_csv(index=False).encode("utf-8")


def table_json(df) -> bytes:
    """A table as UTF-8 JSON, a list of records: pandas writes inf and NaN (which JSON has not) as null.

    Floats keep 15 significant digits, the most pandas writes (relative error below 1e-15).
    """
    return df.to_json(orient="records", force_ascii=False, indent=1, double_precision=15).encode("utf-8")


def table_downloads(df, name: str, key: str) -> None:
    """Download buttons for a table, as CSV and as JSON (see :func:`table_csv`, :func:`table_json`).

    ``df`` is a DataFrame, or a function that makes one: it is then built only
    when a button is clicked (a 200,000-row table costs ~15 ms per re-run otherwise).
    """
    import functools

    table = functools.cache(df if callable(df) else lambda: df)

    def as_csv() -> bytes:
        return table_csv(table())

    def as_json() -> bytes:
        return table_json(table())

    with st.container(horizontal=True):  # each button as wide as its words: in fixed columns "Download JSON" was cut
        st.download_button(t("download.csv"), data=as_csv, file_name=f"logitsviz-{name}.csv", mime="text/csv",
                           icon=":material/download:", on_click="ignore", key=f"{key}_csv", width="content")
        st.download_button(t("download.json"), data=as_json, file_name=f"logitsviz-{name}.json", mime="application/json",
                           icon=":material/download:", on_click="ignore", key=f"{key}_json", width="content")
