"""The guided tour through AppTest: every step in both languages, the step in the link, the experiments it suggests."""

from __future__ import annotations

import pytest

from logitsviz.i18n import t
from logitsviz.ui.tour import STEPS
from tests.apptest import open_page


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("step", STEPS)
def test_every_step_renders_with_a_live_figure(step, lang):
    at = open_page("tour", {"lang": lang, "step": step})
    assert not at.exception and at.get("plotly_chart")
    assert at.subheader[0].value.endswith(t(f"tour.{step}.title", lang=lang))
    assert any(i.value == t(f"tour.{step}.try", lang=lang) for i in at.info)


def test_next_and_back_walk_the_steps_and_the_link_follows():
    at = open_page("tour", {"lang": "en"})
    assert at.button(key="tour_back").disabled
    at.button(key="tour_next").click().run()
    assert at.query_params["step"] == "softmax"
    assert "7.39 + 2.72 + 1.11" in " ".join(m.value for m in at.markdown)  # the blog's own arithmetic
    at.button(key="tour_back").click().run()
    assert at.query_params["step"] == "logits"


def test_the_suggested_experiments_do_what_the_text_says():
    at = open_page("tour", {"lang": "en", "step": "max"})
    at.slider(key="tour_c").set_value(1000.0).run()
    assert at.error  # the textbook formula overflows
    assert at.dataframe[0].value.iloc[1, 1] == "0.659, 0.242, 0.099"  # the stable one does not
    at = open_page("tour", {"lang": "en", "step": "preference"})
    assert any("News" in c.value for c in at.caption)
    at.slider(key="tour_boost").set_value(2.0).run()  # 0.1 + 2.0 > 2.0
    assert any("Technology" in c.value for c in at.caption)
    at = open_page("tour", {"lang": "en", "step": "temperature"})
    at.select_slider(key="tour_T").set_value(0.1).run()
    assert any("100.0%" in c.value or "99." in c.value for c in at.caption)
