"""`pip install` the project into a new virtual environment, run `logitsviz app` from another folder, look at it in Chromium.

Regression: outside the repository `.streamlit/config.toml` was not read, so
the installed app lost its theme, showed Streamlit's "Deploy" button,
collected usage statistics and accepted 200 MB uploads while saying 512 MB.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from tests.e2e.harness import ROOT, free_port, wait_healthy
from tests.e2e.test_explorer_browser import CATALOGS

PRIMARY = "rgb(224, 122, 63)"  # #E07A3F, the theme's primary colour

# a pip install into a fresh environment: the slow step of CI (python -m pytest -m slow), not the README's quick command
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A virtual environment with the project installed from a copy of the repository (no editable install)."""
    root = tmp_path_factory.mktemp("installed")
    source = root / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv*", "__pycache__", "*.egg-info", "build", "docs"))
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    pins = [line for line in (ROOT / "requirements.txt").read_text().splitlines() if line and not line.startswith("#")]
    subprocess.run([str(python), "-m", "pip", "install", "-q", f"{source}[app]", *pins], check=True, timeout=900)
    return venv


def test_the_installed_app_keeps_its_settings_from_any_folder(installed, browser, tmp_path):
    port = free_port()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.Popen([str(installed / "bin" / "logitsviz"), "app", "--server.port", str(port), "--server.address", "127.0.0.1"],
                            cwd=elsewhere, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_healthy(f"http://127.0.0.1:{port}", 90, alive=lambda: proc.poll() is None, interval=0.5), \
            "the installed app did not start"
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.goto(f"http://127.0.0.1:{port}/?lang=en")
        page.wait_for_selector(".js-plotly-plot .main-svg")
        assert page.locator("[data-testid=stAppDeployButton]").count() == 0
        colour = page.eval_on_selector("[data-testid=stSliderThumbValue]", "e => getComputedStyle(e).color")
        assert colour == PRIMARY
        page.get_by_role("tab", name=CATALOGS["en"]["explorer.tab_upload"]).click()
        assert "32MB" in page.locator("[data-testid=stFileUploaderDropzoneInstructions]").inner_text()
        page.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)


# ------------------------------------------------------------------ the container recipe ----


def dockerfile_instruction(name: str) -> str:
    """The argument of the Dockerfile's last ``name`` instruction, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    found = [line.split(None, 1)[1].strip() for line in text.splitlines() if line.split(None, 1)[:1] == [name]]
    assert found, f"the Dockerfile has no {name}"
    return found[-1]


def test_the_containers_command_and_health_check_work_as_written(installed, tmp_path):
    # what the image runs, run here exactly as written: its CMD on $PORT, then its HEALTHCHECK's command
    import json
    import shlex

    cmd = json.loads(dockerfile_instruction("CMD"))
    health = dockerfile_instruction("HEALTHCHECK")
    health = health[health.index("CMD ") + 4:]
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PATH=f"{installed / 'bin'}{os.pathsep}{env['PATH']}", PORT=str(port), HOME=str(tmp_path))
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_healthy(f"http://127.0.0.1:{port}", 120, alive=lambda: proc.poll() is None, interval=0.5), \
            "the container's command did not start"
        assert subprocess.run(shlex.split(health), env=env, timeout=30).returncode == 0
        proc.send_signal(signal.SIGTERM)  # `docker stop`: the server is the main process (exec) and stops
        assert proc.wait(timeout=20) is not None
        assert subprocess.run(shlex.split(health), env=env, timeout=30, capture_output=True).returncode != 0  # down is unhealthy
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _container_tool() -> str | None:
    return next((tool for tool in ("podman", "docker") if shutil.which(tool)), None)


def test_the_container_image_builds_and_serves():
    tool = _container_tool()
    if tool is None:
        pytest.skip("neither podman nor docker is installed")
    base = dockerfile_instruction("FROM").split()[0]
    if subprocess.run([tool, "image", "inspect", base], capture_output=True).returncode != 0:
        pulled = subprocess.run([tool, "pull", base], capture_output=True, text=True, timeout=600)
        if pulled.returncode != 0:
            pytest.skip(f"the base image {base} is not on this machine and cannot be pulled: {pulled.stderr.strip()[-200:]}")
    tag = "localhost/logitsviz-test:latest"
    subprocess.run([tool, "build", "-t", tag, str(ROOT)], check=True, timeout=1800)
    port = free_port()
    name = f"logitsviz-test-{port}"
    subprocess.run([tool, "run", "-d", "--name", name, "-e", "PORT=8080", "-p", f"127.0.0.1:{port}:8080", tag], check=True, timeout=120)
    try:
        assert wait_healthy(f"http://127.0.0.1:{port}", 120, interval=1), "the container did not serve the app"
        health = subprocess.run([tool, "healthcheck", "run", name] if tool == "podman" else
                                [tool, "inspect", "--format", "{{.State.Health.Status}}", name], capture_output=True, text=True)
        assert health.returncode == 0
        start = time.monotonic()
        subprocess.run([tool, "stop", "-t", "30", name], check=True, timeout=60)
        assert time.monotonic() - start < 25, "the server ignored SIGTERM and was killed after the timeout"
    finally:
        subprocess.run([tool, "rm", "-f", name], capture_output=True)
        subprocess.run([tool, "rmi", "-f", tag], capture_output=True)
