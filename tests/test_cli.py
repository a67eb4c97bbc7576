"""The command line, driven as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.special as sp

from logitsviz import calibration

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


@pytest.mark.parametrize("command", [[], ["softmax"], ["calibrate"], ["app"]])
def test_help(command):
    out = run(*command, "--help")
    assert out.returncode == 0 and "usage: logitsviz" in out.stdout


def test_app_command_serves_the_app():
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "logitsviz", "app", "--server.port", str(port), "--server.headless", "true",
                             "--server.address", "127.0.0.1"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as resp:
                    assert resp.status == 200
                    break
            except OSError:
                assert proc.poll() is None, "logitsviz app exited"
                assert time.monotonic() < deadline, "logitsviz app did not start"
                time.sleep(0.25)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
