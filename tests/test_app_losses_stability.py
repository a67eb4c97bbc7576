"""The Losses and Stability pages through AppTest."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sp

from logitsviz import examples
from logitsviz.i18n import t
from tests.apptest import metric, open_page

# ------------------------------------------------------------- stability ----


@pytest.mark.parametrize("source", list(examples.STABILITY_PRESETS))
def test_stability_presets_break_the_naive_formula(source):
    at = open_page("stability", {"stab": source})
    table = at.dataframe[0].value
    verdicts = dict(zip(table["type"], table["naive result"]))
    broken = {"huge": {"float16", "float32", "float64"}, "negative": {"float16", "float32", "float64"},
              "float32": {"float16", "float32"}, "float16": {"float16"}}[source]
    assert {k for k, v in verdicts.items() if v != "fine"} == broken
    assert at.warning  # the page says where it broke
    # the stable answer is exact in float64
    z = np.array(examples.STABILITY_PRESETS[source])
    shown = table.loc[table["type"] == "float64", "stable: subtract max first"].item()
    assert shown.startswith("[" + f"{sp.softmax(z)[0]:.4g}")


def test_stability_shift_table():
    at = open_page("stability", {"stab": "huge", "c": "999"})
    shift = at.dataframe[1].value
    assert list(shift["finite?"]) == ["✗", "✓", "✓"]  # no shift, c = max, c = 999


def test_stability_tail_counts_underflow():
    at = open_page("stability", {"V": "10000", "spread": "50.0"})
    tail = at.dataframe[2].value
    zeros = [int(v.replace(",", "")) for v in tail["p = 0 exactly (log p = −inf)"]]
    assert zeros[0] >= zeros[1] >= zeros[2] and zeros[0] > 0
    assert all(v.replace(",", "") == "10000" for v in tail["log_softmax finite"])


def test_stability_with_explorer_input_and_chinese():
    at = open_page("stability", {"stab": "explorer", "logits": "a:2,b:1"}, locale="zh-CN")
    assert at.title[0].value == "数值稳定性"
    assert at.success  # small logits: the naive formula works


# ---------------------------------------------------------------- losses ----


def test_cross_entropy_tab():
    at = open_page("losses", {"logits": "a:2,b:1,c:0.1"})
    assert metric(at, "loss.ce.loss") == t("unit.nats", value=f"{-sp.log_softmax([2.0, 1.0, 0.1])[0]:.4f}")
    box = at.selectbox(key="y")
    assert box.options == ["a", "b", "c"]  # the true class is picked by its name
    box.set_value("2").run()
    assert metric(at, "loss.ce.loss") == t("unit.nats", value=f"{-sp.log_softmax([2.0, 1.0, 0.1])[2]:.4f}")
    assert at.query_params["y"] == "2"
    at.slider(key="ls").set_value(0.1).run()
    q = 0.9 * np.eye(3)[2] + 0.1 / 3
    assert metric(at, "loss.ce.loss") == t("unit.nats", value=f"{-(q * sp.log_softmax([2.0, 1.0, 0.1])).sum():.4f}")
    assert len(at.get("plotly_chart")) >= 2


def test_only_the_open_loss_tab_runs():
    at = open_page("losses")
    assert metric(at, "loss.ce.loss") and not any(m.label == t("loss.nce.loss") for m in at.metric)
    at.session_state["loss_tab"] = t("loss.tab.nce")  # a click on the tab
    at.run()
    assert not at.exception and at.query_params["loss_tab"] == "nce"
    assert metric(at, "loss.nce.loss") and not any(m.label == t("loss.ce.loss") for m in at.metric)


def test_a_tab_keeps_its_settings_while_another_is_open():
    at = open_page("losses", {"logits": "a:2,b:-1,c:0.5", "loss_tab": "sig"})
    at.multiselect(key="pos").set_value([0, 2]).run()
    both = metric(at, "loss.sig.bce")
    for tab in ("ce", "kd", "sig"):  # away (the sigmoid tab does not run) and back
        at.session_state["loss_tab"] = t(f"loss.tab.{tab}")
        at.run()
        if tab == "kd":
            at.pills(key="kd_preset").set_value("wrong").run()
    assert at.multiselect(key="pos").value == [0, 2] and metric(at, "loss.sig.bce") == both
    at.session_state["loss_tab"] = t("loss.tab.kd")
    at.run()
    assert at.pills(key="kd_preset").value == "wrong" and not at.exception


def test_sigmoid_tab():
    at = open_page("losses", {"logits": "a:2,b:-1", "loss_tab": "sig"})
    assert metric(at, "loss.sig.sum_sigmoid") == f"{sp.expit(2.0) + sp.expit(-1.0):.3f}"
    assert metric(at, "loss.sig.sum_softmax") == "1.000"


def test_info_nce_tab_temperature():
    at = open_page("losses", {"loss_tab": "nce"})
    hot = float(metric(at, "loss.nce.loss").split()[0])
    at.select_slider(key="tau").set_value(1.0).run()
    cold = float(metric(at, "loss.nce.loss").split()[0])
    assert cold > hot  # tau = 1 is too soft for these matched pairs
    assert metric(at, "loss.nce.chance") == t("unit.nats", value=f"{np.log(8):.4f}")


def test_distillation_tab():
    at = open_page("losses", {"loss_tab": "kd"})
    at.pills(key="kd_preset").set_value("wrong").run()
    assert at.text_input(key="teacher").value == "4, 1, 0, 0, 0"
    T = 4.0
    teacher = np.array([4, 1, 0, 0, 0.0])
    student = np.array([0, 4, 1, 0, 0.0])
    kl = sp.rel_entr(sp.softmax(teacher / T), sp.softmax(student / T)).sum()
    assert metric(at, "loss.kd.kl", T="4") == t("unit.nats", value=f"{kl:.4f}")
    assert metric(at, "loss.kd.scaled") == t("unit.nats", value=f"{T * T * kl:.4f}")


@pytest.mark.parametrize(("teacher", "student"), [("1, 2, 3", "1, 2"), ("1, nan", "1, 2"), ("", "1")])
def test_distillation_bad_input_shows_error(teacher, student):
    at = open_page("losses", {"loss_tab": "kd"})
    at.text_input(key="teacher").input(teacher)
    at.text_input(key="student").input(student).run()
    assert not at.exception
    assert at.error


def test_losses_with_huge_and_masked_logits():
    for logits in ("a:1000,b:-1000,c:-inf", "only:3"):
        at = open_page("losses", {"logits": logits})
        assert not at.exception and not at.error
