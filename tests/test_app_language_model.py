"""The Language model page through AppTest: a tiny model loaded from a folder, the built-in model, links, limits."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.special as sp

from logitsviz import examples, lm
from logitsviz.i18n import t
from tests.apptest import metric, switch
from tests.apptest import open_page as _open


@pytest.fixture
def local_models(monkeypatch):
    monkeypatch.setenv("LOGITSVIZ_LOCAL_MODELS", "1")


def open_page(query: dict | None = None, locale: str | None = None):
    return _open("lm", {"lang": "en", **(query or {})} if not locale else query, locale)


def test_next_token_from_a_model_folder(tiny_models, local_models):
    folder = str(tiny_models["gpt2"])
    at = open_page({"model": folder, "prompt": "The new smartphone has", "lmT": "0.5"})
    assert not at.error and not at.exception
    labels, logits = lm.load(folder).next_token_logits("The new smartphone has")
    p = sp.softmax(logits.astype(np.float64) / 0.5)
    assert metric(at, "metric.pred_tokens") == labels[int(np.argmax(p))]
    assert metric(at, "metric.prob") == f"{100 * p.max():.1f}%"
    # a vocabulary's entries are tokens, not classes: the count box, the merged bar and its hover say so
    assert at.number_input(key="lmtop").label == t("lm.top", lang="en")
    helps = {m.label: m.proto.help for m in at.metric}
    assert helps[t("metric.entropy", lang="en")] == t("metric.entropy_help_tokens", lang="en")
    assert helps[t("metric.perplexity", lang="en")] == t("metric.perplexity_help_tokens", lang="en")
    shown = at.number_input(key="lmtop").value
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    rest = f"{logits.size - shown:,}"
    assert spec["data"][0]["y"][-1] == t("fig.others_tokens", lang="en", k=rest) == f"others ({rest} tokens)"
    assert spec["data"][0]["hovertext"][-1].startswith(f"{rest} other tokens")
    assert any(c.value.startswith(t("lm.next.caption", lang="en", n=f"{logits.size:,}", others="")[:20]) for c in at.caption)
    assert at.query_params["model"] == folder


def test_generate_and_score_tabs(tiny_models, local_models):
    folder = str(tiny_models["llama"])
    at = open_page({"model": folder, "prompt": "Once upon a time", "g_steps": "5", "g_seed": "7", "g_T": "0.7", "g_topk": "20",
                    "score_text": "The capital of France is Paris."})
    assert not at.error and not at.exception
    model = lm.load(folder)
    trace = model.generate("Once upon a time", 5, [("temperature", 0.7), ("top_k", 20), ("top_p", 0.95)], seed=7)
    caption = t("lm.gen.caption", lang="en", n=len(trace.steps), ppl=f"{np.exp(-np.mean([s.logprob for s in trace.steps])):.2f}")
    assert any(c.value == caption for c in at.caption)
    scores = model.score("The capital of France is Paris.")
    assert metric(at, "lm.score.ppl") == f"{scores.perplexity:,.2f}"
    assert metric(at, "seq.tokens") == str(len(scores.tokens))
    charts = at.get("plotly_chart")
    assert len(charts) == 3  # next token, the generated strip, the surprise strip


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_built_in_model_opens_at_once_in_both_languages(lang):
    # shipped with the package: nothing is trained or downloaded; its prompt is in the page's language
    at = open_page({"lang": lang, "lmT": "1.0"})
    assert not at.error and not at.exception
    prompt = t("lm.default_prompt_builtin", lang=lang)
    assert at.text_area(key="prompt").value == prompt
    model = lm.load(str(examples.language_model_folder()))
    assert model.architecture == "GPT2LMHeadModel" and model.vocab_size == 8192
    _, logits = model.next_token_logits(prompt)
    assert metric(at, "metric.prob", lang=lang) == f"{100 * sp.softmax(logits.astype(np.float64)).max():.1f}%"
    card = examples.language_model()
    # the page says what the model read, and how well it reads each language
    assert any(f"{card.held_out['zh']['bits_per_byte']:.2f}" in c.value and f"{card.held_out['en']['bits_per_byte']:.2f}" in c.value
               for c in at.caption)


def test_while_a_model_loads_the_page_shows_its_settings_and_a_progress_bar(tiny_models, local_models, monkeypatch):
    import threading

    from logitsviz.ui import language_model as page

    release = threading.Event()
    real = lm._load

    def slow(name, report=None):
        report("read", 0.5)
        release.wait(30)
        return real(name, report)

    monkeypatch.setattr(lm, "_load", slow)
    monkeypatch.setattr(page, "PATIENCE", 0.05)
    folder = str(tiny_models["llama"])
    lm._MODELS.pop(folder, None)
    at = open_page({"model": folder, "prompt": "Once upon"})
    assert not at.exception and not at.error
    assert at.text_area(key="prompt").value == "Once upon"  # the prompt and the settings are there at once
    assert at.select_slider(key="lmT") and at.number_input(key="g_steps")
    bar = at.get("progress")
    assert bar and bar[0].proto.text == t("lm.stage.read", lang="en", name=folder, percent="62")
    assert any(c.value == t("lm.waiting", lang="en") for c in at.caption)
    assert not at.get("plotly_chart")
    release.set()
    lm.loading(folder).wait(30)
    at.run()
    assert not at.exception and at.get("plotly_chart") and not at.get("progress")


def test_a_folder_is_refused_unless_the_server_allows_it(tiny_models, monkeypatch):
    monkeypatch.delenv("LOGITSVIZ_LOCAL_MODELS", raising=False)
    monkeypatch.setenv("LOGITSVIZ_ANY_MODEL", "1")
    at = open_page({"model": str(tiny_models["gpt2"])})
    assert not at.exception
    assert at.error and t("lm.not_allowed", lang="en", name=str(tiny_models["gpt2"])) in at.error[0].value


def test_a_failed_choice_keeps_the_last_model(tiny_models, local_models):
    folder = str(tiny_models["gpt2"])
    at = open_page({"model": folder})
    at.text_input(key="lm_other").set_value("/no/such/model").run()
    assert not at.exception
    assert at.error and "/no/such/model" in at.error[0].value
    assert any(c.value == t("lm.still_showing", lang="en", name=folder) for c in at.caption)
    assert at.get("plotly_chart")  # the last good model's chart is still there


def test_without_pytorch_the_built_in_model_runs_and_others_say_what_they_need(monkeypatch):
    monkeypatch.setattr(lm, "available", lambda backend="torch": backend == "numpy")
    at = open_page()
    assert not at.exception and not at.error
    assert at.selectbox(key="lm_pick").options == [t("lm.model.builtin", lang="en")]
    assert any(c.value == t("lm.enable_more", lang="en", command=lm.INSTALL) for c in at.caption)
    assert at.get("plotly_chart")


def test_without_the_extra_the_page_says_how_to_enable_it(monkeypatch):
    monkeypatch.setattr(lm, "available", lambda backend="torch": False)
    at = open_page()
    assert not at.exception and not at.error
    assert at.info and lm.INSTALL in at.info[0].value


def test_chinese_page_and_default_prompt(tiny_models, local_models):
    at = open_page({"model": str(tiny_models["qwen2"])}, locale="zh-CN")
    assert not at.exception and not at.error
    assert at.title[0].value == t("lm.title", lang="zh")
    assert at.text_area(key="prompt").value == t("lm.default_prompt", lang="zh")


def test_open_the_next_token_in_the_decoding_lab(tiny_models, local_models):
    folder = str(tiny_models["gpt2"])
    at = open_page({"model": folder, "prompt": "Paris is"})
    at.button(key="next_decoding").click().run()
    assert not at.exception
    assert at.title[0].value == t("decode.title", lang="en")
    _, logits = lm.load(folder).next_token_logits("Paris is")
    from tests.test_app_decoding import kept_tile

    assert kept_tile(at)[1] == logits.size
    assert any(t("decode.from_model", lang="en", name=folder, n=f"{logits.size:,}") == c.value for c in at.caption)


def test_decoding_lab_asks_for_a_prompt_first():
    at = _open("decoding", {"src": "lm"})
    assert not at.exception
    assert at.info and at.info[0].value == t("decode.lm_first", lang="en")


def test_open_the_next_token_in_the_explorer(tiny_models, local_models):
    folder = str(tiny_models["gpt2"])
    at = open_page({"model": folder, "prompt": "Paris is"})
    at.button(key="next_explorer").click().run()
    assert not at.exception
    assert at.title[0].value == t("explorer.title", lang="en")
    labels, logits = lm.load(folder).next_token_logits("Paris is")
    assert metric(at, "metric.pred") == labels[int(np.argmax(logits))]
    switch(at, "lm").run()  # and back: the page remembers its model and prompt
    assert at.text_area(key="prompt").value == "Paris is"


def test_step_through_generation_runs_the_model_with_the_chain(tiny_models, local_models):
    folder = str(tiny_models["gpt2"])
    at = open_page({"model": folder, "prompt": "Paris is"})
    at.button(key="next_decoding").click().run()
    switch(at, "decoding")  # stay on the page st.switch_page went to (AppTest forgets it on the next run)
    at.toggle(key="on_repetition").set_value(True).run()
    at.toggle(key="on_mirostat").set_value(True).run()
    at.button(key="gen_ten").click().run()
    assert not at.exception and not at.error
    table = at.dataframe[-1].value
    assert len(table) == 10
    # the same chain and seed through the library: the same tokens, and mirostat's μ after each
    from logitsviz import sampling

    units = [sampling.RepetitionPenalty(1.3), sampling.Temperature(0.8), sampling.TopP(0.9), sampling.Mirostat(3.0)]
    trace = lm.load(folder).generate("Paris is", 10, units, seed=0, stop_at_eos=False)
    vocab = lm.load(folder).vocab
    assert list(table[t("decode.gen.col.token", lang="en")]) == [vocab[s.token] for s in trace.steps]
    np.testing.assert_allclose(table[t("decode.gen.col.mu", lang="en")].to_numpy(), [s.mu for s in trace.steps])
    at.button(key="gen_one").click().run()
    assert len(at.dataframe[-1].value) == 11
    assert list(at.dataframe[-1].value[t("decode.gen.col.token", lang="en")])[:10] == [vocab[s.token] for s in trace.steps]


def test_branch_continues_from_the_chosen_token(tiny_models, local_models):
    # the prompt is set in the button's callback, before its text area exists: assigning it after the text area was
    # drawn raised StreamlitWidgetAlreadyInstantiatedError (seen now and then in the browser)
    folder = str(tiny_models["gpt2"])
    at = open_page({"model": folder, "prompt": "Paris is", "g_steps": "6"})
    at.session_state["strip_gen"] = {"selection": {"points": [{"point_index": 2}], "point_indices": [2], "box": [], "lasso": []}}
    at.run()
    assert not at.exception and any(b.key == "branch" for b in at.button)  # the third token's panel is open
    model = lm.load(folder)
    trace = model.generate("Paris is", 6, [("temperature", 0.8), ("top_p", 0.95)], seed=0)
    before = b"".join(model.token_bytes[s.token] for s in trace.steps[:2]).decode("utf-8", errors="ignore")
    at.button(key="branch").click().run()
    assert not at.exception
    assert at.text_area(key="prompt").value == "Paris is" + before
    assert not any(b.key == "branch" for b in at.button)  # the old selection is forgotten: no panel for the new text


def test_a_scored_text_knows_the_whole_distribution(tiny_models, local_models):
    # the score tab reused the API panel's wording ("only the top alternatives are known", "outside the listed top: 0"):
    # a local model's every logit is known, so the entropy is exact and said to be
    folder = str(tiny_models["gpt2"])
    text = "The capital of France is Paris."
    at = open_page({"model": folder, "score_text": text, "lm_tab": "score"})
    assert not at.exception and not at.error
    labels = [m.label for m in at.metric]
    assert t("seq.unknown", lang="en") not in labels
    scores = lm.load(folder).score(text)
    mean = np.mean([s.entropy_bits for s in scores.tokens])
    assert metric(at, "seq.mean_entropy") == t("unit.bits", lang="en", value=f"{mean:.2f}")
    at.session_state["strip_score"] = {"selection": {"points": [{"point_index": 1}], "point_indices": [1], "box": [], "lasso": []}}
    at.run()
    captions = [c.value for c in at.caption]
    assert not any(c.startswith(t("seq.rest_caption", lang="en", pct="")[:20]) for c in captions)
    assert any(c.startswith(t("seq.rest_caption_exact", lang="en", pct="")[:20]) for c in captions)
