"""The calibration metrics are declared once (calibration.REGISTRY): the summary, the bootstrap, the command line and
the page's tables all read them from there, so a new metric is one entry."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from logitsviz import calibration, explain
from logitsviz.__main__ import main
from logitsviz.errors import InputError

CATALOGS = {lang: json.loads((Path(calibration.__file__).parents[1] / "locales" / f"{lang}.json").read_text("utf-8"))
            for lang in ("en", "zh")}


def _eval_set(rows: int = 600, classes: int = 5, seed: int = 3):
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 2.5, (rows, classes))
    y = np.where(rng.random(rows) < 0.7, np.argmax(z, axis=1), rng.integers(0, classes, rows))
    return z, y


def test_every_metric_read_from_the_sums_equals_its_own_function():
    z, y = _eval_set()
    s = calibration.summarize(z, y, n_bins=15)
    got = s.metrics()
    assert list(got) == list(calibration.REGISTRY)  # every metric, in the registry's order
    assert got["accuracy"] == pytest.approx(calibration.accuracy(z, y), abs=1e-15)
    assert got["nll"] == pytest.approx(calibration.nll(z, y), rel=1e-12)
    assert got["brier"] == pytest.approx(calibration.brier(z, y), rel=1e-12)
    assert got["ece"] == pytest.approx(calibration.expected_calibration_error(z, y, 15), rel=1e-12)
    assert got["mce"] == pytest.approx(calibration.expected_calibration_error(z, y, 15, "max"), rel=1e-12)
    assert got["rmsce"] == pytest.approx(calibration.expected_calibration_error(z, y, 15, "l2"), rel=1e-12)
    assert got["smooth_ece"] == pytest.approx(calibration.smooth_ece(z, y), rel=1e-9)
    assert got["classwise_ece"] == pytest.approx(calibration.classwise_ece(z, y), rel=1e-12)
    assert got["debiased_ece"] == pytest.approx(calibration.debiased_ece(z, y), rel=1e-9)
    assert got["confidence"] == pytest.approx(float(np.mean(calibration.row_stats(z, y).confidence)), rel=1e-12)
    # the sums rank confidences on a grid of 1/4096: AURC from them is close to the exact one, not equal
    assert got["aurc"] == pytest.approx(calibration.risk_coverage(z, y).aurc, abs=2e-3)
    assert "classwise_ece" not in calibration.summarize(z, y, classwise=False).metrics()


def test_every_resampled_metric_on_all_rows_is_its_value():
    z, y = _eval_set()
    s = calibration.row_stats(z, y)
    summary = calibration.summarize(z, y).metrics()
    rows = (s.confidence, s.correct.astype(np.float64), s.nll, s.brier)
    for m in calibration.REGISTRY.values():
        if m.of_rows is None:
            assert m.classwise  # only the per-class metric needs more than the per-row values
            continue
        tol = 2e-3 if m.name == "aurc" else 1e-9  # AURC from the sums is on a grid, from the rows exact
        assert m.of_rows(15)(*rows) == pytest.approx(summary[m.name], abs=tol, rel=tol), m.name


def test_each_metric_says_how_it_is_shown_and_named_in_both_languages():
    for m in calibration.REGISTRY.values():
        for lang in ("en", "zh"):
            assert CATALOGS[lang].get(f"cal.m2.{m.name}"), (lang, m.name)
            assert CATALOGS[lang].get(f"cal.m2.{m.name}.what"), (lang, m.name)
    assert not calibration.REGISTRY["nll"].rate and not calibration.REGISTRY["brier"].rate
    assert calibration.REGISTRY["ece"].rate and calibration.REGISTRY["accuracy"].higher_is_better
    assert calibration.REGISTRY["accuracy"].best([0.2, 0.9]) == 0.9 and calibration.REGISTRY["nll"].best([0.2, 0.9]) == 0.2
    assert set(calibration.METRICS) | set(calibration.MORE_METRICS) == set(calibration.REGISTRY)
    assert set(explain.INTERVAL_METRICS) == {m.name for m in calibration.REGISTRY.values() if m.of_rows is not None}


@pytest.fixture
def error_rate(monkeypatch):
    """A metric added the way the recipe says: one registry entry (and, for the page, two catalogue strings)."""
    metric = calibration.Metric("error_rate", "error rate", lambda s: 1.0 - s.accuracy,
                                lambda n_bins: lambda conf, ok, _nll, _brier: float(1.0 - np.mean(ok)))
    monkeypatch.setitem(calibration.REGISTRY, "error_rate", metric)
    return metric


def test_a_new_metric_reaches_the_summary_the_bootstrap_and_the_command_line(error_rate, tmp_path, capsys):
    z, y = _eval_set(300)
    s = calibration.summarize(z, y)
    assert s.metrics()["error_rate"] == pytest.approx(1 - s.accuracy)
    iv = calibration.bootstrap("error_rate", z, y, n=100)
    assert iv.estimate == pytest.approx(1 - s.accuracy) and iv.low <= iv.estimate <= iv.high
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "y.npy", y)
    assert main(["calibrate", str(tmp_path / "z.npy"), str(tmp_path / "y.npy")]) == 0
    table = capsys.readouterr().out
    assert "error rate" in table
    assert main(["calibrate", str(tmp_path / "z.npy"), str(tmp_path / "y.npy"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["before"]["error_rate"] == pytest.approx(1 - s.accuracy)


def test_an_unknown_metric_name_lists_the_registry():
    z, y = _eval_set(50)
    with pytest.raises(InputError) as info:
        calibration.bootstrap("no_such_metric", z, y, n=10)
    for name in ("accuracy", "smooth_ece", "aurc"):
        assert name in str(info.value.params["names"])
