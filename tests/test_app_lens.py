"""The Language model page's Layers tab through AppTest: the logit lens grid, a token's journey, the attribution."""

from __future__ import annotations

import numpy as np
import pytest

from logitsviz import examples, explain, lm
from logitsviz.i18n import t
from logitsviz.tokens import visible
from tests.apptest import open_page

PROMPT = "The new smartphone has a"


@pytest.fixture
def local_models(monkeypatch):
    monkeypatch.setenv("LOGITSVIZ_LOCAL_MODELS", "1")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_layers_tab_on_the_builtin_model(lang):
    at = open_page("lm", {"lang": lang, "lm_tab": "layers", "prompt": PROMPT})
    assert not at.error and not at.exception
    model = lm.load(str(examples.language_model_folder()))
    lens = model.lens(PROMPT)
    assert at.number_input(key="lens_pos").value == len(lens.ids)  # the last position, whose prediction is the output
    assert any(t("lens.grid.caption", lang=lang, rows=lens.layers - 1) == c.value for c in at.caption)
    # the last step's dot product is the logit the Next token tab shows
    _, logits = model.next_token_logits(PROMPT)
    top = int(np.argmax(logits))
    step = next(c.value for c in at.caption if c.value.startswith(t("lens.step.caption", lang=lang, d="x", shown=0, total="",
                                                                                                     logit="")[:6]))
    assert f"{logits[top]:.4f}" in step
    # the waterfall's parts are the library's
    att = model.attribution(PROMPT, top)
    table = next(df.value for df in at.dataframe if "h × W_U" in df.value.columns)
    np.testing.assert_allclose(table["h"], att.hidden[:6], rtol=1e-6)
    assert sum(att.parts.values()) == pytest.approx(float(logits[top]) - float(np.sort(logits)[-2]), abs=1e-3)


def test_a_link_opens_a_position_and_the_kl_shading():
    at = open_page("lm", {"lang": "en", "lm_tab": "layers", "prompt": PROMPT, "lens_c": "kl", "lens_pos": "2"})
    assert not at.exception
    assert at.number_input(key="lens_pos").value == 2
    assert at.session_state["lens_c"] == "kl"
    model = lm.load(str(examples.language_model_folder()))
    view = explain.lens_view(model.lens(PROMPT))
    token = view.tokens[1]
    assert any(t("lens.journey.title", token=visible(token), i=2) in m.value for m in at.markdown)


def test_a_pytorch_llama_model_from_a_folder(tiny_models, local_models):
    folder = str(tiny_models["llama"])
    at = open_page("lm", {"lang": "en", "lm_tab": "layers", "model": folder, "prompt": "the cat sat"})
    assert not at.error and not at.exception
    names = next(df.value for df in at.dataframe if "h × W_U" in df.value.columns)
    assert len(names) == 6
    assert any(t("lens.attr.title") in h.value for h in at.subheader)


def test_lens_view_matches_the_lens():
    model = lm.load(str(examples.language_model_folder()))
    lens = model.lens(PROMPT)
    view = explain.lens_view(lens)
    texts, probs = lens.top(1)
    assert view.top_text[2][3] == texts[2][3][0]
    np.testing.assert_allclose(view.top_prob, probs[..., 0])
    token = int(view.journey_ids[4, 1])
    np.testing.assert_allclose(view.journey_prob[4, 1], lens.probability(token)[:, 4], rtol=1e-5)
    np.testing.assert_array_equal(view.journey_rank[4, 1], lens.rank(token)[:, 4])
    assert np.all(view.journey_rank[:, 0, -1] == 0)  # the final top token is rank 0 on the last row
