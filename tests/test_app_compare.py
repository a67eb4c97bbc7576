"""The Compare page through AppTest: the built-in model and its quantised copies, files, API responses, the
Explorer's vector, links, bad input, both languages."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from logitsviz import divergence, examples, explain, lm, tokens
from logitsviz.i18n import t
from tests.apptest import metric, open_page

SERVERS = Path(__file__).parent / "data" / "servers"


@pytest.fixture(scope="module")
def builtin():
    return lm.load(str(examples.language_model_folder()))


def _npy(x) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(x))
    return buf.getvalue()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_default_compares_the_builtin_model_with_its_4_bit_copy(builtin, lang):
    at = open_page("compare", {"lang": lang})
    want = lm.compare(builtin, lm.quantized(builtin, 4), t("cmp.default_text", lang=lang)).summary()
    assert metric(at, "cmp.tile.positions", lang) == f"{want['n']:,}"
    assert metric(at, "cmp.tile.kl", lang) == f"{want['kl_mean']:.4g}"
    assert metric(at, "cmp.tile.same_top", lang) == f"{100 * want['same_top']:.1f} %"
    # the position opened at first is the one where the two differ most
    c = lm.compare(builtin, lm.quantized(builtin, 4), t("cmp.default_text", lang=lang))
    assert at.number_input(key="cmp_pos").value == int(np.argmax(c.kl)) + 1
    assert at.query_params["cmp_pos"] == str(int(np.argmax(c.kl)) + 1)


def test_fewer_bits_drift_further(builtin):
    kls = {}
    for bits in (8, 4, 2):
        at = open_page("compare", {"cmp_b": f"q{bits}"})
        kls[bits] = float(metric(at, "cmp.tile.kl"))
    assert kls[8] < kls[4] < kls[2]


def test_a_link_opens_a_position_and_the_summary_table(builtin):
    at = open_page("compare", {"cmp_b": "q2", "cmp_pos": "3", "cmp_text": "the cat sat on the mat"})
    c = lm.compare(builtin, lm.quantized(builtin, 2), "the cat sat on the mat")
    assert at.number_input(key="cmp_pos").value == 3
    assert any("**Position 3**" in m.value for m in at.markdown)
    assert not any(t("cmp.col.statistic") in df.value.columns for df in at.dataframe)  # a closed tab does not run
    at = open_page("compare", {"cmp_b": "q2", "cmp_pos": "3", "cmp_tab": "summary", "cmp_text": "the cat sat on the mat"})
    table = next(df.value for df in at.dataframe if t("cmp.col.statistic") in df.value.columns)
    rows = explain.statistics_rows(c.summary())
    assert len(table) == len(rows)
    mean = table[table[t("cmp.col.statistic")] == t("cmp.stat.kl_mean")]
    assert mean[t("cmp.col.value")].iloc[0] == f"{c.summary()['kl_mean']:.6g}"


def test_speculative_tab_simulates_the_target(builtin):
    at = open_page("compare", {"cmp_tab": "speculative", "cmp_draws": "20000", "cmp_seed": "5"})
    caption = next(c.value for c in at.caption if "χ" in c.value or "Chi-square" in c.value)
    c = lm.compare(builtin, lm.quantized(builtin, 4), t("cmp.default_text"))
    i = int(np.argmax(c.kl))
    _, base = builtin.forced(t("cmp.default_text"))
    _, other = lm.quantized(builtin, 4).forced(t("cmp.default_text"))
    view = explain.speculative_view(base[i], other[i], 20_000, 5)
    assert f"{view.accepted_rate:.3f}" in caption and f"p = {view.p_value:.3g}" in caption
    assert view.p_value > 1e-4  # draft-then-correct is the target
    alpha = float(np.mean(1 - c.tv))
    assert any(f"α = {alpha:.3f}" in cap.value for cap in at.caption)


def test_two_files_with_targets_and_a_bad_file_keeps_the_last_good_pair():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(30, 12)) * 2
    b = a + rng.normal(size=a.shape) * 0.5
    y = rng.integers(0, 12, size=30)
    at = open_page("compare", {"cmp_src": "files"})
    at.file_uploader(key="cmp_file_a").set_value(("a.npy", _npy(a), "application/octet-stream"))
    at.file_uploader(key="cmp_file_b").set_value(("b.npy", _npy(b), "application/octet-stream"))
    at.file_uploader(key="cmp_file_t").set_value(("y.npy", _npy(y), "application/octet-stream")).run()
    assert not at.exception and not at.error
    want = divergence.compare(a, b, y).summary()
    assert metric(at, "cmp.tile.kl") == f"{want['kl_mean']:.4g}"
    assert metric(at, "cmp.tile.ppl") == f"{want['ppl_base']:.4g} → {want['ppl_other']:.4g}"
    bad = b.copy()
    bad[4, 7] = np.nan
    at.file_uploader(key="cmp_file_b").set_value(("bad.npy", _npy(bad), "application/octet-stream")).run()
    assert not at.exception
    assert any("row 5, column 8" in e.value for e in at.error)
    assert metric(at, "cmp.tile.kl") == f"{want['kl_mean']:.4g}"  # the last good pair stays
    at.file_uploader(key="cmp_file_b").set_value(("short.npy", _npy(b[:5]), "application/octet-stream")).run()
    assert any("same shape" in e.value for e in at.error) and not at.exception


def test_two_api_responses_give_bounds():
    first, second = SERVERS / "llama-cpp-python-v1-chat-whole-en.json", SERVERS / "llama-cpp-python-v1-completions-whole-en.json"
    at = open_page("compare", {"cmp_src": "api"})
    at.file_uploader(key="cmp_api_a").set_value((first.name, first.read_bytes(), "application/json")).run()
    at.file_uploader(key="cmp_api_b").set_value((second.name, second.read_bytes(), "application/json")).run()
    assert not at.exception and not at.error
    view = explain.top_bounds_view(tokens.read_logprobs(first.read_bytes()), tokens.read_logprobs(second.read_bytes()))
    table = next(df.value for df in at.dataframe if t("cmp.col.tv_low") in df.value.columns)
    assert len(table) == view.compared > 0
    np.testing.assert_allclose(table[t("cmp.col.tv_low")], [b.tv_low for b in view.bounds])
    assert np.all(table[t("cmp.col.tv_low")] <= table[t("cmp.col.tv_high")] + 1e-12)
    at.file_uploader(key="cmp_api_b").set_value(("junk.json", b"{not json", "application/json")).run()
    assert at.error and not at.exception
    assert len(next(df.value for df in at.dataframe if t("cmp.col.tv_low") in df.value.columns)) == view.compared


def test_the_explorer_vector_against_an_edited_copy():
    at = open_page("compare", {"cmp_src": "explorer", "cmp_t": "1", "cmp_cls": "2", "cmp_shift": "3"})
    z = np.array([2.0, 1.0, 0.1])  # the Explorer's worked example
    other = z.copy()
    other[2] += 3
    assert metric(at, "cmp.tile.kl") == f"{float(divergence.kl(z, other)):.4g}"
    assert metric(at, "cmp.tile.same_top") == "0.0 %"  # class 2 now leads


def test_without_the_language_model_extra_other_sources_still_work(monkeypatch):
    monkeypatch.setattr(lm, "available", lambda backend="torch": False)
    at = open_page("compare")
    assert not at.exception
    assert any(lm.INSTALL in i.value for i in at.info)
    at = open_page("compare", {"cmp_src": "explorer"})
    assert metric(at, "cmp.tile.positions") == "1"
