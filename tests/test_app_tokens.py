"""The Tokens page through AppTest: the example, every format uploaded, bad input, both languages."""

from __future__ import annotations

import json

import pytest

from logitsviz import examples, tokens
from logitsviz.i18n import t
from tests.apptest import metric
from tests.apptest import open_page as _open
from tests.logprob_fixtures import ALL


def open_page(query=None, locale=None):
    return _open("tokens", {"lang": "en", **(query or {})} if not locale else (query or {}), locale)


def test_the_example():
    at = open_page()
    assert not at.exception and not at.error
    seq = tokens.read_logprobs(examples.api_response_example())
    assert metric(at, "seq.tokens") == str(len(seq.positions))
    assert metric(at, "lm.score.ppl") == f"{seq.perplexity:,.2f}"
    assert at.get("plotly_chart")
    # the least likely tokens: a token and the one the model expected read alike ("␣Paris" both, not " Paris" and "␣Paris")
    (table,) = [d.value for d in at.dataframe if t("lm.score.col.expected") in d.value.columns]
    for _, row in table.iterrows():
        pos = seq.positions[int(row[t("lm.score.col.position")]) - 1]
        assert row[t("lm.score.col.token")] == pos.text.replace(" ", "␣").replace("\n", "↵")
        assert row[t("lm.score.col.expected")] == (pos.top[0][0] if pos.top else "")
    assert any(row.startswith("␣") for row in table[t("lm.score.col.token")])
    assert not any(" " in row for row in table[t("lm.score.col.token")])


@pytest.mark.parametrize("name", sorted(ALL))
def test_every_format_uploaded(name):
    doc, expect = ALL[name]
    data = (doc if isinstance(doc, str) else json.dumps(doc, ensure_ascii=False)).encode()
    at = open_page({"tsrc": "upload"})
    at.file_uploader(key="tok_file").set_value((f"{name}.json", data, "application/json")).run()
    assert not at.exception and not at.error
    assert metric(at, "seq.tokens") == str(len(expect["tokens"]))
    assert any(c.value.startswith(f"{name}.json: ") for c in at.caption)


def test_bad_input_keeps_the_last_good_response():
    at = open_page({"tsrc": "paste"})
    good = json.dumps(ALL["ollama"][0])
    at.text_area(key="tok_text").set_value(good).run()
    assert metric(at, "seq.tokens") == "2"
    at.text_area(key="tok_text").set_value('{"choices": [{"logprobs": {"content": [{"token": "a", "logprob": "x"}]}}]}').run()
    assert not at.exception
    assert at.error and "choices[0].logprobs.content[0].logprob" in at.error[0].value
    assert metric(at, "seq.tokens") == "2"


def test_chinese():
    at = open_page(locale="zh-CN")
    assert not at.exception and not at.error
    assert at.title[0].value == t("tok.title", lang="zh")
    assert metric(at, "seq.tokens", "zh")


# ------------------------------------------------------------ ask a server ----


def test_ask_a_server_streams_into_the_token_view(server_with_chat):
    url = server_with_chat.url
    at = open_page({"tsrc": "server", "tsrv_url": url, "tsrv_api": "chat", "tsrv_prompt": "Capital of France?", "tsrv_n": "3"})
    assert not at.exception and not at.error
    assert at.info and at.info[0].value == t("srv.first", lang="en")
    at.text_input(key="tsrv_key").set_value("sk-secret-value")
    at.button(key="tsrv_ask").click().run()
    assert not at.exception and not at.error
    assert metric(at, "seq.tokens") == "3"
    _, _, headers, body = server_with_chat.requests[-1]
    assert body["stream"] is True and body["max_tokens"] == 3 and body["top_logprobs"] == 5
    assert headers["Authorization"] == "Bearer sk-secret-value"
    # the key stays in this session: never in the link (nor in any downloadable table)
    assert all("sk-secret" not in str(v) for v in at.query_params.values())
    assert "tsrv_key" not in at.query_params
    assert any(c.value.startswith(f"{url} ({t('srv.api.chat', lang='en')})") for c in at.caption)


def test_ask_a_server_that_is_not_allowed_keeps_the_last_result(server_with_chat, monkeypatch):
    at = open_page({"tsrc": "server", "tsrv_url": server_with_chat.url, "tsrv_api": "chat"})
    at.button(key="tsrv_ask").click().run()
    assert metric(at, "seq.tokens") == "3"
    at.text_input(key="tsrv_url").set_value("http://169.254.169.254").run()
    at.button(key="tsrv_ask").click().run()
    assert not at.exception
    assert at.error and "169.254.169.254" in at.error[0].value
    assert metric(at, "seq.tokens") == "3"  # the last good response stays on screen


def test_ask_a_server_in_chinese(server_with_chat, monkeypatch):
    from logitsviz import i18n

    at = open_page({"tsrc": "server", "tsrv_url": server_with_chat.url, "tsrv_api": "chat"}, locale="zh-CN")
    i18n.set_language("zh")  # AppTest formats the API choice's label in this thread when it sends the click
    try:
        at.button(key="tsrv_ask").click().run()
    finally:
        i18n.set_language("en")
    assert not at.exception and not at.error
    assert at.text_area(key="tsrv_prompt").label == t("srv.message", lang="zh")
    assert metric(at, "seq.tokens", lang="zh") == "3"


def test_models_listed_by_the_server_become_a_choice(server_with_chat):
    server_with_chat.routes["/v1/models"] = (200, {"data": [{"id": "alpha"}, {"id": "beta"}]}, 0)
    at = open_page({"tsrc": "server", "tsrv_url": server_with_chat.url})
    at.button(key="tsrv_list").click().run()
    assert not at.exception and not at.error
    assert at.selectbox(key="tsrv_model").options == ["alpha", "beta"]
