"""The Calibration page's Prediction sets and Out of distribution tabs through AppTest."""

from __future__ import annotations

import numpy as np
import pytest

from logitsviz import calibration, examples, explain
from logitsviz.i18n import t
from tests.apptest import metric, open_page


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("score,mondrian", [("lac", False), ("aps", False), ("raps", True)])
def test_prediction_sets_tab(lang, score, mondrian):
    query = {"lang": lang, "cal_tab": "sets", "cp_score": score, "cp_alpha": "0.05", "split": "0.5", "seed": "3"}
    if mondrian:
        query["cp_mondrian"] = "true"
    at = open_page("calibration", query)
    assert not at.exception and not at.error
    m = examples.digits_model()
    view = explain.sets_view(m.logits, m.labels, 0.5, 3, 0.05, score, mondrian)
    assert metric(at, "conf.tile.coverage", lang) == f"{100 * view.coverage:.1f} %"
    assert metric(at, "conf.tile.size", lang) == f"{view.mean_size:.2f}"
    assert metric(at, "conf.tile.worst", lang) == f"{100 * view.worst_class:.1f} %"
    assert any(t("conf.split", lang=lang, cal=f"{view.n_cal:,}", test=f"{view.n_test:,}", seed=3) == c.value for c in at.caption)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_out_of_distribution_tab(lang):
    at = open_page("calibration", {"lang": lang, "cal_tab": "ood", "ood_kind": "inverted"})
    assert not at.exception and not at.error
    m = examples.digits_model()
    out = m.forward(examples.digits_unlike("inverted"))
    table = next(df.value for df in at.dataframe if "AUROC" in df.value.columns)
    want = [calibration.ood(m.logits, out, s).auroc for s in calibration.OOD_SCORES]
    np.testing.assert_allclose(table["AUROC"], want, rtol=1e-12)
    assert any("→" in md.value and "5" in md.value for md in at.markdown)  # the shift lesson with its numbers


def test_an_uploaded_set_gets_prediction_sets_and_a_note_on_the_ood_tab():
    import io

    rng = np.random.default_rng(0)
    z = rng.normal(size=(300, 4)) * 2
    y = z.argmax(1)
    y[:40] = rng.integers(0, 4, size=40)
    buf = io.BytesIO()
    np.savez(buf, logits=z, labels=y)
    at = open_page("calibration", {"data": "upload", "cal_tab": "sets"})
    at.file_uploader(key="cal_logits").set_value(("eval.npz", buf.getvalue(), "application/octet-stream")).run()
    assert not at.exception
    view = explain.sets_view(z, y, 0.5, 0, 0.1, "lac")
    assert metric(at, "conf.tile.coverage") == f"{100 * view.coverage:.1f} %"
    at = open_page("calibration", {"data": "upload", "cal_tab": "ood"})
    at.file_uploader(key="cal_logits").set_value(("eval.npz", buf.getvalue(), "application/octet-stream")).run()
    assert not at.exception and any(t("ood.digits_only") in i.value for i in at.info)


def test_the_conformal_nucleus_on_the_score_tab():
    from logitsviz import conformal, lm

    at = open_page("lm", {"lang": "en", "lm_tab": "score", "nu_alpha": "0.2"})
    assert not at.exception
    text = at.text_area(key="score_text").value
    model = lm.load(str(examples.language_model_folder()))
    ids, logits = model.forced(text)
    nu = conformal.nucleus(logits, np.asarray(ids[1:]), 0.2)
    assert any(f"top-p = {nu.top_p:.3f}" in m.value and "80 %" in m.value for m in at.markdown)
