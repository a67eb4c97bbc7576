"""The command line, driven as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.special as sp

from logitsviz import calibration
from tests.e2e.harness import free_port, wait_healthy

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "logitsviz", *args], input=stdin, capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def test_softmax_table():
    out = run("softmax", "2.0", "1.0", "0.1", "--labels", "News", "Entertainment", "Technology")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[1].startswith("* News") and "0.659001" in lines[1]
    assert "0.242433" in lines[2] and "0.098566" in lines[3]
    assert "argmax: News" in out.stdout


def test_softmax_json_with_temperature():
    out = run("softmax", "2", "1", "0.1", "--temperature", "2", "--json")
    data = json.loads(out.stdout)
    np.testing.assert_allclose([c["probability"] for c in data["classes"]], sp.softmax(np.array([2, 1, 0.1]) / 2))
    np.testing.assert_allclose([c["log_probability"] for c in data["classes"]], sp.log_softmax(np.array([2, 1, 0.1]) / 2))
    assert data["argmax"] == "class 0"


def test_softmax_reads_stdin_and_files(tmp_path):
    out = run("softmax", "-", "--json", stdin="cat: 3\ndog: 1\n")
    assert json.loads(out.stdout)["argmax"] == "cat"
    path = tmp_path / "v.npy"
    np.save(path, np.array([0.0, 5.0, 1.0], dtype=np.float32))
    out = run("softmax", str(path), "--json")
    assert json.loads(out.stdout)["argmax"] == "class 1"
    masked = run("softmax", "--json", "--", "-inf", "1")
    assert json.loads(masked.stdout)["classes"][0]["logit"] is None


@pytest.mark.parametrize(
    ("args", "stdin", "fragment"),
    [
        (("softmax", "1", "nan"), None, "NaN"),
        (("softmax", "-"), "1, 1e999", "too large"),
        (("softmax", "1", "2", "--labels", "a"), None, "--labels"),
        (("softmax", "1", "2", "--temperature", "0"), None, "temperature"),
        (("softmax",), None, "empty"),
        (("calibrate", "/no/such/file.npy"), None, "no such file"),
        (("bogus",), None, "invalid choice"),
    ],
)
def test_errors_are_one_line(args, stdin, fragment):
    out = run(*args, stdin=stdin)
    assert out.returncode == 2
    assert out.stdout == ""
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert fragment in out.stderr
    assert "Traceback" not in out.stderr


def test_calibrate(tmp_path):
    rng = np.random.default_rng(0)
    z = rng.normal(0, 3, (3000, 5))
    p = sp.softmax(z / 2, axis=1)
    y = (p.cumsum(1) < rng.random(3000)[:, None]).sum(1).clip(max=4)
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "y.npy", y)
    out = run("calibrate", str(tmp_path / "z.npy"), str(tmp_path / "y.npy"), "--json", "--bins", "10")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["fitted_temperature"] == pytest.approx(calibration.fit_temperature(z, y), rel=1e-9)
    assert data["before"]["ece"] == pytest.approx(calibration.expected_calibration_error(z, y, n_bins=10), rel=1e-9)
    np.savez(tmp_path / "both.npz", logits=z, labels=y)
    table = run("calibrate", str(tmp_path / "both.npz"))
    assert "fitted temperature" in table.stdout and "ECE" in table.stdout


def test_compare(tmp_path):
    from logitsviz import divergence

    rng = np.random.default_rng(1)
    a = (rng.normal(size=(400, 50)) * 3).astype(np.float32)
    b = (a + rng.normal(size=a.shape) * 0.4).astype(np.float32)
    t = rng.integers(0, 50, size=400)
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "b.npy", b)
    np.save(tmp_path / "t.npy", t)
    for name, x in (("A", a), ("B", b)):
        (tmp_path / name).mkdir()
        np.save(tmp_path / name / "0.npy", x[:250])
        np.save(tmp_path / name / "1.npy", x[250:])
    want = divergence.compare(a, b, t).summary()
    for sides in (("a.npy", "b.npy"), ("A", "B")):
        out = run("compare", *(str(tmp_path / s) for s in sides), "--targets", str(tmp_path / "t.npy"), "--json")
        assert out.returncode == 0, out.stderr
        got = json.loads(out.stdout)
        assert got["n"] == 400 and got.keys() == want.keys()
        for key, value in want.items():
            assert got[key] == pytest.approx(value, rel=1e-5, abs=1e-9), key
    table = run("compare", str(tmp_path / "a.npy"), str(tmp_path / "b.npy"), "--targets", str(tmp_path / "t.npy"))
    assert table.returncode == 0
    lines = table.stdout.splitlines()
    assert lines[0].startswith("400 rows x 50 classes")
    assert any(line.startswith("Mean    KLD") and f"{want['kl_mean']:10.6f}" in line for line in lines)
    assert any(line.startswith("Same top p") and f"{100 * want['same_top']:6.3f}" in line for line in lines)
    assert any(line.startswith(" 0.1%   KLD") for line in lines) and any(line.startswith("99.9%   Δp") for line in lines)
    plain = run("compare", str(tmp_path / "a.npy"), str(tmp_path / "b.npy"))  # no targets: no perplexity section
    assert "Perplexity" not in plain.stdout and "Mean    KLD" in plain.stdout
    bad = run("compare", str(tmp_path / "a.npy"), str(tmp_path / "missing.npy"))
    assert bad.returncode == 2 and "missing.npy" in bad.stderr and "Traceback" not in bad.stderr
    np.save(tmp_path / "short.npy", b[:10])
    bad = run("compare", str(tmp_path / "a.npy"), str(tmp_path / "short.npy"))
    assert bad.returncode == 2 and "same shape" in bad.stderr


@pytest.mark.parametrize("command", [[], ["softmax"], ["calibrate"], ["compare"], ["app"]])
def test_help(command):
    out = run(*command, "--help")
    assert out.returncode == 0 and "usage: logitsviz" in out.stdout


def _wait_healthy(port: int, proc: subprocess.Popen) -> None:
    if not wait_healthy(f"http://127.0.0.1:{port}", 60, alive=lambda: proc.poll() is None):
        raise AssertionError("logitsviz app exited" if proc.poll() is not None else "logitsviz app did not start")


def _port_is_free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def test_app_command_serves_the_app_and_sigterm_leaves_nothing_running(tmp_path):
    # regression: `logitsviz app` ran Streamlit as a child; SIGTERM to it left the server running (and every test run leaked one)
    import signal

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "logitsviz", "app", "--server.port", str(port), "--server.address", "127.0.0.1"],
                            cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},  # from another folder
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_healthy(port, proc)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) is not None
        import time

        deadline = time.monotonic() + 10
        while not _port_is_free(port):  # nothing left serving
            assert time.monotonic() < deadline, "a server is still listening after SIGTERM"
            time.sleep(0.2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_app_flags_carry_the_settings_and_yield_to_the_users(tmp_path):
    from logitsviz.__main__ import app_flags

    flags = app_flags([], tmp_path)
    assert "--theme.primaryColor=#E07A3F" in flags and "--browser.gatherUsageStats=false" in flags
    assert "--client.toolbarMode=viewer" in flags and "--server.maxUploadSize=32" in flags
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "config.toml").write_text('[theme]\nprimaryColor = "#123456"\n')
    flags = app_flags(["--server.port", "9000", "--server.maxUploadSize=10"], tmp_path)
    assert not any(f.startswith(("--theme.primaryColor", "--server.port", "--server.maxUploadSize")) for f in flags)
    assert "--theme.base=light" in flags


def test_the_packaged_settings_are_the_repositorys():
    assert (ROOT / "logitsviz" / "ui" / "server.toml").read_text() == (ROOT / ".streamlit" / "config.toml").read_text()


# ---------------------------------------------------------- language models ----


def test_lm_next_tokens_and_score(tiny_models):
    from logitsviz import lm

    folder = str(tiny_models["gpt2"])
    out = run("lm", "The new smartphone has", "--model", folder, "--top", "5", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    labels, logits = lm.load(folder).next_token_logits("The new smartphone has")
    p = sp.softmax(logits.astype(np.float64))
    best = np.argsort(-logits, kind="stable")[:5]
    assert [row["id"] for row in data["top"]] == best.tolist()
    assert [row["token"] for row in data["top"]] == [labels[i] for i in best]
    np.testing.assert_allclose([row["probability"] for row in data["top"]], p[best], rtol=1e-5)
    assert data["vocabulary"] == logits.size
    out = run("lm", "--score", "今天天气很好", "--model", folder, "--json")
    data = json.loads(out.stdout)
    scores = lm.load(folder).score("今天天气很好")
    assert data["perplexity"] == pytest.approx(scores.perplexity, rel=1e-5)
    # a token holding only part of a character shows its bytes, ⟨e4 bb⟩; the character shows on the token that completes it
    words = [row["token"] for row in data["tokens"]]
    assert "".join(w for w in words if not (w.startswith("⟨") and w.endswith("⟩"))) == "今天天气很好"
    assert words[0] == "⟨e4\u2009bb⟩" and "æ" not in "".join(words)
    table = run("lm", "Paris", "--model", folder, "--top", "3")
    assert table.returncode == 0 and len(table.stdout.splitlines()) == 5  # header, 3 tokens, entropy


def test_lm_errors_are_one_line(tmp_path):
    out = run("lm", "x", "--model", str(tmp_path / "missing"))
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "Traceback" not in out.stderr


def test_tokens_command(tmp_path):
    from tests.logprob_fixtures import ALL, OPENAI_CHAT

    path = tmp_path / "response.json"
    path.write_text(json.dumps(OPENAI_CHAT, ensure_ascii=False), encoding="utf-8")
    out = run("tokens", str(path), "--json", "--top", "2")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["format"] == "openai-chat" and data["tokens"] == 5
    assert data["least_likely"][0]["position"] == 5 and data["least_likely"][0]["logprob"] is None  # -9999: unknown
    stream = run("tokens", "-", stdin=ALL["openai_stream"][0])
    assert stream.returncode == 0 and "2 tokens" in stream.stdout
    bad = run("tokens", "-", stdin="not json")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_calibrate_reads_a_folder_of_shards_with_progress(tmp_path):
    rng = np.random.default_rng(1)
    z = rng.normal(0, 3, (2000, 4))
    y = (sp.softmax(z / 1.5, axis=1).cumsum(1) < rng.random(2000)[:, None]).sum(1).clip(max=3)
    for i in range(4):
        np.savez(tmp_path / f"shard{i}.npz", logits=z[i * 500:(i + 1) * 500], labels=y[i * 500:(i + 1) * 500])
    out = run("calibrate", str(tmp_path), "--json", "--progress")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["rows"] == 2000 and data["classes"] == 4
    assert data["before"]["smooth_ece"] == pytest.approx(calibration.smooth_ece(z, y), rel=1e-9)
    assert data["before"]["classwise_ece"] == pytest.approx(calibration.classwise_ece(z, y), rel=1e-9)
    parts = data["before"]["brier_decomposition"]
    d = calibration.brier_decomposition(z, y)
    assert parts["reliability"] == pytest.approx(d.reliability, rel=1e-9)
    assert data["after"]["nll"] == pytest.approx(calibration.nll(z, y, temperature=data["fitted_temperature"]), rel=1e-9)
    assert "100.0%" in out.stderr and "rows/s" in out.stderr  # the bars, on standard error only
    table = run("calibrate", str(tmp_path), "--no-classwise")
    assert "smooth ECE" in table.stdout and "classwise" not in table.stdout and table.stderr == ""


def test_calibrate_errors_in_a_big_file_name_the_row(tmp_path):
    z = np.zeros((300, 3), dtype=np.float32)
    z[217, 1] = np.nan
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "y.npy", np.zeros(300, dtype=np.int64))
    out = run("calibrate", str(tmp_path / "z.npy"), str(tmp_path / "y.npy"))
    assert out.returncode == 2 and "row 218, column 2" in out.stderr and "Traceback" not in out.stderr
    out = run("calibrate", str(tmp_path / "z.npy"))
    assert out.returncode == 2 and "No labels" in out.stderr


def test_tokens_with_an_alternative_of_probability_zero(tmp_path):
    doc = {"choices": [{"logprobs": {"content": [
        {"token": "Hi", "logprob": -0.7, "top_logprobs": [{"token": "Hi", "logprob": -0.7}, {"token": "Yo", "logprob": -800.0}]},
    ]}}]}
    (tmp_path / "r.json").write_text(json.dumps(doc))
    out = run("tokens", str(tmp_path / "r.json"))
    assert out.returncode == 0, out.stderr
    assert "1.01 bits" in out.stdout
